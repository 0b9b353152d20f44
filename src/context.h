/* context.h: the hook by which a context interrupts a blocked call
 * (semaphore.c; the network poller's waits), and the context tree's test
 * accessor. Layout and invariants: context.c.
 *
 * A watcher is a record in the blocked caller's own memory (its stack),
 * linked into the context's child list, so a wait that a context can end
 * costs no allocation and no goroutine. When the context ends, fn(w, err)
 * runs once, in the goroutine or thread that cancels, under the context's
 * lock: it must not park, yield or start goroutines, and may only take
 * locks that are never held while taking a context's lock (the waiter's
 * own spin lock, a timer's) and goc__ready the waiter. Usage:
 *
 *     goc__ctx_watch w;
 *     int err = goc__ctx_watch_start(ctx, &w, wake_me, &my_wait);
 *     if (err) return err;            // ended already: fn is never called
 *     ... queue up and park; fn (or the normal waker) readies us ...
 *     goc__ctx_watch_stop(&w);        // fn is not running and never will
 *
 * fn may run at any time between start and stop, also before the caller
 * parks: the caller's wait protocol must handle that (semaphore.c marks
 * its waiter "ended" under its own lock, and the caller checks the mark
 * under that lock before it parks).
 */
#ifndef GOC_CONTEXT_PRIV_H
#define GOC_CONTEXT_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "goc/context.h"
#include "internal.h"

/* A member of a cancellable context's child list: a derived cancellable
 * context, an AfterFunc, or a watcher. */
typedef struct goc__ctx_node {
    struct goc__ctx_node *next, *prev;
    struct goc__ctx_list *list; /* the list it was linked into (context.c); NULL: never */
    uint8_t kind;  /* NODE_* (context.c) */
    bool linked;   /* in that list; guarded by the list's lock */
} goc__ctx_node;

typedef struct goc__ctx_watch {
    goc__ctx_node node;
    void (*fn)(struct goc__ctx_watch *w, int err);
    void *arg;
    void *cc; /* the context whose list holds it; NULL: not registered */
} goc__ctx_watch;

/* Registers w on ctx. Returns 0 (registered, or ctx can never end: then
 * fn never runs and stop does nothing), or ctx's error if it has ended
 * already (not registered). Never parks. */
GOC_INTERNAL int goc__ctx_watch_start(goc_ctx *ctx, goc__ctx_watch *w,
                                      void (*fn)(goc__ctx_watch *w, int err), void *arg);
/* Unregisters w. Afterwards fn is not running and will not run. True if
 * fn had not run. Never parks. */
GOC_INTERNAL bool goc__ctx_watch_stop(goc__ctx_watch *w);

/* Tests: the number of entries in ctx's child lists (0 for a context that
 * cannot be cancelled by itself). */
GOC_INTERNAL size_t goc__ctx_nchildren(goc_ctx *ctx);
/* Tests: gives ctx one child list per worker now, as a link that finds
 * its lock held would. True if ctx has them (false: not cancellable,
 * ended, or one worker). */
GOC_INTERNAL bool goc__ctx_shard(goc_ctx *ctx);

#endif
