/* blocking_test.c: goc_blocking runs a blocking call on a helper thread
 * while the caller's worker keeps running other goroutines (checked by
 * progress at one worker: the call waits for a goroutine on that same
 * worker); results and errno come back; calls beyond the limit queue; a
 * goroutine in a blocking call is not deadlocked; a plain thread calls in
 * place. */
#include <poll.h>
#include <pthread.h>

#include "internal.h"
#include "test.h"

static intptr_t answer(void *arg) { return (intptr_t)arg * 2; }

static __attribute__((noinline)) intptr_t failing(void *arg)
{
    (void)arg;
    return close(-1) < 0 ? -errno : 0; /* errno read on the helper thread */
}

TEST(result_and_errno)
{
    CHECK(goc_blocking(answer, (void *)21) == 42);
    CHECK(goc_blocking(failing, NULL) == -EBADF);
}

/* ---- Progress at one worker ---- */

static int prog_pipe[2];
static _Atomic long prog_steps;
static _Atomic int in_call;
#define STEPS 1000

/* Blocks its thread until the pipe has a byte (a minute at most: a stalled
 * worker shows as a failed check, not a hung test). */
static intptr_t wait_pipe(void *arg)
{
    (void)arg;
    atomic_store(&in_call, 1);
    struct pollfd p = {.fd = prog_pipe[0], .events = POLLIN};
    if (poll(&p, 1, 60000) != 1)
        return -ETIMEDOUT;
    char c;
    return read(prog_pipe[0], &c, 1) == 1 ? c : -EIO;
}

static void progress(void *arg)
{
    (void)arg;
    while (!atomic_load(&in_call)) /* the call is under way on its thread */
        goc_yield();
    for (int i = 0; i < STEPS; i++) {
        atomic_fetch_add(&prog_steps, 1);
        goc_yield();
    }
    /* Only after making progress does it release the blocked call. */
    CHECK(write(prog_pipe[1], "!", 1) == 1);
}

static _Atomic intptr_t prog_res = 1;
static void blocker(void *arg)
{
    (void)arg;
    atomic_store(&prog_res, goc_blocking(wait_pipe, NULL));
}

TEST(other_goroutines_run)
{
    CHECK(goc_maxprocs(0) == 1);
    CHECK(pipe(prog_pipe) == 0);
    goc_go(blocker, NULL);
    goc_yield(); /* let the blocker start its call */
    goc_go(progress, NULL);
    while (atomic_load(&prog_res) == 1)
        goc_yield();
    CHECK(atomic_load(&prog_res) == '!');
    CHECK(atomic_load(&prog_steps) == STEPS);
    close(prog_pipe[0]);
    close(prog_pipe[1]);
}

/* ---- Many at once, and the limit ---- */

static _Atomic int running, max_running, finished;
static goc_waitgroup many_wg = GOC_WAITGROUP_INIT;

static intptr_t busy_call(void *arg)
{
    int now = atomic_fetch_add(&running, 1) + 1;
    int m = atomic_load(&max_running);
    while (now > m && !atomic_compare_exchange_weak(&max_running, &m, now))
        ;
    usleep(2000); /* a call that blocks its thread */
    atomic_fetch_sub(&running, 1);
    return (intptr_t)arg;
}

static void many_caller(void *arg)
{
    if (goc_blocking(busy_call, arg) == (intptr_t)arg)
        atomic_fetch_add(&finished, 1);
    goc_waitgroup_done(&many_wg);
}

TEST(many_calls_bounded)
{
    int n = SCALE(300);
    atomic_store(&finished, 0);
    atomic_store(&max_running, 0);
    goc_waitgroup_add(&many_wg, n);
    for (int i = 0; i < n; i++)
        goc_go(many_caller, (void *)(intptr_t)(i + 1));
    goc_waitgroup_wait(&many_wg);
    CHECK(atomic_load(&finished) == n);
    CHECK(atomic_load(&max_running) <= 64); /* the default limit */
    CHECK(atomic_load(&max_running) >= 1);
}

/* ---- A plain thread calls in place ---- */

static intptr_t self_thread(void *arg)
{
    (void)arg;
    return (intptr_t)pthread_self();
}

static void *plain(void *arg)
{
    (void)arg;
    return (void *)(intptr_t)(goc_blocking(self_thread, NULL) == (intptr_t)pthread_self());
}

TEST(plain_thread)
{
    pthread_t t;
    void *ok = NULL;
    CHECK(pthread_create(&t, NULL, plain, NULL) == 0);
    CHECK(pthread_join(t, &ok) == 0);
    CHECK(ok == (void *)1);
    /* A goroutine's call does run elsewhere. */
    CHECK(goc_blocking(self_thread, NULL) != (intptr_t)pthread_self());
}

/* ---- Scenarios in a child ---- */

/* The limit: with GOC_BLOCKING_THREADS=2, two calls hold both threads
 * until a third has queued; the third starts only once one returns. */
static int gate[2];
static _Atomic int started;

static intptr_t gated(void *arg)
{
    atomic_fetch_add(&started, 1);
    if (arg) { /* the first two wait for the gate */
        char c;
        if (read(gate[0], &c, 1) != 1)
            return -EIO;
    }
    return 1;
}

static goc_waitgroup lim_wg = GOC_WAITGROUP_INIT;
static void lim_caller(void *arg)
{
    goc_blocking(gated, arg);
    goc_waitgroup_done(&lim_wg);
}

static int sc_limit(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (pipe(gate) != 0)
        return 3;
    goc_waitgroup_add(&lim_wg, 3);
    goc_go(lim_caller, (void *)1);
    goc_go(lim_caller, (void *)1);
    while (atomic_load(&started) < 2)
        goc_yield();
    goc_go(lim_caller, NULL);
    /* The third is queued: no thread is free, and none may be added. */
    for (int i = 0; i < 20; i++) {
        goc_sleep(GOC_MILLISECOND);
        if (atomic_load(&started) != 2)
            return 4;
    }
    if (write(gate[1], "xx", 2) != 2)
        return 5;
    goc_waitgroup_wait(&lim_wg);
    return atomic_load(&started) == 3 ? 0 : 6;
}

/* Nothing but a blocking call in flight: no deadlock is reported. */
static intptr_t nap(void *arg)
{
    (void)arg;
    usleep(100000);
    return 7;
}

static int sc_nodeadlock(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (int i = 0; i < 3; i++)
        if (goc_blocking(nap, NULL) != 7)
            return 3;
    fprintf(stderr, "naps done\n");
    /* And afterwards a real deadlock still is one. */
    goc_chan *c = goc_chan_make(sizeof(int), 0);
    int x;
    goc_chan_recv(c, &x);
    return 0;
}

TEST(limit_queues)
{
    char out[4096];
    const char *env[] = {"GOC_BLOCKING_THREADS=2", NULL};
    int st = run_child("limit", env, out, sizeof out);
    if (st != 0)
        fprintf(stderr, "%s", out);
    CHECK(st == 0);
}

TEST(not_a_deadlock)
{
    char out[8192];
    int st = run_child("nodeadlock", NULL, out, sizeof out);
    CHECK(st == 2);
    const char *done = strstr(out, "naps done");
    CHECK(done != NULL);
    CHECK(done && strstr(done, "all goroutines are asleep - deadlock!") != NULL);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(result_and_errno);
    RUN(other_goroutines_run);
    RUN(many_calls_bounded);
    RUN(plain_thread);
    RUN(limit_queues);
    RUN(not_a_deadlock);
    return test_summary();
}

int main(int argc, char **argv)
{
    goc_maxprocs(1);
    static const struct test_scenario scenarios[] = {
        {"limit", sc_limit},
        {"nodeadlock", sc_nodeadlock},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
