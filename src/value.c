/* value.c: atomic.Value for pointers, with reclamation of replaced values
 * by epoch-based reclamation (the scheme of src/map.c, where the argument
 * for its safety is spelled out).
 *
 * v->cur is the current value, published with an atomic exchange. v->dom
 * (allocated on first use) holds, per worker plus one for plain threads, a
 * pair of reader counters, one per epoch parity, each on its own cache
 * line, and two limbo lists of replaced values.
 *
 *   load      without free_fn: an acquire load of cur, nothing else.
 *             With free_fn: e = epoch; counter[slot][e & 1] += 1 (seq_cst); re-check the
 *             epoch (else undo and retry); then read cur. The ref remembers
 *             slot and parity, so the release may run on another worker.
 *   release   counter[slot][parity] -= 1.
 *   store     without free_fn: a release store of cur, nothing else.
 *             With free_fn, inside a guard of its own: exchange cur, push
 *             the old value on limbo[epoch & 1] (epoch read after the
 *             exchange), leave; every 32nd store then tries to reclaim.
 *   reclaim   under dom's spin lock (a store that finds it taken moves
 *             on): while the counters of parity (e-1) & 1 sum to zero, free
 *             limbo[(e-1) & 1] and advance the epoch, at most twice.
 *   goc_value_reclaim: the same, waiting for the lock.
 *   destroy   frees whatever is left.
 * So a replaced value is freed some stores after its last reader let go
 * (within about 64 stores while readers come and go), or at destroy; a
 * reader that holds a value for long holds back the frees behind it, never
 * a store or another reader.
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

#include "goc/sync.h"
#include "internal.h"
#include "race.h"

typedef struct retired {
    struct retired *next;
    void *ptr;
} retired;

struct counter {
    _Atomic int64_t n[2];
} __attribute__((aligned(64)));

typedef struct dom {
    _Atomic uint64_t epoch;
    uint32_t nslots;
    char reclaim_sync;
    _Atomic(retired *) limbo[2] __attribute__((aligned(64)));
    goc_spinlock lock;
    _Atomic uint32_t nstores;
    struct counter slots[];
} dom;

void goc_value_init(goc_value *v, void (*free_fn)(void *ptr))
{
    *v = (goc_value)GOC_VALUE_INIT(free_fn);
}

static dom *dom_slow(goc_value *v)
{
    goc__sched_start();
    uint32_t n = (uint32_t)goc__sched_nprocs() + 1;
    size_t size = sizeof(dom) + n * sizeof(struct counter);
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
    goc_p *p = goc__getp();
    uint32_t slot = d->nslots - 1;
    if (p) {
        slot = (uint32_t)p->id;
        if (unlikely(slot >= d->nslots - 1))
            slot %= d->nslots - 1;
    }
    struct counter *c = &d->slots[slot];
    for (;;) {
        uint64_t e = atomic_load_explicit(&d->epoch, memory_order_seq_cst);
        atomic_fetch_add_explicit(&c->n[e & 1], 1, memory_order_seq_cst);
        if (likely(atomic_load_explicit(&d->epoch, memory_order_seq_cst) == e)) {
            ref->version = d;
            ref->slot = slot;
            ref->parity = (uint32_t)(e & 1);
            return;
        }
        atomic_fetch_sub_explicit(&c->n[e & 1], 1, memory_order_relaxed);
    }
}

static inline void leave(dom *d, goc_value_ref *ref)
{
    goc__race_release(&d->reclaim_sync);
    atomic_fetch_sub_explicit(&d->slots[ref->slot].n[ref->parity], 1, memory_order_release);
    ref->version = NULL;
}

static void free_list(goc_value *v, dom *d, retired *r)
{
    if (!r)
        return;
    goc__race_acquire(&d->reclaim_sync);
    goc__race_acquire(v);
    while (r) {
        retired *next = r->next;
        v->free_fn(r->ptr);
        free(r);
        r = next;
    }
}

static inline bool limbo_empty(dom *d)
{
    return !atomic_load_explicit(&d->limbo[0], memory_order_relaxed) &&
           !atomic_load_explicit(&d->limbo[1], memory_order_relaxed);
}

/* Under d->lock: one grace period if parity (e-1) drained; returns the list
 * it freed up, appended to *out. */
static bool advance_locked(dom *d, retired **out)
{
    uint64_t e = atomic_load_explicit(&d->epoch, memory_order_seq_cst);
    unsigned old = (unsigned)((e + 1) & 1);
    int64_t sum = 0;
    for (uint32_t i = 0; i < d->nslots; i++)
        sum += atomic_load_explicit(&d->slots[i].n[old], memory_order_seq_cst);
    if (sum != 0)
        return false;
    retired *l = atomic_exchange_explicit(&d->limbo[old], NULL, memory_order_acquire);
    atomic_store_explicit(&d->epoch, e + 1, memory_order_seq_cst);
    while (l) {
        retired *next = l->next;
        l->next = *out;
        *out = l;
        l = next;
    }
    return true;
}

/* Every RECLAIM_EVERY-th store tries to complete grace periods: frees are
 * batched, so that a store rarely scans the counters or flips the epoch
 * (which every reader then has to fetch again). */
#define RECLAIM_EVERY 32

static void try_reclaim(goc_value *v, dom *d)
{
    if (!goc__spin_trylock(&d->lock))
        return; /* someone else is at it */
    retired *list = NULL;
    for (int i = 0; i < 2 && !limbo_empty(d) && advance_locked(d, &list); i++)
        ;
    goc__spin_unlock(&d->lock);
    free_list(v, d, list);
}

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
    retired *r = NULL;
    if (v->free_fn && !(r = malloc(sizeof *r)))
        return -ENOMEM;
    goc_value_ref g;
    enter(d, &g);
    goc__race_release(v);
    void *old = __atomic_exchange_n(&v->cur, p, __ATOMIC_SEQ_CST);
    if (r && old) {
        r->ptr = old;
        uint64_t e = atomic_load_explicit(&d->epoch, memory_order_seq_cst);
        _Atomic(retired *) *l = &d->limbo[e & 1];
        retired *head = atomic_load_explicit(l, memory_order_relaxed);
        do
            r->next = head;
        while (!atomic_compare_exchange_weak_explicit(l, &head, r, memory_order_release,
                                                      memory_order_relaxed));
        r = NULL;
    }
    free(r);
    leave(d, &g);
    if ((atomic_fetch_add_explicit(&d->nstores, 1, memory_order_relaxed) + 1) % RECLAIM_EVERY == 0)
        try_reclaim(v, d);
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
    goc__spin_lock(&d->lock);
    retired *list = NULL;
    for (int i = 0; i < 2 && !limbo_empty(d) && advance_locked(d, &list); i++)
        ;
    goc__spin_unlock(&d->lock);
    free_list(v, d, list);
}

void goc_value_destroy(goc_value *v)
{
    dom *d = __atomic_exchange_n((dom **)&v->dom, NULL, __ATOMIC_ACQ_REL);
    void *cur = __atomic_exchange_n(&v->cur, NULL, __ATOMIC_ACQ_REL);
    goc__race_acquire(v);
    if (d) {
        goc__race_acquire(d);
        if (v->free_fn) {
            free_list(v, d, atomic_exchange(&d->limbo[0], NULL));
            free_list(v, d, atomic_exchange(&d->limbo[1], NULL));
        }
        goc__race_acquire(&d->reclaim_sync);
        free(d);
    }
    if (v->free_fn && cur)
        v->free_fn(cur);
}
