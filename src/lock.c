/* lock.c: the waiting half of the runtime's spin lock (goc__spin_lock in
 * internal.h, which takes the lock with an exchange and calls
 * goc__spin_lock_wait each time that fails).
 *
 * Invariants. l->v is 1 while the lock is held, 0 while it is free; only an
 * exchange that reads 0 takes it, so at most one holder exists. A holder
 * never parks and never blocks in the kernel while it holds the lock, so a
 * waiter only ever waits for a few hundred instructions of someone else's
 * work -- unless the kernel has descheduled the holder, which is why a
 * waiter soon yields its CPU.
 *
 * Back-off. A waiter re-reads the lock (a shared load, no write) between
 * pauses whose number doubles from BACKOFF_MIN to BACKOFF_MAX, and tries
 * the exchange only when it reads 0. Two workers hammering one lock then
 * take it in runs: the holder relocks a cache line it still owns while the
 * waiter stays off it, instead of the line moving at every acquisition.
 * After about BACKOFF_YIELD pauses of waiting it calls sched_yield.
 *
 * Two back-offs. The runtime's own locks (queues, heaps, descriptors)
 * guard steps on the way to waking someone, so their waiters come back
 * soon (BACKOFF_MIN to BACKOFF_MAX pauses). A channel's lock guards the
 * user's data path: its waiters stay off longer (LONG_MIN to LONG_MAX), so
 * the holder does more operations in a row on lines it owns. Measured on
 * 2 workers, channel locks at 32..512 against 4..128: ChanContended
 * 5.8-6.0 -> 1.9-2.0 us, ChanProdCons0 104-105 -> 67-69 ns,
 * SelectSyncContended 362-369 -> 249-256 ns. All locks at 32..512 made
 * net_echo's p99 go from 250-330 to 400-550 us, which is why the runtime's
 * keep the short one. */
#define _GNU_SOURCE
#include <sched.h>

#include "internal.h"

enum {
    BACKOFF_MIN = 4,
    BACKOFF_MAX = 128,
    LONG_MIN = 32,
    LONG_MAX = 512,
    BACKOFF_YIELD = 1024,
};

/* Returns once l reads free (taking it is the caller's exchange). */
static inline void wait_free(goc_spinlock *l, uint32_t backoff, uint32_t max)
{
    uint32_t waited = 0;
    do {
        for (uint32_t i = 0; i < backoff; i++)
            goc__cpu_relax();
        waited += backoff;
        if (backoff < max)
            backoff *= 2;
        if (waited >= BACKOFF_YIELD) {
            sched_yield();
            waited = 0;
        }
    } while (atomic_load_explicit(&l->v, memory_order_relaxed));
}

void goc__spin_lock_wait(goc_spinlock *l) { wait_free(l, BACKOFF_MIN, BACKOFF_MAX); }

void goc__spin_lock_wait_long(goc_spinlock *l) { wait_free(l, LONG_MIN, LONG_MAX); }
