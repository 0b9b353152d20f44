/* rwmutex.c: sync.RWMutex, as Go builds it (sync/rwmutex.go), with the
 * read locks that goroutines take counted on their own worker.
 *
 * Two places count readers:
 *
 *   the worker's slots   a goroutine's rlock puts the mutex's address in a
 *                        free slot of its P (goc_p.rslot, one cache line of
 *                        GOC_RSLOTS per P): one locked instruction on a
 *                        line no other core writes, where Go's readers all
 *                        add to one shared counter whose line moves from
 *                        core to core at every lock.
 *   reader_count         Go's counter, for every other reader: a plain
 *                        thread, a P whose slots are all taken, a reader
 *                        that met a writer, and every reader once the
 *                        mutex's slots are off (below).
 *
 * reader_count is Go's: a writer announces itself by subtracting
 * MAX_READERS, so reader_count < 0 means a writer holds w and is pending or
 * active; readers that then arrive count themselves in reader_count and
 * wait on reader_sem (writer preference), and the writer's unlock releases
 * exactly that many units. The r readers counted in reader_count when the
 * writer announced itself are added to reader_wait; each of them, leaving,
 * decrements it, and the last one releases writer_sem. Then the writer
 * waits for the slots: it scans every P's slots for its mutex and parks
 * (writer_slots) until none holds it; a reader that empties a slot while
 * reader_count < 0 readies it.
 *
 * The slot protocol. A slot is 0, rw | 1 (tentative: its reader has not
 * yet seen reader_count) or rw (held). Only the goroutine running on the
 * slot's P fills a slot, and it does not switch between filling it and
 * settling it, so a filled slot's P never races with itself; any thread
 * may clear a held slot, with a compare-and-swap, never a tentative one.
 *   rlock   exchange a free slot to rw | 1, then load reader_count and
 *           nobias (all sequentially consistent): a writer or the slots
 *           off, store 0 and count in reader_count instead; else store rw
 *           (held). Against a writer's subtraction then scan, also
 *           sequentially consistent, either the writer sees the slot (and
 *           waits for it) or the reader sees the writer (and backs out):
 *           Dekker's pattern.
 *   runlock clear a slot holding rw, in its own P's line first; then, when
 *           reader_count < 0, ready the parked writer. The writer stores
 *           writer_slots before its last scan, the reader clears its slot
 *           before it exchanges writer_slots: one of them sees the other.
 * Read holds are interchangeable: a runlock releases whichever hold it
 * finds, so a goroutine that moved to another P, or another goroutine or
 * thread (Go allows both), clears a slot elsewhere or, when reader_count
 * counts readers and no writer waits, takes one of those. Throughout, the
 * slots holding rw plus the readers in reader_count (less those waiting)
 * equal the read holds, so no slot outlives the last hold. A runlock that
 * finds no slot anywhere (scanned twice, for a slot moving between lines
 * during the first pass) and nothing in reader_count is Go's misuse: "sync:
 * RUnlock of unlocked RWMutex".
 *
 * Slots off. A writer's scan reads every P's slot line, a line transfer
 * for each P that took a read lock since; that pays only while reads
 * outnumber writes. A writer that sees fewer than BIAS_READS read locks
 * (of any RWMutex: what the Ps count) per write over BIAS_SAMPLE writes
 * turns the mutex's slots off for good, and from then on it is Go's
 * RWMutex: nobias goes 0 (on) -> 2 (no new slot settles, old ones may be
 * held) -> 1 (none held: the writer that set 2 waited for the slots before
 * it set 1). Off for good is what lets a P remember it (rw_central) and
 * skip both the slots and the load of nobias, which on a mutex whose
 * counter line both cores write would fetch that line twice (shared, then
 * exclusive for the add): config_rwmutex took 12% longer than with Go's
 * counter alone, 2-5% with the hint. A hint can outlive its mutex (the
 * memory made a new RWMutex, slots on): rlock drops it when it sees the
 * slots on, runlock_hinted_slow when a decrement made on the hint alone
 * goes below zero.
 *
 * With GOMAXPROCS 1 (one_worker) no slot is ever filled: there is no other
 * core to keep a line from.
 *
 * Locking. w serialises writers; wcount, rsnap and nobias's changes belong
 * to the writer holding it. A slot line is filled only by its P's running
 * goroutine (above); rreads and rw_central only by that P.
 *
 * Waiting. A writer waits for slots, and a reader held back by a writer
 * waits for it, on the spot while goc_mutex would spin (two rounds of 30
 * pauses), checking at every pause: a pause is 24 ns on the AMD VM, and
 * checking once a round made rwmutex_read 13.5-14 ns instead of 8.7. Then
 * they park, as in Go.
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
#define SC __ATOMIC_SEQ_CST
#define SPIN_PAUSES 30 /* a round of goc__sync_can_spin */

void goc_rwmutex_init(goc_rwmutex *rw) { *rw = (goc_rwmutex)GOC_RWMUTEX_INIT; }

/* A free slot of p's, tentatively rw's; -1 if p has none free. */
static int slot_try(goc_p *p, goc_rwmutex *rw)
{
    for (int k = 0; k < GOC_RSLOTS; k++)
        if (atomic_load_explicit(&p->rslot[k], memory_order_relaxed) == 0) {
            atomic_exchange_explicit(&p->rslot[k], (uintptr_t)rw | 1, memory_order_seq_cst);
            return k;
        }
    return -1;
}

/* Clears one of p's slots holding rw; false if none does. */
static bool slot_clear(goc_p *p, goc_rwmutex *rw)
{
    for (int k = 0; k < GOC_RSLOTS; k++) {
        uintptr_t v = (uintptr_t)rw;
        if (atomic_load_explicit(&p->rslot[k], memory_order_relaxed) == v &&
            atomic_compare_exchange_strong_explicit(&p->rslot[k], &v, 0, memory_order_seq_cst,
                                                    memory_order_relaxed))
            return true;
    }
    return false;
}

/* Some P's slot holds rw, tentatively or not. */
static bool slots_hold(goc_rwmutex *rw)
{
    int n = goc__sched_nallp();
    for (int i = 0; i < n; i++) {
        goc_p *p = goc__sched_allp(i);
        for (int k = 0; k < GOC_RSLOTS; k++)
            if ((atomic_load_explicit(&p->rslot[k], memory_order_seq_cst) & ~(uintptr_t)1) ==
                (uintptr_t)rw)
                return true;
    }
    return false;
}

/* A slot was emptied while a writer may be waiting for the slots. */
static void wake_writer(goc_rwmutex *rw)
{
    if (__atomic_load_n(&rw->writer_slots, SC)) {
        goc_g *g = __atomic_exchange_n(&rw->writer_slots, NULL, SC);
        if (g)
            goc__ready(g);
    }
}

/* runlock by way of one of p's slots holding rw; false if none does. */
static bool slot_release(goc_p *p, goc_rwmutex *rw)
{
    if (!slot_clear(p, rw))
        return false;
    GOC_CHAOS_POINT();
    if (unlikely(__atomic_load_n(&rw->reader_count, SC) < 0))
        wake_writer(rw);
    return true;
}

/* The rlock and tryrlock fast path: true if p's slot k now holds rw. On
 * false the slot is free again, and a writer is pending or the slots are
 * going off. */
static bool slot_settle(goc_p *p, int k, goc_rwmutex *rw)
{
    GOC_CHAOS_POINT(); /* a writer may announce itself and scan now */
    if (likely(__atomic_load_n(&rw->reader_count, SC) >= 0 && !__atomic_load_n(&rw->nobias, SC))) {
        atomic_store_explicit(&p->rslot[k], (uintptr_t)rw, memory_order_relaxed);
        return true;
    }
    /* A Dekker store (internal.h): wake_writer's load must not pass it. */
    (void)atomic_exchange_explicit(&p->rslot[k], 0, memory_order_seq_cst);
    wake_writer(rw);
    return false;
}

/* GOMAXPROCS is 1: no other core to keep a line from, so the slots would
 * only add instructions. Fixed once the scheduler runs, which it does
 * wherever there is a P. */
static _Atomic int workers_one; /* 0 not known yet, 1 one worker, 2 more */

static __attribute__((noinline)) bool one_worker_slow(void)
{
    int n = goc__sched_nprocs();
    if (n <= 0)
        return false; /* not started: no P, so no slot either */
    atomic_store_explicit(&workers_one, n == 1 ? 1 : 2, memory_order_relaxed);
    return n == 1;
}

static inline bool one_worker(void)
{
    int v = atomic_load_explicit(&workers_one, memory_order_relaxed);
    return likely(v) ? v == 1 : one_worker_slow();
}

/* Whether p's goroutines may take rw in a slot; counts a read lock on p. */
static inline bool slots_on(goc_p *p, goc_rwmutex *rw)
{
    if (p->rw_central == rw || one_worker())
        return false; /* off for good, as p found before; or no use */
    atomic_store_explicit(&p->rreads, atomic_load_explicit(&p->rreads, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    uint32_t off = __atomic_load_n(&rw->nobias, __ATOMIC_RELAXED);
    if (likely(!off))
        return true;
    if (off == 1)
        p->rw_central = rw;
    return false;
}

/* Go's RLock: a hold counted in reader_count. */
static inline void rlock_counted(goc_rwmutex *rw)
{
    if (__atomic_add_fetch(&rw->reader_count, 1, SC) < 0)
        /* A writer is pending: wait for it. */
        goc__semacquire1(&rw->reader_sem, false, "sync.RWMutex.RLock");
}

/* A reader that filled slot k of p and backed out: a writer is pending, or
 * the slots just went off. Waits for the writer on the spot (see the top),
 * then as Go's reader would. */
static __attribute__((noinline)) void rlock_wait(goc_rwmutex *rw, goc_p *p)
{
    for (int i = 0; goc__sync_can_spin(i / SPIN_PAUSES); i++) {
        goc__cpu_relax();
        if (__atomic_load_n(&rw->reader_count, __ATOMIC_RELAXED) < 0)
            continue;
        if (__atomic_load_n(&rw->nobias, __ATOMIC_RELAXED))
            break;
        int k = slot_try(p, rw);
        if (k < 0)
            break;
        if (slot_settle(p, k, rw))
            return;
    }
    rlock_counted(rw);
}

void goc_rwmutex_rlock(goc_rwmutex *rw)
{
    goc__thread_touch();
    goc_p *p = goc__getp();
    int k;
    if (!p || !slots_on(p, rw) || (k = slot_try(p, rw)) < 0) {
        rlock_counted(rw);
        /* A hint outlives its mutex when the memory is made a new RWMutex
         * (init, or reused): drop it once the slots are seen on (a load
         * from a line the add has just fetched). */
        if (p && p->rw_central == rw && !__atomic_load_n(&rw->nobias, __ATOMIC_RELAXED))
            p->rw_central = NULL;
    } else if (unlikely(!slot_settle(p, k, rw))) {
        rlock_wait(rw, p);
    }
    goc__race_acquire(&rw->reader_sem);
}

bool goc_rwmutex_tryrlock(goc_rwmutex *rw)
{
    goc__thread_touch();
    goc_p *p = goc__getp();
    int k;
    if (p && slots_on(p, rw) && (k = slot_try(p, rw)) >= 0 && slot_settle(p, k, rw)) {
        goc__race_acquire(&rw->reader_sem);
        return true;
    }
    /* Else a writer is pending (the loop below sees it), or slots are off. */
    int32_t c = __atomic_load_n(&rw->reader_count, __ATOMIC_RELAXED);
    for (;;) {
        if (c < 0)
            return false;
        if (__atomic_compare_exchange_n(&rw->reader_count, &c, c + 1, false, SC,
                                        __ATOMIC_RELAXED)) {
            goc__race_acquire(&rw->reader_sem);
            return true;
        }
    }
}


static __attribute__((noinline)) void runlock_slow(goc_rwmutex *rw, int32_t r)
{
    if (r + 1 == 0 || r + 1 == -MAX_READERS)
        goc__fatal("sync: RUnlock of unlocked RWMutex");
    /* A writer is pending: the last reader it waits for unblocks it. */
    if (__atomic_sub_fetch(&rw->reader_wait, 1, __ATOMIC_ACQ_REL) == 0)
        goc__semrelease1(&rw->writer_sem, 1, false);
}

/* Go's RUnlock: a hold counted in reader_count. */
static inline void runlock_counted(goc_rwmutex *rw)
{
    int32_t r = __atomic_sub_fetch(&rw->reader_count, 1, SC);
    if (unlikely(r < 0))
        runlock_slow(rw, r);
}

/* runlock when the caller's P has no slot holding rw. */
static __attribute__((noinline)) void runlock_elsewhere(goc_rwmutex *rw)
{
    if (__atomic_load_n(&rw->nobias, SC) != 1 && !one_worker()) {
        /* No writer and readers counted in reader_count: take one of
         * theirs. */
        int32_t c = __atomic_load_n(&rw->reader_count, __ATOMIC_RELAXED);
        while (c > 0)
            if (__atomic_compare_exchange_n(&rw->reader_count, &c, c - 1, false, SC,
                                            __ATOMIC_RELAXED))
                return;
        int n = goc__sched_nallp();
        for (int pass = 0; pass < 2; pass++)
            for (int i = 0; i < n; i++)
                if (slot_release(goc__sched_allp(i), rw))
                    return;
    }
    runlock_counted(rw);
}

/* runlock on a P whose hint says rw's slots are off, after Go's decrement
 * went below zero: Go's misuse or a writer pending if the hint is right.
 * If it is stale (rw made anew, slots on), the hold may be a slot's: the
 * count goes back and the slots are searched. A writer that announced
 * itself between the two counted our decrement among the readers it waits
 * for (r == -1: no writer before it): that goes back too. */
static __attribute__((noinline)) void runlock_hinted_slow(goc_rwmutex *rw, goc_p *p, int32_t r)
{
    if (__atomic_load_n(&rw->nobias, SC) == 1) {
        runlock_slow(rw, r);
        return;
    }
    p->rw_central = NULL;
    if (__atomic_add_fetch(&rw->reader_count, 1, SC) < 0 && r == -1 &&
        __atomic_add_fetch(&rw->reader_wait, 1, __ATOMIC_ACQ_REL) == 0)
        goc__semrelease1(&rw->writer_sem, 1, false);
    if (!slot_release(p, rw))
        runlock_elsewhere(rw);
}

void goc_rwmutex_runlock(goc_rwmutex *rw)
{
    goc__race_release(&rw->writer_sem);
    goc_p *p = goc__getp();
    if (p && p->rw_central == rw) {
        /* Go's decrement first, on the hint alone: loading nobias before
         * it would fetch the counter's line twice. Taking a counted hold is
         * right whatever nobias says; below zero, runlock_hinted_slow. */
        int32_t r = __atomic_sub_fetch(&rw->reader_count, 1, SC);
        if (unlikely(r < 0))
            runlock_hinted_slow(rw, p, r);
        return;
    }
    if (p && one_worker()) {
        runlock_counted(rw); /* no slot can hold rw */
        return;
    }
    if (!p || !slot_release(p, rw))
        runlock_elsewhere(rw);
}

/* goc__park's unlock for a writer waiting for the slots: parks only if a
 * slot still holds rw once writer_slots is published, or if a reader has
 * taken writer_slots since (it is readying g). */
static bool writer_park(goc_g *g, void *arg)
{
    goc_rwmutex *rw = arg;
    (void)__atomic_exchange_n(&rw->writer_slots, g, SC); /* a Dekker store (internal.h) */
    GOC_CHAOS_POINT();
    if (slots_hold(rw))
        return true;
    return __atomic_exchange_n(&rw->writer_slots, NULL, SC) != g;
}

/* Slots off (see the top): called by the writer, holding w, while they
 * are on. Returns 1 (wait for the slots) or 2 (wait for them, then set
 * nobias to 1: this writer turned them off). */
#define BIAS_READS 16
#define BIAS_SAMPLE 16

static int bias_update(goc_rwmutex *rw)
{
    if (++rw->wcount < BIAS_SAMPLE)
        return 1;
    uint64_t reads = 0;
    int n = goc__sched_nallp();
    for (int i = 0; i < n; i++)
        reads += atomic_load_explicit(&goc__sched_allp(i)->rreads, memory_order_relaxed);
    bool on = reads - rw->rsnap >= (uint64_t)BIAS_READS * rw->wcount;
    rw->rsnap = reads;
    rw->wcount = 0;
    if (on)
        return 1;
    (void)__atomic_exchange_n(&rw->nobias, 2, SC); /* Dekker (internal.h): the scan follows */
    return 2;
}

void goc_rwmutex_lock(goc_rwmutex *rw)
{
    /* First, resolve competition with other writers. */
    goc_mutex_lock(&rw->w);
    /* Announce to readers there is a pending writer. */
    int32_t r = __atomic_sub_fetch(&rw->reader_count, MAX_READERS, SC) + MAX_READERS;
    GOC_CHAOS_POINT();
    /* Then look at the slots' switch, on a line now ours. Turning them off
     * after the announcement is sound: a reader that fills a slot after
     * this writer's scan has begun sees reader_count < 0. */
    int slots = __atomic_load_n(&rw->nobias, __ATOMIC_RELAXED) || one_worker() ? 0 : bias_update(rw);
    /* Wait for active readers: those counted in reader_count, then the
     * slots. */
    if (r != 0 && __atomic_add_fetch(&rw->reader_wait, r, __ATOMIC_ACQ_REL) != 0)
        goc__semacquire1(&rw->writer_sem, false, "sync.RWMutex.Lock");
    for (int i = 0; slots && slots_hold(rw); i++)
        if (goc__sync_can_spin(i / SPIN_PAUSES))
            goc__cpu_relax();
        else
            goc__park(writer_park, rw, "sync.RWMutex.Lock");
    if (slots == 2)
        __atomic_store_n(&rw->nobias, 1, SC);
    goc__race_acquire(&rw->reader_sem);
    goc__race_acquire(&rw->writer_sem);
}

/* The writer leaves: readers that arrived meanwhile go, then writers. */
static void writer_leave(goc_rwmutex *rw)
{
    /* Announce to readers there is no active writer. */
    int32_t r = __atomic_add_fetch(&rw->reader_count, MAX_READERS, SC);
    if (r >= MAX_READERS)
        goc__fatal("sync: Unlock of unlocked RWMutex");
    /* Unblock the readers that arrived meanwhile. */
    if (r > 0)
        goc__semrelease(&rw->reader_sem, (uint32_t)r);
    /* Allow other writers to proceed. */
    goc_mutex_unlock(&rw->w);
}

bool goc_rwmutex_trylock(goc_rwmutex *rw)
{
    if (!goc_mutex_trylock(&rw->w))
        return false;
    int32_t zero = 0;
    if (!__atomic_compare_exchange_n(&rw->reader_count, &zero, -MAX_READERS, false, SC,
                                     __ATOMIC_RELAXED)) {
        goc_mutex_unlock(&rw->w);
        return false;
    }
    if (__atomic_load_n(&rw->nobias, SC) != 1 && !one_worker() && slots_hold(rw)) {
        writer_leave(rw); /* readers that backed out meanwhile wait on reader_sem */
        return false;
    }
    goc__race_acquire(&rw->reader_sem);
    goc__race_acquire(&rw->writer_sem);
    return true;
}

void goc_rwmutex_unlock(goc_rwmutex *rw)
{
    goc__race_release(&rw->reader_sem);
    writer_leave(rw);
}
