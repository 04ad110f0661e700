/* SPDX-License-Identifier: MIT */
/*
 * mmlwatch.h: what the BPF watch's programs (watch.bpf.c) and its user side
 * (src/tool/live/watch-bpf.c) share: the ring record and the notice.
 *
 * The ring (map mml_w_ring, mmapable) is one array cut into per-CPU
 * stretches of `slots` records (a power of two); the CPU's head (heads[]
 * in .bss, a cache line each) counts the records ever claimed there, so record n
 * of a CPU is in slot n & (slots - 1) of its stretch, and was written in
 * lap n / slots. A record's lap field is that lap + 1, written last; the
 * writer first zeroes it. A reader that finds the lap it expects before and
 * after copying the record has a whole one; anything else is a torn or
 * overwritten slot, dropped and counted.
 */
#ifndef MMLW_SHARED_H
#define MMLW_SHARED_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* 32 bytes, as struct mml_event */
struct mmlw_rec {
	__u64 ts;		/* CLOCK_MONOTONIC ns (bpf_ktime_get_ns) */
	__u64 mm;		/* the mm's address (opaque); STACK: the mm too */
	__u64 memcg;		/* memcg id of the mm; STACK: the stack map's id */
	__u32 tid;
	__u16 lap;		/* (lap + 1) & 0xffff, 0: being written */
	__u8 type;		/* MML_EV_* of mml_format.h (1-3, 6) */
	__u8 flags;		/* MML_F_WRITE, MML_F_SUCCESS */
};

/* The kernel's word that a wait or hold crossed its threshold (ring buffer). */
struct mmlw_notice {
	__u64 start_ts, end_ts;
	__u64 mm;
	__u32 tid;
	__u32 is_hold;
};

/* A task whose stack was taken: its name, for when /proc has forgotten it. */
struct mmlw_task {
	__u32 tgid;
	char comm[16];
};

enum mmlw_counter {
	MMLW_C_NOTICES,		/* crossings noticed */
	MMLW_C_NOTICE_LOST,	/* the notice ring was full */
	MMLW_C_STACKS,		/* stacks taken */
	MMLW_C_STACK_FAIL,	/* bpf_get_stackid failed (bucket taken, ...) */
	MMLW_C_STATE_FULL,	/* no task storage, or no free hold slot */
	MMLW_C_NR
};

#define MMLW_MAX_CPUS	1024	/* heads[] slots */
#define MMLW_HEAD_WORDS	8	/* a head per 64-byte line */
#define MMLW_HOLDS	4	/* holds one task may have open at once */
#define MMLW_STACK_DEPTH 64

#endif
