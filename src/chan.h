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
} goc_waitq;

#define GOC_CHAN_MAGIC 0x6368616eu /* "chan" */
#define GOC_CHAN_FREED 0xdeadc4a9u

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

static inline char *goc__chanbuf(struct goc_chan *c, size_t i) { return c->buf + i * c->elemsize; }

static inline void goc__chan_copy(void *dst, const void *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
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
GOC_INTERNAL goc_sudog *goc__waitq_dequeue(goc_waitq *q);
GOC_INTERNAL void goc__waitq_remove(goc_waitq *q, goc_sudog *sg);
/* Under c->lock; sg just dequeued from the waiting end. Copy the value and
 * return: the caller unlocks, then calls goc__chan_wake. */
GOC_INTERNAL void goc__chan_send_locked(struct goc_chan *c, goc_sudog *sg, const void *elem);
GOC_INTERNAL void goc__chan_recv_locked(struct goc_chan *c, goc_sudog *sg, void *out);
GOC_INTERNAL void goc__chan_wake(goc_sudog *sg, bool success);
GOC_INTERNAL void goc__chan_bufsend_locked(struct goc_chan *c, const void *elem);
GOC_INTERNAL void goc__chan_bufrecv_locked(struct goc_chan *c, void *out);

#endif
