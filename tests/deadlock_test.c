/* deadlock_test.c: the safety nets, each watched from outside in a child
 * process: deadlock detection (and its absence while something could still
 * wake a goroutine), stack overflow with every kind of guard, and the
 * SIGQUIT dump. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>

#include "internal.h"
#include "test.h"

/* ---- Scenarios (run in a child) ---- */

static goc_waitgroup never = GOC_WAITGROUP_INIT;

static void park_forever(void *arg)
{
    (void)arg;
    goc_waitgroup_wait(&never);
}

static int sc_deadlock(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup_add(&never, 1);
    goc_go(park_forever, NULL);
    goc_go(park_forever, NULL);
    goc_waitgroup_wait(&never); /* nobody will ever call done */
    return 0;
}

/* Starts body, then waits for ever, as sc_deadlock does: what ends the
 * process is the body's doing. */
static int go_and_wait_forever(goc_fn body)
{
    goc_waitgroup_add(&never, 1);
    goc_go(body, NULL);
    goc_waitgroup_wait(&never);
    return 0;
}

static goc_waitgroup wg_other = GOC_WAITGROUP_INIT;
static void other_ends(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++)
        goc_yield();
    printf("other goroutine ended\n");
    fflush(stdout);
}

static int sc_goexit_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_go(other_ends, NULL);
    goc_exit(); /* the program goes on until the other goroutine ends */
    return 0;
}

/* Busy for a while (no sleep), then wake the goroutine on wg_other. */
static void busy_then_wake(void)
{
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 200000000ul; i++)
        x += i;
    if (x == 1)
        abort();
    goc_waitgroup_done(&wg_other);
}

static _Atomic int thread_ready;
static void *late_waker(void *arg)
{
    (void)arg;
    (void)goc_id(); /* registers this thread with goc: it may wake goroutines */
    atomic_store(&thread_ready, 1);
    busy_then_wake();
    return NULL;
}

static int sc_thread_can_wake(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup_add(&wg_other, 1);
    pthread_t th;
    pthread_create(&th, NULL, late_waker, NULL);
    while (!atomic_load(&thread_ready))
        goc_yield();
    goc_waitgroup_wait(&wg_other); /* all goroutines asleep, but a thread runs */
    pthread_join(th, NULL);
    printf("woken by a plain thread\n");
    return 0;
}

/* A thread started with goc_thread_start makes no goc call before it
 * wakes the goroutine, after a while: it is counted from its start. */
static void *started_waker(void *arg)
{
    (void)arg;
    busy_then_wake();
    return NULL;
}

static int sc_started_thread_can_wake(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup_add(&wg_other, 1);
    pthread_t th;
    if (goc_thread_start(&th, started_waker, NULL) != 0)
        return 1;
    goc_waitgroup_wait(&wg_other); /* all goroutines asleep, but a thread runs */
    pthread_join(th, NULL);
    printf("woken by a started thread\n");
    return 0;
}

/* ... and once it has ended without waking anyone, the deadlock is one. */
static void *started_quitter(void *arg)
{
    (void)arg;
    return NULL;
}

static int sc_started_thread_ends(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup_add(&never, 1);
    if (goc_thread_start(NULL, started_quitter, NULL) != 0)
        return 1;
    goc_waitgroup_wait(&never);
    return 0;
}

static volatile int recurse_limit = 1 << 30; /* not known to the compiler */

static int __attribute__((noinline)) recurse(volatile char *prev, int depth)
{
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[511] = prev ? prev[0] : 0;
    if (depth >= recurse_limit)
        return 0;
    return recurse(frame, depth + 1) + frame[0];
}

static void overflow_body(void *arg)
{
    (void)arg;
    recurse(NULL, 0);
}

static int sc_overflow(int argc, char **argv)
{
    (void)argc, (void)argv;
    return go_and_wait_forever(overflow_body);
}

/* An unguarded stack: a canary at its bottom, checked when the goroutine
 * switches away. The overflow stays inside the slot's unused guard page. */
static void canary_body(void *arg)
{
    (void)arg;
    goc_g *g = goc__getg();
    memset(g->stack.lo, 0xAB, 32); /* what a too-deep frame would leave there */
    goc_yield();
}

static int sc_canary(int argc, char **argv)
{
    (void)argc, (void)argv;
    return go_and_wait_forever(canary_body);
}

static _Atomic int named_started;
static void named_body(void *arg)
{
    (void)arg;
    atomic_fetch_add(&named_started, 1);
    goc_waitgroup_wait(&never);
}

static int sc_sigquit(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup_add(&never, 1);
    goc_go_options o = {.name = "sleeper"};
    for (int i = 0; i < 3; i++)
        goc_go_opts(named_body, NULL, &o);
    while (atomic_load(&named_started) < 3)
        goc_yield();
    raise(SIGQUIT); /* to this thread: TSan would defer a signal caught by a sleeping worker */
    /* The dump ends the process; wait for the signal's delivery (TSan
     * defers it to a call it intercepts). */
    sigset_t none;
    sigemptyset(&none);
    for (int i = 0; i < 100; i++)
        sigsuspend(&none);
    return 0;
}

/* ---- Tests ---- */

static char out[1 << 16];

TEST(deadlock_detected)
{
    int st = run_child("deadlock", NULL, out, sizeof out);
    CHECK(st == 2);
    CHECK(strstr(out, "fatal error: all goroutines are asleep - deadlock!") != NULL);
    CHECK(strstr(out, "goroutine 1 [sync.WaitGroup.Wait") != NULL);
    CHECK(strstr(out, "created by goroutine 1 at ") != NULL);
}

TEST(deadlock_after_main_goexit)
{
    int st = run_child("goexit_main", NULL, out, sizeof out);
    CHECK(st == 2);
    CHECK(strstr(out, "other goroutine ended") != NULL);
    CHECK(strstr(out, "fatal error: no goroutines (main called runtime.Goexit) - deadlock!") !=
          NULL);
}

TEST(no_deadlock_while_thread_runs)
{
    int st = run_child("thread_can_wake", NULL, out, sizeof out);
    CHECK(st == 0);
    CHECK(strstr(out, "woken by a plain thread") != NULL);
    CHECK(strstr(out, "deadlock") == NULL);
}

TEST(no_deadlock_while_started_thread_runs)
{
    int st = run_child("started_thread_can_wake", NULL, out, sizeof out);
    CHECK(st == 0);
    CHECK(strstr(out, "woken by a started thread") != NULL);
    CHECK(strstr(out, "deadlock") == NULL);
}

TEST(thread_start_needs_a_function)
{
    pthread_t t;
    CHECK(goc_thread_start(&t, NULL, NULL) == -EINVAL);
}

TEST(deadlock_once_started_thread_ends)
{
    int st = run_child("started_thread_ends", NULL, out, sizeof out);
    CHECK(st == 2);
    CHECK(strstr(out, "fatal error: all goroutines are asleep - deadlock!") != NULL);
}

static void check_overflow(const char *guard)
{
    char envbuf[64];
    snprintf(envbuf, sizeof envbuf, "GOC_STACK_GUARD=%s", guard);
    const char *env[] = {envbuf, NULL};
    int st = run_child(strcmp(guard, "none") ? "overflow" : "canary", env, out, sizeof out);
    CHECK(st == 2);
    CHECK(strstr(out, "goc: goroutine ") != NULL && strstr(out, " stack overflow") != NULL);
    if (st != 2)
        fprintf(stderr, "guard=%s status=%d output:\n%s\n", guard, st, out);
}

#if !defined(GOC_SANITIZE_ADDRESS) && !defined(GOC_SANITIZE_THREAD)
TEST(stack_overflow_light_guard) { check_overflow("light"); }
TEST(stack_overflow_heavy_guard) { check_overflow("heavy"); }
#endif
TEST(stack_overflow_canary) { check_overflow("none"); }

TEST(sigquit_dump)
{
    int st = run_child("sigquit", NULL, out, sizeof out);
    CHECK(st == 2);
    CHECK(strstr(out, "SIGQUIT: quit") != NULL);
    CHECK(strstr(out, "goroutine 1 [") != NULL);
    int named = 0;
    for (const char *p = out; (p = strstr(p, "\"sleeper\"")); p++)
        named++;
    CHECK(named == 3);
    CHECK(strstr(out, "deadlock_test.c:") != NULL);
}

static int run_all(void)
{
    RUN(deadlock_detected);
    RUN(deadlock_after_main_goexit);
    RUN(no_deadlock_while_thread_runs);
    RUN(no_deadlock_while_started_thread_runs);
    RUN(deadlock_once_started_thread_ends);
    RUN(thread_start_needs_a_function);
#if !defined(GOC_SANITIZE_ADDRESS) && !defined(GOC_SANITIZE_THREAD)
    /* The sanitizers take over faults on their own stacks and frames grow
     * under them: overflow is checked in the plain build. */
    RUN(stack_overflow_light_guard);
    RUN(stack_overflow_heavy_guard);
#endif
    RUN(stack_overflow_canary);
    RUN(sigquit_dump);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    static const struct test_scenario scenarios[] = {
        {"deadlock", sc_deadlock},     {"goexit_main", sc_goexit_main},
        {"thread_can_wake", sc_thread_can_wake}, {"overflow", sc_overflow},
        {"started_thread_can_wake", sc_started_thread_can_wake},
        {"started_thread_ends", sc_started_thread_ends},
        {"canary", sc_canary},         {"sigquit", sc_sigquit},
    };
    if (argc > 1)
        return run_scenario(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios);
    return run_all();
}
