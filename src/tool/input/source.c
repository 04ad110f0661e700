/* SPDX-License-Identifier: MIT */
/*
 * source.c: source_open() reads the first bytes of the input and asks each
 * kind in turn (mmaplock file, trace.dat, text last: it accepts anything
 * and decides at the end whether it found events). The other calls only
 * dispatch to the chosen kind's ops. "-" is stdin, text only.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "source.h"

static const struct source_ops *const kinds[] = {
	&source_mml_ops,
	&source_tracedat_ops,
	&source_text_ops,		/* last: the catch-all */
};

struct source *source_open(const char *path, struct mml_meta *meta, char *err, size_t errlen)
{
	unsigned char head[512];
	ssize_t len = 0;
	const struct source_ops *ops = NULL;
	struct source *s;

	if (strcmp(path, "-")) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		len = read(fd, head, sizeof(head));
		close(fd);
		if (len < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return NULL;
		}
		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !ops; i++)
			if (kinds[i]->probe && kinds[i]->probe(head, (size_t)len))
				ops = kinds[i];
	}
	if (!ops)
		ops = &source_text_ops;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	s->ops = ops;
	s->meta = meta;
	s->origin = MML_SOURCE_KERNEL;
	if (ops->open(s, path)) {
		snprintf(err, errlen, "%s", s->err[0] ? s->err : "cannot open input");
		if (ops->close)
			ops->close(s);
		free(s);
		return NULL;
	}
	return s;
}

long source_next(struct source *s, struct mml_event *ev, size_t max)
{
	return s->ops->next(s, ev, max);
}

const char *source_error(const struct source *s)
{
	return s->err[0] ? s->err : "unknown error";
}

void source_close(struct source *s)
{
	if (!s)
		return;
	if (s->ops->close)
		s->ops->close(s);
	free(s);
}

int source_damage_note(const struct source *s, const char *prog, const char *path)
{
	if (!s->damaged_blocks && !s->truncated)
		return 0;
	if (!s->damaged_blocks)
		fprintf(stderr, "%s: %s: truncated (not closed by its writer); the output covers "
			"what it holds\n", prog, path);
	else
		fprintf(stderr, "%s: %s: %s%" PRIu64 " damaged block%s (%" PRIu64 " bytes) skipped; "
			"the output covers the rest\n", prog, path, s->truncated ? "truncated, " : "",
			s->damaged_blocks, s->damaged_blocks == 1 ? "" : "s", s->damaged_bytes);
	return 1;
}

int source_is_trace(const char *path)
{
	unsigned char head[512];
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return 0;
	len = read(fd, head, sizeof(head));
	close(fd);
	return len > 0 && (source_mml_ops.probe(head, (size_t)len) ||
			   source_tracedat_ops.probe(head, (size_t)len));
}
