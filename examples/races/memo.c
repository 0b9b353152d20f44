/* races/memo.c: the memo cache's first four versions (seed 000; seed 002 §2.6.1-2.6.4): unsafe, one lock, two-phase locking, and an entry with a ready channel.
 *
 * A Memo caches the results of a slow function f, and many goroutines ask
 * it for the same keys at once. Version 1 is not safe for concurrent use:
 *
 *     func (memo *Memo) Get(key string) (interface{}, error) {
 *         res, ok := memo.cache[key]
 *         if !ok {
 *             res.value, res.err = memo.f(key)
 *             memo.cache[key] = res
 *         }
 *         return res.value, res.err
 *     }
 *
 * Version 2 holds memo.mu across the whole of Get, f's call included, so
 * every Get waits for every other: safe, and as slow as calling f for
 * each key in turn. Version 3 takes the lock twice, to look and to store,
 * and calls f between the two: the gets run in parallel, but goroutines
 * that miss the same key at once all call f (duplicate work, the last
 * store wins). Version 4 stores, under the lock, an entry whose ready
 * channel is closed once its result is there: the first goroutine to ask
 * for a key calls f, the others wait on ready (duplicate suppression):
 *
 *     func (memo *Memo) Get(key string) (value interface{}, err error) {
 *         memo.mu.Lock()
 *         e := memo.cache[key]
 *         if e == nil {
 *             e = &entry{ready: make(chan struct{})}
 *             memo.cache[key] = e
 *             memo.mu.Unlock()
 *             e.res.value, e.res.err = memo.f(key)
 *             close(e.ready) // broadcast ready condition
 *         } else {
 *             memo.mu.Unlock()
 *             <-e.ready // wait for ready condition
 *         }
 *         return e.res.value, e.res.err
 *     }
 *
 * (goc_memo, goc/memo.h, is version 4 as a library type; the fifth, a
 * monitor goroutine that owns the map, is examples/memo_monitor.c.)
 *
 * Usage: memo [racy|lock|twophase|entry] (none: lock, twophase and entry in
 * turn, the demo). Each makes GOROUTINES concurrent
 * gets, KEYS keys each asked for by GOROUTINES / KEYS goroutines, all at
 * once; f sleeps LATENCY (the far server) and counts its calls. Prints the
 * gets, f's calls and the time they took:
 *   racy      version 1: the race detector (make race) reports the map's
 *             read in one Get against its write in another, exit 66
 *   lock      version 2: 4 calls, about 4 x LATENCY
 *   twophase  version 3: up to 20 calls (here usually 20: every goroutine
 *             misses before any call returns), about 1 x LATENCY
 *   entry     version 4: 4 calls, about 1 x LATENCY
 * The cache is a small chained hash table of C strings, as unsafe as Go's
 * map under concurrent writes; the values are the key's length.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

enum { KEYS = 4, GOROUTINES = 20, BUCKETS = 64 };
#define LATENCY (20 * GOC_MILLISECOND)

static const char *keys[KEYS] = {"https://golang.org", "https://godoc.org",
                                 "https://play.golang.org", "http://gopl.io"};

/* ---- f: the slow function ---- */

static atomic_int calls;

static long slow_f(const char *key)
{
    atomic_fetch_add(&calls, 1);
    goc_sleep(LATENCY);
    return (long)strlen(key);
}

/* ---- the cache: key -> entry ---- */

struct entry {
    struct entry *next;
    const char *key;
    long value;
    goc_chan *ready; /* version 4: closed when value is set */
};

struct memo {
    goc_mutex mu; /* guards cache (versions 2-4) */
    struct entry *cache[BUCKETS];
};

static struct entry **slot(struct memo *m, const char *key)
{
    unsigned h = 2166136261u;
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    struct entry **e = &m->cache[h % BUCKETS];
    while (*e && strcmp((*e)->key, key) != 0)
        e = &(*e)->next;
    return e; /* the entry, or where it goes */
}

/* memo.cache[key] = value (versions 1-3): a new entry, or the old one's
 * value overwritten (the last store wins). */
static void put(struct memo *m, const char *key, long value)
{
    struct entry **e = slot(m, key);
    if (!*e) {
        struct entry *n = calloc(1, sizeof *n);
        if (!n)
            abort();
        n->key = key;
        *e = n;
    }
    (*e)->value = value;
}

/* Version 1: NOTE: not concurrency-safe! */
static long get1(struct memo *m, const char *key)
{
    struct entry *e = *slot(m, key);
    if (e)
        return e->value;
    long v = slow_f(key);
    put(m, key, v);
    return v;
}

/* Version 2: concurrency-safe, one Get at a time. */
static long get2(struct memo *m, const char *key)
{
    goc_mutex_lock(&m->mu);
    struct entry *e = *slot(m, key);
    long v = e ? e->value : 0;
    if (!e) {
        v = slow_f(key);
        put(m, key, v);
    }
    goc_mutex_unlock(&m->mu);
    return v;
}

/* Version 3: two critical sections, f called between them. */
static long get3(struct memo *m, const char *key)
{
    goc_mutex_lock(&m->mu);
    struct entry *e = *slot(m, key);
    long v = e ? e->value : 0;
    goc_mutex_unlock(&m->mu);
    if (!e) {
        v = slow_f(key);
        /* Between the two critical sections, several goroutines may race
         * to compute f(key) and update the map. */
        goc_mutex_lock(&m->mu);
        put(m, key, v);
        goc_mutex_unlock(&m->mu);
    }
    return v;
}

/* Version 4: an entry with a ready broadcast. */
static long get4(struct memo *m, const char *key)
{
    goc_mutex_lock(&m->mu);
    struct entry **s = slot(m, key), *e = *s;
    if (!e) {
        /* This is the first request for this key. This goroutine becomes
         * responsible for computing the value and broadcasting the ready
         * condition. */
        e = calloc(1, sizeof *e);
        if (!e || !(e->ready = goc_chan_make(0, 0)))
            abort();
        e->key = key;
        *s = e;
        goc_mutex_unlock(&m->mu);
        e->value = slow_f(key);
        goc_chan_close(e->ready); /* broadcast ready condition */
    } else {
        /* This is a repeat request for this key. */
        goc_mutex_unlock(&m->mu);
        goc_chan_recv(e->ready, NULL); /* wait for ready condition */
    }
    return e->value;
}

/* ---- the driver ---- */

static struct memo memo = {.mu = GOC_MUTEX_INIT};
static long (*get)(struct memo *, const char *); /* the version run */
static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static atomic_int wrong;

static void client(void *arg)
{
    const char *key = arg;
    if (get(&memo, key) != (long)strlen(key))
        atomic_fetch_add(&wrong, 1);
    goc_waitgroup_done(&wg);
}

/* One version: GOROUTINES gets at once, then what f saw. */
static void run(const char *name, long (*version)(struct memo *, const char *))
{
    get = version;
    atomic_store(&calls, 0);
    atomic_store(&wrong, 0);
    int64_t start = goc_now();
    goc_waitgroup_add(&wg, GOROUTINES);
    for (int i = 0; i < GOROUTINES; i++)
        goc_go(client, (void *)keys[i % KEYS]);
    goc_waitgroup_wait(&wg);
    int64_t ms = (goc_now() - start) / GOC_MILLISECOND;
    printf("%s: %d gets of %d keys, %d calls of f, %d wrong values, %lld ms (f takes %lld)\n",
           name, GOROUTINES, KEYS, atomic_load(&calls), atomic_load(&wrong), (long long)ms,
           (long long)(LATENCY / GOC_MILLISECOND));
    for (int b = 0; b < BUCKETS; b++) {
        for (struct entry *e = memo.cache[b], *next; e; e = next) {
            next = e->next;
            goc_chan_release(e->ready);
            free(e);
        }
        memo.cache[b] = NULL;
    }
}

static int real_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        long (*get)(struct memo *, const char *);
    } versions[] = {{"racy", get1}, {"lock", get2}, {"twophase", get3}, {"entry", get4}};
    enum { NVERSIONS = sizeof versions / sizeof versions[0] };
    if (argc == 1) { /* the demo: the three safe versions in turn */
        for (int i = 1; i < NVERSIONS; i++)
            run(versions[i].name, versions[i].get);
        return 0;
    }
    for (int i = 0; argc == 2 && i < NVERSIONS; i++) {
        if (strcmp(argv[1], versions[i].name) == 0) {
            run(versions[i].name, versions[i].get);
            return 0;
        }
    }
    fprintf(stderr, "usage: memo [racy|lock|twophase|entry]\n");
    return 2;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
