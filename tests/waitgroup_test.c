/* waitgroup_test.c: sync.WaitGroup. Ports of Go's sync/waitgroup_test.go
 * (TestWaitGroup, TestWaitGroupMisuse, TestWaitGroupRace,
 * TestWaitGroupAlign), then reuse, many waiters, happens-before, and the
 * misuse panics, which run in a child process.
 *
 * Runs under goc_main: every test runs in goroutine 1.
 */
#include "test.h"

#define YIELD_LIMIT 10000000L

/* ---- TestWaitGroup ---- */

struct barrier_ctx {
    goc_waitgroup wg1, wg2, wg3; /* wg3 and exited stand in for Go's channel */
    atomic_int exited;
};

static void barrier_body(void *arg)
{
    struct barrier_ctx *c = arg;
    goc_waitgroup_done(&c->wg1);
    goc_waitgroup_wait(&c->wg2);
    atomic_fetch_add(&c->exited, 1);
    goc_waitgroup_done(&c->wg3);
}

/* testWaitGroup: wg1 is a barrier the n goroutines pass; wg2 holds them
 * until the main goroutine has done n Dones; none may get out earlier. */
static void one_barrier_round(struct barrier_ctx *c)
{
    const int n = 16;
    atomic_store(&c->exited, 0);
    goc_waitgroup_add(&c->wg1, n);
    goc_waitgroup_add(&c->wg2, n);
    goc_waitgroup_add(&c->wg3, n);
    for (int i = 0; i != n; i++)
        CHECK(goc_go(barrier_body, c) > 0);
    goc_waitgroup_wait(&c->wg1);
    for (int i = 0; i != n; i++) {
        if (atomic_load(&c->exited) != 0) {
            fprintf(stderr, "WaitGroup released group too soon\n");
            CHECK(atomic_load(&c->exited) == 0);
            break;
        }
        goc_waitgroup_done(&c->wg2);
        /* Let them try to get out. */
        goc_yield();
    }
    goc_waitgroup_wait(&c->wg3); /* blocks if the barrier failed to unlock someone */
    CHECK(atomic_load(&c->exited) == n);
}

TEST(TestWaitGroup)
{
    static struct barrier_ctx c;
    memset(&c, 0, sizeof c);
    goc_waitgroup_init(&c.wg1);
    goc_waitgroup_init(&c.wg2);
    goc_waitgroup_init(&c.wg3);
    /* Run the same test a few times to ensure the barrier is in a proper state. */
    for (int i = 0; i != 8 && !test_failures_now; i++)
        one_barrier_round(&c);
}

/* ---- TestWaitGroupMisuse (the panic ends the process: a child) ---- */

static char child_out[65536];

static void check_negative_panic(const char *scenario)
{
    int st = run_child(scenario, NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, "panic: sync: negative WaitGroup counter\n") != NULL);
    CHECK(strstr(child_out, "Should panic") == NULL);
    if (test_failures_now)
        fprintf(stderr, "child %s: status %d, output:\n%s\n", scenario, st, child_out);
}

TEST(TestWaitGroupMisuse)
{
    check_negative_panic("misuse");
}

/* ---- TestWaitGroupRace ---- */

struct race_ctx {
    goc_waitgroup wg;
    atomic_int n;
};

static void race_body(void *arg)
{
    struct race_ctx *c = arg;
    atomic_fetch_add(&c->n, 1);
    goc_waitgroup_done(&c->wg);
}

TEST(TestWaitGroupRace)
{
    static struct race_ctx c;
    int rounds = SCALE(1000);
    for (int i = 0; i < rounds; i++) {
        goc_waitgroup_init(&c.wg); /* a fresh WaitGroup every round, as Go's */
        atomic_store(&c.n, 0);
        goc_waitgroup_add(&c.wg, 1);
        CHECK(goc_go(race_body, &c) > 0);
        goc_waitgroup_add(&c.wg, 1);
        CHECK(goc_go(race_body, &c) > 0);
        goc_waitgroup_wait(&c.wg);
        if (atomic_load(&c.n) != 2) {
            fprintf(stderr, "Spurious wakeup from Wait\n");
            CHECK(atomic_load(&c.n) == 2);
            break;
        }
    }
}

/* ---- TestWaitGroupAlign ---- */

struct align_x {
    char x;
    goc_waitgroup wg;
};

static void align_body(void *arg)
{
    struct align_x *x = arg;
    goc_waitgroup_done(&x->wg);
}

TEST(TestWaitGroupAlign)
{
    struct align_x x;
    memset(&x, 0, sizeof x);
    goc_waitgroup_init(&x.wg);
    goc_waitgroup_add(&x.wg, 1);
    CHECK(goc_go(align_body, &x) > 0);
    goc_waitgroup_wait(&x.wg);
}

/* ---- waitgroup_reuse ---- */

struct reuse_ctx {
    goc_waitgroup wg;
    atomic_int done;
};

static void reuse_body(void *arg)
{
    struct reuse_ctx *c = arg;
    atomic_fetch_add(&c->done, 1);
    goc_waitgroup_done(&c->wg);
}

TEST(waitgroup_reuse)
{
    static struct reuse_ctx c;
    memset(&c, 0, sizeof c);
    goc_waitgroup_init(&c.wg);
    int rounds = SCALE(1000);
    for (int r = 0; r < rounds; r++) {
        int n = 1 + r % 16;
        atomic_store(&c.done, 0);
        goc_waitgroup_add(&c.wg, n);
        for (int i = 0; i < n; i++)
            if (goc_go(reuse_body, &c) <= 0)
                goc_waitgroup_done(&c.wg);
        goc_waitgroup_wait(&c.wg);
        if (atomic_load(&c.done) != n) {
            fprintf(stderr, "round %d: %d of %d done after Wait\n", r, atomic_load(&c.done), n);
            CHECK(atomic_load(&c.done) == n);
            break;
        }
    }
}

/* ---- waitgroup_many_waiters ---- */

#define NWAITERS 50

struct many_ctx {
    goc_waitgroup wg;     /* count 1: everybody waits on it */
    goc_waitgroup joined; /* the waiters' own joining */
    atomic_int waiting;   /* waiters about to wait */
    atomic_int returned;  /* waiters whose Wait returned */
    atomic_int released;  /* the Done has been done */
    atomic_int early;     /* a Wait returned before the Done */
};

static void many_waiter(void *arg)
{
    struct many_ctx *c = arg;
    atomic_fetch_add(&c->waiting, 1);
    goc_waitgroup_wait(&c->wg);
    if (!atomic_load(&c->released))
        atomic_fetch_add(&c->early, 1);
    atomic_fetch_add(&c->returned, 1);
    goc_waitgroup_done(&c->joined);
}

static void many_releaser(void *arg)
{
    struct many_ctx *c = arg;
    /* Give every waiter time to get into Wait (not needed for correctness:
     * a Wait that comes late also returns), bounded. */
    for (long i = 0; i < YIELD_LIMIT && atomic_load(&c->waiting) < NWAITERS; i++)
        goc_yield();
    for (int i = 0; i < 1000; i++)
        goc_yield();
    atomic_store(&c->released, 1);
    goc_waitgroup_done(&c->wg);
}

TEST(waitgroup_many_waiters)
{
    static struct many_ctx c;
    memset(&c, 0, sizeof c);
    goc_waitgroup_init(&c.wg);
    goc_waitgroup_init(&c.joined);
    goc_waitgroup_add(&c.wg, 1);
    goc_waitgroup_add(&c.joined, NWAITERS);
    for (int i = 0; i < NWAITERS; i++)
        CHECK(goc_go(many_waiter, &c) > 0);
    CHECK(goc_go(many_releaser, &c) > 0);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.released) == 1);
    goc_waitgroup_wait(&c.joined);
    CHECK(atomic_load(&c.returned) == NWAITERS);
    CHECK(atomic_load(&c.early) == 0);
}

/* ---- waitgroup_happens_before ---- */

#define NSLOTS 100

struct hb_ctx {
    goc_waitgroup wg;
    int slot[NSLOTS]; /* plain ints: the WaitGroup orders them */
    struct hb_arg {
        struct hb_ctx *c;
        int i;
    } args[NSLOTS];
};

static void hb_body(void *arg)
{
    struct hb_arg *a = arg;
    a->c->slot[a->i] = a->i * 7 + 1;
    goc_waitgroup_done(&a->c->wg);
}

TEST(waitgroup_happens_before)
{
    static struct hb_ctx c;
    int rounds = SCALE(50);
    for (int r = 0; r < rounds; r++) {
        memset(c.slot, 0, sizeof c.slot);
        goc_waitgroup_init(&c.wg);
        goc_waitgroup_add(&c.wg, NSLOTS);
        for (int i = 0; i < NSLOTS; i++) {
            c.args[i] = (struct hb_arg){&c, i};
            CHECK(goc_go(hb_body, &c.args[i]) > 0);
        }
        goc_waitgroup_wait(&c.wg);
        int bad = 0;
        for (int i = 0; i < NSLOTS; i++)
            if (c.slot[i] != i * 7 + 1)
                bad++;
        CHECK(bad == 0);
        if (bad)
            break;
    }
}

/* ---- goc_waitgroup_go: Done comes last, also after goc_exit ---- */

struct wggo_ctx {
    goc_waitgroup wg;
    atomic_int defers_run; /* each body's defer bumps it */
};

static void wggo_defer(void *arg)
{
    struct wggo_ctx *c = arg;
    atomic_fetch_add(&c->defers_run, 1);
}

static void wggo_body(void *arg)
{
    struct wggo_ctx *c = arg;
    CHECK(goc_defer(wggo_defer, c) == 0);
    if (goc_id() % 2)
        goc_exit(); /* Goexit runs the defers, then the group's Done */
}

TEST(waitgroup_go_done_after_defers)
{
    static struct wggo_ctx c;
    const int n = 64;
    for (int r = 0; r < SCALE(20); r++) {
        goc_waitgroup_init(&c.wg);
        atomic_store(&c.defers_run, 0);
        for (int i = 0; i < n; i++)
            CHECK(goc_waitgroup_go(&c.wg, wggo_body, &c) > 0);
        goc_waitgroup_wait(&c.wg);
        /* Every Done came after its goroutine's defer: all n have run. */
        CHECK(atomic_load(&c.defers_run) == n);
    }
    CHECK(goc_waitgroup_go(&c.wg, NULL, NULL) == -EINVAL);
    goc_waitgroup_wait(&c.wg); /* the failed call left the counter at zero */
}

/* ---- Misuse: a counter that goes negative, in other ways ---- */

TEST(waitgroup_negative_add)
{
    check_negative_panic("negative_add");
}

TEST(waitgroup_negative_in_goroutine)
{
    check_negative_panic("negative_goroutine");
}

/* ---- The child scenarios ---- */

/* TestWaitGroupMisuse: Add(1), Done, Done. */
static int misuse_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_add(&wg, 1);
    goc_waitgroup_done(&wg);
    goc_waitgroup_done(&wg);
    fprintf(stderr, "Should panic\n");
    return 0;
}

/* Add(-2) on a counter of 1. */
static int negative_add_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_add(&wg, 1);
    goc_waitgroup_add(&wg, -2);
    fprintf(stderr, "Should panic\n");
    return 0;
}

/* A goroutine other than goroutine 1 does one Done too many. */
static goc_waitgroup neg_wg = GOC_WAITGROUP_INIT;

static void negative_body(void *arg)
{
    (void)arg;
    goc_waitgroup_done(&neg_wg);
    goc_waitgroup_done(&neg_wg);
    fprintf(stderr, "Should panic\n");
}

static int negative_goroutine_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    static goc_waitgroup never = GOC_WAITGROUP_INIT;
    goc_waitgroup_add(&neg_wg, 1);
    goc_waitgroup_add(&never, 1);
    if (goc_go(negative_body, NULL) <= 0)
        return 3;
    goc_waitgroup_wait(&never); /* the panic ends the process first */
    fprintf(stderr, "Should panic\n");
    return 0;
}

static int run_all(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    RUN(TestWaitGroup);
    RUN(TestWaitGroupMisuse);
    RUN(TestWaitGroupRace);
    RUN(TestWaitGroupAlign);
    RUN(waitgroup_reuse);
    RUN(waitgroup_many_waiters);
    RUN(waitgroup_happens_before);
    RUN(waitgroup_go_done_after_defers);
    RUN(waitgroup_negative_add);
    RUN(waitgroup_negative_in_goroutine);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"misuse", misuse_main},
        {"negative_add", negative_add_main},
        {"negative_goroutine", negative_goroutine_main},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
