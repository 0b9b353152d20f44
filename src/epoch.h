/* epoch.h: the read-side guard of epoch-based reclamation, shared by the
 * objects that free what concurrent readers may still hold: atomic values
 * (value.c) and sync.Map (map.c, whose file comment argues the scheme's
 * safety).
 *
 * A domain is an epoch word and one counter pair per slot: a slot per
 * worker P, the last one shared by plain threads, each pair inside its
 * user's slot struct (a cache line of its own: the scan takes the address
 * of slot 0's pair and the slots' stride). A guard counts itself in its slot under the
 * parity of the epoch it entered at, re-checking the epoch after the count
 * (seq_cst on both sides: a reclaimer that flipped the epoch and then scans
 * sees the count, or the guard sees the flip and retries), and leaves on
 * the same slot and parity, wherever it runs by then. The epoch may flip
 * from e to e+1 only once parity (e-1) & 1 has drained: its counts sum to
 * zero over all slots (goc__epoch_drained). Flipping, and the limbo lists
 * of what was retired in each parity, are the user's: a value keeps them
 * per slot under spin locks, the map per map under its mutex.
 *
 * Memory: the counters live in the user's domain and die with it. */
#ifndef GOC_EPOCH_H
#define GOC_EPOCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef struct goc__epoch_count {
    _Atomic int64_t n[2]; /* guards inside, by the parity of their epoch */
} goc__epoch_count;

/* The caller's slot of nslots: its worker's, or the last (plain threads; a
 * P beyond the slots, a spare, shares a worker's). */
static inline uint32_t goc__epoch_slot(uint32_t nslots)
{
    goc_p *p = goc__getp();
    uint32_t slot = nslots - 1;
    if (p) {
        slot = (uint32_t)p->id;
        if (unlikely(slot >= nslots - 1))
            slot %= nslots - 1;
    }
    return slot;
}

/* Counts a guard in c; returns the parity to leave with. */
static inline uint32_t goc__epoch_enter(_Atomic uint64_t *epoch, goc__epoch_count *c)
{
    for (;;) {
        uint64_t e = atomic_load_explicit(epoch, memory_order_seq_cst);
        GOC_CHAOS_POINT(); /* the epoch may advance past e */
        atomic_fetch_add_explicit(&c->n[e & 1], 1, memory_order_seq_cst);
        GOC_CHAOS_POINT();
        if (likely(atomic_load_explicit(epoch, memory_order_seq_cst) == e))
            return (uint32_t)(e & 1);
        atomic_fetch_sub_explicit(&c->n[e & 1], 1, memory_order_relaxed);
    }
}

/* Ends a guard of goc__epoch_enter (release: the guard's reads come before
 * a free that sees the count drop). */
static inline void goc__epoch_leave(goc__epoch_count *c, uint32_t parity)
{
    atomic_fetch_sub_explicit(&c->n[parity], 1, memory_order_release);
}

/* No guard of this parity is inside: the counts sum to zero over the
 * nslots pairs starting at first, stride bytes apart. A guard adds and
 * subtracts on one slot, so the scan never sees its -1 without its +1. */
static inline bool goc__epoch_drained(goc__epoch_count *first, size_t stride, uint32_t nslots,
                                      unsigned parity)
{
    int64_t sum = 0;
    for (uint32_t i = 0; i < nslots; i++) {
        goc__epoch_count *c = (goc__epoch_count *)((char *)first + (size_t)i * stride);
        sum += atomic_load_explicit(&c->n[parity], memory_order_seq_cst);
    }
    return sum == 0;
}

#endif
