/* netpoll_test.c: goc_fd_wait on the epoll poller: readiness wakes the
 * waiter with every byte accounted for, deadlines (past, future, while
 * parked), forgetting a descriptor, I/O noticed by a worker that never goes
 * idle, plain threads waiting, and no deadlock while I/O is pending. */
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>

#include "internal.h"
#include "test.h"

static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

/* errno is per thread and a goroutine may resume on another one: glibc
 * declares __errno_location const, so a compiler may keep errno's address
 * across goc_fd_wait. Read it in a function of its own, never across a
 * call that parks (goc's own calls return -errno for this reason). */
static __attribute__((noinline)) ssize_t sys_read(int fd, void *buf, size_t n)
{
    ssize_t r = read(fd, buf, n);
    return r < 0 ? -errno : r;
}

static __attribute__((noinline)) ssize_t sys_write(int fd, const void *buf, size_t n)
{
    ssize_t r = write(fd, buf, n);
    return r < 0 ? -errno : r;
}

/* Reads exactly n bytes from a non-blocking fd, waiting as needed. */
static int read_full(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = sys_read(fd, buf + got, n - got);
        if (r > 0) {
            got += (size_t)r;
        } else if (r == 0) {
            return -EPIPE;
        } else if (r == -EAGAIN) {
            int w = goc_fd_wait(fd, GOC_FD_READ, 0);
            if (w < 0)
                return w;
        } else {
            return (int)r;
        }
    }
    return 0;
}

static int write_full(int fd, const unsigned char *buf, size_t n)
{
    size_t put = 0;
    while (put < n) {
        ssize_t r = sys_write(fd, buf + put, n - put);
        if (r > 0) {
            put += (size_t)r;
        } else if (r == -EAGAIN) {
            int w = goc_fd_wait(fd, GOC_FD_WRITE, 0);
            if (w < 0)
                return w;
        } else {
            return (int)r;
        }
    }
    return 0;
}

/* ---- Many socketpairs, each an echo: every byte checked ---- */

#define PAIRS 200
#define ROUNDS 50
#define MSG 3000 /* bigger than nothing, small enough to mix */

struct pair {
    int a, b;
    int bad;
};
static goc_waitgroup pair_wg = GOC_WAITGROUP_INIT;

static void echo_side(void *arg)
{
    struct pair *pp = arg;
    unsigned char buf[MSG];
    for (int r = 0; r < ROUNDS; r++) {
        if (read_full(pp->b, buf, MSG) || write_full(pp->b, buf, MSG)) {
            pp->bad = 1;
            break;
        }
    }
    goc_waitgroup_done(&pair_wg);
}

static void client_side(void *arg)
{
    struct pair *pp = arg;
    unsigned char out[MSG], in[MSG];
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < MSG; i++)
            out[i] = (unsigned char)(i * 7 + r + pp->a);
        if (write_full(pp->a, out, MSG) || read_full(pp->a, in, MSG) ||
            memcmp(in, out, MSG) != 0) {
            pp->bad = 1;
            break;
        }
    }
    goc_waitgroup_done(&pair_wg);
}

TEST(socketpair_echo_every_byte)
{
    int n = SCALE_LIVE(PAIRS) / 2 > 0 ? SCALE_LIVE(PAIRS) : PAIRS;
    if (n > PAIRS)
        n = PAIRS;
    static struct pair pairs[PAIRS];
    for (int i = 0; i < n; i++) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        nonblock(sv[0]);
        nonblock(sv[1]);
        pairs[i] = (struct pair){sv[0], sv[1], 0};
        goc_waitgroup_add(&pair_wg, 2);
        goc_go(echo_side, &pairs[i]);
        goc_go(client_side, &pairs[i]);
    }
    goc_waitgroup_wait(&pair_wg);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        bad += pairs[i].bad;
        CHECK(goc_fd_close(pairs[i].a) == 0);
        CHECK(goc_fd_close(pairs[i].b) == 0);
    }
    CHECK(bad == 0);
}

/* ---- Deadlines ---- */

TEST(deadlines)
{
    int p[2];
    CHECK(pipe(p) == 0);
    nonblock(p[0]);
    /* Already past: at once. */
    CHECK(goc_fd_wait(p[0], GOC_FD_READ, goc_now() - 1) == -ETIMEDOUT);
    /* In the future: parks, then times out no earlier than asked. */
    for (int i = 0; i < 5; i++) {
        int64_t t0 = goc_now();
        CHECK(goc_fd_wait(p[0], GOC_FD_READ, t0 + 3 * GOC_MILLISECOND) == -ETIMEDOUT);
        int64_t el = goc_now() - t0;
        CHECK(el >= 3 * GOC_MILLISECOND);
        CHECK(el < 2 * GOC_SECOND);
    }
    /* Ready before the deadline: the deadline does not matter. */
    CHECK(write(p[1], "x", 1) == 1);
    CHECK(goc_fd_wait(p[0], GOC_FD_READ, goc_now() + GOC_SECOND) == GOC_FD_READ);
    /* A pipe's write end is writable. */
    nonblock(p[1]);
    CHECK(goc_fd_wait(p[1], GOC_FD_WRITE, 0) == GOC_FD_WRITE);
    CHECK(goc_fd_wait(-1, GOC_FD_READ, 0) == -EBADF);
    CHECK(goc_fd_wait(p[0], 0, 0) == -EINVAL);
    goc_fd_close(p[0]);
    goc_fd_close(p[1]);
}

/* ---- Forget wakes a waiter with -ECANCELED ---- */

static _Atomic int forget_res = 1;
static _Atomic int forget_waiting;
static void forget_waiter(void *arg)
{
    int fd = (int)(intptr_t)arg;
    atomic_store(&forget_waiting, 1);
    atomic_store(&forget_res, goc_fd_wait(fd, GOC_FD_READ, 0));
}

TEST(forget_cancels_waiter)
{
    int p[2];
    CHECK(pipe(p) == 0);
    nonblock(p[0]);
    goc_go(forget_waiter, (void *)(intptr_t)p[0]);
    for (long i = 0; i < 100000000L && !atomic_load(&forget_waiting); i++)
        goc_yield();
    /* Let it park: keep yielding until its status shows it waiting. */
    for (long i = 0; i < 1000000L && atomic_load(&goc__netpoll_nwait) == 0; i++)
        goc_yield();
    CHECK(atomic_load(&goc__netpoll_nwait) == 1);
    goc_fd_forget(p[0]);
    for (long i = 0; i < 100000000L && atomic_load(&forget_res) == 1; i++)
        goc_yield();
    CHECK(atomic_load(&forget_res) == -ECANCELED);
    close(p[0]);
    close(p[1]);
}

/* ---- A plain thread waits too; and an unknown thread's write is no
 * deadlock: the I/O wait is pending. ---- */

static void *late_writer(void *arg)
{
    int fd = (int)(intptr_t)arg;
    /* Never calls goc: invisible to it. Busy a while, then write. */
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 50000000ul; i++)
        x += i;
    if (x == 1 || write(fd, "y", 1) != 1)
        abort();
    return NULL;
}

TEST(io_wait_is_not_deadlock)
{
    int p[2];
    CHECK(pipe(p) == 0);
    nonblock(p[0]);
    pthread_t th;
    pthread_create(&th, NULL, late_writer, (void *)(intptr_t)p[1]);
    CHECK(goc_fd_wait(p[0], GOC_FD_READ, 0) == GOC_FD_READ);
    char c;
    CHECK(read(p[0], &c, 1) == 1 && c == 'y');
    pthread_join(th, NULL);
    goc_fd_close(p[0]);
    close(p[1]);
}

static void *thread_waiter(void *arg)
{
    int fd = (int)(intptr_t)arg;
    intptr_t r = goc_fd_wait(fd, GOC_FD_READ, goc_now() + 10 * GOC_SECOND);
    return (void *)r;
}

static goc_waitgroup writer_wg = GOC_WAITGROUP_INIT;
static void writer_g(void *arg)
{
    int fd = (int)(intptr_t)arg;
    goc_sleep(2 * GOC_MILLISECOND);
    if (write(fd, "z", 1) != 1)
        abort();
    goc_waitgroup_done(&writer_wg);
}

TEST(plain_thread_waits)
{
    int p[2];
    CHECK(pipe(p) == 0);
    nonblock(p[0]);
    pthread_t th;
    pthread_create(&th, NULL, thread_waiter, (void *)(intptr_t)p[0]);
    goc_waitgroup_add(&writer_wg, 1);
    goc_go(writer_g, (void *)(intptr_t)p[1]);
    void *r;
    pthread_join(th, &r);
    CHECK((intptr_t)r == GOC_FD_READ);
    goc_waitgroup_wait(&writer_wg); /* its write is over before the close */
    goc_fd_close(p[0]);
    close(p[1]);
}

/* ---- With one worker that never idles, I/O is still noticed ---- */

static _Atomic int io_seen;
static void io_waiter(void *arg)
{
    int fd = (int)(intptr_t)arg;
    if (goc_fd_wait(fd, GOC_FD_READ, 0) == GOC_FD_READ)
        atomic_store(&io_seen, 1);
}
static void *io_writer_thread(void *arg)
{
    int fd = (int)(intptr_t)arg;
    while (atomic_load(&goc__netpoll_nwait) == 0)
        sched_yield();
    if (write(fd, "w", 1) != 1)
        abort();
    return NULL;
}

static int sc_busy(int argc, char **argv)
{
    (void)argc, (void)argv;
    int p[2];
    if (pipe(p) != 0)
        return 3;
    nonblock(p[0]);
    goc_go(io_waiter, (void *)(intptr_t)p[0]);
    pthread_t th;
    pthread_create(&th, NULL, io_writer_thread, (void *)(intptr_t)p[1]);
    /* This goroutine keeps the only worker busy: it yields, but there is
     * always something to run, so the worker never goes idle. */
    long spins = 0;
    while (!atomic_load(&io_seen) && spins < 200000000L) {
        goc_yield();
        spins++;
    }
    pthread_join(th, NULL);
    printf("seen=%d\n", atomic_load(&io_seen));
    return 0;
}

TEST(busy_worker_still_polls)
{
    static char out[4096];
    const char *env[] = {"GOC_MAXPROCS=1", NULL};
    CHECK(run_child("busy", env, out, sizeof out) == 0);
    CHECK(strstr(out, "seen=1") != NULL);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(socketpair_echo_every_byte);
    RUN(deadlines);
    RUN(forget_cancels_waiter);
    RUN(io_wait_is_not_deadlock);
    RUN(plain_thread_waits);
    RUN(busy_worker_still_polls);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"busy", sc_busy},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
