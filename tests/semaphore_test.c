/* semaphore_test.c: the weighted semaphore (golang.org/x/sync/semaphore).
 * Ports of x/sync's TestWeighted, TestWeightedPanic (a child),
 * TestWeightedTryAcquire and TestLargeAcquireDoesntStarve, then FIFO order
 * (a large request at the head holds back later small ones), the
 * semaphore as a concurrency limit (the seed's crawler and du), and the
 * wait reason in the deadlock dump.
 *
 * Go's tests sleep a random while holding units; here the holder yields a
 * few times instead (timing, not synchronisation).
 */
#include "internal.h"
#include "test.h"

#define WAIT_LIMIT_NS (10LL * 1000000000LL)

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* ---- TestWeighted ---- */

struct hammer_arg {
    goc_sema *sem;
    int64_t n;
    int loops;
    atomic_long *held;
    atomic_int *bad;
    goc_waitgroup *wg;
};

static void hammer_weighted(void *arg)
{
    struct hammer_arg *a = arg;
    uint64_t seed = 0x9E3779B97F4A7C15ULL * (uint64_t)(a->n + 1);
    for (int i = 0; i < a->loops; i++) {
        CHECK(goc_sema_acquire(a->sem, a->n) == 0);
        if (atomic_fetch_add(a->held, a->n) + a->n > a->sem->size)
            atomic_fetch_add(a->bad, 1); /* more held than exist */
        for (int k = (int)(rng_next(&seed) % 4); k > 0; k--)
            goc_yield();
        atomic_fetch_sub(a->held, a->n);
        goc_sema_release(a->sem, a->n);
    }
    goc_waitgroup_done(a->wg);
}

TEST(TestWeighted)
{
    int n = goc_maxprocs(0) < 4 ? 4 : goc_maxprocs(0);
    int loops = SCALE(10000) / n;
    if (loops < 20)
        loops = 20;
    goc_sema *sem = goc_sema_new(n);
    CHECK(sem != NULL);
    if (!sem)
        return;
    static atomic_long held;
    static atomic_int bad;
    static goc_waitgroup wg;
    static struct hammer_arg args[256];
    if (n > 256)
        n = 256;
    atomic_store(&held, 0);
    atomic_store(&bad, 0);
    goc_waitgroup_init(&wg);
    goc_waitgroup_add(&wg, n);
    for (int i = 0; i < n; i++) {
        args[i] = (struct hammer_arg){sem, i, loops, &held, &bad, &wg};
        CHECK(goc_go(hammer_weighted, &args[i]) > 0);
    }
    goc_waitgroup_wait(&wg);
    CHECK(atomic_load(&bad) == 0);
    CHECK(sem->cur == 0);
    goc_sema_free(sem);
}

/* ---- TestWeightedPanic ---- */

static char child_out[65536];

static int sc_release_too_much(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_sema *w = goc_sema_new(1);
    goc_sema_release(w, 1);
    fprintf(stderr, "did not panic\n");
    return 0;
}

TEST(TestWeightedPanic)
{
    int st = run_child("release_too_much", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, "panic: semaphore: released more than held\n") != NULL);
    CHECK(strstr(child_out, "did not panic") == NULL);
    if (test_failures_now)
        fprintf(stderr, "child: status %d, output:\n%s\n", st, child_out);
}

/* ---- TestWeightedTryAcquire ---- */

TEST(TestWeightedTryAcquire)
{
    goc_sema sem = GOC_SEMA_INIT(2);
    bool tries[4];
    CHECK(goc_sema_acquire(&sem, 1) == 0);
    tries[0] = goc_sema_try_acquire(&sem, 1);
    tries[1] = goc_sema_try_acquire(&sem, 1);
    goc_sema_release(&sem, 2);
    tries[2] = goc_sema_try_acquire(&sem, 1);
    CHECK(goc_sema_acquire(&sem, 1) == 0);
    tries[3] = goc_sema_try_acquire(&sem, 1);
    CHECK(tries[0] && !tries[1] && tries[2] && !tries[3]);
    CHECK(goc_sema_acquire(&sem, -1) == -EINVAL);
}

/* ---- TestLargeAcquireDoesntStarve ---- */

struct starve_ctx {
    goc_sema sem;
    atomic_int running;
    goc_waitgroup wg;
};

static void small_cycler(void *arg)
{
    struct starve_ctx *c = arg;
    /* Starts holding one unit (acquired for it by the test). */
    while (atomic_load(&c->running)) {
        goc_yield(); /* Go: time.Sleep(1ms) */
        goc_sema_release(&c->sem, 1);
        CHECK(goc_sema_acquire(&c->sem, 1) == 0);
    }
    goc_sema_release(&c->sem, 1);
    goc_waitgroup_done(&c->wg);
}

TEST(TestLargeAcquireDoesntStarve)
{
    static struct starve_ctx c;
    memset(&c, 0, sizeof c);
    int64_t n = goc_maxprocs(0) < 2 ? 2 : goc_maxprocs(0);
    goc_sema_init(&c.sem, n);
    atomic_store(&c.running, 1);
    goc_waitgroup_add(&c.wg, (int)n);
    for (int64_t i = n; i > 0; i--) {
        CHECK(goc_sema_acquire(&c.sem, 1) == 0);
        CHECK(goc_go(small_cycler, &c) > 0);
    }
    /* The small cyclers would keep this from ever seeing n units free
     * without FIFO order; a deadlock or a hang here is the failure. */
    CHECK(goc_sema_acquire(&c.sem, n) == 0);
    atomic_store(&c.running, 0);
    goc_sema_release(&c.sem, n);
    goc_waitgroup_wait(&c.wg);
    CHECK(c.sem.cur == 0);
}

/* ---- FIFO: a large waiter at the head holds back later small ones ---- */

struct fifo_ctx {
    goc_sema sem;
    atomic_int order, big_turn, small_turn;
    goc_waitgroup wg;
};

static void big_waiter(void *arg)
{
    struct fifo_ctx *c = arg;
    CHECK(goc_sema_acquire(&c->sem, 3) == 0);
    atomic_store(&c->big_turn, atomic_fetch_add(&c->order, 1) + 1);
    goc_sema_release(&c->sem, 3);
    goc_waitgroup_done(&c->wg);
}

static void small_waiter(void *arg)
{
    struct fifo_ctx *c = arg;
    CHECK(goc_sema_acquire(&c->sem, 1) == 0);
    atomic_store(&c->small_turn, atomic_fetch_add(&c->order, 1) + 1);
    goc_sema_release(&c->sem, 1);
    goc_waitgroup_done(&c->wg);
}

/* At least one (k == 1) or two (k == 2) waiters queued. */
static bool queued(goc_sema *s, int k)
{
    goc__spin_lock((goc_spinlock *)&s->lock);
    bool ok = k == 1 ? s->head != NULL : s->head != NULL && s->head != s->tail;
    goc__spin_unlock((goc_spinlock *)&s->lock);
    return ok;
}

TEST(sema_fifo_large_first)
{
    static struct fifo_ctx c;
    memset(&c, 0, sizeof c);
    goc_sema_init(&c.sem, 3);
    CHECK(goc_sema_acquire(&c.sem, 2) == 0); /* 1 unit left */
    goc_waitgroup_add(&c.wg, 2);
    CHECK(goc_go(big_waiter, &c) > 0);
    int64_t deadline = goc__nanotime() + WAIT_LIMIT_NS;
    while (!queued(&c.sem, 1) && goc__nanotime() < deadline)
        goc_yield();
    /* One unit is free, but the big request waits first: no try, no take. */
    CHECK(!goc_sema_try_acquire(&c.sem, 1));
    CHECK(goc_go(small_waiter, &c) > 0);
    while (!queued(&c.sem, 2) && goc__nanotime() < deadline)
        goc_yield();
    CHECK(queued(&c.sem, 2));
    CHECK(atomic_load(&c.order) == 0);
    goc_sema_release(&c.sem, 2);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.big_turn) == 1);
    CHECK(atomic_load(&c.small_turn) == 2);
    CHECK(c.sem.cur == 0);
}

/* ---- A concurrency limit: at most k workers at once (crawler, du) ---- */

struct limit_ctx {
    goc_sema tokens;
    atomic_int active, max_active;
    goc_waitgroup wg;
};

static void limited_job(void *arg)
{
    struct limit_ctx *c = arg;
    CHECK(goc_sema_acquire(&c->tokens, 1) == 0);
    int a = atomic_fetch_add(&c->active, 1) + 1;
    int m = atomic_load(&c->max_active);
    while (a > m && !atomic_compare_exchange_weak(&c->max_active, &m, a))
        ;
    for (int i = 0; i < 3; i++)
        goc_yield();
    atomic_fetch_sub(&c->active, 1);
    goc_sema_release(&c->tokens, 1);
    goc_waitgroup_done(&c->wg);
}

TEST(sema_concurrency_limit)
{
    static struct limit_ctx c;
    memset(&c, 0, sizeof c);
    goc_sema_init(&c.tokens, 20);
    int n = SCALE_LIVE(2000);
    goc_waitgroup_add(&c.wg, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(limited_job, &c) > 0);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.max_active) <= 20);
    CHECK(atomic_load(&c.max_active) >= 1);
    CHECK(c.tokens.cur == 0);
}

/* ---- The wait reason in the deadlock dump (children) ---- */

static int sc_sema_deadlock(int argc, char **argv)
{
    (void)argc, (void)argv;
    static goc_sema s = GOC_SEMA_INIT(1);
    goc_sema_acquire(&s, 1);
    goc_sema_acquire(&s, 1); /* nobody releases */
    return 0;
}

static int sc_sema_too_large(int argc, char **argv)
{
    (void)argc, (void)argv;
    static goc_sema s = GOC_SEMA_INIT(1);
    goc_sema_acquire(&s, 2); /* more than exist: waits forever, as in Go */
    return 0;
}

TEST(sema_wait_reason)
{
    const char *scenarios[] = {"sema_deadlock", "sema_too_large"};
    for (int i = 0; i < 2; i++) {
        int st = run_child(scenarios[i], NULL, child_out, sizeof child_out);
        int before = test_failures_now;
        CHECK(st == 2);
        CHECK(strstr(child_out, "fatal error: all goroutines are asleep - deadlock!\n") != NULL);
        CHECK(strstr(child_out, "[semacquire") != NULL);
        if (test_failures_now != before)
            fprintf(stderr, "child %s: status %d, output:\n%s\n", scenarios[i], st, child_out);
    }
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(TestWeighted);
    RUN(TestWeightedPanic);
    RUN(TestWeightedTryAcquire);
    RUN(TestLargeAcquireDoesntStarve);
    RUN(sema_fifo_large_first);
    RUN(sema_concurrency_limit);
    RUN(sema_wait_reason);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"release_too_much", sc_release_too_much},
        {"sema_deadlock", sc_sema_deadlock},
        {"sema_too_large", sc_sema_too_large},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
