/* rwmutex.c: sync.RWMutex, as Go builds it (sync/rwmutex.go).
 *
 * reader_count counts the readers that hold the lock or wait for it. A
 * writer announces itself by subtracting MAX_READERS from it, so
 *   reader_count >= 0   no writer: RLock is one atomic add;
 *   reader_count < 0    a writer holds w and is pending or active: RLock
 *                       waits on reader_sem (writer preference). Like
 *                       Go, it parks at once: spinning for the unit was
 *                       measured slower (config_rwmutex 499 vs 315 ns).
 * When a writer announces itself, the r readers active at that moment are
 * added to reader_wait; each of them, leaving, decrements it, and the last
 * one releases writer_sem, on which the writer waits. Readers that arrive
 * after the announcement count themselves in reader_count only, and the
 * writer's Unlock releases exactly that many units of reader_sem. w
 * serialises writers, so at most one writer ever touches reader_wait.
 *
 * Happens-before, for TSan (this file is not instrumented), as Go's race
 * annotations: RUnlock releases (merging) on writer_sem, Lock acquires on
 * reader_sem and writer_sem; Unlock releases on reader_sem, RLock acquires
 * on it. Readers are not ordered with each other.
 */
#include "goc/sync.h"
#include "internal.h"
#include "race.h"

#define MAX_READERS (1 << 30)

void goc_rwmutex_init(goc_rwmutex *rw) { *rw = (goc_rwmutex)GOC_RWMUTEX_INIT; }

void goc_rwmutex_rlock(goc_rwmutex *rw)
{
    goc__thread_touch();
    if (__atomic_add_fetch(&rw->reader_count, 1, __ATOMIC_ACQ_REL) < 0)
        /* A writer is pending: wait for it. */
        goc__semacquire1(&rw->reader_sem, false, "sync.RWMutex.RLock");
    goc__race_acquire(&rw->reader_sem);
}

bool goc_rwmutex_tryrlock(goc_rwmutex *rw)
{
    goc__thread_touch();
    int32_t c = __atomic_load_n(&rw->reader_count, __ATOMIC_RELAXED);
    for (;;) {
        if (c < 0)
            return false;
        if (__atomic_compare_exchange_n(&rw->reader_count, &c, c + 1, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            goc__race_acquire(&rw->reader_sem);
            return true;
        }
    }
}

static void runlock_slow(goc_rwmutex *rw, int32_t r)
{
    if (r + 1 == 0 || r + 1 == -MAX_READERS)
        goc__fatal("sync: RUnlock of unlocked RWMutex");
    /* A writer is pending: the last reader it waits for unblocks it. */
    if (__atomic_sub_fetch(&rw->reader_wait, 1, __ATOMIC_ACQ_REL) == 0)
        goc__semrelease1(&rw->writer_sem, 1, false);
}

void goc_rwmutex_runlock(goc_rwmutex *rw)
{
    goc__race_release(&rw->writer_sem);
    int32_t r = __atomic_sub_fetch(&rw->reader_count, 1, __ATOMIC_ACQ_REL);
    if (unlikely(r < 0))
        runlock_slow(rw, r);
}

void goc_rwmutex_lock(goc_rwmutex *rw)
{
    /* First, resolve competition with other writers. */
    goc_mutex_lock(&rw->w);
    /* Announce to readers there is a pending writer. */
    int32_t r = __atomic_sub_fetch(&rw->reader_count, MAX_READERS, __ATOMIC_ACQ_REL) + MAX_READERS;
    /* Wait for active readers. */
    if (r != 0 && __atomic_add_fetch(&rw->reader_wait, r, __ATOMIC_ACQ_REL) != 0)
        goc__semacquire1(&rw->writer_sem, false, "sync.RWMutex.Lock");
    goc__race_acquire(&rw->reader_sem);
    goc__race_acquire(&rw->writer_sem);
}

bool goc_rwmutex_trylock(goc_rwmutex *rw)
{
    if (!goc_mutex_trylock(&rw->w))
        return false;
    int32_t zero = 0;
    if (!__atomic_compare_exchange_n(&rw->reader_count, &zero, -MAX_READERS, false,
                                     __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
        goc_mutex_unlock(&rw->w);
        return false;
    }
    goc__race_acquire(&rw->reader_sem);
    goc__race_acquire(&rw->writer_sem);
    return true;
}

void goc_rwmutex_unlock(goc_rwmutex *rw)
{
    goc__race_release(&rw->reader_sem);
    /* Announce to readers there is no active writer. */
    int32_t r = __atomic_add_fetch(&rw->reader_count, MAX_READERS, __ATOMIC_ACQ_REL);
    if (r >= MAX_READERS)
        goc__fatal("sync: Unlock of unlocked RWMutex");
    /* Unblock the readers that arrived meanwhile. */
    if (r > 0)
        goc__semrelease(&rw->reader_sem, (uint32_t)r);
    /* Allow other writers to proceed. */
    goc_mutex_unlock(&rw->w);
}
