/* pool.c: sync.Pool with per-worker caches, without a GC.
 *
 * p->locals is an array of nprocs + 1 caches, allocated on first use (a
 * CAS from NULL; the loser frees its copy) and freed only by destroy:
 * cache i belongs to worker i, the last one to plain threads and to the
 * monitor's spare workers (ids >= nprocs). Each cache:
 *   private   one object (Go's private slot). In a worker's cache only
 *             that worker fills it (put: a plain release store when it is
 *             empty) and, where membarrier is usable, only that worker and
 *             trim empty it: get with a plain load and store, as Go's
 *             pinned private slot, and stealers leave it alone, as Go's.
 *             Without membarrier, and in the shared last cache, which
 *             several threads fill (with a compare-and-swap), it is emptied
 *             with an atomic exchange, by get, a stealer or trim;
 *   shared    a stack of at most SHARED objects under a spin lock, which
 *             its worker pushes and pops and other workers steal from.
 * get: own private, own shared, then the other caches (other workers',
 * the plain threads'), then new_fn. put: own private if empty, else own
 * shared, else the object is destroyed (a full cache means plenty cached).
 * A goroutine that reads goc__getp() keeps its worker until it parks or
 * yields, which none of this does; another worker may still steal from
 * the cache meanwhile, which the lock and the exchange allow.
 *
 * Trim against a worker's plain get: an asymmetric Dekker pair. get sets
 * its cache's busy word (plain store, compiler barrier), then reads the
 * pool's trimming count: zero, it takes private with plain accesses and
 * clears busy; else it takes private with an exchange. trim raises
 * trimming, issues membarrier (every thread then either has its busy store
 * visible or will see trimming), waits for every worker's busy to clear,
 * and only then exchanges the private slots.
 *
 * Happens-before, for TSan (this file is not instrumented), as Go's race
 * annotations: put releases on the object, get acquires on it. The caches'
 * initialisation (a memset, which TSan intercepts even here) is published
 * on the locals array.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "goc/sync.h"
#include "internal.h"
#include "race.h"

#define SHARED 64

typedef struct pool_local {
    void *_Atomic private;
    _Atomic uint32_t busy; /* the owner's plain get is under way (see above) */
    goc_spinlock lock;
    int n; /* objects in shared, under lock */
    void *shared[SHARED];
} __attribute__((aligned(64))) pool_local;

typedef struct pool_locals {
    int n;                     /* caches: nprocs + 1 */
    bool plain;                /* membarrier: workers' private slots are owner-only */
    _Atomic uint32_t trimming; /* trims under way */
    pool_local local[];
} pool_locals;

void goc_pool_init(goc_pool *p, void *(*new_fn)(void *ctx), void (*free_fn)(void *obj, void *ctx),
                   void *ctx)
{
    *p = (goc_pool)GOC_POOL_INIT(new_fn, free_fn, ctx);
}

static pool_locals *locals_slow(goc_pool *p)
{
    goc__sched_start();
    int n = goc__sched_nprocs() + 1;
    size_t size = sizeof(pool_locals) + (size_t)n * sizeof(pool_local);
    size = (size + 63) & ~(size_t)63;
    pool_locals *ls = aligned_alloc(64, size);
    if (!ls)
        goc__fatal("sync.Pool: out of memory");
    memset(ls, 0, size);
    ls->n = n;
    ls->plain = goc__os_membarrier_usable();
    goc__race_release(ls); /* memset is intercepted: publish it */
    pool_locals *expect = NULL;
    if (!__atomic_compare_exchange_n((pool_locals **)&p->locals, &expect, ls, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        free(ls);
        goc__race_acquire(expect);
        return expect;
    }
    return ls;
}

static inline pool_locals *get_locals(goc_pool *p)
{
    pool_locals *ls = __atomic_load_n((pool_locals **)&p->locals, __ATOMIC_ACQUIRE);
    if (unlikely(!ls))
        return locals_slow(p);
    goc__race_acquire(ls);
    return ls;
}

/* The caller's cache: its worker's, or the shared last one. */
static inline pool_local *my_local(pool_locals *ls)
{
    goc_p *pp = goc__getp();
    return &ls->local[pp && pp->id < ls->n - 1 ? pp->id : ls->n - 1];
}

/* Pops from l's shared stack; a stealer (steal) first tries l's private
 * slot unless only its owner may empty it (owner_only). */
static void *shared_pop(pool_local *l, bool steal, bool owner_only)
{
    if (steal && !owner_only) {
        if (!atomic_load_explicit(&l->private, memory_order_relaxed) &&
            !__atomic_load_n(&l->n, __ATOMIC_RELAXED))
            return NULL;
        void *x = atomic_exchange_explicit(&l->private, NULL, memory_order_acquire);
        if (x)
            return x;
    }
    void *x = NULL;
    goc__spin_lock(&l->lock);
    if (l->n > 0) {
        x = l->shared[l->n - 1];
        __atomic_store_n(&l->n, l->n - 1, __ATOMIC_RELAXED);
    }
    goc__spin_unlock(&l->lock);
    return x;
}

void *goc_pool_get(goc_pool *p)
{
    pool_locals *ls = get_locals(p);
    pool_local *l = my_local(ls);
    int me = (int)(l - ls->local);
    void *x;
    if (likely(ls->plain) && me < ls->n - 1) {
        atomic_store_explicit(&l->busy, 1, memory_order_relaxed);
        GOC_CHAOS_POINT(); /* a trim may begin now */
        atomic_signal_fence(memory_order_seq_cst);
        if (likely(!atomic_load_explicit(&ls->trimming, memory_order_relaxed))) {
            x = atomic_load_explicit(&l->private, memory_order_relaxed);
            GOC_CHAOS_POINT();
            if (x)
                atomic_store_explicit(&l->private, NULL, memory_order_relaxed);
            atomic_store_explicit(&l->busy, 0, memory_order_release);
        } else {
            atomic_store_explicit(&l->busy, 0, memory_order_release);
            x = atomic_exchange_explicit(&l->private, NULL, memory_order_acquire);
        }
    } else {
        x = atomic_exchange_explicit(&l->private, NULL, memory_order_acquire);
    }
    if (!x)
        x = shared_pop(l, false, false);
    if (!x) {
        /* Steal, starting next to our own cache. */
        for (int i = 1; i < ls->n && !x; i++) {
            int v = (me + i) % ls->n;
            x = shared_pop(&ls->local[v], true, ls->plain && v < ls->n - 1);
        }
    }
    if (x) {
        goc__race_acquire(x);
        return x;
    }
    return p->new_fn ? p->new_fn(p->ctx) : NULL;
}

static void destroy(goc_pool *p, void *x)
{
    if (p->free_fn)
        p->free_fn(x, p->ctx);
}

void goc_pool_put(goc_pool *p, void *x)
{
    if (!x)
        return;
    goc__race_release(x);
    pool_locals *ls = get_locals(p);
    goc_p *pp = goc__getp();
    pool_local *l;
    if (likely(pp && pp->id < ls->n - 1)) {
        /* Our worker's cache: only we fill its private slot (others only
         * empty it, with an exchange), so an empty slot stays empty until
         * our store, and a plain release store fills it: no read-modify-
         * write, as Go's pinned private slot. */
        l = &ls->local[pp->id];
        if (!atomic_load_explicit(&l->private, memory_order_relaxed)) {
            atomic_store_explicit(&l->private, x, memory_order_release);
            return;
        }
    } else {
        /* The shared cache: plain threads and spare workers race to fill. */
        l = &ls->local[ls->n - 1];
        void *expect = NULL;
        if (atomic_compare_exchange_strong_explicit(&l->private, &expect, x,
                                                    memory_order_release, memory_order_relaxed))
            return;
    }
    goc__spin_lock(&l->lock);
    bool kept = l->n < SHARED;
    if (kept) {
        l->shared[l->n] = x;
        __atomic_store_n(&l->n, l->n + 1, __ATOMIC_RELAXED);
    }
    goc__spin_unlock(&l->lock);
    if (!kept) {
        goc__race_acquire(x);
        destroy(p, x);
    }
}

void goc_pool_trim(goc_pool *p)
{
    pool_locals *ls = __atomic_load_n((pool_locals **)&p->locals, __ATOMIC_ACQUIRE);
    if (!ls)
        return;
    goc__race_acquire(ls);
    if (ls->plain) {
        /* Owner-only private slots: wait out the plain gets under way; the
         * later ones see trimming and exchange (see the file comment). */
        atomic_fetch_add_explicit(&ls->trimming, 1, memory_order_seq_cst);
        goc__os_membarrier();
        for (int i = 0; i < ls->n - 1; i++)
            for (int k = 0; atomic_load_explicit(&ls->local[i].busy, memory_order_acquire); k++) {
                if (k < 128)
                    goc__cpu_relax();
                else
                    sched_yield(); /* its thread was preempted mid-get */
            }
    }
    for (int i = 0; i < ls->n; i++) {
        pool_local *l = &ls->local[i];
        void *batch[SHARED + 1];
        int n;
        goc__spin_lock(&l->lock);
        n = l->n;
        memcpy(batch, l->shared, (size_t)n * sizeof batch[0]);
        __atomic_store_n(&l->n, 0, __ATOMIC_RELAXED);
        goc__spin_unlock(&l->lock);
        void *x = atomic_exchange_explicit(&l->private, NULL, memory_order_acquire);
        if (x)
            batch[n++] = x;
        for (int j = 0; j < n; j++) {
            goc__race_acquire(batch[j]);
            destroy(p, batch[j]);
        }
    }
    if (ls->plain)
        atomic_fetch_sub_explicit(&ls->trimming, 1, memory_order_release);
}

void goc_pool_destroy(goc_pool *p)
{
    goc_pool_trim(p);
    free(p->locals);
    p->locals = NULL;
}
