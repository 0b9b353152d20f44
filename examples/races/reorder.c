/* races/reorder.c: seed 000's two goroutines that each set one variable
 * and print the other.
 *
 *     var x, y int
 *     go func() { x = 1; fmt.Print("y:", y) }()
 *     go func() { y = 1; fmt.Print("x:", x) }()
 *
 * "You may not expect x:0 y:0 or y:0 x:0, yet some compilers and
 * processors give it": each store waits in its core's store buffer while
 * the load after it, of the other variable, goes ahead (store-load
 * reordering, which even x86 allows).
 *
 * Usage: reorder racy|relaxed|seqcst|mutex [trials]
 *   racy     the seed's program as it stands, plain ints and two fresh
 *            goroutines a trial with nothing between them: a data race,
 *            which the race detector (make race) reports in the first
 *            trial, exit 66, whether the two run at once or one after the
 *            other
 *   relaxed  the same accesses as relaxed atomics (no race, no order):
 *            over many trials, started together on two workers, both
 *            goroutines now and then read 0
 *   seqcst   sequentially consistent atomics: never both 0 (except under
 *            qemu-user on an x86 host, which does not order AArch64's
 *            store-release before a later load-acquire: there they are)
 *   mutex    each goroutine's store and load under one goc_mutex: never
 *            both 0
 * Each prints how often each outcome came up.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

/* The variant, from argv[1] (variant_names). */
enum variant { RACY, RELAXED, SEQCST, MUTEX, NVARIANTS };
static const char *const variant_names[NVARIANTS] = {"racy", "relaxed", "seqcst", "mutex"};
static enum variant variant;
static int trials = 100000;

/* One trial's shared state. */
static int x, y;          /* racy, mutex */
static atomic_int ax, ay; /* relaxed, seqcst */
static goc_mutex mu = GOC_MUTEX_INIT;
static int r1, r2;        /* what the first and the second goroutine read (r1: racy only) */
static long seen[2][2];   /* [y read by the first][x read by the second]: the first's */
static atomic_int arrived; /* barrier: 2 per crossing */
static goc_waitgroup wg = GOC_WAITGROUP_INIT;

/* Until both goroutines have reached crossing n: they spin, so that on two
 * workers both leave at the same moment; after a while they yield, so that
 * on one worker the other side gets its turn. */
static void barrier(int n)
{
    atomic_fetch_add_explicit(&arrived, 1, memory_order_acq_rel);
    for (int spin = 0; atomic_load_explicit(&arrived, memory_order_acquire) < 2 * n; spin++)
        if (spin > 2000)
            goc_yield();
}

static int set_and_read(int *mine, int *theirs, atomic_int *amine, atomic_int *atheirs)
{
    int v;
    switch (variant) {
    case RELAXED:
        atomic_store_explicit(amine, 1, memory_order_relaxed);
        v = atomic_load_explicit(atheirs, memory_order_relaxed);
        break;
    case SEQCST:
        atomic_store(amine, 1);
        v = atomic_load(atheirs);
        break;
    default: /* MUTEX */
        goc_mutex_lock(&mu);
        *mine = 1;
        v = *theirs;
        goc_mutex_unlock(&mu);
    }
    return v;
}

/* Each trial: reset, cross, x = 1 and read y, cross (the second has
 * recorded what it read), count the outcome. */
static void first(void *arg)
{
    (void)arg;
    for (int t = 0; t < trials; t++) {
        x = y = 0;
        atomic_store_explicit(&ax, 0, memory_order_relaxed);
        atomic_store_explicit(&ay, 0, memory_order_relaxed);
        barrier(2 * t + 1);
        int r = set_and_read(&x, &y, &ax, &ay);
        barrier(2 * t + 2);
        seen[r][r2]++;
    }
    goc_waitgroup_done(&wg);
}

static void second(void *arg)
{
    (void)arg;
    for (int t = 0; t < trials; t++) {
        barrier(2 * t + 1);
        r2 = set_and_read(&y, &x, &ay, &ax);
        barrier(2 * t + 2);
    }
    goc_waitgroup_done(&wg);
}

/* racy: the seed's two goroutines, started afresh for each trial. The
 * other variants line their trials up with a barrier of atomics, which the
 * race detector takes for synchronisation: where one goroutine ran ahead
 * of the other on one worker, it ordered their accesses, and a run with no
 * trial on two workers at once went unreported. */
static void racy_first(void *arg)
{
    (void)arg;
    x = 1;
    r1 = y;
    goc_waitgroup_done(&wg);
}

static void racy_second(void *arg)
{
    (void)arg;
    y = 1;
    r2 = x;
    goc_waitgroup_done(&wg);
}

static void racy_trials(void)
{
    for (int t = 0; t < trials; t++) {
        x = y = 0;
        goc_waitgroup_add(&wg, 2);
        goc_go(racy_first, NULL);
        goc_go(racy_second, NULL);
        goc_waitgroup_wait(&wg);
        seen[r1][r2]++;
    }
}

static int real_main(int argc, char **argv)
{
    variant = 0;
    while (variant < NVARIANTS && !(argc > 1 && strcmp(argv[1], variant_names[variant]) == 0))
        variant++;
    if (argc > 2)
        trials = atoi(argv[2]);
    if (variant == NVARIANTS || trials <= 0) {
        fprintf(stderr, "usage: reorder racy|relaxed|seqcst|mutex [trials]\n");
        return 2;
    }
    if (variant == RACY) {
        racy_trials();
    } else {
        goc_waitgroup_add(&wg, 2);
        goc_go(first, NULL);
        goc_go(second, NULL);
        goc_waitgroup_wait(&wg);
    }
    printf("%s, %d trials:\n", variant_names[variant], trials);
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            printf("  y:%d x:%d  %ld times\n", a, b, seen[a][b]);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
