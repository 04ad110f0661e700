/* SPDX-License-Identifier: MIT */
/*
 * ksym.h: kernel addresses -> symbols, from /proc/kallsyms, read once (at
 * record time: a module may be gone by the time a report is made).
 */
#ifndef MML_KSYM_H
#define MML_KSYM_H

#include <stddef.h>
#include <stdint.h>

struct ksyms;

/*
 * Load the text symbols of path (NULL: /proc/kallsyms). Returns NULL with
 * errno set: ENOENT (no file), ENODATA (no symbol has an address: the
 * kernel hides them, kptr_restrict), ENOMEM.
 */
struct ksyms *ksyms_load(const char *path);
void ksyms_free(struct ksyms *k);		/* NULL is fine */
size_t ksyms_count(const struct ksyms *k);

/*
 * Format addr as the kernel's %pS does: "func+0x1a/0x80", with " [module]"
 * for a module's symbol, or "0xffffffff81234567" when no symbol covers it
 * (or k is NULL). Returns buf.
 */
const char *ksyms_name(const struct ksyms *k, uint64_t addr, char *buf, size_t len);

#endif
