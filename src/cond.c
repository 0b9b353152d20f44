/* cond.c: sync.Cond, with the runtime's notify list as Go builds it
 * (sync/cond.go, runtime/sema.go: notifyList).
 *
 * A waiter takes a ticket (wait++) while it still holds L, then unlocks L
 * and waits for its ticket to be called. notify is the ticket of the next
 * waiter to wake: every ticket below it has been signalled. So
 *   notify <= wait (in wrap-around order), and wait - notify waiters are
 *   owed a wake-up;
 *   head..tail lists the waiters that have parked (or are parking), each a
 *   record on its own stack, by ticket; a waiter that took its ticket but
 *   has not yet reached the list finds notify past it and returns at once.
 * nlock (a runtime spin lock) guards head, tail and changes of notify; wait
 * is advanced atomically without it. A waiter parks with nlock held, and
 * the park's unlock function drops it once the waiter's context is saved,
 * so a signaller never readies a goroutine that is still running. Wake-ups
 * happen after nlock is dropped; a record is not touched once its
 * goroutine is readied.
 *
 * Signal wakes the waiter holding ticket notify (FIFO); Broadcast wakes
 * every parked waiter and moves notify up to wait.
 *
 * Happens-before: L orders the condition's data, as in Go; goc__ready also
 * publishes from the signaller to the woken waiter.
 */
#include "goc/sync.h"
#include "internal.h"

typedef struct cond_waiter {
    goc_g *g;
    uint32_t ticket;
    struct cond_waiter *next;
} cond_waiter;

static goc_spinlock *nlock(goc_cond *c) { return (goc_spinlock *)&c->nlock; }

/* Ticket a is before ticket b, tickets wrapping around. */
static bool ticket_less(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }

void goc_cond_init(goc_cond *c, goc_mutex *L) { *c = (goc_cond)GOC_COND_INIT(L); }

void goc_cond_init_locker(goc_cond *c, void (*lock)(void *), void (*unlock)(void *), void *locker)
{
    *c = (goc_cond)GOC_COND_INIT(NULL);
    c->lock = lock;
    c->unlock = unlock;
    c->locker = locker;
}

static bool unlock_nlock(goc_g *g, void *arg)
{
    (void)g;
    goc__spin_unlock(arg);
    return true;
}

static void notify_wait(goc_cond *c, uint32_t t)
{
    goc__spin_lock(nlock(c));
    /* Signalled (or broadcast) since we took the ticket? */
    if (ticket_less(t, __atomic_load_n(&c->notify, __ATOMIC_RELAXED))) {
        goc__spin_unlock(nlock(c));
        return;
    }
    cond_waiter w = {goc__getg(), t, NULL};
    if (c->tail)
        ((cond_waiter *)c->tail)->next = &w;
    else
        c->head = &w;
    c->tail = &w;
    goc__park(unlock_nlock, nlock(c), "sync.Cond.Wait");
}

void goc_cond_wait(goc_cond *c)
{
    uint32_t t = __atomic_fetch_add(&c->wait, 1, __ATOMIC_ACQ_REL);
    GOC_CHAOS_POINT(); /* a signal may take our ticket before we queue */
    if (c->L)
        goc_mutex_unlock(c->L);
    else
        c->unlock(c->locker);
    notify_wait(c, t);
    if (c->L)
        goc_mutex_lock(c->L);
    else
        c->lock(c->locker);
}

void goc_cond_signal(goc_cond *c)
{
    /* Fast path: nobody waiting since the last notification. */
    if (__atomic_load_n(&c->wait, __ATOMIC_ACQUIRE) == __atomic_load_n(&c->notify, __ATOMIC_ACQUIRE))
        return;
    goc__spin_lock(nlock(c));
    uint32_t t = c->notify;
    if (t == __atomic_load_n(&c->wait, __ATOMIC_ACQUIRE)) {
        goc__spin_unlock(nlock(c));
        return;
    }
    __atomic_store_n(&c->notify, t + 1, __ATOMIC_RELEASE);
    /* Find the waiter with ticket t; it may not have queued yet, in which
     * case it will see notify past its ticket and not park. */
    for (cond_waiter *prev = NULL, *w = c->head; w; prev = w, w = w->next) {
        if (w->ticket != t)
            continue;
        if (prev)
            prev->next = w->next;
        else
            c->head = w->next;
        if (!w->next)
            c->tail = prev;
        goc__spin_unlock(nlock(c));
        goc__ready(w->g);
        return;
    }
    goc__spin_unlock(nlock(c));
}

void goc_cond_broadcast(goc_cond *c)
{
    if (__atomic_load_n(&c->wait, __ATOMIC_ACQUIRE) == __atomic_load_n(&c->notify, __ATOMIC_ACQUIRE))
        return;
    goc__spin_lock(nlock(c));
    cond_waiter *w = c->head;
    c->head = c->tail = NULL;
    __atomic_store_n(&c->notify, __atomic_load_n(&c->wait, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
    goc__spin_unlock(nlock(c));
    goc_p *burst = goc__ready_burst_begin();
    while (w) {
        cond_waiter *next = w->next;
        goc__ready(w->g);
        w = next;
    }
    goc__ready_burst_end(burst);
}
