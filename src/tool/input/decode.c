/* SPDX-License-Identifier: MIT */
/*
 * decode.c: raw ftrace record -> struct mml_event (see decode.h).
 *
 * At creation the decoder asks libtraceevent for each event we know
 * (mmap_lock_{start_locking,acquire_returned,released}, contention_{begin,
 * end}) and caches its type id and the offset and size of every field we
 * read. decode_record() never calls into libtraceevent: it compares
 * common_type against the cached ids and loads fields at cached offsets, so
 * it runs at memory speed. Fields are read with memcpy (records in a
 * ring-buffer page are only 4-byte aligned).
 *
 * common_flags carries the context bits of the kernel's trace_flag_type:
 * HARDIRQ 0x08, SOFTIRQ 0x10, NMI 0x40 (stable since 2.6).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include "decode.h"
#include "hashmap.h"

#define TRACE_FLAG_HARDIRQ	0x08
#define TRACE_FLAG_SOFTIRQ	0x10
#define TRACE_FLAG_NMI		0x40

#define LCB_F_READ		(1u << 1)
#define LCB_F_WRITE		(1u << 2)

struct fld {
	int off, size;			/* size 0: the event has no such field */
};

struct evdesc {
	int id;				/* -1: not known to tep */
	uint8_t type;			/* enum mml_event_type */
	struct fld mm, memcg, write, success;	/* contention: mm=lock_addr, memcg=flags/ret */
	int memcg_is_loc;		/* memcg is a __data_loc string */
	int need;			/* bytes a record must have (every field above, common_pid) */
	int fast;			/* mmap_lock event of the usual field sizes: fill_fast() */
};

struct pathent {
	struct hashmap_bytes k;		/* the path (owned), NULL: empty slot */
	uint64_t id;
};
#define PATH_KEY(e) ((e)->k)
#define PATH_USED(e) ((e)->k.p != NULL)
HASHMAP_DEFINE(pathtab, struct pathent, struct hashmap_bytes, HASHMAP_BYTES_HASH, PATH_KEY,
	       HASHMAP_BYTES_EQ, PATH_USED)

struct decoder {
	struct evdesc ev[5];
	int min_id, max_id;		/* quick reject */
	uint8_t byid[256];		/* id - min_id -> index in ev + 1 (0: not ours); span < 256 */
	struct fld type, flags, pid;	/* common fields */
	int has_id, has_cont;
	int stack_id;			/* ftrace:kernel_stack, -1: unknown */
	uint8_t irq[256];		/* common_flags (one byte) -> MML_F_* */
	struct fld stack_size, stack_caller;
	decode_memcg_fn fn;
	void *arg;
	struct pathtab paths;		/* interned memcg paths */
	uint64_t next_id;
};

static int get_fld(struct tep_event *e, const char *name, struct fld *f, int *is_loc)
{
	struct tep_format_field *ff = tep_find_any_field(e, name);

	if (!ff)
		return 0;
	f->off = ff->offset;
	f->size = ff->size;
	if (is_loc)
		*is_loc = !!(ff->flags & TEP_FIELD_IS_DYNAMIC);
	return 1;
}

static void find_ev(struct decoder *d, struct tep_handle *tep, int i, const char *sys,
		    const char *name, uint8_t type)
{
	struct evdesc *x = &d->ev[i];
	struct tep_event *e = tep_find_event_by_name(tep, sys, name);

	memset(x, 0, sizeof(*x));
	x->id = -1;
	x->type = type;
	if (!e)
		return;
	if (type == MML_EV_CONTENTION_BEGIN || type == MML_EV_CONTENTION_END) {
		if (!get_fld(e, "lock_addr", &x->mm, NULL))
			return;
		if (!get_fld(e, type == MML_EV_CONTENTION_BEGIN ? "flags" : "ret", &x->memcg, NULL))
			return;
	} else {
		if (!get_fld(e, "mm", &x->mm, NULL) || !get_fld(e, "write", &x->write, NULL))
			return;
		if (!get_fld(e, "memcg_id", &x->memcg, NULL) &&
		    !get_fld(e, "memcg_path", &x->memcg, &x->memcg_is_loc))
			return;
		get_fld(e, "success", &x->success, NULL);
	}
	x->id = e->id;
	if (d->min_id < 0 || e->id < d->min_id)
		d->min_id = e->id;
	if (e->id > d->max_id)
		d->max_id = e->id;
	if (!d->type.size) {		/* common fields: from the first event we know */
		get_fld(e, "common_type", &d->type, NULL);
		get_fld(e, "common_flags", &d->flags, NULL);
		get_fld(e, "common_pid", &d->pid, NULL);
	}
}

struct decoder *decoder_new(struct tep_handle *tep, decode_memcg_fn fn, void *arg)
{
	struct decoder *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->fn = fn;
	d->arg = arg;
	d->min_id = -1;
	d->next_id = 1;
	find_ev(d, tep, 0, "mmap_lock", "mmap_lock_start_locking", MML_EV_START_LOCKING);
	find_ev(d, tep, 1, "mmap_lock", "mmap_lock_acquire_returned", MML_EV_ACQUIRE_RETURNED);
	find_ev(d, tep, 2, "mmap_lock", "mmap_lock_released", MML_EV_RELEASED);
	find_ev(d, tep, 3, "lock", "contention_begin", MML_EV_CONTENTION_BEGIN);
	find_ev(d, tep, 4, "lock", "contention_end", MML_EV_CONTENTION_END);
	d->stack_id = -1;
	struct tep_event *ks = tep_find_event_by_name(tep, "ftrace", "kernel_stack");
	if (ks && get_fld(ks, "size", &d->stack_size, NULL) &&
	    get_fld(ks, "caller", &d->stack_caller, NULL))
		d->stack_id = ks->id;
	if (d->ev[0].id < 0 && d->ev[1].id < 0 && d->ev[2].id < 0) {
		free(d);
		errno = ENOENT;
		return NULL;
	}
	for (int i = 0; i < 3; i++)
		if (d->ev[i].id >= 0 && !d->ev[i].memcg_is_loc)
			d->has_id = 1;
	d->has_cont = d->ev[3].id >= 0 && d->ev[4].id >= 0;
	if (!d->type.size || d->type.size > 4 || !d->pid.size) {
		free(d);
		errno = EINVAL;
		return NULL;
	}
	for (int i = 0; i < 5; i++) {
		struct evdesc *x = &d->ev[i];
		const struct fld *f[] = { &x->mm, &x->memcg, &x->write, &x->success, &d->pid };
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++)
			if (f[k]->off + f[k]->size > x->need)
				x->need = f[k]->off + f[k]->size;
		x->fast = i < 3 && x->id >= 0 && x->mm.size == 8 && !x->memcg_is_loc &&
			  x->memcg.size == 8 && x->write.size == 1 && x->success.size <= 1 &&
			  d->pid.size == 4 && d->flags.size == 1;
	}
	for (int i = 0; i < 5; i++)
		if (d->ev[i].id >= 0 && d->max_id - d->min_id < 256)
			d->byid[d->ev[i].id - d->min_id] = (uint8_t)(i + 1);
	for (unsigned cf = 0; cf < 256; cf++)
		d->irq[cf] = (uint8_t)((cf & TRACE_FLAG_HARDIRQ ? MML_F_HARDIRQ : 0) |
				       (cf & TRACE_FLAG_SOFTIRQ ? MML_F_SOFTIRQ : 0) |
				       (cf & TRACE_FLAG_NMI ? MML_F_NMI : 0));
	return d;
}

void decoder_free(struct decoder *d)
{
	if (!d)
		return;
	for (struct pathent *e = pathtab_next(&d->paths, NULL); e; e = pathtab_next(&d->paths, e))
		free((void *)e->k.p);
	pathtab_fini(&d->paths);
	free(d);
}

int decoder_has_memcg_id(const struct decoder *d)
{
	return d->has_id;
}

int decoder_has_contention(const struct decoder *d)
{
	return d->has_cont;
}

static uint64_t ld(const unsigned char *p, struct fld f)
{
	switch (f.size) {
	case 1: return p[f.off];
	case 2: { uint16_t v; memcpy(&v, p + f.off, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p + f.off, 4); return v; }
	case 8: { uint64_t v; memcpy(&v, p + f.off, 8); return v; }
	}
	return 0;
}

uint64_t decoder_intern_path(struct decoder *d, const char *path, int len)
{
	while (len > 0 && path[len - 1] == '\0')
		len--;
	if (len <= 0)
		return 0;
	struct hashmap_bytes k = hashmap_bytes(path, (size_t)len);
	struct pathent *e = pathtab_find(&d->paths, k);
	int isnew;

	if (e)
		return e->id;
	char *s = malloc(len + 1);
	if (!s)
		return 0;
	memcpy(s, path, len);
	s[len] = '\0';
	k.p = s;
	e = pathtab_add(&d->paths, k, &isnew);
	if (!e) {
		free(s);
		return 0;
	}
	*e = (struct pathent){ k, d->next_id++ };
	if (d->fn)
		d->fn(e->id, s, d->arg);
	return e->id;
}

int decoder_has_stacks(const struct decoder *d)
{
	return d->stack_id >= 0;
}

int decode_is_stack(const struct decoder *d, const void *data, int size)
{
	const unsigned char *p = data;

	return d->stack_id >= 0 && size >= d->type.off + d->type.size &&
	       (int)ld(p, d->type) == d->stack_id && size >= d->stack_size.off + d->stack_size.size &&
	       size >= d->pid.off + d->pid.size;
}

int decode_stack(struct decoder *d, const void *data, int size, uint32_t *pid,
		 uint64_t *addr, int max)
{
	const unsigned char *p = data;

	if (!decode_is_stack(d, data, size))
		return -1;
	*pid = (uint32_t)ld(p, d->pid);
	int64_t n = (int32_t)ld(p, d->stack_size);
	int64_t avail = (size - d->stack_caller.off) / 8;
	if (n > avail)			/* the record's length is the truth */
		n = avail;
	if (n < 0)
		n = 0;
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++)
		memcpy(&addr[i], p + d->stack_caller.off + 8 * i, 8);
	while (n > 0 && !addr[n - 1])	/* unused slots of a fixed-size array */
		n--;
	return (int)n;
}

/*
 * The record's description when decode_record() keeps it (*rc 1); NULL
 * with *rc 0 (not ours, or filtered out) or -1 (malformed). No side
 * effect: decode_check() asks it ahead of time.
 */
static inline __attribute__((always_inline)) const struct evdesc *
check(const struct decoder *d, const unsigned char *p, int size, int *rc)
{
	*rc = 0;
	if (size < d->type.off + d->type.size)
		return NULL;
	int id = (int)ld(p, d->type);
	if (id < d->min_id || id > d->max_id)
		return NULL;
	const struct evdesc *x = NULL;
	if (d->max_id - d->min_id < 256) {
		int k = d->byid[id - d->min_id];
		x = k ? &d->ev[k - 1] : NULL;
	} else {
		for (int i = 0; i < 5; i++)
			if (d->ev[i].id == id) {
				x = &d->ev[i];
				break;
			}
	}
	if (!x)
		return NULL;
	if (size < x->need) {
		*rc = -1;
		return NULL;
	}
	if (x->type == MML_EV_CONTENTION_BEGIN &&
	    !((uint32_t)ld(p, x->memcg) & (LCB_F_READ | LCB_F_WRITE)))
		return NULL;
	if (x->memcg_is_loc) {
		uint32_t loc = (uint32_t)ld(p, x->memcg);
		if ((int)(loc & 0xffff) + (int)(loc >> 16) > size) {
			*rc = -1;
			return NULL;
		}
	}
	*rc = 1;
	return x;
}

int decode_check(const struct decoder *d, const void *data, int size)
{
	int rc;
	const struct evdesc *x = check(d, data, size, &rc);

	return x ? 1 + (int)(x - d->ev) : rc;
}

/* fill() for the usual layout of a memcg_id-era mmap_lock event: fixed-size loads. */
static inline __attribute__((always_inline)) void
fill_fast(const struct decoder *d, const struct evdesc *x, const unsigned char *p, uint64_t ts,
	  int cpu, struct mml_event *ev)
{
	uint32_t pid;
	uint8_t fl = d->irq[p[d->flags.off]];

	memcpy(&ev->mm, p + x->mm.off, 8);
	memcpy(&ev->memcg, p + x->memcg.off, 8);
	memcpy(&pid, p + d->pid.off, 4);
	if (p[x->write.off])
		fl |= MML_F_WRITE;
	if (x->success.size && p[x->success.off])
		fl |= MML_F_SUCCESS;
	ev->ts = ts;
	ev->tid = pid;
	ev->cpu = (uint16_t)cpu;
	ev->type = x->type;
	ev->flags = fl;
}

/* Fill ev from a record check() kept as x. */
static void fill(struct decoder *d, const struct evdesc *x, const unsigned char *p, uint64_t ts,
		 int cpu, struct mml_event *ev)
{
	if (x->fast) {
		fill_fast(d, x, p, ts, cpu, ev);
		return;
	}
	unsigned cf = (unsigned)ld(p, d->flags);
	uint8_t fl = 0;
	if (cf & TRACE_FLAG_HARDIRQ)
		fl |= MML_F_HARDIRQ;
	if (cf & TRACE_FLAG_SOFTIRQ)
		fl |= MML_F_SOFTIRQ;
	if (cf & TRACE_FLAG_NMI)
		fl |= MML_F_NMI;
	ev->ts = ts;
	ev->mm = ld(p, x->mm);
	ev->tid = (uint32_t)ld(p, d->pid);
	ev->cpu = (uint16_t)cpu;
	ev->type = x->type;
	if (x->type == MML_EV_CONTENTION_BEGIN) {
		uint32_t f = (uint32_t)ld(p, x->memcg);
		if (f & LCB_F_WRITE)
			fl |= MML_F_WRITE;
		ev->memcg = f;
	} else if (x->type == MML_EV_CONTENTION_END) {
		ev->memcg = (uint32_t)ld(p, x->memcg);
	} else {
		if (ld(p, x->write))
			fl |= MML_F_WRITE;
		if (x->success.size && ld(p, x->success))
			fl |= MML_F_SUCCESS;
		if (x->memcg_is_loc) {
			uint32_t loc = (uint32_t)ld(p, x->memcg);
			ev->memcg = decoder_intern_path(d, (const char *)p + (loc & 0xffff),
							(int)(loc >> 16));
		} else {
			ev->memcg = ld(p, x->memcg);
		}
	}
	ev->flags = fl;
}

int decode_record(struct decoder *d, const void *data, int size, uint64_t ts, int cpu,
		  struct mml_event *ev)
{
	int rc;
	const struct evdesc *x = check(d, data, size, &rc);

	if (x)
		fill(d, x, data, ts, cpu, ev);
	return rc;
}

void decode_checked(struct decoder *d, int kind, const void *data, uint64_t ts, int cpu,
		    struct mml_event *ev)
{
	fill(d, &d->ev[kind - 1], data, ts, cpu, ev);
}

int decode_check_ahead(const struct decoder *d, const void *data, int size, uint64_t ts,
		       int cpu, struct mml_event *ev, int *done)
{
	int rc;
	const struct evdesc *x = check(d, data, size, &rc);

	*done = 0;
	if (!x)
		return rc;
	if (x->fast) {			/* the usual layout: no call (a few ns an event) */
		fill_fast(d, x, data, ts, cpu, ev);
		*done = 1;
	} else if (!x->memcg_is_loc) {
		/* fill() writes to d only to intern a memcg path, which x has not */
		fill((struct decoder *)d, x, data, ts, cpu, ev);
		*done = 1;
	}
	return 1 + (int)(x - d->ev);
}
