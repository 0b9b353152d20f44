/* internal.h: the runtime's private types and the contracts between its
 * files. Go's names where the idea is Go's: a G is a goroutine, a P is a
 * worker with its run queue (one OS thread per P in this design), g0 is the
 * P's own thread stack where the scheduler loop runs.
 *
 * Lifetimes. A goroutine's descriptor (struct goc_g) lives at the top of its
 * own stack slot; both are allocated together by stack.c, cached together on
 * exit, and never returned to the system while the process runs (their
 * memory may be, see stack.c). A plain thread that uses goc gets a heap
 * descriptor of its own (G_THREAD) freed when the thread exits.
 *
 * Status of a G, and who may change it:
 *   G_RUNNABLE -> G_RUNNING      the P that takes it from a run queue
 *   G_RUNNING  -> G_RUNNABLE     itself (yield), before switching away
 *   G_RUNNING  -> G_WAITING      itself (park), before switching away
 *   G_WAITING  -> G_RUNNABLE     goc__ready, called by whoever owns the wait
 *                                (only after the park's unlock function ran)
 *   G_RUNNING  -> G_DEAD         itself, on exit; the next G to run on its P
 *                                frees it (its stack is still in use until then)
 *
 * A G that switches away is not visible to other Ps until its context is
 * saved: it is handed to the next context as p->prev and only that context,
 * already running on the other stack, publishes it (sched_post_switch).
 */
#ifndef GOC_INTERNAL_H
#define GOC_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goc/runtime.h"
#include "os/os.h"

#define GOC_INTERNAL __attribute__((visibility("hidden")))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The CPU's spin-wait hint: one pause, kinder to the sibling hyperthread
 * and to the memory bus than a bare reload. */
static inline void goc__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#else
    __asm__ volatile("" ::: "memory");
#endif
}

/* Dekker stores. Where a seq_cst store must not be passed by a later load
 * of another location (each side stores its flag, then loads the other's),
 * the store is written as an exchange. x86 compiles both to an xchg.
 * AArch64 compiles the store to STLR and the exchange to SWPAL. The
 * architecture orders STLR before a later LDAR, but qemu-user (7.2, x86
 * host), which runs our AArch64 tests, does not: with seq_cst stores and
 * loads, examples/races/reorder.c reads 0 twice there. It does order the
 * exchange. */

/* Schedule perturbation (chaos.c). A point: nothing unless built with
 * GOC_CHAOS, where it may hold the thread for a while at random. The coin:
 * heads half the time in GOC_CHAOS and TSan builds (Go's race mode
 * randomizes its scheduler the same way), always tails elsewhere. */
#if GOC_CHAOS
GOC_INTERNAL void goc__chaos(void);
#define GOC_CHAOS_POINT() goc__chaos()
#else
#define GOC_CHAOS_POINT() ((void)0)
#endif
#if GOC_CHAOS || defined(GOC_SANITIZE_THREAD)
GOC_INTERNAL bool goc__chaos_coin(void);
#define GOC_CHAOS_COIN() goc__chaos_coin()
#else
#define GOC_CHAOS_COIN() false
#endif

/* A spin lock for the runtime's short critical sections (the scheduler's,
 * a channel's, a semaphore's): never held across a park or a system call
 * that blocks. A test-and-set whose waiters back off exponentially and soon
 * yield their CPU (lock.c): a lock that two workers hammer then changes
 * hands in runs, the holder relocking a line it still owns, instead of the
 * line moving between cores at every acquisition. Unlock is a plain store. */
typedef struct { _Atomic uint32_t v; } goc_spinlock;
#define GOC_SPINLOCK_INIT {0}
GOC_INTERNAL void goc__spin_lock_wait(goc_spinlock *l);
static inline void goc__spin_lock(goc_spinlock *l)
{
    GOC_CHAOS_POINT();
    /* The taking exchange stays inline even when contended, so that code
     * TSan instruments (tests' fakes) sees the acquire it pairs with. */
    while (unlikely(atomic_exchange_explicit(&l->v, 1, memory_order_acquire)))
        goc__spin_lock_wait(l);
}
/* goc__spin_lock whose waiters stay off longer, so that the holder takes
 * it in longer runs: for locks on the user's data path (channels), where
 * throughput counts more than a waiter's latency (lock.c). */
GOC_INTERNAL void goc__spin_lock_wait_long(goc_spinlock *l);
static inline void goc__spin_lock_long(goc_spinlock *l)
{
    GOC_CHAOS_POINT();
    while (unlikely(atomic_exchange_explicit(&l->v, 1, memory_order_acquire)))
        goc__spin_lock_wait_long(l);
}
/* goc__spin_lock that tells whether it had to wait for another holder. */
static inline bool goc__spin_lock_contended(goc_spinlock *l)
{
    GOC_CHAOS_POINT();
    if (likely(!atomic_exchange_explicit(&l->v, 1, memory_order_acquire)))
        return false;
    goc__spin_lock(l);
    return true;
}
static inline bool goc__spin_trylock(goc_spinlock *l)
{
    GOC_CHAOS_POINT();
    return !atomic_load_explicit(&l->v, memory_order_relaxed) &&
           !atomic_exchange_explicit(&l->v, 1, memory_order_acquire);
}
static inline void goc__spin_unlock(goc_spinlock *l)
{
    atomic_store_explicit(&l->v, 0, memory_order_release);
    GOC_CHAOS_POINT();
}

enum {
    G_FREE = 0, /* in a stack cache, not a goroutine */
    G_RUNNABLE,
    G_RUNNING,
    G_WAITING,
    G_DEAD,
};

enum {
    G_THREAD = 1 << 0, /* a plain thread's descriptor, not a goroutine */
    G_SYSTEM = 1 << 1, /* a P's g0 */
    G_MAIN = 1 << 2,   /* goroutine 1 of goc_main */
};

/* Guard kinds of a stack (stack.c). */
enum { STACK_GUARD_NONE = 0, STACK_GUARD_LIGHT, STACK_GUARD_HEAVY };

struct goc_p;

typedef struct goc_defer_rec {
    goc_fn fn;
    void *arg;
    struct goc_defer_rec *next;
} goc_defer_rec;

struct goc_stack {
    char *base;     /* start of the slot (the guard page, if any) */
    char *lo;       /* lowest usable address: the canary words sit here */
    char *hi;       /* top of the usable stack (the descriptor is above) */
    size_t slot;    /* bytes of the whole slot */
    uint8_t guard;  /* STACK_GUARD_* */
    uint8_t custom; /* 1: its own mapping, not an arena slot */
    unsigned vg_id; /* valgrind's stack id */
};

typedef struct goc_g {
    void *sp;                   /* saved stack pointer while not running */
    struct goc_p *p;            /* the P running it (set when it is switched to) */
    struct goc_g *schedlink;    /* global run queue / wait queue link */
    _Atomic uint32_t status;    /* G_* */
    uint32_t flags;             /* G_THREAD, G_SYSTEM, G_MAIN */
    int64_t id;
    goc_fn fn;
    void *arg;
    goc_defer_rec *defers;          /* LIFO */
    struct goc_waitgroup *done_wg;  /* goc_waitgroup_go: Done after the last defer */
    const char *waitreason;     /* why it is G_WAITING */
    int64_t waitsince;          /* coarse nanotime when it parked */
    void *param;                /* passed by the waker to the parked G */
    const char *name;
    const char *file;           /* where goc_go was called */
    int line;
    int64_t parent;             /* id of the goroutine that started it */
    struct goc_stack stack;
    struct goc_g *cachelink;    /* stack cache link */
    _Atomic uint32_t wake;      /* G_THREAD: futex word, 1 once readied */
    void *race_fiber;           /* TSan fiber */
    void *asan_fake;            /* ASan fake stack while switched out */
} goc_g;

/* The struct holding a member, from the member's address. */
#define GOC__CONTAINER(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* A timer in a P's heap (timer.c). Its fields are guarded by its lock,
 * except idx and owner, which the owner P's heap lock guards. It is
 * embedded in what it times (fire finds that with GOC__CONTAINER), and
 * packed into one cache line: a channel timer is three lines with its
 * channel (timer.c, struct tblock). */
typedef struct goc__tmr {
    goc_spinlock lock;
    bool active;                /* armed: will fire unless stopped */
    bool sent;                  /* goc_timer's: see drain (timer.c) */
    int32_t idx;                /* position in owner's heap, -1 if none */
    _Atomic uint32_t running;   /* popped and being fired: not yet freeable */
    int64_t when;               /* goc__nanotime() it is due */
    int64_t period;             /* > 0: a ticker */
    uint64_t seq;               /* bumped by stop/reset: a fire in flight is void */
    /* Runs on a P's g0 with lock held when the timer fires; may return a G
     * to ready once the timer is no longer touched. */
    goc_g *(*fire)(struct goc__tmr *t, int64_t now);
    /* If set, called once a one-shot timer has fired, after the last touch
     * of it by the firing P: it may free the timer. */
    void (*done)(struct goc__tmr *t);
    struct goc_p *owner;
} goc__tmr;

struct goc__tslot {
    int64_t when;
    goc__tmr *t;                /* low bit set: a sleeping goc_g instead (timer.c) */
};

/* One worker's run queue: Go's lock-free ring, owned by its P (the only one
 * to put), from which other Ps steal half with a CAS on head. runnext holds
 * the G made ready most recently by this P: it runs next, inheriting the
 * rest of the time slice, so a pair that hands work back and forth stays on
 * one core.
 *
 * The ring has RUNQ_SIZE slots, but a put treats it as full at RUNQ_SOFT
 * (Go's 256) and spills half of it to the global queue, except in a burst
 * (p->burst, goc__ready_burst_begin): a close, a Cond broadcast or a
 * semaphore release readying its waiters may fill every slot. The soft limit keeps a spawning tree depth-first
 * (skynet ran 12-17% slower with every put allowed 1,024); a burst of
 * woken goroutines kept in the ring runs in the order it was readied,
 * without each half going through the global queue and back
 * (CancelBroadcast, 1,000 waiters, 15% faster). */
#define RUNQ_SIZE 1024
#define RUNQ_SOFT 256

#define GOC_RSLOTS 7

typedef struct goc_p {
    int id;
    _Atomic uint32_t runqhead;
    _Atomic uint32_t runqtail;
    uint32_t burst;             /* 1 during a burst of readies (only p's thread) */
    goc_g *_Atomic runnext;
    goc_g *_Atomic runq[RUNQ_SIZE];

    goc_g *curg;                /* running G (g0 when in the scheduler) */
    /* Single-P mode (sched.c, st_enter): 1 while this P's thread is in a
     * queue operation that uses no atomics; cleared after every switch. */
    _Atomic uint32_t st_op;
    _Atomic uint32_t schedtick; /* bumped at every switch and scheduler pass (sysmon) */
    goc_g g0;                   /* the worker thread's own stack */
    uint32_t globtick;          /* counts down: at 0, look at the global queue first */
    uint32_t nextstreak;        /* Gs taken from runnext in a row */
    uint32_t pollcheck;         /* switches since the last I/O check */
    uint32_t pollround;         /* I/O checks (sched.c, POLL_ALL_EVERY) */
    bool poll_now;              /* detoured to g0 to poll for I/O */
    uint64_t rng;
    void *rw_central;           /* rwmutex.c: the RWMutex last found with its slots off */

    /* Hand-off from a G that switched away to whatever runs next on this P. */
    goc_g *prev;
    int prev_action;            /* PREV_* (sched.c) */
    bool (*park_unlock)(goc_g *g, void *arg);
    void *park_arg;
    void *unlock_fiber;         /* TSan: where park unlock functions run */

    /* Idle and wake-up (sched.c, under sched.lock). */
    struct goc_p *idlelink;
    bool idle;                  /* on the idle list */
    bool spinning;              /* looking for work, counted in sched.nspinning */
    bool handoff_spinning;      /* woken by wakep: inherits its spinning count */
    _Atomic uint32_t wake;      /* futex word: 1 when told to look for work */
    bool spare;                 /* a monitor-started extra P (sched.c, sysmon) */
    _Atomic bool dormant;       /* a spare that is not in use */
    _Atomic int tid;            /* its thread's id, for the monitor (0 until known) */

    /* Caches owned by this P (stack.c, goroutine.c). */
    goc_g *gfree;               /* dead Gs with their default-size stacks */
    int ngfree;
    int64_t goid_next, goid_end;
    _Atomic int64_t ncreated;   /* goroutines created here (relaxed counters) */
    _Atomic int64_t nexited;    /* goroutines that ended here */
    _Atomic int64_t nsteered;   /* Gs this P put on another P's inbox (tests) */

    /* Timers (timer.c): a 4-ary min-heap under tlock. timer0 is its
     * earliest deadline (INT64_MAX if empty), readable without the lock. */
    goc_spinlock tlock;
    struct goc__tslot *theap;
    uint32_t ntimers;
    _Atomic int64_t timer0;
    void *tfree;                /* free timer blocks (timer.c): this P's thread only */
    _Atomic int cpu;            /* the CPU its thread was last seen on, -1 (sched.c) */

    /* Gs the poller made ready for this P while it was busy
     * (goc__ready_io): a stack via schedlink, pushed by any P and taken
     * whole by this P, or by a thief. On its own line: others write it. */
    _Alignas(64) goc_g *_Atomic inbox;

    /* Read locks taken here (rwmutex.c): each slot is 0 or the address of
     * a goc_rwmutex that one of this P's goroutines read-locked (low bit
     * set while it is still checking for a writer). Only this P's running
     * goroutine fills a slot; any thread may clear one. rreads counts the
     * read locks taken here (only this P writes it). On their own line. */
    _Alignas(64) _Atomic uintptr_t rslot[GOC_RSLOTS];
    _Atomic uint64_t rreads;
} __attribute__((aligned(64))) goc_p;

/* Idle-path hooks for an I/O poller: netpoll.c's epoll poller is installed
 * at start-up unless one was set before (poller_test plugs in a fake).
 * Timers do not use these: the scheduler calls timer.c directly. All hooks
 * are optional. */
typedef struct goc_poller {
    /* Earliest deadline (goc__nanotime) something is due, INT64_MAX if none.
     * Called by an idle P before it sleeps. */
    int64_t (*next_deadline)(goc_p *p);
    /* Runs what is due at now (ready()ing Gs on p). */
    void (*run_due)(goc_p *p, int64_t now);
    /* Waits for I/O until deadline (goc__nanotime; INT64_MAX: no limit; a
     * deadline already past: do not block), ready()ing what became ready.
     * At most one P is in poll at a time. */
    void (*poll)(goc_p *p, int64_t deadline);
    /* Takes, without blocking, the I/O readiness kept for p alone (its own
     * epoll set), ready()ing on p; may run on several Ps at once, and
     * beside poll. False if p has none of its own: then the caller polls. */
    bool (*poll_own)(goc_p *p);
    /* Interrupts a poll in progress (or makes the next one return at once). */
    void (*wake)(void);
    /* True while something outside the run queues can still ready a G
     * (a pending timer, a descriptor being waited on): no deadlock then. */
    bool (*pending)(void);
} goc_poller;

/* The scheduler (sched.c). */
GOC_INTERNAL void goc__sched_start(void);      /* idempotent */
GOC_INTERNAL int goc__sched_nprocs(void);      /* GOMAXPROCS */
/* Ps that exist: the nprocs workers, then the spares the monitor started
 * (sched.c, sysmon). A P's id is below this; loops over Ps use it. */
GOC_INTERNAL int goc__sched_nallp(void);
GOC_INTERNAL int goc__sched_nspare_active(void); /* spares in use now (tests) */
GOC_INTERNAL int64_t goc__sched_nsteered(void);   /* goc__ready_io's hand-overs so far (tests) */
/* Another P is running goroutines (not idle, not spinning): a lock holder
 * may be running and release soon, so spinning on the lock can pay. */
GOC_INTERNAL bool goc__sched_others_running(void);
/* The P the calling thread runs; NULL on a plain thread. A goroutine can
 * move to another thread at any switch, and a compiler that kept the thread
 * pointer (or the variable's address) across one would read the old
 * thread's variable, so every read starts from the thread pointer afresh.
 * On x86-64 (%fs) and AArch64 (TPIDR_EL0) that is an inline volatile asm
 * with initial-exec TLS (a constant offset once linked into an
 * executable), since a call per read was a tenth of a one-worker channel
 * round trip; its "memory" clobber orders it as the call was ordered.
 * Elsewhere it is a call that is never inlined. */
GOC_INTERNAL extern __thread goc_p *goc__tls_p;
#if defined(__x86_64__)
#define GOC_GETP_INLINE 1
static inline goc_p *goc__getp(void)
{
    goc_p *p;
    __asm__ volatile("movq goc__tls_p@gottpoff(%%rip), %0\n\t"
                     "movq %%fs:(%0), %0"
                     : "=r"(p)
                     :
                     : "memory");
    return p;
}
#elif defined(__aarch64__)
#define GOC_GETP_INLINE 1
static inline goc_p *goc__getp(void)
{
    goc_p *p;
    uintptr_t tp;
    __asm__ volatile("adrp %0, :gottprel:goc__tls_p\n\t"
                     "ldr %0, [%0, #:gottprel_lo12:goc__tls_p]\n\t"
                     "mrs %1, tpidr_el0\n\t"
                     "ldr %0, [%1, %0]"
                     : "=&r"(p), "=r"(tp)
                     :
                     : "memory");
    return p;
}
#else
#define GOC_GETP_INLINE 0
GOC_INTERNAL goc_p *goc__getp(void);
#endif
GOC_INTERNAL goc_g *goc__getg(void);           /* current G or thread descriptor */
GOC_INTERNAL void goc__sched_set_poller(const goc_poller *poller);
GOC_INTERNAL void goc__runq_put_new(goc_p *p, goc_g *g); /* a just-created G; p: the caller's */
/* goc_go_at for goc_waitgroup_go: the goroutine calls goc_waitgroup_done(wg)
 * as it ends, after its defers (Go's `defer wg.Done()` as its first
 * statement), with no record or defer allocated. The caller has added 1. */
GOC_INTERNAL int64_t goc__go_wg(struct goc_waitgroup *wg, goc_fn fn, void *arg, const char *file,
                                int line);
/* goc_go_at whose argument is a copy of the size bytes at rec (at most
 * GOC_GO_COPY_MAX), made at the top of the new goroutine's own stack: a
 * closure's captured values, alive as long as the goroutine and freed with
 * it, with no allocation. fn gets the copy's address. */
#define GOC_GO_COPY_MAX 64
GOC_INTERNAL int64_t goc__go_copy(goc_fn fn, const void *rec, size_t size, const char *file,
                                  int line);
GOC_INTERNAL void goc__sched_goexit(goc_g *g) __attribute__((noreturn));
GOC_INTERNAL void goc__sched_after_switch(goc_g *self);
GOC_INTERNAL void goc__sched_stop(void);       /* goc_main: no G runs after this */
GOC_INTERNAL void goc__thread_outside_dec(void);
GOC_INTERNAL void goc__thread_outside_inc(void);
GOC_INTERNAL int64_t goc__sched_gcount(void);   /* goroutines created minus ended on Ps */

/* Park and ready: the one primitive every blocking operation is built on.
 *
 * goc__park(unlock, arg, reason) stops the calling G (or blocks the calling
 * plain thread) until someone calls goc__ready on it. unlock(g, arg) runs
 * after the G's context is saved, on another stack: it typically releases
 * the lock under which the G put itself on a wait queue, so a waker that
 * finds it there can never ready it too early. If unlock returns false the G
 * does not park after all and resumes at once. unlock may be NULL.
 * Returns g->param as set by the waker.
 *
 * goc__ready(g) makes a parked G runnable: on the calling P's runnext slot
 * if the caller is a worker, otherwise on the global queue. Never parks, so
 * it may be called with locks held. It publishes a happens-before edge from
 * the caller to the resumed G. */
GOC_INTERNAL void *goc__park(bool (*unlock)(goc_g *g, void *arg), void *arg,
                             const char *reason);
GOC_INTERNAL void goc__ready(goc_g *g);
/* Brackets a burst of goc__ready calls made with no switch in between (a
 * close, a Cond broadcast, a semaphore release waking its waiters): they
 * may fill the whole run-queue ring (see
 * RUNQ_SOFT). begin returns the caller's P (NULL on a plain thread), to
 * give to end. */
static inline goc_p *goc__ready_burst_begin(void)
{
    goc_p *p = goc__getp();
    if (p)
        p->burst = 1;
    return p;
}

static inline void goc__ready_burst_end(goc_p *p)
{
    if (p)
        p->burst = 0;
}
/* goc__ready for a G whose socket has data that the kernel processed on
 * CPU cpu (negative: not known): it runs on the P whose thread is on that CPU,
 * where the socket's and the data's cache lines are, when that P is busy
 * (in its inbox; an idle one would need waking); else as goc__ready. Called
 * by the poller, on a P. */
GOC_INTERNAL void goc__ready_io(goc_g *g, int cpu);

/* Channels (chan.c): a second thread is about to run goroutines (a spare P):
 * channel sections take real locks from now on. */
GOC_INTERNAL void goc__chan_force_mt(void);

/* Timers (timer.c). add/del take t->lock held by the caller. */
GOC_INTERNAL void goc__timer_add(goc__tmr *t);
GOC_INTERNAL bool goc__timer_del(goc__tmr *t);
/* Runs p's due timers, up to the first that readies a sleeping goroutine
 * (into the caller's runnext; the rest wait for the next switch's detour).
 * On a P's g0 only: a timer may start a goroutine. */
GOC_INTERNAL void goc__timers_run(goc_p *p, int64_t now);
GOC_INTERNAL int64_t goc__timers_next(void);   /* earliest deadline of all Ps */
/* Moves every timer of p (a spare going dormant) to another P's heap. */
GOC_INTERNAL void goc__timers_move(goc_p *from, goc_p *to);
GOC_INTERNAL bool goc__timers_pending(void);
GOC_INTERNAL goc_p *goc__sched_allp(int i);
/* TSan: workers release it once their TLS exists; goroutines acquire it. */
GOC_INTERNAL void *goc__sched_tls_sync(void);
/* Arms t (its fire, arg and lock set up by the caller) for when; stops it
 * and waits until no P is firing it, after which t may be discarded. */
GOC_INTERNAL void goc__tmr_start(goc__tmr *t, int64_t when);
GOC_INTERNAL void goc__tmr_stop_sync(goc__tmr *t);

/* The network poller (netpoll.c), installed as the scheduler's poller. */
GOC_INTERNAL const goc_poller *goc__netpoll(void);
/* Descriptors moved from one worker's epoll set to another's (tests). */
GOC_INTERNAL int64_t goc__netpoll_nmoves(void);
/* Goroutines in I/O wait, alone on its cache line (netpoll.c). */
struct goc__nwait_line {
    _Atomic int32_t n;
    char pad[64 - sizeof(int32_t)];
} __attribute__((aligned(64)));
GOC_INTERNAL extern struct goc__nwait_line goc__nwait_line;
#define goc__netpoll_nwait (goc__nwait_line.n)
/* A timer became the earliest of owner's heap: owner, if idle, or a sleeping
 * P may need to wake earlier. */
GOC_INTERNAL void goc__sched_timer_added(goc_p *owner);

/* Goroutines (goroutine.c). */
GOC_INTERNAL goc_g *goc__thread_g(void);       /* this plain thread's descriptor */
/* Makes sure the calling thread is known to goc (a worker, or a plain
 * thread with its descriptor), one thread-local load when it is: called
 * where a plain thread may start to hold what goroutines can wait for (a
 * lock, a WaitGroup count), so deadlock detection sees it. Never parks. */
GOC_INTERNAL extern __thread bool goc__thread_known;
static inline void goc__thread_touch(void)
{
    if (unlikely(!goc__thread_known))
        (void)goc__getg();
}
GOC_INTERNAL bool goc__main_mode(void);        /* under goc_main */
GOC_INTERNAL bool goc__main_goexited(void);
GOC_INTERNAL int64_t goc__ngoroutines(void);
GOC_INTERNAL void goc__run_defers(goc_g *g);

/* Stacks (stack.c). A G and its stack come and go together. */
GOC_INTERNAL goc_g *goc__stack_alloc(goc_p *p, size_t size);
GOC_INTERNAL void goc__stack_free(goc_p *p, goc_g *g);
#define GOC_STACK_CANARY 64
GOC_INTERNAL bool goc__stack_canary_ok(goc_g *g);
/* The overflow check made at every switch away from g: sp inside the stack,
 * and for an unguarded stack the canary intact. */
static inline bool goc__stack_ok(goc_g *g, const void *sp)
{
    if (unlikely((const char *)sp < g->stack.lo + GOC_STACK_CANARY ||
                 (const char *)sp > g->stack.hi))
        return false;
    return g->stack.guard != STACK_GUARD_NONE || goc__stack_canary_ok(g);
}
GOC_INTERNAL size_t goc__stack_default_size(void);
/* A batch of dead slots is on its way back to the kernel (tests wait for
 * it to land before they read the resident size). */
GOC_INTERNAL bool goc__stack_releasing(void);
/* The prefaulter is awake or a batch of dead slots is being handed back (a
 * hint, read without a lock): a worker spinning for work lets them have
 * the CPU. */
GOC_INTERNAL bool goc__stack_helpers_busy(void);
/* Calls fn for every goroutine descriptor that exists (dump, deadlock). Never
 * parks, takes no lock: reads are racy by design, as Go's traceback is. */
GOC_INTERNAL void goc__stack_foreach(void (*fn)(goc_g *g, void *arg), void *arg);
/* The goroutine whose stack (guard included) holds addr, or NULL. */
GOC_INTERNAL goc_g *goc__stack_owner(const void *addr);

/* Fatal errors and dumps (dump.c). Never park. */
GOC_INTERNAL void goc__fatal(const char *msg) __attribute__((noreturn));
GOC_INTERNAL void goc__fatal_stack_overflow(goc_g *g) __attribute__((noreturn));
GOC_INTERNAL void goc__signals_init(void);
GOC_INTERNAL void goc__signals_init_thread(void);


/* Go's sync spinning (mutex.c): whether round iter (of 30 pauses) of a
 * spin-wait may run: more than one worker, another running, nothing
 * queued on the caller's. */
GOC_INTERNAL bool goc__sync_can_spin(int iter);

/* goc_mutex's state word (mutex.c): LOCKED has byte 0 to itself, so that
 * an unlock may clear it with a byte store that leaves the rest alone. */
enum {
    GOC__MUTEX_LOCKED = 1,
    GOC__MUTEX_WOKEN = 1 << 8,
    GOC__MUTEX_STARVING = 1 << 9,
    GOC__MUTEX_WAITER_SHIFT = 10,
};

/* Runtime wait queue with a semaphore count (sema.c): Go's semacquire /
 * semrelease, FIFO. goc__waitq is declared in goc/sync.h; its lock word is
 * a goc_spinlock. */
#include "goc/sync.h"
GOC_INTERNAL void goc__semacquire(goc__waitq *q, const char *reason);
GOC_INTERNAL uint32_t goc__semrelease(goc__waitq *q, uint32_t n); /* returns Gs woken */
/* lifo: queue at the head (a waiter that waited before). handoff: yield to
 * the woken waiter so it runs at once (sync.Mutex starvation mode); parks
 * nothing, but is a scheduling point. */
GOC_INTERNAL void goc__semacquire1(goc__waitq *q, bool lifo, const char *reason);
GOC_INTERNAL void goc__semrelease1(goc__waitq *q, uint32_t n, bool handoff);
struct goc_ctx;
/* semacquire1 that ctx can end: 0 with a unit, or ctx's error with none
 * (the waiter has left the queue, or never joined it). Never both. */
GOC_INTERNAL int goc__semacquire_ctx(goc__waitq *q, bool lifo, const char *reason,
                                     struct goc_ctx *ctx);

/* A one-shot event (Go's note): one waiter, one wakeup. */
typedef struct { _Atomic uintptr_t state; } goc_note;
GOC_INTERNAL void goc__note_wait(goc_note *n, const char *reason);
GOC_INTERNAL void goc__note_wakeup(goc_note *n);

#endif
