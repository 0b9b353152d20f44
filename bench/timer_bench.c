/* timer_bench.c: sleep and timer benchmarks (Go twin: bench/go/timer_bench.go).
 *
 * Usage: timer_bench <benchmark>; prints one number:
 *
 *   sleep100k       100,000 goroutines, started one after another, each
 *                   sleeping a pseudo-random duration d in [0, 100 ms]
 *                   (the same sequence in Go): the mean oversleep in
 *                   microseconds, oversleep = (instant after goc_sleep -
 *                   instant before it) - d
 *   sleep100k_wall  the same run's wall time in milliseconds, from the first
 *                   goc_go until the last sleeper is done (printed by a
 *                   sleep100k run as "bench-also: sleep100k_wall <ms>" on
 *                   stderr; run alone it runs the experiment itself)
 *   sleep10k, sleep10k_wall     the same with 10,000 sleepers
 *   timer_churn     1,000,000 timers split over one goroutine per worker
 *                   (as Go's b.RunParallel): each goroutine makes its share
 *                   with goc_timer_new(1 h + r), resets each to 1 h + r',
 *                   stops each, frees each (Go: NewTimer, Reset, Stop; its
 *                   garbage collector frees them); ns per start, reset or
 *                   stop (wall / 3,000,000)
 *
 * None of the timers in timer_churn fires: it measures the heaps.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

#define BENCH_NAME "timer_bench"
#include "bench.h"

/* splitmix64: the pseudo-random sequence both twins use. */
static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* ---- sleepers ---- */

static int64_t *over; /* each sleeper's oversleep, ns */

static void sleeper(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    int64_t d = (int64_t)(mix(i) % (uint64_t)(100 * GOC_MILLISECOND + 1));
    int64_t t0 = goc_now();
    goc_sleep(d);
    over[i] = goc_now() - t0 - d;
}

/* Prints the mean oversleep (us) or the wall time (ms), and the other on
 * stderr for bench/run.sh. */
static void sleepers(int n, const char *name, bool want_wall)
{
    over = calloc((size_t)n, sizeof *over);
    if (!over)
        die("out of memory");
    double wall_ms = run_goroutines(n, sleeper) / 1e6;
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)over[i];
    double mean_us = sum / n / 1e3;
    free(over);
    if (want_wall) {
        fprintf(stderr, "bench-also: %s %.3f\n", name, mean_us);
        printf("%.3f\n", wall_ms);
    } else {
        fprintf(stderr, "bench-also: %s_wall %.3f\n", name, wall_ms);
        printf("%.3f\n", mean_us);
    }
}

/* ---- timer churn ---- */

#define CHURN_TIMERS 1000000

static int churn_per;

static void churner(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * CHURN_TIMERS;
    goc_timer **ts = malloc(sizeof *ts * (size_t)churn_per);
    if (!ts)
        die("out of memory");
    for (int i = 0; i < churn_per; i++) {
        ts[i] = goc_timer_new(GOC_HOUR + (int64_t)(mix(seed + (uint64_t)i) % GOC_SECOND));
        if (!ts[i])
            die("goc_timer_new failed");
    }
    for (int i = 0; i < churn_per; i++)
        goc_timer_reset(ts[i], GOC_HOUR + (int64_t)(mix(~(seed + (uint64_t)i)) % GOC_SECOND));
    for (int i = 0; i < churn_per; i++)
        goc_timer_stop(ts[i]);
    for (int i = 0; i < churn_per; i++)
        goc_timer_free(ts[i]);
    free(ts);
}

static double churn(void)
{
    int procs = goc_maxprocs(0);
    churn_per = CHURN_TIMERS / procs;
    return run_goroutines(procs, churner) / (3.0 * churn_per * procs);
}

static const char *const usage = "usage: timer_bench sleep100k[_wall]|sleep10k[_wall]|timer_churn";

static int bench_main(int argc, char **argv)
{
    const char *b = bench_arg(argc, argv, usage);
    if (!strcmp(b, "sleep100k") || !strcmp(b, "sleep100k_wall"))
        sleepers(100000, "sleep100k", strstr(b, "_wall") != NULL);
    else if (!strcmp(b, "sleep10k") || !strcmp(b, "sleep10k_wall"))
        sleepers(10000, "sleep10k", strstr(b, "_wall") != NULL);
    else if (!strcmp(b, "timer_churn"))
        return bench_report(churn());
    else
        bench_unknown(b, usage);
    return 0;
}

int main(int argc, char **argv) { return goc_main(bench_main, argc, argv); }
