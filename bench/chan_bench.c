/* chan_bench.c: channel and select benchmarks (Go twin: bench/go/chan_bench.go).
 *
 * Usage: chan_bench <benchmark>
 * Prints exactly one number on stdout (diagnostics go to stderr).
 *
 * Twins of Go's runtime/chan_test.go benchmarks, with the same setup; the
 * number is ns per b.N operation, for a fixed N per benchmark (below). Go's
 * b.RunParallel is reproduced as GOMAXPROCS goroutines taking batches of
 * PAR_GRAIN iterations from a shared atomic counter (its pb.Next()).
 *
 *   ChanSync             2 goroutines ping-pong on one unbuffered channel
 *   ChanProdCons0/10/100 GOMAXPROCS producers and as many consumers, one
 *                        channel of capacity 0/10/100
 *   ChanUncontended      parallel: each goroutine fills and drains its own
 *                        channel of capacity 100 (ns per fill+drain)
 *   ChanContended        the same on one shared channel of capacity
 *                        100 * GOMAXPROCS
 *   SelectUncontended    parallel: 2-case select over two private buffered
 *                        channels of capacity 1
 *   SelectSyncContended  parallel: each goroutine's helper sends through a
 *                        3-case select over 3 shared unbuffered channels
 *                        (+ a done case), it receives through a 3-case select
 *   SelectProdCons       ChanProdCons with 3-case selects and 100 units of
 *                        local work; the case Go fills with time.After(hour)
 *                        is a channel that nobody sends to (goc has no
 *                        timers yet), in both programs
 *   SelectNonblock       parallel: 4 non-blocking selects per op
 *   ChanCreation         parallel: make a channel of capacity 1, send, recv
 *                        (and drop it)
 * And:
 *   pingpong   ns per round trip: two goroutines bounce an int over two
 *              unbuffered channels PP_N times
 *   skynet     ms for the skynet tree: 1,000,000 leaf goroutines under a
 *              tree of fan-out 10 (1,111,111 goroutines), each sending its
 *              id (leaf) or its children's sum up a buffered channel of
 *              capacity 10; the root checks the sum 499999500000
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

#include <goc/chan.h>
#include <goc/runtime.h>
#include <goc/sync.h>

#define CALLS_PER_SCHED 1000
#define PAR_GRAIN 1000

#define BENCH_NAME "chan_bench"
#include "bench.h"

static goc_chan *mk(size_t elem, size_t cap)
{
    goc_chan *c = goc_chan_make(elem, cap);
    if (!c)
        die("goc_chan_make failed");
    return c;
}

static void go(goc_fn fn, void *arg)
{
    if (goc_go(fn, arg) <= 0)
        die("goc_go failed");
}

static int procs(void) { return goc_maxprocs(0); }

/* ---- b.RunParallel -------------------------------------------------- */

static atomic_long par_left;

/* pb.Next(): true while iterations are left; *batch counts down the local
 * share. */
static inline bool pb_next(long *batch)
{
    if (*batch > 0) {
        (*batch)--;
        return true;
    }
    long n = atomic_fetch_sub_explicit(&par_left, PAR_GRAIN, memory_order_relaxed);
    if (n <= 0)
        return false;
    *batch = (n < PAR_GRAIN ? n : PAR_GRAIN) - 1;
    return true;
}

struct par {
    void (*body)(void *ctx);
    void *ctx;
    goc_waitgroup *wg;
};

static void par_fn(void *arg)
{
    struct par *p = arg;
    p->body(p->ctx);
    goc_waitgroup_done(p->wg);
}

/* Runs body in GOMAXPROCS goroutines sharing n iterations; ns per
 * iteration. */
static double run_parallel(long n, void (*body)(void *), void *ctx)
{
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    struct par p = {body, ctx, &wg};
    atomic_store(&par_left, n);
    int np = procs();
    double t0 = now_ns();
    for (int i = 0; i < np; i++) {
        goc_waitgroup_add(&wg, 1);
        go(par_fn, &p);
    }
    goc_waitgroup_wait(&wg);
    return (now_ns() - t0) / (double)n;
}

/* ---- ChanSync ------------------------------------------------------- */

struct sync_ctx {
    atomic_int n;
    goc_chan *myc, *c;
};

static void chansync_fn(void *arg)
{
    struct sync_ctx *s = arg;
    int zero = 0, v;
    for (;;) {
        int i = atomic_fetch_sub(&s->n, 1) - 1;
        if (i < 0)
            break;
        for (int g = 0; g < CALLS_PER_SCHED; g++) {
            if (i % 2 == 0) {
                goc_chan_recv(s->myc, &v);
                goc_chan_send(s->myc, &zero);
            } else {
                goc_chan_send(s->myc, &zero);
                goc_chan_recv(s->myc, &v);
            }
        }
    }
    bool t = true;
    goc_chan_send(s->c, &t);
}

static double bench_chansync(long n)
{
    const int np = 2;
    struct sync_ctx s;
    atomic_init(&s.n, (int)(n / CALLS_PER_SCHED / np * np));
    s.c = mk(sizeof(bool), np);
    s.myc = mk(sizeof(int), 0);
    double t0 = now_ns();
    for (int p = 0; p < np; p++)
        go(chansync_fn, &s);
    for (int p = 0; p < np; p++)
        goc_chan_recv(s.c, NULL);
    double t = (now_ns() - t0) / (double)n;
    goc_chan_release(s.c);
    goc_chan_release(s.myc);
    return t;
}

/* ---- ChanProdCons / SelectProdCons ---------------------------------- */

struct pc_ctx {
    atomic_int n;
    goc_chan *myc, *c;
    goc_chan *mytimer, *myclose; /* SelectProdCons */
    int work;
};

static void pc_work(int *foo, int work)
{
    for (int i = 0; i < work; i++) {
        *foo *= 2;
        *foo /= 2;
        __asm__ volatile("" : "+r"(*foo));
    }
}

static void pc_producer(void *arg)
{
    struct pc_ctx *s = arg;
    int foo = 0, one = 1, zero = 0;
    while (atomic_fetch_sub(&s->n, 1) - 1 >= 0) {
        for (int g = 0; g < CALLS_PER_SCHED; g++) {
            pc_work(&foo, s->work);
            goc_chan_send(s->myc, &one);
        }
    }
    goc_chan_send(s->myc, &zero);
    bool r = foo == 42;
    goc_chan_send(s->c, &r);
}

static void pc_consumer(void *arg)
{
    struct pc_ctx *s = arg;
    int foo = 0, v;
    for (;;) {
        goc_chan_recv(s->myc, &v);
        if (v == 0)
            break;
        pc_work(&foo, s->work);
    }
    bool r = foo == 42;
    goc_chan_send(s->c, &r);
}

static void sel_producer(void *arg)
{
    struct pc_ctx *s = arg;
    int foo = 0, one = 1, zero = 0;
    int tv;
    bool cv;
    while (atomic_fetch_sub(&s->n, 1) - 1 >= 0) {
        for (int g = 0; g < CALLS_PER_SCHED; g++) {
            pc_work(&foo, 100);
            goc_select_case cs[3] = {
                GOC_SEND_CASE(s->myc, &one),
                GOC_RECV_CASE(s->mytimer, &tv),
                GOC_RECV_CASE(s->myclose, &cv),
            };
            goc_select(cs, 3, false);
        }
    }
    goc_chan_send(s->myc, &zero);
    bool r = foo == 42;
    goc_chan_send(s->c, &r);
}

static void sel_consumer(void *arg)
{
    struct pc_ctx *s = arg;
    int foo = 0, v, tv;
    bool cv;
    for (;;) {
        goc_select_case cs[3] = {
            GOC_RECV_CASE(s->myc, &v),
            GOC_RECV_CASE(s->mytimer, &tv),
            GOC_RECV_CASE(s->myclose, &cv),
        };
        if (goc_select(cs, 3, false) == 0 && v == 0)
            break;
        pc_work(&foo, 100);
    }
    bool r = foo == 42;
    goc_chan_send(s->c, &r);
}

static double bench_prodcons(long n, size_t chansize, bool sel)
{
    int np = procs();
    struct pc_ctx s = {.work = 0};
    atomic_init(&s.n, (int)(n / CALLS_PER_SCHED));
    s.c = mk(sizeof(bool), 2 * (size_t)np);
    s.myc = mk(sizeof(int), chansize);
    if (sel) {
        s.mytimer = mk(sizeof(int), 0);
        s.myclose = mk(sizeof(bool), 0);
    }
    double t0 = now_ns();
    for (int p = 0; p < np; p++) {
        go(sel ? sel_producer : pc_producer, &s);
        go(sel ? sel_consumer : pc_consumer, &s);
    }
    for (int p = 0; p < 2 * np; p++)
        goc_chan_recv(s.c, NULL);
    double t = (now_ns() - t0) / (double)n;
    goc_chan_release(s.c);
    goc_chan_release(s.myc);
    goc_chan_release(s.mytimer);
    goc_chan_release(s.myclose);
    return t;
}

/* ---- ChanUncontended / ChanContended -------------------------------- */

#define FILL_C 100

static void fill_drain(goc_chan *myc)
{
    int zero = 0, v;
    for (int i = 0; i < FILL_C; i++)
        goc_chan_send(myc, &zero);
    for (int i = 0; i < FILL_C; i++)
        goc_chan_recv(myc, &v);
}

static void uncontended_body(void *ctx)
{
    (void)ctx;
    goc_chan *myc = mk(sizeof(int), FILL_C);
    long b = 0;
    while (pb_next(&b))
        fill_drain(myc);
    goc_chan_release(myc);
}

static void contended_body(void *ctx)
{
    long b = 0;
    while (pb_next(&b))
        fill_drain(ctx);
}

static double bench_chan_uncontended(long n) { return run_parallel(n, uncontended_body, NULL); }

static double bench_chan_contended(long n)
{
    goc_chan *myc = mk(sizeof(int), FILL_C * (size_t)procs());
    double t = run_parallel(n, contended_body, myc);
    goc_chan_release(myc);
    return t;
}

/* ---- SelectUncontended ---------------------------------------------- */

static void sel_uncontended_body(void *ctx)
{
    (void)ctx;
    goc_chan *myc1 = mk(sizeof(int), 1), *myc2 = mk(sizeof(int), 1);
    int zero = 0, v;
    goc_chan_send(myc1, &zero);
    long b = 0;
    while (pb_next(&b)) {
        goc_select_case cs[2] = {GOC_RECV_CASE(myc1, &v), GOC_RECV_CASE(myc2, &v)};
        if (goc_select(cs, 2, false) == 0)
            goc_chan_send(myc2, &zero);
        else
            goc_chan_send(myc1, &zero);
    }
    goc_chan_release(myc1);
    goc_chan_release(myc2);
}

static double bench_select_uncontended(long n) { return run_parallel(n, sel_uncontended_body, NULL); }

/* ---- SelectSyncContended -------------------------------------------- */

struct ssc_ctx {
    goc_chan *myc1, *myc2, *myc3, *done;
    goc_waitgroup helpers;
};

static void ssc_helper(void *arg)
{
    struct ssc_ctx *s = arg;
    int zero = 0, dv;
    for (;;) {
        goc_select_case cs[4] = {
            GOC_SEND_CASE(s->myc1, &zero),
            GOC_SEND_CASE(s->myc2, &zero),
            GOC_SEND_CASE(s->myc3, &zero),
            GOC_RECV_CASE(s->done, &dv),
        };
        if (goc_select(cs, 4, false) == 3)
            break;
    }
    goc_waitgroup_done(&s->helpers);
}

static void ssc_body(void *ctx)
{
    struct ssc_ctx *s = ctx;
    goc_waitgroup_add(&s->helpers, 1);
    go(ssc_helper, s);
    int v;
    long b = 0;
    while (pb_next(&b)) {
        goc_select_case cs[3] = {
            GOC_RECV_CASE(s->myc1, &v),
            GOC_RECV_CASE(s->myc2, &v),
            GOC_RECV_CASE(s->myc3, &v),
        };
        goc_select(cs, 3, false);
    }
}

static double bench_select_sync_contended(long n)
{
    struct ssc_ctx s = {mk(sizeof(int), 0), mk(sizeof(int), 0), mk(sizeof(int), 0),
                        mk(sizeof(int), 0), GOC_WAITGROUP_INIT};
    double t = run_parallel(n, ssc_body, &s);
    goc_chan_close(s.done);
    goc_waitgroup_wait(&s.helpers); /* (Go lets them go; we free the channels) */
    goc_chan_release(s.myc1);
    goc_chan_release(s.myc2);
    goc_chan_release(s.myc3);
    goc_chan_release(s.done);
    return t;
}

/* ---- SelectNonblock ------------------------------------------------- */

struct snb_ctx {
    goc_chan *myc1, *myc2, *myc3, *myc4;
};

static void snb_body(void *ctx)
{
    struct snb_ctx *s = ctx;
    int zero = 0, v;
    long b = 0;
    while (pb_next(&b)) {
        goc_select_case c1[1] = {GOC_RECV_CASE(s->myc1, &v)};
        goc_select(c1, 1, true);
        goc_select_case c2[1] = {GOC_SEND_CASE(s->myc2, &zero)};
        goc_select(c2, 1, true);
        goc_select_case c3[1] = {GOC_RECV_CASE(s->myc3, &v)};
        goc_select(c3, 1, true);
        goc_select_case c4[1] = {GOC_SEND_CASE(s->myc4, &zero)};
        goc_select(c4, 1, true);
    }
}

static double bench_select_nonblock(long n)
{
    struct snb_ctx s = {mk(sizeof(int), 0), mk(sizeof(int), 0), mk(sizeof(int), 1),
                        mk(sizeof(int), 1)};
    double t = run_parallel(n, snb_body, &s);
    goc_chan_release(s.myc1);
    goc_chan_release(s.myc2);
    goc_chan_release(s.myc3);
    goc_chan_release(s.myc4);
    return t;
}

/* ---- ChanCreation --------------------------------------------------- */

static void creation_body(void *ctx)
{
    (void)ctx;
    int zero = 0, v;
    long b = 0;
    while (pb_next(&b)) {
        goc_chan *myc = mk(sizeof(int), 1);
        goc_chan_send(myc, &zero);
        goc_chan_recv(myc, &v);
        goc_chan_release(myc);
    }
}

static double bench_chan_creation(long n) { return run_parallel(n, creation_body, NULL); }

/* ---- pingpong ------------------------------------------------------- */

struct pp_ctx {
    goc_chan *ping, *pong;
    long n;
    goc_waitgroup wg;
};

static void pp_ponger(void *arg)
{
    struct pp_ctx *s = arg;
    long v;
    for (long i = 0; i < s->n; i++) {
        goc_chan_recv(s->ping, &v);
        v++;
        goc_chan_send(s->pong, &v);
    }
    goc_waitgroup_done(&s->wg);
}

static void pp_pinger(void *arg)
{
    struct pp_ctx *s = arg;
    long v = 0;
    for (long i = 0; i < s->n; i++) {
        goc_chan_send(s->ping, &v);
        goc_chan_recv(s->pong, &v);
    }
    if (v != s->n)
        die("pingpong: wrong count");
    goc_waitgroup_done(&s->wg);
}

static double bench_pingpong(long n)
{
    struct pp_ctx s = {mk(sizeof(long), 0), mk(sizeof(long), 0), n, GOC_WAITGROUP_INIT};
    goc_waitgroup_add(&s.wg, 2);
    double t0 = now_ns();
    go(pp_ponger, &s);
    go(pp_pinger, &s);
    goc_waitgroup_wait(&s.wg);
    double t = (now_ns() - t0) / (double)n;
    goc_chan_release(s.ping);
    goc_chan_release(s.pong);
    return t;
}

/* ---- skynet --------------------------------------------------------- */

struct sky {
    goc_chan *c;
    long num, size, div;
};

static void skynet(void *arg)
{
    struct sky *s = arg;
    if (s->size == 1) {
        goc_chan_send(s->c, &s->num);
        return;
    }
    struct sky kids[10];
    goc_chan *rc = mk(sizeof(long), (size_t)s->div);
    long sub = s->size / s->div;
    for (long i = 0; i < s->div; i++) {
        /* kids[] outlives every child: each reads its record before it
         * sends, and this goroutine waits for every send. */
        kids[i] = (struct sky){rc, s->num + i * sub, sub, s->div};
        go(skynet, &kids[i]);
    }
    long sum = 0, v;
    for (long i = 0; i < s->div; i++) {
        goc_chan_recv(rc, &v);
        sum += v;
    }
    goc_chan_release(rc);
    goc_chan_send(s->c, &sum);
}

static double bench_skynet(void)
{
    goc_chan *c = mk(sizeof(long), 1);
    struct sky root = {c, 0, 1000000, 10};
    double t0 = now_ns();
    go(skynet, &root);
    long sum;
    goc_chan_recv(c, &sum);
    double t = (now_ns() - t0) / 1e6;
    if (sum != 499999500000L)
        die("skynet: wrong sum");
    goc_chan_release(c);
    return t;
}

/* ---- main ----------------------------------------------------------- */

static const char *const usage =
    "usage: chan_bench ChanSync|ChanProdCons0|ChanProdCons10|ChanProdCons100|"
    "ChanUncontended|ChanContended|SelectUncontended|SelectSyncContended|"
    "SelectProdCons|SelectNonblock|ChanCreation|pingpong|skynet";

static int real_main(int argc, char **argv)
{
    const char *name = bench_arg(argc, argv, usage);
    double v;
    if (strcmp(name, "ChanSync") == 0)
        v = bench_chansync(2000000);
    else if (strcmp(name, "ChanProdCons0") == 0)
        v = bench_prodcons(2000000, 0, false);
    else if (strcmp(name, "ChanProdCons10") == 0)
        v = bench_prodcons(4000000, 10, false);
    else if (strcmp(name, "ChanProdCons100") == 0)
        v = bench_prodcons(10000000, 100, false);
    else if (strcmp(name, "ChanUncontended") == 0)
        v = bench_chan_uncontended(200000);
    else if (strcmp(name, "ChanContended") == 0)
        v = bench_chan_contended(30000);
    else if (strcmp(name, "SelectUncontended") == 0)
        v = bench_select_uncontended(10000000);
    else if (strcmp(name, "SelectSyncContended") == 0)
        v = bench_select_sync_contended(1000000);
    else if (strcmp(name, "SelectProdCons") == 0)
        v = bench_prodcons(2000000, 128, true);
    else if (strcmp(name, "SelectNonblock") == 0)
        v = bench_select_nonblock(20000000);
    else if (strcmp(name, "ChanCreation") == 0)
        v = bench_chan_creation(10000000);
    else if (strcmp(name, "pingpong") == 0)
        v = bench_pingpong(getenv("PP_N") ? atol(getenv("PP_N")) : 2000000);
    else if (strcmp(name, "skynet") == 0)
        v = bench_skynet();
    else
        bench_unknown(name, usage);
    return bench_report(v);
}

int main(int argc, char **argv)
{
    bench_arg(argc, argv, usage);
    return goc_main(real_main, argc, argv);
}
