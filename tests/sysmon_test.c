/* sysmon_test.c: the monitor hands a stuck worker's work to another
 * thread. Goroutines that block in plain system calls goc does not wrap
 * (read on a pipe) or compute without ever yielding occupy every P; what
 * is queued behind them, their timers and the poller's waiters must still
 * run. Each check is made by progress, never by time: the blocked calls
 * return only once the goroutines behind them have done their work, so
 * without the monitor a scenario never finishes (and the test times out).
 * Each scenario runs in a child with its own GOC_MAXPROCS. */
#include <fcntl.h>
#include <pthread.h>

#include "internal.h"
#include "test.h"

static _Atomic int entered; /* blockers inside their system call */

typedef struct {
    int fd;
    goc_waitgroup *wg;
} blocker_arg;

/* Blocks its worker in a plain read(2) until a byte arrives. */
static void blocker(void *arg)
{
    blocker_arg *b = arg;
    char c;
    atomic_fetch_add(&entered, 1);
    ssize_t r = read(b->fd, &c, 1);
    if (r != 1)
        goc_panic("blocker: read returned %zd", r);
    goc_waitgroup_done(b->wg);
}

/* Lets the blockers run until all n are in read(2). With every P then
 * stuck, the caller goes on only if the monitor hands its P's queue over. */
static void wait_entered(int n)
{
    while (atomic_load(&entered) < n)
        goc_yield();
}

/* The spares go dormant once nothing is stuck: polled, with a generous
 * bound, so a slow machine cannot fail it. */
static bool spares_retire(void)
{
    for (int i = 0; i < 20000; i++) {
        if (goc__sched_nspare_active() == 0)
            return true;
        goc_sleep(GOC_MILLISECOND);
    }
    return false;
}

/* Echoes until c closes; owns a reference to c. */
static void pong(void *arg)
{
    goc_chan *c = arg;
    int v;
    while (goc_chan_recv(c, &v))
        goc_chan_send(c, &v);
    goc_chan_release(c);
}

/* Every P blocked in read(2); behind them, goroutines that sleep (timers),
 * exchange messages, then free the blockers. */
static int sc_blocked_reads(int argc, char **argv)
{
    (void)argc, (void)argv;
    int n = goc_maxprocs(0);
    int fds[64][2];
    blocker_arg args[64];
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    for (int i = 0; i < n; i++) {
        if (pipe(fds[i]) != 0)
            return 3;
        args[i] = (blocker_arg){fds[i][0], &wg};
        goc_waitgroup_add(&wg, 1);
        goc_go(blocker, &args[i]);
    }
    wait_entered(n);
    /* Here only because the monitor moved this goroutine to a spare. */
    int ticks = 0;
    for (int i = 0; i < 20; i++) {
        goc_sleep(GOC_MILLISECOND);
        ticks++;
    }
    goc_chan *c = goc_chan_make(sizeof(int), 0);
    goc_go(pong, goc_chan_retain(c));
    for (int i = 0; i < 1000; i++) {
        int v = i, w = -1;
        goc_chan_send(c, &v);
        goc_chan_recv(c, &w);
        if (w != i)
            return 4;
    }
    goc_chan_close(c);
    goc_chan_release(c);
    for (int i = 0; i < n; i++)
        if (write(fds[i][1], "x", 1) != 1)
            return 5;
    goc_waitgroup_wait(&wg);
    for (int i = 0; i < n; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
    if (ticks != 20)
        return 6;
    if (!spares_retire())
        return 7;
    printf("ok\n");
    return 0;
}

static _Atomic bool release_spinner;

static void spinner(void *arg)
{
    (void)arg;
    atomic_fetch_add(&entered, 1);
    while (!atomic_load_explicit(&release_spinner, memory_order_acquire)) {
    }
}

/* A goroutine that computes and never yields, on the only P. */
static int sc_compute(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&wg, spinner, NULL);
    wait_entered(1);
    atomic_store_explicit(&release_spinner, true, memory_order_release);
    goc_waitgroup_wait(&wg);
    if (!spares_retire())
        return 7;
    printf("ok\n");
    return 0;
}

typedef struct {
    int wfd;
    int64_t d;
} sleeper_arg;

/* Sleeps (a timer in its P's heap), then frees the blocker. */
static void sleeper(void *arg)
{
    sleeper_arg *s = arg;
    goc_sleep(s->d);
    if (write(s->wfd, "x", 1) != 1)
        goc_panic("sleeper: write");
}

/* The P is stuck with a due timer in its own heap: the timer must fire
 * elsewhere. */
static int sc_stranded_timer(int argc, char **argv)
{
    (void)argc, (void)argv;
    int fds[2];
    if (pipe(fds) != 0)
        return 3;
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    sleeper_arg s = {fds[1], 2 * GOC_MILLISECOND};
    blocker_arg b = {fds[0], &wg};
    goc_go(sleeper, &s);
    goc_yield(); /* the sleeper's timer is now in this P's heap */
    goc_waitgroup_add(&wg, 1);
    goc_go(blocker, &b);
    goc_waitgroup_wait(&wg);
    close(fds[0]);
    close(fds[1]);
    if (!spares_retire())
        return 7;
    printf("ok\n");
    return 0;
}

typedef struct {
    int io_r;   /* the poller waits on it */
    int pipe_w; /* frees the blockers */
    int n;      /* how many */
} relay_arg;

static void io_relay(void *arg)
{
    relay_arg *r = arg;
    int rc = goc_fd_wait(r->io_r, GOC_FD_READ, 0);
    if (rc <= 0)
        goc_panic("io_relay: goc_fd_wait returned %d", rc);
    for (int i = 0; i < r->n; i++)
        if (write(r->pipe_w, "x", 1) != 1)
            goc_panic("io_relay: write");
}

static void *late_writer(void *arg)
{
    int fd = *(int *)arg;
    while (atomic_load(&entered) < goc_maxprocs(0))
        sched_yield();
    if (write(fd, "x", 1) != 1)
        abort();
    return NULL;
}

/* Every P is stuck while a goroutine waits on I/O: somebody must poll
 * (with several workers, the waiter's descriptor is in one worker's own
 * epoll set, which a spare reaches through the master set). */
static int sc_stranded_poller(int argc, char **argv)
{
    (void)argc, (void)argv;
    int io[2], blk[2];
    if (pipe(io) != 0 || pipe(blk) != 0)
        return 3;
    fcntl(io[0], F_SETFL, fcntl(io[0], F_GETFL) | O_NONBLOCK);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    int n = goc_maxprocs(0);
    relay_arg r = {io[0], blk[1], n};
    blocker_arg b = {blk[0], &wg};
    goc_waitgroup_go(&wg, io_relay, &r);
    goc_yield(); /* the relay now waits in the poller */
    pthread_t th;
    pthread_create(&th, NULL, late_writer, &io[1]);
    goc_waitgroup_add(&wg, n);
    for (int i = 0; i < n; i++)
        goc_go(blocker, &b);
    goc_waitgroup_wait(&wg);
    pthread_join(th, NULL);
    goc_fd_forget(io[0]);
    close(io[0]);
    close(io[1]);
    close(blk[0]);
    close(blk[1]);
    printf("ok\n");
    return 0;
}

/* After spares came and went, a real deadlock is still reported. */
static int sc_deadlock_after(int argc, char **argv)
{
    int rc = sc_compute(argc, argv);
    if (rc != 0)
        return rc;
    fflush(stdout);
    int v;
    goc_chan_recv(NULL, &v);
    return 0;
}

static void expect_ok(const char *scenario, const char *procs)
{
    char env[32];
    snprintf(env, sizeof env, "GOC_MAXPROCS=%s", procs);
    const char *envs[] = {env, NULL};
    char out[8192];
    int rc = run_child(scenario, envs, out, sizeof out);
    if (rc != 0 || !strstr(out, "ok\n"))
        fprintf(stderr, "%s with %s: status %d, output:\n%s\n", scenario, env, rc, out);
    CHECK(rc == 0);
    CHECK(strstr(out, "ok\n") != NULL);
}

TEST(blocked_reads_one_worker) { expect_ok("blocked_reads", "1"); }
TEST(blocked_reads_every_worker) { expect_ok("blocked_reads", "2"); }
TEST(compute_one_worker) { expect_ok("compute", "1"); }
TEST(stranded_timer) { expect_ok("stranded_timer", "1"); }
TEST(stranded_poller) { expect_ok("stranded_poller", "1"); }
TEST(stranded_poller_2) { expect_ok("stranded_poller", "2"); }

TEST(deadlock_still_reported)
{
    const char *envs[] = {"GOC_MAXPROCS=1", NULL};
    char out[8192];
    int rc = run_child("deadlock_after", envs, out, sizeof out);
    CHECK(rc == 2);
    CHECK(strstr(out, "ok\n") != NULL);
    CHECK(strstr(out, "fatal error: all goroutines are asleep - deadlock!") != NULL);
    CHECK(strstr(out, "chan receive (nil chan)") != NULL);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(blocked_reads_one_worker);
    RUN(blocked_reads_every_worker);
    RUN(compute_one_worker);
    RUN(stranded_timer);
    RUN(stranded_poller);
    RUN(stranded_poller_2);
    RUN(deadlock_still_reported);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"blocked_reads", sc_blocked_reads},   {"compute", sc_compute},
        {"stranded_timer", sc_stranded_timer}, {"stranded_poller", sc_stranded_poller},
        {"deadlock_after", sc_deadlock_after},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
