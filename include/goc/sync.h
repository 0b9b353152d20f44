/* goc/sync.h: Go's package sync (Mutex, RWMutex, WaitGroup, Once, Cond,
 * Pool, Map, atomic.Value for pointers) and x/sync's weighted semaphore.
 * Overview: docs/sync.md.
 *
 * Waits here park a goroutine (its worker runs other goroutines meanwhile)
 * and block a plain thread as a whole; every wait shows in goc_dump() with
 * Go's wait reason and counts toward deadlock detection. Objects are plain
 * structs owned by the caller: statically initialised with their GOC_*_INIT
 * or set up with their _init function, never copied after first use (as
 * Go's vet insists), and needing no destruction once nobody waits on them
 * (except: goc_sema_new's result, goc_sema_free; a pool's caches,
 * goc_pool_destroy; a value's last value, goc_value_destroy).
 *
 * Memory model, as Go's: an unlock happens before the lock that follows it;
 * a Once's function returns before any goc_once_do returns; a release of a
 * semaphore happens before the acquire it satisfies; a pool put before the
 * get that returns the object; a value store before the loads that see it.
 * Race builds (TSan) are told about each of these edges.
 */
#ifndef GOC_SYNC_H
#define GOC_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime's wait queue, embedded in sync objects. Private: its fields
 * are touched only by goc. */
typedef struct goc__waitq {
    uint32_t lock;
    uint32_t count; /* semaphore value */
    void *head;
    void *tail;
} goc__waitq;

/* sync.WaitGroup. Rules as Go's: Add with a positive delta that starts from
 * zero must happen before Wait; a counter that goes negative panics with
 * "sync: negative WaitGroup counter"; a WaitGroup may be reused once every
 * Wait of the previous round has returned. */
typedef struct goc_waitgroup {
    uint64_t state; /* high 32 bits: counter; low 32 bits: waiters */
    goc__waitq q;
} goc_waitgroup;

#define GOC_WAITGROUP_INIT {0, {0, 0, 0, 0}}

GOC_API void goc_waitgroup_init(goc_waitgroup *wg);
GOC_API void goc_waitgroup_add(goc_waitgroup *wg, int delta);
GOC_API void goc_waitgroup_done(goc_waitgroup *wg);
/* Parks until the counter is zero. */
GOC_API void goc_waitgroup_wait(goc_waitgroup *wg);
/* wg.Add(1); go func() { defer wg.Done(); fn(arg) }(). Returns goc_go's
 * result; on failure the counter is left unchanged. */
#define goc_waitgroup_go(wg, fn, arg) goc_waitgroup_go_at((wg), (fn), (arg), __FILE__, __LINE__)
GOC_API int64_t goc_waitgroup_go_at(goc_waitgroup *wg, goc_fn fn, void *arg,
                                    const char *file, int line);

/* sync.Mutex: a mutual exclusion lock, not reentrant, not tied to the
 * goroutine that locked it (one goroutine may lock, another unlock). Go's
 * design: one atomic operation when uncontended, brief spinning on
 * multicore, and starvation mode: a waiter blocked over 1 ms gets the lock
 * handed to it directly, so no waiter starves. Until a goroutine first has
 * to wait for it, its unlock takes no atomic read-modify-write at all. A goroutine that locks a
 * mutex it holds waits forever (deadlock detection reports it when nothing
 * else can run). Unlocking an unlocked mutex is a fatal error:
 * "fatal error: sync: unlock of unlocked mutex". */
typedef struct goc_mutex {
    int32_t state;   /* locked, woken, starving bits; waiter count above them */
    uint32_t shared; /* 0 until a goroutine first waits for it (private) */
    goc__waitq sema;
} goc_mutex;

#define GOC_MUTEX_INIT {0, 0, {0, 0, 0, 0}}

GOC_API void goc_mutex_init(goc_mutex *m);
/* Parks until the mutex is ours (wait reason "sync.Mutex.Lock"). The form
 * a context can end, goc_mutex_lock_ctx, is in goc/context.h. */
GOC_API void goc_mutex_lock(goc_mutex *m);
/* Never parks; true if the mutex is now ours. */
GOC_API bool goc_mutex_trylock(goc_mutex *m);
/* Never parks (in starvation mode it yields to the waiter it hands to). */
GOC_API void goc_mutex_unlock(goc_mutex *m);

/* sync.RWMutex: any number of readers or one writer, with writer
 * preference: once a writer waits in goc_rwmutex_lock, new readers wait
 * until it has had its turn (so a reader must not rlock recursively).
 * As in Go, a read lock may be released by another goroutine or thread
 * than the one that took it. A goroutine's read lock is counted on its
 * worker, not on the mutex, while reads outnumber writes (docs/sync.md).
 * Misuse is fatal as in Go: "sync: RUnlock of unlocked RWMutex",
 * "sync: Unlock of unlocked RWMutex". */
typedef struct goc_rwmutex {
    goc_mutex w;            /* held by the writer (pending or active) */
    goc__waitq writer_sem;  /* the writer waits here for departing readers */
    goc__waitq reader_sem;  /* readers wait here for the writer */
    int32_t reader_count;   /* readers not counted on a worker; minus 1<<30 while a writer is pending */
    int32_t reader_wait;    /* departing readers the writer still waits for */
    uint32_t nobias;        /* 0: workers count read locks; 2: going off; 1: off for good */
    uint32_t wcount;        /* the writers' own (under w): writes since a look */
    uint64_t rsnap;         /* ... and the read locks counted at that look */
    void *writer_slots;     /* the writer, parked until workers' read locks drain */
} goc_rwmutex;

#define GOC_RWMUTEX_INIT {GOC_MUTEX_INIT, {0, 0, 0, 0}, {0, 0, 0, 0}, 0, 0, 0, 0, 0, 0}

GOC_API void goc_rwmutex_init(goc_rwmutex *rw);
/* Park (wait reasons "sync.RWMutex.RLock", "sync.RWMutex.Lock"). */
GOC_API void goc_rwmutex_rlock(goc_rwmutex *rw);
GOC_API void goc_rwmutex_lock(goc_rwmutex *rw);
/* Never park. */
GOC_API bool goc_rwmutex_tryrlock(goc_rwmutex *rw);
GOC_API bool goc_rwmutex_trylock(goc_rwmutex *rw);
GOC_API void goc_rwmutex_runlock(goc_rwmutex *rw);
GOC_API void goc_rwmutex_unlock(goc_rwmutex *rw);

/* sync.Once: goc_once_do(o, fn, arg) calls fn(arg) the first time it is
 * called on o; every other call waits until that call has returned, then
 * returns without calling fn. After the first call, a call costs one
 * acquire load. fn must return: if it ends its goroutine (goc_exit) or
 * calls goc_once_do on the same Once, every later call waits forever. */
typedef struct goc_once {
    uint32_t done;
    goc_mutex m;
} goc_once;

#define GOC_ONCE_INIT {0, GOC_MUTEX_INIT}

GOC_API void goc_once_init(goc_once *o);
/* May park (wait reason "sync.Mutex.Lock") while fn runs elsewhere. */
GOC_API void goc_once_do(goc_once *o, goc_fn fn, void *arg);

/* The fast path (done already) inlined into the caller: one acquire load,
 * as Go's inlined Once.Do. Not under ThreadSanitizer, where the library's
 * own function tells TSan about the edge. */
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GOC__TSAN_USER 1
#endif
#endif
#if !defined(GOC__TSAN_USER) && !defined(__SANITIZE_THREAD__) && !defined(GOC_SANITIZE_THREAD)
static inline void goc__once_do_inline(goc_once *o, goc_fn fn, void *arg)
{
    if (__builtin_expect(__atomic_load_n(&o->done, __ATOMIC_ACQUIRE) != 0, 1))
        return;
    (goc_once_do)(o, fn, arg);
}
#define goc_once_do(o, fn, arg) goc__once_do_inline((o), (fn), (arg))
#endif

/* sync.Cond: goroutines wait on it for a condition guarded by a lock, L.
 * Go's Cond.L is any Locker: here a goc_mutex (goc_cond_init, GOC_COND_INIT)
 * or any lock given as two functions and their argument
 * (goc_cond_init_locker; e.g. a goc_rwmutex's read side). Wake order is
 * FIFO: Signal wakes the goroutine that has waited longest. */
typedef struct goc_cond {
    goc_mutex *L;                 /* the lock, when it is a goc_mutex */
    void (*lock)(void *locker);   /* otherwise: the locker's functions */
    void (*unlock)(void *locker);
    void *locker;
    uint32_t wait;                /* ticket of the next waiter */
    uint32_t notify;              /* ticket of the next waiter to wake */
    uint32_t nlock;               /* guards head, tail */
    void *head, *tail;            /* waiters, by ticket */
} goc_cond;

#define GOC_COND_INIT(mutex) {(mutex), 0, 0, 0, 0, 0, 0, 0, 0}

GOC_API void goc_cond_init(goc_cond *c, goc_mutex *L);
GOC_API void goc_cond_init_locker(goc_cond *c, void (*lock)(void *), void (*unlock)(void *),
                                  void *locker);
/* With L held: unlocks L, parks until signalled (wait reason
 * "sync.Cond.Wait"), locks L again before returning. As in Go, the
 * condition must be re-checked in a loop: for (;;) { if (cond) break;
 * goc_cond_wait(c); }. */
GOC_API void goc_cond_wait(goc_cond *c);
/* Wake one waiter (the oldest) / every waiter. Never park; the lock need
 * not be held. */
GOC_API void goc_cond_signal(goc_cond *c);
GOC_API void goc_cond_broadcast(goc_cond *c);

/* golang.org/x/sync/semaphore.Weighted: a semaphore of `size` units that
 * callers acquire and release in any amounts. Waiters are served in FIFO
 * order: a large request blocks later small ones, so it is not starved.
 * The context-aware acquire, goc_sema_acquire_ctx, is in goc/context.h. */
typedef struct goc_sema {
    int64_t size;
    int64_t cur;        /* units held */
    uint32_t lock;      /* guards cur, head, tail */
    void *head, *tail;  /* waiters, oldest first */
} goc_sema;

#define GOC_SEMA_INIT(n) {(n), 0, 0, 0, 0}

GOC_API void goc_sema_init(goc_sema *s, int64_t n);
/* NewWeighted: a heap semaphore (NULL without memory); free it with
 * goc_sema_free once nobody uses it. */
GOC_API goc_sema *goc_sema_new(int64_t n);
GOC_API void goc_sema_free(goc_sema *s);
/* Parks until n units are ours (wait reason "semacquire"). Returns 0, or
 * -EINVAL for n < 0. As in Go with a context that is never done, a request
 * larger than the size waits forever. */
GOC_API int goc_sema_acquire(goc_sema *s, int64_t n);
/* Acquire with a deadline (goc_now()'s clock): 0, or -ETIMEDOUT once the
 * deadline has passed without the units (nothing held then; a deadline
 * already past fails at once unless the units are free), -EINVAL for
 * n < 0. A request larger than the size fails at its deadline. */
GOC_API int goc_sema_acquire_deadline(goc_sema *s, int64_t n, int64_t deadline);
/* Never parks: true if n units were free and nobody waits. */
GOC_API bool goc_sema_try_acquire(goc_sema *s, int64_t n);
/* Releasing more than held panics: "semaphore: released more than held". */
GOC_API void goc_sema_release(goc_sema *s, int64_t n);

/* sync.Pool: a cache of interchangeable objects (buffers, ...) to relieve
 * the allocator. Each worker has its own cache (a private slot and a small
 * stack) and takes from the others' when its own is empty; plain threads
 * share one more cache. An object put in a pool belongs to the pool, and
 * may be handed to any later get, or destroyed at any time: C has no GC to
 * empty pools, so goc_pool_trim destroys everything cached (call it when
 * memory matters), and a put into a full worker cache destroys the object
 * instead. new_fn(ctx) makes an object when the pool is empty (NULL: get
 * returns NULL then); free_fn(obj, ctx) destroys one (NULL: dropped
 * without a call). */
typedef struct goc_pool {
    void *(*new_fn)(void *ctx);
    void (*free_fn)(void *obj, void *ctx);
    void *ctx;
    void *locals; /* per-worker caches, allocated on first use */
} goc_pool;

#define GOC_POOL_INIT(new_fn, free_fn, ctx) {(new_fn), (free_fn), (ctx), 0}

GOC_API void goc_pool_init(goc_pool *p, void *(*new_fn)(void *ctx),
                           void (*free_fn)(void *obj, void *ctx), void *ctx);
/* An object from the pool, or new_fn's, or NULL. Never parks. */
GOC_API void *goc_pool_get(goc_pool *p);
/* Gives obj to the pool (NULL is ignored). Never parks. */
GOC_API void goc_pool_put(goc_pool *p, void *obj);
/* Destroys every cached object. Safe while others get and put. */
GOC_API void goc_pool_trim(goc_pool *p);
/* Trims and frees the caches; nobody may use p afterwards. */
GOC_API void goc_pool_destroy(goc_pool *p);

/* atomic.Value for pointers, with safe reclamation: the seed's
 * copy-on-write config. A writer publishes a new value with
 * goc_value_store; readers take the current one with goc_value_load and
 * give it back with goc_value_release, and may use it in between (across
 * parks and yields, whichever worker they resume on). An old value is
 * reclaimed, by free_fn(ptr), after it has been replaced and every reader
 * that might hold it has released (epoch-based: src/value.c): by a later
 * store (they reclaim in batches, every 32nd store), goc_value_reclaim or
 * goc_value_destroy, in the goroutine or thread that calls it. Readers and writers never
 * block: a load and a release each touch a counter of the reader's own
 * worker and read the value's pointer, so readers on different workers do
 * not contend; a store is an atomic exchange (plus, with free_fn, the
 * bookkeeping of the replaced value).
 *
 * The stored value is owned by the goc_value from goc_value_store on: treat
 * it as immutable, as Go's copy-on-write pattern does. free_fn NULL: values
 * are never freed (the caller keeps them alive forever). goc_value_destroy
 * frees the current value once nobody uses the goc_value any more. */
typedef struct goc_value {
    void *cur;                   /* the current value */
    void (*free_fn)(void *ptr);
    void *dom;                   /* reader counts, retired values: on first use */
} goc_value;

#define GOC_VALUE_INIT(free_fn) {0, (free_fn), 0}

/* What a reader gives back: its read-side guard. */
typedef struct goc_value_ref {
    void *version; /* non-NULL while held */
    uint32_t slot, parity;
} goc_value_ref;

GOC_API void goc_value_init(goc_value *v, void (*free_fn)(void *ptr));
/* Publishes p (which may be NULL). Returns 0, or -ENOMEM (nothing changed).
 * Never parks. */
GOC_API int goc_value_store(goc_value *v, void *p);
/* The current value (NULL if none was stored), held until
 * goc_value_release(v, ref). Never parks. */
GOC_API void *goc_value_load(goc_value *v, goc_value_ref *ref);
GOC_API void goc_value_release(goc_value *v, goc_value_ref *ref);
/* Frees now every replaced value that no reader holds any more (stores do
 * this in batches, every 32nd store). Never parks. */
GOC_API void goc_value_reclaim(goc_value *v);
/* Frees the current value; v must not be used afterwards (until
 * goc_value_init). No reader may hold a value. */
GOC_API void goc_value_destroy(goc_value *v);

/* sync.Map: a concurrent map tuned, as Go's is, for two uses: keys written
 * once and read many times (caches that only grow), and goroutines that
 * read, write and overwrite disjoint sets of keys. Loads, and overwrites of
 * a key already present, take no lock: they read an immutable "read" table
 * through one atomic pointer. New keys go to a "dirty" table under a mutex,
 * which replaces the read table once enough loads have missed it.
 * Overview and the reclamation scheme: docs/sync.md, src/map.c.
 *
 * Keys and values are either byte strings of a fixed size (key_size or
 * value_size > 0), copied in and copied out, or pointers (size 0), stored
 * as given. Everywhere a key or a value is passed:
 *   bytes:    `key`/`value` points to key_size/value_size bytes; `out`
 *             points to a buffer of value_size bytes (or is NULL);
 *   pointers: `key`/`value` IS the key/value (void *, NULL allowed); `out`
 *             is a void ** (or NULL).
 * hash(key, key_size) and equal(a, b, key_size) receive keys as passed
 * (NULL: byte keys are hashed and compared bytewise, pointer keys by
 * address). They must not park, and must not use the map. Values are
 * compared (compare_and_swap, compare_and_delete) bytewise or by address.
 *
 * Ownership and reclamation. The map owns its copies of byte keys and
 * values. Without key_free/value_free it never frees a pointer key or
 * value: their pointees must outlive the map's use of them (until
 * goc_map_free, for keys). With them, the map owns what it was given:
 * store, swap and load_or_store take their pointer key when they return
 * >= 0 (one equal to a key already present is freed at once) and their
 * value when they store it; the map calls key_free/value_free on a key or
 * value it is done with: after it was
 * removed (or replaced) AND every map operation that might still be
 * looking at it has ended (epoch-based reclamation; see src/map.c), so a
 * concurrent lookup never runs equal() on a freed key, and a range callback
 * never sees a freed value. A pointer value returned by a load is the
 * caller's to keep alive from then on: with value_free set, either the
 * caller knows nobody replaces or deletes that key meanwhile, or it brackets
 * the load and its use with goc_map_enter/goc_map_leave, which keep
 * everything the map held at any point in between from being freed (a
 * guard may be held across parks; holding it long only delays frees).
 * Memory the map frees is freed by whichever goroutine or thread completes
 * a grace period (a writer), never by a reader.
 *
 * Memory model, as Go's: a store (store, swap, load_or_store's store, a
 * successful compare_and_swap) happens before every load that observes it.
 * Functions that can allocate return -ENOMEM, changing nothing, when out of
 * memory. No operation but a contended write's brief mutex ever parks. */
typedef struct goc_map goc_map;

typedef struct goc_map_type {
    size_t key_size;   /* > 0: keys are key_size bytes; 0: keys are pointers */
    size_t value_size; /* > 0: values are value_size bytes; 0: pointers */
    uint64_t (*hash)(const void *key, size_t key_size);
    bool (*equal)(const void *a, const void *b, size_t key_size);
    void (*key_free)(void *key);     /* pointer keys only; NULL: never freed */
    void (*value_free)(void *value); /* pointer values only; NULL: never freed */
} goc_map_type;

/* A read-side guard (goc_map_enter). */
typedef struct goc_map_guard {
    uint32_t slot, parity;
} goc_map_guard;

/* A new empty map of that type (copied), or NULL without memory. */
GOC_API goc_map *goc_map_new(const goc_map_type *type);
/* Frees the map and everything in it (key_free/value_free on what it
 * holds). Nobody may use it any more, nor hold a guard on it. */
GOC_API void goc_map_free(goc_map *m);
/* Load: true and the value in *out if key is present. */
GOC_API bool goc_map_load(goc_map *m, const void *key, void *out);
/* Store: sets key's value. 0 or -ENOMEM. */
GOC_API int goc_map_store(goc_map *m, const void *key, const void *value);
/* LoadOrStore: 1 if key was present (its value in *out, nothing stored),
 * 0 if value was stored (and copied to *out), -ENOMEM. */
GOC_API int goc_map_load_or_store(goc_map *m, const void *key, const void *value, void *out);
/* LoadAndDelete: true if key was present (its value in *out); deletes it. */
GOC_API bool goc_map_load_and_delete(goc_map *m, const void *key, void *out);
GOC_API void goc_map_delete(goc_map *m, const void *key);
/* Swap: stores value; 1 if key was present (previous value in *out), 0 if
 * not, -ENOMEM. */
GOC_API int goc_map_swap(goc_map *m, const void *key, const void *value, void *out);
/* CompareAndSwap: stores new_value if key's value equals old_value. 1 if
 * swapped, 0 if not, -ENOMEM. */
GOC_API int goc_map_compare_and_swap(goc_map *m, const void *key, const void *old_value,
                                     const void *new_value);
/* CompareAndDelete: deletes key if its value equals old_value; true if so. */
GOC_API bool goc_map_compare_and_delete(goc_map *m, const void *key, const void *old_value);
/* Range: fn(key, value, arg) for each key, as Go's: no key twice, each
 * value one that key had at some point during the call; fn returning false
 * stops. fn gets keys and values as passed (bytes: pointers to the map's
 * copies, valid during the call) and may do anything, using the map
 * included (that may or may not be seen by the range). */
GOC_API void goc_map_range(goc_map *m, bool (*fn)(const void *key, const void *value, void *arg),
                           void *arg);
/* Nothing the map holds or held while the guard is in place is freed until
 * goc_map_leave. Guards nest; a guard may be left on another worker. */
GOC_API goc_map_guard goc_map_enter(goc_map *m);
GOC_API void goc_map_leave(goc_map *m, goc_map_guard g);

#ifdef __cplusplus
}
#endif
#endif
