/* sync_bench.c: sync toolbox benchmarks (Go twin: bench/go/sync_bench.go).
 *
 * Usage: sync_bench <benchmark>; prints one number, ns per operation:
 *
 *   config_mutex     seed 001's config benchmark: every worker runs
 *   config_rwmutex   iterations of Set, Get, Get, Get, Set, Get, Get on one
 *   config_atomic    shared config guarded by a goc_mutex, a goc_rwmutex, or
 *                    published with goc_value (a Get is load + release;
 *                    static configs, no reclamation needed);
 *                    ns per iteration (wall / all iterations, as Go's
 *                    b.RunParallel reports)
 *   config_atomic_cow  the same, copy-on-write: each Set publishes a new
 *                    malloc'd config, reclaimed by goc_value (free_fn)
 *   mutex_uncontended  each worker locks and unlocks its own mutex
 *   mutex_8          8 goroutines increment a counter under one mutex
 *   mutex_1000       1,000 goroutines do the same; ns per lock+unlock
 *   rwmutex_read     read-mostly: every worker, 1 write lock in 100, else
 *                    rlock/runlock (Go's BenchmarkRWMutexWrite100)
 *   waitgroup        each worker: add(1), done, wait on its own WaitGroup
 *   once             every worker calls goc_once_do on one done Once
 *   pool             every worker: put then get
 *   map_load         load-mostly: 1,000 int keys, every worker loads them
 *                    in turn (Go's BenchmarkLoadMostlyHits)
 *   cond_broadcast   1,000 goroutines in goc_cond_wait: ns from the
 *                    broadcast until the last has woken and left the lock
 *                    (median of 50 rounds; not per operation)
 *
 * One goroutine per worker (GOC_MAXPROCS) unless stated, as RunParallel.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <goc/runtime.h>
#include <goc/sync.h>

#define BENCH_NAME "sync_bench"
#include "bench.h"

static long per_g; /* iterations per goroutine */

static volatile long sink;

/* ---- config ---- */

static int data_a[3] = {1, 2, 3}, data_b[1] = {100};

/* One config per kind, each its own object with the seed's fields in the
 * seed's order (Go: MutexConfig{data, mu}, RWMutexConfig{rw, data},
 * Config{v}), each on its own cache line as Go's allocator places the
 * 32-byte MutexConfig. */
#define LINE __attribute__((aligned(64)))
static struct {
    int *data;
    goc_mutex mu;
} LINE mcfg = {data_a, GOC_MUTEX_INIT};
static struct {
    goc_rwmutex rw;
    int *data;
} LINE rwcfg = {GOC_RWMUTEX_INIT, data_a};
static struct {
    goc_value v;
} LINE cfg = {GOC_VALUE_INIT(NULL)};

static inline void mset(int *n) { goc_mutex_lock(&mcfg.mu); mcfg.data = n; goc_mutex_unlock(&mcfg.mu); }
static inline int *mget(void) { goc_mutex_lock(&mcfg.mu); int *d = mcfg.data; goc_mutex_unlock(&mcfg.mu); return d; }
static inline void rwset(int *n) { goc_rwmutex_lock(&rwcfg.rw); rwcfg.data = n; goc_rwmutex_unlock(&rwcfg.rw); }
static inline int *rwget(void) { goc_rwmutex_rlock(&rwcfg.rw); int *d = rwcfg.data; goc_rwmutex_runlock(&rwcfg.rw); return d; }
/* config_atomic: the configs are static, as in the mutex variants, so the
 * value needs no reclamation (free_fn NULL). config_atomic_cow: copy-on-
 * write as the seed's Go does it, each Set publishing a new malloc'd
 * config ([]int{100}), the replaced ones freed by goc_value's reclamation. */
static bool cow;

static inline void aset(int *n)
{
    int *c = n;
    if (cow) {
        if (!(c = malloc(sizeof *c)))
            die("malloc");
        *c = *n;
    }
    if (goc_value_store(&cfg.v, c))
        die("goc_value_store");
}

static inline int *aget(void)
{
    goc_value_ref r;
    int *d = goc_value_load(&cfg.v, &r);
    goc_value_release(&cfg.v, &r);
    return d;
}

#define CONFIG_BODY(set, get)                                                   \
    long s = 0;                                                                 \
    for (long i = 0, n = per_g; i < n; i++) {                                   \
        set(data_b);                                                            \
        s += (long)get();                                                       \
        s += (long)get();                                                       \
        s += (long)get();                                                       \
        set(data_b);                                                            \
        s += (long)get();                                                       \
        s += (long)get();                                                       \
    }                                                                           \
    sink = s;

static void config_mutex_fn(void *arg) { (void)arg; CONFIG_BODY(mset, mget) }
static void config_rwmutex_fn(void *arg) { (void)arg; CONFIG_BODY(rwset, rwget) }
static void config_atomic_fn(void *arg) { (void)arg; CONFIG_BODY(aset, aget) }

/* ---- mutex ---- */

struct padded_mutex {
    goc_mutex m;
} __attribute__((aligned(128)));

static struct padded_mutex *own;
static goc_mutex shared_mu = GOC_MUTEX_INIT;
static long counter;

static void mutex_uncontended_fn(void *arg)
{
    goc_mutex *m = &own[(long)arg].m;
    for (long i = 0, n = per_g; i < n; i++) {
        goc_mutex_lock(m);
        goc_mutex_unlock(m);
    }
}

static void mutex_counter_fn(void *arg)
{
    (void)arg;
    for (long i = 0, n = per_g; i < n; i++) {
        goc_mutex_lock(&shared_mu);
        counter++;
        goc_mutex_unlock(&shared_mu);
    }
}

/* ---- rwmutex read-mostly ---- */

static goc_rwmutex rw = GOC_RWMUTEX_INIT;

static void rwmutex_fn(void *arg)
{
    (void)arg;
    for (long i = 0, n = per_g; i < n; i++) {
        if (i % 100 == 0) {
            goc_rwmutex_lock(&rw);
            goc_rwmutex_unlock(&rw);
        } else {
            goc_rwmutex_rlock(&rw);
            goc_rwmutex_runlock(&rw);
        }
    }
}

/* ---- waitgroup, once, pool ---- */

struct padded_wg {
    goc_waitgroup wg;
} __attribute__((aligned(128)));
static struct padded_wg *wgs;

static void waitgroup_fn(void *arg)
{
    goc_waitgroup *w = &wgs[(long)arg].wg;
    for (long i = 0, n = per_g; i < n; i++) {
        goc_waitgroup_add(w, 1);
        goc_waitgroup_done(w);
        goc_waitgroup_wait(w);
    }
}

static goc_once once = GOC_ONCE_INIT;
static void once_body(void *arg) { (void)arg; }

static void once_fn(void *arg)
{
    (void)arg;
    for (long i = 0, n = per_g; i < n; i++)
        goc_once_do(&once, once_body, NULL);
}

static goc_pool pool = GOC_POOL_INIT(NULL, NULL, NULL);
static int pool_obj;

static void pool_fn(void *arg)
{
    (void)arg;
    long s = 0;
    for (long i = 0, n = per_g; i < n; i++) {
        goc_pool_put(&pool, &pool_obj);
        s += (long)goc_pool_get(&pool);
    }
    sink = s;
}

/* ---- map ---- */

enum { MAP_HITS = 1000 };
static goc_map *map;

static void map_fn(void *arg)
{
    long s = 0;
    int64_t k = (long)arg * 31, v;
    for (long i = 0, n = per_g; i < n; i++) {
        if (++k >= MAP_HITS)
            k = 0;
        goc_map_load(map, &k, &v);
        s += v;
    }
    sink = s;
}

/* ---- cond_broadcast ---- */

enum { NCOND = 1000, COND_ROUNDS = 50 };
static goc_mutex cond_mu = GOC_MUTEX_INIT;
static goc_cond cond = GOC_COND_INIT(&cond_mu);
static int cond_gen; /* under cond_mu */
static bench_wake cwake = {.started = GOC_WAITGROUP_INIT, .closed = GOC_WAITGROUP_INIT};

static void cond_waiter(void *arg)
{
    (void)arg;
    goc_mutex_lock(&cond_mu);
    int gen = cond_gen;
    bench_wake_started(&cwake);
    while (cond_gen == gen)
        goc_cond_wait(&cond);
    goc_mutex_unlock(&cond_mu);
    bench_wake_woken(&cwake);
}

static double cond_broadcast(void)
{
    double times[COND_ROUNDS];
    for (int r = 0; r < COND_ROUNDS; r++) {
        bench_wake_start(&cwake, NCOND, cond_waiter);
        double t0 = now_ns();
        goc_mutex_lock(&cond_mu); /* the last waiter is in its wait once we have it */
        cond_gen++;
        goc_cond_broadcast(&cond);
        goc_mutex_unlock(&cond_mu);
        bench_wake_wait(&cwake);
        times[r] = now_ns() - t0;
        bench_wake_end(&cwake);
    }
    return bench_median(times, COND_ROUNDS);
}

static const char *const usage = "usage: sync_bench <benchmark>";

static int bench_main(int argc, char **argv)
{
    const char *b = bench_arg(argc, argv, usage);
    int procs = goc_maxprocs(0);
    long total;
    int n = procs;
    goc_fn fn;
    if (strcmp(b, "config_mutex") == 0) {
        total = 1000000, fn = config_mutex_fn;
    } else if (strcmp(b, "config_rwmutex") == 0) {
        total = 1000000, fn = config_rwmutex_fn;
    } else if (strcmp(b, "config_atomic") == 0 || strcmp(b, "config_atomic_cow") == 0) {
        cow = b[13] == '_';
        if (cow)
            goc_value_init(&cfg.v, free);
        aset(data_a);
        total = 2000000, fn = config_atomic_fn;
    } else if (strcmp(b, "mutex_uncontended") == 0) {
        own = aligned_alloc(128, sizeof *own * (size_t)procs);
        for (int i = 0; i < procs; i++)
            goc_mutex_init(&own[i].m);
        total = 50000000, fn = mutex_uncontended_fn;
    } else if (strcmp(b, "mutex_8") == 0) {
        n = 8, total = 10000000, fn = mutex_counter_fn;
    } else if (strcmp(b, "mutex_1000") == 0) {
        n = 1000, total = 10000000, fn = mutex_counter_fn;
    } else if (strcmp(b, "rwmutex_read") == 0) {
        total = 20000000, fn = rwmutex_fn;
    } else if (strcmp(b, "waitgroup") == 0) {
        wgs = aligned_alloc(128, sizeof *wgs * (size_t)procs);
        for (int i = 0; i < procs; i++)
            goc_waitgroup_init(&wgs[i].wg);
        total = 20000000, fn = waitgroup_fn;
    } else if (strcmp(b, "once") == 0) {
        total = 200000000, fn = once_fn;
    } else if (strcmp(b, "pool") == 0) {
        total = 20000000, fn = pool_fn;
    } else if (strcmp(b, "cond_broadcast") == 0) {
        return bench_report(cond_broadcast());
    } else if (strcmp(b, "map_load") == 0) {
        goc_map_type t = {.key_size = 8, .value_size = 8};
        map = goc_map_new(&t);
        for (int64_t i = 0; i < MAP_HITS; i++)
            goc_map_load_or_store(map, &i, &i, NULL);
        total = 50000000, fn = map_fn;
    } else {
        bench_unknown(b, usage);
    }
    per_g = total / n;
    double ns = run_goroutines(n, fn);
    if (strncmp(b, "mutex_", 6) == 0 && b[6] != 'u' && counter != per_g * n)
        die("counter is off");
    return bench_report(ns / (double)(per_g * n));
}

int main(int argc, char **argv) { return goc_main(bench_main, argc, argv); }
