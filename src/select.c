/* select.c: goc_select, as Go's runtime/select.go builds selectgo.
 *
 * One call:
 *   1. pollorder: the cases with a channel, in a random order (Fisher-Yates
 *      with a per-thread xorshift); lockorder: the same cases sorted by
 *      channel address. Both live on the caller's stack (or the heap for
 *      large n).
 *   2. Pass 0, without locks, in pollorder: the first buffered channel
 *      whose buffer looks ready is locked alone and its case tried; if it
 *      proceeds, that is the call. Otherwise:
 *      lock every channel in lockorder, each once (repeats are adjacent).
 *   3. Pass 1, in pollorder: the first case that can proceed now does so
 *      (the same copies as chan.c's fast paths), the locks are dropped, the
 *      woken partner (if any) is readied, and its index returned. A send
 *      case on a closed channel panics after the unlock.
 *   4. None ready: with default, unlock and return GOC_SELECT_DEFAULT.
 *   5. Pass 2: enqueue a goc_sudog per case (on this stack) on its channel's
 *      queue, all sharing one selectdone word, and park; the park's unlock
 *      function drops the locks. No reference is taken: the caller's cover
 *      every channel until the call returns (goc/chan.h, "Lifetime").
 *   6. A waker claims the select by CAS on selectdone (goc__waitq_dequeue),
 *      does the copy as for a plain waiter, and readies us with param = the
 *      winning sudog. We relock everything, remove the other sudogs from
 *      their queues (a waker that finds one later fails the CAS and skips
 *      it), unlock, and return the winner's index.
 *
 * Locking: channels in address order only, so two selects over the same
 * channels never deadlock. After parking, the unlock function reads the
 * case array (on the parked G's stack) only while it still holds a lock
 * the G needs to get past step 6: once the last lock is dropped it touches
 * nothing of the G's.
 */
#include <errno.h>
#include <stdlib.h>

#include "chan.h"

static __thread uint64_t sel_rng;

/* xorshift64* on a state the caller keeps in a register for one select
 * (loaded from and stored back to sel_rng once). */
static inline uint32_t sel_fastrand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    *state = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static inline uint64_t sel_rng_load(void)
{
    uint64_t x = sel_rng;
    if (unlikely(x == 0))
        x = (((uint64_t)(uintptr_t)&sel_rng * 0x9E3779B97F4A7C15ULL) ^ (uint64_t)goc__nanotime()) | 1;
    return x;
}

/* Uniform in [0, n). */
static inline uint32_t sel_rand_n(uint64_t *state, uint32_t n)
{
    return (uint32_t)(((uint64_t)sel_fastrand(state) * n) >> 32);
}

struct selstate {
    goc_select_case *cases;
    uint16_t *lockorder;
    int nlock;
};

/* In the single P's fast mode one lock-free section covers every channel
 * (chan.h); otherwise each channel's lock, once, in address order. */
static inline void sellock(struct selstate *s)
{
    if (goc__chan_lock_fast())
        return;
    goc_chan *last = NULL;
    for (int i = 0; i < s->nlock; i++) {
        goc_chan *c = s->cases[s->lockorder[i]].ch;
        if (c != last)
            goc__spin_lock_long(&c->lock); /* as goc__chan_lock */
        last = c;
    }
}

static inline void selunlock(struct selstate *s)
{
    if (atomic_load_explicit(&goc__chan_cs, memory_order_relaxed)) {
        atomic_store_explicit(&goc__chan_cs, 0, memory_order_release);
        return;
    }
    goc_chan *last = NULL;
    for (int i = s->nlock - 1; i >= 0; i--) {
        goc_chan *c = s->cases[s->lockorder[i]].ch;
        if (c != last)
            goc__spin_unlock(&c->lock);
        last = c;
    }
}

/* The park's unlock function (see the file comment for why the order of
 * reads and unlocks matters). */
static bool selparkcommit(goc_g *g, void *arg)
{
    (void)g;
    if (atomic_load_explicit(&goc__chan_cs, memory_order_relaxed)) {
        atomic_store_explicit(&goc__chan_cs, 0, memory_order_release);
        return true;
    }
    struct selstate *s = arg;
    goc_select_case *cases = s->cases;
    uint16_t *lockorder = s->lockorder;
    int n = s->nlock;
    goc_chan *last = NULL;
    for (int i = 0; i < n; i++) {
        goc_chan *c = cases[lockorder[i]].ch;
        if (c != last && last)
            goc__spin_unlock(&last->lock);
        last = c;
    }
    if (last)
        goc__spin_unlock(&last->lock);
    return true;
}

static int selectgo(goc_select_case *cases, int n, bool has_default);

static void unlock_all(void *arg) { selunlock(arg); }
static void unlock_one(void *arg) { goc__chan_unlock(arg); }

/* Pass 0's lock-free look: cs's channel is buffered and its buffer has
 * room (send) or a value (receive). Unbuffered channels are left to pass
 * 1: a select's sudog stays queued until that select wakes and unqueues it,
 * long after another case claimed it, so a look at their queues mostly sees
 * stale partners, and reading the lines of channels other Ps are locking
 * costs more than it saves (SelectSyncContended at 2 workers: 550 -> 830
 * ns with such looks). */
static inline bool looks_ready(goc_select_case *cs)
{
    goc_chan *c = cs->ch;
    if (!c->dataqsiz)
        return false;
    size_t n = __atomic_load_n(&c->qcount, __ATOMIC_ACQUIRE);
    return cs->dir == GOC_SELECT_SEND ? n < c->dataqsiz : n > 0;
}

/* Case cs proceeds now if it can, under its channel's lock and whatever
 * others the caller holds, all of which unlock(arg) drops: the same copies
 * as chan.c's paths, then the locks dropped, then the partner (if any)
 * readied; true. A send case on a closed channel panics after the unlock.
 * False: it cannot, and the locks are still held. */
static inline __attribute__((always_inline)) bool try_case(goc_select_case *cs,
                                                           void (*unlock)(void *), void *arg)
{
    goc_chan *c = cs->ch;
    goc_sudog *sg;
    if (cs->dir == GOC_SELECT_SEND) {
        if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
            unlock(arg);
            goc_panic("send on closed channel");
        }
        if ((sg = goc__waitq_dequeue(&c->recvq)) != NULL) {
            goc__chan_send_locked(c, sg, cs->elem);
            unlock(arg);
            goc__chan_wake(sg, true);
            return true;
        }
        if (c->qcount < c->dataqsiz) {
            goc__chan_bufsend_locked(c, cs->elem);
            unlock(arg);
            return true;
        }
        return false;
    }
    if ((sg = goc__waitq_dequeue(&c->sendq)) != NULL) {
        goc__chan_recv_locked(c, sg, cs->elem);
        unlock(arg);
        goc__chan_wake(sg, true);
        cs->ok = true;
        return true;
    }
    if (c->qcount > 0) {
        goc__chan_bufrecv_locked(c, cs->elem);
        unlock(arg);
        cs->ok = true;
        return true;
    }
    if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
        unlock(arg);
        goc__race_acquire(c);
        if (cs->elem)
            memset(cs->elem, 0, c->elemsize);
        cs->ok = false;
        return true;
    }
    return false;
}

int (goc_select)(goc_select_case *cases, int n, bool has_default)
{
    /* One case and a default is what Go compiles to selectnbsend /
     * selectnbrecv. Their failing answer takes no lock and is given here,
     * in a leaf with no frame; everything else is a tail call. */
    if (n == 1 && has_default) {
        goc_select_case *cs = &cases[0];
        goc_chan *c = cs->ch;
        goc__chan_check(c);
        if (c && (cs->dir == GOC_SELECT_SEND ? goc__chan_nbsend_blocks(c)
                                             : goc__chan_nbrecv_blocks(c)))
            return GOC_SELECT_DEFAULT;
    }
    return selectgo(cases, n, has_default);
}

__attribute__((noinline)) static int selectgo(goc_select_case *cases, int n, bool has_default)
{
    /* The try forms (see goc_select). */
    if (n == 1 && has_default)
        return goc__select_try(&cases[0]);
    if (n < 0 || n >= 65536)
        goc_panic("goc_select: bad number of cases %d", n);
    uint16_t small[2 * 16];
    uint16_t *orders = small;
    if (n > 16) {
        orders = malloc(sizeof(uint16_t) * 2 * (size_t)n);
        if (!orders)
            goc__fatal("goc_select: out of memory");
    }
    uint16_t *pollorder = orders, *lockorder = orders + n;

    int chosen = GOC_SELECT_DEFAULT;
    /* Pollorder: a random permutation of the cases with channels. */
    int npoll = 0;
    uint64_t rng = sel_rng_load();
    for (int i = 0; i < n; i++) {
        goc_chan *c = cases[i].ch;
        if (!c)
            continue;
        goc__chan_check(c);
        uint32_t j = npoll ? sel_rand_n(&rng, (uint32_t)npoll + 1) : 0;
        pollorder[npoll] = pollorder[j];
        pollorder[j] = (uint16_t)i;
        npoll++;
    }
    sel_rng = rng;

    /* Pass 0, without locks: the first case in poll order that looks ready
     * (chan.c's lock-free tests) is tried under its own channel's lock
     * alone. Any ready case is a valid choice, and poll order is as random
     * as pass 1's, so this only saves locking the others; a case that
     * stopped being ready meanwhile is passed over, and pass 1 looks at
     * every case again under all the locks. */
    for (int i = 0; i < npoll; i++) {
        int k = pollorder[i];
        goc_select_case *cs = &cases[k];
        goc_chan *c = cs->ch;
        if (!looks_ready(cs))
            continue;
        goc__chan_lock(c);
        if (try_case(cs, unlock_one, c)) {
            chosen = k;
            goto out;
        }
        goc__chan_unlock(c);
    }

    /* Lockorder: by channel address (insertion sort; selects are small). */
    for (int i = 0; i < npoll; i++) {
        uint16_t k = pollorder[i];
        uintptr_t ck = (uintptr_t)cases[k].ch;
        int j = i;
        while (j > 0 && (uintptr_t)cases[lockorder[j - 1]].ch > ck) {
            lockorder[j] = lockorder[j - 1];
            j--;
        }
        lockorder[j] = k;
    }

    if (npoll == 0) {
        if (has_default)
            goto out;
        if (orders != small)
            free(orders);
        goc__park(NULL, NULL, n == 0 ? "select (no cases)" : "select");
        goc__fatal("unreachable");
    }

    struct selstate st = {cases, lockorder, npoll};
    sellock(&st);

    /* Pass 1: the first ready case in poll order. */
    for (int i = 0; i < npoll; i++) {
        int k = pollorder[i];
        if (try_case(&cases[k], unlock_all, &st)) {
            chosen = k;
            goto out;
        }
    }
    if (has_default) {
        selunlock(&st);
        goto out;
    }

    /* Pass 2: wait on every channel. */
    _Atomic uint32_t selectdone = 0;
    goc_sudog sgsmall[16];
    goc_sudog *sgs = sgsmall;
    if (npoll > 16) {
        sgs = calloc((size_t)npoll, sizeof *sgs);
        if (!sgs)
            goc__fatal("goc_select: out of memory");
    }
    goc_g *g = goc__getg();
    for (int i = 0; i < npoll; i++) {
        int k = lockorder[i];
        goc_select_case *cs = &cases[k];
        goc_sudog *sg = &sgs[i];
        *sg = (goc_sudog){.g = g, .elem = cs->elem, .c = cs->ch, .selectdone = &selectdone};
        goc__waitq_enqueue(cs->dir == GOC_SELECT_SEND ? &cs->ch->sendq : &cs->ch->recvq, sg);
        goc__race_release(sg);
    }
    goc_sudog *won = goc__park(selparkcommit, &st, "select");

    sellock(&st);
    for (int i = 0; i < npoll; i++) {
        int k = lockorder[i];
        goc_select_case *cs = &cases[k];
        goc_sudog *sg = &sgs[i];
        if (sg == won)
            chosen = k;
        else
            goc__waitq_remove(cs->dir == GOC_SELECT_SEND ? &cs->ch->sendq : &cs->ch->recvq, sg);
    }
    selunlock(&st);
    if (chosen < 0)
        goc__fatal("goc_select: woken without a case");
    bool success = won->success;
    goc_select_case *cs = &cases[chosen];
    if (!success)
        goc__race_acquire(cs->ch);
    if (sgs != sgsmall)
        free(sgs);
    if (cs->dir == GOC_SELECT_SEND) {
        if (!success)
            goc_panic("send on closed channel");
    } else {
        cs->ok = success;
    }

out:
    if (orders != small)
        free(orders);
    return chosen;
}
