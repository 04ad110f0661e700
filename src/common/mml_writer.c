/* SPDX-License-Identifier: MIT */
/*
 * mml_writer.c: write an mmaplock trace file (mml_format.h, described in
 * docs/FILE-FORMAT.md). Shared by libmmaplock's recorder and `mmaplock
 * record`.
 *
 * Version 2 (the default): mml_writer_events() packs each block's events
 * (mml_pack.c) and compresses them with zstd in the caller's thread. The
 * callers call it off their hot path (the recorder's writer thread, the
 * record drain), so the traced code never pays for it. zstd level 1: on a
 * real recording (`record -- mmaplock stress`) packing and compressing
 * take about 13 ns an event, what writing version 1's 32 bytes an event
 * took, for 1.5 bytes an event on disk; level 3 gives 1.3 bytes for twice
 * the CPU. A block whose events do
 * not fit the packing (a type or flag this version does not know) goes out
 * as a version 1 EVENTS block, which version 2 readers read too. Without
 * libzstd (MML_HAVE_ZSTD unset) blocks are packed and stored (codec none).
 *
 * Each block (block header + payload + zero padding) is handed to the kernel
 * in one write(2) or writev(2) loop, so that a reader of a file still being
 * written, or cut short by a crash, sees whole blocks followed at most by
 * one partial block, which its hash rejects. EVENTS blocks are not copied:
 * their hash is computed over the two parts in place (the same function as
 * mml_hash(), fed word by word) and they go out with writev(2).
 *
 * Metadata (MEMCG, TASK, LOST, INFO, STACK entries) is gathered in one
 * growing buffer per block type and written as one block per type at the
 * next mml_writer_flush(), before the next EVENTS block, or at
 * mml_writer_close(): whatever was said before some events is in the file
 * before them, so a file cut short still names the ids its events use. The writer is not thread-safe:
 * its callers serialise (the recorder's writer thread, record's main loop).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#if MML_HAVE_ZSTD
#include <zstd.h>
#endif
#include "mml_pack.h"
#include "mml_writer.h"

#define ZSTD_LEVEL	1

/* One growing buffer of pending metadata entries of one block type. */
struct pending {
	unsigned char *buf;
	size_t len, cap;
};

enum { P_MEMCG, P_TASK, P_LOST, P_INFO, P_STACK, P_NR };

static const uint16_t pending_type[P_NR] = {
	[P_MEMCG] = MML_BLK_MEMCG,
	[P_TASK] = MML_BLK_TASK,
	[P_LOST] = MML_BLK_LOST,
	[P_INFO] = MML_BLK_INFO,
	[P_STACK] = MML_BLK_STACK,
};

struct mml_writer {
	int fd;
	int error;			/* first errno seen; sticky */
	struct pending pend[P_NR];
	unsigned char *scratch;		/* block assembly buffer */
	size_t scratch_cap;
	int version;			/* major version written: 1 or 2 */
	struct mml_packer pk;		/* version 2: packing scratch */
	unsigned char *raw, *z;		/* packed events, and compressed */
	size_t raw_cap, z_cap;
#if MML_HAVE_ZSTD
	ZSTD_CCtx *zc;
#endif
};

/* write(2) all of buf, retrying short writes and EINTR. */
static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int grow(unsigned char **buf, size_t *cap, size_t need)
{
	size_t ncap = *cap ? *cap : 4096;
	unsigned char *nb;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	nb = realloc(*buf, ncap);
	if (!nb) {
		errno = ENOMEM;
		return -1;
	}
	*buf = nb;
	*cap = ncap;
	return 0;
}

static int pending_add(struct pending *p, const void *data, size_t len)
{
	if (grow(&p->buf, &p->cap, p->len + len) < 0)
		return -1;
	memcpy(p->buf + p->len, data, len);
	p->len += len;
	return 0;
}

struct mml_writer *mml_writer_fdopen(int fd, const struct mml_file_header *hdr)
{
	struct mml_file_header h = *hdr;
	struct mml_writer *w;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if (h.version_major > MML_VERSION_MAJOR) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	w->fd = fd;
	w->version = h.version_major == 1 ? 1 : MML_VERSION_MAJOR;
	memcpy(h.magic, MML_FILE_MAGIC, 8);
	h.version_major = (uint16_t)w->version;
	h.version_minor = w->version == 1 ? MML_V1_MINOR : MML_VERSION_MINOR;
	h.header_size = sizeof(h);
	if (write_all(fd, &h, sizeof(h)) < 0) {
		int e = errno;

		close(fd);
		free(w);
		errno = e;
		return NULL;
	}
	return w;
}

struct mml_writer *mml_writer_open(const char *path, const struct mml_file_header *hdr)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return NULL;
	return mml_writer_fdopen(fd, hdr);
}

/* writev(2) all of iov, retrying short writes and EINTR. */
static int writev_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t k = writev(fd, iov, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

/* mml_hash() in steps: start, words of each part, end. Parts are 8-byte multiples. */
static uint64_t hash_start(uint32_t len)
{
	return 0x9e3779b97f4a7c15ull ^ len;
}

static uint64_t hash_words(uint64_t h, const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

static uint32_t hash_end(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

/* Header + two 8-byte-aligned parts, without copying them. */
static int write_block_iov(struct mml_writer *w, uint16_t type, const void *a, uint32_t alen,
			   const void *b, uint32_t blen)
{
	static const unsigned char zero[8];
	uint32_t len = alen + blen, padded = MML_PAD8(len);
	struct mml_block_header bh;
	struct iovec iov[4];
	uint64_t h = hash_start(padded);

	h = hash_words(h, a, alen);
	h = hash_words(h, b, blen & ~7u);
	if (blen & 7u) {
		unsigned char last[8] = { 0 };

		memcpy(last, (const unsigned char *)b + (blen & ~7u), blen & 7u);
		h = hash_words(h, last, 8);
	}
	bh.magic = MML_BLOCK_MAGIC;
	bh.type = type;
	bh.flags = 0;
	bh.len = padded;
	bh.hash = hash_end(h);
	iov[0] = (struct iovec){ &bh, sizeof(bh) };
	iov[1] = (struct iovec){ (void *)a, alen };
	iov[2] = (struct iovec){ (void *)b, blen };
	iov[3] = (struct iovec){ (void *)zero, padded - len };
	if (writev_all(w->fd, iov, 4) < 0) {
		w->error = errno;
		return -1;
	}
	return 0;
}

/*
 * Assemble header + one or two payload parts + padding in the scratch buffer
 * and write it at once. Two parts let EVENTS blocks carry their header and
 * the events without copying the events twice.
 */
static int write_block2(struct mml_writer *w, uint16_t type, const void *a, uint32_t alen,
			const void *b, uint32_t blen)
{
	uint64_t len = (uint64_t)alen + blen;
	uint32_t padded;
	struct mml_block_header bh;

	if (w->error) {
		errno = w->error;
		return -1;
	}
	if (len > MML_BLOCK_MAX) {
		errno = EFBIG;
		return -1;
	}
	if (alen % 8 == 0 && blen > 4096)
		return write_block_iov(w, type, a, alen, b, blen);
	padded = MML_PAD8((uint32_t)len);
	if (grow(&w->scratch, &w->scratch_cap, sizeof(bh) + padded) < 0)
		return -1;
	if (alen)
		memcpy(w->scratch + sizeof(bh), a, alen);
	if (blen)
		memcpy(w->scratch + sizeof(bh) + alen, b, blen);
	memset(w->scratch + sizeof(bh) + len, 0, padded - len);
	bh.magic = MML_BLOCK_MAGIC;
	bh.type = type;
	bh.flags = 0;
	bh.len = padded;
	bh.hash = mml_hash(w->scratch + sizeof(bh), padded);
	memcpy(w->scratch, &bh, sizeof(bh));
	if (write_all(w->fd, w->scratch, sizeof(bh) + padded) < 0) {
		w->error = errno;
		return -1;
	}
	return 0;
}

int mml_writer_block(struct mml_writer *w, uint16_t type, const void *payload, uint32_t len)
{
	if (!w || (len && !payload)) {
		errno = EINVAL;
		return -1;
	}
	return write_block2(w, type, payload, len, NULL, 0);
}

/*
 * Compress w->raw[len] into w->z; returns the compressed length, or 0 when
 * compression is not available, fails or does not pay (then store it).
 */
static size_t compress(struct mml_writer *w, size_t len)
{
#if MML_HAVE_ZSTD
	size_t bound = ZSTD_compressBound(len), r;

	if (!w->zc && !(w->zc = ZSTD_createCCtx()))
		return 0;
	if (grow(&w->z, &w->z_cap, bound) < 0)
		return 0;
	r = ZSTD_compressCCtx(w->zc, w->z, w->z_cap, w->raw, len, ZSTD_LEVEL);
	return ZSTD_isError(r) || r >= len ? 0 : r;
#else
	(void)w;
	(void)len;
	return 0;
#endif
}

/*
 * One PACKED block of k events. Returns 0, -1 on error, 1 when the events
 * do not fit the packing (the caller writes an EVENTS block instead).
 */
static int write_packed(struct mml_writer *w, uint32_t stream, const struct mml_event *ev,
			uint32_t k)
{
	struct mml_packed_header ph = {
		.count = k,
		.stream = stream,
		.min_ts = ev[0].ts,
		.max_ts = ev[k - 1].ts,
	};
	size_t zlen;
	long len;

	if (grow(&w->raw, &w->raw_cap, mml_pack_bound(k)) < 0)
		return -1;
	len = mml_pack(&w->pk, ev, k, ph.min_ts, w->raw);
	if (len <= 0)
		return len < 0 ? -1 : 1;
	zlen = compress(w, (size_t)len);
	ph.codec = zlen ? MML_CODEC_ZSTD : MML_CODEC_NONE;
	ph.raw_len = (uint32_t)len;
	ph.data_len = zlen ? (uint32_t)zlen : (uint32_t)len;
	return write_block2(w, MML_BLK_PACKED, &ph, sizeof(ph), zlen ? w->z : w->raw, ph.data_len);
}

int mml_writer_events(struct mml_writer *w, uint32_t stream, const struct mml_event *ev, uint32_t n)
{
	if (!w || (n && !ev)) {
		errno = EINVAL;
		return -1;
	}
	if (n && mml_writer_flush(w) < 0)	/* the names these events use go first */
		return -1;
	while (n) {
		uint32_t k = n < MML_EVENTS_PER_BLOCK ? n : MML_EVENTS_PER_BLOCK;
		struct mml_events_header eh = {
			.count = k,
			.stream = stream,
			.min_ts = ev[0].ts,
			.max_ts = ev[k - 1].ts,
		};
		int r = w->version >= 2 ? write_packed(w, stream, ev, k) : 1;

		if (r < 0)
			return -1;
		if (r > 0 && write_block2(w, MML_BLK_EVENTS, &eh, sizeof(eh), ev,
					  k * (uint32_t)sizeof(*ev)) < 0)
			return -1;
		ev += k;
		n -= k;
	}
	return 0;
}

int mml_writer_memcg(struct mml_writer *w, uint64_t id, const char *path)
{
	size_t l = path ? strlen(path) : 0;
	uint16_t len = l > 0xffff ? 0xffff : (uint16_t)l;
	unsigned char e[10];

	if (!w) {
		errno = EINVAL;
		return -1;
	}
	memcpy(e, &id, 8);
	memcpy(e + 8, &len, 2);
	if (pending_add(&w->pend[P_MEMCG], e, sizeof(e)) < 0 ||
	    pending_add(&w->pend[P_MEMCG], path ? path : "", len) < 0)
		return -1;
	return 0;
}

int mml_writer_task(struct mml_writer *w, uint32_t tid, uint32_t tgid, const char *comm,
		    uint64_t cgroup_id, const char *cgroup_path)
{
	size_t l = cgroup_path ? strlen(cgroup_path) : 0;
	uint16_t len = l > 0xffff ? 0xffff : (uint16_t)l;
	unsigned char e[4 + 4 + 16 + 8 + 2];

	if (!w) {
		errno = EINVAL;
		return -1;
	}
	if (!tid)
		return 0;	/* the idle task: earlier readers took tid 0 for the end of the block */
	memset(e, 0, sizeof(e));
	memcpy(e, &tid, 4);
	memcpy(e + 4, &tgid, 4);
	if (comm)
		strncpy((char *)e + 8, comm, 16);
	memcpy(e + 24, &cgroup_id, 8);
	memcpy(e + 32, &len, 2);
	if (pending_add(&w->pend[P_TASK], e, sizeof(e)) < 0 ||
	    pending_add(&w->pend[P_TASK], cgroup_path ? cgroup_path : "", len) < 0)
		return -1;
	return 0;
}

int mml_writer_stack(struct mml_writer *w, uint32_t id, const uint64_t *addr,
		     const char *const *sym, unsigned n)
{
	struct pending *p;
	unsigned char e[8] = { 0 };
	uint16_t nf;

	if (!w || !id || (n && (!addr || !sym))) {
		errno = EINVAL;
		return -1;
	}
	if (n > 0xffff)
		n = 0xffff;
	nf = (uint16_t)n;
	p = &w->pend[P_STACK];
	memcpy(e, &id, 4);
	memcpy(e + 4, &nf, 2);
	if (pending_add(p, e, sizeof(e)) < 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		size_t l = sym[i] ? strlen(sym[i]) : 0;
		uint16_t len = l > 0xffff ? 0xffff : (uint16_t)l;
		unsigned char f[10];

		memcpy(f, &addr[i], 8);
		memcpy(f + 8, &len, 2);
		if (pending_add(p, f, sizeof(f)) < 0 || pending_add(p, sym[i] ? sym[i] : "", len) < 0)
			return -1;
	}
	return 0;
}

int mml_writer_lost(struct mml_writer *w, uint32_t who, uint64_t lost)
{
	unsigned char e[16] = { 0 };

	if (!w) {
		errno = EINVAL;
		return -1;
	}
	memcpy(e, &who, 4);
	memcpy(e + 8, &lost, 8);
	return pending_add(&w->pend[P_LOST], e, sizeof(e));
}

int mml_writer_info(struct mml_writer *w, const char *key, const char *value)
{
	if (!w || !key) {
		errno = EINVAL;
		return -1;
	}
	if (!value)
		value = "";
	if (pending_add(&w->pend[P_INFO], key, strlen(key) + 1) < 0 ||
	    pending_add(&w->pend[P_INFO], value, strlen(value) + 1) < 0)
		return -1;
	return 0;
}

int mml_writer_flush(struct mml_writer *w)
{
	int ret = 0;

	if (!w) {
		errno = EINVAL;
		return -1;
	}
	for (int i = 0; i < P_NR; i++) {
		struct pending *p = &w->pend[i];

		if (!p->len)
			continue;
		if (p->len > MML_BLOCK_MAX) {
			w->error = EFBIG;
			ret = -1;
		} else if (write_block2(w, pending_type[i], p->buf, (uint32_t)p->len, NULL, 0) < 0) {
			ret = -1;
		}
		p->len = 0;
	}
	if (ret < 0 && w->error)
		errno = w->error;
	return ret;
}

int mml_writer_close(struct mml_writer *w, uint64_t events, uint64_t lost)
{
	uint64_t end[2] = { events, lost };
	int ret = 0, e = 0;

	if (!w)
		return 0;
	if (mml_writer_flush(w) < 0 || write_block2(w, MML_BLK_END, end, sizeof(end), NULL, 0) < 0) {
		ret = -1;
		e = errno;
	}
	if (close(w->fd) < 0 && !ret) {
		ret = -1;
		e = errno;
	}
	for (int i = 0; i < P_NR; i++)
		free(w->pend[i].buf);
	free(w->scratch);
	mml_packer_fini(&w->pk);
	free(w->raw);
	free(w->z);
#if MML_HAVE_ZSTD
	ZSTD_freeCCtx(w->zc);
#endif
	free(w);
	if (ret < 0)
		errno = e;
	return ret;
}
