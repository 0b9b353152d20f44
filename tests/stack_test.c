/* stack_test.c: stacks: a million live goroutines at once, lazily committed
 * memory handed back when the cache grows, sizes from GOC_STACK_SIZE and
 * per goroutine, and guards beyond the mprotect budget. */
#include "internal.h"
#include "test.h"

static long rss_bytes(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static goc_waitgroup gate = GOC_WAITGROUP_INIT;
static goc_waitgroup ended = GOC_WAITGROUP_INIT;
static _Atomic long started;

static void parked_body(void *arg)
{
    volatile char touch[256]; /* a realistic shallow frame */
    touch[0] = (char)(uintptr_t)arg;
    atomic_fetch_add_explicit(&started, 1, memory_order_relaxed);
    goc_waitgroup_wait(&gate);
    (void)touch[0];
    goc_waitgroup_done(&ended);
}

static void hold_parked(long n, long *rss_per_g)
{
    atomic_store(&started, 0);
    goc_waitgroup_add(&gate, 1);
    long before = rss_bytes();
    for (long i = 0; i < n; i++) {
        goc_waitgroup_add(&ended, 1);
        if (goc_go(parked_body, (void *)(uintptr_t)i) < 0) {
            goc_waitgroup_done(&ended);
            CHECK(!"goc_go failed");
            break;
        }
    }
    for (long i = 0; i < 1000000000L && atomic_load(&started) < n; i++)
        goc_yield();
    CHECK(atomic_load(&started) == n);
    CHECK(goc_num_goroutine() >= n);
    if (rss_per_g)
        *rss_per_g = (rss_bytes() - before) / n;
    goc_waitgroup_done(&gate);
    goc_waitgroup_wait(&ended);
}

TEST(million_live_goroutines)
{
    long n = SCALE_LIVE(1000000L);
    long per = 0;
    hold_parked(n, &per);
    fprintf(stderr, "    %ld live goroutines: %ld bytes resident each\n", n, per);
#if !defined(GOC_SANITIZE_ADDRESS) && !defined(GOC_SANITIZE_THREAD)
    /* One touched page each, not a committed stack: far below 16 KiB. */
    CHECK(per > 0 && per < 16 * 1024);
#endif
}

/* Waits until only the test's goroutine is left and no batch of dead
 * stacks is being handed back: a poll every millisecond, for at most a
 * minute (handing back the million stacks of the test before takes
 * seconds on a slow VM, and the releaser needs the CPU a busy loop would
 * take). */
static void settle(void)
{
    int64_t deadline = goc_now() + 60 * GOC_SECOND;
    while ((goc_num_goroutine() > 1 || goc__stack_releasing()) && goc_now() < deadline)
        goc_sleep(GOC_MILLISECOND);
    CHECK(goc_num_goroutine() == 1);
    CHECK(!goc__stack_releasing());
}

TEST(cache_returns_memory)
{
    /* After a burst the cached stacks beyond the hot limit are released:
     * RSS must drop well below what the burst held. */
    long n = SCALE_LIVE(200000L);
    /* The goroutines of the test before may still be ending and their
     * stacks still going back: that would lower RSS during the burst. */
    settle();
    long before = rss_bytes();
    long per = 0;
    hold_parked(n, &per);
    settle();
    long after = rss_bytes();
    fprintf(stderr, "    burst of %ld: %ld KiB held, %ld KiB kept after\n", n,
            per * n / 1024, (after - before) / 1024);
#if !defined(GOC_SANITIZE_ADDRESS) && !defined(GOC_SANITIZE_THREAD)
    /* The burst committed a page each: the warm slots an earlier burst
     * (million_live_goroutines) left behind were handed back too, not kept
     * beyond the hot limit. */
    CHECK(per > 1024);
    CHECK(after - before < per * n / 2);
#endif
}

static void deep_body(void *arg)
{
    size_t n = (size_t)(uintptr_t)arg;
    volatile char *big = __builtin_alloca(n);
    big[0] = 1;
    big[n - 1] = 2;
    CHECK(big[0] + big[n - 1] == 3);
    goc_waitgroup_done(&ended);
}

TEST(custom_stack_size)
{
    goc_go_options o = {.stack_size = 4u << 20, .name = "deep"};
    goc_waitgroup_add(&ended, 1);
    CHECK(goc_go_opts(deep_body, (void *)(uintptr_t)(3u << 20), &o) > 0);
    goc_waitgroup_wait(&ended);
    /* And many of them, reusing nothing (each has its own mapping). */
    for (int i = 0; i < 100; i++) {
        goc_waitgroup_add(&ended, 1);
        CHECK(goc_go_opts(deep_body, (void *)(uintptr_t)(200u << 10), &o) > 0);
    }
    goc_waitgroup_wait(&ended);
}

static int sc_env_size(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("default=%zu\n", goc__stack_default_size());
    goc_waitgroup_add(&ended, 1);
    goc_go(deep_body, (void *)(uintptr_t)(900u << 10));
    goc_waitgroup_wait(&ended);
    printf("deep ok\n");
    return 0;
}

TEST(env_stack_size)
{
    static char out[4096];
    const char *env[] = {"GOC_STACK_SIZE=1M", NULL};
    CHECK(run_child("env_size", env, out, sizeof out) == 0);
    CHECK(strstr(out, "default=1048576") != NULL);
    CHECK(strstr(out, "deep ok") != NULL);
}

#if !defined(GOC_SANITIZE_THREAD)
static int sc_beyond_budget(int argc, char **argv)
{
    (void)argc, (void)argv;
    /* More goroutines than mprotect guards fit under vm.max_map_count. */
    long n = goc__os_guard_heavy_budget() + 10000;
    hold_parked(n, NULL);
    printf("held %ld\n", n);
    return test_failures_now ? 1 : 0;
}

TEST(beyond_guard_budget)
{
    static char out[4096];
    const char *env[] = {"GOC_STACK_GUARD=heavy", NULL};
    CHECK(run_child("beyond_budget", env, out, sizeof out) == 0);
    CHECK(strstr(out, "held ") != NULL);
}
#endif

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(million_live_goroutines);
    RUN(cache_returns_memory);
    RUN(custom_stack_size);
    RUN(env_stack_size);
#if !defined(GOC_SANITIZE_THREAD)
    RUN(beyond_guard_budget);
#endif
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"env_size", sc_env_size},
#if !defined(GOC_SANITIZE_THREAD)
        {"beyond_budget", sc_beyond_budget},
#endif
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
