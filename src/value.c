/* value.c: atomic.Value for pointers, with reclamation of replaced values
 * by epoch-based reclamation (the guard is epoch.h's; src/map.c spells
 * out the argument for its safety).
 *
 * v->cur is the current value, published with an atomic exchange. v->dom
 * (allocated on first use) holds one slot per worker plus one for plain
 * threads, each on its own cache line: a pair of reader counters, one per
 * epoch parity, and, under the slot's spin lock, the values replaced
 * through it (two limbo lists, by epoch parity) and spare list nodes.
 *
 *   load      without free_fn: an acquire load of cur, nothing else.
 *             With free_fn: e = epoch; counter[slot][e & 1] += 1 (seq_cst); re-check the
 *             epoch (else undo and retry); then read cur. The ref remembers
 *             slot and parity, so the release may run on another worker.
 *   release   counter[slot][parity] -= 1.
 *   store     without free_fn: a release store of cur, nothing else.
 *             With free_fn, inside a guard of its own, under its slot's
 *             lock: exchange cur, push the old value on the slot's
 *             limbo[epoch & 1] (epoch read after the exchange) in a node
 *             taken from the slot's spares (malloc'd when there are none);
 *             every 32nd store through a slot then tries to reclaim.
 *   reclaim   under dom's spin lock (a store that finds it taken moves
 *             on): while the counters of parity (e-1) & 1 sum to zero, take
 *             every slot's limbo[(e-1) & 1] and advance the epoch, at most
 *             twice; then free the values, the nodes going back to the
 *             reclaimer's slot as spares (at most SPARE_MAX kept).
 *   goc_value_reclaim: the same, waiting for the lock.
 *   destroy   frees whatever is left.
 * So a replaced value is freed some stores after its last reader let go
 * (within about 64 stores through its slot while readers come and go), or
 * at destroy; a reader that holds a value for long holds back the frees
 * behind it, never a store or another reader. A store touches only its
 * own slot's line besides cur and the read-mostly epoch, and in the
 * steady state allocates nothing of its own.
 *
 * Readers on different workers touch only their own counters and the
 * read-mostly cur and epoch words; a reader may hold a value across parks
 * and migrations (its counter is a count, decremented where it was
 * incremented).
 *
 * Happens-before, for TSan (this file is not instrumented): a store
 * releases on the value before the exchange, a load acquires after reading
 * cur; a release publishes the reader's accesses (release on dom's reclaim
 * word) to whoever frees.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "epoch.h"
#include "goc/sync.h"
#include "internal.h"
#include "race.h"

typedef struct retired {
    struct retired *next;
    void *ptr;
} retired;

/* Per worker, and one for plain threads. cnt: read by the reclaimer
 * without the lock; the rest under lock (limbo is also peeked at without
 * it). */
struct slot {
    goc__epoch_count cnt;
    goc_spinlock lock;
    uint32_t nstores, nspare;
    _Atomic(retired *) limbo[2];
    retired *tail[2]; /* of each limbo list, for the reclaimer's splice */
    retired *spare;
} __attribute__((aligned(64)));

#define SPARE_MAX 256 /* nodes a slot keeps for reuse */

typedef struct dom {
    _Atomic uint64_t epoch;
    uint32_t nslots;
    char reclaim_sync;
    goc_spinlock lock; /* one reclaimer at a time */
    struct slot slots[];
} dom;

void goc_value_init(goc_value *v, void (*free_fn)(void *ptr))
{
    *v = (goc_value)GOC_VALUE_INIT(free_fn);
}

static dom *dom_slow(goc_value *v)
{
    goc__sched_start();
    uint32_t n = (uint32_t)goc__sched_nprocs() + 1;
    size_t size = sizeof(dom) + n * sizeof(struct slot);
    size = (size + 63) & ~(size_t)63;
    dom *d = aligned_alloc(64, size);
    if (!d)
        return NULL;
    memset(d, 0, size);
    d->nslots = n;
    goc__race_release(d); /* memset is intercepted: publish it */
    dom *expect = NULL;
    if (!__atomic_compare_exchange_n((dom **)&v->dom, &expect, d, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        free(d);
        goc__race_acquire(expect);
        return expect;
    }
    return d;
}

static inline dom *get_dom(goc_value *v)
{
    dom *d = __atomic_load_n((dom **)&v->dom, __ATOMIC_ACQUIRE);
    return likely(d != NULL) ? d : dom_slow(v);
}

static inline void enter(dom *d, goc_value_ref *ref)
{
    uint32_t slot = goc__epoch_slot(d->nslots);
    ref->parity = goc__epoch_enter(&d->epoch, &d->slots[slot].cnt);
    ref->version = d;
    ref->slot = slot;
}

static inline void leave(dom *d, goc_value_ref *ref)
{
    goc__race_release(&d->reclaim_sync);
    goc__epoch_leave(&d->slots[ref->slot].cnt, ref->parity);
    ref->version = NULL;
}

/* Frees the values of list r; its nodes go back to slot s as spares (NULL:
 * freed too). */
static void free_list(goc_value *v, dom *d, retired *r, struct slot *s)
{
    if (!r)
        return;
    goc__race_acquire(&d->reclaim_sync);
    goc__race_acquire(v);
    retired *last = r;
    uint32_t n = 0;
    for (retired *x = r; x; x = x->next) {
        v->free_fn(x->ptr);
        last = x;
        n++;
    }
    if (s) {
        goc__spin_lock(&s->lock);
        if (s->nspare + n <= SPARE_MAX) {
            last->next = s->spare;
            s->spare = r;
            s->nspare += n;
            r = NULL;
        }
        goc__spin_unlock(&s->lock);
    }
    while (r) {
        retired *next = r->next;
        free(r);
        r = next;
    }
}

static bool limbo_empty(dom *d)
{
    for (uint32_t i = 0; i < d->nslots; i++)
        if (atomic_load_explicit(&d->slots[i].limbo[0], memory_order_relaxed) ||
            atomic_load_explicit(&d->slots[i].limbo[1], memory_order_relaxed))
            return false;
    return true;
}

/* Under d->lock: one grace period if parity (e-1) drained; the values it
 * freed up are prepended to *out. */
static bool advance_locked(dom *d, retired **out)
{
    uint64_t e = atomic_load_explicit(&d->epoch, memory_order_seq_cst);
    unsigned old = (unsigned)((e + 1) & 1);
    if (!goc__epoch_drained(&d->slots[0].cnt, sizeof d->slots[0], d->nslots, old))
        return false;
    for (uint32_t i = 0; i < d->nslots; i++) {
        struct slot *s = &d->slots[i];
        if (!atomic_load_explicit(&s->limbo[old], memory_order_relaxed))
            continue;
        goc__spin_lock(&s->lock);
        retired *l = atomic_exchange_explicit(&s->limbo[old], NULL, memory_order_relaxed);
        retired *t = s->tail[old];
        s->tail[old] = NULL;
        goc__spin_unlock(&s->lock);
        if (l) {
            t->next = *out;
            *out = l;
        }
    }
    /* A Dekker store (internal.h). */
    (void)atomic_exchange_explicit(&d->epoch, e + 1, memory_order_seq_cst);
    return true;
}

/* Completes up to two grace periods (wait: for the reclaim lock, else give
 * up if someone else is at it) and frees what they free up, the nodes going
 * to slot s. */
static void reclaim(goc_value *v, dom *d, struct slot *s, bool wait)
{
    if (wait)
        goc__spin_lock(&d->lock);
    else if (!goc__spin_trylock(&d->lock))
        return;
    retired *list = NULL;
    for (int i = 0; i < 2 && !limbo_empty(d) && advance_locked(d, &list); i++)
        ;
    goc__spin_unlock(&d->lock);
    free_list(v, d, list, s);
}

/* Every RECLAIM_EVERY-th store through a slot tries to complete grace
 * periods: frees are batched, so that a store rarely scans the counters or
 * flips the epoch (which every reader then has to fetch again). */
#define RECLAIM_EVERY 32

int goc_value_store(goc_value *v, void *p)
{
    if (!v->free_fn) {
        /* Nothing to reclaim: a release store (the documented edge: a
         * store happens before the loads that see it) and no guard. */
        goc__race_release(v);
        __atomic_store_n(&v->cur, p, __ATOMIC_RELEASE);
        return 0;
    }
    dom *d = get_dom(v);
    if (!d)
        return -ENOMEM;
    goc_value_ref g;
    enter(d, &g);
    struct slot *s = &d->slots[g.slot];
    goc__spin_lock(&s->lock);
    retired *r = s->spare;
    if (likely(r)) {
        s->spare = r->next;
        s->nspare--;
    } else {
        goc__spin_unlock(&s->lock);
        if (!(r = malloc(sizeof *r))) {
            leave(d, &g);
            return -ENOMEM;
        }
        goc__spin_lock(&s->lock);
    }
    goc__race_release(v);
    void *old = __atomic_exchange_n(&v->cur, p, __ATOMIC_SEQ_CST);
    bool reclaim_due = false;
    if (old) {
        r->ptr = old;
        uint64_t e = atomic_load_explicit(&d->epoch, memory_order_seq_cst);
        r->next = atomic_load_explicit(&s->limbo[e & 1], memory_order_relaxed);
        if (!r->next)
            s->tail[e & 1] = r;
        atomic_store_explicit(&s->limbo[e & 1], r, memory_order_relaxed);
        reclaim_due = ++s->nstores % RECLAIM_EVERY == 0;
    } else {
        r->next = s->spare;
        s->spare = r;
        s->nspare++;
    }
    goc__spin_unlock(&s->lock);
    leave(d, &g);
    if (reclaim_due)
        reclaim(v, d, s, false);
    return 0;
}

void *goc_value_load(goc_value *v, goc_value_ref *ref)
{
    if (!v->free_fn) {
        /* Values are never freed: nothing to guard. */
        ref->version = NULL;
        void *p = __atomic_load_n(&v->cur, __ATOMIC_ACQUIRE);
        goc__race_acquire(v);
        return p;
    }
    dom *d = get_dom(v);
    if (unlikely(!d)) {
        /* No memory for the counters: nothing can have been stored. */
        ref->version = NULL;
        return NULL;
    }
    enter(d, ref);
    void *p = __atomic_load_n(&v->cur, __ATOMIC_SEQ_CST);
    goc__race_acquire(v);
    return p;
}

void goc_value_release(goc_value *v, goc_value_ref *ref)
{
    (void)v;
    dom *d = ref->version;
    if (!d)
        return;
    leave(d, ref);
}

void goc_value_reclaim(goc_value *v)
{
    dom *d = __atomic_load_n((dom **)&v->dom, __ATOMIC_ACQUIRE);
    if (!d || !v->free_fn)
        return;
    reclaim(v, d, &d->slots[goc__epoch_slot(d->nslots)], true);
}

void goc_value_destroy(goc_value *v)
{
    dom *d = __atomic_exchange_n((dom **)&v->dom, NULL, __ATOMIC_ACQ_REL);
    void *cur = __atomic_exchange_n(&v->cur, NULL, __ATOMIC_ACQ_REL);
    goc__race_acquire(v);
    if (d) {
        goc__race_acquire(d);
        for (uint32_t i = 0; i < d->nslots; i++) {
            struct slot *s = &d->slots[i];
            if (v->free_fn) {
                free_list(v, d, atomic_exchange(&s->limbo[0], NULL), NULL);
                free_list(v, d, atomic_exchange(&s->limbo[1], NULL), NULL);
            }
            for (retired *r = s->spare, *next; r; r = next) {
                next = r->next;
                free(r);
            }
        }
        goc__race_acquire(&d->reclaim_sync);
        free(d);
    }
    if (v->free_fn && cur)
        v->free_fn(cur);
}
