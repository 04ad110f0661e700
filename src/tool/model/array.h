/* SPDX-License-Identifier: MIT */
/*
 * array.h: the one way the tool grows an array it appends to (rows of top,
 * the queues of the time merge, the stack queue, symbol tables, spans).
 *
 *	struct row *rows; size_t nrows, cap;
 *	if (ARRAY_RESERVE(rows, cap, nrows + 1, 64) < 0)
 *		return -1;			(errno ENOMEM, rows unchanged)
 *	rows[nrows++] = r;
 *
 * The capacity starts at FIRST and doubles until it holds NEED elements, so
 * appending n elements costs O(n) copies in all. A macro only to take the
 * array's element size and its address from one expression; the work is a
 * function. The check that usually succeeds stays inline: merge_slot() runs
 * once per event of a merged input.
 */
#ifndef MML_ARRAY_H
#define MML_ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * array_grow(): make the array whose pointer is at ARRP (a T **, passed as
 * void * so one function serves every T) hold NEED elements of ELEM bytes.
 * Returns 0, or -1 with errno ENOMEM and the array and *CAP untouched.
 */
static inline int array_grow(void *arrp, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t nc = *cap ? *cap : first;
	void *arr, *n;

	while (nc < need) {
		if (nc > SIZE_MAX / 2)
			goto nomem;
		nc *= 2;
	}
	if (nc > SIZE_MAX / elem)
		goto nomem;
	/* memcpy, not a cast to void **: the pointer's own type is T * */
	memcpy(&arr, arrp, sizeof(arr));
	n = realloc(arr, nc * elem);
	if (!n)
		goto nomem;
	memcpy(arrp, &n, sizeof(n));
	*cap = nc;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

/* Room for NEED elements in ARR (a T * lvalue) of capacity CAP (a size_t lvalue). */
#define ARRAY_RESERVE(arr, cap, need, first)                                                \
	((size_t)(need) <= (cap) ? 0 : array_grow(&(arr), &(cap), (need), sizeof(*(arr)), (first)))

#endif
