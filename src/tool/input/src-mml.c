/* SPDX-License-Identifier: MIT */
/*
 * src-mml.c: the reader of mmaplock's own trace file (mml_format.h).
 *
 * Open does an index pass: it walks the block headers with pread (never the
 * event payloads), loads the small metadata blocks (MEMCG, TASK, INFO, LOST,
 * END, STACK) into the meta at once, and remembers each EVENTS or PACKED
 * block as (offset, count, min_ts, max_ts). The index is sorted by min_ts.
 * Versions 1 and 2 differ only in how events are stored: 32-byte records
 * (EVENTS) or packed and compressed (PACKED, version 2); a PACKED block is
 * decompressed and unpacked into the same 32-byte records when it is
 * loaded, by the read-ahead thread on big files, so that this costs the
 * pairing thread nothing.
 *
 * next() merges: a block is loaded (pread, hash checked) only when the
 * merge reaches its min_ts, and freed as soon as its last event is out, so
 * memory is O(blocks) for the index plus O(overlapping blocks) of payload,
 * never O(events). The merge copies runs: from the block with the smallest
 * head it takes every event up to the next block's head (or the next
 * unloaded block's min_ts) with one memcpy, so the inner loop has no
 * per-event call or allocation.
 *
 * Damage is skipped, counted and read past, never an error: a block that
 * fails a check (magic, length, EVENTS count, hash, a STACK entry running
 * past its block: a wrong stack is worse than none) is skipped with
 * whatever garbage follows it, up to the next whole block whose hash is
 * right (resync()); each such run adds 1 to s->damaged_blocks and its
 * bytes to s->damaged_bytes. The index pass hashes the metadata blocks;
 * an EVENTS block's hash is checked when the merge loads it, so its damage
 * is counted then, and so is a PACKED block whose contents do not unpack
 * (a wrong zstd frame, an index out of its table). A block cut short at the end of the file is damage too,
 * and a file without END block is s->truncated (its writer did not close
 * it). Only a read error or no memory ends the reading (-1). Stack events
 * (type 6) go out like every other event.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>
#include <zstd.h>
#include "mml_pack.h"
#include "source.h"
#include "stacks.h"

struct blk {
	uint64_t off;			/* of the block header */
	uint32_t len;			/* payload */
	uint32_t count;
	uint64_t min_ts, max_ts;
	uint32_t hash;
	uint16_t type;			/* MML_BLK_EVENTS or MML_BLK_PACKED */
};

struct cursor {
	struct mml_event *ev;		/* the loaded block's events */
	void *buf;
	uint32_t pos, count;
	size_t cap;			/* bytes at buf */
};

#define POOL	8
#define AHEAD	4		/* blocks read ahead: 4 MiB at most */

struct mml_src {
	int fd;
	const char *path;
	struct blk *idx;
	size_t nidx, next;		/* next unloaded block in min_ts order */
	struct cursor *act;		/* loaded blocks with events left */
	size_t nact, capact;
	/* freed payload buffers, reused (blocks are mostly full-sized) */
	struct { void *buf; size_t cap; } pool[POOL];
	int npool;
	/* read-ahead: a thread preads and hashes the next blocks in index order */
	int threaded;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t produced;		/* blocks read ahead (index order) */
	int stop;
	struct slot { void *buf; size_t cap; int status; } ring[AHEAD];
	/* PACKED blocks: scratch of the one thread that fetches (ahead, or the caller) */
	unsigned char *zin, *raw;	/* the block as read, its events decompressed */
	size_t zin_cap, raw_cap;
	ZSTD_DCtx *dctx;
	struct mml_unpacker up;
};

static int probe(const unsigned char *head, size_t len)
{
	return len >= 8 && !memcmp(head, MML_FILE_MAGIC, 8);
}

static int full_pread(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -1 : 0;
		done += (size_t)r;
	}
	return 1;
}

static uint64_t rd64(const unsigned char *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const unsigned char *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const unsigned char *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/*
 * A STACK block (mml_format.h) into the meta's stack table. Entries: u32 id,
 * u16 nframes, u16 reserved, then nframes x { u64 addr, u16 len, sym[len] };
 * an id of 0 (the zero padding) ends. Returns 0, -1 when an entry runs past
 * the block or leaves non-zero bytes too short for an entry header
 * (malformed), -2 when out of memory.
 */
static int load_stacks(struct source *s, const unsigned char *p, uint32_t len)
{
	const unsigned char *e = p + len;
	uint64_t addr[STACK_MAX_FRAMES];
	const char *sym[STACK_MAX_FRAMES];
	char *text = NULL;
	size_t cap = 0;
	int rc = 0;

	while (p < e) {
		if (e - p < 8) {
			while (p < e && !*p)
				p++;
			rc = p < e ? -1 : 0;	/* padding is zero */
			break;
		}
		uint32_t id = rd32(p);
		unsigned nf = rd16(p + 4), keep = nf < STACK_MAX_FRAMES ? nf : STACK_MAX_FRAMES;
		const unsigned char *q = p + 8;
		size_t need = 0;

		if (!id)
			break;
		/* pass 1: bounds, and the bytes the kept symbols need */
		for (unsigned i = 0; i < nf; i++) {
			if (e - q < 10) {
				rc = -1;
				break;
			}
			uint16_t l = rd16(q + 8);
			if ((size_t)(e - q - 10) < l) {
				rc = -1;
				break;
			}
			if (i < keep)
				need += (size_t)l + 1;
			q += 10 + l;
		}
		if (rc)
			break;
		if (need > cap) {
			char *n = realloc(text, need);
			if (!n) {
				rc = -2;
				break;
			}
			text = n;
			cap = need;
		}
		/* pass 2: NUL-terminated copies of the kept frames */
		q = p + 8;
		char *t = text;
		for (unsigned i = 0; i < keep; i++) {
			uint16_t l = rd16(q + 8);
			addr[i] = rd64(q);
			memcpy(t, q + 10, l);
			t[l] = 0;
			sym[i] = t;
			t += l + 1;
			q += 10 + l;
		}
		for (unsigned i = keep; i < nf; i++)
			q += 10 + rd16(q + 8);
		if (stacktab_set(meta_stacks(s->meta), id, addr, sym, keep)) {
			rc = -2;
			break;
		}
		p = q;
	}
	free(text);
	return rc;
}

/* Metadata payloads into the meta. Malformed entries end the block quietly. */
static void load_meta(struct source *s, uint16_t type, const unsigned char *p, uint32_t len,
		      uint64_t *end_lost)
{
	const unsigned char *e = p + len;
	char tmp[4096];

	switch (type) {
	case MML_BLK_MEMCG:
		while (e - p >= 10) {
			uint64_t id = rd64(p);
			uint16_t l = rd16(p + 8);
			if (e - p - 10 < l || (!id && !l))
				break;
			size_t n = l < sizeof(tmp) - 1 ? l : sizeof(tmp) - 1;
			memcpy(tmp, p + 10, n);
			tmp[n] = 0;
			meta_set_memcg(s->meta, id, tmp);
			p += 10 + l;
		}
		break;
	case MML_BLK_TASK:
		while (e - p >= 34) {
			struct mml_task_info t = { 0 };
			uint16_t l = rd16(p + 32);
			t.tid = rd32(p);
			t.tgid = rd32(p + 4);
			/* a tid 0 entry (the idle task) is no end: older recorders wrote one */
			if (e - p - 34 < l)
				break;
			memcpy(t.comm, p + 8, 16);
			t.comm[15] = 0;
			t.cgroup_id = rd64(p + 24);
			size_t n = l < sizeof(tmp) - 1 ? l : sizeof(tmp) - 1;
			memcpy(tmp, p + 34, n);
			tmp[n] = 0;
			t.cgroup = l ? tmp : NULL;
			/* a later entry for a tid renames it (exec, prctl): docs/FILE-FORMAT.md */
			meta_update_task(s->meta, &t);
			p += 34 + l;
		}
		break;
	case MML_BLK_LOST:
		for (; e - p >= 16; p += 16)
			meta_add_lost(s->meta, rd32(p), rd64(p + 8));
		break;
	case MML_BLK_INFO:
		while (p < e) {
			const unsigned char *k = p, *kz = memchr(k, 0, (size_t)(e - k)), *vz;
			if (!kz || kz == k)
				break;
			vz = memchr(kz + 1, 0, (size_t)(e - kz - 1));
			if (!vz)
				break;
			meta_set_info(s->meta, (const char *)k, (const char *)kz + 1);
			p = vz + 1;
		}
		break;
	case MML_BLK_END:
		if (len >= 16)
			*end_lost = rd64(p + 8);
		break;
	}
}

static int cmp_blk(const void *a, const void *b)
{
	const struct blk *x = a, *y = b;

	if (x->min_ts != y->min_ts)
		return x->min_ts < y->min_ts ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int read_error(struct source *s, struct mml_src *m, uint64_t off)
{
	snprintf(s->err, sizeof(s->err), "%s: read error at offset %llu", m->path,
		 (unsigned long long)off);
	return -1;
}

static int out_of_memory(struct source *s, struct mml_src *m)
{
	snprintf(s->err, sizeof(s->err), "%s: out of memory", m->path);
	return -1;
}

/* A damaged region (a bad block, or garbage up to the next good one) skipped. */
static void damaged(struct source *s, uint64_t bytes)
{
	s->damaged_blocks++;
	s->damaged_bytes += bytes;
}

/* A PACKED block's header against its block's len (docs/FILE-FORMAT.md). */
static int packed_ok(const struct mml_packed_header *ph, uint32_t len)
{
	return ph->count && ph->count <= MML_PACKED_MAX_EVENTS && ph->raw_len <= MML_BLOCK_MAX &&
	       (ph->codec == MML_CODEC_ZSTD ||
		(ph->codec == MML_CODEC_NONE && ph->raw_len == ph->data_len)) &&
	       MML_PAD8((uint64_t)sizeof(*ph) + ph->data_len) == len;
}

/*
 * The block header at off, checked without reading the payload: 16 bytes
 * there, the magic, len (a multiple of 8, at most MML_BLOCK_MAX, all of it
 * in the file), for EVENTS the count against len, for PACKED its header's
 * sizes against len. Returns 1 (*bh, and for EVENTS and PACKED *ph, filled;
 * for EVENTS only its first 24 bytes), 0 when there is no block there, -1
 * on a read error (s->err).
 */
static int block_at(struct source *s, struct mml_src *m, uint64_t off, uint64_t size,
		    struct mml_block_header *bh, struct mml_packed_header *ph)
{
	size_t hl = sizeof(struct mml_events_header);

	if (size - off < sizeof(*bh))
		return 0;
	if (full_pread(m->fd, bh, sizeof(*bh), off) != 1)
		return read_error(s, m, off);
	if (bh->magic != MML_BLOCK_MAGIC || bh->len % 8 || bh->len > MML_BLOCK_MAX ||
	    size - off - sizeof(*bh) < bh->len)
		return 0;
	if (bh->type != MML_BLK_EVENTS && bh->type != MML_BLK_PACKED)
		return 1;
	if (bh->type == MML_BLK_PACKED)
		hl = sizeof(*ph);
	if (bh->len < hl)
		return 0;
	if (full_pread(m->fd, ph, hl, off + sizeof(*bh)) != 1)
		return read_error(s, m, off);
	if (bh->type == MML_BLK_PACKED)
		return packed_ok(ph, bh->len);
	return (uint64_t)ph->count * sizeof(struct mml_event) + hl == bh->len;
}

/*
 * The payload of a block whose header block_at() accepted, in *pp (the
 * caller frees it). Returns 1, 0 when its hash is wrong, -1 on a read error
 * or out of memory (s->err).
 */
static int payload(struct source *s, struct mml_src *m, uint64_t off,
		   const struct mml_block_header *bh, unsigned char **pp)
{
	unsigned char *p = malloc(bh->len ? bh->len : 1);

	*pp = NULL;
	if (!p)
		return out_of_memory(s, m);
	if (bh->len && full_pread(m->fd, p, bh->len, off + sizeof(*bh)) != 1) {
		free(p);
		return read_error(s, m, off);
	}
	if (mml_hash(p, bh->len) != bh->hash) {
		free(p);
		return 0;
	}
	*pp = p;
	return 1;
}

/* Is there a whole block at off, its payload's hash right? 1, 0, -1 read error. */
static int good_block(struct source *s, struct mml_src *m, uint64_t off, uint64_t size)
{
	struct mml_block_header bh;
	struct mml_packed_header ph;
	unsigned char *p;
	int r = block_at(s, m, off, size, &bh, &ph);

	if (r <= 0)
		return r;
	r = payload(s, m, off, &bh, &p);
	free(p);
	return r;
}

#define SCAN	65536	/* bytes read at a time when looking for a block */

/*
 * After damage at off (bh: what its header said, maybe garbage): the
 * offset of the next whole block whose hash is right, or size when none
 * follows. First where bh's own length points (a block with a bad payload
 * but a sound header is skipped in one step), then every byte offset after
 * off that holds the block magic. The hash makes a false match a 1 in 2^32
 * chance. Returns (uint64_t)-1 on a read error (s->err).
 */
static uint64_t resync(struct source *s, struct mml_src *m, uint64_t off, uint64_t size,
		       const struct mml_block_header *bh)
{
	uint64_t next = off + sizeof(*bh) + bh->len;
	unsigned char *buf;
	int r;

	if (bh->magic == MML_BLOCK_MAGIC && bh->len % 8 == 0 && bh->len <= MML_BLOCK_MAX &&
	    next < size && (r = good_block(s, m, next, size)) != 0)
		return r < 0 ? (uint64_t)-1 : next;
	buf = malloc(SCAN);
	if (!buf) {
		out_of_memory(s, m);
		return (uint64_t)-1;
	}
	for (uint64_t pos = off + 1; pos < size; pos += SCAN - 3) {
		size_t n = size - pos < SCAN ? (size_t)(size - pos) : SCAN;
		if (full_pread(m->fd, buf, n, pos) != 1) {
			free(buf);
			read_error(s, m, pos);
			return (uint64_t)-1;
		}
		/* chunks overlap by 3 bytes so that no magic straddles two unseen */
		for (size_t i = 0; i + 4 <= n; i++) {
			if (rd32(buf + i) != MML_BLOCK_MAGIC)
				continue;
			r = good_block(s, m, pos + i, size);
			if (r) {
				free(buf);
				return r < 0 ? (uint64_t)-1 : pos + i;
			}
		}
		if (n < SCAN)
			break;
	}
	free(buf);
	return size;
}

static int add_index(struct source *s, struct mml_src *m, size_t *cap, uint64_t off,
		     const struct mml_block_header *bh, const struct mml_packed_header *eh)
{
	if (!eh->count)
		return 0;
	if (m->nidx == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct blk *n = realloc(m->idx, ncap * sizeof(*n));
		if (!n)
			return out_of_memory(s, m);
		m->idx = n;
		*cap = ncap;
	}
	m->idx[m->nidx++] = (struct blk){ off, bh->len, eh->count, eh->min_ts, eh->max_ts,
					  bh->hash, bh->type };
	return 0;
}

/*
 * A metadata block whose header block_at() accepted: hash, then into the
 * meta. Returns 1, 0 when it is damaged (bad hash, a STACK entry running
 * past the block), -1 on a read error or out of memory.
 */
static int load_meta_block(struct source *s, struct mml_src *m, uint64_t off,
			   const struct mml_block_header *bh, uint64_t *end_lost, int *seen_end)
{
	unsigned char *p;
	int r = payload(s, m, off, bh, &p);

	if (r <= 0)
		return r;
	r = bh->type == MML_BLK_STACK ? load_stacks(s, p, bh->len) : 0;
	if (r == 0) {
		load_meta(s, bh->type, p, bh->len, end_lost);
		*seen_end |= bh->type == MML_BLK_END;
	}
	free(p);
	if (r == -2)
		return out_of_memory(s, m);
	return r == 0;
}

static void *ahead(void *arg);

static int mml_open(struct source *s, const char *path)
{
	struct mml_src *m = calloc(1, sizeof(*m));
	struct mml_file_header h;
	struct stat st;
	uint64_t off, end_lost = 0, size;
	int seen_end = 0;
	size_t cap = 0;

	if (!m) {
		snprintf(s->err, sizeof(s->err), "%s: out of memory", path);
		return -1;
	}
	s->priv = m;
	m->path = path;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0 || fstat(m->fd, &st)) {
		snprintf(s->err, sizeof(s->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	size = (uint64_t)st.st_size;
	if (full_pread(m->fd, &h, sizeof(h), 0) != 1 || memcmp(h.magic, MML_FILE_MAGIC, 8)) {
		snprintf(s->err, sizeof(s->err), "%s: not an mmaplock trace (short header)", path);
		return -1;
	}
	if (h.version_major < 1 || h.version_major > MML_VERSION_MAJOR) {
		snprintf(s->err, sizeof(s->err),
			 "%s: file format version %u, this reader knows 1 to %u", path,
			 h.version_major, MML_VERSION_MAJOR);
		return -1;
	}
	if (h.header_size < sizeof(h) || h.header_size > size) {
		snprintf(s->err, sizeof(s->err), "%s: bad header size %u", path, h.header_size);
		return -1;
	}
	if (h.source == MML_SOURCE_LIB)
		s->origin = MML_SOURCE_LIB;
	if (h.source == MML_SOURCE_KERNEL) {	/* the writer leaves tid 0 out (mml_writer.h) */
		struct mml_task_info idle = { .comm = "swapper" };
		meta_set_task(s->meta, &idle);
	}
	for (off = h.header_size; off < size;) {
		struct mml_block_header bh = { 0 };
		struct mml_packed_header eh;
		uint64_t next;
		int r = block_at(s, m, off, size, &bh, &eh);

		if (r > 0 && (bh.type == MML_BLK_EVENTS || bh.type == MML_BLK_PACKED))
			r = add_index(s, m, &cap, off, &bh, &eh) ? -1 : 1;
		else if (r > 0 && bh.type >= MML_BLK_MEMCG && bh.type <= MML_BLK_STACK)
			r = load_meta_block(s, m, off, &bh, &end_lost, &seen_end);
		/* unknown block types are skipped: a later minor version may add some */
		if (r < 0)
			return -1;
		if (r) {
			off += sizeof(bh) + bh.len;
			continue;
		}
		next = resync(s, m, off, size, &bh);
		if (next == (uint64_t)-1)
			return -1;
		damaged(s, next - off);
		off = next;
	}
	if (!seen_end)
		s->truncated = 1;	/* not closed cleanly: killed, or still being written */
	if (end_lost > meta_lost_total(s->meta))
		meta_add_lost(s->meta, 65535, end_lost - meta_lost_total(s->meta));
	if (m->nidx)
		qsort(m->idx, m->nidx, sizeof(*m->idx), cmp_blk);
	/* big files: read ahead on another thread (small ones are not worth one) */
	if (m->nidx >= 8 && !pthread_create(&m->th, NULL, ahead, m))
		m->threaded = 1;
	return 0;
}

/* A buffer of at least len bytes, from the pool if one fits. */
static void *pool_get(struct mml_src *m, size_t len, size_t *cap)
{
	void *buf = NULL;

	pthread_mutex_lock(&m->mu);
	for (int i = 0; i < m->npool; i++)
		if (m->pool[i].cap >= len) {
			buf = m->pool[i].buf;
			*cap = m->pool[i].cap;
			m->pool[i] = m->pool[--m->npool];
			break;
		}
	pthread_mutex_unlock(&m->mu);
	if (!buf) {
		buf = malloc(len);
		*cap = len;
	}
	return buf;
}

static void pool_put(struct mml_src *m, void *buf, size_t cap)
{
	pthread_mutex_lock(&m->mu);
	if (m->npool < POOL) {
		m->pool[m->npool].buf = buf;
		m->pool[m->npool++].cap = cap;
		buf = NULL;
	}
	pthread_mutex_unlock(&m->mu);
	free(buf);
}

static int grow(unsigned char **buf, size_t *cap, size_t need)
{
	unsigned char *n;

	if (need <= *cap)
		return 0;
	n = realloc(*buf, need);
	if (!n)
		return -1;
	*buf = n;
	*cap = need;
	return 0;
}

/*
 * A PACKED block's payload p (hash checked) into out: a 24-byte events
 * header and b->count events, as an EVENTS block holds them. Returns 0, -2
 * when it does not unpack (damaged), -3 when out of memory.
 */
static int unpack_block(struct mml_src *m, const struct blk *b, const unsigned char *p, void *out)
{
	struct mml_packed_header ph;
	const unsigned char *raw = p + sizeof(ph);
	int r;

	memcpy(&ph, p, sizeof(ph));
	if (!packed_ok(&ph, b->len) || ph.count != b->count)
		return -2;
	if (ph.codec == MML_CODEC_ZSTD) {
		size_t n;

		if (grow(&m->raw, &m->raw_cap, ph.raw_len ? ph.raw_len : 1) < 0 ||
		    (!m->dctx && !(m->dctx = ZSTD_createDCtx())))
			return -3;
		n = ZSTD_decompressDCtx(m->dctx, m->raw, ph.raw_len, raw, ph.data_len);
		if (ZSTD_isError(n) || n != ph.raw_len)
			return -2;
		raw = m->raw;
	}
	memcpy(out, &ph, sizeof(struct mml_events_header));
	r = mml_unpack(&m->up, raw, ph.raw_len, ph.count, ph.min_ts,
		       (struct mml_event *)((char *)out + sizeof(struct mml_events_header)));
	return r == -1 ? -2 : r == -2 ? -3 : 0;
}

/*
 * Read and check block b into a pool buffer holding its events header and
 * events (a PACKED block unpacked). Returns 0, or -1 read error, -2 bad
 * hash or contents, -3 no memory.
 */
static int fetch(struct mml_src *m, const struct blk *b, void **bufp, size_t *cap)
{
	int packed = b->type == MML_BLK_PACKED;
	size_t need = packed ? sizeof(struct mml_events_header) +
				       (size_t)b->count * sizeof(struct mml_event)
			     : b->len;
	void *buf = pool_get(m, need, cap);
	unsigned char *in = buf;
	int r = 0;

	*bufp = NULL;
	if (!buf)
		return -3;
	if (packed && grow(&m->zin, &m->zin_cap, b->len) < 0)
		r = -3;
	else if (packed)
		in = m->zin;
	if (!r && full_pread(m->fd, in, b->len, b->off + sizeof(struct mml_block_header)) != 1)
		r = -1;
	if (!r && mml_hash(in, b->len) != b->hash)
		r = -2;
	if (!r && packed)
		r = unpack_block(m, b, in, buf);
	if (r) {
		pool_put(m, buf, *cap);
		return r;
	}
	*bufp = buf;
	return 0;
}

/*
 * The read-ahead thread: blocks are consumed in index order, so it can read
 * and hash the next AHEAD of them while the caller pairs events on the other
 * CPU. Slot i % AHEAD holds block i; produced - m->next is how many wait.
 */
static void *ahead(void *arg)
{
	struct mml_src *m = arg;

	pthread_mutex_lock(&m->mu);
	for (;;) {
		while (!m->stop && m->produced < m->nidx && m->produced - m->next >= AHEAD)
			pthread_cond_wait(&m->cv, &m->mu);
		if (m->stop || m->produced == m->nidx)
			break;
		size_t i = m->produced;
		pthread_mutex_unlock(&m->mu);
		struct slot sl = { 0 };
		sl.status = fetch(m, &m->idx[i], &sl.buf, &sl.cap);
		pthread_mutex_lock(&m->mu);
		m->ring[i % AHEAD] = sl;
		m->produced++;
		pthread_cond_broadcast(&m->cv);
		if (sl.status && sl.status != -2)
			break;		/* the caller reports it when it gets there */
	}
	pthread_mutex_unlock(&m->mu);
	return NULL;
}

/* Load index entry m->next into the active set. */
static int load_block(struct source *s, struct mml_src *m)
{
	struct blk *b = &m->idx[m->next];
	void *buf;
	size_t cap;
	int r;

	if (m->threaded) {
		pthread_mutex_lock(&m->mu);
		while (m->produced <= m->next)
			pthread_cond_wait(&m->cv, &m->mu);
		struct slot *sl = &m->ring[m->next % AHEAD];
		buf = sl->buf;
		cap = sl->cap;
		r = sl->status;
		sl->buf = NULL;
		m->next++;
		pthread_cond_broadcast(&m->cv);
		pthread_mutex_unlock(&m->mu);
	} else {
		r = fetch(m, b, &buf, &cap);
		m->next++;
	}
	if (r == -1)
		return read_error(s, m, b->off);
	if (r == -2) {
		/* a bad hash or contents: the block's events are left out, the rest goes on */
		damaged(s, sizeof(struct mml_block_header) + b->len);
		return 0;
	}
	if (r)
		return out_of_memory(s, m);
	if (m->nact == m->capact) {
		size_t ncap = m->capact ? m->capact * 2 : 16;
		struct cursor *n = realloc(m->act, ncap * sizeof(*n));
		if (!n) {
			pool_put(m, buf, cap);
			snprintf(s->err, sizeof(s->err), "%s: out of memory", m->path);
			return -1;
		}
		m->act = n;
		m->capact = ncap;
	}
	m->act[m->nact++] = (struct cursor){
		(struct mml_event *)((char *)buf + sizeof(struct mml_events_header)), buf, 0, b->count,
		cap };
	return 0;
}

static void drop_cursor(struct mml_src *m, size_t i)
{
	pool_put(m, m->act[i].buf, m->act[i].cap);
	m->act[i] = m->act[--m->nact];
}

static long mml_next(struct source *s, struct mml_event *ev, size_t max)
{
	struct mml_src *m = s->priv;
	size_t n = 0;

	while (n < max) {
		size_t best = 0;
		uint64_t limit = UINT64_MAX, head = UINT64_MAX;

		/* bring in every block that starts before the earliest loaded head */
		for (size_t i = 0; i < m->nact; i++) {
			uint64_t t = m->act[i].ev[m->act[i].pos].ts;
			if (t < head) {
				head = t;
				best = i;
			}
		}
		if (m->next < m->nidx && (!m->nact || m->idx[m->next].min_ts <= head)) {
			if (load_block(s, m))
				return -1;
			continue;
		}
		if (!m->nact)
			break;
		if (m->nact == 2) {
			/* the common case (2 CPUs, or 2 overlapping blocks): a plain 2-way merge */
			struct cursor *a = &m->act[0], *b = &m->act[1], *c;
			uint64_t lim = m->next < m->nidx ? m->idx[m->next].min_ts : UINT64_MAX;
			for (;;) {
				c = a->ev[a->pos].ts <= b->ev[b->pos].ts ? a : b;
				if (c->ev[c->pos].ts > lim || n == max)
					break;
				ev[n++] = c->ev[c->pos++];
				if (c->pos == c->count) {
					drop_cursor(m, (size_t)(c - m->act));
					break;
				}
			}
			continue;
		}
		/* take from best every event up to the next competitor */
		if (m->next < m->nidx)
			limit = m->idx[m->next].min_ts;
		for (size_t i = 0; i < m->nact; i++) {
			uint64_t t = m->act[i].ev[m->act[i].pos].ts;
			if (i != best && t < limit)
				limit = t;
		}
		struct cursor *c = &m->act[best];
		uint32_t p = c->pos, e = c->count;
		size_t room = max - n;
		if (e - p > room)
			e = p + (uint32_t)room;
		uint32_t q = p + 1;		/* the head itself always goes */
		while (q < e && c->ev[q].ts <= limit)
			q++;
		memcpy(ev + n, c->ev + p, (size_t)(q - p) * sizeof(*ev));
		n += q - p;
		c->pos = q;
		if (q == c->count)
			drop_cursor(m, best);
	}
	if (n) {
		if (!s->start_ts)
			s->start_ts = ev[0].ts;
		s->end_ts = ev[n - 1].ts;
	}
	return (long)n;
}

static void mml_close(struct source *s)
{
	struct mml_src *m = s->priv;

	if (!m)
		return;
	if (m->threaded) {
		pthread_mutex_lock(&m->mu);
		m->stop = 1;
		pthread_cond_broadcast(&m->cv);
		pthread_mutex_unlock(&m->mu);
		pthread_join(m->th, NULL);
		for (size_t i = m->next; i < m->produced; i++)
			free(m->ring[i % AHEAD].buf);
	}
	for (size_t i = 0; i < m->nact; i++)
		free(m->act[i].buf);
	for (int i = 0; i < m->npool; i++)
		free(m->pool[i].buf);
	free(m->act);
	free(m->zin);
	free(m->raw);
	ZSTD_freeDCtx(m->dctx);
	mml_unpacker_fini(&m->up);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m->idx);
	if (m->fd >= 0)
		close(m->fd);
	free(m);
	s->priv = NULL;
}

const struct source_ops source_mml_ops = {
	.name = "mmaplock",
	.probe = probe,
	.open = mml_open,
	.next = mml_next,
	.close = mml_close,
};
