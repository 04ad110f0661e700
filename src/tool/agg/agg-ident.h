/* SPDX-License-Identifier: MIT */
/*
 * agg-ident.h: groups by container, pod or systemd unit (report --by
 * container|pod|unit, top --by ...). The pairing aggregates by memcg as
 * always; agg_regroup() then folds the memcg groups into one group per
 * identity (container.h) at the level asked for. A memcg outside any
 * container, pod or unit (at that level) stays a group of its own, named
 * by its path. Folding after the run, not per interval, because a text
 * trace's memcg paths are known only at its end (cgroupfs_name_now).
 */
#ifndef MML_AGG_IDENT_H
#define MML_AGG_IDENT_H

#include "agg.h"
#include "container.h"

struct ctr_pods;

/* 1 for AGG_BY_CONTAINER, AGG_BY_POD, AGG_BY_UNIT. */
int agg_by_identity(enum agg_by by);

/*
 * Fold the groups of src (by memcg) into dst, initialised with agg_init()
 * for one of the identity groupings; pods (or NULL) names pods. dst's
 * group keys are indexes into its identity table. 0, or -1 out of memory.
 */
int agg_regroup(struct agg *dst, const struct agg *src, struct ctr_pods *pods);

/*
 * The key in dst (folded from src by agg_regroup) of src's memcg group g:
 * which identity group g went into. -1 when not folded there.
 */
long agg_regroup_key(const struct agg *dst, const struct agg *src, const struct agg_group *g,
		     struct ctr_pods *pods);

/*
 * The identity of group g: the group's own for the identity groupings, the
 * memcg's (parsed from its path, named through pods) for AGG_BY_MEMCG.
 * Returns 1 with *id filled when its kind is known, else 0.
 */
int agg_group_ident(const struct agg *a, const struct agg_group *g, struct ctr_pods *pods,
		    struct ctr_id *id);

/* The display name of an identity group (agg_group_name's, for these groupings). */
const char *agg_ident_name(const struct agg *a, const struct agg_group *g);

/* Free the identity table of a (agg_fini calls it). */
void agg_idents_free(struct agg *a);

#endif
