/* net.c: Go's net.Conn, net.Listener and net.PacketConn over non-blocking
 * sockets and the poller (netpoll.c), as Go's net/fd_posix.go and
 * internal/poll/fd_unix.go.
 *
 * Every call follows the non-blocking protocol: make the system call; on
 * EAGAIN wait in the poller (goc__fd_wait_dl, with the connection's
 * deadline word) and make it again. Deadlines are words that the setters
 * store and then kick the waiter with; a waiter that wakes from a kick
 * looks at its deadline again (an expired one fails the call, as a passed
 * deadline fails every call until it moves: Go's semantics).
 *
 * Lifetime (Go's fdMutex, simplified): netfd.state counts the calls in
 * progress, plus a CLOSED bit. A call counts itself in on entry (failing
 * with -ECANCELED once CLOSED is set) and out on return. Close sets CLOSED
 * and evicts the descriptor from the poller, which fails its waiters and
 * every later wait with -ECANCELED; whoever brings the count to zero with
 * CLOSED set (a returning call, or close itself) forgets and closes the
 * descriptor and frees the object. So the descriptor number is never
 * reused while a call of this object may still touch it.
 *
 * Turns: rmu (wmu) lets one reader (writer) at a time run, so that a write
 * goes out whole before the next, as Go's fdMutex does. Neither is held
 * across anything but this object's own calls.
 *
 * Contexts (the _ctx calls): a call bounded by a context passes a
 * goc__fd_ctx to its waits (netpoll.h), which watch the context only while
 * the call has to wait; the call stops the watch before it gives up its
 * turn (so the watcher's kick only ever reaches this call's own wait) and
 * a dial before it closes or hands on each socket. A dial's name lookup,
 * which cannot be interrupted, runs in a goroutine the dialer can stop
 * waiting for (struct lookup).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "goc/sync.h"
#include "goc/time.h"
#include "netaddr.h"
#include "netpoll.h"
#include "race.h"

#define CLOSED (1u << 31)
#define MAX_ADDRS 8 /* resolved addresses tried by a dial */

/* What a connection and a listener are made of (Go's netFD). */
typedef struct netfd {
    int fd;
    int family, sotype;
    _Atomic uint32_t state;   /* CLOSED | calls in progress */
    _Atomic int64_t rdl, wdl; /* deadlines (goc_now() instants, 0: none); accept uses rdl */
    goc_mutex rmu, wmu;       /* one reader, one writer at a time */
    bool drained;             /* under rmu: the last read emptied the stream */
    char *unlink_path;        /* a unix listener's socket file, removed on close */
} netfd;

/* A stream read smaller than this asks the kernel for STASH bytes into the
 * stash, and the caller gets its part from there (a larger one reads
 * straight into the caller's buffer). A read that comes back short of what
 * it asked for has emptied the stream, so the next read need not ask the
 * kernel before the poller has seen an edge (see conn_read). One plain
 * recvfrom either way: a two-piece recvmsg (the caller's buffer, then the
 * stash) costs the kernel a msghdr and an iovec array to copy in. */
#define STASH 256

struct goc_conn {
    netfd nfd;
    uint16_t soff, slen; /* under rmu: the stash's unread bytes */
    char stash[STASH];
};

struct goc_listener {
    netfd nfd;
};

/* ---- System calls: errno read at once, on the thread that failed ----
 *
 * Reads and writes go straight to the kernel (syscall(2)): glibc's read and
 * send are cancellation points, whose bookkeeping costs as much as a tenth
 * of a small echo round trip. Under TSan they go through libc, whose
 * interceptors give TSan the happens-before edge from a write to the read
 * that sees its bytes (Go's race detector has the same edge, ioSync). */
#if defined(GOC_SANITIZE_THREAD)
#define RAW_READ(fd, b, n) read(fd, b, n)
#define RAW_SENDTO(fd, b, n, fl, sa, len) sendto(fd, b, n, fl, sa, len)
#else
#define RAW_READ(fd, b, n) syscall(SYS_recvfrom, fd, b, n, 0, NULL, NULL)
#define RAW_SENDTO(fd, b, n, fl, sa, len) syscall(SYS_sendto, fd, b, n, fl, sa, len)
#endif

static __attribute__((noinline)) ssize_t sys_read(int fd, void *b, size_t n)
{
    ssize_t r = RAW_READ(fd, b, n);
    return r < 0 ? -errno : r;
}

static __attribute__((noinline)) ssize_t sys_send(int fd, const void *b, size_t n,
                                                  const goc_addr *to)
{
    ssize_t r = to ? RAW_SENDTO(fd, b, n, MSG_NOSIGNAL, (const struct sockaddr *)&to->ss, to->len)
                   : RAW_SENDTO(fd, b, n, MSG_NOSIGNAL, NULL, 0);
    return r < 0 ? -errno : r;
}

static __attribute__((noinline)) ssize_t sys_recvfrom(int fd, void *b, size_t n, goc_addr *from)
{
    from->len = sizeof from->ss;
    ssize_t r = recvfrom(fd, b, n, 0, (struct sockaddr *)&from->ss, &from->len);
    return r < 0 ? -errno : r;
}

static __attribute__((noinline)) int sys_accept(int fd)
{
    int r = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return r < 0 ? -errno : r;
}

static __attribute__((noinline)) int sys_socket(int family, int sotype)
{
    int r = socket(family, sotype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return r < 0 ? -errno : r;
}

static __attribute__((noinline)) int sys_bind_listen(int fd, const goc_addr *a, bool listening)
{
    if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0)
        return -errno;
    return listening && listen(fd, SOMAXCONN) != 0 ? -errno : 0;
}

static __attribute__((noinline)) int sys_connect(int fd, const goc_addr *a)
{
    return connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0 ? 0 : -errno;
}

static __attribute__((noinline)) int sys_shutdown(int fd, int how)
{
    return shutdown(fd, how) == 0 ? 0 : -errno;
}

static int so_error(int fd)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        return errno;
    return err;
}

static void set_int(int fd, int level, int opt, int v)
{
    (void)setsockopt(fd, level, opt, &v, sizeof v);
}

/* ---- Lifetime ---- */

static void nfd_init(netfd *f, int fd, int family, int sotype)
{
    memset(f, 0, sizeof *f); /* unlocked mutexes, no deadlines, open */
    f->fd = fd;
    f->family = family;
    f->sotype = sotype;
}

static void nfd_destroy(netfd *f)
{
    goc_fd_close(f->fd);
    if (f->unlink_path) {
        unlink(f->unlink_path);
        free(f->unlink_path);
    }
    free(f); /* the netfd is the first member of its conn or listener */
}

static void nfd_release(netfd *f)
{
    if (atomic_fetch_sub_explicit(&f->state, 1, memory_order_acq_rel) == (CLOSED | 1))
        nfd_destroy(f);
}

static int nfd_acquire(netfd *f)
{
    uint32_t v = atomic_fetch_add_explicit(&f->state, 1, memory_order_acquire);
    if (unlikely(v & CLOSED)) {
        nfd_release(f);
        return -ECANCELED;
    }
    return 0;
}

static int nfd_close(netfd *f)
{
    atomic_fetch_add_explicit(&f->state, 1, memory_order_relaxed); /* f lives until we return */
    uint32_t v = atomic_fetch_or_explicit(&f->state, CLOSED, memory_order_acq_rel);
    if (!(v & CLOSED))
        goc__fd_evict(f->fd);
    nfd_release(f);
    return 0;
}

static bool expired(const _Atomic int64_t *dl)
{
    int64_t d = atomic_load_explicit(dl, memory_order_acquire);
    return d && d <= goc__nanotime();
}

/* The wait half of the protocol, after a call said EAGAIN: 0 to make the
 * call again, or a negative errno (-ETIMEDOUT, -ECANCELED, the context's
 * error, ...). fc: the call's context (NULL: none). */
static int await(netfd *f, int events, const _Atomic int64_t *dl, goc__fd_ctx *fc)
{
    int w = goc__fd_wait_dl(f->fd, events, dl, fc);
    return w < 0 ? w : 0;
}

/* Takes the read turn of an open f (its count held): 0 or -ECANCELED. */
static int turn_lock(netfd *f, goc_mutex *mu)
{
    goc_mutex_lock(mu);
    if (atomic_load_explicit(&f->state, memory_order_acquire) & CLOSED) {
        goc_mutex_unlock(mu);
        return -ECANCELED;
    }
    return 0;
}

static void set_deadline(netfd *f, _Atomic int64_t *dl, int events, int64_t deadline)
{
    atomic_store_explicit(dl, deadline, memory_order_release);
    goc__fd_kick(f->fd, events); /* a waiter looks at the new value */
}

static int sock_addr(netfd *f, bool peer, char *buf, size_t size)
{
    goc_addr a = {.len = sizeof a.ss};
    int r = peer ? getpeername(f->fd, (struct sockaddr *)&a.ss, &a.len)
                 : getsockname(f->fd, (struct sockaddr *)&a.ss, &a.len);
    if (r != 0)
        return -errno;
    return goc__addr_format((struct sockaddr *)&a.ss, a.len, buf, size);
}

static goc_conn *conn_new(int fd, int family, int sotype)
{
    goc_conn *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    nfd_init(&c->nfd, fd, family, sotype);
    c->soff = c->slen = 0;
    if (family != AF_UNIX && sotype == SOCK_STREAM)
        set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1); /* as Go does */
    return c;
}

/* ---- Listening ---- */

/* A socket bound to the first of n addresses that the system supports
 * (a dual-stack [::] falls back to 0.0.0.0 where IPv6 is off). */
static int bound_socket(const goc__netw *nw, const goc_addr *a, int n, bool listening)
{
    int rc = -EAFNOSUPPORT;
    for (int i = 0; i < n; i++) {
        int family = a[i].ss.ss_family;
        int fd = sys_socket(family, nw->sotype);
        if (fd < 0) {
            rc = fd;
            if (rc == -EAFNOSUPPORT)
                continue;
            return rc;
        }
        if (listening && family != AF_UNIX)
            set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
        if (family == AF_INET6) /* "tcp"/"udp" are dual-stack; "tcp6" is not */
            set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, nw->family == AF_INET6);
        rc = sys_bind_listen(fd, &a[i], listening && nw->sotype != SOCK_DGRAM);
        if (rc == 0)
            return fd;
        close(fd);
        if (rc != -EADDRNOTAVAIL && rc != -EAFNOSUPPORT)
            return rc;
    }
    return rc;
}

/* The socket of goc_listen (packet false: a stream network) or
 * goc_listen_packet (packet true: a datagram network), bound to address;
 * fills in *nw and the address family it got. */
static int listen_socket(const char *network, const char *address, bool packet, goc__netw *nw,
                         int *family)
{
    int rc = goc__netw_parse(network, nw);
    if (rc < 0)
        return rc;
    if ((nw->sotype == SOCK_DGRAM) != packet)
        return -EAFNOSUPPORT; /* the other of goc_listen, goc_listen_packet */
    goc_addr a[2];
    int n = goc__net_resolve(nw, address, true, a, 2);
    if (n < 0)
        return n;
    *family = a[0].ss.ss_family;
    return bound_socket(nw, a, n, !packet);
}

int goc_listen(const char *network, const char *address, goc_listener **out)
{
    *out = NULL;
    goc__netw nw;
    int family;
    int fd = listen_socket(network, address, false, &nw, &family);
    if (fd < 0)
        return fd;
    goc_listener *l = malloc(sizeof *l);
    if (!l) {
        close(fd);
        return -ENOMEM;
    }
    nfd_init(&l->nfd, fd, family, nw.sotype);
    if (nw.family == AF_UNIX && address[0] && address[0] != '@' &&
        !(l->nfd.unlink_path = strdup(address))) {
        unlink(address);
        close(fd);
        free(l);
        return -ENOMEM;
    }
    *out = l;
    return 0;
}

static int accept_conn(goc_listener *l, goc_conn **out, goc__fd_ctx *fc)
{
    *out = NULL;
    netfd *f = &l->nfd;
    int r = nfd_acquire(f);
    if (r < 0)
        return r;
    if ((r = turn_lock(f, &f->rmu)) == 0) {
        for (;;) {
            if (expired(&f->rdl)) {
                r = -ETIMEDOUT;
                break;
            }
            r = sys_accept(f->fd);
            if (r >= 0)
                break;
            if (r == -EINTR || r == -ECONNABORTED) /* a connection that died queued */
                continue;
            if (r != -EAGAIN || (r = await(f, GOC_FD_READ, &f->rdl, fc)) < 0)
                break;
        }
        goc__fd_ctx_stop(fc);
        goc_mutex_unlock(&f->rmu);
    }
    int family = f->family, sotype = f->sotype;
    nfd_release(f);
    if (r < 0)
        return r;
    if (!(*out = conn_new(r, family, sotype))) {
        close(r);
        return -ENOMEM;
    }
    return 0;
}

int goc_accept(goc_listener *l, goc_conn **out) { return accept_conn(l, out, NULL); }

int goc_accept_ctx(goc_listener *l, goc_conn **out, goc_ctx *ctx)
{
    int err = goc_ctx_err(ctx);
    if (err) {
        *out = NULL;
        return err;
    }
    goc__fd_ctx fc = GOC__FD_CTX_INIT(ctx);
    return accept_conn(l, out, &fc);
}

int goc_listener_set_deadline(goc_listener *l, int64_t deadline)
{
    set_deadline(&l->nfd, &l->nfd.rdl, GOC_FD_READ, deadline);
    return 0;
}

int goc_listener_addr(goc_listener *l, char *buf, size_t size)
{
    return sock_addr(&l->nfd, false, buf, size);
}

int goc_listener_fd(goc_listener *l) { return l->nfd.fd; }

int goc_listener_close(goc_listener *l) { return nfd_close(&l->nfd); }

int goc_listen_packet(const char *network, const char *address, goc_conn **out)
{
    *out = NULL;
    goc__netw nw;
    int family;
    int fd = listen_socket(network, address, true, &nw, &family);
    if (fd < 0)
        return fd;
    if (!(*out = conn_new(fd, family, nw.sotype))) {
        close(fd);
        return -ENOMEM;
    }
    return 0;
}

/* ---- Dialing ---- */

/* Go's selfConnect: a TCP dial to a local port nobody listens on can
 * connect to itself when the kernel picks that same port as the source. */
static bool self_connected(int fd)
{
    goc_addr l = {.len = sizeof l.ss}, r = {.len = sizeof r.ss};
    if (getsockname(fd, (struct sockaddr *)&l.ss, &l.len) != 0 ||
        getpeername(fd, (struct sockaddr *)&r.ss, &r.len) != 0)
        return false;
    return l.len == r.len && memcmp(&l.ss, &r.ss, l.len) == 0;
}

/* Connects a new socket to a, until deadline, bounded by fc's context:
 * the descriptor or -errno. */
static int dial_one(const goc__netw *nw, const goc_addr *a, int64_t deadline, goc__fd_ctx *fc)
{
    _Atomic int64_t dl = deadline;
    for (int tries = 0;; tries++) {
        int fd = sys_socket(a->ss.ss_family, nw->sotype);
        if (fd < 0)
            return fd;
        int r = sys_connect(fd, a);
        while (r == -EINPROGRESS || r == -EINTR || r == -EALREADY) {
            if (deadline && deadline <= goc__nanotime()) {
                r = -ETIMEDOUT;
                break;
            }
            int w = goc__fd_wait_dl(fd, GOC_FD_WRITE, &dl, fc);
            r = w < 0 ? w : -so_error(fd);
        }
        /* The watcher kicks this descriptor: stopped before it is closed
         * or handed on. */
        goc__fd_ctx_stop(fc);
        if (r == 0 && nw->sotype == SOCK_STREAM && a->ss.ss_family != AF_UNIX && tries < 2 &&
            self_connected(fd))
            r = -EADDRNOTAVAIL;
        if (r == 0)
            return fd;
        goc_fd_close(fd);
        if (r != -EADDRNOTAVAIL || tries >= 2)
            return r;
    }
}

/* A name lookup that its dialer may stop waiting for (goc_dial_ctx): it
 * runs in a goroutine of its own, which closes done when the addresses are
 * in. Two references, the dialer's and the goroutine's: whoever drops the
 * last frees it, so a dialer whose context ended returns at once and the
 * late result is freed by the goroutine. */
struct lookup {
    _Atomic int refs;
    goc_chan *done;
    goc__netw nw;
    int n; /* goc__net_resolve's result, once done is closed */
    goc_addr a[MAX_ADDRS];
    char address[]; /* a copy: the dialer's may be gone */
};

static void lookup_unref(struct lookup *lk)
{
    goc__race_release(lk); /* TSan: the free comes after both users */
    if (atomic_fetch_sub_explicit(&lk->refs, 1, memory_order_acq_rel) == 1) {
        goc__race_acquire(lk);
        goc_chan_release(lk->done);
        free(lk);
    }
}

static void lookup_run(void *arg)
{
    struct lookup *lk = arg;
    lk->n = goc__net_resolve(&lk->nw, lk->address, false, lk->a, MAX_ADDRS);
    goc_chan_close(lk->done); /* publishes n and a to the dialer */
    lookup_unref(lk);
}

/* goc__net_resolve for a dial, bounded by ctx (NULL: none): a name to look
 * up is looked up in a goroutine (struct lookup) unless ctx can never end. */
static int dial_resolve(const goc__netw *nw, const char *address, goc_ctx *ctx, goc_addr *a)
{
    int n = goc__net_resolve_now(nw, address, false, a, MAX_ADDRS);
    if (n != -EINPROGRESS)
        return n;
    if (!ctx || !goc_ctx_done(ctx))
        return goc__net_resolve(nw, address, false, a, MAX_ADDRS);
    size_t len = strlen(address) + 1;
    struct lookup *lk = malloc(sizeof *lk + len);
    if (!lk)
        return -ENOMEM;
    if (!(lk->done = goc_chan_make(0, 0))) {
        free(lk);
        return -ENOMEM;
    }
    atomic_init(&lk->refs, 2);
    lk->nw = *nw;
    memcpy(lk->address, address, len);
    if (goc_go_at(lookup_run, lk, NULL, "goc_dial_ctx lookup", 0) < 0) {
        goc_chan_release(lk->done);
        free(lk);
        return -ENOMEM;
    }
    int r = goc_chan_recv_ctx(lk->done, NULL, ctx);
    if (r == GOC_CHAN_CLOSED) {
        r = lk->n;
        if (r > 0)
            memcpy(a, lk->a, sizeof a[0] * (size_t)r);
    }
    lookup_unref(lk);
    return r;
}

/* Dials until deadline (0: none), bounded by ctx (NULL: none). */
static int dial(const char *network, const char *address, int64_t deadline, goc_ctx *ctx,
                goc_conn **out)
{
    *out = NULL;
    goc__netw nw;
    int rc = goc__netw_parse(network, &nw);
    if (rc < 0)
        return rc;
    goc_addr a[MAX_ADDRS];
    int n = dial_resolve(&nw, address, ctx, a);
    if (n < 0)
        return n;
    goc__fd_ctx fc = GOC__FD_CTX_INIT(ctx), *fcp = ctx ? &fc : NULL;
    int fd = -ETIMEDOUT, i;
    for (i = 0; i < n; i++) {
        int64_t now = goc__nanotime(), part = deadline;
        if (deadline && deadline <= now)
            return -ETIMEDOUT;
        if (deadline && i + 1 < n) {
            /* Go's partialDeadline: a share of what is left for each
             * remaining address, at least 2 s. */
            int64_t share = (deadline - now) / (n - i);
            if (share < 2 * GOC_SECOND)
                share = 2 * GOC_SECOND;
            if (now + share < deadline)
                part = now + share;
        }
        if ((fd = dial_one(&nw, &a[i], part, fcp)) >= 0)
            break;
        int err = atomic_load_explicit(&fc.err, memory_order_acquire);
        if (err) /* the context ended: no other address is tried */
            return err;
    }
    if (fd < 0)
        return fd;
    if (!(*out = conn_new(fd, a[i].ss.ss_family, nw.sotype))) {
        goc_fd_close(fd);
        return -ENOMEM;
    }
    return 0;
}

int goc_dial(const char *network, const char *address, goc_conn **out)
{
    return dial(network, address, 0, NULL, out);
}

int goc_dial_timeout(const char *network, const char *address, int64_t timeout, goc_conn **out)
{
    return dial(network, address, timeout > 0 ? goc__nanotime() + timeout : 0, NULL, out);
}

int goc_dial_ctx(goc_ctx *ctx, const char *network, const char *address, goc_conn **out)
{
    *out = NULL;
    int err = goc_ctx_err(ctx);
    if (err)
        return err;
    int64_t deadline = 0;
    if (!goc_ctx_deadline(ctx, &deadline))
        deadline = 0;
    return dial(network, address, deadline, ctx, out);
}

/* ---- Reading and writing ---- */

static ssize_t conn_read(goc_conn *c, void *buf, size_t n, goc__fd_ctx *fc)
{
    netfd *f = &c->nfd;
    bool stream = f->sotype == SOCK_STREAM;
    ssize_t r = nfd_acquire(f);
    if (r < 0)
        return r;
    if ((r = turn_lock(f, &f->rmu)) == 0) {
        if (expired(&f->rdl)) {
            r = -ETIMEDOUT;
            goto out;
        }
        if (c->slen || !n) { /* what the last read took beyond its buffer */
            r = n < c->slen ? (ssize_t)n : c->slen;
            memcpy(buf, c->stash + c->soff, (size_t)r);
            c->soff += (uint16_t)r;
            c->slen -= (uint16_t)r;
            goto out;
        }
        /* A stream that the last read emptied has nothing to read until
         * the poller has seen an edge (or a hang-up: see GOC__FD_DRAINED):
         * wait first, at once if it has, and save the read that would say
         * EAGAIN. */
        if (f->drained && (r = await(f, GOC_FD_READ | GOC__FD_DRAINED, &f->rdl, fc)) < 0)
            goto out;
        for (;;) {
            if (expired(&f->rdl)) {
                r = -ETIMEDOUT;
                break;
            }
            bool small = stream && n < STASH;
            size_t ask = small ? STASH : n;
            r = sys_read(f->fd, small ? c->stash : buf, ask);
            if (r >= 0) {
                if (stream)
                    f->drained = r > 0 && (size_t)r < ask;
                if (small) {
                    size_t take = (size_t)r < n ? (size_t)r : n;
                    memcpy(buf, c->stash, take);
                    c->soff = (uint16_t)take;
                    c->slen = (uint16_t)((size_t)r - take);
                    r = (ssize_t)take;
                }
                break;
            }
            if (r == -EINTR)
                continue;
            if (r != -EAGAIN || (r = await(f, GOC_FD_READ, &f->rdl, fc)) < 0)
                break;
        }
    out:
        goc__fd_ctx_stop(fc);
        goc_mutex_unlock(&f->rmu);
    }
    nfd_release(f);
    return r;
}

ssize_t goc_conn_read(goc_conn *c, void *buf, size_t n) { return conn_read(c, buf, n, NULL); }

ssize_t goc_conn_read_ctx(goc_conn *c, void *buf, size_t n, goc_ctx *ctx)
{
    int err = goc_ctx_err(ctx);
    if (err)
        return err;
    goc__fd_ctx fc = GOC__FD_CTX_INIT(ctx);
    return conn_read(c, buf, n, &fc);
}

ssize_t goc_conn_read_full(goc_conn *c, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = goc_conn_read(c, (char *)buf + got, n - got);
        if (r < 0)
            return r;
        if (r == 0)
            return got ? -EPIPE : 0;
        got += (size_t)r;
    }
    return (ssize_t)n;
}

ssize_t goc_conn_read_from(goc_conn *c, void *buf, size_t n, goc_addr *from)
{
    netfd *f = &c->nfd;
    goc_addr junk;
    ssize_t r = nfd_acquire(f);
    if (r < 0)
        return r;
    if ((r = turn_lock(f, &f->rmu)) == 0) {
        for (;;) {
            if (expired(&f->rdl)) {
                r = -ETIMEDOUT;
                break;
            }
            r = sys_recvfrom(f->fd, buf, n, from ? from : &junk);
            if (r >= 0)
                break;
            if (r == -EINTR)
                continue;
            if (r != -EAGAIN || (r = await(f, GOC_FD_READ, &f->rdl, NULL)) < 0)
                break;
        }
        goc_mutex_unlock(&f->rmu);
    }
    nfd_release(f);
    return r;
}

/* Writes all of buf (a stream) or one datagram, to the connected peer or
 * to *to, bounded by fc's context (NULL: none). */
static ssize_t write_all(goc_conn *c, const void *buf, size_t n, const goc_addr *to,
                         goc__fd_ctx *fc)
{
    netfd *f = &c->nfd;
    ssize_t r = nfd_acquire(f);
    if (r < 0)
        return r;
    if ((r = turn_lock(f, &f->wmu)) == 0) {
        size_t off = 0;
        for (;;) {
            if (expired(&f->wdl)) {
                r = -ETIMEDOUT;
                break;
            }
            r = sys_send(f->fd, (const char *)buf + off, n - off, to);
            if (r >= 0) {
                off += (size_t)r;
                if (off < n && f->sotype == SOCK_STREAM)
                    continue;
                r = (ssize_t)off;
                break;
            }
            if (r == -EINTR)
                continue;
            if (r != -EAGAIN || (r = await(f, GOC_FD_WRITE, &f->wdl, fc)) < 0)
                break;
        }
        goc__fd_ctx_stop(fc);
        goc_mutex_unlock(&f->wmu);
    }
    nfd_release(f);
    return r;
}

ssize_t goc_conn_write(goc_conn *c, const void *buf, size_t n)
{
    return write_all(c, buf, n, NULL, NULL);
}

ssize_t goc_conn_write_ctx(goc_conn *c, const void *buf, size_t n, goc_ctx *ctx)
{
    int err = goc_ctx_err(ctx);
    if (err)
        return err;
    goc__fd_ctx fc = GOC__FD_CTX_INIT(ctx);
    return write_all(c, buf, n, NULL, &fc);
}

ssize_t goc_conn_write_to(goc_conn *c, const void *buf, size_t n, const goc_addr *to)
{
    return write_all(c, buf, n, to, NULL);
}

ssize_t goc_conn_write_string(goc_conn *c, const char *s)
{
    return write_all(c, s, strlen(s), NULL, NULL);
}

ssize_t goc_conn_vprintf(goc_conn *c, const char *fmt, va_list ap)
{
    char small[512], *p = small;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n >= (int)sizeof small) {
        if (!(p = malloc((size_t)n + 1))) {
            va_end(ap2);
            return -ENOMEM;
        }
        vsnprintf(p, (size_t)n + 1, fmt, ap2);
    }
    va_end(ap2);
    ssize_t r = n < 0 ? -EINVAL : write_all(c, p, (size_t)n, NULL, NULL);
    if (p != small)
        free(p);
    return r;
}

ssize_t goc_conn_printf(goc_conn *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ssize_t r = goc_conn_vprintf(c, fmt, ap);
    va_end(ap);
    return r;
}

/* ---- The rest of net.Conn ---- */

static int conn_shutdown(goc_conn *c, int how)
{
    int r = nfd_acquire(&c->nfd);
    if (r < 0)
        return r;
    r = sys_shutdown(c->nfd.fd, how);
    nfd_release(&c->nfd);
    return r;
}

int goc_conn_close_write(goc_conn *c) { return conn_shutdown(c, SHUT_WR); }
int goc_conn_close_read(goc_conn *c) { return conn_shutdown(c, SHUT_RD); }
int goc_conn_close(goc_conn *c) { return nfd_close(&c->nfd); }

int goc_conn_set_deadline(goc_conn *c, int64_t deadline)
{
    atomic_store_explicit(&c->nfd.rdl, deadline, memory_order_release);
    set_deadline(&c->nfd, &c->nfd.wdl, GOC_FD_READ | GOC_FD_WRITE, deadline);
    return 0;
}

int goc_conn_set_read_deadline(goc_conn *c, int64_t deadline)
{
    set_deadline(&c->nfd, &c->nfd.rdl, GOC_FD_READ, deadline);
    return 0;
}

int goc_conn_set_write_deadline(goc_conn *c, int64_t deadline)
{
    set_deadline(&c->nfd, &c->nfd.wdl, GOC_FD_WRITE, deadline);
    return 0;
}

int goc_conn_local_addr(goc_conn *c, char *buf, size_t size)
{
    return sock_addr(&c->nfd, false, buf, size);
}

int goc_conn_remote_addr(goc_conn *c, char *buf, size_t size)
{
    return sock_addr(&c->nfd, true, buf, size);
}

int goc_conn_fd(goc_conn *c) { return c->nfd.fd; }
