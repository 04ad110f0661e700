/* SPDX-License-Identifier: MIT */
/*
 * test-hashmap: the tool's one hash map (model/hashmap.h) checked against a
 * plain array: insert, lookup, delete (backward shift, also across the end
 * of the array), growth, many keys, keys that all collide, string keys,
 * iteration, deleting by a predicate (del_if, also over a chain that
 * wraps), byte-span keys, the idle-entry rebuild (make_room), and the u64map/idmap
 * instances built on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "hashmap.h"
#include "idmap.h"
#include "u64map.h"

static int fails;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); fails++; } } while (0)

struct ent {
	uint64_t key, val;
	uint8_t used;
};
#define ENT_KEY(e) ((e)->key)
#define ENT_USED(e) ((e)->used)
HASHMAP_DEFINE(nmap, struct ent, uint64_t, hash64, ENT_KEY, HASHMAP_NUM_EQ, ENT_USED)

/* Every key hashes alike: one probe chain, wrapping around the array. */
#define SAME_HASH(k) ((void)(k), (uint64_t)13)
HASHMAP_DEFINE(cmap, struct ent, uint64_t, SAME_HASH, ENT_KEY, HASHMAP_NUM_EQ, ENT_USED)

struct sent {
	const char *key;
	int val;
};
#define SENT_KEY(e) ((e)->key)
#define SENT_USED(e) ((e)->key != NULL)
HASHMAP_DEFINE(smap, struct sent, const char *, hash_str, SENT_KEY, HASHMAP_STR_EQ, SENT_USED)

#define NKEYS 100000

static uint64_t key_of(size_t i)
{
	return i * 4096 + 0xffff888000000000ull;	/* aligned like mm addresses */
}

static void test_many(void)
{
	struct nmap m = { 0 };
	size_t seen = 0;
	uint64_t sum = 0, want = 0;
	int isnew;

	CHECK(nmap_find(&m, 1) == NULL);	/* a zeroed map is empty */
	for (size_t i = 0; i < NKEYS; i++) {
		struct ent *e = nmap_add(&m, key_of(i), &isnew);
		CHECK(e && isnew);
		e->key = key_of(i);
		e->val = i;
		e->used = 1;
		want += i;
	}
	CHECK(m.n == NKEYS && m.cap >= 2 * NKEYS && (m.cap & (m.cap - 1)) == 0);
	CHECK(nmap_add(&m, key_of(7), &isnew)->val == 7 && !isnew);
	for (size_t i = 0; i < NKEYS; i++) {
		struct ent *e = nmap_find(&m, key_of(i));
		CHECK(e && e->val == i);
	}
	CHECK(nmap_find(&m, key_of(NKEYS)) == NULL);
	for (struct ent *e = NULL; (e = nmap_next(&m, e));) {
		seen++;
		sum += e->val;
	}
	CHECK(seen == NKEYS && sum == want);

	/* delete every odd key: the even ones are all still found */
	for (size_t i = 1; i < NKEYS; i += 2)
		nmap_del(&m, nmap_find(&m, key_of(i)));
	CHECK(m.n == NKEYS / 2);
	for (size_t i = 0; i < NKEYS; i++) {
		struct ent *e = nmap_find(&m, key_of(i));
		CHECK(i % 2 ? e == NULL : e && e->val == i);
	}
	nmap_fini(&m);
	CHECK(m.t == NULL && m.n == 0 && nmap_find(&m, 0) == NULL);
}

static void test_collisions(void)
{
	struct cmap m = { 0 };
	int isnew;

	/* 6 keys on one chain starting at slot 13 of 16: it wraps to 0..2 */
	for (uint64_t k = 1; k <= 6; k++) {
		struct ent *e = cmap_add(&m, k, &isnew);
		e->key = k;
		e->val = k * 10;
		e->used = 1;
	}
	CHECK(m.cap == 16 && m.n == 6);
	CHECK(&m.t[13] == cmap_find(&m, 1) && &m.t[2] == cmap_find(&m, 6));
	cmap_del(&m, cmap_find(&m, 2));		/* a hole mid-chain: the rest shift back */
	CHECK(cmap_find(&m, 2) == NULL);
	for (uint64_t k = 1; k <= 6; k++)
		CHECK(k == 2 || (cmap_find(&m, k) && cmap_find(&m, k)->val == k * 10));
	CHECK(m.t[2].used == 0 && m.n == 5);	/* the chain is one shorter */
	cmap_del(&m, cmap_find(&m, 6));		/* the last one: nothing moves */
	cmap_del(&m, cmap_find(&m, 1));		/* the first one */
	for (uint64_t k = 3; k <= 5; k++)
		CHECK(cmap_find(&m, k) && cmap_find(&m, k)->val == k * 10);
	CHECK(m.n == 3 && m.t[13].key == 3);
	cmap_fini(&m);
}

static int keep_odd(const struct ent *e, void *ctx)
{
	(void)ctx;
	return e->val % 2;
}

static void test_make_room(void)
{
	struct nmap m = { 0 };
	size_t i;
	int isnew;

	/* below the idle allowance a full table doubles and keeps everything */
	for (i = 0; i < 64; i++) {
		if ((m.n + 1) * 2 > m.cap)
			CHECK(nmap_make_room(&m, 1024, keep_odd, NULL) == 0);
		size_t p = nmap_pos(&m, key_of(i));
		nmap_claim(&m, p);
		m.t[p] = (struct ent){ key_of(i), i, 1 };
	}
	/* (grown to keep the live entries under a quarter: 16, 64, 256) */
	CHECK(m.n == 64 && m.cap == 256);
	/* at the allowance: only what keep accepts stays, at the same size */
	CHECK(nmap_make_room(&m, 256, keep_odd, NULL) == 0);
	CHECK(m.n == 32 && m.cap == 256);
	CHECK(nmap_find(&m, key_of(3)) && !nmap_find(&m, key_of(4)));
	CHECK(nmap_add(&m, key_of(4), &isnew) && isnew);
	nmap_fini(&m);
}

static int drop_mult3(const struct ent *e, void *ctx)
{
	(void)ctx;
	return e->val % 3 == 0;
}

/* del_if against the plain rule: every third key goes, every other stays findable. */
static void test_del_if(void)
{
	struct nmap m = { 0 };
	struct cmap c = { 0 };
	size_t kept = 0;
	int isnew;

	for (size_t i = 0; i < NKEYS / 10; i++) {
		struct ent *e = nmap_add(&m, key_of(i), &isnew);
		*e = (struct ent){ key_of(i), i, 1 };
	}
	CHECK(nmap_del_if(&m, drop_mult3, NULL) == (NKEYS / 10 + 2) / 3);
	for (size_t i = 0; i < NKEYS / 10; i++) {
		struct ent *e = nmap_find(&m, key_of(i));
		CHECK(i % 3 ? e && e->val == i : e == NULL);
		kept += i % 3 != 0;
	}
	CHECK(m.n == kept);
	nmap_fini(&m);

	/* one chain from slot 13 of 16 over the end: 13, 14, 15, 0, 1, 2, 3 */
	for (uint64_t k = 0; k < 7; k++)
		*cmap_add(&c, k, &isnew) = (struct ent){ k, k, 1 };
	CHECK(c.cap == 16 && c.t[1].key == 4);
	CHECK(cmap_del_if(&c, drop_mult3, NULL) == 3);	/* 0, 3, 6 */
	CHECK(c.n == 4 && !cmap_find(&c, 0) && !cmap_find(&c, 3) && !cmap_find(&c, 6));
	for (uint64_t k = 1; k < 6; k++)
		CHECK(k % 3 == 0 || (cmap_find(&c, k) && cmap_find(&c, k)->val == k));
	CHECK(c.t[13].key == 1 && c.t[0].key == 5 && !c.t[1].used);	/* shifted back */
	cmap_fini(&c);
}

static void test_strings(void)
{
	struct smap m = { 0 };
	char buf[32];
	int isnew;

	for (int i = 0; i < 1000; i++) {
		snprintf(buf, sizeof(buf), "/memcg/%d", i);
		struct sent *e = smap_add(&m, buf, &isnew);
		CHECK(e && isnew);
		e->key = strdup(buf);
		e->val = i;
	}
	snprintf(buf, sizeof(buf), "/memcg/%d", 517);	/* another pointer, same text */
	CHECK(smap_find(&m, buf) && smap_find(&m, buf)->val == 517);
	CHECK(smap_find(&m, "/memcg/1000") == NULL);
	for (struct sent *e = NULL; (e = smap_next(&m, e));)
		free((char *)e->key);
	smap_fini(&m);
}

struct bent {
	struct hashmap_bytes k;
	int val;
};
#define BENT_KEY(e) ((e)->k)
#define BENT_USED(e) ((e)->k.p != NULL)
HASHMAP_DEFINE(bmap, struct bent, struct hashmap_bytes, HASHMAP_BYTES_HASH, BENT_KEY,
	       HASHMAP_BYTES_EQ, BENT_USED)

/* Byte-span keys: equal bytes at another address find the entry; a prefix or a longer span does not. */
static void test_bytes(void)
{
	static uint64_t stacks[500][9];
	uint64_t probe[9];
	struct bmap m = { 0 };
	int isnew;

	for (int i = 0; i < 500; i++) {
		for (int j = 0; j < 9; j++)
			stacks[i][j] = 0xffffffff81000000ull + (uint64_t)(i * 7 + j) * 64;
		struct bent *e = bmap_add(&m, hashmap_bytes(stacks[i], (size_t)(1 + i % 9) * 8), &isnew);
		CHECK(e && isnew);
		*e = (struct bent){ hashmap_bytes(stacks[i], (size_t)(1 + i % 9) * 8), i };
	}
	memcpy(probe, stacks[123], sizeof(probe));
	CHECK(bmap_find(&m, hashmap_bytes(probe, (1 + 123 % 9) * 8)) &&
	      bmap_find(&m, hashmap_bytes(probe, (1 + 123 % 9) * 8))->val == 123);
	CHECK(bmap_find(&m, hashmap_bytes(probe, (123 % 9) * 8)) == NULL);
	CHECK(bmap_find(&m, hashmap_bytes(probe, (2 + 123 % 9) * 8)) == NULL);
	CHECK(hash_bytes("abcdefghi", 9) != hash_bytes("abcdefghj", 9));	/* the tail counts */
	CHECK(hash_bytes("abcdefgh", 8) != hash_bytes("abcdefgh", 7));
	bmap_fini(&m);
}

static void test_instances(void)
{
	struct u64map u = { 0 };
	struct idmap id = { 0 };
	uint64_t *v;

	CHECK(u64map_get(&u, 5, 0) == NULL);
	v = u64map_get(&u, 5, 1);
	CHECK(v && *v == 0);
	*v = 42;
	CHECK(*u64map_get(&u, 5, 0) == 42);
	u64map_del(&u, 5);
	CHECK(u64map_get(&u, 5, 0) == NULL && u.n == 0);
	u64map_free(&u);

	CHECK(idmap_find(&id, 0) == -1);
	CHECK(idmap_put(&id, 0, strdup("root")) == 1);	/* key 0 is a key like any other */
	CHECK(idmap_put(&id, 0, NULL) == 0);		/* NULL keeps the old value */
	CHECK(idmap_find(&id, 0) >= 0 && strcmp(id.t[idmap_find(&id, 0)].val, "root") == 0);
	CHECK(idmap_put(&id, 0, strdup("new")) == 0);
	CHECK(strcmp(id.t[idmap_find(&id, 0)].val, "new") == 0);
	idmap_free(&id);
	CHECK(id.n == 0 && idmap_find(&id, 0) == -1);
}

int main(void)
{
	CHECK(hash64(1) != hash64(2) && (hash64(1) & 0xff) != (hash64(2) & 0xff));
	CHECK(hash_bits(~0ull, 6) < 64);
	test_many();
	test_collisions();
	test_make_room();
	test_del_if();
	test_strings();
	test_bytes();
	test_instances();
	if (fails)
		return 1;
	printf("test-hashmap: ok\n");
	return 0;
}
