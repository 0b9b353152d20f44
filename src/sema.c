/* sema.c: the runtime's wait queues: a counting semaphore with a FIFO of
 * waiters (Go's semacquire/semrelease) and a one-shot note.
 *
 * goc__waitq (declared in goc/sync.h so sync objects can embed it):
 *   lock   a goc_spinlock guarding count, head and tail;
 *   count  units available; never > 0 while waiters are queued, because a
 *          release hands its units to queued waiters first;
 *   head, tail  the waiting Gs, linked through schedlink, oldest first.
 * A waiter enqueues itself under the lock and parks; the lock is released
 * by the park's unlock function, after the waiter's context is saved, so a
 * releaser never readies a G that is still running. Wake-ups happen after
 * the lock is dropped. A woken waiter owns the unit it waited for (Go's
 * ticket handoff, always): it never competes for it again.
 *
 * Variants Go's sync.Mutex needs (semacquire1/semrelease1): a waiter that
 * has waited before queues at the head (lifo), so a woken-then-beaten
 * waiter keeps its place; a handoff release yields the releaser's P to the
 * waiter it woke, so that waiter runs at once (starvation mode).
 *
 * A context-aware acquire (goc__semacquire_ctx, for goc_mutex_lock_ctx)
 * registers a watcher (context.h) before it takes the lock; the watcher's
 * function runs under the context's lock and takes the queue's lock (never
 * the other way round). Under the queue's lock, exactly one of two things
 * ends a queued wait: a release pops the waiter (it owns a unit), or the
 * watcher finds it still in the queue and unlinks it (it owns nothing). A
 * watcher that runs before the waiter has queued marks its record, and the
 * waiter, checking the mark under the lock, does not queue. A waiter that
 * takes a free unit instead marks its record owned under the same lock, so
 * that a watcher running after that (it can, until the watch is stopped)
 * leaves it alone.
 *
 * A note is a word: 0 (not yet), 1 (done), or the parked waiter's G.
 */
#include "context.h"
#include "internal.h"
#include "race.h"

static goc_spinlock *qlock(goc__waitq *q) { return (goc_spinlock *)&q->lock; }

static bool unlock_waitq(goc_g *g, void *arg)
{
    (void)g;
    goc__spin_unlock(qlock(arg));
    return true;
}

/* Lock held. */
static void enqueue(goc__waitq *q, goc_g *g, bool lifo)
{
    if (lifo) {
        g->schedlink = q->head;
        q->head = g;
        if (!q->tail)
            q->tail = g;
    } else {
        g->schedlink = NULL;
        if (q->tail)
            ((goc_g *)q->tail)->schedlink = g;
        else
            q->head = g;
        q->tail = g;
    }
}

/* Lock held: takes a unit if one is free. */
static bool take_unit(goc__waitq *q)
{
    if (q->count == 0)
        return false;
    q->count--;
    return true;
}

void goc__semacquire1(goc__waitq *q, bool lifo, const char *reason)
{
    goc__spin_lock(qlock(q));
    if (take_unit(q)) {
        goc__spin_unlock(qlock(q));
        goc__race_acquire(q);
        return;
    }
    enqueue(q, goc__getg(), lifo);
    goc__park(unlock_waitq, q, reason);
}

/* ---- The context-aware acquire ---- */

/* A record's state, guarded by the queue's lock: CW_INIT (neither queued
 * nor ended), CW_QUEUED (in the queue, or popped by a release: then it owns
 * a unit), CW_OWNED (took a free unit without queueing), CW_CANCELLED (the
 * watcher ended the wait; owns nothing). */
enum { CW_INIT, CW_QUEUED, CW_OWNED, CW_CANCELLED };

typedef struct ctx_waiter {
    goc__waitq *q;
    goc_g *g;
    int state; /* CW_* */
    int err;   /* CW_CANCELLED: the context's error */
} ctx_waiter;

/* Lock held: unlinks g if it is queued; true if it was. */
static bool unlink_g(goc__waitq *q, goc_g *g)
{
    goc_g *prev = NULL;
    for (goc_g *it = q->head; it; prev = it, it = it->schedlink) {
        if (it != g)
            continue;
        if (prev)
            prev->schedlink = g->schedlink;
        else
            q->head = g->schedlink;
        if (q->tail == g)
            q->tail = prev;
        return true;
    }
    return false;
}

/* Under the context's lock. A waiter that took a free unit or that a
 * release has popped already owns its unit: it is left alone. */
static void ctx_fire(goc__ctx_watch *watch, int err)
{
    ctx_waiter *w = watch->arg;
    goc_g *wake = NULL;
    goc__spin_lock(qlock(w->q));
    if (w->state == CW_INIT || (w->state == CW_QUEUED && unlink_g(w->q, w->g))) {
        if (w->state == CW_QUEUED)
            wake = w->g;
        w->state = CW_CANCELLED;
        w->err = err;
    }
    goc__spin_unlock(qlock(w->q));
    if (wake)
        goc__ready(wake); /* the last touch of w */
}

int goc__semacquire_ctx(goc__waitq *q, bool lifo, const char *reason, goc_ctx *ctx)
{
    ctx_waiter w = {.q = q, .g = goc__getg(), .state = CW_INIT};
    goc__ctx_watch watch;
    int err = goc__ctx_watch_start(ctx, &watch, ctx_fire, &w);
    if (err)
        return err;
    goc__spin_lock(qlock(q));
    if (w.state == CW_CANCELLED) {
        goc__spin_unlock(qlock(q));
    } else if (take_unit(q)) {
        /* The watcher may still run before the watch stops: without the
         * mark it would take this wait for unqueued and end it, and the
         * unit we hold would be lost (a mutex waiter left asleep). */
        w.state = CW_OWNED;
        goc__spin_unlock(qlock(q));
        goc__race_acquire(q);
    } else {
        w.state = CW_QUEUED;
        enqueue(q, w.g, lifo);
        goc__park(unlock_waitq, q, reason);
    }
    goc__ctx_watch_stop(&watch); /* waits out a fire in progress */
    return w.state == CW_CANCELLED ? w.err : 0;
}

void goc__semacquire(goc__waitq *q, const char *reason) { goc__semacquire1(q, false, reason); }

uint32_t goc__semrelease(goc__waitq *q, uint32_t n)
{
    goc__race_release(q);
    goc_g *wake = NULL, **tailp = &wake;
    goc__spin_lock(qlock(q));
    while (n > 0 && q->head) {
        goc_g *g = q->head;
        q->head = g->schedlink;
        if (!q->head)
            q->tail = NULL;
        *tailp = g;
        tailp = &g->schedlink;
        n--;
    }
    *tailp = NULL;
    q->count += n;
    goc__spin_unlock(qlock(q));
    uint32_t woke = 0;
    goc_p *burst = goc__ready_burst_begin();
    while (wake) {
        goc_g *g = wake;
        wake = g->schedlink;
        goc__ready(g);
        woke++;
    }
    goc__ready_burst_end(burst);
    return woke;
}

void goc__semrelease1(goc__waitq *q, uint32_t n, bool handoff)
{
    /* A woken waiter sits in our runnext slot: let it run now (Go's goyield). */
    if (goc__semrelease(q, n) && handoff && goc__getp())
        goc_yield();
}

static bool unlock_note(goc_g *g, void *arg)
{
    goc_note *n = arg;
    uintptr_t expect = 0;
    return atomic_compare_exchange_strong_explicit(&n->state, &expect, (uintptr_t)g,
                                                   memory_order_acq_rel, memory_order_acquire);
}

void goc__note_wait(goc_note *n, const char *reason)
{
    if (atomic_load_explicit(&n->state, memory_order_acquire) == 1)
        return;
    goc__park(unlock_note, n, reason);
}

void goc__note_wakeup(goc_note *n)
{
    uintptr_t old = atomic_exchange_explicit(&n->state, 1, memory_order_acq_rel);
    if (old > 1)
        goc__ready((goc_g *)old);
}
