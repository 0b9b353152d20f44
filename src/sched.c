/* sched.c: the M:N scheduler. Go's G/P design with one OS thread per P.
 *
 * Each P (worker) runs goroutines from its own run queue: a "run next" slot
 * holding the G it made ready last, then a lock-free ring (full at 256
 * entries as Go's is, at 1,024 for a burst of wake-ups: internal.h,
 * RUNQ_SOFT), then the global queue (looked at first on every 61st
 * schedule, so nothing there starves). An idle P steals half of another
 * P's ring, and a running P's runnext only after leaving it
 * RUNNEXT_GRACE_NS to run it; when there is
 * nothing anywhere it parks its thread on a futex after a bounded spin, and
 * whoever makes work appear wakes one idle P (wakep) unless one is already
 * spinning, which then wakes the next as soon as it finds work: the chain
 * brings in exactly as many workers as there is work for.
 *
 * Switches go straight from one goroutine to the next when the P has one
 * queued; only when it has none does the goroutine switch to g0 (the
 * worker thread's own stack), where the scheduler looks further, steals or
 * sleeps. The G being left is handed over as p->prev and published by the
 * context switched to (sched_post_switch), after its registers are saved:
 * until then no other P can see it.
 *
 * Scheduling is cooperative. Fairness bounds, all per P: a G made ready by
 * another G runs next, but at most RUNNEXT_STREAK times in a row before the
 * ring's head runs; the ring is FIFO; the global queue is served at least
 * every 61 schedules. (In the chaos and TSan builds a G made ready takes
 * the run-next slot only half the time, at random, as Go's race mode does:
 * chaos.c.)
 *
 * Locking: sched.lock (a spin lock, never held across a park or a blocking
 * call) guards the global queue, the idle list and each P's idle fields, and
 * makes the deadlock check atomic with the last P going idle. The rings are
 * lock-free: only the owner P puts (and takes, with a CAS on head that
 * stealers also use); runnext is exchanged atomically; an inbox is a
 * lock-free stack (I/O, below).
 *
 * Timers. Timers live in per-P heaps (timer.c) and run on g0: a
 * P whose earliest timer is due detours through g0 at its next switch, and
 * an idle P runs other Ps' due timers and sleeps until the earliest
 * deadline of all. Going idle and adding a heap's earliest timer are a
 * Dekker pair: the P publishes itself idle, fences, then reads every
 * timer0; the adder stores timer0, fences, then reads the heap owner's idle
 * flag and wakes it if set (goc__sched_timer_added).
 *
 * I/O. While goroutines wait on I/O, a P polls without blocking when it
 * looks for work and every 64th switch: what the poller keeps for it alone
 * first (poller->poll_own, its own epoll set), and everything every
 * POLL_ALL_EVERY-th time. An idle P blocks in the poller (one at a time),
 * and new work or an earlier timer wakes it. A reader the poller makes
 * ready may be steered to another busy P, the one on the CPU where its
 * data arrived (goc__ready_io): it goes on that P's inbox, a lock-free
 * stack any P pushes to and that P drains onto its ring at its next switch
 * while goroutines wait on I/O, every 61st schedule and in findrunnable;
 * thieves take it whole once the ring is empty. A push and the P going
 * idle are a Dekker pair, as for timers: the pusher fences, then takes the
 * inbox back if the P is idle; the P publishes itself idle, fences, then
 * does not sleep while its inbox has anything.
 *
 * The monitor (sysmon, Go's name). Scheduling is cooperative, and a
 * goroutine may block in a system call goc did not wrap (read on a file,
 * sleep, a library's blocking call) or compute for a long time: its P then
 * makes no progress, and what is queued behind it waits. A monitor thread
 * samples every P's schedtick; a P that has not moved for STUCK_NS while
 * work waits (its queue, its timers, the global queue, I/O), not
 * counting time its thread spent waiting for a CPU (the kernel's
 * schedstat tells; a descheduled thread is no goroutine's doing, and a
 * spare would not help it), gets help: an
 * idle P is woken to take the work, or, when every P is busy, a spare P is
 * put in use, with a thread of its own, as Go hands a P blocked in a
 * system call to another M. The stuck goroutine keeps its P and goes on
 * when its call returns; a spare that runs out of work while no more Ps
 * are stuck than spares are in use goes dormant again (its timers handed
 * to a worker). Spares exist up to MAX_SPARE; a P's id below nallp.
 * GOC_SYSMON=0 turns the monitor off.
 *
 * Single P. With one P no other thread touches its queues, and they are
 * used without atomic read-modify-writes (sched.single). Before the first
 * spare runs, the monitor turns that off for good with a Dekker handshake
 * (st_enter): the P marks each such operation in p->st_op, the monitor
 * clears sched.single, issues membarrier, and waits for st_op to drop.
 * The hot paths (yield, park, ready) have one-P forms that make the same
 * choice as the general code in one pass with plain stores; a section
 * opened before a switch ends in post_switch, on the next G's stack.
 *
 * Deadlock: when the last P goes idle (under goc_main), nothing is queued,
 * no plain thread that uses goc is running outside it, no timer is pending
 * and the poller reports no waiter, no G can ever be made ready again:
 * fatal error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/arch.h"
#include "internal.h"
#include "race.h"

#define RUNNEXT_STREAK 32
/* How long a thief leaves a running P's runnext alone before taking it:
 * the G there was just readied by the goroutine running on that P, which
 * is usually about to block and run it (a lock handed over, a channel
 * reply). Go sleeps 3 us there, which nanosleep's timer slack makes 50 us
 * or more. Measured against 4 us (200 pauses) on 16 workers: rwmutex_read
 * 84-99 -> 43-46 ns, mutex_1000 224-241 -> 61-78 ns, spawn 414-490 ->
 * 260-370 ns, ErrgroupFanout -20%; CancelBroadcast +10%. A thief only gets
 * here after rounds over every ring found nothing. */
#define RUNNEXT_GRACE_NS 40000
#define STEAL_ROUNDS 4
#define POLL_ALL_EVERY 16
/* Goroutines a spawner queues before it lets them run (goc__runq_put_new):
 * with one P, and with several. */
#define SPAWN_BACKLOG_ONE 32
#define SPAWN_BACKLOG 4
#define PREFETCH_QUEUED 32 /* see prefetch_g */
#define SPIN_NS 20000
#define MAX_CPU 1024               /* CPUs goc__ready_io can steer to */
#define MAX_SPARE 64               /* Ps the monitor may add to the nprocs */
#define STUCK_NS (5 * 1000000)     /* a P this long on one goroutine is stuck */
#define SYSMON_TICK_NS (1000000)   /* the monitor's period while Ps are busy */
#define SYSMON_IDLE_NS (20000000)  /* ... and while every P is idle */

enum { PREV_YIELD = 1, PREV_PARK, PREV_DEAD };

static struct {
    goc_spinlock lock;
    goc_g *runqhead, *runqtail; /* global queue, via schedlink */
    _Atomic int32_t runqsize;
    goc_p *idle;                /* idle Ps, via idlelink */
    _Atomic int32_t npidle;
    _Atomic int32_t nspinning;
    _Atomic int32_t polling;    /* a P is blocked in poller->poll */
    _Atomic int32_t outside;    /* plain threads using goc, not blocked in it */
    _Atomic bool stopping;
    _Atomic bool started;
    int nprocs;                 /* GOMAXPROCS: the worker Ps */
    int nprocs_req;
    _Atomic int32_t nallp;      /* Ps that exist: workers, then spares */
    _Atomic int32_t nspare;     /* spares in use (sched.lock to change) */
    _Atomic int32_t nstuck;     /* Ps the monitor saw stuck at its last look */
    _Atomic bool single;        /* one P: its ring needs no atomic RMW (st_enter) */
    _Atomic int64_t clock;      /* goc__nanotime() at the monitor's last look; 0: none */
    bool sysmon;                /* the monitor runs */
    goc_p *allp;                /* nprocs + MAX_SPARE, the spares set up on demand */
    const goc_poller *poller;
    _Atomic int16_t cpu_p[MAX_CPU]; /* the worker P last seen on each CPU, -1 */
    pthread_once_t once;
} sched = {.lock = GOC_SPINLOCK_INIT, .once = PTHREAD_ONCE_INIT};

__thread goc_p *goc__tls_p;

#if !GOC_GETP_INLINE
/* Where goc__getp is not the inline load of internal.h: a call that is never
 * inlined, so that each read starts from the thread pointer afresh. */
__attribute__((noinline)) goc_p *goc__getp(void)
{
    __asm__ volatile("" ::: "memory");
    return goc__tls_p;
}
#endif

goc_g *goc__getg(void)
{
    goc_p *p = goc__getp();
    return p ? p->curg : goc__thread_g();
}

int goc__sched_nprocs(void) { return sched.nprocs; }

int goc__sched_nallp(void) { return atomic_load_explicit(&sched.nallp, memory_order_acquire); }

int goc__sched_nspare_active(void)
{
    return atomic_load_explicit(&sched.nspare, memory_order_acquire);
}

/* Ps in use: the workers and the spares in use. */
static inline int32_t nactive(void) { return sched.nprocs + goc__sched_nspare_active(); }

goc_p *goc__sched_allp(int i) { return &sched.allp[i]; }

void *goc__sched_tls_sync(void) { return &sched.started; }

int64_t goc__sched_nsteered(void)
{
    int64_t n = 0;
    for (int i = 0; i < goc__sched_nallp(); i++)
        n += atomic_load_explicit(&sched.allp[i].nsteered, memory_order_relaxed);
    return n;
}

bool goc__sched_others_running(void)
{
    return nactive() >
           atomic_load_explicit(&sched.npidle, memory_order_relaxed) +
                              atomic_load_explicit(&sched.nspinning, memory_order_relaxed) + 1;
}

static uint32_t fastrand(goc_p *p)
{
    /* xorshift64* */
    uint64_t x = p->rng;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    p->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

/* ---- Single-P mode ---- */

/* True if p may use its queues without atomic read-modify-writes: then
 * st_exit(p) must follow (or the next switch on p, which clears st_op).
 * The store to st_op and the re-load of single are one side of the
 * handshake in sysmon_go_multi; the other side's membarrier stands in for
 * the fence this side leaves out. */
static inline bool st_enter(goc_p *p)
{
    if (!atomic_load_explicit(&sched.single, memory_order_relaxed))
        return false;
    atomic_store_explicit(&p->st_op, 1, memory_order_relaxed);
    GOC_CHAOS_POINT(); /* the monitor may start a spare P now */
    atomic_signal_fence(memory_order_seq_cst);
    if (likely(atomic_load_explicit(&sched.single, memory_order_relaxed)))
        return true;
    atomic_store_explicit(&p->st_op, 0, memory_order_release);
    return false;
}

static inline void st_exit(goc_p *p)
{
    atomic_store_explicit(&p->st_op, 0, memory_order_release);
}

/* ---- The global queue (sched.lock held) ---- */

static void globq_put_locked(goc_g *head, goc_g *tail, int32_t n)
{
    tail->schedlink = NULL;
    if (sched.runqtail)
        sched.runqtail->schedlink = head;
    else
        sched.runqhead = head;
    sched.runqtail = tail;
    atomic_fetch_add_explicit(&sched.runqsize, n, memory_order_release);
}

static void globq_put(goc_g *g)
{
    goc__spin_lock(&sched.lock);
    globq_put_locked(g, g, 1);
    goc__spin_unlock(&sched.lock);
}

static bool runq_put_ring(goc_p *p, goc_g *g);

/* Takes a batch from the global queue: returns one, puts the rest on p. */
static goc_g *globq_get_locked(goc_p *p, int32_t max)
{
    int32_t size = atomic_load_explicit(&sched.runqsize, memory_order_relaxed);
    if (size == 0)
        return NULL;
    int32_t n = size / sched.nprocs + 1;
    if (n > size)
        n = size;
    if (max > 0 && n > max)
        n = max;
    if (n > RUNQ_SOFT / 2)
        n = RUNQ_SOFT / 2;
    atomic_fetch_sub_explicit(&sched.runqsize, n, memory_order_relaxed);
    goc_g *g = sched.runqhead;
    sched.runqhead = g->schedlink;
    for (int32_t i = 1; i < n; i++) {
        goc_g *x = sched.runqhead;
        sched.runqhead = x->schedlink;
        runq_put_ring(p, x);
    }
    if (!sched.runqhead)
        sched.runqtail = NULL;
    return g;
}

static goc_g *globq_get(goc_p *p, int32_t max)
{
    if (atomic_load_explicit(&sched.runqsize, memory_order_relaxed) == 0)
        return NULL;
    goc__spin_lock(&sched.lock);
    goc_g *g = globq_get_locked(p, max);
    goc__spin_unlock(&sched.lock);
    return g;
}

/* ---- The per-P ring (Go's runqput / runqget / runqsteal) ---- */

/* The ring is full: moves half of it, and g, to the global queue. */
static bool runq_put_slow(goc_p *p, goc_g *g, uint32_t h, uint32_t t)
{
    uint32_t n = (t - h) / 2;
    goc_g *batch[RUNQ_SIZE / 2 + 1];
    for (uint32_t i = 0; i < n; i++)
        batch[i] = atomic_load_explicit(&p->runq[(h + i) % RUNQ_SIZE], memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&p->runqhead, &h, h + n, memory_order_release,
                                                 memory_order_relaxed))
        return false;
    batch[n] = g;
    for (uint32_t i = 0; i < n; i++)
        batch[i]->schedlink = batch[i + 1];
    goc__spin_lock(&sched.lock);
    globq_put_locked(batch[0], batch[n], (int32_t)n + 1);
    goc__spin_unlock(&sched.lock);
    return true;
}

/* Puts g at the ring's tail; only p's own thread calls this. */
static bool runq_put_ring(goc_p *p, goc_g *g)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
        if (t - h < (p->burst ? RUNQ_SIZE : RUNQ_SOFT)) {
            atomic_store_explicit(&p->runq[t % RUNQ_SIZE], g, memory_order_relaxed);
            atomic_store_explicit(&p->runqtail, t + 1, memory_order_release);
            return true;
        }
        if (runq_put_slow(p, g, h, t))
            return false;
    }
}

/* Puts g on p: in runnext (kicking the old occupant to the tail) or at the
 * tail of the ring. */
static void runq_put(goc_p *p, goc_g *g, bool next)
{
    if (next && GOC_CHAOS_COIN())
        next = false; /* the other order (chaos.c) */
    if (next) {
        goc_g *old;
        if (st_enter(p)) {
            old = atomic_load_explicit(&p->runnext, memory_order_relaxed);
            atomic_store_explicit(&p->runnext, g, memory_order_relaxed);
            st_exit(p);
        } else {
            old = atomic_exchange_explicit(&p->runnext, g, memory_order_acq_rel);
        }
        if (!old)
            return;
        g = old;
    }
    runq_put_ring(p, g);
}

/* ---- The inbox (goc__ready_io) ---- */

static void inbox_push(goc_p *p, goc_g *g)
{
    goc_g *head = atomic_load_explicit(&p->inbox, memory_order_relaxed);
    do
        g->schedlink = head;
    while (!atomic_compare_exchange_weak_explicit(&p->inbox, &head, g, memory_order_release,
                                                  memory_order_relaxed));
}

/* Takes all of victim's inbox (p's own, or a thief's take): returns the
 * oldest G and puts the others on p's ring, oldest first. */
static goc_g *inbox_take(goc_p *p, goc_p *victim)
{
    if (!atomic_load_explicit(&victim->inbox, memory_order_relaxed))
        return NULL;
    goc_g *g = atomic_exchange_explicit(&victim->inbox, NULL, memory_order_acquire);
    goc_g *fifo = NULL;
    while (g) {
        goc_g *next = g->schedlink;
        g->schedlink = fifo;
        fifo = g;
        g = next;
    }
    for (goc_g *x = fifo ? fifo->schedlink : NULL; x;) {
        goc_g *next = x->schedlink; /* runq_put_ring may relink x */
        runq_put_ring(p, x);
        x = next;
    }
    return fifo;
}

/* Moves from's inbox (p's own, or one taken back) to the tail of p's
 * ring. True if it had anything. */
static bool inbox_drain(goc_p *p, goc_p *from)
{
    goc_g *g = inbox_take(p, from);
    if (g)
        runq_put_ring(p, g);
    return g != NULL;
}

static uint32_t runq_len(goc_p *p)
{
    uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_acquire);
    return t - h;
}

static bool runq_empty(goc_p *p)
{
    return runq_len(p) == 0 && !atomic_load_explicit(&p->runnext, memory_order_acquire) &&
           !atomic_load_explicit(&p->inbox, memory_order_acquire);
}


/* Called for the G queued right behind the one about to run: the lines it
 * will touch first when its turn comes, its descriptor and the top of its
 * stack right below it (its switch frame and innermost calls). Addresses
 * only: a prefetch never faults, whatever g is by then.
 * Only behind a long queue (more than PREFETCH_QUEUED Gs), whose Gs have
 * waited long enough to have left the L1 cache (a close or a broadcast
 * waking many); a short one holds Gs just made, still hot, for which the
 * prefetches are wasted work. */
static inline void prefetch_g(goc_g *g)
{
    const char *c = (const char *)g;
    for (int i = -4; i < 2; i++)
        __builtin_prefetch(c + i * 64);
}

static goc_g *runq_get_ring(goc_p *p)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
        if (t == h)
            return NULL;
        goc_g *g = atomic_load_explicit(&p->runq[h % RUNQ_SIZE], memory_order_relaxed);
        if (t - h > PREFETCH_QUEUED)
            prefetch_g(atomic_load_explicit(&p->runq[(h + 1) % RUNQ_SIZE], memory_order_relaxed));
        if (st_enter(p)) {
            atomic_store_explicit(&p->runqhead, h + 1, memory_order_relaxed);
            st_exit(p);
            return g;
        }
        if (atomic_compare_exchange_weak_explicit(&p->runqhead, &h, h + 1, memory_order_release,
                                                  memory_order_relaxed))
            return g;
    }
}

static goc_g *runq_take_next(goc_p *p)
{
    goc_g *next = atomic_load_explicit(&p->runnext, memory_order_relaxed);
    if (!next)
        return NULL;
    if (st_enter(p)) {
        atomic_store_explicit(&p->runnext, NULL, memory_order_relaxed);
        st_exit(p);
        return next;
    }
    if (atomic_compare_exchange_strong_explicit(&p->runnext, &next, NULL, memory_order_acquire,
                                                memory_order_relaxed))
        return next;
    return NULL; /* stolen meanwhile */
}

/* The next G this P should run from its own queues (and, every 61st
 * schedule, the global one), without blocking. */
static inline __attribute__((always_inline)) goc_g *runq_next_local(goc_p *p)
{
    if (unlikely(atomic_load_explicit(&sched.stopping, memory_order_relaxed)))
        return NULL;
    goc_g *g;
    if (unlikely(--p->globtick == 0)) {
        p->globtick = 61;
        inbox_drain(p, p);
        if (atomic_load_explicit(&sched.runqsize, memory_order_relaxed) > 0 &&
            (g = globq_get(p, 1)))
            return g;
    }
    if (p->nextstreak < RUNNEXT_STREAK) {
        if ((g = runq_take_next(p))) {
            p->nextstreak++;
            return g;
        }
    }
    p->nextstreak = 0;
    if ((g = runq_get_ring(p)))
        return g;
    return runq_take_next(p);
}

/* Gives a victim RUNNEXT_GRACE_NS to run its runnext itself. */
static void runnext_grace(void)
{
    int64_t until = goc__nanotime() + RUNNEXT_GRACE_NS;
    do {
        for (int i = 0; i < 16; i++)
            goc__cpu_relax();
    } while (goc__nanotime() < until);
}

/* Steals half of victim's ring into p's; returns one of the stolen Gs. */
static goc_g *runq_steal(goc_p *p, goc_p *victim, bool take_runnext)
{
    uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
    for (;;) {
        uint32_t h = atomic_load_explicit(&victim->runqhead, memory_order_acquire);
        uint32_t vt = atomic_load_explicit(&victim->runqtail, memory_order_acquire);
        uint32_t n = vt - h;
        n = n - n / 2;
        if (n == 0) {
            goc_g *g = inbox_take(p, victim);
            if (g)
                return g;
            if (!take_runnext)
                return NULL;
            goc_g *next = atomic_load_explicit(&victim->runnext, memory_order_acquire);
            if (!next)
                return NULL;
            /* The victim is probably about to run it: give it a moment
             * before taking it away (see RUNNEXT_GRACE_NS). */
            runnext_grace();
            if (atomic_compare_exchange_strong_explicit(&victim->runnext, &next, NULL,
                                                        memory_order_acq_rel,
                                                        memory_order_relaxed))
                return next;
            continue;
        }
        if (n > RUNQ_SIZE / 2)
            continue; /* read inconsistent h and t */
        for (uint32_t i = 0; i < n; i++) {
            goc_g *g = atomic_load_explicit(&victim->runq[(h + i) % RUNQ_SIZE],
                                            memory_order_relaxed);
            atomic_store_explicit(&p->runq[(t + i) % RUNQ_SIZE], g, memory_order_relaxed);
        }
        GOC_CHAOS_POINT(); /* the victim may run or give away what we copied */
        if (atomic_compare_exchange_strong_explicit(&victim->runqhead, &h, h + n,
                                                    memory_order_acq_rel, memory_order_relaxed)) {
            n--;
            goc_g *g = atomic_load_explicit(&p->runq[(t + n) % RUNQ_SIZE], memory_order_relaxed);
            if (n)
                atomic_store_explicit(&p->runqtail, t + n, memory_order_release);
            return g;
        }
    }
}

/* ---- Idle Ps and waking them ---- */

static void pidle_put_locked(goc_p *p)
{
    p->idle = true;
    p->idlelink = sched.idle;
    sched.idle = p;
    atomic_fetch_add_explicit(&sched.npidle, 1, memory_order_acq_rel);
}

static goc_p *pidle_get_locked(void)
{
    goc_p *p = sched.idle;
    if (p) {
        sched.idle = p->idlelink;
        p->idle = false;
        atomic_fetch_sub_explicit(&sched.npidle, 1, memory_order_acq_rel);
    }
    return p;
}

static bool pidle_remove_locked(goc_p *p)
{
    for (goc_p **pp = &sched.idle; *pp; pp = &(*pp)->idlelink) {
        if (*pp == p) {
            *pp = p->idlelink;
            p->idle = false;
            atomic_fetch_sub_explicit(&sched.npidle, 1, memory_order_acq_rel);
            return true;
        }
    }
    return false;
}

static void notify_p(goc_p *q)
{
    atomic_store_explicit(&q->wake, 1, memory_order_release);
    goc__futex_wake(&q->wake, 1);
    if (sched.poller && sched.poller->wake &&
        atomic_load_explicit(&sched.polling, memory_order_acquire))
        sched.poller->wake();
}

/* Work appeared: wake an idle P to look for it, unless one is already
 * spinning (it will wake the next one when it finds work). */
static void wakep(void)
{
    if (atomic_load_explicit(&sched.npidle, memory_order_acquire) == 0 ||
        atomic_load_explicit(&sched.nspinning, memory_order_acquire) != 0)
        return;
    int32_t zero = 0;
    if (!atomic_compare_exchange_strong_explicit(&sched.nspinning, &zero, 1,
                                                 memory_order_acq_rel, memory_order_relaxed))
        return;
    goc__spin_lock(&sched.lock);
    goc_p *q = pidle_get_locked();
    if (q)
        q->handoff_spinning = true;
    goc__spin_unlock(&sched.lock);
    if (!q) {
        atomic_fetch_sub_explicit(&sched.nspinning, 1, memory_order_acq_rel);
        return;
    }
    notify_p(q);
}

/* p was spinning and found work: stop counting it, and keep the chain going. */
static void reset_spinning(goc_p *p)
{
    if (!p->spinning)
        return;
    p->spinning = false;
    if (atomic_fetch_sub_explicit(&sched.nspinning, 1, memory_order_acq_rel) == 1)
        wakep();
}

/* ---- Deadlock detection ---- */

static void checkdead_locked(void)
{
    if (!goc__main_mode() || atomic_load_explicit(&sched.stopping, memory_order_acquire))
        return;
    if (atomic_load_explicit(&sched.npidle, memory_order_acquire) !=
        nactive())
        return;
    if (atomic_load_explicit(&sched.outside, memory_order_acquire) > 0)
        return;
    if (atomic_load_explicit(&sched.runqsize, memory_order_acquire) > 0)
        return;
    /* A P blocked in the poller does not count: only waiters it could wake
     * do (pending), and the goroutines it readied are on its queue. */
    if (sched.poller && sched.poller->pending && sched.poller->pending())
        return;
    if (goc__timers_pending())
        return;
    int n = goc__sched_nallp();
    for (int i = 0; i < n; i++)
        if (!runq_empty(&sched.allp[i]))
            return;
    if (goc__ngoroutines() == 0 && goc__main_goexited())
        goc__fatal("no goroutines (main called runtime.Goexit) - deadlock!");
    goc__fatal("all goroutines are asleep - deadlock!");
}

void goc__thread_outside_inc(void)
{
    atomic_fetch_add_explicit(&sched.outside, 1, memory_order_acq_rel);
}

void goc__thread_outside_dec(void)
{
    if (atomic_fetch_sub_explicit(&sched.outside, 1, memory_order_acq_rel) == 1 &&
        atomic_load_explicit(&sched.started, memory_order_acquire) &&
        atomic_load_explicit(&sched.npidle, memory_order_acquire) ==
            nactive()) {
        goc__spin_lock(&sched.lock);
        checkdead_locked();
        goc__spin_unlock(&sched.lock);
    }
}

/* ---- Switching ---- */

/* Publishes the G that switched away from p (see the file comment). Runs on
 * the stack of whatever runs next on p. */
static inline __attribute__((always_inline)) void post_switch(goc_p *p)
{
    st_exit(p); /* goc_yield's single-P path ends here */
    goc_g *g = p->prev;
    if (!g)
        return;
    p->prev = NULL;
    switch (p->prev_action) {
    case PREV_YIELD:
        runq_put(p, g, false);
        /* A goroutine that yields stays runnable: if a P idles meanwhile,
         * it should steal it rather than have the two take turns here
         * (two goroutines yielding on one P of two ran 10 times slower
         * than on one each, whichever the start happened to give). */
        wakep();
        break;
    case PREV_PARK:
        if (p->park_unlock) {
            /* The unlock function finishes the parking G's critical
             * section: TSan must see it ordered after that G's work. It
             * runs in this P's own unlock fiber, which acquires what the G
             * released as it parked. (Not in the G's fiber: once the lock
             * drops the G may already run on another thread.) */
            GOC_CHAOS_POINT(); /* g is off its stack, not yet unlocked */
            void *here = goc__race_fiber_current();
            goc__race_fiber_switch(p->unlock_fiber);
            goc__race_acquire((char *)g + 1);
            bool parked = p->park_unlock(g, p->park_arg);
            goc__race_fiber_switch(here);
            if (!parked) {
                atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
                runq_put(p, g, true);
            }
        }
        break;
    case PREV_DEAD:
        goc__stack_free(p, g);
        break;
    }
}

/* What a context does first once switched to (goc__gentry's copy for a
 * goroutine's first run; inline in switch_to, the hot path). */
static inline __attribute__((always_inline)) void after_switch(goc_g *self)
{
    goc__asan_finish_switch(self->asan_fake);
#if defined(GOC_SANITIZE_THREAD)
    /* A spare's thread started after most goroutines did (worker_main):
     * its TLS set-up must be ordered before a goroutine resumed on it. */
    if (self->p->spare && !(self->flags & G_SYSTEM))
        goc__race_acquire(&sched.started);
#endif
    post_switch(self->p);
}

void goc__sched_after_switch(goc_g *self) { after_switch(self); }

/* Switches from the running context `from` to `to` on p. Returns when
 * something switches back to `from`, possibly on another P. */
static inline __attribute__((always_inline)) void switch_to(goc_p *p, goc_g *from, goc_g *to)
{
    if (!(from->flags & G_SYSTEM)) {
        /* The frame address stands in for the stack pointer: both must be
         * inside the stack, and an unguarded stack's canary intact. */
        if (unlikely(!goc__stack_ok(from, __builtin_frame_address(0))))
            goc__fatal_stack_overflow(from);
    }
    p->curg = to;
    to->p = p;
    atomic_store_explicit(&p->schedtick, atomic_load_explicit(&p->schedtick, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (!(to->flags & G_SYSTEM))
        atomic_store_explicit(&to->status, G_RUNNING, memory_order_relaxed);
    bool dying = atomic_load_explicit(&from->status, memory_order_relaxed) == G_DEAD;
    goc__race_fiber_switch(to->race_fiber);
    goc__asan_start_switch(dying ? NULL : &from->asan_fake, to->stack.lo,
                           (size_t)(to->stack.hi - to->stack.lo));
    goc__ctx_switch(&from->sp, to->sp);
    after_switch(from);
}

static goc_g *findrunnable(goc_p *p);

/* Records the CPU p's thread runs on, for goc__ready_io: at every
 * scheduler pass and every 64th switch while goroutines wait on I/O. */
static void note_cpu(goc_p *p)
{
    if (p->spare || sched.nprocs < 2)
        return; /* a spare gets no inbox (p_busy); one worker steers nothing */
    int cpu = goc__os_cpu();
    if (cpu == atomic_load_explicit(&p->cpu, memory_order_relaxed))
        return;
    atomic_store_explicit(&p->cpu, cpu, memory_order_relaxed);
    if (cpu >= 0 && cpu < MAX_CPU)
        atomic_store_explicit(&sched.cpu_p[cpu], (int16_t)p->id, memory_order_relaxed);
}

/* While goroutines wait on I/O, a P that never goes idle still polls:
 * every 64th switch detours through g0, which polls without blocking. */
static inline bool io_check_due(goc_p *p)
{
    if (likely(!atomic_load_explicit(&goc__netpoll_nwait, memory_order_relaxed)))
        return false;
    if (unlikely(atomic_load_explicit(&p->inbox, memory_order_relaxed)))
        inbox_drain(p, p);
    if (++p->pollcheck < 64)
        return false;
    note_cpu(p);
    p->pollcheck = 0;
    p->poll_now = true;
    return true;
}

/* Polls for I/O without blocking, if no other P is polling. */
static bool poll_nonblocking(goc_p *p)
{
    const goc_poller *pl = sched.poller;
    int32_t zero = 0;
    if (!pl || !pl->poll ||
        !atomic_compare_exchange_strong_explicit(&sched.polling, &zero, 1, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return false;
    pl->poll(p, 0);
    atomic_store_explicit(&sched.polling, 0, memory_order_release);
    return true;
}

/* p's earliest timer is due: the caller detours through g0, where timers
 * run (a busy P would otherwise never get to them). One load when p has
 * no timers. */
static inline bool timers_due(goc_p *p)
{
    int64_t t0 = atomic_load_explicit(&p->timer0, memory_order_relaxed);
    return unlikely(t0 != INT64_MAX) && t0 <= goc__nanotime();
}

/* Leaves the running G (whose fate is in p->prev_action) for the next one:
 * straight to it when p has one queued, else to the scheduler on g0. */
static void schedule_from(goc_p *p, goc_g *g)
{
    if (unlikely(timers_due(p) || io_check_due(p))) {
        switch_to(p, g, &p->g0);
        return;
    }
    if (st_enter(p)) {
        /* One P and a G in runnext (the one g just readied, in a
         * ping-pong): runq_next_local's choice, with plain stores. The
         * section ends in post_switch. */
        goc_g *next = atomic_load_explicit(&p->runnext, memory_order_relaxed);
        if (likely(next && p->nextstreak < RUNNEXT_STREAK && p->globtick > 1 &&
                   !atomic_load_explicit(&sched.stopping, memory_order_relaxed))) {
            atomic_store_explicit(&p->runnext, NULL, memory_order_relaxed);
            p->nextstreak++;
            p->globtick--;
            switch_to(p, g, next);
            return;
        }
        st_exit(p);
    }
    goc_g *next = runq_next_local(p);
    switch_to(p, g, next ? next : &p->g0);
}

/* When a goroutine began to wait, for the dump: the monitor's clock, at most
 * one of its periods old (20 ms while every P idles), saves a clock read on
 * every park; without the monitor, the coarse clock. Never ahead of now. */
static int64_t wait_clock(void)
{
    int64_t t = atomic_load_explicit(&sched.clock, memory_order_relaxed);
    return t ? t : goc__nanotime_coarse();
}

void *goc__park(bool (*unlock)(goc_g *g, void *arg), void *arg, const char *reason)
{
    goc_g *g = goc__getg();
    g->param = NULL;
    g->waitreason = reason;
    g->waitsince = wait_clock();
    if (g->flags & G_THREAD) {
        atomic_store_explicit(&g->wake, 0, memory_order_relaxed);
        atomic_store_explicit(&g->status, G_WAITING, memory_order_release);
        if (unlock && !unlock(g, arg)) {
            atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
            return g->param;
        }
        /* From here a waker may ready us; goc__ready counts us back as
         * outside before it wakes us, so the count never undercounts. */
        goc__thread_outside_dec();
        while (!atomic_load_explicit(&g->wake, memory_order_acquire))
            goc__futex_wait(&g->wake, 0, -1);
        atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
        goc__race_acquire(g);
        return g->param;
    }
    if (unlikely(g->flags & G_SYSTEM))
        goc__fatal("park on a worker's system stack");
    goc_p *p = g->p;
    goc__race_release((char *)g + 1); /* for the unlock fiber, see post_switch */
    atomic_store_explicit(&g->status, G_WAITING, memory_order_relaxed);
    p->prev = g;
    p->prev_action = PREV_PARK;
    p->park_unlock = unlock;
    p->park_arg = arg;
    GOC_CHAOS_POINT();
    schedule_from(p, g);
    goc__race_acquire(g);
    return g->param;
}

/* A parked goroutine's G_WAITING -> G_RUNNABLE, for goc__ready and
 * goc__ready_io; readying anything else is a runtime bug. */
static inline void g_make_runnable(goc_g *g)
{
    if (unlikely(atomic_load_explicit(&g->status, memory_order_relaxed) != G_WAITING))
        goc__fatal("goc__ready of a goroutine that is not waiting");
    atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
}

void goc__ready(goc_g *g)
{
    GOC_CHAOS_POINT();
    goc__race_release(g);
    if (g->flags & G_THREAD) {
        goc__thread_outside_inc();
        atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
        atomic_store_explicit(&g->wake, 1, memory_order_release);
        goc__futex_wake(&g->wake, 1);
        return;
    }
    goc_p *p = goc__getp();
    /* A thread that wakes goroutines is one goc sees, counted outside
     * before g is runnable: the deadlock check (last P going idle) must
     * not find g runnable in no queue and no thread outside that could be
     * about to queue it (a thread's first goc call was this one). */
    if (!p)
        goc__thread_g();
    g_make_runnable(g);
    if (p) {
        runq_put(p, g, true);
        if (atomic_load_explicit(&sched.single, memory_order_relaxed))
            return; /* one P, and it is running: no idle P to wake */
    } else {
        globq_put(g);
    }
    wakep();
}

/* q runs goroutines, so it will look at its inbox. Only worker Ps are
 * ever sent one (sched.cpu_p names no spare, which may go dormant without
 * looking). */
static inline bool p_busy(goc_p *q)
{
    return !__atomic_load_n(&q->idle, __ATOMIC_RELAXED);
}

void goc__ready_io(goc_g *g, int cpu)
{
    goc_p *p = goc__getp();
    goc_p *to = NULL;
    if (cpu >= 0 && cpu < MAX_CPU && p && !(g->flags & G_THREAD) &&
        !atomic_load_explicit(&sched.single, memory_order_relaxed)) {
        int id = atomic_load_explicit(&sched.cpu_p[cpu], memory_order_relaxed);
        if (id >= 0 && atomic_load_explicit(&sched.allp[id].cpu, memory_order_relaxed) == cpu)
            to = &sched.allp[id]; /* else its thread has moved since */
    }
    if (!to || to == p || !p_busy(to)) {
        goc__ready(g);
        return;
    }
    goc__race_release(g);
    g_make_runnable(g);
    inbox_push(to, g);
    atomic_store_explicit(&p->nsteered, atomic_load_explicit(&p->nsteered, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    /* Against `to` going idle, which publishes itself idle, fences, then
     * looks at its inbox (findrunnable): it sees g there, or we see it idle
     * and take its inbox back. */
    atomic_thread_fence(memory_order_seq_cst);
    if (!p_busy(to) && inbox_drain(p, to))
        wakep();
}

void goc__runq_put_new(goc_p *p, goc_g *g)
{
    if (!p) {
        globq_put(g);
        wakep();
        return;
    }
    runq_put(p, g, true);
    wakep();
    /* Back-pressure: a goroutine that has queued a few others lets them run
     * before it goes on. A spawning loop then keeps a few goroutines in
     * flight, whose descriptors and stacks stay in the L1 cache and TLB,
     * instead of a long queue of cold ones. With several Ps the limit is
     * lower: what waits in the ring is what an idle P steals, and a short
     * goroutine run on another core costs more in moved cache lines (its
     * descriptor and stack there, its slot freed into the other P's cache)
     * than it saves. Measured on 2 workers, limit 32 -> 4: spawn 117-133 ->
     * 78-84 ns, ErrgroupFanout 10.4-10.9 -> 8.5-9.1 us, Singleflight
     * 342-351 -> 295-334 ns; with one P, 32 stays (8: spawn 50 -> 54 ns). */
    uint32_t backlog = atomic_load_explicit(&sched.single, memory_order_relaxed)
                           ? SPAWN_BACKLOG_ONE
                           : SPAWN_BACKLOG;
    if (unlikely(runq_len(p) >= backlog) && !(p->curg->flags & G_SYSTEM))
        goc_yield();
}

void goc_yield(void)
{
    goc_p *p = goc__getp();
    if (!p) {
        sched_yield();
        return;
    }
    goc_g *g = p->curg;
    if (unlikely(g->flags & G_SYSTEM))
        return;
    bool detour = timers_due(p) || io_check_due(p);
    if (likely(!detour) && st_enter(p)) {
        /* One P, runnext empty, the ring not: g goes to the tail and the
         * head runs, the same choice runq_next_local makes, in one pass
         * over the ring with plain stores (no thief exists). A full ring
         * works too: g takes the slot its head just left. */
        uint32_t h = atomic_load_explicit(&p->runqhead, memory_order_relaxed);
        uint32_t t = atomic_load_explicit(&p->runqtail, memory_order_relaxed);
        if (likely(t != h && p->globtick > 1 &&
                   !atomic_load_explicit(&p->runnext, memory_order_relaxed) &&
                   !atomic_load_explicit(&sched.stopping, memory_order_relaxed))) {
            goc_g *next = atomic_load_explicit(&p->runq[h % RUNQ_SIZE], memory_order_relaxed);
            atomic_store_explicit(&p->runq[t % RUNQ_SIZE], g, memory_order_relaxed);
            atomic_store_explicit(&p->runqhead, h + 1, memory_order_relaxed);
            atomic_store_explicit(&p->runqtail, t + 1, memory_order_relaxed);
            p->globtick--;
            p->nextstreak = 0;
            atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
            switch_to(p, g, next); /* post_switch ends the section */
            return;
        }
        st_exit(p);
    } else if (likely(!detour) && !atomic_load_explicit(&p->runnext, memory_order_relaxed) &&
               runq_len(p) == 0 &&
               atomic_load_explicit(&sched.runqsize, memory_order_relaxed) == 0) {
        return; /* nothing else to run here: the common case with many Ps */
    }
    goc_g *next = detour ? &p->g0 : runq_next_local(p);
    if (!next && !(next = globq_get(p, 0)))
        return; /* nothing else to run here */
    atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_relaxed);
    if (st_enter(p)) {
        /* With one P no other thread ever takes from its queue, so g may be
         * queued before its context is saved: no hand-off needed. (The
         * monitor's handshake waits for the switch: post_switch ends the
         * section.) */
        runq_put(p, g, false);
    } else {
        p->prev = g;
        p->prev_action = PREV_YIELD;
    }
    switch_to(p, g, next);
}

void goc__sched_goexit(goc_g *g)
{
    goc_p *p = g->p;
    atomic_store_explicit(&p->nexited,
                          atomic_load_explicit(&p->nexited, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    atomic_store_explicit(&g->status, G_DEAD, memory_order_relaxed);
    p->prev = g;
    p->prev_action = PREV_DEAD;
    goc_g *next = timers_due(p) ? NULL : runq_next_local(p);
    /* The next goroutine on this stack slot acquires g in goc__gentry, so
     * TSan sees its writes to the reused stack ordered after this one's
     * (TSan's AnnotateNewMemory did not stop those reports). Released after
     * the last intercepted call on this stack (the clock read above). The
     * cost: a race between this goroutine and a later one that reuses its
     * slot goes unreported; races between goroutines alive at once do not. */
    goc__race_release(g);
    switch_to(p, g, next ? next : &p->g0);
    __builtin_unreachable();
}

/* ---- Finding work ---- */

static void sleep_forever(void)
{
    _Atomic uint32_t never = 0;
    for (;;)
        goc__futex_wait(&never, 0, -1);
}

static goc_g *steal_work(goc_p *p)
{
    for (int round = 0; round < STEAL_ROUNDS; round++) {
        uint32_t start = fastrand(p);
        uint32_t n = (uint32_t)goc__sched_nallp();
        for (uint32_t i = 0; i < n; i++) {
            goc_p *v = &sched.allp[(start + i) % n];
            if (v == p)
                continue;
            goc_g *g = runq_steal(p, v, round == STEAL_ROUNDS - 1);
            if (g)
                return g;
        }
    }
    return NULL;
}

static bool any_work(void)
{
    if (atomic_load_explicit(&sched.runqsize, memory_order_acquire) > 0)
        return true;
    int n = goc__sched_nallp();
    for (int i = 0; i < n; i++)
        if (!runq_empty(&sched.allp[i]))
            return true;
    return false;
}

/* A spinning P that found nothing watches the queues a little longer
 * before it sleeps: waking a sleeping worker costs the waker a system call
 * and the sleeper microseconds, more than a short spin when work comes
 * back at once (a spawning loop, a producer a step ahead). Bounded by
 * SPIN_NS. While the stack helpers work (prefaulting slots for a spawning
 * burst, handing dead ones back), it offers them its CPU between looks:
 * with as many workers as CPUs, they would otherwise get the CPU only
 * from a worker that sleeps. 1,000,000 goroutines created at 2 workers on
 * 2 CPUs: 1350-1400 -> 1080-1190 ns each. */
static goc_g *spin_for_work(goc_p *p)
{
    int64_t until = goc__nanotime() + SPIN_NS;
    do {
        for (int i = 0; i < 64; i++)
            goc__cpu_relax();
        if (any_work()) {
            goc_g *g = globq_get(p, 0);
            if (g || (g = steal_work(p)))
                return g;
        }
        if (goc__stack_helpers_busy())
            sched_yield();
    } while (goc__nanotime() < until);
    return NULL;
}

/* Runs the due timers of the other Ps (their owners may be busy running
 * a goroutine that computes): none is stranded. True if any ran. */
static bool run_others_timers(goc_p *p)
{
    int64_t now = 0;
    bool ran = false;
    int n = goc__sched_nallp();
    for (int i = 0; i < n; i++) {
        goc_p *v = &sched.allp[i];
        int64_t t0 = atomic_load_explicit(&v->timer0, memory_order_relaxed);
        if (v == p || t0 == INT64_MAX)
            continue;
        if (!now)
            now = goc__nanotime();
        if (t0 <= now) {
            goc__timers_run(v, now);
            ran = true;
        }
    }
    return ran;
}

void goc__sched_timer_added(goc_p *owner)
{
    /* Against findrunnable going idle, which publishes the P idle and then,
     * after a full fence, reads every heap's timer0 for its deadline: the
     * caller stored timer0, and reads idle after this fence. Either that P
     * saw the timer or we see it idle. */
    atomic_thread_fence(memory_order_seq_cst);
    if (__atomic_load_n(&owner->idle, __ATOMIC_RELAXED)) {
        /* The heap's own P sleeps with a deadline from before this timer:
         * make it recompute. (wakep would not do: it leaves the work to a
         * spinning P, if any, and wakes whichever idle P it pops.) */
        notify_p(owner);
        return;
    }
    /* A sleeping P computed its deadline before this timer existed: have
     * one recompute (a spinning one will when it goes idle). */
    if (atomic_load_explicit(&sched.npidle, memory_order_acquire) > 0)
        wakep();
}

/* Blocks p's thread until it is told to look for work, or until deadline. */
static void idle_sleep(goc_p *p, int64_t deadline)
{
    const goc_poller *pl = sched.poller;
    int32_t zero = 0;
    if (pl && pl->poll &&
        atomic_compare_exchange_strong_explicit(&sched.polling, &zero, 1, memory_order_acq_rel,
                                                memory_order_relaxed)) {
        if (!atomic_load_explicit(&p->wake, memory_order_acquire))
            pl->poll(p, deadline);
        atomic_store_explicit(&sched.polling, 0, memory_order_release);
        return;
    }
    int64_t timeout = -1;
    if (deadline != INT64_MAX) {
        timeout = deadline - goc__nanotime();
        if (timeout <= 0)
            return;
    }
    if (!atomic_load_explicit(&p->wake, memory_order_acquire))
        goc__futex_wait(&p->wake, 0, timeout);
}

static bool spare_retire(goc_p *p);

static goc_g *findrunnable(goc_p *p)
{
    const goc_poller *pl = sched.poller;
    for (;;) {
        if (unlikely(atomic_load_explicit(&sched.stopping, memory_order_acquire)))
            sleep_forever();
        atomic_store_explicit(&p->schedtick,
                              atomic_load_explicit(&p->schedtick, memory_order_relaxed) + 1,
                              memory_order_relaxed);
        goc_g *g = NULL;
        if (p->poll_now) { /* a busy P detoured here to check for I/O */
            p->poll_now = false;
            /* What is kept for p; and every POLL_ALL_EVERY-th time
             * everything, so that the I/O of a P whose goroutine computes
             * for long is not left waiting for it. */
            if (++p->pollround % POLL_ALL_EVERY == 0 ||
                !(pl && pl->poll_own && pl->poll_own(p)))
                poll_nonblocking(p);
        }
        inbox_drain(p, p);
        note_cpu(p);
        if (atomic_load_explicit(&p->timer0, memory_order_relaxed) != INT64_MAX) {
            goc__timers_run(p, goc__nanotime());
            g = runq_next_local(p);
        }
        if (!g)
            g = runq_next_local(p);
        if (!g)
            g = globq_get(p, 0);
        if (!g && pl && pl->run_due) {
            pl->run_due(p, goc__nanotime());
            g = runq_next_local(p);
        }
        if (!g && pl && pl->pending && pl->pending()) {
            /* Goroutines wait on I/O: look, without blocking, at what is
             * kept for p first, then at everything. */
            if (pl->poll_own && pl->poll_own(p))
                g = runq_next_local(p);
            if (!g && poll_nonblocking(p))
                g = runq_next_local(p);
        }
        if (!g && run_others_timers(p))
            g = runq_next_local(p);
        if (!g && goc__sched_nallp() > 1) {
            if (!p->spinning) {
                int32_t busy = nactive() -
                               atomic_load_explicit(&sched.npidle, memory_order_acquire);
                if (2 * atomic_load_explicit(&sched.nspinning, memory_order_acquire) < busy) {
                    p->spinning = true;
                    atomic_fetch_add_explicit(&sched.nspinning, 1, memory_order_acq_rel);
                }
            }
            if (p->spinning && !(g = steal_work(p)))
                g = spin_for_work(p);
        }
        if (g) {
            reset_spinning(p);
            return g;
        }

        if (p->spare && spare_retire(p))
            continue; /* it was dormant, and is in use again */

        /* Nothing found: go idle, re-checking under the lock what a
         * concurrent producer may have just put out. */
        goc__spin_lock(&sched.lock);
        if ((g = globq_get_locked(p, 0))) {
            goc__spin_unlock(&sched.lock);
            reset_spinning(p);
            return g;
        }
        atomic_store_explicit(&p->wake, 0, memory_order_relaxed);
        p->handoff_spinning = false;
        pidle_put_locked(p);
        goc__spin_unlock(&sched.lock);
        if (p->spinning) {
            p->spinning = false;
            atomic_fetch_sub_explicit(&sched.nspinning, 1, memory_order_acq_rel);
            if (any_work()) {
                goc__spin_lock(&sched.lock);
                bool removed = pidle_remove_locked(p);
                goc__spin_unlock(&sched.lock);
                if (removed) {
                    p->spinning = true;
                    atomic_fetch_add_explicit(&sched.nspinning, 1, memory_order_acq_rel);
                    continue;
                }
                /* Someone is waking us: their token arrives below. */
            }
        }
        goc__spin_lock(&sched.lock);
        checkdead_locked();
        goc__spin_unlock(&sched.lock);

        /* p is on the idle list: a timer added from here on finds it there
         * (goc__sched_timer_added); one added before is in timer0. */
        GOC_CHAOS_POINT();
        atomic_thread_fence(memory_order_seq_cst);
        int64_t deadline = goc__timers_next();
        if (pl && pl->next_deadline) {
            int64_t d = pl->next_deadline(p);
            if (d < deadline)
                deadline = d;
        }
        if (p->spare) { /* look again soon: it may be time to go dormant */
            int64_t d = goc__nanotime() + STUCK_NS;
            if (d < deadline)
                deadline = d;
        }
        /* The fence above also orders our idle flag before this look at
         * the inbox (against goc__ready_io's push, fence, look at idle). */
        GOC_CHAOS_POINT();
        if (!atomic_load_explicit(&p->inbox, memory_order_relaxed))
            idle_sleep(p, deadline);

        goc__spin_lock(&sched.lock);
        if (p->idle) {
            pidle_remove_locked(p); /* timeout, poll or spurious wake-up */
        } else if (p->handoff_spinning) {
            p->handoff_spinning = false;
            p->spinning = true;     /* wakep counted us as spinning */
        }
        goc__spin_unlock(&sched.lock);
    }
}

/* ---- The monitor and its spare Ps ---- */

/* p, a spare, found no work: if no more Ps are stuck than spares are in
 * use, it goes dormant (its timers to a worker P) until the monitor needs
 * it again. Returns true once it is back in use; false if it stays. */
static bool spare_retire(goc_p *p)
{
    if (atomic_load_explicit(&sched.nspare, memory_order_acquire) <=
        atomic_load_explicit(&sched.nstuck, memory_order_acquire))
        return false;
    /* Timers first, while p still counts as a P in use and not idle: a
     * timer between two heaps is invisible to the deadlock check, which
     * must then see p busy. (Only p's own goroutines add to its heap.) */
    goc__timers_move(p, &sched.allp[p->id % sched.nprocs]);
    goc__spin_lock(&sched.lock);
    if (atomic_load_explicit(&sched.nspare, memory_order_relaxed) <=
        atomic_load_explicit(&sched.nstuck, memory_order_relaxed)) {
        goc__spin_unlock(&sched.lock);
        return false;
    }
    atomic_store_explicit(&p->wake, 0, memory_order_relaxed);
    atomic_store_explicit(&p->dormant, true, memory_order_relaxed);
    atomic_fetch_sub_explicit(&sched.nspare, 1, memory_order_acq_rel);
    goc__spin_unlock(&sched.lock);
    reset_spinning(p);
    /* Only p puts on its own queues, and it just found them empty. */
    goc__spin_lock(&sched.lock);
    checkdead_locked(); /* p may have been the last P not idle */
    goc__spin_unlock(&sched.lock);
    while (atomic_load_explicit(&p->dormant, memory_order_acquire))
        goc__futex_wait(&p->wake, 0, -1);
    return true;
}

static void *worker_main(void *arg);

/* Before a second P runs beside the single one: queues and channel
 * sections take their atomic forms from now on (see "Single P" above). */
static void sysmon_go_multi(void)
{
    goc__chan_force_mt();
    if (!atomic_load_explicit(&sched.single, memory_order_relaxed))
        return;
    atomic_store_explicit(&sched.single, false, memory_order_seq_cst);
    goc__os_membarrier();
    while (atomic_load_explicit(&sched.allp[0].st_op, memory_order_acquire))
        sched_yield();
}

static void p_init(goc_p *p, int id)
{
    p->id = id;
    atomic_store_explicit(&p->timer0, INT64_MAX, memory_order_relaxed);
    p->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(id + 1) ^ (uint64_t)goc__nanotime();
    p->globtick = 61;
    atomic_store_explicit(&p->cpu, -1, memory_order_relaxed);
}

static void start_thread(void *(*fn)(void *), void *arg)
{
    if (!goc__os_thread_start(fn, arg, 0))
        goc__fatal("cannot start a runtime thread");
}

/* Puts one more spare in use: a dormant one, or a new one with its thread.
 * False if MAX_SPARE are in use. */
static bool spare_start(void)
{
    if (sched.nprocs == 1)
        sysmon_go_multi();
    goc__spin_lock(&sched.lock);
    int n = goc__sched_nallp();
    goc_p *p = NULL;
    for (int i = sched.nprocs; i < n && !p; i++)
        if (atomic_load_explicit(&sched.allp[i].dormant, memory_order_relaxed))
            p = &sched.allp[i];
    bool fresh = !p && n < sched.nprocs + MAX_SPARE;
    if (fresh) {
        p = &sched.allp[n];
        p_init(p, n);
        p->spare = true;
        atomic_store_explicit(&sched.nallp, n + 1, memory_order_release);
    }
    if (p) {
        atomic_store_explicit(&p->dormant, false, memory_order_release);
        atomic_fetch_add_explicit(&sched.nspare, 1, memory_order_acq_rel);
    }
    goc__spin_unlock(&sched.lock);
    if (!p)
        return false;
    if (fresh)
        start_thread(worker_main, p);
    else
        notify_p(p);
    return true;
}

/* What the monitor knows of one P: its schedtick when it last moved, and
 * when that was; once it has stopped moving, how long its thread had
 * waited for a CPU when the monitor first saw it stopped (-2: not read
 * yet, -1: unknown); and whether it was found held by a goroutine. */
struct watch {
    uint32_t tick;
    int64_t since;
    int64_t runq_wait;
    bool stuck;
};

/* p has not moved for STUCK_NS: is a goroutine holding it (computing, or
 * blocked in a call goc cannot see)? Only once its thread has had the CPU,
 * or been blocked, for STUCK_NS since then: time it spent waiting for a
 * CPU (a loaded machine, a VM whose CPU was stolen) is nobody's doing, a
 * spare would only compete for the same CPUs, and it would end a
 * one-worker program's single-P mode for good. A thread that computes on a
 * loaded machine still gets there, later. */
static bool held_by_goroutine(goc_p *p, struct watch *w, int64_t now)
{
    if (w->runq_wait < 0)
        return true;
    int64_t rw = goc__os_thread_runq_wait(atomic_load_explicit(&p->tid, memory_order_relaxed));
    return rw < 0 || (now - w->since) - (rw - w->runq_wait) >= STUCK_NS;
}

/* One look at every P (see "The monitor" in the file comment). Returns
 * whether any P was busy. */
static bool sysmon_look(struct watch *watch)
{
    int64_t now = goc__nanotime();
    int n = goc__sched_nallp();
    int32_t nstuck = 0;
    bool busy = false, work = false;
    for (int i = 0; i < n; i++) {
        goc_p *p = &sched.allp[i];
        struct watch *w = &watch[i];
        uint32_t tick = atomic_load_explicit(&p->schedtick, memory_order_relaxed);
        bool idle = atomic_load_explicit(&p->dormant, memory_order_relaxed) ||
                    __atomic_load_n(&p->idle, __ATOMIC_RELAXED);
        /* since == 0: the first look at p (the monitor's first, or a spare
         * that has just appeared). Nothing is known of it yet: a worker
         * whose thread has not run anything still shows tick 0, which is
         * not "stuck since the epoch". */
        if (idle || tick != w->tick || w->since == 0) {
            w->tick = tick;
            w->since = now;
            w->runq_wait = -2;
            w->stuck = false;
            busy |= !idle;
            continue;
        }
        busy = true;
        if (w->runq_wait == -2)
            w->runq_wait =
                goc__os_thread_runq_wait(atomic_load_explicit(&p->tid, memory_order_relaxed));
        if (now - w->since < STUCK_NS)
            continue;
        if (!w->stuck && !(w->stuck = held_by_goroutine(p, w, now)))
            continue;
        nstuck++;
        if (!runq_empty(p) || atomic_load_explicit(&p->timer0, memory_order_relaxed) <=
                                  now + STUCK_NS)
            work = true;
    }
    atomic_store_explicit(&sched.nstuck, nstuck, memory_order_release);
    atomic_store_explicit(&sched.clock, now, memory_order_relaxed);
    if (!nstuck)
        return busy;
    /* Every P in use is stuck: nobody serves the global queue, the poller
     * or the timers. */
    if (!work && nstuck == nactive())
        work = atomic_load_explicit(&sched.runqsize, memory_order_acquire) > 0 ||
               atomic_load_explicit(&goc__netpoll_nwait, memory_order_acquire) > 0 ||
               goc__timers_next() <= now + STUCK_NS;
    if (!work)
        return busy;
    if (atomic_load_explicit(&sched.npidle, memory_order_acquire) > 0)
        wakep(); /* an idle P steals the work */
    else if (atomic_load_explicit(&sched.nspare, memory_order_acquire) < nstuck)
        spare_start();
    return busy;
}

static void *sysmon_main(void *arg)
{
    (void)arg;
    struct watch *watch = calloc((size_t)(sched.nprocs + MAX_SPARE), sizeof *watch);
    if (!watch)
        goc__fatal("out of memory starting the monitor");
    int64_t delay = SYSMON_TICK_NS;
    for (;;) {
        struct timespec ts = {0, (long)delay};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        if (atomic_load_explicit(&sched.stopping, memory_order_acquire))
            break;
        delay = sysmon_look(watch) ? SYSMON_TICK_NS : SYSMON_IDLE_NS;
    }
    free(watch);
    return NULL;
}

/* ---- Workers and start-up ---- */

static void *worker_main(void *arg)
{
    goc_p *p = arg;
    goc__tls_p = p;
    atomic_store_explicit(&p->tid, goc__os_gettid(), memory_order_relaxed);
    goc__thread_known = true;
    goc_g *g0 = &p->g0;
    g0->flags = G_SYSTEM;
    g0->p = p;
    atomic_store_explicit(&g0->status, G_RUNNING, memory_order_relaxed);
    g0->race_fiber = goc__race_fiber_current();
    p->unlock_fiber = goc__race_fiber_create();
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void *addr;
        size_t size;
        if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
            g0->stack.lo = addr;
            g0->stack.hi = (char *)addr + size;
        }
        pthread_attr_destroy(&attr);
    }
    p->curg = g0;
    goc__signals_init_thread();
    /* Goroutines read this thread's TLS (errno, libc's own) while running
     * on it: order its initialisation before every goroutine (TSan sees
     * each goroutine as a thread of its own). */
    goc__race_release(&sched.started);
    for (;;) {
        goc_g *g = findrunnable(p);
        switch_to(p, g0, g);
    }
    return NULL;
}

static int env_int(const char *name)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return 0;
    long v = strtol(s, NULL, 10);
    return v > 0 && v < 4096 ? (int)v : 0;
}

static void sched_init(void)
{
    int n = sched.nprocs_req;
    if (n <= 0)
        n = env_int("GOC_MAXPROCS");
    if (n <= 0)
        n = goc__os_ncpu();
    sched.nprocs = n;
    const char *mon = getenv("GOC_SYSMON");
    sched.sysmon = !(mon && strcmp(mon, "0") == 0);
    /* The monitor may start a spare beside the single P: that needs the
     * handshake, and the handshake needs membarrier. */
    atomic_store_explicit(&sched.single,
                          n == 1 && (!sched.sysmon || goc__os_membarrier_usable()),
                          memory_order_relaxed);
    goc__stack_default_size();
    goc__signals_init();
    if (!sched.poller)
        sched.poller = goc__netpoll();
    /* Room for the spares up front (their pages untouched until used), so
     * a P's address never changes. */
    size_t bytes = sizeof(goc_p) * (size_t)(n + MAX_SPARE);
    sched.allp = goc__os_reserve(bytes);
    if (!sched.allp)
        goc__fatal("out of memory starting the scheduler");
    for (int i = 0; i < n; i++)
        p_init(&sched.allp[i], i);
    for (int i = 0; i < MAX_CPU; i++)
        atomic_store_explicit(&sched.cpu_p[i], -1, memory_order_relaxed);
    atomic_store_explicit(&sched.nallp, n, memory_order_relaxed);
    atomic_store_explicit(&sched.started, true, memory_order_release);
    for (int i = 0; i < n; i++)
        start_thread(worker_main, &sched.allp[i]);
    if (sched.sysmon)
        start_thread(sysmon_main, NULL);
}

void goc__sched_start(void)
{
    if (likely(atomic_load_explicit(&sched.started, memory_order_acquire)))
        return;
    pthread_once(&sched.once, sched_init);
}

void goc__sched_stop(void)
{
    atomic_store_explicit(&sched.stopping, true, memory_order_release);
}

void goc__sched_set_poller(const goc_poller *poller)
{
    sched.poller = poller;
}

int goc_maxprocs(int n)
{
    if (atomic_load_explicit(&sched.started, memory_order_acquire)) {
        if (n > 0 && n != sched.nprocs)
            return -EBUSY;
        return sched.nprocs;
    }
    int prev = sched.nprocs_req > 0 ? sched.nprocs_req : env_int("GOC_MAXPROCS");
    if (prev <= 0)
        prev = goc__os_ncpu();
    if (n > 0)
        sched.nprocs_req = n;
    return prev;
}

int goc_num_goroutine(void) { return (int)goc__ngoroutines(); }

/* Sum over Ps of created - exited (plain threads count in goroutine.c). */
int64_t goc__sched_gcount(void)
{
    int64_t n = 0;
    if (!atomic_load_explicit(&sched.started, memory_order_acquire))
        return 0;
    int np = goc__sched_nallp();
    for (int i = 0; i < np; i++) {
        goc_p *p = &sched.allp[i];
        n += atomic_load_explicit(&p->ncreated, memory_order_relaxed) -
             atomic_load_explicit(&p->nexited, memory_order_relaxed);
    }
    return n;
}
