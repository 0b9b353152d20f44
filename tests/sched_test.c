/* sched_test.c: the scheduler: a million goroutines, work reaching every
 * worker, fairness, migration keeping a goroutine's state, and park/ready. */
#include <fenv.h>
#include <pthread.h>

#include "internal.h"
#include "test.h"

/* ---- 1,000,000 goroutines spawned and joined, each one's work checked ---- */

static goc_waitgroup million_wg = GOC_WAITGROUP_INIT;
static uint32_t *million_out;
static _Atomic uint32_t million_workers; /* bit i: worker i ran one */

static void million_body(void *arg)
{
    uint32_t i = (uint32_t)(uintptr_t)arg;
    million_out[i] = i * 2654435761u;
    uint32_t bit = 1u << (goc__getp()->id % 32);
    if (!(atomic_load_explicit(&million_workers, memory_order_relaxed) & bit))
        atomic_fetch_or(&million_workers, bit);
    goc_waitgroup_done(&million_wg);
}

TEST(million_goroutines)
{
    uint32_t n = SCALE(1000000);
    million_out = calloc(n, sizeof *million_out);
    int base = goc_num_goroutine();
    for (uint32_t i = 0; i < n; i++) {
        goc_waitgroup_add(&million_wg, 1);
        CHECK(goc_go(million_body, (void *)(uintptr_t)i) > 0);
    }
    goc_waitgroup_wait(&million_wg);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++)
        bad += million_out[i] != i * 2654435761u;
    CHECK(bad == 0);
    free(million_out);
    /* Goroutines that called done may not have ended yet: bounded wait. */
    for (long i = 0; i < 100000000 && goc_num_goroutine() != base; i++)
        goc_yield();
    CHECK(goc_num_goroutine() == base);
}

/* ---- Work reaches every worker ---- */

static _Atomic uint32_t seen_mask;
static _Atomic int spread_fail;
static goc_waitgroup spread_wg = GOC_WAITGROUP_INIT;

static void spread_body(void *arg)
{
    uint32_t all = (uint32_t)(uintptr_t)arg;
    /* Keep yielding until every worker has run one of us: an idle worker
     * must notice the queued goroutines and steal them. */
    long i;
    for (i = 0; i < 50000000; i++) {
        int id = goc__getp()->id; /* a spare's id (the monitor's) is >= n */
        if (id < 32)
            atomic_fetch_or(&seen_mask, 1u << id);
        if ((atomic_load(&seen_mask) & all) == all)
            break;
        goc_yield();
    }
    if (i == 50000000)
        atomic_store(&spread_fail, 1);
    goc_waitgroup_done(&spread_wg);
}

TEST(work_reaches_every_worker)
{
    int n = goc_maxprocs(0);
    if (n > 16)
        n = 16;
    uint32_t all = n >= 32 ? 0xffffffffu : (1u << n) - 1;
    for (int i = 0; i < 4 * n; i++) {
        goc_waitgroup_add(&spread_wg, 1);
        goc_go(spread_body, (void *)(uintptr_t)all);
    }
    goc_waitgroup_wait(&spread_wg);
    CHECK(!atomic_load(&spread_fail));
    CHECK((atomic_load(&seen_mask) & all) == all);
}

/* ---- Migration keeps a goroutine's own state ---- */

static _Atomic long migrations;
static _Atomic int state_bad;
static goc_waitgroup mig_wg = GOC_WAITGROUP_INIT;

static double __attribute__((noinline)) mix(double x, long i) { return x * 1.0000001 + (double)i; }

static void migrate_body(void *arg)
{
    long seed = (long)(uintptr_t)arg;
    /* Values live across switches in callee-saved registers and on the
     * stack; the FP rounding mode is per goroutine too. */
    volatile long on_stack[16];
    for (int k = 0; k < 16; k++)
        on_stack[k] = seed * 31 + k;
    long a = seed, b = seed * 7, c = seed ^ 0x5a5a;
    double x = (double)seed;
    bool upward = seed % 2 == 0;
    if (upward)
        fesetround(FE_UPWARD);
    int lastp = goc__getp()->id;
    long iters = 0;
    /* At least SCALE(20000) turns, and more (bounded) until some goroutine
     * has been seen to move, on a machine with more than one worker. */
    for (long i = 0; i < SCALE(20000) ||
                     (goc_maxprocs(0) > 1 && !atomic_load(&migrations) && i < 5000000);
         i++, iters++) {
        a += i, b ^= i, c -= i;
        x = mix(x, i);
        goc_yield();
        int p = goc__getp()->id;
        if (p != lastp)
            atomic_fetch_add(&migrations, 1), lastp = p;
        if (fegetround() != (upward ? FE_UPWARD : FE_TONEAREST))
            atomic_store(&state_bad, 1);
    }
    long ea = seed, eb = seed * 7, ec = seed ^ 0x5a5a;
    double ex = (double)seed;
    for (long i = 0; i < iters; i++)
        ea += i, eb ^= i, ec -= i, ex = mix(ex, i);
    if (a != ea || b != eb || c != ec)
        atomic_store(&state_bad, 2);
    if (!upward && x != ex) /* ex was computed in the same rounding mode */
        atomic_store(&state_bad, 3);
    for (int k = 0; k < 16; k++)
        if (on_stack[k] != seed * 31 + k)
            atomic_store(&state_bad, 4);
    fesetround(FE_TONEAREST);
    goc_waitgroup_done(&mig_wg);
}

TEST(migration_keeps_state)
{
    for (int i = 0; i < 16; i++) {
        goc_waitgroup_add(&mig_wg, 1);
        goc_go(migrate_body, (void *)(uintptr_t)(i + 1));
    }
    goc_waitgroup_wait(&mig_wg);
    CHECK(atomic_load(&state_bad) == 0);
    if (goc_maxprocs(0) > 1)
        CHECK(atomic_load(&migrations) > 0);
    fprintf(stderr, "    migrations: %ld\n", (long)atomic_load(&migrations));
}

/* ---- Fairness: with one worker, goroutines that yield run round-robin ----
 * The stated bound: no yielding goroutine gets more than 2 turns ahead of
 * any other. Checked in a child with GOC_MAXPROCS=1, where the order is
 * the scheduler's alone. */

#define FAIR_N 8
static _Atomic long fair_count[FAIR_N];
static _Atomic long fair_maxgap;
static goc_waitgroup fair_wg = GOC_WAITGROUP_INIT;

static void fair_body(void *arg)
{
    int me = (int)(uintptr_t)arg;
    for (long i = 0; i < 20000; i++) {
        atomic_fetch_add(&fair_count[me], 1);
        long mine = atomic_load(&fair_count[me]), min = mine;
        for (int k = 0; k < FAIR_N; k++) {
            long c = atomic_load(&fair_count[k]);
            if (c < min)
                min = c;
        }
        long gap = mine - min;
        if (gap > atomic_load(&fair_maxgap))
            atomic_store(&fair_maxgap, gap);
        goc_yield();
    }
    goc_waitgroup_done(&fair_wg);
}

static int fair_child(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup_add(&fair_wg, FAIR_N);
    for (int i = 0; i < FAIR_N; i++)
        goc_go(fair_body, (void *)(uintptr_t)i);
    goc_waitgroup_wait(&fair_wg);
    printf("maxgap=%ld procs=%d\n", (long)atomic_load(&fair_maxgap), goc_maxprocs(0));
    return 0;
}

TEST(fairness_round_robin)
{
    static char out[4096];
    /* Strict round robin holds on one worker; the monitor would add a
     * spare if the OS stopped the worker for 5 ms on a loaded machine. */
    const char *env[] = {"GOC_MAXPROCS=1", "GOC_SYSMON=0", NULL};
    int st = run_child("fair", env, out, sizeof out);
    CHECK(st == 0);
    long gap = -1;
    int procs = 0;
    const char *m = strstr(out, "maxgap=");
    if (m)
        sscanf(m, "maxgap=%ld procs=%d", &gap, &procs);
    CHECK(procs == 1);
    CHECK(gap >= 0 && gap <= 2);
    if (gap > 2)
        fprintf(stderr, "%s", out);
}

/* ---- A ping-pong pair made ready through runnext cannot starve the rest
 * of its worker's queue (the RUNNEXT_STREAK bound), with one worker. */

static goc_waitgroup pp_wg = GOC_WAITGROUP_INIT;
static _Atomic int pp_stop;
static _Atomic long pp_rounds;
static goc_g *_Atomic pp_waiter[2];

static bool pp_unlock(goc_g *g, void *arg)
{
    atomic_store((goc_g *_Atomic *)arg, g);
    return true;
}

static void pp_body(void *arg)
{
    int me = (int)(uintptr_t)arg;
    while (!atomic_load(&pp_stop) && atomic_load(&pp_rounds) < 1000000) {
        /* Hand the turn to the partner (if parked), then park ourselves. */
        goc_g *other = atomic_exchange(&pp_waiter[!me], NULL);
        if (other)
            goc__ready(other);
        atomic_fetch_add(&pp_rounds, 1);
        if (atomic_load(&pp_stop))
            break;
        goc__park(pp_unlock, &pp_waiter[me], "pingpong");
    }
    goc_g *other = atomic_exchange(&pp_waiter[!me], NULL);
    if (other)
        goc__ready(other);
    goc_waitgroup_done(&pp_wg);
}

static void starve_probe(void *arg)
{
    (void)arg;
    atomic_store(&pp_stop, 1);
}

static int pingpong_child(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup_add(&pp_wg, 2);
    goc_go(pp_body, (void *)0);
    goc_go(pp_body, (void *)1);
    goc_yield(); /* let the pair start */
    goc_go(starve_probe, NULL);
    goc_waitgroup_wait(&pp_wg);
    printf("rounds=%ld\n", (long)atomic_load(&pp_rounds));
    return 0;
}

TEST(runnext_cannot_starve_queue)
{
    static char out[4096];
    /* Without the monitor: on a loaded machine the OS may stop the worker
     * for 5 ms, and the monitor would then hand the probe to a spare,
     * whose thread the OS may be slow to run (that is not what is tested). */
    const char *env[] = {"GOC_MAXPROCS=1", "GOC_SYSMON=0", NULL};
    int st = run_child("pingpong", env, out, sizeof out);
    CHECK(st == 0);
    long rounds = -1;
    const char *m = strstr(out, "rounds=");
    if (m)
        sscanf(m, "rounds=%ld", &rounds);
    /* The probe waits behind the pair at most RUNNEXT_STREAK turns. */
    CHECK(rounds > 0 && rounds < 1000);
    if (!(rounds > 0 && rounds < 1000))
        fprintf(stderr, "%s", out);
}

/* ---- park/ready across workers and with plain threads ---- */

static goc_g *_Atomic parked_g;
static _Atomic int park_done;

static bool store_self(goc_g *g, void *arg)
{
    atomic_store((goc_g *_Atomic *)arg, g);
    return true;
}

static void park_body(void *arg)
{
    (void)arg;
    void *param = goc__park(store_self, &parked_g, "test park");
    atomic_store(&park_done, param == (void *)0x1234 ? 1 : 2);
}

static void *waker_thread(void *arg)
{
    (void)arg;
    goc_g *g;
    while (!(g = atomic_load(&parked_g)))
        sched_yield();
    g->param = (void *)0x1234;
    goc__ready(g); /* from a plain thread: the global queue */
    return NULL;
}

TEST(park_ready_from_plain_thread)
{
    pthread_t th;
    goc_go(park_body, NULL);
    pthread_create(&th, NULL, waker_thread, NULL);
    pthread_join(th, NULL);
    for (long i = 0; i < 100000000 && !atomic_load(&park_done); i++)
        goc_yield();
    CHECK(atomic_load(&park_done) == 1);
}

static bool refuse_park(goc_g *g, void *arg)
{
    (void)g, (void)arg;
    return false;
}

TEST(park_unlock_false_resumes)
{
    /* An unlock function that says no: the goroutine does not stay parked. */
    for (int i = 0; i < 1000; i++)
        goc__park(refuse_park, NULL, "never");
    CHECK(1);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(million_goroutines);
    RUN(work_reaches_every_worker);
    RUN(migration_keeps_state);
    RUN(fairness_round_robin);
    RUN(runnext_cannot_starve_queue);
    RUN(park_ready_from_plain_thread);
    RUN(park_unlock_false_resumes);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"fair", fair_child},
        {"pingpong", pingpong_child},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
