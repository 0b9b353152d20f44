/* timer_test.c: sleep, timers, tickers, After and AfterFunc: ordering,
 * precision, Go 1.23's Stop/Reset guarantees, dropped ticks, timers that
 * fire while their worker computes, and ports of Go's time tests
 * (TestAfterStress, TestTimerStopStress, TestReset, TestAfterQueuing). */
#include <pthread.h>
#include <stdint.h>

#include "internal.h"
#include "test.h"

#if defined(GOC_SANITIZE_ADDRESS) || defined(GOC_SANITIZE_THREAD)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

TEST(sleep_sleeps)
{
    for (int i = 0; i < 5; i++) {
        int64_t t0 = goc_now();
        goc_sleep(3 * GOC_MILLISECOND);
        int64_t el = goc_now() - t0;
        CHECK(el >= 3 * GOC_MILLISECOND);
        CHECK(el < 3 * GOC_MILLISECOND + 500 * GOC_MILLISECOND);
    }
    int64_t t0 = goc_now();
    goc_sleep(0);
    goc_sleep(-5);
    CHECK(goc_now() - t0 < 100 * GOC_MILLISECOND);
}

TEST(sleep_precision_submillisecond)
{
    /* 100 us sleeps: a runtime that rounds waits to milliseconds oversleeps
     * by 900 us every time; the median must stay well under that. */
    enum { N = 41 };
    int64_t over[N];
    for (int i = 0; i < N; i++) {
        int64_t t0 = goc_now();
        goc_sleep(100 * GOC_MICROSECOND);
        over[i] = goc_now() - t0 - 100 * GOC_MICROSECOND;
        CHECK(over[i] >= 0);
    }
    qsort(over, N, sizeof *over, cmp_i64);
    fprintf(stderr, "    median oversleep of a 100 us sleep: %lld us\n",
            (long long)(over[N / 2] / 1000));
    if (!SANITIZED)
        CHECK(over[N / 2] < 600 * GOC_MICROSECOND);
}

/* Deadlines about 1..N ms away, armed in a scrambled order; each fires
 * once, no earlier than its deadline. A timer's deadline is only known to
 * lie in [lo, hi]: the clock read inside goc_timer_new falls between two
 * reads around it, and under an emulator or load those can be far apart.
 * With one runner for the heap (one worker, no monitor) a timer whose
 * deadline surely precedes another's fires with an earlier or equal stamp.
 * With several, Go promises no such order and neither does goc: an idle
 * worker may fire a later timer of a busy worker's heap with a clock read
 * before the busy worker's own fire of an earlier one. */
static void arm_and_receive(bool ordered)
{
    enum { N = 40 };
    goc_timer *t[N];
    int64_t start = goc_now(), lo[N], hi[N], fired[N];
    for (int k = 0; k < N; k++) {
        int i = (k * 17) % N;
        int64_t d = (i + 1) * GOC_MILLISECOND;
        lo[i] = goc_now() + d;
        t[i] = goc_timer_new(d);
        hi[i] = goc_now() + d;
    }
    for (int i = 0; i < N; i++) {
        CHECK(goc_chan_recv(goc_timer_chan(t[i]), &fired[i]));
        CHECK(fired[i] >= lo[i]);
    }
    if (ordered)
        for (int a = 0; a < N; a++)
            for (int b = 0; b < N; b++)
                if (hi[a] < lo[b])
                    CHECK(fired[a] <= fired[b]);
    for (int i = 0; i < N; i++) {
        int64_t x;
        CHECK(goc_chan_try_recv(goc_timer_chan(t[i]), &x) == -EAGAIN); /* once only */
        CHECK(!goc_timer_stop(t[i]));
        goc_timer_free(t[i]);
    }
    CHECK(goc_now() - start >= N * GOC_MILLISECOND);
}

static int sc_timers_in_order(int argc, char **argv)
{
    (void)argc, (void)argv;
    arm_and_receive(true);
    return test_failures_now ? 1 : 0;
}

TEST(timers_fire_in_order)
{
    arm_and_receive(false);
    char out[4096];
    int st = run_child("inorder", (const char *const[]){"GOC_MAXPROCS=1", "GOC_SYSMON=0", NULL},
                       out, sizeof out);
    if (st != 0)
        fprintf(stderr, "%s", out);
    CHECK(st == 0);
}

TEST(stop_leaves_no_stale_value)
{
    /* Go 1.23: after Stop or Reset returns, nothing from before can be
     * received, even if the timer had already fired into its channel. */
    goc_timer *t = goc_timer_new(0);
    for (long i = 0; i < 100000000L && goc_chan_len(goc_timer_chan(t)) == 0; i++)
        goc_yield();
    CHECK(goc_chan_len(goc_timer_chan(t)) == 1);
    CHECK(!goc_timer_stop(t)); /* already fired */
    int64_t x;
    CHECK(goc_chan_try_recv(goc_timer_chan(t), &x) == -EAGAIN);

    /* Reset after it fired: what is received is the new firing. */
    CHECK(!goc_timer_reset(t, 0));
    for (long i = 0; i < 100000000L && goc_chan_len(goc_timer_chan(t)) == 0; i++)
        goc_yield();
    int64_t before = goc_now();
    CHECK(!goc_timer_reset(t, 2 * GOC_MILLISECOND));
    CHECK(goc_chan_recv(goc_timer_chan(t), &x));
    CHECK(x >= before + 2 * GOC_MILLISECOND);

    /* Stop of an armed timer reports it, and it never fires. */
    CHECK(!goc_timer_reset(t, GOC_SECOND));
    CHECK(goc_timer_stop(t));
    CHECK(!goc_timer_stop(t));
    goc_timer_free(t);
}

TEST(ticker_drops_ticks_for_slow_receiver)
{
    goc_ticker *tk = goc_ticker_new(GOC_MILLISECOND);
    CHECK(tk != NULL);
    int64_t a, b;
    CHECK(goc_chan_recv(goc_ticker_chan(tk), &a));
    goc_sleep(20 * GOC_MILLISECOND); /* about 20 ticks go by */
    CHECK(goc_chan_len(goc_ticker_chan(tk)) <= 1); /* at most one waiting */
    CHECK(goc_chan_recv(goc_ticker_chan(tk), &b));
    CHECK(b > a);
    int ticks = 0;
    int64_t t0 = goc_now();
    while (goc_now() - t0 < 2 * GOC_SECOND && ticks < 5)
        ticks += goc_chan_recv(goc_ticker_chan(tk), &b);
    CHECK(ticks == 5); /* and it keeps ticking */
    int64_t r0 = goc_now();
    goc_ticker_reset(tk, 2 * GOC_MILLISECOND);
    CHECK(goc_chan_recv(goc_ticker_chan(tk), &b));
    /* As in Go 1.19, Reset leaves a tick already sent in the channel: one
     * stamped before the reset may come first (a slow machine: qemu). */
    if (b < r0)
        CHECK(goc_chan_recv(goc_ticker_chan(tk), &b));
    CHECK(b >= r0 + 2 * GOC_MILLISECOND);
    goc_ticker_stop(tk);
    CHECK(goc_chan_try_recv(goc_ticker_chan(tk), &b) == -EAGAIN);
    goc_ticker_free(tk);
    CHECK(goc_ticker_new(0) == NULL);
}

static goc_chan *af_chan;
static void af_body(void *arg)
{
    int64_t id = goc_id();
    (void)arg;
    goc_chan_send(af_chan, &id);
}

TEST(after_func_runs_in_its_own_goroutine)
{
    af_chan = goc_chan_make(sizeof(int64_t), 1);
    goc_timer *t = goc_after_func(GOC_MILLISECOND, af_body, NULL);
    int64_t id = 0;
    CHECK(goc_chan_recv(af_chan, &id));
    CHECK(id > 0 && id != goc_id());
    CHECK(!goc_timer_stop(t));
    goc_timer_free(t);
    /* Stopped in time, it never runs. */
    t = goc_after_func(GOC_SECOND, af_body, NULL);
    CHECK(goc_timer_stop(t));
    goc_timer_free(t);
    CHECK(goc_chan_len(af_chan) == 0);
    goc_chan_release(af_chan);
}

TEST(after_delivers_once)
{
    int64_t t0 = goc_now(), x;
    goc_chan *c = goc_after(2 * GOC_MILLISECOND);
    CHECK(goc_chan_recv(c, &x));
    CHECK(x >= t0 + 2 * GOC_MILLISECOND);
    goc_chan_release(c);
}

/* TestAfterStress: many short Afters while other goroutines churn. */
static _Atomic int stress_stop;
static void churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&stress_stop)) {
        goc_timer *t = goc_timer_new(GOC_HOUR);
        goc_timer_stop(t);
        goc_timer_free(t);
        goc_yield();
    }
}

TEST(after_stress)
{
    goc_go(churn, NULL);
    goc_go(churn, NULL);
    for (int i = 0; i < SCALE(1000); i++) {
        int64_t x;
        goc_chan *c = goc_after(1);
        CHECK(goc_chan_recv(c, &x));
        goc_chan_release(c);
    }
    atomic_store(&stress_stop, 1);
}

/* A timer's channel lives in the timer's block; a reference taken on it
 * keeps it working after goc_timer_free, as Go's C outlives its Timer. */
TEST(channel_outlives_its_timer)
{
    /* Fired, then freed: the value is still there to receive. */
    goc_timer *t = goc_timer_new(GOC_MILLISECOND);
    goc_chan *c = goc_chan_retain(goc_timer_chan(t));
    int64_t x = 0;
    while (goc_chan_len(c) == 0)
        goc_yield();
    goc_timer_free(t);
    CHECK(goc_chan_cap(c) == 1);
    CHECK(goc_chan_try_recv(c, &x) == GOC_CHAN_OK);
    CHECK(x > 0);
    CHECK(goc_chan_try_recv(c, &x) == -EAGAIN);
    /* The channel still takes values and can be closed. */
    CHECK(goc_chan_try_send(c, &x) == GOC_CHAN_OK);
    goc_chan_close(c);
    int64_t y = 0;
    CHECK(goc_chan_recv(c, &y) && y == x);
    CHECK(!goc_chan_recv(c, &y));
    goc_chan_release(c);

    /* Freed before it fires: nothing ever arrives. */
    t = goc_timer_new(GOC_HOUR);
    c = goc_chan_retain(goc_timer_chan(t));
    goc_timer_free(t);
    CHECK(goc_chan_try_recv(c, &x) == -EAGAIN);
    goc_chan_release(c);

    /* goc_after's channel, released by the caller before it fires: the
     * timer's own reference keeps the block until it has fired. */
    goc_chan_release(goc_after(GOC_MILLISECOND));
    /* And the other way round. */
    c = goc_after(GOC_MILLISECOND);
    CHECK(goc_chan_recv(c, &x));
    goc_chan_release(c);
}

/* Blocks are reused, from goroutines on every worker and from a plain
 * thread: a timer made in a reused block starts with an empty channel, and
 * its value is its own (not less than the moment it was made). */
static void reuse_body(void *arg)
{
    for (int i = 0, n = (int)(uintptr_t)arg; i < n; i++) {
        int64_t t0 = goc_now(), x;
        goc_timer *t = goc_timer_new(i % 3 ? GOC_HOUR : 0);
        CHECK(goc_chan_len(goc_timer_chan(t)) == 0 || i % 3 == 0);
        if (i % 3 == 0) {
            CHECK(goc_chan_recv(goc_timer_chan(t), &x));
            CHECK(x >= t0);
        }
        /* Leave the value of a fired goc_after behind, unreceived. */
        goc_chan *a = goc_after(0);
        if (i % 2)
            while (goc_chan_len(a) == 0)
                goc_yield();
        goc_chan_release(a);
        CHECK(goc_timer_stop(t) == (i % 3 != 0));
        goc_timer_free(t);
    }
}

static void *reuse_thread(void *arg)
{
    reuse_body(arg);
    return NULL;
}

/* Rounds of: four goroutines and a plain thread churn timers while the
 * main goroutine waits in pthread_join, a call goc cannot see, so its
 * worker is held and the plain thread's timers (which go to worker 0's
 * heap) may land on an idle worker's heap after it chose how long to
 * sleep. That worker used to sleep on, and the plain thread with it, for
 * good: the alarm turns such a hang into a failure. */
#define REUSE_ITERS 3000

static int sc_blocks_reused(int argc, char **argv)
{
    (void)argc, (void)argv;
    alarm(120);
    /* Under an emulator (qemu-user) a few rounds: each is 10 times slower. */
    int rounds = getenv("GOC_TEST_RUNNER") ? 3 : 20;
    for (int r = 0; r < rounds; r++) {
        goc_waitgroup wg = GOC_WAITGROUP_INIT;
        pthread_t th;
        void *n = (void *)(uintptr_t)SCALE(REUSE_ITERS);
        CHECK(pthread_create(&th, NULL, reuse_thread, n) == 0);
        for (int i = 0; i < 4; i++)
            CHECK(goc_waitgroup_go(&wg, reuse_body, n) > 0);
        goc_waitgroup_wait(&wg);
        CHECK(pthread_join(th, NULL) == 0);
    }
    return test_summary();
}

TEST(timer_blocks_reused_clean)
{
    char out[8192];
    int st = run_child("reuse", (const char *const[]){"GOC_MAXPROCS=2", NULL}, out, sizeof out);
    if (st != 0)
        fprintf(stderr, "%s", out);
    CHECK(st == 0);
}

/* TestTimerStopStress: AfterFuncs stopped before their deadline never run. */
static _Atomic int stopped_ran;
static void must_not_run(void *arg)
{
    (void)arg;
    atomic_store(&stopped_ran, 1);
}
static goc_waitgroup stop_wg = GOC_WAITGROUP_INIT;
static void stop_body(void *arg)
{
    (void)arg;
    goc_timer *t = goc_after_func(300 * GOC_MILLISECOND, must_not_run, NULL);
    goc_sleep(10 * GOC_MILLISECOND);
    CHECK(goc_timer_stop(t));
    goc_timer_free(t);
    goc_waitgroup_done(&stop_wg);
}

TEST(timer_stop_stress)
{
    for (int i = 0; i < 100; i++) {
        goc_waitgroup_add(&stop_wg, 1);
        goc_go(stop_body, NULL);
    }
    goc_waitgroup_wait(&stop_wg);
    goc_sleep(350 * GOC_MILLISECOND); /* past every deadline */
    CHECK(!atomic_load(&stopped_ran));
}

TEST(reset_pushes_deadline)
{
    /* TestReset: a timer reset before it fires fires only after the new
     * deadline, counted from the reset. */
    goc_timer *t = goc_timer_new(GOC_SECOND);
    int64_t x, before = 0;
    for (int i = 0; i < 3; i++) {
        goc_sleep(5 * GOC_MILLISECOND);
        before = goc_now();
        CHECK(goc_timer_reset(t, 50 * GOC_MILLISECOND) || i > 0);
    }
    CHECK(goc_chan_recv(goc_timer_chan(t), &x));
    CHECK(x >= before + 50 * GOC_MILLISECOND);
    goc_timer_free(t);
}

/* TestAfterQueuing: Afters with deadlines in scrambled order deliver in
 * deadline order to one channel. As Go's test, it retries with a doubled
 * gap when a loaded machine delays a wake-up past the next deadline. */
struct aq {
    int slot;
    int64_t delta;
    goc_chan *out;
};
static void aq_body(void *arg)
{
    struct aq *a = arg;
    int64_t x;
    goc_chan *c = goc_after((int64_t)a->slot * a->delta);
    goc_chan_recv(c, &x);
    goc_chan_release(c);
    goc_chan_send(a->out, &a->slot);
}

static bool after_queuing_once(int64_t delta)
{
    static const int slots[] = {5, 3, 6, 6, 6, 1, 1, 2, 7, 9, 4, 8, 0};
    enum { N = sizeof slots / sizeof *slots };
    struct aq a[N];
    goc_chan *out = goc_chan_make(sizeof(int), N);
    for (int i = 0; i < N; i++) {
        a[i].slot = slots[i];
        a[i].delta = delta;
        a[i].out = out;
        goc_go(aq_body, &a[i]);
    }
    bool ordered = true;
    int prev = -1;
    for (int i = 0; i < N; i++) {
        int s = -1;
        CHECK(goc_chan_recv(out, &s));
        ordered &= s >= prev;
        prev = s;
    }
    goc_chan_release(out);
    return ordered;
}

TEST(after_queuing)
{
    bool ok = false;
    for (int64_t delta = 5 * GOC_MILLISECOND; !ok && delta <= 160 * GOC_MILLISECOND; delta *= 2)
        ok = after_queuing_once(delta);
    CHECK(ok);
}

/* A timer whose worker is busy computing still fires: an idle worker runs
 * it. The computer hogs its worker (no yield) until the sleeper has woken,
 * bounded at 10 s: the sleeper must wake while it still computes. */
static _Atomic int64_t woke_at;
static _Atomic int woke_during_compute;
static _Atomic int busy_done;
static goc_waitgroup busy_wg = GOC_WAITGROUP_INIT;
static void sleeper(void *arg)
{
    (void)arg;
    goc_sleep(5 * GOC_MILLISECOND);
    atomic_store(&woke_at, goc_now());
}
static void computer(void *arg)
{
    (void)arg;
    int64_t t0 = goc_now();
    while (!atomic_load(&woke_at) && goc_now() - t0 < 10 * GOC_SECOND)
        ;
    atomic_store(&woke_during_compute, atomic_load(&woke_at) != 0);
    atomic_store(&busy_done, 1);
    goc_waitgroup_done(&busy_wg);
}

TEST(timer_fires_while_worker_computes)
{
    if (goc_maxprocs(0) < 2)
        return;
    goc_waitgroup_add(&busy_wg, 1);
    goc_go(sleeper, NULL);
    goc_go(computer, NULL);
    goc_waitgroup_wait(&busy_wg); /* parked: this worker is free for timers */
    CHECK(atomic_load(&busy_done));
    CHECK(atomic_load(&woke_during_compute));
}

/* The dump shows sleepers as such, and a pending timer is no deadlock. */
static void long_sleeper(void *arg)
{
    (void)arg;
    goc_sleep(10 * GOC_SECOND); /* still asleep when the tests end */
}

TEST(dump_shows_sleep)
{
    goc_go_options o = {.name = "napper"};
    goc_go_opts(long_sleeper, NULL, &o);
    static char buf[1 << 16];
    bool seen = false;
    for (int i = 0; i < 1000 && !seen; i++) { /* until it has gone to sleep */
        goc_sleep(GOC_MILLISECOND);
        FILE *f = tmpfile();
        goc_dump(fileno(f));
        fflush(f);
        rewind(f);
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        fclose(f);
        seen = strstr(buf, "\"napper\" [sleep, ") != NULL;
    }
    CHECK(seen);
    goc_sleep(50 * GOC_MILLISECOND); /* everyone asleep on a timer: not a deadlock */
}

static int sc_sleep_forever_deadlock(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_sleep(5 * GOC_MILLISECOND); /* a timer was pending: fine */
    goc_chan *c = goc_chan_make(sizeof(int), 0);
    int x;
    goc_chan_recv(c, &x); /* nothing pending now */
    return 0;
}

TEST(deadlock_after_timers_drain)
{
    static char out[1 << 14];
    int st = run_child("sleepdead", NULL, out, sizeof out);
    CHECK(st == 2);
    CHECK(strstr(out, "fatal error: all goroutines are asleep - deadlock!") != NULL);
}

TEST(heap_survives_churn)
{
    /* Random stops and resets (in place, earlier and later) on a heap of
     * far-off timers, then a chosen few are reset to fire soon: exactly
     * those fire, once each and none before its deadline; the rest are
     * still armed (or stopped) and never fired. */
    enum { N = 2000, OPS = 20000 };
    static goc_timer *t[N];
    static bool armed[N];
    uint64_t r = 42;
    for (int i = 0; i < N; i++) {
        t[i] = goc_timer_new(GOC_HOUR + (int64_t)(i * 7919 % N) * GOC_MILLISECOND);
        armed[i] = true;
    }
    for (int k = 0; k < OPS; k++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        int i = (int)((r >> 33) % N);
        int64_t d = GOC_HOUR + (int64_t)((r >> 13) % 1000) * GOC_MILLISECOND;
        if ((r >> 60) < 4) {
            CHECK(goc_timer_stop(t[i]) == armed[i]);
            armed[i] = false;
        } else {
            CHECK(goc_timer_reset(t[i], d) == armed[i]);
            armed[i] = true;
        }
    }
    int64_t due[N];
    for (int i = 0; i < N; i += 50) {
        due[i] = goc_now() + (int64_t)(N - i) * 2 * GOC_MICROSECOND;
        CHECK(goc_timer_reset(t[i], due[i] - goc_now()) == armed[i]);
    }
    for (int i = 0; i < N; i += 50) {
        int64_t fired = 0;
        CHECK(goc_chan_recv(goc_timer_chan(t[i]), &fired));
        CHECK(fired >= due[i]);
        CHECK(!goc_timer_stop(t[i]));
    }
    for (int i = 0; i < N; i++) {
        int64_t x;
        CHECK(goc_chan_try_recv(goc_timer_chan(t[i]), &x) == -EAGAIN);
        if (i % 50)
            CHECK(goc_timer_stop(t[i]) == armed[i]);
        goc_timer_free(t[i]);
    }
}

/* Many sleepers in one heap, woken in any order by any P: each sleeps at
 * least its duration, and all wake. */
static _Atomic int early;

static void short_sleeper(void *arg)
{
    int64_t d = (int64_t)(uintptr_t)arg * 997 % 5000 * GOC_MICROSECOND;
    int64_t t0 = goc_now();
    goc_sleep(d);
    if (goc_now() - t0 < d)
        atomic_fetch_add(&early, 1);
}

TEST(many_sleepers)
{
    int n = SCALE_LIVE(5000);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    for (int i = 0; i < n; i++)
        CHECK(goc_waitgroup_go(&wg, short_sleeper, (void *)(uintptr_t)i) > 0);
    goc_waitgroup_wait(&wg);
    CHECK(atomic_load(&early) == 0);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(sleep_sleeps);
    RUN(sleep_precision_submillisecond);
    RUN(timers_fire_in_order);
    RUN(stop_leaves_no_stale_value);
    RUN(ticker_drops_ticks_for_slow_receiver);
    RUN(after_func_runs_in_its_own_goroutine);
    RUN(after_delivers_once);
    RUN(after_stress);
    RUN(channel_outlives_its_timer);
    RUN(timer_blocks_reused_clean);
    RUN(timer_stop_stress);
    RUN(reset_pushes_deadline);
    RUN(heap_survives_churn);
    RUN(many_sleepers);
    RUN(after_queuing);
    RUN(timer_fires_while_worker_computes);
    RUN(dump_shows_sleep);
    RUN(deadlock_after_timers_drain);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"sleepdead", sc_sleep_forever_deadlock},
        {"inorder", sc_timers_in_order},
        {"reuse", sc_blocks_reused},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
