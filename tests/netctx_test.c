/* netctx_test.c: the context-aware forms of the network calls
 * (goc_fd_wait_ctx, goc_accept_ctx, goc_conn_read_ctx, goc_conn_write_ctx,
 * goc_dial_ctx). Each one, parked, returns -ECANCELED when another
 * goroutine cancels its context and -ETIMEDOUT at the context's deadline;
 * fails at once on a context that has ended; succeeds while the context
 * lives (and with Background); leaves the object usable (a cancelled read
 * loses no byte, even when the cancel races the data); keeps the object's
 * own deadlines. A dial is cancelled while its connect hangs and while its
 * name lookup waits for a goc_blocking thread (the late lookup is freed by
 * itself). After every test the goroutines are back to what they were, and
 * every context's child list is empty once its calls have returned. */
#define _GNU_SOURCE
#include <limits.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "context.h"
#include "internal.h"
#include "leak.h"
#include "hang.h"

/* ---- A call run in a goroutine of its own ---- */

enum op { OP_WAIT, OP_ACCEPT, OP_READ, OP_WRITE, OP_DIAL };

#define PENDING LONG_MIN

struct call {
    enum op op;
    goc_ctx *ctx;
    int fd;           /* OP_WAIT */
    goc_listener *l;  /* OP_ACCEPT */
    goc_conn *c;      /* OP_READ, OP_WRITE */
    const char *addr; /* OP_DIAL */
    void *buf;
    size_t n;
    goc_conn *out;    /* OP_ACCEPT, OP_DIAL */
    _Atomic long res; /* PENDING while the call runs */
};

static long call_do(struct call *k)
{
    switch (k->op) {
    case OP_WAIT:
        return goc_fd_wait_ctx(k->fd, GOC_FD_READ, k->ctx);
    case OP_ACCEPT:
        return goc_accept_ctx(k->l, &k->out, k->ctx);
    case OP_READ:
        return (long)goc_conn_read_ctx(k->c, k->buf, k->n, k->ctx);
    case OP_WRITE:
        return (long)goc_conn_write_ctx(k->c, k->buf, k->n, k->ctx);
    case OP_DIAL:
        return goc_dial_ctx(k->ctx, "tcp", k->addr, &k->out);
    }
    return -EINVAL;
}

static void call_run(void *arg)
{
    struct call *k = arg;
    atomic_store(&k->res, call_do(k));
}

static void call_start(struct call *k)
{
    atomic_store(&k->res, PENDING);
    goc_go(call_run, k);
}

/* Polls (boundedly: a call that never returns fails the test after 20 s). */
static long call_result(struct call *k)
{
    int64_t until = goc_now() + 20 * GOC_SECOND;
    while (atomic_load(&k->res) == PENDING && goc_now() < until)
        goc_yield();
    return atomic_load(&k->res);
}

/* Until the call waits in the poller with its context's watcher in place
 * (a context that cannot end has none): how a test knows it is parked. */
static bool call_parked(struct call *k, int nwait_base)
{
    bool watched = goc_ctx_done(k->ctx) != NULL;
    int64_t until = goc_now() + 20 * GOC_SECOND;
    while (goc_now() < until) {
        if (atomic_load(&goc__netpoll_nwait) > nwait_base &&
            (!watched || goc__ctx_nchildren(k->ctx) == 1))
            return true;
        goc_yield();
    }
    return false;
}

/* cancel: runs k in a goroutine until it parks, then cancels its context
 * from this goroutine. Else k's context has a deadline: k runs here, and
 * parks until then (whether a slow machine lets anyone see it parked
 * first or not). Returns k's result. */
static long park_then_end(struct call *k, bool cancel)
{
    long r;
    if (cancel) {
        int base = atomic_load(&goc__netpoll_nwait);
        call_start(k);
        CHECK(call_parked(k, base));
        goc_cancel(k->ctx);
        r = call_result(k);
    } else {
        r = call_do(k);
    }
    CHECK(goc__ctx_nchildren(k->ctx) == 0);
    return r;
}

/* ---- Helpers ---- */

/* A context's child list empties once its children have ended; a child
 * ended by its deadline leaves it in its deadline goroutine, which may
 * still be at work when the child's release returns (a second cancel
 * returns at once): polled, boundedly. */
static bool no_children(goc_ctx *ctx)
{
    int64_t until = goc_now() + 20 * GOC_SECOND;
    while (goc__ctx_nchildren(ctx) != 0 && goc_now() < until)
        goc_yield();
    return goc__ctx_nchildren(ctx) == 0;
}

static goc_listener *listen_local(char *addr)
{
    goc_listener *l = NULL;
    CHECK(goc_listen("tcp", "127.0.0.1:0", &l) == 0);
    CHECK(goc_listener_addr(l, addr, GOC_ADDRSTRLEN) > 0);
    return l;
}

static void tcp_pair(goc_listener *l, const char *addr, goc_conn **c, goc_conn **s)
{
    CHECK(goc_dial("tcp", addr, c) == 0);
    CHECK(goc_accept(l, s) == 0);
}

static goc_ctx *cancelled(void)
{
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_cancel(ctx);
    return ctx;
}

static __attribute__((noinline)) ssize_t sys_write(int fd, const void *b, size_t n)
{
    ssize_t r = write(fd, b, n);
    return r < 0 ? -errno : r;
}

/* ---- goc_fd_wait_ctx ---- */

TEST(fd_wait_ctx)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
    goc_ctx *root = goc_with_cancel(goc_background());

    /* Cancelled by another goroutine while parked. */
    struct call k = {.op = OP_WAIT, .fd = p[0], .ctx = goc_with_cancel(root)};
    CHECK(park_then_end(&k, true) == -ECANCELED);
    goc_ctx_release(k.ctx);

    /* The context's deadline. */
    k.ctx = goc_with_timeout(root, 5 * GOC_MILLISECOND);
    CHECK(park_then_end(&k, false) == -ETIMEDOUT);
    goc_ctx_release(k.ctx);

    /* A live context: woken by the data, its watcher gone. */
    k.ctx = goc_with_cancel(root);
    int base = atomic_load(&goc__netpoll_nwait);
    call_start(&k);
    CHECK(call_parked(&k, base));
    CHECK(sys_write(p[1], "x", 1) == 1);
    CHECK(call_result(&k) == GOC_FD_READ);
    CHECK(goc__ctx_nchildren(k.ctx) == 0);
    CHECK(goc_ctx_err(k.ctx) == 0);
    char junk[16];
    CHECK(read(p[0], junk, sizeof junk) == 1);

    /* Data there before the wait; Background. */
    CHECK(sys_write(p[1], "x", 1) == 1);
    CHECK(goc_fd_wait_ctx(p[0], GOC_FD_READ, k.ctx) == GOC_FD_READ);
    CHECK(goc__ctx_nchildren(k.ctx) == 0);
    CHECK(read(p[0], junk, sizeof junk) == 1);
    CHECK(sys_write(p[1], "x", 1) == 1);
    CHECK(goc_fd_wait_ctx(p[0], GOC_FD_READ, goc_background()) == GOC_FD_READ);
    CHECK(read(p[0], junk, sizeof junk) == 1);
    goc_ctx_release(k.ctx);

    /* An ended context fails at once, even with the descriptor ready ... */
    CHECK(sys_write(p[1], "x", 1) == 1);
    goc_ctx *dead = cancelled();
    CHECK(goc_fd_wait_ctx(p[0], GOC_FD_READ, dead) == -ECANCELED);
    goc_ctx_release(dead);
    dead = goc_with_deadline(root, goc_now() - 1);
    CHECK(goc_fd_wait_ctx(p[0], GOC_FD_READ, dead) == -ETIMEDOUT);
    goc_ctx_release(dead);
    /* ... and the readiness it did not take is still there. */
    CHECK(goc_fd_wait_ctx(p[0], GOC_FD_READ, goc_background()) == GOC_FD_READ);
    CHECK(read(p[0], junk, sizeof junk) == 1);

    /* Background parks like goc_fd_wait. */
    k.ctx = goc_background();
    base = atomic_load(&goc__netpoll_nwait);
    call_start(&k);
    CHECK(call_parked(&k, base));
    CHECK(sys_write(p[1], "x", 1) == 1);
    CHECK(call_result(&k) == GOC_FD_READ);
    CHECK(read(p[0], junk, sizeof junk) == 1);

    /* Misuse is reported as by goc_fd_wait. */
    goc_ctx *live = goc_with_cancel(root);
    CHECK(goc_fd_wait_ctx(-1, GOC_FD_READ, live) == -EBADF);
    CHECK(goc_fd_wait_ctx(p[0], 0, live) == -EINVAL);
    CHECK(goc__ctx_nchildren(live) == 0);
    goc_ctx_release(live);

    CHECK(no_children(root));
    goc_ctx_release(root);
    goc_fd_forget(p[0]);
    close(p[0]);
    close(p[1]);
}

/* ---- goc_accept_ctx ---- */

/* k's call (accept or dial), parked, ends by a cancel, then by a 5 ms
 * deadline, each time with a fresh child of root and no result. */
static void cancel_then_deadline(struct call *k, goc_ctx *root)
{
    k->ctx = goc_with_cancel(root);
    CHECK(park_then_end(k, true) == -ECANCELED);
    CHECK(k->out == NULL);
    goc_ctx_release(k->ctx);

    k->ctx = goc_with_timeout(root, 5 * GOC_MILLISECOND);
    CHECK(park_then_end(k, false) == -ETIMEDOUT);
    CHECK(k->out == NULL);
    goc_ctx_release(k->ctx);
}

TEST(accept_ctx)
{
    char addr[GOC_ADDRSTRLEN];
    goc_listener *l = listen_local(addr);
    goc_ctx *root = goc_with_cancel(goc_background());

    struct call k = {.op = OP_ACCEPT, .l = l};
    cancel_then_deadline(&k, root);

    /* The listener is still usable: a live context gets the connection. */
    k.ctx = goc_with_cancel(root);
    int base = atomic_load(&goc__netpoll_nwait);
    call_start(&k);
    CHECK(call_parked(&k, base));
    goc_conn *c = NULL;
    CHECK(goc_dial("tcp", addr, &c) == 0);
    CHECK(call_result(&k) == 0);
    CHECK(k.out != NULL);
    CHECK(goc__ctx_nchildren(k.ctx) == 0);
    CHECK(goc_conn_write(c, "hi", 2) == 2);
    char buf[2];
    CHECK(goc_conn_read_full(k.out, buf, 2) == 2 && memcmp(buf, "hi", 2) == 0);
    goc_conn_close(k.out);
    goc_conn_close(c);

    /* An ended context fails at once, even with a connection queued. */
    CHECK(goc_dial("tcp", addr, &c) == 0);
    goc_ctx *dead = cancelled();
    goc_conn *s = (goc_conn *)1;
    CHECK(goc_accept_ctx(l, &s, dead) == -ECANCELED);
    CHECK(s == NULL);
    goc_ctx_release(dead);
    CHECK(goc_accept_ctx(l, &s, goc_background()) == 0);
    goc_conn_close(s);
    goc_conn_close(c);

    /* The listener's own deadline still applies, the context living on. */
    goc_listener_set_deadline(l, goc_now() + 5 * GOC_MILLISECOND);
    CHECK(goc_accept_ctx(l, &s, k.ctx) == -ETIMEDOUT);
    CHECK(goc_ctx_err(k.ctx) == 0);
    CHECK(goc__ctx_nchildren(k.ctx) == 0);
    goc_listener_set_deadline(l, 0);
    goc_ctx_release(k.ctx);

    /* Closing the listener still ends a pending accept_ctx. */
    k.ctx = goc_with_cancel(root);
    base = atomic_load(&goc__netpoll_nwait);
    call_start(&k);
    CHECK(call_parked(&k, base));
    goc_listener_close(l);
    CHECK(call_result(&k) == -ECANCELED);
    CHECK(goc_ctx_err(k.ctx) == 0); /* closed, not cancelled */
    CHECK(goc__ctx_nchildren(k.ctx) == 0);
    goc_ctx_release(k.ctx);

    CHECK(no_children(root));
    goc_ctx_release(root);
}

/* ---- goc_conn_read_ctx ---- */

TEST(read_ctx)
{
    char addr[GOC_ADDRSTRLEN];
    goc_listener *l = listen_local(addr);
    goc_conn *c, *s;
    tcp_pair(l, addr, &c, &s);
    goc_ctx *root = goc_with_cancel(goc_background());
    char buf[64];

    /* Cancelled while parked; the connection reads on afterwards. */
    struct call k = {.op = OP_READ, .c = c, .buf = buf, .n = sizeof buf,
                     .ctx = goc_with_cancel(root)};
    CHECK(park_then_end(&k, true) == -ECANCELED);
    goc_ctx_release(k.ctx);
    CHECK(goc_conn_write(s, "one", 3) == 3);
    CHECK(goc_conn_read(c, buf, sizeof buf) == 3 && memcmp(buf, "one", 3) == 0);

    /* The context's deadline; again the connection goes on. */
    k.ctx = goc_with_timeout(root, 5 * GOC_MILLISECOND);
    CHECK(park_then_end(&k, false) == -ETIMEDOUT);
    goc_ctx_release(k.ctx);
    CHECK(goc_conn_write(s, "two", 3) == 3);
    CHECK(goc_conn_read_ctx(c, buf, sizeof buf, goc_background()) == 3);
    CHECK(memcmp(buf, "two", 3) == 0);

    /* A live context: the data wakes it, its watcher is gone. */
    k.ctx = goc_with_cancel(root);
    int base = atomic_load(&goc__netpoll_nwait);
    call_start(&k);
    CHECK(call_parked(&k, base));
    CHECK(goc_conn_write(s, "three", 5) == 5);
    CHECK(call_result(&k) == 5 && memcmp(buf, "three", 5) == 0);
    CHECK(goc__ctx_nchildren(k.ctx) == 0);

    /* The connection's read deadline still applies (the context lives on),
     * and moving it reaches a read_ctx that waits. */
    goc_conn_set_read_deadline(c, goc_now() + 5 * GOC_MILLISECOND);
    CHECK(goc_conn_read_ctx(c, buf, sizeof buf, k.ctx) == -ETIMEDOUT);
    CHECK(goc_ctx_err(k.ctx) == 0);
    goc_conn_set_read_deadline(c, goc_now() + GOC_HOUR);
    base = atomic_load(&goc__netpoll_nwait);
    call_start(&k);
    CHECK(call_parked(&k, base));
    goc_conn_set_read_deadline(c, goc_now() - 1);
    CHECK(call_result(&k) == -ETIMEDOUT);
    CHECK(goc_ctx_err(k.ctx) == 0);
    CHECK(goc__ctx_nchildren(k.ctx) == 0);
    goc_conn_set_read_deadline(c, 0);

    /* An ended context fails at once, data waiting or not; the data stays. */
    CHECK(goc_conn_write(s, "four", 4) == 4);
    CHECK(goc_conn_read_full(c, buf, 2) == 2); /* "fo"; "ur" may be stashed */
    goc_ctx *dead = cancelled();
    CHECK(goc_conn_read_ctx(c, buf, sizeof buf, dead) == -ECANCELED);
    goc_ctx_release(dead);
    size_t got = 0;
    while (got < 2) {
        ssize_t r = goc_conn_read_ctx(c, buf + got, 2 - got, k.ctx);
        CHECK(r > 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    CHECK(memcmp(buf, "ur", 2) == 0);
    goc_ctx_release(k.ctx);

    /* Background parks like goc_conn_read. */
    k.ctx = goc_background();
    base = atomic_load(&goc__netpoll_nwait);
    call_start(&k);
    CHECK(call_parked(&k, base));
    CHECK(goc_conn_write(s, "five", 4) == 4);
    CHECK(call_result(&k) == 4);

    /* Closing the connection still ends a pending read_ctx. */
    k.ctx = goc_with_cancel(root);
    base = atomic_load(&goc__netpoll_nwait);
    call_start(&k);
    CHECK(call_parked(&k, base));
    goc_conn_close(c);
    CHECK(call_result(&k) == -ECANCELED);
    CHECK(goc_ctx_err(k.ctx) == 0);
    goc_ctx_release(k.ctx);

    CHECK(no_children(root));
    goc_ctx_release(root);
    goc_conn_close(s);
    goc_listener_close(l);
}

/* ---- goc_conn_write_ctx ---- */

struct drain {
    goc_conn *c;
    char tail[4];
    _Atomic long total; /* -1 until the stream ends */
};

static void drainer(void *arg)
{
    struct drain *d = arg;
    static char buf[65536];
    long total = 0;
    ssize_t r;
    while ((r = goc_conn_read(d->c, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < r; i++) { /* the last 4 bytes of the stream */
            memmove(d->tail, d->tail + 1, 3);
            d->tail[3] = buf[i];
        }
        total += r;
    }
    atomic_store(&d->total, r == 0 ? total : r);
}

/* Tops c's send path up until the kernel takes no more, without waiting:
 * a pipe that was full may have gained room since (on a loaded machine
 * loopback TCP moves queued data to the receiver late). */
static void fill_now(goc_conn *c, const char *buf)
{
    while (send(goc_conn_fd(c), buf, 65536, MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {
    }
}

TEST(write_ctx)
{
    char addr[GOC_ADDRSTRLEN];
    goc_listener *l = listen_local(addr);
    goc_conn *c, *s;
    tcp_pair(l, addr, &c, &s);
    /* Small buffers, so that a write waits soon. */
    int small = 65536;
    setsockopt(goc_conn_fd(c), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(goc_conn_fd(s), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    goc_ctx *root = goc_with_cancel(goc_background());
    size_t big = 16u << 20;
    char *buf = calloc(1, big);

    /* Nobody reads: the write waits until cancelled. */
    struct call k = {.op = OP_WRITE, .c = c, .buf = buf, .n = big, .ctx = goc_with_cancel(root)};
    CHECK(park_then_end(&k, true) == -ECANCELED);
    goc_ctx_release(k.ctx);

    /* The buffers are full: a context deadline, then an ended context. A
     * byte the kernel still took is no failure; the pipe is filled again. */
    long r = 1;
    for (int i = 0; i < 50 && r == 1; i++) {
        fill_now(c, buf);
        k.n = 1;
        k.ctx = goc_with_timeout(root, 5 * GOC_MILLISECOND);
        r = park_then_end(&k, false);
        goc_ctx_release(k.ctx);
    }
    CHECK(r == -ETIMEDOUT);
    goc_ctx *dead = cancelled();
    CHECK(goc_conn_write_ctx(c, "x", 1, dead) == -ECANCELED);
    goc_ctx_release(dead);

    /* The write deadline still applies, the context living on. */
    goc_ctx *live = goc_with_cancel(root);
    r = 1;
    for (int i = 0; i < 50 && r == 1; i++) {
        fill_now(c, buf);
        goc_conn_set_write_deadline(c, goc_now() + 5 * GOC_MILLISECOND);
        r = goc_conn_write_ctx(c, "x", 1, live);
    }
    CHECK(r == -ETIMEDOUT);
    CHECK(goc_ctx_err(live) == 0);
    CHECK(goc__ctx_nchildren(live) == 0);
    goc_conn_set_write_deadline(c, 0);

    /* Still usable: once the peer reads, a live context's write goes out
     * whole, after whatever prefix the cancelled ones sent. */
    struct drain d = {.c = s, .total = -1};
    goc_go(drainer, &d);
    CHECK(goc_conn_write_ctx(c, buf, 1 << 20, live) == 1 << 20);
    CHECK(goc_conn_write_ctx(c, "tail", 4, live) == 4);
    CHECK(goc__ctx_nchildren(live) == 0);
    CHECK(goc_conn_write_ctx(c, "", 0, goc_background()) == 0);
    goc_conn_close_write(c);
    int64_t until = goc_now() + 20 * GOC_SECOND;
    while (atomic_load(&d.total) == -1 && goc_now() < until)
        goc_yield();
    CHECK(atomic_load(&d.total) >= (1 << 20) + 4);
    CHECK(memcmp(d.tail, "tail", 4) == 0);
    goc_ctx_release(live);

    CHECK(no_children(root));
    goc_ctx_release(root);
    free(buf);
    goc_conn_close(c);
    goc_conn_close(s);
    goc_listener_close(l);
}

/* ---- A cancel racing the data: no byte is lost ---- */

struct racer {
    goc_conn *s;
    goc_ctx *ctx;
    goc_waitgroup *wg;
};

static void race_write(void *arg)
{
    struct racer *r = arg;
    CHECK(goc_conn_write(r->s, "z", 1) == 1);
    goc_waitgroup_done(r->wg);
}

static void race_cancel(void *arg)
{
    struct racer *r = arg;
    goc_cancel(r->ctx);
    goc_waitgroup_done(r->wg);
}

TEST(cancel_races_data)
{
    char addr[GOC_ADDRSTRLEN];
    goc_listener *l = listen_local(addr);
    goc_conn *c, *s;
    tcp_pair(l, addr, &c, &s);
    goc_ctx *root = goc_with_cancel(goc_background());
    int n = SCALE(3000), got_ctx = 0, got_cancel = 0;
    for (int i = 0; i < n; i++) {
        goc_ctx *ctx = goc_with_cancel(root);
        goc_waitgroup wg = GOC_WAITGROUP_INIT;
        struct racer r = {s, ctx, &wg};
        goc_waitgroup_add(&wg, 2);
        goc_go(race_write, &r);
        goc_go(race_cancel, &r);
        char b = 0;
        ssize_t res = goc_conn_read_ctx(c, &b, 1, ctx);
        if (res == -ECANCELED) {
            got_cancel++;
            res = goc_conn_read(c, &b, 1); /* the byte is still there */
        } else {
            got_ctx++;
        }
        CHECK(res == 1 && b == 'z');
        goc_waitgroup_wait(&wg);
        CHECK(goc__ctx_nchildren(ctx) == 0);
        goc_ctx_release(ctx);
    }
    CHECK(got_ctx + got_cancel == n);
    /* Nothing left over or duplicated. */
    goc_conn_close_write(s);
    char b;
    CHECK(goc_conn_read(c, &b, 1) == 0);
    CHECK(no_children(root));
    goc_ctx_release(root);
    goc_conn_close(c);
    goc_conn_close(s);
    goc_listener_close(l);
}

/* ---- goc_dial_ctx ---- */

TEST(dial_ctx)
{
    char addr[GOC_ADDRSTRLEN];
    goc_listener *l = listen_local(addr);
    goc_ctx *root = goc_with_cancel(goc_background());
    goc_conn *c = NULL, *s;

    /* A live context, and Background. */
    goc_ctx *live = goc_with_cancel(root);
    CHECK(goc_dial_ctx(live, "tcp", addr, &c) == 0);
    CHECK(goc_accept(l, &s) == 0);
    CHECK(goc_conn_write(c, "ok", 2) == 2);
    char buf[2];
    CHECK(goc_conn_read_full(s, buf, 2) == 2 && memcmp(buf, "ok", 2) == 0);
    goc_conn_close(c);
    goc_conn_close(s);
    CHECK(goc_dial_ctx(goc_background(), "tcp", addr, &c) == 0);
    goc_conn_close(c);
    CHECK(goc__ctx_nchildren(live) == 0);

    /* An ended context fails at once; its errors are the context's. */
    goc_ctx *dead = cancelled();
    c = (goc_conn *)1;
    CHECK(goc_dial_ctx(dead, "tcp", addr, &c) == -ECANCELED);
    CHECK(c == NULL);
    goc_ctx_release(dead);
    dead = goc_with_deadline(root, goc_now() - 1);
    CHECK(goc_dial_ctx(dead, "tcp", addr, &c) == -ETIMEDOUT);
    goc_ctx_release(dead);

    /* Other failures are the dial's own. */
    CHECK(goc_dial_ctx(live, "tcp", "127.0.0.1", &c) == -EINVAL);
    goc_listener_close(l);
    CHECK(goc_dial_ctx(live, "tcp", addr, &c) == -ECONNREFUSED);
    CHECK(goc_ctx_err(live) == 0);
    CHECK(goc__ctx_nchildren(live) == 0);
    goc_ctx_release(live);

    CHECK(no_children(root));
    goc_ctx_release(root);
}

TEST(dial_ctx_hanging_connect)
{
    struct hang h;
    hang_open(&h);
    if (!h.hung) {
        fprintf(stderr, "  loopback never left a connect hanging: dial_ctx's connect untested\n");
    } else {
        goc_ctx *root = goc_with_cancel(goc_background());
        struct call k = {.op = OP_DIAL, .addr = h.addr};
        cancel_then_deadline(&k, root);
        CHECK(no_children(root));
        goc_ctx_release(root);
    }
    hang_close(&h);
}

/* A name lookup cannot be interrupted: the dial returns when its context
 * ends while the lookup waits for the only goc_blocking thread (main sets
 * GOC_BLOCKING_THREADS=1), which another call holds; the lookup, run
 * later, frees what it made (ASan) and its goroutine ends (LRUN). */
struct blocker {
    int fd;            /* read end of a pipe: blocks until written */
    _Atomic int state; /* 1: running on the helper thread; 2: returned */
};

static intptr_t block_fn(void *arg)
{
    struct blocker *b = arg;
    atomic_store(&b->state, 1);
    char x;
    return read(b->fd, &x, 1);
}

static void block_run(void *arg)
{
    struct blocker *b = arg;
    goc_blocking(block_fn, b);
    atomic_store(&b->state, 2);
}

TEST(dial_ctx_lookup)
{
    int base = goc_num_goroutine();
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    struct blocker b = {.fd = p[0]};
    goc_go(block_run, &b);
    int64_t until = goc_now() + 20 * GOC_SECOND;
    while (atomic_load(&b.state) != 1 && goc_now() < until)
        goc_yield();
    CHECK(atomic_load(&b.state) == 1);

    /* "http" is a service name: looked up by getaddrinfo (in
     * /etc/services: no name server involved). */
    goc_ctx *root = goc_with_cancel(goc_background());
    int before = goc_num_goroutine();
    struct call k = {.op = OP_DIAL, .addr = "127.0.0.1:http", .ctx = goc_with_cancel(root)};
    call_start(&k);
    /* The dialer and its lookup goroutine. */
    while (goc_num_goroutine() < before + 2 && goc_now() < until)
        goc_yield();
    CHECK(goc_num_goroutine() == before + 2);
    goc_cancel(k.ctx);
    CHECK(call_result(&k) == -ECANCELED);
    CHECK(k.out == NULL);
    CHECK(atomic_load(&b.state) == 1); /* the lookup never ran */
    goc_ctx_release(k.ctx);

    /* The context's deadline, the same way. */
    k.ctx = goc_with_timeout(root, 5 * GOC_MILLISECOND);
    CHECK(call_do(&k) == -ETIMEDOUT);
    CHECK(atomic_load(&b.state) == 1);
    goc_ctx_release(k.ctx);

    /* Let the lookups run (their results are dropped) and the blocker end. */
    CHECK(sys_write(p[1], "x", 1) == 1);
    while (atomic_load(&b.state) != 2 && goc_now() < until)
        goc_yield();
    CHECK(goroutines_settle(base));

    /* A live context gets the lookup's result: port 80 on 127.0.0.1,
     * refused unless something serves there. */
    k.ctx = goc_with_cancel(root);
    long r = call_do(&k);
    CHECK(r == 0 || r == -ECONNREFUSED);
    if (r == 0)
        goc_conn_close(k.out);
    CHECK(goc_ctx_err(k.ctx) == 0);
    goc_ctx_release(k.ctx);

    CHECK(no_children(root));
    goc_ctx_release(root);
    close(p[0]);
    close(p[1]);
}

static int run_all(int argc, char **argv)
{
    (void)argc;
    test_self = argv[0];
    LRUN(fd_wait_ctx);
    LRUN(accept_ctx);
    LRUN(read_ctx);
    LRUN(write_ctx);
    LRUN(cancel_races_data);
    LRUN(dial_ctx);
    LRUN(dial_ctx_hanging_connect);
    LRUN(dial_ctx_lookup);
    return test_summary();
}

int main(int argc, char **argv)
{
    /* One goc_blocking thread, for dial_ctx_lookup (read on first use). */
    setenv("GOC_BLOCKING_THREADS", "1", 1);
    return goc_main(run_all, argc, argv);
}
