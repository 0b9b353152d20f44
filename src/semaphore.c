/* semaphore.c: golang.org/x/sync/semaphore.Weighted.
 *
 * size units exist; cur of them are held (0 <= cur <= size, except that a
 * waiter's request is granted only when size - cur covers it). Waiters
 * queue in arrival order, each a record on its own stack holding its
 * request n. Invariant: the queue is empty, or its head's request does not
 * fit in size - cur: Acquire takes units directly only when nobody waits,
 * and Release grants units to waiters from the head for as long as the
 * head fits. So a large request at the head holds back every later small
 * one until it is served (no starvation), as x/sync does.
 *
 * lock (a runtime spin lock) guards cur and the queue. A waiter parks with
 * lock held; the park's unlock function drops it once the waiter's context
 * is saved. A granted waiter is unlinked and has its units counted in cur
 * under lock, and is readied after lock is dropped; its record is not
 * touched after that.
 *
 * Happens-before, for TSan (this file is not instrumented): a Release
 * publishes on the semaphore before it frees units; an Acquire that takes
 * units acquires on it (a woken waiter also through goc__ready).
 */
#include <errno.h>
#include <stdlib.h>

#include "goc/sync.h"
#include "internal.h"
#include "race.h"

typedef struct sema_waiter {
    goc_g *g;
    int64_t n;
    struct sema_waiter *next;
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

int goc_sema_acquire(goc_sema *s, int64_t n)
{
    if (n < 0)
        return -EINVAL;
    goc__spin_lock(slock(s));
    if (s->size - s->cur >= n && !s->head) {
        s->cur += n;
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
    sema_waiter w = {goc__getg(), n, NULL};
    if (s->tail)
        ((sema_waiter *)s->tail)->next = &w;
    else
        s->head = &w;
    s->tail = &w;
    goc__park(unlock_sema, slock(s), "semacquire");
    goc__race_acquire(s);
    return 0;
}

bool goc_sema_try_acquire(goc_sema *s, int64_t n)
{
    if (n < 0)
        return false;
    goc__spin_lock(slock(s));
    bool ok = s->size - s->cur >= n && !s->head;
    if (ok)
        s->cur += n;
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
    /* Grant from the head while the head fits; stop at the first that
     * does not, so that it is not starved by smaller ones behind it. */
    sema_waiter *wake = NULL, **tailp = &wake;
    sema_waiter *w;
    while ((w = s->head) && s->size - s->cur >= w->n) {
        s->cur += w->n;
        s->head = w->next;
        if (!s->head)
            s->tail = NULL;
        *tailp = w;
        tailp = &w->next;
    }
    *tailp = NULL;
    goc__spin_unlock(slock(s));
    while (wake) {
        sema_waiter *next = wake->next;
        goc__ready(wake->g);
        wake = next;
    }
}
