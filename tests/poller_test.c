/* poller_test.c: the idle path's hooks, driven by a fake poller: an idle
 * worker sleeps exactly until the nearest deadline and runs what is due;
 * one worker blocks in poll, is woken by new work, readies what I/O
 * completed; and pending waits keep deadlock detection quiet. The real
 * timers and network poller plug into the same hooks. */
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "internal.h"
#include "test.h"

/* ---- The fake: one timer slot and one I/O waiter on an eventfd ---- */

static goc_spinlock fake_lock = GOC_SPINLOCK_INIT;
static _Atomic int64_t timer_deadline = INT64_MAX;
static goc_g *timer_g;
static goc_g *_Atomic io_g;
static int io_fd = -1, wake_fd = -1, ep_fd = -1;
static _Atomic long n_polls, n_wakes;

static int64_t fake_next_deadline(goc_p *p)
{
    (void)p;
    return atomic_load(&timer_deadline);
}

static void fake_run_due(goc_p *p, int64_t now)
{
    (void)p;
    goc__spin_lock(&fake_lock);
    goc_g *g = NULL;
    if (timer_g && now >= atomic_load(&timer_deadline)) {
        g = timer_g;
        timer_g = NULL;
        atomic_store(&timer_deadline, INT64_MAX);
    }
    goc__spin_unlock(&fake_lock);
    if (g) {
        g->param = (void *)(intptr_t)now;
        goc__ready(g);
    }
}

static void fake_poll(goc_p *p, int64_t deadline)
{
    atomic_fetch_add(&n_polls, 1);
    int timeout = -1;
    if (deadline != INT64_MAX) {
        int64_t d = deadline - goc__nanotime();
        timeout = d <= 0 ? 0 : (int)((d + 999999) / 1000000);
    }
    struct epoll_event ev[2];
    int n = epoll_wait(ep_fd, ev, 2, timeout);
    for (int i = 0; i < n; i++) {
        uint64_t v;
        if (ev[i].data.fd == wake_fd) {
            if (read(wake_fd, &v, sizeof v) < 0)
                continue;
        } else if (ev[i].data.fd == io_fd) {
            goc_g *g = atomic_exchange(&io_g, NULL);
            if (g && read(io_fd, &v, sizeof v) == sizeof v) {
                g->param = (void *)(uintptr_t)v;
                goc__ready(g);
            }
        }
    }
    fake_run_due(p, goc__nanotime());
}

static void fake_wake(void)
{
    atomic_fetch_add(&n_wakes, 1);
    uint64_t one = 1;
    if (write(wake_fd, &one, sizeof one) < 0)
        abort();
}

/* Goroutines inside fake_io_wait: counted until they have resumed, so a
 * waiter being readied by poll (no longer in io_g, not yet queued) still
 * counts as pending, as the real poller counts its waiters. */
static _Atomic int io_waiting;

static bool fake_pending(void)
{
    return atomic_load(&io_waiting) > 0;
}

static const goc_poller fake = {
    .next_deadline = fake_next_deadline,
    .run_due = fake_run_due,
    .poll = fake_poll,
    .wake = fake_wake,
    .pending = fake_pending,
};

/* ---- Tests ---- */

struct sleep_req {
    int64_t deadline;
};

static bool arm_timer(goc_g *g, void *arg)
{
    struct sleep_req *r = arg;
    timer_g = g;
    atomic_store(&timer_deadline, r->deadline);
    goc__spin_unlock(&fake_lock);
    return true;
}

/* Parks the caller until the fake timer fires; returns the firing time. */
static int64_t fake_sleep(int64_t ns)
{
    struct sleep_req r = {goc__nanotime() + ns};
    goc__spin_lock(&fake_lock);
    atomic_fetch_add(&io_waiting, 1); /* a sleeper counts as pending too */
    int64_t fired = (int64_t)(intptr_t)goc__park(arm_timer, &r, "sleep");
    atomic_fetch_sub(&io_waiting, 1);
    CHECK(fired >= r.deadline);
    return fired - r.deadline;
}

TEST(idle_sleeps_until_deadline)
{
    /* Every goroutine is asleep: only the deadline can wake the program,
     * and it must not be taken for a deadlock. */
    int64_t worst = 0;
    for (int i = 0; i < 20; i++) {
        int64_t late = fake_sleep(2000000); /* 2 ms */
        if (late > worst)
            worst = late;
    }
    fprintf(stderr, "    worst lateness: %lld us\n", (long long)(worst / 1000));
}

static bool arm_io(goc_g *g, void *arg)
{
    (void)arg;
    atomic_store(&io_g, g);
    return true;
}

static void *io_thread(void *arg)
{
    (void)arg;
    /* Not a goc thread: it never calls goc, it only makes I/O happen, once
     * the goroutine waits for it. */
    while (!atomic_load(&io_g))
        sched_yield();
    uint64_t v = 42;
    if (write(io_fd, &v, sizeof v) < 0)
        abort();
    return NULL;
}

TEST(poll_readies_io_waiter)
{
    for (int i = 0; i < 20; i++) {
        pthread_t th;
        pthread_create(&th, NULL, io_thread, NULL);
        atomic_fetch_add(&io_waiting, 1);
        void *v = goc__park(arm_io, NULL, "IO wait");
        atomic_fetch_sub(&io_waiting, 1);
        CHECK((uintptr_t)v == 42);
        pthread_join(th, NULL);
    }
    CHECK(atomic_load(&n_polls) > 0);
}

static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static _Atomic long spun;
static void spin_body(void *arg)
{
    (void)arg;
    atomic_fetch_add(&spun, 1);
    goc_waitgroup_done(&wg);
}

static _Atomic int spawner_known;

static void *spawner_thread(void *arg)
{
    (void)arg;
    (void)goc_id(); /* known to goc from now on: no deadlock while it runs */
    atomic_store(&spawner_known, 1);
    /* Wait (bounded) until the main goroutine waits, so the workers are
     * asleep, one of them in poll: new work from here must wake one. */
    for (long i = 0; i < 100000000L && !(__atomic_load_n(&wg.state, __ATOMIC_ACQUIRE) & 0xffffffffu);
         i++)
        sched_yield();
    for (int i = 0; i < 100; i++)
        goc_go(spin_body, NULL);
    return NULL;
}

TEST(new_work_wakes_poller)
{
    goc_waitgroup_add(&wg, 100);
    pthread_t th;
    pthread_create(&th, NULL, spawner_thread, NULL);
    for (long i = 0; i < 100000000L && !atomic_load(&spawner_known); i++)
        goc_yield();
    goc_waitgroup_wait(&wg);
    pthread_join(th, NULL);
    CHECK(atomic_load(&spun) == 100);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(idle_sleeps_until_deadline);
    RUN(poll_readies_io_waiter);
    RUN(new_work_wakes_poller);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    io_fd = eventfd(0, EFD_NONBLOCK);
    wake_fd = eventfd(0, EFD_NONBLOCK);
    ep_fd = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = io_fd};
    epoll_ctl(ep_fd, EPOLL_CTL_ADD, io_fd, &ev);
    ev.data.fd = wake_fd;
    epoll_ctl(ep_fd, EPOLL_CTL_ADD, wake_fd, &ev);
    goc__sched_set_poller(&fake);
    return goc_main(run_all, argc, argv);
}
