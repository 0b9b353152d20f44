/* errgroup_test.c: golang.org/x/sync/errgroup. Ports of TestZeroGroup,
 * TestWithContext, TestTryGo, TestGoLimit and TestCancelCause; then the
 * error cancelling the siblings that wait on the group's context (seed
 * 001's "one fails, all stop"), the limit's panic (in a child), and a
 * subtask that adds subtasks. Every test ends with as many goroutines as
 * it began with. */
#include "leak.h"

enum { ERR1 = 1, ERR2 = 2, ERR_DOOM = 3 };

static int return_it(void *arg) { return (int)(intptr_t)arg; }

TEST(TestZeroGroup)
{
    const int cases[][3] = {{0, 0, 0}, {0}, {ERR1}, {ERR1, 0}, {ERR1, 0, ERR2}};
    const int lens[] = {0, 1, 1, 2, 3};
    for (int c = 0; c < 5; c++) {
        goc_errgroup g = GOC_ERRGROUP_INIT;
        int first = 0;
        for (int i = 0; i < lens[c]; i++) {
            int err = cases[c][i];
            goc_errgroup_go(&g, return_it, (void *)(intptr_t)err);
            if (!first && err)
                first = err;
            int got = goc_errgroup_wait(&g);
            if (got != first)
                fprintf(stderr, "case %d after %d: wait %d want %d\n", c, i, got, first);
            CHECK(got == first);
        }
    }
}

TEST(TestWithContext)
{
    const int cases[][2] = {{0, 0}, {0, 0}, {ERR_DOOM, 0}, {ERR_DOOM, 0}};
    const int lens[] = {0, 1, 1, 2};
    const int want[] = {0, 0, ERR_DOOM, ERR_DOOM};
    for (int c = 0; c < 4; c++) {
        goc_errgroup g;
        goc_ctx *ctx = goc_errgroup_with_context(&g, goc_background());
        for (int i = 0; i < lens[c]; i++)
            goc_errgroup_go(&g, return_it, (void *)(intptr_t)cases[c][i]);
        CHECK(goc_errgroup_wait(&g) == want[c]);
        /* Done is closed once wait returns, error or not. */
        CHECK(goc_chan_try_recv(goc_ctx_done(ctx), NULL) == GOC_CHAN_CLOSED);
        goc_ctx_release(ctx);
    }
}

TEST(TestCancelCause)
{
    const int lens[] = {0, 1, 1, 2};
    const int errs[][2] = {{0, 0}, {0, 0}, {ERR_DOOM, 0}, {ERR_DOOM, 0}};
    const int want[] = {0, 0, ERR_DOOM, ERR_DOOM};
    for (int c = 0; c < 4; c++) {
        goc_errgroup g;
        goc_ctx *ctx = goc_errgroup_with_context(&g, goc_background());
        for (int i = 0; i < lens[c]; i++)
            CHECK(goc_errgroup_try_go(&g, return_it, (void *)(intptr_t)errs[c][i]));
        CHECK(goc_errgroup_wait(&g) == want[c]);
        CHECK(goc_ctx_cause(ctx) == (want[c] ? want[c] : -ECANCELED));
        goc_ctx_release(ctx);
    }
}

static goc_chan *try_ch;

static int send_token(void *arg)
{
    (void)arg;
    goc_chan_send(try_ch, NULL);
    return 0;
}

static void drain_n(void *arg)
{
    for (intptr_t i = 0; i < (intptr_t)arg; i++)
        goc_chan_recv(try_ch, NULL);
}

TEST(TestTryGo)
{
    goc_errgroup g = GOC_ERRGROUP_INIT;
    const int n = 42;
    goc_errgroup_set_limit(&g, 42);
    try_ch = goc_chan_make(0, 0);
    for (int i = 0; i < n; i++)
        CHECK(goc_errgroup_try_go(&g, send_token, NULL));
    CHECK(!goc_errgroup_try_go(&g, send_token, NULL));
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&wg, drain_n, (void *)(intptr_t)n);
    goc_errgroup_wait(&g);

    CHECK(goc_errgroup_try_go(&g, send_token, NULL));
    goc_waitgroup_go(&wg, drain_n, (void *)1);
    goc_errgroup_wait(&g);

    /* Switch the limit. */
    goc_errgroup_set_limit(&g, 1);
    CHECK(goc_errgroup_try_go(&g, send_token, NULL));
    CHECK(!goc_errgroup_try_go(&g, send_token, NULL));
    goc_waitgroup_go(&wg, drain_n, (void *)1);
    goc_errgroup_wait(&g);

    /* Block all calls. */
    goc_errgroup_set_limit(&g, 0);
    for (int i = 0; i < 1 << 10; i++)
        CHECK(!goc_errgroup_try_go(&g, send_token, NULL));
    goc_errgroup_wait(&g);
    goc_waitgroup_wait(&wg);
    goc_chan_release(try_ch);
}

static atomic_int active;

static int limited_body(void *arg)
{
    (void)arg;
    int n = atomic_fetch_add(&active, 1) + 1;
    if (n > 10)
        return n;                          /* saw more active than the limit */
    goc_sleep(GOC_MICROSECOND);            /* let others try to increment */
    atomic_fetch_sub(&active, 1);
    return 0;
}

TEST(TestGoLimit)
{
    goc_errgroup g = GOC_ERRGROUP_INIT;
    goc_errgroup_set_limit(&g, 10);
    atomic_store(&active, 0);
    for (int i = 0; i <= 1 << 10; i++)
        goc_errgroup_go(&g, limited_body, NULL);
    int err = goc_errgroup_wait(&g);
    if (err)
        fprintf(stderr, "saw %d active goroutines; want <= 10\n", err);
    CHECK(err == 0);
    /* No limit again. */
    goc_errgroup_set_limit(&g, -1);
    for (int i = 0; i < 100; i++)
        CHECK(goc_errgroup_try_go(&g, return_it, NULL));
    CHECK(goc_errgroup_wait(&g) == 0);
}

/* Seed 001: the first error cancels the siblings, which return the
 * context's error; wait returns the first error. */
static goc_ctx *group_ctx;

static int fails_fast(void *arg)
{
    (void)arg;
    goc_sleep(GOC_MILLISECOND);
    return -EIO;
}

static int waits_for_ctx(void *arg)
{
    (void)arg;
    return goc_sleep_ctx(GOC_HOUR, group_ctx);
}

TEST(first_error_cancels_the_rest)
{
    goc_errgroup g;
    group_ctx = goc_errgroup_with_context(&g, goc_background());
    for (int i = 0; i < 10; i++)
        goc_errgroup_go(&g, waits_for_ctx, NULL);
    goc_errgroup_go(&g, fails_fast, NULL);
    CHECK(goc_errgroup_wait(&g) == -EIO);
    CHECK(goc_ctx_err(group_ctx) == -ECANCELED);
    CHECK(goc_ctx_cause(group_ctx) == -EIO);
    goc_ctx_release(group_ctx);

    /* The parent's end reaches the group's context too. */
    goc_ctx *parent = goc_with_timeout(goc_background(), GOC_MILLISECOND);
    group_ctx = goc_errgroup_with_context(&g, parent);
    for (int i = 0; i < 10; i++)
        goc_errgroup_go(&g, waits_for_ctx, NULL);
    CHECK(goc_errgroup_wait(&g) == -ETIMEDOUT);
    goc_ctx_release(group_ctx);
    goc_ctx_release(parent);
}

static goc_errgroup nested;

static int spawner(void *arg)
{
    intptr_t depth = (intptr_t)arg;
    if (depth > 0) {
        goc_errgroup_go(&nested, spawner, (void *)(depth - 1));
        goc_errgroup_go(&nested, spawner, (void *)(depth - 1));
    }
    return 0;
}

TEST(subtasks_start_subtasks)
{
    goc_errgroup_init(&nested);
    goc_errgroup_go(&nested, spawner, (void *)(intptr_t)10); /* 2047 subtasks */
    CHECK(goc_errgroup_wait(&nested) == 0);
}

static char child_out[1 << 16];

static int blocker(void *arg)
{
    goc_chan_recv(arg, NULL);
    return 0;
}

static int sc_modify_limit(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_errgroup g = GOC_ERRGROUP_INIT;
    goc_chan *ch = goc_chan_make(0, 0);
    goc_errgroup_set_limit(&g, 5);
    goc_errgroup_go(&g, blocker, ch);
    goc_errgroup_go(&g, blocker, ch);
    goc_errgroup_set_limit(&g, 3);
    return 0;
}

TEST(set_limit_while_active_panics)
{
    int st = run_child("modify_limit", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out,
                 "panic: errgroup: modify limit while 2 goroutines in the group are still active") !=
          NULL);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    LRUN(TestZeroGroup);
    LRUN(TestWithContext);
    LRUN(TestCancelCause);
    LRUN(TestTryGo);
    LRUN(TestGoLimit);
    LRUN(first_error_cancels_the_rest);
    LRUN(subtasks_start_subtasks);
    LRUN(set_limit_while_active_panics);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"modify_limit", sc_modify_limit},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
