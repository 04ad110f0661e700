/* SPDX-License-Identifier: MIT */
/*
 * mmaplock.h: what the BPF programs (mmaplock.bpf.c) and the BPF back-end
 * (src/tool/live/backend-bpf.c) share: the keys and values of the maps.
 *
 * The kernel side only ever adds to these maps; user space reads them
 * cumulatively and takes differences per window, so nothing is reset under
 * the programs' feet. Aggregates are keyed by (memcg id, mode) and, when
 * user space asks (by_process), the process (tgid): mode is the
 * mode asked for (waits, failures) or taken (holds; a downgraded hold keeps
 * its write attribution, as the tool's pairing does). Histograms count per
 * bucket of src/common/mml_hist.h, the function user space buckets with.
 *
 * A wait or hold is added to its bucket only (count, sum, maximum, and for
 * a wait its acquisition and contention marks): one map lookup per event.
 * The aggregate holds the rest: failures, trylocks, downgrades, and the
 * waits and holds whose bucket could not be made (map full), so that
 * totals stay exact. A group's figures are the aggregate's plus the sums
 * over its buckets (backend-bpf.c).
 */
#ifndef MMLB_SHARED_H
#define MMLB_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum mmlb_kind { MMLB_WAIT = 0, MMLB_HOLD = 1 };

struct mmlb_key {
	__u64 memcg;		/* cgroup id of the mm's memory cgroup; 0: no memcg */
	__u32 tgid;		/* the process (by_process), else 0 */
	__u32 write;		/* 0 read, 1 write */
};

/* Outside the buckets: see the top comment. */
struct mmlb_agg {
	__u64 acquired;		/* answered with success, not counted in a wait bucket */
	__u64 failed;		/* answered with success=false */
	__u64 trylocks;		/* acquired with no wait open */
	__u64 contended;	/* waits with a lock:contention_begin inside */
	__u64 contended_long;	/* waits longer than 10 us (AGG_CONTENDED_NS) */
	__u64 downgrades;	/* write -> read while held */
	__u64 wait_count, wait_sum, wait_max;	/* ns, of waits in no bucket */
	__u64 hold_count, hold_sum, hold_max;	/* ns, of holds in no bucket */
	char comm[16];		/* by_process: the group leader's, set where the entry
				   was made (on that CPU only; the others' stay zero) */
};

struct mmlb_hkey {
	__u64 memcg;
	__u32 tgid;		/* as in mmlb_key */
	__u16 bucket;		/* mml_hist_bucket() */
	__u8 write;
	__u8 kind;		/* enum mmlb_kind */
};

/* One histogram bucket: values in it; a wait's are its acquisition too. */
struct mmlb_hval {
	__u64 count, sum, max;	/* ns */
	__u64 contended;	/* waits with a lock:contention_begin inside */
	__u64 contended_long;	/* waits longer than 10 us */
};

/* The counters map (per CPU array), one slot each. */
enum mmlb_counter {
	MMLB_C_EVENTS,		/* lock events handled (contention events not counted) */
	MMLB_C_AGG_FULL,	/* an aggregate could not be created: map full */
	MMLB_C_HIST_FULL,	/* a histogram bucket could not be created: map full */
	MMLB_C_STATE_FULL,	/* no task state (storage) or no free hold slot */
	MMLB_C_RESTART,		/* start_locking while already waiting: old wait dropped */
	MMLB_C_NESTED,		/* acquired while already holding that mm: old hold dropped */
	MMLB_C_RELEASE_ORPHAN,	/* released with no hold of this task: by another task
				   (mmap_read_unlock_non_owner), or held since before attach */
	MMLB_C_NON_OWNER,	/* a hold whose mm saw such a release meanwhile: dropped,
				   since it may be the one that release ended */
	MMLB_C_NEGATIVE,	/* time went backwards inside a pair */
	MMLB_C_CONTENTION,	/* lock:contention_begin seen */
	MMLB_C_CONTENTION_OTHER,	/* ... outside an mmap_lock wait */
	MMLB_C_NR
};

/* Holds one task may have open at once (on different mms: fork holds two). */
#define MMLB_HOLDS	4

/* Slots of the foreign-release generation array (mml_gen), a power of two. */
#define MMLB_GENS	1024

#endif
