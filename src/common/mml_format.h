/* SPDX-License-Identifier: MIT */
/*
 * mml_format.h: the mmaplock trace file, versions 1 and 2
 * (docs/FILE-FORMAT.md).
 *
 * One format for both writers: libmmaplock's recorder (MMAPLOCK_TRACE=FILE)
 * and `mmaplock record` (the kernel's events). Every reader in the tool reads
 * it. Version 1's on-disk event record is the tool's in-memory event model
 * (struct mml_event); version 2 (what the writers write) stores the same
 * events in PACKED blocks: per-block tables of tids, CPUs, mms and memcgs,
 * then columns (type and flags one byte, time deltas and table indexes as
 * varints; mml_pack.h), compressed with zstd: about 1.5 bytes an event
 * instead of 32. Both versions share the file header, the block framing and
 * every metadata block.
 *
 * Layout: a 64-byte file header, then self-delimiting blocks, each a 16-byte
 * block header and a payload padded to 8 bytes, checked by a 64-bit hash. A
 * file cut short (crash, full disk, still being written) reads up to its
 * last complete block. All integers little-endian.
 *
 * Ordering: the events inside one EVENTS block are sorted by time (one block
 * holds one CPU's or one thread's events); blocks are NOT globally ordered
 * (CPUs and threads flush at different moments). Readers merge blocks by
 * their [min_ts, max_ts] ranges, holding only the overlapping ones in memory.
 * Writers cap a block at MML_EVENTS_PER_BLOCK events.
 */
#ifndef MML_FORMAT_H
#define MML_FORMAT_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define MML_FILE_MAGIC		"MMLTRACE"	/* 8 bytes, no NUL */
#define MML_VERSION_MAJOR	2		/* incompatible changes (2: PACKED events) */
#define MML_VERSION_MINOR	0		/* compatible additions */
#define MML_V1_MINOR		1		/* 1.1: STACK blocks, stack events */
#define MML_BLOCK_MAGIC		0x4b4c424du	/* "MBLK" */
#define MML_BLOCK_MAX		(64u << 20)	/* largest payload a reader accepts */

enum mml_source {
	MML_SOURCE_KERNEL = 1,		/* mmaplock record: the kernel's tracepoints */
	MML_SOURCE_LIB = 2,		/* libmmaplock's recorder */
};

struct mml_file_header {
	char magic[8];			/* MML_FILE_MAGIC */
	uint16_t version_major;
	uint16_t version_minor;
	uint32_t header_size;		/* 64; readers skip what they do not know */
	uint32_t source;		/* enum mml_source */
	uint32_t ncpus;			/* CPUs of the recording machine */
	uint64_t start_realtime_ns;	/* wall clock when recording began */
	uint64_t start_ts_ns;		/* event clock when recording began */
	uint32_t clock;			/* enum mml_clock */
	uint32_t flags;			/* none defined yet */
	uint8_t reserved[16];
};

enum mml_clock {
	MML_CLOCK_MONOTONIC = 1,	/* CLOCK_MONOTONIC, ftrace "mono" */
	MML_CLOCK_LOCAL = 2,		/* ftrace "local" */
	MML_CLOCK_BOOT = 3,		/* CLOCK_BOOTTIME, ftrace "boot" */
	MML_CLOCK_OTHER = 15,
};

struct mml_block_header {
	uint32_t magic;			/* MML_BLOCK_MAGIC */
	uint16_t type;			/* enum mml_block_type */
	uint16_t flags;			/* none defined yet */
	uint32_t len;			/* payload bytes, a multiple of 8 */
	uint32_t hash;			/* mml_hash(payload, len) */
};

enum mml_block_type {
	/* struct mml_events_header, then count struct mml_event sorted by ts */
	MML_BLK_EVENTS = 1,
	/* entries: u64 id, u16 len, char path[len] (no NUL); payload zero-padded */
	MML_BLK_MEMCG = 2,
	/* entries: u32 tid, u32 tgid, char comm[16], u64 cgroup_id, u16 len, char cgroup[len] */
	MML_BLK_TASK = 3,
	/* entries: u32 cpu (kernel) or tid (lib), u32 reserved, u64 lost events */
	MML_BLK_LOST = 4,
	/* entries: NUL-terminated "key" then NUL-terminated "value" */
	MML_BLK_INFO = 5,
	/* u64 events written, u64 events lost: the writer closed the file cleanly */
	MML_BLK_END = 6,
	/*
	 * (1.1) kernel call stacks: entries u32 id (>= 1), u16 nframes, u16 0,
	 * then nframes x { u64 addr, u16 len, char sym[len] }, leaf first; id 0 ends
	 */
	MML_BLK_STACK = 7,
	/*
	 * (2.0) struct mml_packed_header, then data_len bytes: the events of
	 * one stream packed (mml_pack.h), compressed as codec says
	 */
	MML_BLK_PACKED = 8,
};

#define MML_EVENTS_PER_BLOCK 32768	/* at most 1 MiB of events per block */

struct mml_events_header {
	uint32_t count;			/* events that follow */
	uint32_t stream;		/* CPU (kernel source) or tid (library source) */
	uint64_t min_ts;		/* ts of the first event */
	uint64_t max_ts;		/* ts of the last event */
};

/*
 * (2.0) A PACKED block's header. Its first 24 bytes are those of struct
 * mml_events_header, so an index of blocks reads both kinds alike.
 */
struct mml_packed_header {
	uint32_t count;			/* events packed, at least 1 */
	uint32_t stream;		/* as in struct mml_events_header */
	uint64_t min_ts;		/* ts of the first event */
	uint64_t max_ts;		/* ts of the last event */
	uint32_t codec;			/* enum mml_codec */
	uint32_t raw_len;		/* bytes of the packed events (before compression) */
	uint32_t data_len;		/* bytes that follow this header (zero-padded after) */
	uint32_t reserved;		/* 0 */
};

enum mml_codec {
	MML_CODEC_NONE = 0,		/* data is the packed events as they are */
	MML_CODEC_ZSTD = 1,		/* data is one zstd frame */
};

/* Event types. */
enum mml_event_type {
	MML_EV_START_LOCKING = 1,
	MML_EV_ACQUIRE_RETURNED = 2,
	MML_EV_RELEASED = 3,
	MML_EV_CONTENTION_BEGIN = 4,	/* lock:contention_begin: mm = lock address, memcg = LCB flags */
	MML_EV_CONTENTION_END = 5,	/* lock:contention_end: mm = lock address, memcg = ret */
	/*
	 * (1.1) The kernel call stack of the event that follows it in its
	 * stream: same tid, same ts, mm = that event's mm, memcg = the stack id
	 * (a STACK block entry), flags 0. Not an event of the lock itself:
	 * counters skip it. At equal ts a STACK sorts before other types.
	 */
	MML_EV_STACK = 6,
};

/* Event flags. */
#define MML_F_WRITE	0x01		/* write (exclusive) mode */
#define MML_F_SUCCESS	0x02		/* acquire_returned: success */
#define MML_F_HARDIRQ	0x04		/* fired in hard interrupt context */
#define MML_F_SOFTIRQ	0x08		/* fired in softirq context */
#define MML_F_NMI	0x10		/* fired in NMI context */

/*
 * struct mml_event: one normalized event, the model every source fills and
 * every sink reads. 32 bytes, naturally aligned.
 */
struct mml_event {
	uint64_t ts;			/* ns, the file's clock */
	uint64_t mm;			/* address-space id: opaque (kernel mm pointer) */
	uint64_t memcg;			/* memcg id (kernel cgroup id, or a MEMCG block id); 0: none */
	uint32_t tid;			/* task (the kernel's pid) */
	uint16_t cpu;
	uint8_t type;			/* enum mml_event_type */
	uint8_t flags;			/* MML_F_* */
};

_Static_assert(sizeof(struct mml_file_header) == 64, "file header is 64 bytes");
_Static_assert(sizeof(struct mml_block_header) == 16, "block header is 16 bytes");
_Static_assert(sizeof(struct mml_event) == 32, "event is 32 bytes");
_Static_assert(sizeof(struct mml_events_header) == 24, "events header is 24 bytes");
_Static_assert(sizeof(struct mml_packed_header) == 40, "packed header is 40 bytes");

/*
 * mml_hash(): the block checksum. 64-bit words folded with a multiply, then
 * reduced to 32 bits; len must be a multiple of 8. Fast enough to check at
 * several GB/s, strong enough to catch torn and corrupted blocks.
 */
static inline uint32_t mml_hash(const void *p, size_t len)
{
	const unsigned char *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ len;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

#define MML_PAD8(n) (((n) + 7u) & ~7u)

#endif /* MML_FORMAT_H */
