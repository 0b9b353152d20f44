/* bench.h: what every C benchmark program shares. Each prints one number
 * for the benchmark named by argv[1] (bench/run.sh reads it). */
#ifndef GOC_BENCH_H
#define GOC_BENCH_H

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <goc/chan.h>
#include <goc/runtime.h>
#include <goc/sync.h>
#include <goc/time.h>

static inline double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The program's name, for messages: each benchmark defines BENCH_NAME. */
static inline _Noreturn void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", BENCH_NAME, what);
    exit(1);
}

/* Runs fn(i) in n goroutines, i = 0 .. n-1, and waits for them all: the
 * wall time in ns from before the first start to after the last end. */
static inline double run_goroutines(long n, goc_fn fn)
{
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (goc_waitgroup_go(&wg, fn, (void *)i) <= 0)
            die("goc_go failed");
    goc_waitgroup_wait(&wg);
    return now_ns() - t0;
}

/* Timing one wake-up of many waiters (CancelBroadcast, cond_broadcast),
 * as the Go twins do it: a round starts n waiters, each calling
 * bench_wake_started just before it blocks and bench_wake_woken once
 * woken; main triggers the wake-up and waits in bench_wake_wait until the
 * last has woken. Nothing joins the waiters, as in the Go twins: the last
 * one marks `closed` once its close of `all` has returned, so that
 * bench_wake_end releases the channel with no call on it in flight (an
 * operation needs its reference held until it returns,
 * include/goc/chan.h). */
typedef struct {
    int n;
    atomic_int woken;
    goc_chan *all; /* closed by the last waiter to wake */
    goc_waitgroup started, closed;
} bench_wake;

/* Starts n waiters and returns once all are parked (2 ms after the last
 * has reached its wait, as the twins sleep). */
static inline void bench_wake_start(bench_wake *w, int n, goc_fn waiter)
{
    w->n = n;
    atomic_store(&w->woken, 0);
    if (!(w->all = goc_chan_make(0, 0)))
        die("goc_chan_make failed");
    goc_waitgroup_add(&w->started, n);
    goc_waitgroup_add(&w->closed, 1);
    for (int i = 0; i < n; i++)
        if (goc_go(waiter, NULL) <= 0)
            die("goc_go failed");
    goc_waitgroup_wait(&w->started);
    goc_sleep(2 * GOC_MILLISECOND);
}

static inline void bench_wake_started(bench_wake *w) { goc_waitgroup_done(&w->started); }

static inline void bench_wake_woken(bench_wake *w)
{
    if (atomic_fetch_add(&w->woken, 1) + 1 == w->n) {
        goc_chan_close(w->all);
        goc_waitgroup_done(&w->closed);
    }
}

static inline void bench_wake_wait(bench_wake *w) { goc_chan_recv(w->all, NULL); }

static inline void bench_wake_end(bench_wake *w)
{
    goc_waitgroup_wait(&w->closed);
    goc_chan_release(w->all);
}

/* main's check: the one argument, the benchmark's name; otherwise the
 * usage line and exit status 1. */
static inline const char *bench_arg(int argc, char **argv, const char *usage)
{
    if (argc != 2) {
        fprintf(stderr, "%s\n", usage);
        exit(1);
    }
    return argv[1];
}

/* A benchmark name the program does not know: exit status 1. */
static inline _Noreturn void bench_unknown(const char *name, const char *usage)
{
    fprintf(stderr, "%s: unknown benchmark '%s'\n%s\n", BENCH_NAME, name, usage);
    exit(1);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of n figures (sorts them), as the Go twins' sort + xs[n/2]. */
static inline double bench_median(double *xs, int n)
{
    qsort(xs, (size_t)n, sizeof *xs, bench_cmp_double);
    return xs[n / 2];
}

/* The one number bench/run.sh reads, on stdout. Returns main's status. */
static inline int bench_report(double v)
{
    printf("%.2f\n", v);
    fflush(stdout);
    return 0;
}

#endif
