/* context_bench.c: context, errgroup and singleflight benchmarks (Go twin:
 * bench/go/context_bench.go).
 *
 * Usage: context_bench <benchmark>; prints one number, ns per operation:
 *
 *   CommonParentCancel  Go's BenchmarkCommonParentCancel: every worker, in
 *                  a loop, derives a WithCancel child of one shared parent,
 *                  reads a value through it, does 100 divisions, cancels
 *                  it, does 100 divisions (ns per iteration, wall / all
 *                  iterations, as b.RunParallel). The child is released
 *                  (C's cancel + free; Go's GC pays for it elsewhere).
 *   CommonParentCancel0  the same without the divisions: the context work
 *                  alone (no Go counterpart in benchmark_test.go)
 *   WithTimeout    Go's BenchmarkWithTimeout, concurrency=40: 40 live
 *                  timeout contexts, and every worker makes 10 contexts
 *                  with a one-hour timeout and cancels them (ns per 10)
 *   CancelTree     Go's BenchmarkCancelTree, depth=100, Root=OpenCanceler:
 *                  a cancellable root, a chain of 100 WithCancel under it,
 *                  cancel the root (ns per tree; C also releases the 101)
 *   CheckCanceledErr, CheckCanceledDone  Go's BenchmarkCheckCanceled on a
 *                  cancelled context: Err(), and select on Done with default
 *   DeepValue      Go's BenchmarkDeepValueSameGoRoutine, depth=100: a
 *                  lookup of a key that is not there walks 100 values
 *   CancelBroadcast  1,000 goroutines blocked on Done: ns from the cancel
 *                  until the last one has woken (median of 50 rounds)
 *   Singleflight   1,000 goroutines call do on one key, whose call yields
 *                  10 times; ns per caller (a round, spawns included, /1000)
 *   ErrgroupFanout a zero group: go 100 subtasks that return 0, then wait
 *                  (ns per fan-out)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

#define BENCH_NAME "context_bench"
#include "bench.h"

static volatile long sink;

static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static long per_g;

/* n goroutines share total iterations of fn; ns per iteration. */
static double run_par(int n, long total, goc_fn fn)
{
    per_g = total / n;
    return run_goroutines(n, fn) / (double)(per_g * n);
}

/* ---- CommonParentCancel ---- */

static const char key = 0;
static goc_ctx *shared;
static bool with_work;

static inline int64_t work(int64_t x)
{
    for (int i = 0; i < 100; i++) {
        __asm__ volatile("" : "+r"(x)); /* keep the divisions (Go's x /= x + 1) */
        x /= x + 1;
    }
    return x;
}

static void common_parent_cancel(void *arg)
{
    (void)arg;
    int64_t x = 0;
    for (long i = 0, n = per_g; i < n; i++) {
        goc_ctx *ctx = goc_with_cancel(shared);
        if (strcmp(goc_ctx_value(ctx, &key), "value") != 0)
            die("should not be reached");
        if (with_work)
            x = work(x);
        goc_ctx_release(ctx); /* cancel() */
        if (with_work)
            x = work(x);
    }
    sink += x;
}

/* ---- WithTimeout ---- */

static void with_timeout(void *arg)
{
    (void)arg;
    goc_ctx *wcf[10];
    for (long i = 0, n = per_g; i < n; i++) {
        for (int j = 0; j < 10; j++)
            wcf[j] = goc_with_timeout(goc_background(), GOC_HOUR);
        for (int j = 0; j < 10; j++)
            goc_ctx_release(wcf[j]);
    }
}

/* ---- CancelBroadcast ---- */

/* Once woken, no waiter touches bctx's channel again, and all have been
 * woken before main releases bctx (include/goc/chan.h's rule). */
enum { NB = 1000 };
static goc_ctx *bctx;
static bench_wake bwake = {.started = GOC_WAITGROUP_INIT, .closed = GOC_WAITGROUP_INIT};

static void bcast_waiter(void *arg)
{
    (void)arg;
    bench_wake_started(&bwake);
    goc_chan_recv(goc_ctx_done(bctx), NULL);
    bench_wake_woken(&bwake);
}

/* ---- Singleflight ---- */

static goc_singleflight flight = GOC_SINGLEFLIGHT_INIT;

static int sf_call(void *arg, void **val)
{
    (void)arg;
    for (int k = 0; k < 10; k++)
        goc_yield();
    *val = (void *)(intptr_t)42;
    return 0;
}

static void sf_caller(void *arg)
{
    (void)arg;
    void *v = NULL;
    goc_singleflight_do(&flight, "key", 3, sf_call, NULL, &v, NULL);
    if (v != (void *)(intptr_t)42)
        die("bad value");
}

/* ---- ErrgroupFanout ---- */

static int nothing(void *arg)
{
    (void)arg;
    return 0;
}

static const char *const usage = "usage: context_bench <benchmark>";

static int bench_main(int argc, char **argv)
{
    const char *b = bench_arg(argc, argv, usage);
    int procs = goc_maxprocs(0);
    double ns;
    if (strcmp(b, "CommonParentCancel") == 0 || strcmp(b, "CommonParentCancel0") == 0) {
        with_work = strcmp(b, "CommonParentCancel") == 0;
        goc_ctx *root = goc_with_value(goc_background(), &key, "value");
        shared = goc_with_cancel(root);
        ns = run_par(procs, with_work ? 2000000 : 5000000, common_parent_cancel);
        goc_ctx_release(shared);
        goc_ctx_release(root);
    } else if (strcmp(b, "WithTimeout") == 0) {
        int live = 40 / procs * procs;
        goc_ctx **cfs = malloc((size_t)live * sizeof *cfs);
        for (int i = 0; i < live; i++)
            cfs[i] = goc_with_timeout(goc_background(), GOC_HOUR);
        ns = run_par(procs, 200000, with_timeout);
        for (int i = 0; i < live; i++)
            goc_ctx_release(cfs[i]);
        free(cfs);
    } else if (strcmp(b, "CancelTree") == 0) {
        enum { DEPTH = 100, N = 20000 };
        goc_ctx *chain[DEPTH + 1];
        double t0 = now_ns();
        for (int i = 0; i < N; i++) {
            chain[0] = goc_with_cancel(goc_background());
            for (int d = 1; d <= DEPTH; d++)
                chain[d] = goc_with_cancel(chain[d - 1]);
            goc_cancel(chain[0]);
            for (int d = DEPTH; d >= 0; d--)
                goc_ctx_release(chain[d]);
        }
        ns = (now_ns() - t0) / N;
    } else if (strcmp(b, "CheckCanceledErr") == 0 || strcmp(b, "CheckCanceledDone") == 0) {
        goc_ctx *ctx = goc_with_cancel(goc_background());
        goc_cancel(ctx);
        const long N = 50000000;
        double t0 = now_ns();
        if (strcmp(b, "CheckCanceledErr") == 0) {
            for (long i = 0; i < N; i++)
                if (goc_ctx_err(ctx))
                    sink++;
        } else {
            for (long i = 0; i < N; i++)
                if (goc_chan_try_recv(goc_ctx_done(ctx), NULL) != -EAGAIN)
                    sink++;
        }
        ns = (now_ns() - t0) / N;
        goc_ctx_release(ctx);
    } else if (strcmp(b, "DeepValue") == 0) {
        static int keys[100];
        goc_ctx *chain[100], *ctx = goc_background();
        for (int i = 0; i < 100; i++)
            ctx = chain[i] = goc_with_value(ctx, &keys[i], &keys[i]);
        const long N = 2000000;
        static const int missing = -1;
        double t0 = now_ns();
        for (long i = 0; i < N; i++) {
            __asm__ volatile("" : "+r"(ctx));
            if (goc_ctx_value(ctx, &missing))
                sink++;
        }
        ns = (now_ns() - t0) / N;
        for (int i = 99; i >= 0; i--)
            goc_ctx_release(chain[i]);
    } else if (strcmp(b, "CancelBroadcast") == 0) {
        enum { ROUNDS = 50 };
        double times[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            bctx = goc_with_cancel(goc_background());
            goc_ctx_done(bctx);
            bench_wake_start(&bwake, NB, bcast_waiter);
            double t0 = now_ns();
            goc_cancel(bctx);
            bench_wake_wait(&bwake);
            times[r] = now_ns() - t0;
            bench_wake_end(&bwake);
            goc_ctx_release(bctx);
        }
        ns = bench_median(times, ROUNDS);
    } else if (strcmp(b, "Singleflight") == 0) {
        enum { N = 1000, ROUNDS = 200 };
        double t0 = now_ns();
        for (int r = 0; r < ROUNDS; r++) {
            for (int i = 0; i < N; i++)
                goc_waitgroup_go(&wg, sf_caller, NULL);
            goc_waitgroup_wait(&wg);
        }
        ns = (now_ns() - t0) / (ROUNDS * N);
        goc_singleflight_destroy(&flight);
    } else if (strcmp(b, "ErrgroupFanout") == 0) {
        const int N = 20000;
        double t0 = now_ns();
        for (int i = 0; i < N; i++) {
            goc_errgroup g = GOC_ERRGROUP_INIT;
            for (int k = 0; k < 100; k++)
                goc_errgroup_go(&g, nothing, NULL);
            if (goc_errgroup_wait(&g) != 0)
                die("error");
        }
        ns = (now_ns() - t0) / N;
    } else {
        bench_unknown(b, usage);
    }
    return bench_report(ns);
}

int main(int argc, char **argv) { return goc_main(bench_main, argc, argv); }
