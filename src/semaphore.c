/* semaphore.c: golang.org/x/sync/semaphore.Weighted, with acquires that a
 * deadline or a context can end.
 *
 * size units exist; cur of them are held (0 <= cur <= size, except that a
 * waiter's request is granted only when size - cur covers it). Waiters
 * queue in arrival order, each a record on its own stack holding its
 * request n. Invariant: the queue is empty, or its head's request does not
 * fit in size - cur: Acquire takes units directly only when nobody waits,
 * and every change that can make the head fit (a release, a waiter that
 * leaves the queue) grants units to waiters from the head for as long as
 * the head fits. So a large request at the head holds back every later
 * small one until it is served (no starvation), as x/sync does.
 *
 * lock (a runtime spin lock) guards cur, the queue and every waiter's
 * state. A waiter parks with lock held; the park's unlock function drops
 * it once the waiter's context is saved. A waiter's state goes
 *   W_INIT -> W_QUEUED (in the queue) or W_PARKED (a request larger than
 *   the size: parked outside the queue, waiting for its deadline or
 *   context only) -> W_DONE (with its result),
 * or W_INIT -> W_DONE directly when its deadline or context ends before
 * it parks (it then does not park). Whoever moves it to W_DONE from
 * W_QUEUED or W_PARKED readies it, after dropping lock; its record is not
 * touched after that. A deadline is an embedded runtime timer whose fire
 * function (on a P's g0) takes lock; a context ends the wait through a
 * watcher (context.h) whose function runs under the context's lock and
 * takes lock: so lock is never held while taking a context's lock (the
 * watcher is registered before lock is taken). After waking, the waiter
 * stops its timer and its watcher, which wait out a fire in progress.
 *
 * Happens-before, for TSan (this file is not instrumented): a Release
 * publishes on the semaphore before it frees units; an Acquire that takes
 * units acquires on it (a woken waiter also through goc__ready).
 */
#include <errno.h>
#include <stdlib.h>

#include "context.h"
#include "goc/sync.h"
#include "internal.h"
#include "race.h"

enum { W_INIT, W_QUEUED, W_PARKED, W_DONE };

typedef struct sema_waiter {
    goc_g *g;
    int64_t n;
    struct sema_waiter *next, *prev;
    goc_sema *s;
    int state;  /* W_* */
    int result; /* W_DONE: 0 (granted) or the error */
    goc__tmr tmr;
    goc__ctx_watch watch;
} sema_waiter;

static goc_spinlock *slock(goc_sema *s) { return (goc_spinlock *)&s->lock; }

void goc_sema_init(goc_sema *s, int64_t n) { *s = (goc_sema)GOC_SEMA_INIT(n); }

goc_sema *goc_sema_new(int64_t n)
{
    goc_sema *s = malloc(sizeof *s);
    if (s)
        goc_sema_init(s, n);
    return s;
}

void goc_sema_free(goc_sema *s) { free(s); }

static bool unlock_sema(goc_g *g, void *arg)
{
    (void)g;
    goc__spin_unlock(arg);
    return true;
}

/* ---- The queue (lock held) ---- */

static void enqueue(goc_sema *s, sema_waiter *w)
{
    w->next = NULL;
    w->prev = s->tail;
    if (s->tail)
        ((sema_waiter *)s->tail)->next = w;
    else
        s->head = w;
    s->tail = w;
}

static void unlink_waiter(goc_sema *s, sema_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        s->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        s->tail = w->prev;
}

/* Grants units to waiters from the head while the head fits; returns them
 * linked through next, to be readied after lock is dropped. Stops at the
 * first that does not fit, so that it is not starved by smaller ones. */
static sema_waiter *grant_locked(goc_sema *s)
{
    sema_waiter *wake = NULL, **tailp = &wake, *w;
    while ((w = s->head) && s->size - s->cur >= w->n) {
        s->cur += w->n;
        unlink_waiter(s, w);
        w->state = W_DONE;
        w->result = 0;
        *tailp = w;
        tailp = &w->next;
    }
    *tailp = NULL;
    return wake;
}

static void ready_all(sema_waiter *wake)
{
    while (wake) {
        sema_waiter *next = wake->next;
        goc__ready(wake->g);
        wake = next;
    }
}

/* ---- Ending a wait early ---- */

/* The deadline or the context ended w's wait with err. Returns w's G if it
 * is parked and must be readied (by the caller, as the last touch of w). */
static goc_g *end_wait(sema_waiter *w, int err)
{
    goc_sema *s = w->s;
    goc_g *g = NULL;
    sema_waiter *wake = NULL;
    goc__spin_lock(slock(s));
    switch (w->state) {
    case W_QUEUED:
        unlink_waiter(s, w);
        wake = grant_locked(s); /* it may have held back the ones behind it */
        /* fall through */
    case W_PARKED:
        g = w->g;
        /* fall through */
    case W_INIT:
        w->state = W_DONE;
        w->result = err;
        break;
    default: /* granted already */
        break;
    }
    goc__spin_unlock(slock(s));
    ready_all(wake);
    return g;
}

/* On a P's g0, w->tmr.lock held. */
static goc_g *deadline_fire(goc__tmr *t, int64_t now)
{
    (void)now;
    return end_wait(GOC__CONTAINER(t, sema_waiter, tmr), -ETIMEDOUT);
}

/* Under the context's lock. */
static void ctx_fire(goc__ctx_watch *watch, int err)
{
    goc_g *g = end_wait(watch->arg, err);
    if (g)
        goc__ready(g);
}

/* ---- Acquire ---- */

static bool take_locked(goc_sema *s, int64_t n)
{
    if (s->size - s->cur >= n && !s->head) {
        s->cur += n;
        return true;
    }
    return false;
}

/* The slow path: waits until the units are granted, deadline passes
 * (INT64_MAX: never) or ctx ends (NULL: never). */
static int acquire_wait(goc_sema *s, int64_t n, int64_t deadline, goc_ctx *ctx)
{
    sema_waiter w = {.g = goc__getg(), .n = n, .s = s, .state = W_INIT};
    if (ctx) {
        int err = goc__ctx_watch_start(ctx, &w.watch, ctx_fire, &w);
        if (err)
            return err;
    }
    if (deadline != INT64_MAX) {
        w.tmr = (goc__tmr){.lock = GOC_SPINLOCK_INIT, .fire = deadline_fire, .idx = -1};
        goc__tmr_start(&w.tmr, deadline);
    }
    goc__spin_lock(slock(s));
    if (w.state == W_DONE) { /* ended before we queued */
        goc__spin_unlock(slock(s));
    } else if (take_locked(s, n)) {
        w.state = W_DONE;
        w.result = 0;
        goc__spin_unlock(slock(s));
    } else {
        if (n > s->size) {
            /* Can never be granted: wait for the deadline or the context
             * only, without holding back the queue (x/sync's rule). */
            w.state = W_PARKED;
        } else {
            w.state = W_QUEUED;
            enqueue(s, &w);
        }
        goc__park(unlock_sema, slock(s), "semacquire");
    }
    if (deadline != INT64_MAX)
        goc__tmr_stop_sync(&w.tmr);
    if (ctx)
        goc__ctx_watch_stop(&w.watch);
    if (w.result == 0)
        goc__race_acquire(s);
    return w.result;
}

int goc_sema_acquire(goc_sema *s, int64_t n)
{
    if (n < 0)
        return -EINVAL;
    goc__spin_lock(slock(s));
    if (take_locked(s, n)) {
        goc__spin_unlock(slock(s));
        goc__race_acquire(s);
        return 0;
    }
    if (n > s->size) {
        /* Can never be satisfied: x/sync waits for the context, which
         * here is never done. Deadlock detection sees this wait. */
        goc__park(unlock_sema, slock(s), "semacquire");
        goc__fatal("semaphore: impossible acquire woken");
    }
    sema_waiter w = {.g = goc__getg(), .n = n, .s = s, .state = W_QUEUED};
    enqueue(s, &w);
    goc__park(unlock_sema, slock(s), "semacquire");
    goc__race_acquire(s);
    return 0;
}

int goc_sema_acquire_deadline(goc_sema *s, int64_t n, int64_t deadline)
{
    if (n < 0)
        return -EINVAL;
    if (goc_sema_try_acquire(s, n))
        return 0;
    if (deadline <= goc__nanotime())
        return -ETIMEDOUT;
    goc__sched_start();
    return acquire_wait(s, n, deadline, NULL);
}

int goc_sema_acquire_ctx(goc_sema *s, int64_t n, goc_ctx *ctx)
{
    if (n < 0)
        return -EINVAL;
    /* A context that has ended fails the call even if the units are free:
     * its end happened before the call (x/sync's rule). */
    int err = goc_ctx_err(ctx);
    if (err)
        return err;
    if (goc_sema_try_acquire(s, n))
        return 0;
    err = acquire_wait(s, n, INT64_MAX, ctx); /* a deadline of ctx ends ctx */
    if (err == 0 && (err = goc_ctx_err(ctx))) {
        /* Granted as ctx ended: prefer the failure, as x/sync does. */
        goc_sema_release(s, n);
    }
    return err;
}

bool goc_sema_try_acquire(goc_sema *s, int64_t n)
{
    if (n < 0)
        return false;
    goc__spin_lock(slock(s));
    bool ok = take_locked(s, n);
    goc__spin_unlock(slock(s));
    if (ok)
        goc__race_acquire(s);
    return ok;
}

void goc_sema_release(goc_sema *s, int64_t n)
{
    goc__race_release(s);
    goc__spin_lock(slock(s));
    s->cur -= n;
    if (s->cur < 0) {
        goc__spin_unlock(slock(s));
        goc_panic("semaphore: released more than held");
    }
    sema_waiter *wake = grant_locked(s);
    goc__spin_unlock(slock(s));
    ready_all(wake);
}
