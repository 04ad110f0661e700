/* SPDX-License-Identifier: MIT */
/*
 * fuzz-decode: decode.c on arbitrary raw records, for both kernel eras.
 * The decoders are built once from the format fixtures (tests/fixtures/
 * format-id-*, format-path-*, and format-ftrace-kernel_stack for
 * decode_stack). Input: byte 0 picks the era and byte 1
 * the event whose id is written into common_type (so most inputs reach the
 * field loads and the __data_loc bounds check); the rest is the record.
 * The record is copied to a buffer of exactly its size, so ASan sees any
 * read past it. decode_check() must answer what decode_record() does, and
 * decode_checked() and decode_check_ahead() decode the same event.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <traceevent/event-parse.h>
#include "decode.h"

static struct decoder *dec[2];
static struct tep_handle *teps[2];	/* kept for the process's life */
static int ids[2][5];
static int stack_id;		/* ftrace:kernel_stack in the id era's tep */

static void load(struct tep_handle *tep, const char *dir, const char *file, const char *sys)
{
	char path[4096], buf[8192];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		abort();
	}
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (tep_parse_event(tep, buf, n, sys))
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[4096];
	static const char *const ev[5] = { "mmap_lock_start_locking", "mmap_lock_acquire_returned",
		"mmap_lock_released", "contention_begin", "contention_end" };

	snprintf(dir, sizeof(dir), "%s", __FILE__);
	strcpy(strrchr(dir, '/'), "/../tests/fixtures");
	for (int era = 0; era < 2; era++) {
		struct tep_handle *tep = tep_alloc();
		char file[256];
		for (int i = 0; i < 5; i++) {
			if (era == 1 && i >= 3)
				break;
			snprintf(file, sizeof(file), "format-%s-%s", era ? "path" : "id", ev[i]);
			load(tep, dir, file, i < 3 ? "mmap_lock" : "lock");
			ids[era][i] = tep_find_event_by_name(tep, i < 3 ? "mmap_lock" : "lock", ev[i])->id;
		}
		if (era == 0) {
			load(tep, dir, "format-ftrace-kernel_stack", "ftrace");
			stack_id = tep_find_event_by_name(tep, "ftrace", "kernel_stack")->id;
		}
		dec[era] = decoder_new(tep, NULL, NULL);
		if (!dec[era])
			abort();
		teps[era] = tep;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mml_event e;

	if (size < 2)
		return 0;
	int era = data[0] & 1, which = data[1] % 6;	/* 5: a kernel_stack */
	size -= 2;
	unsigned char *rec = malloc(size ? size : 1);
	if (!rec)
		return 0;
	memcpy(rec, data + 2, size);
	if (size >= 2 && !(data[0] & 2)) {
		uint16_t id = (uint16_t)(which == 5 ? stack_id : ids[era][which]);
		memcpy(rec, &id, 2);
	}
	uint64_t addr[128];
	uint32_t pid;
	int n = decode_stack(dec[era], rec, (int)size, &pid, addr, 128);
	if (n > 128)
		abort();
	if ((n >= 0) != decode_is_stack(dec[era], rec, (int)size))
		abort();
	/* decode_check() answers what decode_record() will (the page reader asks ahead) */
	int k = decode_check(dec[era], rec, (int)size);
	int rc = decode_record(dec[era], rec, (int)size, 1, 0, &e);
	if (rc == 1 && (e.type < MML_EV_START_LOCKING || e.type > MML_EV_CONTENTION_END))
		abort();
	if ((k > 0 ? 1 : k) != rc)
		abort();
	if (k > 0) {
		struct mml_event c;
		memset(&c, 0, sizeof(c));
		decode_checked(dec[era], k, rec, 1, 0, &c);
		if (c.ts != e.ts || c.mm != e.mm || c.memcg != e.memcg || c.tid != e.tid ||
		    c.cpu != e.cpu || c.type != e.type || c.flags != e.flags)
			abort();
	}
	/* decode_check_ahead(): decode_check()'s answer, and the same event when it decodes */
	struct mml_event a;
	int done;
	memset(&a, 0, sizeof(a));
	if (decode_check_ahead(dec[era], rec, (int)size, 1, 0, &a, &done) != k || (done && k <= 0))
		abort();
	if (done && (a.ts != e.ts || a.mm != e.mm || a.memcg != e.memcg || a.tid != e.tid ||
		     a.cpu != e.cpu || a.type != e.type || a.flags != e.flags))
		abort();
	if (k > 0 && done != (era == 0))	/* ahead: every id-era event, no path-era one */
		abort();
	free(rec);
	return 0;
}
