/* netpoll.c: the network poller: epoll, edge-triggered, as Go's
 * netpoll_epoll.go, behind the scheduler's goc_poller hooks.
 *
 * Each descriptor goc waits on has a poll descriptor (struct pd), found by
 * fd number in a two-level table whose chunks are never freed (a pd is
 * reused when its number is). A descriptor is registered in one set at a
 * time, for EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET, from its first wait until
 * it is forgotten (moving between worker sets: "Sets" below); epoll reports
 * edges, each handed to the waiter for it if there is one, else kept in the
 * sticky rready/wready flag, which the next waiter consumes instead of
 * parking.
 *
 * Invariants, under pd->lock: r (w) is the one waiter for reading (writing)
 * or NULL; a waiter is taken off before it is readied, and whoever takes it
 * (an edge, its deadline timer, a forget) sets its result first. A waiter
 * registers under pd->lock but parks after dropping it (the lock is never
 * held across a switch): its state word says whether its park has
 * committed, and a taker readies it only then (struct waiter). A waiter's
 * record lives on its stack; its deadline timer is stopped (and waited for)
 * before the wait returns.
 *
 * For goc's connections (net.c, through netpoll.h): a waiter may read its
 * deadline from a word that another goroutine moves, which then kicks it
 * (it returns 0 and its caller looks again), and a descriptor being closed
 * is evicted first: its waiters fail with -ECANCELED, and so does every
 * wait until goc_fd_forget, so that no wait can start between the two.
 *
 * Contexts (goc_fd_wait_ctx, net.c's _ctx calls): a wait bounded by a
 * context registers a watcher on it (context.h) the first time it would
 * park; the watcher, run by the canceller, stores the context's error in
 * the caller's goc__fd_ctx and kicks, as a deadline mover does. No
 * goroutine, no allocation, and nothing at all for a call that does not
 * wait.
 *
 * Lock order: a deadline timer's lock, then pd->lock; a context's lock,
 * then pd->lock (a watcher's kick). Nothing is taken under pd->lock. A
 * waiter arms its timer and starts its watcher without pd->lock, then
 * looks at everything again under it; a timer that fires before the waiter
 * has registered marks it timed out (under pd->lock), and a watcher stores
 * the error before its kick takes pd->lock, so the waiter sees either
 * before it parks.
 *
 * Sets. With more than one worker, each worker has an epoll set of its
 * own, and a descriptor is registered in the set of the worker its waits
 * come from (set 0 for a plain thread or a spare); after MOVE_AFTER waits
 * in a row from another worker it moves there (pd_move). Each worker set
 * sits, level-triggered, in the master set, beside the eventfd. A worker
 * takes its own set's edges without blocking (poll_own: when it looks for
 * work, and at a busy P's I/O checks), and the master's (every set with
 * edges) when its own had nothing and at every POLL_ALL_EVERY-th check, so
 * that the I/O of a worker whose goroutine computes for long is not left
 * to it. With one worker the master holds every descriptor. Several Ps may
 * take edges at once (poll_own beside each other and beside the master's
 * poll, even from one set): each edge is handled under its pd's lock, so
 * which P takes it changes where its reader runs, nothing else. A move's
 * epoll_ctl calls run under pd->lock, as the first registration's does.
 *
 * Steering: a reader made ready goes to the worker whose thread is on the
 * CPU where the kernel processed its socket's incoming data
 * (SO_INCOMING_CPU, asked every CPU_RESAMPLE read edges, and only with more
 * than one worker), when that worker is busy (goc__ready_io). Its next wait
 * then comes from that worker, and its descriptor follows it into that
 * worker's set. For a connection inside this process that is the CPU its
 * peer wrote from, so the two ends settle on one worker, and the kernel's
 * loopback work, the epoll set and the goroutines of the connection all
 * stay on one CPU; for a NIC, the CPU that took the flow's packets.
 * Measured on net_echo at 2 workers, requests/s: 300-320k with one shared
 * set and no steering, 340-390k with steering, 446-515k with steering and
 * a set per worker (Go: 245-280k; two one-worker goc processes side by
 * side: 590k between them).
 *
 * The poller: an idle P blocks in epoll_pwait2 on the master set
 * (nanosecond timeouts; plain epoll_wait with milliseconds rounded up where
 * the kernel lacks it) until the nearest timer; at most one P at a time
 * (the scheduler's polling flag). The eventfd interrupts it. A P looking
 * for work polls without blocking first, and a busy P detours through its
 * scheduler every 64 switches while goroutines wait on I/O, so readiness is
 * noticed even when no P is ever idle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "goc/net.h"
#include "internal.h"
#include "netpoll.h"
#include "race.h"

#define CHUNK 1024
#define CHUNKS 4096 /* fds up to 4 M */

/* A registered waiter's state: it registers WAITING under pd->lock, then
 * parks without it, its park's commit moving it to PARKED; whoever takes
 * it moves it to TAKEN, and readies it only if it was PARKED (else the
 * commit fails and it goes on by itself, as Go's netpollblockcommit). */
enum { W_WAITING, W_PARKED, W_TAKEN };

struct waiter {
    goc_g *g;
    int events;  /* what it waits for */
    int result;  /* set by whoever takes it */
    _Atomic int state;
    bool timedout;
    goc__tmr tmr;
    struct pd *pd;
};

struct pd {
    goc_spinlock lock;
    bool registered;
    bool closing; /* goc__fd_evict: waits fail until goc_fd_forget */
    bool rready, wready;
    bool hup;     /* a hang-up or error was seen: readable for good */
    struct waiter *r, *w;
    int fd;
    /* Where the kernel processes this socket's incoming data
     * (SO_INCOMING_CPU): -1 not asked yet, CPU_NEVER not known for this
     * kind of descriptor; asked again every CPU_RESAMPLE read edges (edges,
     * under lock). Written by the poller outside the lock: a hint, never
     * trusted for correctness. */
    _Atomic int in_cpu;
    uint32_t edges;
    int16_t set;   /* the epoll set it is registered in: a worker's, -1 the master */
    uint8_t stray; /* waits in a row from workers other than set's */
};

#define CPU_NEVER (-2)
#define CPU_RESAMPLE 16

/* goc__netpoll_nwait (internal.h) is written twice by every wait that
 * parks and read at every switch of every P (sched.c's io_check_due): its
 * padded struct keeps the line to itself (a bare 4-byte variable had the
 * scheduler's hot words packed beside it). */
struct goc__nwait_line goc__nwait_line;

/* Waits in a row from workers other than its set's that move a
 * descriptor's registration, to the set of the last of them. */
#define MOVE_AFTER 2

static struct {
    int ep;    /* the master set: the eventfd, then each worker's set, or
                * (one worker) every descriptor */
    int nsets; /* worker sets: one per worker when there are two or more */
    int *set;
    int evfd;
    _Atomic uint32_t woken; /* an eventfd write is pending */
    goc_spinlock lock;      /* chunk allocation */
    struct pd *_Atomic chunks[CHUNKS];
    bool pwait2_missing;
} np = {.ep = -1, .evfd = -1};

static struct pd *pd_get(int fd, bool create)
{
    if (fd < 0 || fd >= CHUNK * CHUNKS)
        return NULL;
    struct pd *c = atomic_load_explicit(&np.chunks[fd / CHUNK], memory_order_acquire);
    if (!c && create) {
        goc__spin_lock(&np.lock);
        c = atomic_load_explicit(&np.chunks[fd / CHUNK], memory_order_relaxed);
        if (!c) {
            c = goc__os_reserve(sizeof(struct pd) * CHUNK); /* zero: unlocked, empty */
            if (c)
                atomic_store_explicit(&np.chunks[fd / CHUNK], c, memory_order_release);
        }
        goc__spin_unlock(&np.lock);
    }
    return c ? &c[fd % CHUNK] : NULL;
}

static void pd_lock(struct pd *pd)
{
    goc__spin_lock(&pd->lock);
    goc__race_acquire(pd);
}

static void pd_unlock(struct pd *pd)
{
    goc__race_release(pd);
    goc__spin_unlock(&pd->lock);
}

/* Takes w off pd (pd->lock held) with result res; returns its G to ready,
 * or NULL when it has not parked yet (its commit will fail and it goes on
 * by itself). w is not touched after the exchange: once its G goes on, w
 * is gone. */
static goc_g *take(struct pd *pd, struct waiter *w, int res)
{
    if (pd->r == w)
        pd->r = NULL;
    if (pd->w == w)
        pd->w = NULL;
    w->result = res;
    goc_g *g = w->g;
    goc__race_release(w); /* for a G that goes on by itself (goc__ready has its own) */
    if (atomic_exchange_explicit(&w->state, W_TAKEN, memory_order_acq_rel) == W_PARKED)
        return g;
    return NULL;
}

/* ---- Waiting ---- */

static goc_g *deadline_fire(goc__tmr *t, int64_t now)
{
    (void)now;
    struct waiter *w = GOC__CONTAINER(t, struct waiter, tmr);
    struct pd *pd = w->pd;
    goc_g *g = NULL;
    pd_lock(pd);
    w->timedout = true;
    if (pd->r == w || pd->w == w)
        g = take(pd, w, -ETIMEDOUT);
    pd_unlock(pd);
    return g;
}

/* The park's commit, after the G's context is saved: false (go on at once)
 * if it was taken meanwhile. */
static bool commit_wait(goc_g *g, void *arg)
{
    (void)g;
    struct waiter *w = arg;
    int waiting = W_WAITING;
    GOC_CHAOS_POINT(); /* the fd may become ready, or its deadline pass */
    return atomic_compare_exchange_strong_explicit(&w->state, &waiting, W_PARKED,
                                                   memory_order_acq_rel, memory_order_acquire);
}

/* Takes the ready flags for events (pd->lock held); returns them. */
static int consume(struct pd *pd, int events)
{
    int ready = ((events & GOC_FD_READ) && pd->rready ? GOC_FD_READ : 0) |
                ((events & GOC_FD_WRITE) && pd->wready ? GOC_FD_WRITE : 0);
    if (ready & GOC_FD_READ)
        pd->rready = false;
    if (ready & GOC_FD_WRITE)
        pd->wready = false;
    return ready;
}

/* ---- Contexts (goc__fd_ctx) ---- */

/* The context ended: under its lock (context.h), so this only takes
 * pd->lock, which is never held while a context's lock is taken, and
 * readies the waiter. */
static void fd_ctx_fire(goc__ctx_watch *watch, int err)
{
    goc__fd_ctx *fc = watch->arg;
    atomic_store_explicit(&fc->err, err, memory_order_release);
    goc__fd_kick(fc->fd, fc->events);
}

/* Without pd->lock: the watcher's kick takes it under the context's lock. */
static void fd_ctx_start(goc__fd_ctx *fc, int fd, int events)
{
    fc->fd = fd;
    fc->events = events;
    fc->on = true;
    int err = goc__ctx_watch_start(fc->ctx, &fc->watch, fd_ctx_fire, fc);
    if (err) /* ended already: the watcher never runs */
        atomic_store_explicit(&fc->err, err, memory_order_relaxed);
}

void goc__fd_ctx_stop(goc__fd_ctx *fc)
{
    if (fc && fc->on) {
        goc__ctx_watch_stop(&fc->watch);
        fc->on = false;
    }
}

/* The set a wait registers its descriptor in: its worker's, set 0's for a
 * plain thread or a spare; the master with one worker. */
static int caller_set(void)
{
    if (!np.nsets)
        return -1;
    goc_p *p = goc__getp();
    return p && p->id < np.nsets ? p->id : 0;
}

static int set_fd(int set) { return set < 0 ? np.ep : np.set[set]; }

/* Registers fd in set (pd->lock held). */
static int pd_add(struct pd *pd, int fd, int set)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = pd};
    if (epoll_ctl(set_fd(set), EPOLL_CTL_ADD, fd, &ev) != 0 && errno != EEXIST)
        return -errno;
    pd->set = (int16_t)set;
    pd->stray = 0;
    return 0;
}

static _Atomic int64_t nmoves;

int64_t goc__netpoll_nmoves(void) { return atomic_load_explicit(&nmoves, memory_order_relaxed); }

/* Moves fd's registration to set (pd->lock held): its waits come from that
 * worker now, and its edges should be that worker's to take. An edge queued
 * in the old set goes with the removal, but the new registration reports
 * whatever is ready at once, so nothing is lost (an edge seen twice is
 * harmless: a reader that finds nothing waits again). */
static int pd_move(struct pd *pd, int fd, int set)
{
    atomic_fetch_add_explicit(&nmoves, 1, memory_order_relaxed);
    epoll_ctl(set_fd(pd->set), EPOLL_CTL_DEL, fd, NULL);
    int res = pd_add(pd, fd, set);
    if (res < 0 && (res = pd_add(pd, fd, pd->set)) < 0)
        pd->registered = false; /* the next wait tries again */
    return res;
}

/* goc_fd_wait with the deadline read from *dl, which another goroutine may
 * move meanwhile (then calling goc__fd_kick): returns 0 when it has, for the
 * caller to look again; and bounded by fc's context. The checks run under
 * pd->lock, and are run again after anything done without it (arming the
 * deadline timer, starting the context's watcher: lock order), so the
 * wait registers in the same critical section as its last look. */
int goc__fd_wait_dl(int fd, int events, const _Atomic int64_t *dl, goc__fd_ctx *fc)
{
    if (fd < 0)
        return -EBADF;
    bool drained = events & GOC__FD_DRAINED;
    events &= GOC_FD_READ | GOC_FD_WRITE;
    if (!events)
        return -EINVAL;
    goc__sched_start();
    if (np.ep < 0)
        return -ENOSYS;
    struct pd *pd = pd_get(fd, true);
    if (!pd)
        return fd >= CHUNK * CHUNKS ? -EBADF : -ENOMEM;

    struct waiter w = {.g = goc__getg(), .events = events, .pd = pd};
    int64_t armed = 0; /* the deadline the timer is armed for */
    int res;
    for (;;) {
        pd_lock(pd);
        /* Read under pd->lock: a mover of the deadline (or a context's
         * watcher) stores, then takes pd->lock to kick, so a change is seen
         * here or finds us registered. */
        int64_t deadline = atomic_load_explicit(dl, memory_order_acquire);
        if (pd->closing) {
            res = -ECANCELED;
            break;
        }
        if (fc && (res = atomic_load_explicit(&fc->err, memory_order_acquire)))
            break;
        if (drained && pd->hup) { /* the end of the stream may wait behind the data */
            res = GOC_FD_READ;
            break;
        }
        int here = caller_set();
        if (!pd->registered) {
            if ((res = pd_add(pd, fd, here)) < 0)
                break;
            pd->registered = true;
            pd->rready = pd->wready = pd->hup = false;
            pd->fd = fd;
            pd->edges = 0;
            atomic_store_explicit(&pd->in_cpu, -1, memory_order_relaxed);
        } else if (pd->set == here) {
            pd->stray = 0;
        } else if (++pd->stray >= MOVE_AFTER && (res = pd_move(pd, fd, here)) < 0) {
            break;
        }
        if ((res = consume(pd, events)))
            break;
        if (armed && armed != deadline) { /* moved since the timer was armed */
            res = 0;
            break;
        }
        if (w.timedout || (deadline && deadline <= goc__nanotime())) {
            res = -ETIMEDOUT;
            break;
        }
        if (((events & GOC_FD_READ) && pd->r) || ((events & GOC_FD_WRITE) && pd->w)) {
            res = -EBUSY; /* one reader and one writer at a time, as Go's */
            break;
        }
        bool arm = deadline && !armed, watch = fc && !fc->on;
        if (arm || watch) {
            pd_unlock(pd);
            if (arm) {
                w.tmr.lock = (goc_spinlock)GOC_SPINLOCK_INIT;
                w.tmr.idx = -1;
                w.tmr.fire = deadline_fire;
                goc__tmr_start(&w.tmr, deadline);
                armed = deadline;
            }
            if (watch)
                fd_ctx_start(fc, fd, events);
            continue; /* look again: whatever came meanwhile */
        }
        atomic_store_explicit(&w.state, W_WAITING, memory_order_relaxed);
        if (events & GOC_FD_READ)
            pd->r = &w;
        if (events & GOC_FD_WRITE)
            pd->w = &w;
        /* Registered: the lock goes down before the switch, not after it,
         * so the poller never spins on it while this thread switches (or
         * is preempted by the OS in the middle). */
        pd_unlock(pd);
        atomic_fetch_add_explicit(&goc__netpoll_nwait, 1, memory_order_acq_rel);
        goc__park(commit_wait, &w, "IO wait");
        atomic_fetch_sub_explicit(&goc__netpoll_nwait, 1, memory_order_acq_rel);
        goc__race_acquire(&w);
        res = w.result; /* an edge handed to a waiter sets no flag: nothing to consume */
        if (res == 0 && fc) { /* a kick: the context's, if it has ended */
            int err = atomic_load_explicit(&fc->err, memory_order_acquire);
            if (err)
                res = err;
        }
        goto out;
    }
    pd_unlock(pd);
out:
    if (armed)
        goc__tmr_stop_sync(&w.tmr);
    return res;
}

int goc_fd_wait(int fd, int events, int64_t deadline)
{
    _Atomic int64_t dl = deadline;
    int r;
    while ((r = goc__fd_wait_dl(fd, events, &dl, NULL)) == 0)
        ; /* a stray kick (netpoll.h): dl never moves */
    return r;
}

int goc_fd_wait_ctx(int fd, int events, goc_ctx *ctx)
{
    int err = goc_ctx_err(ctx);
    if (err)
        return err;
    _Atomic int64_t none = 0;
    goc__fd_ctx fc = GOC__FD_CTX_INIT(ctx);
    int r;
    while ((r = goc__fd_wait_dl(fd, events, &none, &fc)) == 0)
        ;
    goc__fd_ctx_stop(&fc);
    return r;
}

/* Takes pd's waiters for events off it (pd->lock held), each to resume with
 * result; the caller readies them with ready_taken once the lock is down. */
static void take_waiters(struct pd *pd, int events, int result, goc_g *wake[2])
{
    if ((events & GOC_FD_READ) && pd->r)
        wake[0] = take(pd, pd->r, result);
    if ((events & GOC_FD_WRITE) && pd->w)
        wake[1] = take(pd, pd->w, result);
}

static void ready_taken(goc_g *wake[2])
{
    for (int i = 0; i < 2; i++)
        if (wake[i] && (i == 0 || wake[1] != wake[0]))
            goc__ready(wake[i]);
}

void goc__fd_kick(int fd, int events)
{
    struct pd *pd = pd_get(fd, false);
    if (!pd)
        return;
    goc_g *wake[2] = {NULL, NULL};
    pd_lock(pd);
    take_waiters(pd, events, 0, wake);
    pd_unlock(pd);
    ready_taken(wake);
}

void goc__fd_evict(int fd)
{
    struct pd *pd = pd_get(fd, true);
    if (!pd)
        return;
    goc_g *wake[2] = {NULL, NULL};
    pd_lock(pd);
    pd->closing = true;
    take_waiters(pd, GOC_FD_READ | GOC_FD_WRITE, -ECANCELED, wake);
    pd_unlock(pd);
    ready_taken(wake);
}

void goc_fd_forget(int fd)
{
    struct pd *pd = pd_get(fd, false);
    if (!pd)
        return;
    goc_g *wake[2] = {NULL, NULL};
    pd_lock(pd);
    if (pd->registered)
        epoll_ctl(set_fd(pd->set), EPOLL_CTL_DEL, fd, NULL);
    pd->registered = false;
    pd->closing = false;
    pd->rready = pd->wready = pd->hup = false;
    take_waiters(pd, GOC_FD_READ | GOC_FD_WRITE, -ECANCELED, wake);
    pd_unlock(pd);
    ready_taken(wake);
}

int goc_fd_close(int fd)
{
    goc_fd_forget(fd);
    return close(fd) == 0 ? 0 : -errno;
}

/* ---- The poller hooks ---- */

static int epoll_until(struct epoll_event *ev, int n, int64_t deadline)
{
    int64_t left = deadline == INT64_MAX ? -1 : deadline - goc__nanotime();
    if (left < 0 && deadline != INT64_MAX)
        left = 0;
#if defined(GOC_SANITIZE_THREAD)
    /* As goc__futex_wait (os/linux.c): TSan runs a signal's handler only
     * when the thread passes one of its interceptors, which a raw
     * epoll_pwait2 is not; the caller's loop reads the clock (one) within
     * 20 ms. The early return looks like a poll that found nothing. */
    if (left < 0 || left > 20 * 1000000)
        left = 20 * 1000000;
#endif
#if defined(SYS_epoll_pwait2)
    if (!np.pwait2_missing) {
        struct timespec ts, *tsp = NULL;
        if (left >= 0) {
            ts.tv_sec = left / 1000000000;
            ts.tv_nsec = left % 1000000000;
            tsp = &ts;
        }
        int r = (int)syscall(SYS_epoll_pwait2, np.ep, ev, n, tsp, NULL, 0);
        if (r >= 0 || errno != ENOSYS)
            return r;
        np.pwait2_missing = true;
    }
#endif
    int ms = left < 0 ? -1 : (int)((left + 999999) / 1000000);
    return epoll_wait(np.ep, ev, n, ms);
}

/* The CPU that processed fd's last incoming packet, asked at a read edge;
 * CPU_NEVER where the kernel keeps none: not a socket (ENOTSOCK), a kernel
 * before 3.19, or a socket that says -1 even though something has arrived
 * (a unix socket, a listener). One system call. */
static int incoming_cpu(int fd)
{
    int cpu = -1;
    socklen_t len = sizeof cpu;
    if (getsockopt(fd, SOL_SOCKET, SO_INCOMING_CPU, &cpu, &len) != 0 || cpu < 0)
        return CPU_NEVER;
    return cpu;
}

/* A worker set's mark in the master (pds are aligned: their low bit is 0;
 * the eventfd's mark is 0). */
#define SET_MARK(i) ((uint64_t)(i) << 1 | 1)

/* Hands out n edges that epoll reported. */
static void dispatch(const struct epoll_event *ev, int n)
{
    bool steer = goc__sched_nprocs() > 1;
    for (int i = 0; i < n; i++) {
        struct pd *pd = ev[i].data.ptr;
        uint32_t e = ev[i].events;
        goc_g *wake[2] = {NULL, NULL};
        pd_lock(pd);
        /* An edge goes to its waiter, or is kept in the flag for the
         * next one. */
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
            if (e & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                pd->hup = true;
            if (pd->r)
                wake[0] = take(pd, pd->r, GOC_FD_READ);
            else
                pd->rready = true;
        }
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
            if (pd->w)
                wake[1] = take(pd, pd->w, GOC_FD_WRITE);
            else
                pd->wready = true;
        }
        int ask = -1; /* the fd whose incoming CPU to ask for */
        if (wake[0] && steer &&
            atomic_load_explicit(&pd->in_cpu, memory_order_relaxed) != CPU_NEVER &&
            pd->edges++ % CPU_RESAMPLE == 0)
            ask = pd->fd;
        pd_unlock(pd);
        /* A reader goes to the worker on the CPU where its data arrived:
         * for a connection inside this process, where its peer runs. */
        if (ask >= 0)
            atomic_store_explicit(&pd->in_cpu, incoming_cpu(ask), memory_order_relaxed);
        if (wake[0])
            goc__ready_io(wake[0], atomic_load_explicit(&pd->in_cpu, memory_order_relaxed));
        if (wake[1] && wake[1] != wake[0])
            goc__ready(wake[1]);
    }
}

/* Takes what worker set i has, without blocking. */
static void poll_set(int i)
{
    struct epoll_event ev[128];
    int n = epoll_wait(np.set[i], ev, 128, 0);
    if (n > 0)
        dispatch(ev, n);
}

static void np_poll(goc_p *p, int64_t deadline)
{
    (void)p;
    struct epoll_event ev[128];
    int n = epoll_until(ev, 128, deadline), k = 0;
    for (int i = 0; i < n; i++) {
        uint64_t mark = ev[i].data.u64;
        if (mark == 0) { /* the eventfd */
            uint64_t v;
            if (read(np.evfd, &v, sizeof v) < 0) {
                /* nothing to drain */
            }
            atomic_store_explicit(&np.woken, 0, memory_order_release);
        } else if (mark & 1) { /* a worker's set has edges */
            poll_set((int)(mark >> 1));
        } else {
            ev[k++] = ev[i];
        }
    }
    dispatch(ev, k);
}

static bool np_poll_own(goc_p *p)
{
    if (!np.nsets || p->id >= np.nsets)
        return false;
    poll_set(p->id);
    return true;
}

static void np_wake(void)
{
    uint32_t zero = 0;
    if (!atomic_compare_exchange_strong_explicit(&np.woken, &zero, 1, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return; /* one pending write is enough */
    /* Not on the stack: np_wake may run in a park's unlock function, on
     * the stack of the goroutine that runs next, and TSan would see the
     * write's read of a local there race with that goroutine's frames. */
    static const uint64_t one = 1;
    if (write(np.evfd, &one, sizeof one) < 0) {
        /* the counter is full: a wake-up is pending anyway */
    }
}

static bool np_pending(void)
{
    return atomic_load_explicit(&goc__netpoll_nwait, memory_order_acquire) > 0;
}

static const goc_poller np_ops = {
    .poll = np_poll,
    .poll_own = np_poll_own,
    .wake = np_wake,
    .pending = np_pending,
};

const goc_poller *goc__netpoll(void)
{
    np.ep = epoll_create1(EPOLL_CLOEXEC);
    np.evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (np.ep < 0 || np.evfd < 0)
        return NULL;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(np.ep, EPOLL_CTL_ADD, np.evfd, &ev) != 0)
        return NULL;
    int n = goc__sched_nprocs();
    if (n > 1 && (np.set = malloc(sizeof *np.set * (size_t)n))) {
        /* Level-triggered in the master: a set with edges stays ready
         * there until someone has taken them. */
        for (; np.nsets < n; np.nsets++) {
            int fd = epoll_create1(EPOLL_CLOEXEC);
            struct epoll_event sev = {.events = EPOLLIN, .data.u64 = SET_MARK(np.nsets)};
            if (fd < 0 || epoll_ctl(np.ep, EPOLL_CTL_ADD, fd, &sev) != 0) {
                if (fd >= 0)
                    close(fd);
                break;
            }
            np.set[np.nsets] = fd;
        }
        if (np.nsets < n) { /* all or none */
            while (np.nsets > 0)
                close(np.set[--np.nsets]);
            free(np.set);
            np.set = NULL;
        }
    }
    return &np_ops;
}
