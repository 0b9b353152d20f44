/* waitgroup.c: sync.WaitGroup, as Go builds it.
 *
 * state packs the counter (high 32 bits, signed) and the number of waiters
 * (low 32 bits) so that Add and Wait agree on both with one atomic
 * operation. Waiters sleep on the embedded wait queue's semaphore. When the
 * counter drops to zero with waiters present, Add zeroes the whole state
 * and releases exactly that many waiters; the state must not change
 * meanwhile, which is what Go's misuse panics check.
 *
 * goc_waitgroup_go allocates nothing: the goroutine carries the WaitGroup
 * (goroutine.c, g->done_wg) and calls Done after its last deferred call,
 * on goc_exit too, as `defer wg.Done()` would.
 *
 * Happens-before: every Done publishes to the Wait that returns (TSan is
 * told through race_release/race_acquire on the WaitGroup).
 */
#include <errno.h>

#include "goc/sync.h"
#include "internal.h"
#include "race.h"

void goc_waitgroup_init(goc_waitgroup *wg)
{
    *wg = (goc_waitgroup)GOC_WAITGROUP_INIT;
}

void goc_waitgroup_add(goc_waitgroup *wg, int delta)
{
    goc__thread_touch(); /* a thread that owes a Done can wake goroutines */
    if (delta < 0)
        goc__race_release(wg);
    uint64_t state = __atomic_add_fetch(&wg->state, (uint64_t)(int64_t)delta << 32,
                                        __ATOMIC_ACQ_REL);
    int32_t v = (int32_t)(state >> 32);
    uint32_t w = (uint32_t)state;
    if (v < 0)
        goc_panic("sync: negative WaitGroup counter");
    if (w != 0 && delta > 0 && v == delta)
        goc_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    if (v > 0 || w == 0)
        return;
    /* Counter is zero and there are waiters: nobody may touch the state
     * now but us. */
    GOC_CHAOS_POINT();
    if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) != state)
        goc_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    __atomic_store_n(&wg->state, 0, __ATOMIC_RELEASE);
    goc__semrelease(&wg->q, w);
}

void goc_waitgroup_done(goc_waitgroup *wg) { goc_waitgroup_add(wg, -1); }

void goc_waitgroup_wait(goc_waitgroup *wg)
{
    uint64_t state = __atomic_load_n(&wg->state, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((int32_t)(state >> 32) == 0) {
            goc__race_acquire(wg);
            return;
        }
        GOC_CHAOS_POINT(); /* the count may reach zero before we add ourselves */
        if (__atomic_compare_exchange_n(&wg->state, &state, state + 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE)) {
            goc__semacquire(&wg->q, "sync.WaitGroup.Wait");
            GOC_CHAOS_POINT(); /* woken: between the last Done and the reuse check */
            if (__atomic_load_n(&wg->state, __ATOMIC_ACQUIRE) != 0)
                goc_panic("sync: WaitGroup is reused before previous Wait has returned");
            goc__race_acquire(wg);
            return;
        }
    }
}

int64_t goc_waitgroup_go_at(goc_waitgroup *wg, goc_fn fn, void *arg, const char *file, int line)
{
    if (!fn)
        return -EINVAL;
    goc_waitgroup_add(wg, 1);
    int64_t id = goc__go_wg(wg, fn, arg, file, line);
    if (id < 0)
        goc_waitgroup_add(wg, -1);
    return id;
}
