/* pool.c: sync.Pool with per-worker caches, without a GC.
 *
 * p->locals is an array of nprocs + 1 caches, allocated on first use (a
 * CAS from NULL; the loser frees its copy) and freed only by destroy:
 * cache i belongs to worker i, the last one to plain threads and to the
 * monitor's spare workers (ids >= nprocs). Each cache:
 *   private   one object (Go's private slot), emptied with an atomic
 *             exchange (by get, a stealer or trim); filled by put: in a
 *             worker's own cache, where only that worker fills it, with a
 *             plain release store when it is empty; in the shared cache,
 *             which several threads fill, with a compare-and-swap;
 *   shared    a stack of at most SHARED objects under a spin lock, which
 *             its worker pushes and pops and other workers steal from.
 * get: own private, own shared, then the other caches (other workers',
 * the plain threads'), then new_fn. put: own private if empty, else own
 * shared, else the object is destroyed (a full cache means plenty cached).
 * A goroutine that reads goc__getp() keeps its worker until it parks or
 * yields, which none of this does; another worker may still steal from
 * the cache meanwhile, which the lock and the exchange allow.
 *
 * Happens-before, for TSan (this file is not instrumented), as Go's race
 * annotations: put releases on the object, get acquires on it. The caches'
 * initialisation (a memset, which TSan intercepts even here) is published
 * on the locals array.
 */
#include <stdlib.h>
#include <string.h>

#include "goc/sync.h"
#include "internal.h"
#include "race.h"

#define SHARED 64

typedef struct pool_local {
    void *_Atomic private;
    goc_spinlock lock;
    int n; /* objects in shared, under lock */
    void *shared[SHARED];
} __attribute__((aligned(64))) pool_local;

typedef struct pool_locals {
    int n; /* caches: nprocs + 1 */
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

static void *shared_pop(pool_local *l, bool steal)
{
    if (steal) {
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
    void *x = atomic_exchange_explicit(&l->private, NULL, memory_order_acquire);
    if (!x)
        x = shared_pop(l, false);
    if (!x) {
        /* Steal, starting next to our own cache. */
        int me = (int)(l - ls->local);
        for (int i = 1; i < ls->n && !x; i++)
            x = shared_pop(&ls->local[(me + i) % ls->n], true);
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
}

void goc_pool_destroy(goc_pool *p)
{
    goc_pool_trim(p);
    free(p->locals);
    p->locals = NULL;
}
