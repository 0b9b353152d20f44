/* races/watchdog.c: seed 001, case 5: an unprotected field.
 *
 *     type Watchdog struct{ last int64 }
 *     func (w *Watchdog) KeepAlive() {
 *         w.last = time.Now().UnixNano() // First conflicting access.
 *     }
 *     func (w *Watchdog) Start() {
 *         go func() {
 *             for {
 *                 time.Sleep(time.Second)
 *                 // Second conflicting access.
 *                 if w.last < time.Now().Add(-10*time.Second).UnixNano() { ... }
 *             }
 *         }()
 *     }
 *
 * Here the watchdog checks a bounded number of times, yielding in between
 * (no sleep), while main keeps it alive.
 * Usage: watchdog racy|atomic|mutex
 *   racy    plain accesses: the race detector reports KeepAlive's write and
 *           the watchdog's read, exit 66
 *   atomic  atomic store and load of last (the seed's fix)
 *   mutex   last under a goc_mutex
 * The fixed versions print "watchdog: alive".
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <goc.h>

typedef struct watchdog {
    int64_t last;
    goc_mutex mu;
    int variant; /* 0 racy, 1 atomic, 2 mutex */
    int died;
    goc_waitgroup done;
} watchdog;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void keep_alive(watchdog *w)
{
    int64_t t = now_ns();
    switch (w->variant) {
    case 0: w->last = t; break; /* First conflicting access. */
    case 1: __atomic_store_n(&w->last, t, __ATOMIC_RELAXED); break;
    default:
        goc_mutex_lock(&w->mu);
        w->last = t;
        goc_mutex_unlock(&w->mu);
    }
}

static int64_t last_seen(watchdog *w)
{
    int64_t t;
    switch (w->variant) {
    case 0: return w->last; /* Second conflicting access. */
    case 1: return __atomic_load_n(&w->last, __ATOMIC_RELAXED);
    default:
        goc_mutex_lock(&w->mu);
        t = w->last;
        goc_mutex_unlock(&w->mu);
        return t;
    }
}

static void watch(void *arg)
{
    watchdog *w = arg;
    for (int i = 0; i < 200; i++) {
        goc_yield();
        if (last_seen(w) < now_ns() - 10 * INT64_C(1000000000)) {
            printf("No keepalives for 10 seconds. Dying.\n");
            w->died = 1;
            break;
        }
    }
    goc_waitgroup_done(&w->done);
}

static void start(watchdog *w)
{
    goc_waitgroup_add(&w->done, 1);
    goc_go(watch, w);
}

static int real_main(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : "";
    static watchdog w = {.mu = GOC_MUTEX_INIT, .done = GOC_WAITGROUP_INIT};
    w.variant = strcmp(v, "racy") == 0 ? 0 : strcmp(v, "atomic") == 0 ? 1 : strcmp(v, "mutex") == 0 ? 2 : -1;
    if (w.variant < 0) {
        fprintf(stderr, "usage: watchdog racy|atomic|mutex\n");
        return 2;
    }
    w.last = now_ns();
    start(&w);
    for (int i = 0; i < 200; i++) {
        keep_alive(&w);
        goc_yield();
    }
    goc_waitgroup_wait(&w.done);
    if (!w.died)
        printf("watchdog: alive\n");
    return w.died;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
