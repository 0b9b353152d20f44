/* chan.h: the channel's private layout and the waiter record (Go's hchan and
 * sudog), shared by chan.c and select.c. Invariants and locking: chan.c. */
#ifndef GOC_CHAN_PRIV_H
#define GOC_CHAN_PRIV_H

#include <string.h>

#include "goc/chan.h"
#include "internal.h"
#include "race.h"

/* A G waiting on a channel: lives on the waiting G's stack (or the plain
 * thread's), which is stable while it is parked. A select has one per case,
 * sharing one selectdone word. */
typedef struct goc_sudog {
    goc_g *g;
    struct goc_sudog *next, *prev; /* in the channel's sendq or recvq */
    void *elem;                    /* value to send / where to receive; may be NULL */
    struct goc_chan *c;
    _Atomic uint32_t *selectdone;  /* select: 0 until a waker claims the select */
    bool success;                  /* woken by a value (true) or by close (false) */
} goc_sudog;

typedef struct goc_waitq {
    goc_sudog *first, *last;
    uint32_t nsel; /* select waiters among them (close: see goc__waitq_take_all) */
} goc_waitq;

#define GOC_CHAN_MAGIC 0x6368616eu /* "chan" */
#define GOC_CHAN_FREED 0xdeadc4a9u

/* Channels inside another object's memory (chan.c, goc__chan_init). */
GOC_INTERNAL void goc__chan_init(struct goc_chan *c, size_t elem_size, size_t cap, char *buf);
/* The last reference to an embedded channel is gone: its block's owner
 * frees the block (timer.c). */
GOC_INTERNAL void goc__chan_free_embedded(struct goc_chan *c);

struct goc_chan {
    uint32_t magic;        /* GOC_CHAN_MAGIC while alive */
    goc_spinlock lock;
    _Atomic uint32_t closed;
    _Atomic int32_t refs;
    size_t qcount;         /* values in buf (read without the lock: atomically) */
    size_t dataqsiz;       /* cap */
    size_t elemsize;
    size_t sendx, recvx;   /* ring indices */
    goc_waitq recvq, sendq;
    char *buf;             /* dataqsiz * elemsize bytes (at least 1, for race addresses) */
};

/* ---- Channel locks ----
 *
 * c->lock is a goc_spinlock, except in the common single-worker case: when
 * the runtime runs one P and no other thread has ever touched a channel,
 * the P's code is the only code that can be inside any channel's critical
 * section, and a locked instruction per lock costs more than the rest of a
 * channel operation. Such a section then only sets goc__chan_cs (a plain
 * store) and checks goc__chan_mt: an asymmetric Dekker handshake whose
 * heavy side is a thread's first channel operation (chan.c,
 * goc__chan_go_mt: goc__chan_mt goes 0 -> 1, membarrier() makes the P's
 * store visible / its next load see 1, wait for goc__chan_cs == 0, then
 * goc__chan_mt = 2 for good). From then on every section takes the real
 * locks. Without membarrier (or before goc_chan_make first ran) the fast
 * mode is never entered.
 *
 * goc__chan_cs is only ever set by the single P, for one section at a time
 * (a select's section covers all its channels), so an unlock can tell which
 * kind of lock it holds by reading it. */
GOC_INTERNAL extern _Atomic uint32_t goc__chan_cs, goc__chan_mt;
GOC_INTERNAL bool goc__chan_lock_fast_slow(uint32_t mt);

/* goc__chan_mt's values: fast mode, a thread switching it off, real locks
 * for good, not decided yet (no channel made). */
enum { GOC_CHAN_MT_NONE = 0, GOC_CHAN_MT_SWITCHING = 1, GOC_CHAN_MT_ON = 2,
       GOC_CHAN_MT_UNKNOWN = 3 };

/* Enters a lock-free section if this is the single P in fast mode; false:
 * take the real locks. Fast mode implies one worker P for good (it is only
 * entered once the scheduler runs with one, and a spare P switches it off
 * before it starts), so the single P is whatever thread has a P. */
static inline bool goc__chan_lock_fast(void)
{
    uint32_t mt = atomic_load_explicit(&goc__chan_mt, memory_order_acquire);
    if (likely(mt == GOC_CHAN_MT_ON))
        return false;
    if (likely(mt == GOC_CHAN_MT_NONE) && goc__getp()) {
        atomic_store_explicit(&goc__chan_cs, 1, memory_order_relaxed);
        GOC_CHAOS_POINT();
        atomic_signal_fence(memory_order_seq_cst);
        if (likely(atomic_load_explicit(&goc__chan_mt, memory_order_relaxed) ==
                   GOC_CHAN_MT_NONE))
            return true;
        /* A thread is switching: its membarrier saw our store or we see
         * its flag; either way take the real lock once it is done. */
        atomic_store_explicit(&goc__chan_cs, 0, memory_order_release);
        mt = GOC_CHAN_MT_SWITCHING;
    }
    return goc__chan_lock_fast_slow(mt);
}

static inline void goc__chan_lock(struct goc_chan *c);
static inline void goc__chan_unlock(struct goc_chan *c);

/* Debug builds check the channel on every operation. */
#ifndef NDEBUG
static inline void goc__chan_check(const struct goc_chan *c)
{
    if (c && __atomic_load_n(&c->magic, __ATOMIC_RELAXED) != GOC_CHAN_MAGIC)
        goc__fatal("goc: use of freed channel");
}
#else
static inline void goc__chan_check(const struct goc_chan *c) { (void)c; }
#endif

/* The real lock: the runtime's spin lock (internal.h) with its long
 * back-off, which lets a channel that two workers hammer (producers and
 * consumers on different Ps) change hands in runs. */
static inline void goc__chan_lock(struct goc_chan *c)
{
    if (!goc__chan_lock_fast())
        goc__spin_lock_long(&c->lock);
}

static inline void goc__chan_unlock(struct goc_chan *c)
{
    if (atomic_load_explicit(&goc__chan_cs, memory_order_relaxed))
        atomic_store_explicit(&goc__chan_cs, 0, memory_order_release);
    else
        goc__spin_unlock(&c->lock);
}

/* Lock-free looks for the non-blocking forms, as Go's chansend/chanrecv
 * with block == false: each load is atomic, and the answer "would block"
 * holds at one instant during the call (chan.go's comments), which is all
 * a failing non-blocking operation promises. */
static inline bool goc__chan_full(struct goc_chan *c)
{
    /* Both loads and a select of the word that must be zero, rather than
     * a branch on the channel's kind: a failing poll is then straight-line
     * code, where the branches made it mostly taken jumps (SelectNonblock's
     * limit). Either field may be read for either kind. Full: no receiver
     * waiting (unbuffered), qcount == cap (buffered). */
    size_t cap = c->dataqsiz;
    uintptr_t receiver = (uintptr_t)__atomic_load_n(&c->recvq.first, __ATOMIC_ACQUIRE);
    size_t room = cap - __atomic_load_n(&c->qcount, __ATOMIC_ACQUIRE);
    uintptr_t unbuffered = -(uintptr_t)(cap == 0); /* a mask: compilers branch on ?: */
    return ((receiver & unbuffered) | (room & ~unbuffered)) == 0;
}

/* Empty: no sender waiting (unbuffered), qcount == 0 (buffered). */
static inline bool goc__chan_empty(struct goc_chan *c)
{
    uintptr_t sender = (uintptr_t)__atomic_load_n(&c->sendq.first, __ATOMIC_ACQUIRE);
    size_t n = __atomic_load_n(&c->qcount, __ATOMIC_ACQUIRE);
    uintptr_t unbuffered = -(uintptr_t)(c->dataqsiz == 0);
    return ((sender & unbuffered) | (n & ~unbuffered)) == 0;
}

/* A non-blocking send would block: not closed, then full, read in that
 * order (a channel closed after the first read was still open and full at
 * the instant of the first: closing never makes a full channel ready for
 * the sender's purposes). */
static inline bool goc__chan_nbsend_blocks(struct goc_chan *c)
{
    if (atomic_load_explicit(&c->closed, memory_order_relaxed))
        return false;
    GOC_CHAOS_POINT();
    return goc__chan_full(c);
}

/* A non-blocking receive would block: empty, then not closed (the acquire
 * of the first load keeps the second after it; a closed channel stays
 * closed, so "empty and open" held at the first read). */
static inline bool goc__chan_nbrecv_blocks(struct goc_chan *c)
{
    if (!goc__chan_empty(c))
        return false;
    GOC_CHAOS_POINT();
    return !atomic_load_explicit(&c->closed, memory_order_acquire);
}

static inline char *goc__chanbuf(struct goc_chan *c, size_t i) { return c->buf + i * c->elemsize; }

static inline void goc__chan_copy(void *dst, const void *src, size_t n)
{
    switch (n) { /* the common sizes without a call */
    case 0: return;
    case 4: memcpy(dst, src, 4); return;
    case 8: memcpy(dst, src, 8); return;
    case 16: memcpy(dst, src, 16); return;
    default: memcpy(dst, src, n);
    }
}

/* The race detector's view of a buffer slot: acquire, copy, release, as
 * Go's racenotify (every send and receive through slot i orders with the
 * previous one through it, which is "the k-th receive happens before the
 * (k+C)-th send completes"). */
static inline void goc__chan_race_slot(struct goc_chan *c, size_t i, bool before)
{
    void *addr = c->elemsize ? goc__chanbuf(c, i) : c->buf;
    if (before)
        goc__race_acquire(addr);
    else
        goc__race_release(addr);
}

GOC_INTERNAL void goc__waitq_enqueue(goc_waitq *q, goc_sudog *sg);
GOC_INTERNAL goc_sudog *goc__waitq_dequeue_slow(goc_waitq *q);
/* The oldest waiter, skipping (and dropping) select waiters whose select
 * another channel has already won; NULL if none (without a call: the
 * common case of a buffered channel's fast path). */
static inline goc_sudog *goc__waitq_dequeue(goc_waitq *q)
{
    return q->first ? goc__waitq_dequeue_slow(q) : NULL;
}
GOC_INTERNAL void goc__waitq_remove(goc_waitq *q, goc_sudog *sg);
/* Empties q: every waiter it holds (select waiters whose select another
 * channel won are dropped), linked through next, oldest first. */
GOC_INTERNAL goc_sudog *goc__waitq_take_all(goc_waitq *q);
/* Under c->lock; sg just dequeued from the waiting end. Copy the value and
 * return: the caller unlocks, then calls goc__chan_wake. */
GOC_INTERNAL void goc__chan_send_locked(struct goc_chan *c, goc_sudog *sg, const void *elem);
GOC_INTERNAL void goc__chan_recv_locked(struct goc_chan *c, goc_sudog *sg, void *out);
GOC_INTERNAL void goc__chan_wake(goc_sudog *sg, bool success);
/* Under c->lock: a value into / out of the buffer (it has room / one). */
static inline void goc__chan_bufsend_locked(struct goc_chan *c, const void *elem)
{
    goc__chan_race_slot(c, c->sendx, true);
    goc__chan_copy(goc__chanbuf(c, c->sendx), elem, c->elemsize);
    goc__chan_race_slot(c, c->sendx, false);
    if (++c->sendx == c->dataqsiz)
        c->sendx = 0;
    __atomic_store_n(&c->qcount, c->qcount + 1, __ATOMIC_RELEASE);
}

static inline void goc__chan_bufrecv_locked(struct goc_chan *c, void *out)
{
    char *qp = goc__chanbuf(c, c->recvx);
    goc__chan_race_slot(c, c->recvx, true);
    if (out)
        goc__chan_copy(out, qp, c->elemsize);
    /* (No clearing of the slot: Go does it for its garbage collector.) */
    goc__chan_race_slot(c, c->recvx, false);
    if (++c->recvx == c->dataqsiz)
        c->recvx = 0;
    __atomic_store_n(&c->qcount, c->qcount - 1, __ATOMIC_RELEASE);
}

#endif
