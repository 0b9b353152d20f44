/* goc/context.h: Go's package context: cancellation that flows down a tree
 * of contexts, deadlines, request-scoped values, AfterFunc, and the
 * context-aware forms of goc's blocking calls.
 *
 * Semantics are Go 1.21's: a context derived from a parent is cancelled
 * when its parent is (at once, if the parent already is); a deadline later
 * than the parent's is no deadline of its own (the parent's comes first);
 * the first cancel wins (its error and cause stay), later ones do nothing;
 * functions registered with goc_ctx_after_func run in their own goroutine
 * once the context ends and never delay the cancel.
 *
 * Errors are ints, as everywhere in goc: goc_ctx_err returns 0 while the
 * context lives, then -ECANCELED (Go's context.Canceled, "context
 * canceled") or -ETIMEDOUT (context.DeadlineExceeded, "context deadline
 * exceeded"); goc_ctx_err_str gives those texts. A cause (Go's
 * context.Cause) is any nonzero int the canceller chooses: a negative errno
 * value or an application code.
 *
 * Ownership. A context is reference-counted.
 *  - goc_background() and goc_todo() are static: never cancelled, never
 *    freed; retaining or releasing them does nothing.
 *  - Every goc_with_* returns a new context holding one reference, owned by
 *    the caller, together with the right to cancel it (Go's CancelFunc).
 *    The owner ends it with goc_ctx_release(ctx), Go's `defer cancel()`:
 *    it cancels the context (-ECANCELED, unless it ended already), which
 *    detaches it from its parent and stops its deadline timer, and drops
 *    the reference. Every goc_with_* result must be released once so.
 *  - goc_cancel(ctx) / goc_cancel_cause(ctx, cause) cancel without dropping
 *    anything: any goroutine holding a reference may call them, any number
 *    of times (Go's cancel() called from a worker on error).
 *  - A goroutine that must keep a context usable after its owner may have
 *    released it takes goc_ctx_retain(ctx) and gives it back with
 *    goc_ctx_unref(ctx), which never cancels. A goroutine that only uses a
 *    context while its owner is known to hold it (the owner waits for it
 *    before releasing) needs no reference of its own.
 *  - A context holds a reference to its parent, so a parent lives as long
 *    as any of its descendants (not longer: a cancelled child is no longer
 *    in its parent's child list, so a long-lived parent with any number of
 *    short-lived children released in turn does not grow).
 *  - Objects a context returns are borrowed from it: goc_ctx_done's channel
 *    and goc_ctx_value's value are valid while the caller holds a reference
 *    to the context (retain the channel to keep it longer). A value stored
 *    with goc_with_value is not copied or freed: it must outlive every
 *    context derived from it that is still used.
 *
 * Every function here may be called from any goroutine or plain thread.
 * Out of memory, the goc_with_* functions return NULL (errno ENOMEM; they
 * never park, so errno may be read right after the call).
 */
#ifndef GOC_CONTEXT_H
#define GOC_CONTEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "runtime.h"
#include "sync.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goc_ctx goc_ctx;

/* context.Background(), context.TODO(): never cancelled, no deadline, no
 * values; their done channel is NULL (Go's nil channel: never ready). */
GOC_API goc_ctx *goc_background(void);
GOC_API goc_ctx *goc_todo(void);

/* WithCancel(parent). parent NULL panics ("cannot create context from nil
 * parent"), as in Go, for every goc_with_* below. */
GOC_API goc_ctx *goc_with_cancel(goc_ctx *parent);
/* WithCancelCause(parent): the same context; cancel it with
 * goc_cancel_cause to give goc_ctx_cause a value other than -ECANCELED. */
GOC_API goc_ctx *goc_with_cancel_cause(goc_ctx *parent);
/* WithDeadline(parent, d): d is an instant on goc_now()'s clock. Ends with
 * -ETIMEDOUT at d. If the parent's deadline is earlier, this is
 * goc_with_cancel(parent) (Go's rule). A deadline already past gives a
 * context that has ended already. The _cause forms set what goc_ctx_cause
 * reports when the deadline (not a cancel) ends the context (0: -ETIMEDOUT). */
GOC_API goc_ctx *goc_with_deadline(goc_ctx *parent, int64_t deadline);
GOC_API goc_ctx *goc_with_deadline_cause(goc_ctx *parent, int64_t deadline, int cause);
/* WithTimeout(parent, d): goc_with_deadline(parent, goc_now() + d). */
GOC_API goc_ctx *goc_with_timeout(goc_ctx *parent, int64_t timeout);
GOC_API goc_ctx *goc_with_timeout_cause(goc_ctx *parent, int64_t timeout, int cause);
/* WithValue(parent, key, val): keys are compared by address (use the
 * address of a static object of your own as a key). A NULL key panics
 * ("nil key"). The context cannot be cancelled by itself (releasing it only
 * drops the reference); it ends with its parent. */
GOC_API goc_ctx *goc_with_value(goc_ctx *parent, const void *key, void *val);
/* WithoutCancel(parent): the parent's values, but never cancelled, no
 * deadline, done channel NULL, cause 0. */
GOC_API goc_ctx *goc_without_cancel(goc_ctx *parent);

/* cancel() / cancel(cause): ends ctx and every context derived from it
 * that has not ended, with -ECANCELED; cause 0 means -ECANCELED as cause.
 * Only the first cancel (or deadline) counts. When it returns, ctx and the
 * descendants it could reach have ended. Does nothing on a context that
 * cannot be cancelled by itself (Background, TODO, value and WithoutCancel
 * contexts). Never blocks (it may yield, briefly). */
GOC_API void goc_cancel(goc_ctx *ctx);
GOC_API void goc_cancel_cause(goc_ctx *ctx, int cause);

/* The owner's `defer cancel()`: goc_cancel(ctx), then drops the owner's
 * reference (the last one frees the context). NULL: nothing. */
GOC_API void goc_ctx_release(goc_ctx *ctx);
/* A reference that does not carry the right to cancel: returns ctx. */
GOC_API goc_ctx *goc_ctx_retain(goc_ctx *ctx);
/* Drops a reference taken with goc_ctx_retain; never cancels. NULL: nothing. */
GOC_API void goc_ctx_unref(goc_ctx *ctx);

/* ctx.Done(): a channel of element size 0, closed when ctx ends, for
 * goc_select (GOC_RECV_CASE(goc_ctx_done(ctx), NULL)) or goc_chan_recv.
 * NULL for a context that can never end (Background, TODO, WithoutCancel
 * and values over them): a nil channel, never ready. Created on first use;
 * borrowed from ctx. */
GOC_API goc_chan *goc_ctx_done(goc_ctx *ctx);
/* ctx.Err(): 0 while ctx lives, then -ECANCELED or -ETIMEDOUT. Once the
 * done channel is closed, this is nonzero. One atomic load; never parks. */
GOC_API int goc_ctx_err(goc_ctx *ctx);
/* Cause(ctx): 0 while ctx lives; then the cause given to the cancel that
 * ended it (inherited from the ancestor whose cancel reached it), or its
 * error if none was given. 0 for a WithoutCancel context. */
GOC_API int goc_ctx_cause(goc_ctx *ctx);
/* ctx.Deadline(): true and *deadline (goc_now()'s clock) if ctx has one. */
GOC_API bool goc_ctx_deadline(goc_ctx *ctx, int64_t *deadline);
/* ctx.Value(key): the value of the nearest goc_with_value for key, NULL if
 * none (a stored NULL also reads as NULL). Walks up the tree; never parks. */
GOC_API void *goc_ctx_value(goc_ctx *ctx, const void *key);
/* Go's error texts: "context canceled" for -ECANCELED, "context deadline
 * exceeded" for -ETIMEDOUT, "<nil>" for 0, strerror's text for other
 * negative values, "unknown error" otherwise. */
GOC_API const char *goc_ctx_err_str(int err);

/* context.AfterFunc(ctx, f): runs fn(arg) in a new goroutine once ctx ends
 * (at once if it has ended). Returns a handle (NULL with errno ENOMEM,
 * or EINVAL for a NULL fn; never parks, so errno may be read), owned
 * by the caller, who frees it with goc_ctx_after_release once done with
 * it, whether fn ran or not (releasing it does not stop fn: release it at
 * once for a fire-and-forget call). The handle keeps ctx's memory alive
 * (a reference) until released. Cheap: one small allocation and the
 * context's lock, no goroutine until ctx ends. */
typedef struct goc_ctx_after goc_ctx_after;
GOC_API goc_ctx_after *goc_ctx_after_func(goc_ctx *ctx, goc_fn fn, void *arg);
/* stop(): unhooks fn from ctx. True if this call kept fn from running;
 * false if fn has been started already (or a previous stop stopped it).
 * Does not wait for a started fn to finish. Never parks. */
GOC_API bool goc_ctx_after_stop(goc_ctx_after *h);
GOC_API void goc_ctx_after_release(goc_ctx_after *h);

/* ---- Context-aware blocking calls ----
 * Each returns as soon as ctx ends with goc_ctx_err(ctx) (-ECANCELED or
 * -ETIMEDOUT), and also fails that way, without blocking, if ctx has ended
 * already. */

/* select { case ch <- *elem: case <-ctx.Done(): }. 0 when sent. Panics on
 * a closed channel as goc_chan_send does. */
GOC_API int goc_chan_send_ctx(goc_chan *ch, const void *elem, goc_ctx *ctx);
/* select { case *out, ok = <-ch: case <-ctx.Done(): }. GOC_CHAN_OK (1)
 * with a value, GOC_CHAN_CLOSED (0) when ch is closed and drained. */
GOC_API int goc_chan_recv_ctx(goc_chan *ch, void *out, goc_ctx *ctx);
/* select { case <-time.After(d): case <-ctx.Done(): }. 0 after d. */
GOC_API int goc_sleep_ctx(int64_t d, goc_ctx *ctx);
/* semaphore.Weighted.Acquire(ctx, n): 0 when the n units are ours. On
 * failure nothing is held. Waiters stay FIFO; one that gives up lets the
 * waiters behind it go if they fit. */
GOC_API int goc_sema_acquire_ctx(goc_sema *s, int64_t n, goc_ctx *ctx);
/* sync.Mutex.Lock that ctx can end: 0 with the mutex held, or ctx's error
 * with nothing held. A waiter that gives up leaves the queue, and passes
 * on the wake-up an Unlock may have given it meanwhile. When ctx ends just
 * as the mutex is handed to the caller, the call may still return 0 (it
 * holds the mutex then: unlock it as usual). Fairness (starvation mode) as
 * goc_mutex_lock's; wait reason "sync.Mutex.Lock". */
GOC_API int goc_mutex_lock_ctx(goc_mutex *m, goc_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
