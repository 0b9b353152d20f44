/* goc/errgroup.h: golang.org/x/sync/errgroup: a group of goroutines
 * working on subtasks of one task, with the first error kept, an optional
 * context cancelled by that error, and an optional limit on the goroutines
 * active at once.
 *
 * A subtask is int fn(void *arg): 0 is success, anything else (a negative
 * errno value, an application code) an error.
 *
 * A goc_errgroup is a plain struct owned by the caller. A zero group
 * (GOC_ERRGROUP_INIT, or zeroed memory) is ready: no limit, no context,
 * and it needs no destruction. goc_errgroup_with_context sets one up with
 * a context; the group keeps its own reference to that context until
 * goc_errgroup_wait returns (so call wait: it is the group's `defer`).
 * A group must not be copied once used, and its wait must have returned
 * before its memory goes.
 */
#ifndef GOC_ERRGROUP_H
#define GOC_ERRGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "context.h"
#include "sync.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int (*goc_errgroup_fn)(void *arg);

typedef struct goc_errgroup {
    goc_waitgroup wg;
    goc_sema sem;       /* the limit, when limited */
    bool limited;
    uint32_t err_once;  /* set by the first error */
    int err;            /* the first error */
    goc_ctx *ctx;       /* the group's reference to its context, until wait */
} goc_errgroup;

#define GOC_ERRGROUP_INIT {GOC_WAITGROUP_INIT, GOC_SEMA_INIT(0), false, 0, 0, NULL}

GOC_API void goc_errgroup_init(goc_errgroup *g);
/* WithContext(parent): sets g up (as goc_errgroup_init) with a new context
 * derived from parent, and returns it: a reference the caller owns and
 * releases (goc_ctx_release) once done with it, after goc_errgroup_wait.
 * The context is cancelled, with the error as its cause, by the first
 * subtask to fail, and (cause -ECANCELED) when wait returns. NULL (errno
 * ENOMEM) out of memory. */
GOC_API goc_ctx *goc_errgroup_with_context(goc_errgroup *g, goc_ctx *parent);
/* Go(f): runs fn(arg) in a new goroutine; parks first while the limit is
 * reached (FIFO). A goroutine that cannot be started counts as a subtask
 * that failed with -ENOMEM / -EAGAIN. */
GOC_API void goc_errgroup_go(goc_errgroup *g, goc_errgroup_fn fn, void *arg);
/* TryGo(f): as go, but only if the limit is not reached; true if started
 * (or if it failed to start, which then counts as an error, as in go). */
GOC_API bool goc_errgroup_try_go(goc_errgroup *g, goc_errgroup_fn fn, void *arg);
/* SetLimit(n): at most n subtasks active at once; n < 0: no limit. Panics,
 * as errgroup does, when subtasks are active and a limit is set:
 * "errgroup: modify limit while N goroutines in the group are still
 * active". */
GOC_API void goc_errgroup_set_limit(goc_errgroup *g, int n);
/* Wait(): parks until every subtask started so far has returned; returns
 * the first error (0 if none). Cancels the group's context and drops the
 * group's reference to it. */
GOC_API int goc_errgroup_wait(goc_errgroup *g);

#ifdef __cplusplus
}
#endif
#endif
