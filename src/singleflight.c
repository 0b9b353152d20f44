/* singleflight.c: golang.org/x/sync/singleflight.
 *
 * g->calls is a keytab of the flights in progress, guarded by g->lock (a
 * runtime spin lock: every section is short and never parks). A flight
 * (struct call) is in the table from its start until it completes or is
 * forgotten (in_map). Only while it is in the table can callers join it,
 * so once the leader has taken it out (under lock) its dups count, its
 * waiter list and its channel list are final.
 *
 * A do-duplicate waits as Go's WaitGroup.Wait would, but on the call's
 * own list, which is lock-free: c->waiters is a stack of records on the
 * waiters' stacks, or WAITERS_DONE once the leader has taken it. A
 * duplicate joins under the group's lock (dups, and a reference on the
 * call), drops the lock, and parks; the park's unlock function, which runs
 * once the duplicate's context is saved, pushes its record with a CAS, so
 * the leader can never ready it before it has parked. (The lock is not
 * held across the switch, which is what a caller on another worker would
 * otherwise wait for.) The leader stores the result in the call, takes the
 * list with an exchange that leaves WAITERS_DONE, copies the result into
 * each record and readies its goroutine, reading each record's link before
 * readying it (the record is gone once its goroutine runs). A duplicate
 * whose push finds WAITERS_DONE does not park: it reads the result from
 * the call. do_chan callers get the result by value in their channel.
 *
 * Lifetime of a call: references (refs) held by its leader and by each
 * do-duplicate that joined it. A duplicate whose record the leader took
 * hands its reference to the leader, which drops them with its own; one
 * that found WAITERS_DONE drops its own after reading the result. The last
 * drop frees the call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "goc/singleflight.h"
#include "internal.h"
#include "keytab.h"
#include "race.h"

typedef struct waiter {
    goc_g *g;
    struct waiter *next;
    struct call *c;
    void *val; /* the result, copied in by the leader */
    int err;
} waiter;

/* c->waiters once the leader has taken the list. */
#define WAITERS_DONE ((waiter *)1)

typedef struct call {
    goc__kentry e;
    size_t dups;          /* callers that joined */
    waiter *_Atomic waiters; /* do-duplicates, parked; WAITERS_DONE (above) */
    _Atomic int32_t refs; /* the leader's and the do-duplicates' (above) */
    void *val;            /* the result, set before waiters becomes WAITERS_DONE */
    int err;
    goc_chan **chans;     /* do_chan callers' channels (references) */
    size_t nchans, capchans;
    bool in_map;
    goc_singleflight *g;  /* do_chan's leader goroutine: */
    goc_singleflight_fn fn;
    void *arg;
    unsigned char key[];
} call;

/* The group's lock, as TSan must see it: the spin lock is invisible to it,
 * and the table's memory is touched (malloc'd, compared) under it by many
 * goroutines. */
static void group_lock(goc_singleflight *g)
{
    goc__spin_lock((goc_spinlock *)&g->lock);
    goc__race_acquire(g);
}

static void group_unlock(goc_singleflight *g)
{
    goc__race_release(g);
    goc__spin_unlock((goc_spinlock *)&g->lock);
}

void goc_singleflight_init(goc_singleflight *g, void (*share)(void *, size_t))
{
    *g = (goc_singleflight)GOC_SINGLEFLIGHT_INIT;
    g->share = share;
}

void goc_singleflight_destroy(goc_singleflight *g)
{
    goc__keytab *t = g->calls;
    if (t) {
        goc__keytab_destroy(t, NULL, NULL);
        free(t);
        g->calls = NULL;
    }
}

static void call_free(call *c)
{
    free(c->chans);
    free(c);
}

/* Drops n references; every holder's use happens before the free (TSan
 * sees the free, not the atomics). */
static void call_unref(call *c, int32_t n)
{
    goc__race_release(c);
    if (atomic_fetch_sub_explicit(&c->refs, n, memory_order_acq_rel) != n)
        return;
    goc__race_acquire(c);
    call_free(c);
}

/* Under lock: the flight for key (whose hash is h, computed before the
 * lock was taken, to keep the section short), or a new one in the table
 * (NULL: out of memory). *joined tells which. */
static call *find_or_start(goc_singleflight *g, const void *key, size_t keylen, uint64_t h,
                           bool *joined)
{
    goc__keytab *t = g->calls;
    if (!t && !(t = g->calls = calloc(1, sizeof *t)))
        return NULL;
    call *c = (call *)goc__keytab_find(t, key, keylen, h);
    if (c) {
        c->dups++;
        *joined = true;
        return c;
    }
    *joined = false;
    c = calloc(1, sizeof *c + keylen);
    if (!c)
        return NULL;
    memcpy(c->key, key, keylen);
    c->e = (goc__kentry){.hash = h, .len = keylen, .key = c->key};
    atomic_init(&c->refs, 1);
    if (goc__keytab_add(t, &c->e) < 0) {
        free(c);
        return NULL;
    }
    c->in_map = true;
    return c;
}

static int add_chan(call *c, goc_chan *ch)
{
    if (c->nchans == c->capchans) {
        size_t cap = c->capchans ? 2 * c->capchans : 4;
        goc_chan **a = realloc(c->chans, cap * sizeof *a);
        if (!a)
            return -ENOMEM;
        c->chans = a;
        c->capchans = cap;
    }
    c->chans[c->nchans++] = goc_chan_retain(ch);
    return 0;
}

/* The leader, fn returned (val, err): publishes the result, and drops
 * its reference (and those of the waiters it readied). Returns whether
 * anyone joined. */
static bool finish(goc_singleflight *g, call *c, void *val, int err)
{
    group_lock(g);
    if (c->in_map) {
        goc__keytab_del(g->calls, &c->e);
        c->in_map = false;
    }
    size_t dups = c->dups; /* final: nobody can join any more */
    group_unlock(g);
    if (g->share && dups && val)
        g->share(val, dups);
    c->val = val;
    c->err = err;
    goc__race_release(c); /* for the duplicates that find WAITERS_DONE */
    waiter *w = atomic_exchange_explicit(&c->waiters, WAITERS_DONE, memory_order_acq_rel);
    int32_t taken = 0;
    while (w) {
        waiter *next = w->next;
        w->val = val;
        w->err = err;
        w->g->param = w;
        goc__ready(w->g);
        w = next;
        taken++;
    }
    goc_singleflight_result r = {val, err, dups > 0};
    for (size_t i = 0; i < c->nchans; i++) {
        goc_chan_send(c->chans[i], &r); /* capacity 1, sent once: never blocks */
        goc_chan_release(c->chans[i]);
    }
    call_unref(c, 1 + taken);
    return dups > 0;
}

/* A do-duplicate's park unlock function: its context is saved, so the
 * leader may ready it as soon as the record is in the list. False (do not
 * park) if the leader has taken the list already. */
static bool push_waiter(goc_g *g, void *arg)
{
    (void)g;
    waiter *w = arg;
    call *c = w->c;
    waiter *head = atomic_load_explicit(&c->waiters, memory_order_acquire);
    do {
        if (head == WAITERS_DONE)
            return false;
        w->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&c->waiters, &head, w, memory_order_release,
                                                    memory_order_acquire));
    return true;
}

int goc_singleflight_do(goc_singleflight *g, const void *key, size_t keylen,
                        goc_singleflight_fn fn, void *arg, void **val, bool *shared)
{
    bool joined;
    uint64_t h = goc__key_hash(key, keylen);
    group_lock(g);
    call *c = find_or_start(g, key, keylen, h, &joined);
    if (!c) {
        group_unlock(g);
        return -ENOMEM;
    }
    if (joined) {
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed); /* the leader holds one */
        group_unlock(g);
        waiter w = {.g = goc__getg(), .c = c};
        int err;
        void *v;
        if (goc__park(push_waiter, &w, "singleflight.Do")) { /* readied by the leader */
            v = w.val;
            err = w.err;
        } else { /* the leader was done before we could queue */
            goc__race_acquire(c);
            v = c->val;
            err = c->err;
            call_unref(c, 1);
        }
        if (val)
            *val = v;
        if (shared)
            *shared = true;
        return err;
    }
    group_unlock(g);
    void *v = NULL;
    int err = fn(arg, &v);
    bool dup = finish(g, c, v, err);
    if (val)
        *val = v;
    if (shared)
        *shared = dup;
    return err;
}

static void chan_leader(void *arg)
{
    call *c = arg;
    void *v = NULL;
    int e = c->fn(c->arg, &v);
    finish(c->g, c, v, e);
}

goc_chan *goc_singleflight_do_chan(goc_singleflight *g, const void *key, size_t keylen,
                                   goc_singleflight_fn fn, void *arg)
{
    goc_chan *ch = goc_chan_make(sizeof(goc_singleflight_result), 1);
    if (!ch)
        return NULL;
    bool joined;
    uint64_t h = goc__key_hash(key, keylen);
    group_lock(g);
    call *c = find_or_start(g, key, keylen, h, &joined);
    if (!c || add_chan(c, ch) < 0) {
        if (c && joined)
            c->dups--;
        else if (c) { /* a new flight nobody can have joined yet */
            goc__keytab_del(g->calls, &c->e);
            free(c);
        }
        group_unlock(g);
        goc_chan_release(ch);
        errno = ENOMEM;
        return NULL;
    }
    group_unlock(g);
    if (!joined) {
        c->g = g;
        c->fn = fn;
        c->arg = arg;
        int64_t r = goc_go_at(chan_leader, c, NULL, "goc_singleflight_do_chan", 0);
        if (r < 0)
            finish(g, c, NULL, (int)r);
    }
    return ch;
}

void goc_singleflight_forget(goc_singleflight *g, const void *key, size_t keylen)
{
    group_lock(g);
    call *c = g->calls ? (call *)goc__keytab_find(g->calls, key, keylen,
                                                  goc__key_hash(key, keylen))
                       : NULL;
    if (c) {
        goc__keytab_del(g->calls, &c->e);
        c->in_map = false;
    }
    group_unlock(g);
}
