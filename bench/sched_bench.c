/* sched_bench.c: scheduler benchmarks (Go twin: bench/go/sched_bench.go).
 *
 * Usage: sched_bench <benchmark>
 * Prints exactly one number on stdout (diagnostics go to stderr):
 *
 *   spawn          ns per goroutine: spawn and join 1e6 empty goroutines
 *                  (goc_waitgroup_add before each goc_go, done inside).
 *   yield          ns per goc_yield: two goroutines yield N = 5e6 times
 *                  each; wall / (2N).
 *   parked_rss     bytes of RSS per goroutine parked on a WaitGroup: 1e6
 *                  goroutines wait on `gate`; (RSS after - before) / 1e6.
 *   parked_create  ns per goroutine of that experiment, from before the
 *                  first goc_go until every goroutine has started (each
 *                  bumps a counter just before it waits; goroutine 1 spins
 *                  with goc_yield until the counter reaches 1e6).
 *   parked_pte     bytes of page tables (VmPTE) per parked goroutine.
 *   bareswap       ns per bare register swap (bench/sched_bench_asm.S)
 *                  between the main stack and a coroutine on a malloc'd
 *                  64 KiB stack: the reference for yield. Does not use goc.
 *
 * The parked experiment also writes all its figures to stderr, one
 *   "bench-also: <name> <value>" line each, so that bench/run.sh runs it
 *   once per round and worker count instead of once per figure.
 *
 * Workers: GOC_MAXPROCS from the environment, as usual.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <goc/runtime.h>
#include <goc/sync.h>

#define SPAWN_N 1000000
#define YIELD_N 5000000
#define PARKED_N 1000000
#define SWAP_N 20000000L
#define SWAP_STACK (64 * 1024)

#define BENCH_NAME "sched_bench"
#include "bench.h"

/* ---- spawn ---------------------------------------------------------- */

static void spawn_fn(void *arg)
{
    goc_waitgroup_done((goc_waitgroup *)arg);
}

static double bench_spawn(void)
{
    static goc_waitgroup wg = GOC_WAITGROUP_INIT;
    double t0 = now_ns();
    for (int i = 0; i < SPAWN_N; i++) {
        goc_waitgroup_add(&wg, 1);
        if (goc_go(spawn_fn, &wg) <= 0)
            die("goc_go failed");
    }
    goc_waitgroup_wait(&wg);
    return (now_ns() - t0) / SPAWN_N;
}

/* ---- yield ---------------------------------------------------------- */

static void yield_fn(void *arg)
{
    for (int i = 0; i < YIELD_N; i++)
        goc_yield();
    goc_waitgroup_done((goc_waitgroup *)arg);
}

static double bench_yield(void)
{
    static goc_waitgroup wg = GOC_WAITGROUP_INIT;
    double t0 = now_ns();
    for (int g = 0; g < 2; g++) {
        goc_waitgroup_add(&wg, 1);
        if (goc_go(yield_fn, &wg) <= 0)
            die("goc_go failed");
    }
    goc_waitgroup_wait(&wg);
    return (now_ns() - t0) / (2.0 * YIELD_N);
}

/* ---- parked_* ------------------------------------------------------- */

static double rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size, resident;
    if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
        die("cannot read /proc/self/statm");
    fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double vmpte_bytes(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    if (!f)
        die("cannot read /proc/self/status");
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmPTE:", 6) == 0) {
            kb = strtod(line + 6, NULL);
            break;
        }
    }
    fclose(f);
    if (kb < 0)
        die("no VmPTE in /proc/self/status");
    return kb * 1024;
}

static goc_waitgroup gate = GOC_WAITGROUP_INIT;
static goc_waitgroup parked_done = GOC_WAITGROUP_INIT;
static atomic_long parked_started;

static void parked_fn(void *arg)
{
    (void)arg;
    atomic_fetch_add_explicit(&parked_started, 1, memory_order_relaxed);
    goc_waitgroup_wait(&gate);
    goc_waitgroup_done(&parked_done);
}

static double bench_parked(const char *which)
{
    goc_waitgroup_add(&gate, 1);
    double rss0 = rss_bytes();
    double pte0 = vmpte_bytes();
    double t0 = now_ns();
    for (int i = 0; i < PARKED_N; i++) {
        goc_waitgroup_add(&parked_done, 1);
        if (goc_go(parked_fn, NULL) <= 0)
            die("goc_go failed");
    }
    while (atomic_load_explicit(&parked_started, memory_order_relaxed) < PARKED_N)
        goc_yield();
    double create = (now_ns() - t0) / PARKED_N;
    double rss1 = rss_bytes();
    double pte1 = vmpte_bytes();

    double t1 = now_ns();
    goc_waitgroup_done(&gate);
    goc_waitgroup_wait(&parked_done);
    double wake = (now_ns() - t1) / PARKED_N;

    double rss = (rss1 - rss0) / PARKED_N, pte = (pte1 - pte0) / PARKED_N;
    /* The experiment's other figures, for bench/run.sh to reuse (and for
     * whoever runs it by hand); parked_wake (ns per goroutine to release
     * them all and see them finish) is for information only. */
    fprintf(stderr, "bench-also: parked_rss %.2f\nbench-also: parked_create %.2f\n"
                    "bench-also: parked_pte %.2f\nbench-also: parked_wake %.2f\n",
            rss, create, pte, wake);

    if (strcmp(which, "parked_rss") == 0)
        return rss;
    if (strcmp(which, "parked_create") == 0)
        return create;
    return pte; /* parked_pte */
}

/* ---- bareswap ------------------------------------------------------- */

void bench_bare_swap(void **save_sp, void *load_sp);
void *bench_bare_make(void *stack_top, void (*fn)(void *), void *arg);

static void *bare_main_sp, *bare_co_sp;

static void bare_co(void *arg)
{
    (void)arg;
    for (;;)
        bench_bare_swap(&bare_co_sp, bare_main_sp);
}

static double bench_bareswap(void)
{
    char *stack = malloc(SWAP_STACK);
    if (!stack)
        die("out of memory");
    bare_co_sp = bench_bare_make(stack + SWAP_STACK, bare_co, NULL);
    bench_bare_swap(&bare_main_sp, bare_co_sp); /* warm up: first entry */
    double t0 = now_ns();
    for (long i = 0; i < SWAP_N; i++)
        bench_bare_swap(&bare_main_sp, bare_co_sp); /* there and back: 2 swaps */
    double t = now_ns() - t0;
    free(stack);
    return t / (2.0 * SWAP_N);
}

/* ---- main ----------------------------------------------------------- */

static const char *const usage =
    "usage: sched_bench spawn|yield|parked_rss|parked_create|parked_pte|bareswap";

static int real_main(int argc, char **argv)
{
    const char *name = bench_arg(argc, argv, usage);
    double v;
    if (strcmp(name, "spawn") == 0)
        v = bench_spawn();
    else if (strcmp(name, "yield") == 0)
        v = bench_yield();
    else if (strcmp(name, "parked_rss") == 0 || strcmp(name, "parked_create") == 0 ||
             strcmp(name, "parked_pte") == 0)
        v = bench_parked(name);
    else
        bench_unknown(name, usage);
    return bench_report(v);
}

int main(int argc, char **argv)
{
    /* The bare swap does not touch goc: no runtime, no workers. */
    if (strcmp(bench_arg(argc, argv, usage), "bareswap") == 0)
        return bench_report(bench_bareswap());
    return goc_main(real_main, argc, argv);
}
