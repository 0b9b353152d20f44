/* mutex.c: sync.Mutex, as Go builds it (sync/mutex.go).
 *
 * state packs three bits and a count:
 *   LOCKED    the mutex is held;
 *   WOKEN     a goroutine is awake and competing for it (spinning, or woken
 *             by Unlock and not yet back in the queue): Unlock need not wake
 *             another;
 *   STARVING  starvation mode (below);
 *   state >> WAITER_SHIFT   goroutines queued (or about to queue) on sema.
 * sema is the runtime semaphore (sema.c) the waiters park on; a waiter that
 * counted itself in state may find a unit already released to it before it
 * parks, which the semaphore's count covers.
 *
 * Fairness. The mutex has two modes of operation, normal and starvation.
 * In normal mode waiters are queued in FIFO order, but a woken waiter does
 * not own the mutex: it competes with goroutines that arrive meanwhile,
 * which are already running and usually win. A waiter that loses goes back
 * to the head of the queue (semacquire1 lifo). A waiter that has failed to
 * get the mutex for over 1 ms switches it to starvation mode: Unlock then
 * hands the mutex directly to the waiter at the head of the queue, arriving
 * goroutines neither take it nor spin but queue at the tail. A waiter that
 * receives the mutex and is the last in the queue, or waited under 1 ms,
 * switches back to normal mode. Normal mode is much faster (one goroutine
 * can lock the mutex many times in a row); starvation mode bounds the tail
 * latency.
 *
 * Giving up (goc_mutex_lock_ctx). Unlike Go's, a counted waiter may leave:
 * once its context ends it withdraws from sema (sema.c decides, under the
 * queue's lock, whether it was released or withdrew) and then from the
 * count (withdraw). Where the count says a unit is already on its way to
 * it (normal mode and an Unlock counted it off with WOKEN; starvation mode,
 * unlocked, it the only waiter) it takes that unit instead and goes on as a
 * woken waiter. Because waiters can leave, every decision that depends on
 * the count (leaving starvation mode on a hand-off) is a CAS on the state
 * that read it, never an add computed from an earlier load.
 *
 * Spinning: only on a multicore machine (more than one worker), at most
 * SPIN_ROUNDS rounds of 30 pauses, and only while the spinner's own run
 * queue is empty: a cooperative scheduler must not let queued goroutines
 * wait on a spinner. Go spins four rounds; spinning pays while the wait it
 * saves costs more than parking and being readied, which costs a fraction
 * of Go's here, so goc spins two. On 2 workers, 4 -> 2 rounds: mutex_8
 * 41.5-41.6 -> 26.0 ns, mutex_1000 45-47 -> 36-37 ns; config_mutex,
 * config_rwmutex, rwmutex_read, Singleflight, ErrgroupFanout unchanged (1
 * round: 23 and 34-36 ns; 0: 22 and 35-39).
 *
 * Unlocking without a read-modify-write. Go's Unlock is an atomic add,
 * because a waiter may be counting itself in the same word at that moment.
 * Here LOCKED has byte 0 of the state to itself, so an unlock can clear it
 * with a plain byte store that leaves the other bits as they are. Without
 * a fence after it, though, nothing it reads next is ordered after the
 * store (store-load reordering), and a goroutine that counts itself as a
 * waiter meanwhile, seeing LOCKED still set, would park unseen. So the
 * plain unlock is used only while the mutex has never had a waiter
 * (shared == 0) and Linux's membarrier is usable (plain_unlock): the first
 * goroutine to count itself as a waiter sets shared, issues membarrier
 * (every thread of the process executes a full barrier: an unlock that had
 * cleared LOCKED has now made that visible, and one that had not yet will
 * read shared as set once it has), and then does for such an unlock what
 * it would have done: wake a waiter if the mutex is free and nobody is
 * awake (make_shared). An unlock that finds shared set after its store
 * fences and reads the state, so that waiters who counted themselves
 * after the flip, with no membarrier of their own, are seen too. From then
 * on unlocks take Go's atomic add. A mutex that is never waited for (most are) thus
 * costs one locked instruction per lock and unlock instead of two.
 *
 * Happens-before, for TSan (this file is not instrumented): Unlock releases
 * on the mutex's address before the store or the atomic that drops LOCKED;
 * every way of taking the mutex acquires on it afterwards, as Go's race
 * annotations do.
 */
#include "goc/context.h"
#include "goc/sync.h"
#include "internal.h"
#include "race.h"

enum {
    LOCKED = GOC__MUTEX_LOCKED,
    WOKEN = GOC__MUTEX_WOKEN,
    STARVING = GOC__MUTEX_STARVING,
    WAITER_SHIFT = GOC__MUTEX_WAITER_SHIFT,
    WAITER_MAX = INT32_MAX >> WAITER_SHIFT, /* 2,097,151 waiters */
};

/* Plain unlocks may be used (see the file comment): decided once, before
 * any mutex can be used, since a waiter issues membarrier only if so. */
static bool plain_unlock;

__attribute__((constructor)) static void mutex_setup(void)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    plain_unlock = goc__os_membarrier_usable();
#endif
}

#define STARVATION_THRESHOLD_NS 1000000
#define SPIN_ROUNDS 2

static inline int32_t load_state(goc_mutex *m)
{
    return __atomic_load_n(&m->state, __ATOMIC_RELAXED);
}

static inline bool cas_state(goc_mutex *m, int32_t *old, int32_t new)
{
    GOC_CHAOS_POINT(); /* the state read may go stale */
    return __atomic_compare_exchange_n(&m->state, old, new, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_RELAXED);
}

/* Go's runtime_canSpin: SPIN_ROUNDS rounds, on more than one worker, with
 * another worker running (the holder may be on it), and never while
 * goroutines are queued on the spinner's own worker. */
static bool sync_can_spin(int iter)
{
    if (iter >= SPIN_ROUNDS || goc__sched_nprocs() <= 1 || !goc__sched_others_running())
        return false;
    goc_p *p = goc__getp();
    if (!p)
        return true; /* a plain thread holds no queue */
    return atomic_load_explicit(&p->runnext, memory_order_relaxed) == NULL &&
           atomic_load_explicit(&p->runqhead, memory_order_relaxed) ==
               atomic_load_explicit(&p->runqtail, memory_order_relaxed);
}

/* One round: 30 pauses (Go's procyield(active_spin_cnt)). */
static void sync_spin(void)
{
    for (int i = 0; i < 30; i++)
        goc__cpu_relax();
}

void goc_mutex_init(goc_mutex *m) { *m = (goc_mutex)GOC_MUTEX_INIT; }

/* Unlock's part in normal mode, from a state read after LOCKED was
 * dropped: wakes one waiter unless nobody waits, or somebody already took
 * the mutex, was woken or starved it. */
static void wake_one(goc_mutex *m, int32_t old)
{
    for (;;) {
        if ((old >> WAITER_SHIFT) == 0 || (old & (LOCKED | WOKEN | STARVING)))
            return;
        /* Take the right to wake one waiter. */
        int32_t new = (old - (1 << WAITER_SHIFT)) | WOKEN;
        if (cas_state(m, &old, new)) {
            goc__semrelease1(&m->sema, 1, false);
            return;
        }
    }
}

/* Called by a goroutine that has just counted itself as a waiter, while
 * shared was 0: the first one ends plain unlocks (the file comment). */
static void make_shared(goc_mutex *m)
{
    uint32_t zero = 0;
    if (!__atomic_compare_exchange_n(&m->shared, &zero, 1, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_RELAXED) ||
        !plain_unlock)
        return;
    GOC_CHAOS_POINT(); /* a plain unlock may run now */
    goc__os_membarrier();
    /* A plain unlock before the barrier may have missed us: if the mutex
     * is free with nobody awake, wake a waiter (perhaps ourselves: the
     * unit then waits in the semaphore for our acquire). */
    wake_one(m, load_state(m));
}

/* A waiter that ctx has taken out of the queue (it owns no unit) but that
 * is still counted in state: uncount it. Returns false where it cannot,
 * because the unit meant for it is on its way and must be taken (the
 * caller then waits for it, uncancellably and briefly, and carries on as a
 * woken waiter, so that the wake-up or the handoff is passed on, not lost):
 *  - normal mode, no waiter counted: an Unlock has uncounted us already
 *    (they are anonymous: it took "a" waiter off the count, and we are the
 *    only one left) and is releasing our unit, with WOKEN set for us;
 *  - starvation mode, unlocked, we the only waiter counted: an Unlock is
 *    handing the mutex over (Unlock does not uncount in starvation mode).
 * The last waiter to leave a locked starving mutex ends starvation mode,
 * as the last waiter to be handed it would: nobody is left to hand it to. */
static bool withdraw(goc_mutex *m)
{
    int32_t old = load_state(m);
    for (;;) {
        int32_t waiters = old >> WAITER_SHIFT, new = old - (1 << WAITER_SHIFT);
        if (!(old & STARVING)) {
            if (waiters == 0)
                return false;
        } else if (waiters == 1) {
            if (!(old & LOCKED))
                return false;
            new &= ~STARVING;
        }
        if (cas_state(m, &old, new))
            return true;
    }
}

/* ctx NULL: waits until the mutex is ours (returns 0). Otherwise returns
 * ctx's error if it ends while we would have to wait; then we hold no lock,
 * are not counted in state, and own no WOKEN. */
static int lock_slow(goc_mutex *m, goc_ctx *ctx)
{
    int64_t wait_start = 0;
    bool starving = false, awoke = false;
    int iter = 0;
    int32_t old = load_state(m);
    for (;;) {
        /* Spin while it is locked in normal mode and spinning can pay off.
         * Setting WOKEN tells Unlock not to wake a waiter meanwhile. */
        if ((old & (LOCKED | STARVING)) == LOCKED && sync_can_spin(iter)) {
            if (!awoke && !(old & WOKEN) && (old >> WAITER_SHIFT) != 0 &&
                cas_state(m, &old, old | WOKEN))
                awoke = true;
            sync_spin();
            iter++;
            old = load_state(m);
            continue;
        }
        int err;
        if (ctx && (old & (LOCKED | STARVING)) && (err = goc_ctx_err(ctx))) {
            /* We would wait, and ctx has ended. A WOKEN we own goes: the
             * mutex is held, or being handed over, so its Unlock (or the
             * handoff's receiver) wakes whoever is next. */
            if (awoke) {
                if (!(old & WOKEN))
                    goc__fatal("sync: inconsistent mutex state");
                if (!cas_state(m, &old, old & ~WOKEN))
                    continue;
            }
            return err;
        }
        int32_t new = old;
        /* Don't try to take a starving mutex: arrivals must queue. */
        if (!(old & STARVING))
            new |= LOCKED;
        if (old & (LOCKED | STARVING)) {
            if (unlikely((old >> WAITER_SHIFT) == WAITER_MAX))
                goc__fatal("sync: too many goroutines waiting on one mutex");
            new += 1 << WAITER_SHIFT;
        }
        /* Switch to starvation mode only while it is locked: an unlocked
         * starving mutex expects an Unlock to hand it over. */
        if (starving && (old & LOCKED))
            new |= STARVING;
        if (awoke) {
            /* We were woken (or set WOKEN while spinning): clear it either way. */
            if (!(new & WOKEN))
                goc__fatal("sync: inconsistent mutex state");
            new &= ~WOKEN;
        }
        if (!cas_state(m, &old, new))
            continue; /* old was reloaded by the failed CAS */
        if (!(old & (LOCKED | STARVING)))
            break; /* taken with the CAS */
        /* Counted as a waiter. */
        GOC_CHAOS_POINT(); /* an unlock may run before we are seen */
        if (unlikely(!__atomic_load_n(&m->shared, __ATOMIC_RELAXED)))
            make_shared(m);
        /* A waiter that has waited before queues at the front. */
        GOC_CHAOS_POINT(); /* counted, not yet queued on the semaphore */
        bool lifo = wait_start != 0;
        if (wait_start == 0)
            wait_start = goc__nanotime();
        if (!ctx) {
            goc__semacquire1(&m->sema, lifo, "sync.Mutex.Lock");
        } else if ((err = goc__semacquire_ctx(&m->sema, lifo, "sync.Mutex.Lock", ctx))) {
            if (withdraw(m))
                return err;
            goc__semacquire1(&m->sema, true, "sync.Mutex.Lock");
        }
        starving = starving || goc__nanotime() - wait_start > STARVATION_THRESHOLD_NS;
        old = load_state(m);
        if (old & STARVING) {
            /* Handed to us in starvation mode: the state says unlocked with
             * us counted as a waiter; fix both up. */
            /* A CAS, not an add: a cancelled waiter may leave the count
             * meanwhile, and whether we are the last one decides whether
             * starvation mode ends (an add from a stale count once left
             * STARVING set on a mutex nobody waited for). */
            for (;;) {
                if ((old & (LOCKED | WOKEN)) || (old >> WAITER_SHIFT) == 0)
                    goc__fatal("sync: inconsistent mutex state");
                int32_t new = old + LOCKED - (1 << WAITER_SHIFT);
                if (!starving || (old >> WAITER_SHIFT) == 1)
                    new &= ~STARVING; /* leave starvation mode */
                if (cas_state(m, &old, new))
                    break;
            }
            break;
        }
        awoke = true;
        iter = 0;
    }
    return 0;
}

void goc_mutex_lock(goc_mutex *m)
{
    goc__thread_touch(); /* a plain thread holding it can wake goroutines */
    int32_t old = 0;
    if (unlikely(!__atomic_compare_exchange_n(&m->state, &old, LOCKED, false, __ATOMIC_ACQUIRE,
                                              __ATOMIC_RELAXED)))
        lock_slow(m, NULL);
    goc__race_acquire(m);
}

int goc_mutex_lock_ctx(goc_mutex *m, goc_ctx *ctx)
{
    /* A context that has ended fails the call even if the mutex is free,
     * as every context-aware call does. */
    int err = goc_ctx_err(ctx);
    if (err)
        return err;
    goc__thread_touch();
    int32_t old = 0;
    if (unlikely(!__atomic_compare_exchange_n(&m->state, &old, LOCKED, false, __ATOMIC_ACQUIRE,
                                              __ATOMIC_RELAXED)) &&
        (err = lock_slow(m, ctx)))
        return err;
    goc__race_acquire(m);
    return 0;
}

bool goc_mutex_trylock(goc_mutex *m)
{
    goc__thread_touch();
    int32_t old = load_state(m);
    if (old & (LOCKED | STARVING))
        return false;
    /* There may be a goroutine waiting for the mutex, but we are running
     * now and can try to grab it before it wakes up. */
    if (!__atomic_compare_exchange_n(&m->state, &old, old | LOCKED, false, __ATOMIC_ACQUIRE,
                                     __ATOMIC_RELAXED))
        return false;
    goc__race_acquire(m);
    return true;
}

static void unlock_slow(goc_mutex *m, int32_t new)
{
    if (!((new + LOCKED) & LOCKED))
        goc__fatal("sync: unlock of unlocked mutex");
    if (new & STARVING) {
        /* Hand the mutex to the first waiter and let it run at once. It
         * sets LOCKED itself; meanwhile STARVING keeps arrivals away. */
        goc__semrelease1(&m->sema, 1, true);
        return;
    }
    wake_one(m, new);
}

/* Unlock by a byte store, for a mutex nobody has waited for yet (the file
 * comment says why that is enough). */
static inline void unlock_plain(goc_mutex *m)
{
    uint8_t *locked = (uint8_t *)&m->state; /* LOCKED's byte: little-endian */
    if (unlikely(!__atomic_load_n(locked, __ATOMIC_RELAXED)))
        goc__fatal("sync: unlock of unlocked mutex");
    __atomic_store_n(locked, 0, __ATOMIC_RELEASE);
    GOC_CHAOS_POINT(); /* a waiter may count itself and flip shared now */
    /* Program order from here on is what a waiter's membarrier pairs with:
     * keep the compiler from hoisting the load above the store. Only
     * shared is read (a load of the state word, which the byte store
     * overlaps, would wait for the store to complete): a waiter that
     * counted itself before it is set issues membarrier and looks at the
     * state itself (make_shared). */
    atomic_signal_fence(memory_order_seq_cst);
    if (unlikely(__atomic_load_n(&m->shared, __ATOMIC_RELAXED))) {
        /* A waiter came meanwhile: those counted after the flip issue no
         * membarrier, so see them with a fence. */
        atomic_thread_fence(memory_order_seq_cst);
        wake_one(m, load_state(m));
    }
}

void goc_mutex_unlock(goc_mutex *m)
{
    goc__race_release(m);
    if (likely(plain_unlock) && likely(!__atomic_load_n(&m->shared, __ATOMIC_RELAXED))) {
        unlock_plain(m);
        return;
    }
    int32_t new = __atomic_sub_fetch(&m->state, LOCKED, __ATOMIC_RELEASE);
    if (unlikely(new != 0)) {
        GOC_CHAOS_POINT(); /* unlocked: others may take it before we wake one */
        unlock_slow(m, new);
    }
}

/* sync_can_spin for rwmutex.c, which spins a pause at a time. */
bool goc__sync_can_spin(int iter) { return sync_can_spin(iter); }
