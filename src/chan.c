/* chan.c: channels, as Go's runtime/chan.go builds them.
 *
 * Invariants (c->lock held):
 *   At least one of c->sendq and c->recvq is empty, except for an
 *   unbuffered channel with a single goroutine blocked on it both sending
 *   and receiving through select (the size of the send and receive queues
 *   are then bounded only by the select's cases).
 *   For a buffered channel:
 *     c->qcount > 0 implies that c->recvq is empty;
 *     c->qcount < c->dataqsiz implies that c->sendq is empty.
 *   c->closed goes 0 -> 1 once, under the lock; closed implies both queues
 *   empty once close has returned (close wakes every waiter).
 *
 * Locking. c->lock is a goc_spinlock guarding every field but magic, refs
 * and elemsize/dataqsiz/buf (fixed at make). Its waiters back off
 * exponentially, longer than for the runtime's own locks, and soon yield
 * their CPU (lock.c, goc__spin_lock_long): a channel hammered from two
 * workers then changes hands in runs. It is never held across a park:
 * a G that must wait enqueues a goc_sudog on its own stack under the lock and
 * parks with unlock_chan as the park's unlock function, which drops the lock
 * after the G's context is saved; a waker that dequeues it can therefore
 * never ready it early. Wakers copy the value while holding the lock, then
 * unlock, then ready the G (into the waker's runnext slot, so a pair that
 * hands values back and forth stays on one core). select.c locks several
 * channels, always in address order.
 *
 * The fast paths of the non-blocking forms read qcount, closed and the
 * queues' heads without the lock, as Go's do: an answer "would block" is
 * only given if the channel was not ready at one instant during the call.
 *
 * Close takes the lock once, marks the channel closed and takes every
 * waiter off its queues (a queue with no select waiter is detached whole,
 * without walking it: goc__waitq_take_all), then wakes them after the
 * unlock.
 *
 * Race detector. The runtime is not instrumented; it tells TSan about the
 * edges Go's memory model promises: each buffer slot is acquired and
 * released around every copy through it (a send happens before the receive
 * that takes its value; the k-th receive happens before the (k+C)-th send
 * completes); a waiter releases its sudog before parking and the waker
 * acquires it before copying (the waiting side's writes are visible to the
 * direct copy), and goc__ready publishes the waker's side to the woken G;
 * close releases the channel and a receive that sees it closed acquires it.
 *
 * Lifetime: see goc/chan.h. No operation takes a reference (no atomic
 * read-modify-write on refs on any path): the caller's reference covers
 * the call. A G that parked in chansend/chanrecv touches nothing of the
 * channel after it is woken: the waker copied the value (or close zeroed
 * the receiver's element) under the lock, and goc__ready orders the waker
 * before the woken G, which is all the race detector needs too. The
 * last release frees the memory: goc_chan_make's malloc, or, for a timer's
 * channel, the timer block it is embedded in (timer.c).
 *
 * Single worker: with one P, channel sections run without a locked
 * instruction until a plain thread uses a channel (chan.h, "Channel
 * locks").
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "chan.h"

/* ---- Locks (see chan.h) ---- */

_Atomic uint32_t goc__chan_cs;
/* 3 until goc_chan_make has checked for membarrier: no fast mode. */
_Atomic uint32_t goc__chan_mt = 3;

enum {
    MT_NONE = GOC_CHAN_MT_NONE,
    MT_SWITCHING = GOC_CHAN_MT_SWITCHING,
    MT_ON = GOC_CHAN_MT_ON,
    MT_UNKNOWN = GOC_CHAN_MT_UNKNOWN,
};

static void chan_mt_init(void)
{
    uint32_t v = MT_UNKNOWN;
    if (atomic_load_explicit(&goc__chan_mt, memory_order_acquire) != MT_UNKNOWN)
        return;
    /* Only the single P may run fast sections: a plain thread making the
     * first channel goes multi-threaded at once. */
    goc_p *p = goc__getp();
    uint32_t to = MT_ON;
    if (p && goc__sched_nprocs() == 1 && goc__sched_nspare_active() == 0 &&
        goc__os_membarrier_usable())
        to = MT_NONE;
    atomic_compare_exchange_strong_explicit(&goc__chan_mt, &v, to, memory_order_acq_rel,
                                            memory_order_acquire);
}

/* The first channel lock taken by anything but the single P: see chan.h. */
static void chan_go_mt(void)
{
    uint32_t v = MT_NONE;
    if (atomic_compare_exchange_strong_explicit(&goc__chan_mt, &v, MT_SWITCHING,
                                                memory_order_seq_cst, memory_order_acquire)) {
        goc__os_membarrier();
        while (atomic_load_explicit(&goc__chan_cs, memory_order_acquire))
            sched_yield();
        atomic_store_explicit(&goc__chan_mt, MT_ON, memory_order_release);
        return;
    }
    while (atomic_load_explicit(&goc__chan_mt, memory_order_acquire) == MT_SWITCHING)
        sched_yield();
}

/* A second P is about to run (the monitor starts a spare): channel
 * sections take real locks from now on. */
void goc__chan_force_mt(void)
{
    uint32_t v = MT_UNKNOWN;
    if (atomic_compare_exchange_strong_explicit(&goc__chan_mt, &v, MT_ON, memory_order_acq_rel,
                                                memory_order_acquire))
        return;
    chan_go_mt();
}

/* goc__chan_lock_fast's other cases: a thread is switching fast mode off
 * (wait for it), no channel was made yet, or a thread without a P would
 * enter fast mode (switch it off). Always false: take the real lock. */
bool goc__chan_lock_fast_slow(uint32_t mt)
{
    if (mt != MT_UNKNOWN)
        chan_go_mt(); /* MT_SWITCHING: waits for MT_ON */
    return false;
}

/* ---- Wait queues (c->lock held) ---- */

void goc__waitq_enqueue(goc_waitq *q, goc_sudog *sg)
{
    sg->next = NULL;
    sg->prev = q->last;
    if (sg->selectdone)
        q->nsel++;
    if (q->last)
        q->last->next = sg;
    else
        __atomic_store_n(&q->first, sg, __ATOMIC_RELEASE);
    q->last = sg;
}

void goc__waitq_remove(goc_waitq *q, goc_sudog *sg)
{
    if (sg->prev)
        sg->prev->next = sg->next;
    else if (q->first == sg)
        __atomic_store_n(&q->first, sg->next, __ATOMIC_RELEASE);
    else
        return; /* not queued (already dequeued by a waker) */
    if (sg->next)
        sg->next->prev = sg->prev;
    else
        q->last = sg->prev;
    sg->next = sg->prev = NULL;
    if (sg->selectdone)
        q->nsel--;
}

/* goc__waitq_dequeue of a queue that is not empty. */
goc_sudog *goc__waitq_dequeue_slow(goc_waitq *q)
{
    for (;;) {
        goc_sudog *sg = q->first;
        if (!sg)
            return NULL;
        __atomic_store_n(&q->first, sg->next, __ATOMIC_RELEASE);
        if (sg->next)
            sg->next->prev = NULL;
        else
            q->last = NULL;
        sg->next = sg->prev = NULL;
        if (sg->selectdone) {
            q->nsel--;
            uint32_t zero = 0;
            if (!atomic_compare_exchange_strong_explicit(sg->selectdone, &zero, 1,
                                                         memory_order_acq_rel,
                                                         memory_order_relaxed))
                continue;
        }
        return sg;
    }
}

/* Without select waiters nothing but this call can dequeue the waiters
 * (each is parked until its waker readies it), so the list is detached
 * whole: a close of a channel with many waiters does not walk their
 * sudogs, which sit on as many cold stacks, under the lock. */
goc_sudog *goc__waitq_take_all(goc_waitq *q)
{
    goc_sudog *list = q->first;
    if (q->nsel == 0) {
        __atomic_store_n(&q->first, NULL, __ATOMIC_RELEASE);
        q->last = NULL;
        return list;
    }
    goc_sudog **tail = &list, *sg;
    while ((sg = goc__waitq_dequeue(q)) != NULL) {
        *tail = sg;
        tail = &sg->next;
    }
    *tail = NULL;
    return list;
}

/* ---- Making and freeing ---- */

/* Sets up a channel at c whose buffer, dataqsiz * elemsize bytes (at least
 * one), is at buf. A channel of goc_chan_make has its buffer right behind
 * it (buf == c + 1); any other is embedded in a block its owner frees when
 * the last reference goes (goc__chan_free_embedded, timer.c's blocks). */
void goc__chan_init(goc_chan *c, size_t elem_size, size_t cap, char *buf)
{
    if (unlikely(atomic_load_explicit(&goc__chan_mt, memory_order_relaxed) == MT_UNKNOWN))
        chan_mt_init();
    memset(c, 0, sizeof *c);
    c->magic = GOC_CHAN_MAGIC;
    atomic_init(&c->refs, 1);
    c->dataqsiz = cap;
    c->elemsize = elem_size;
    c->buf = buf;
}

goc_chan *goc_chan_make(size_t elem_size, size_t cap)
{
    if (elem_size >= (1u << 16) || (elem_size && cap > (SIZE_MAX / 2 - sizeof(goc_chan)) / elem_size)) {
        errno = EINVAL;
        return NULL;
    }
    size_t bytes = elem_size * cap;
    if (bytes == 0)
        bytes = 1;
    goc_chan *c = malloc(sizeof *c + bytes);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    goc__chan_init(c, elem_size, cap, (char *)(c + 1));
    return c;
}

goc_chan *goc_chan_retain(goc_chan *c)
{
    if (c) {
        goc__chan_check(c);
        atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    }
    return c;
}

void goc_chan_release(goc_chan *c)
{
    if (!c)
        return;
    goc__chan_check(c);
    /* What every holder did happens before the free. */
    goc__race_release(&c->refs);
    int32_t old = atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel);
    if (old > 1)
        return;
    if (old < 1)
        goc__fatal("goc: channel released more often than retained");
    goc__race_acquire(&c->refs);
    __atomic_store_n(&c->magic, GOC_CHAN_FREED, __ATOMIC_RELAXED);
    if (c->buf == (char *)(c + 1))
        free(c);
    else
        goc__chan_free_embedded(c);
}

size_t goc_chan_len(goc_chan *c)
{
    if (!c)
        return 0;
    goc__chan_check(c);
    return __atomic_load_n(&c->qcount, __ATOMIC_RELAXED);
}

size_t goc_chan_cap(goc_chan *c)
{
    if (!c)
        return 0;
    goc__chan_check(c);
    return c->dataqsiz;
}

size_t goc_chan_elem_size(goc_chan *c)
{
    if (!c)
        return 0;
    goc__chan_check(c);
    return c->elemsize;
}

/* ---- Copies (c->lock held) ---- */

/* A send that found receiver sg waiting (so the buffer is empty): the value
 * goes straight to the receiver's memory. */
void goc__chan_send_locked(goc_chan *c, goc_sudog *sg, const void *elem)
{
    goc__race_acquire(sg);
    if (c->dataqsiz) {
        /* Go's racenotify on the slot the value notionally passes through. */
        goc__chan_race_slot(c, c->recvx, true);
        goc__chan_race_slot(c, c->recvx, false);
        if (++c->recvx == c->dataqsiz)
            c->recvx = 0;
        c->sendx = c->recvx;
    }
    if (sg->elem)
        goc__chan_copy(sg->elem, elem, c->elemsize);
}

/* A receive that found sender sg waiting. Unbuffered: take its value
 * directly. Buffered (then full): take the head of the queue and put the
 * sender's value at the tail, which is the same slot. */
void goc__chan_recv_locked(goc_chan *c, goc_sudog *sg, void *out)
{
    goc__race_acquire(sg);
    if (c->dataqsiz == 0) {
        if (out)
            goc__chan_copy(out, sg->elem, c->elemsize);
        return;
    }
    char *qp = goc__chanbuf(c, c->recvx);
    goc__chan_race_slot(c, c->recvx, true);
    if (out)
        goc__chan_copy(out, qp, c->elemsize);
    goc__chan_copy(qp, sg->elem, c->elemsize);
    goc__chan_race_slot(c, c->recvx, false);
    if (++c->recvx == c->dataqsiz)
        c->recvx = 0;
    c->sendx = c->recvx;
}

/* After c->lock is dropped. sg's G is parked until this readies it; sg is
 * on its stack, so nothing here may touch sg after goc__ready. */
void goc__chan_wake(goc_sudog *sg, bool success)
{
    goc_g *g = sg->g;
    sg->success = success;
    GOC_CHAOS_POINT();
    g->param = sg;
    goc__ready(g);
}

static bool unlock_chan(goc_g *g, void *arg)
{
    (void)g;
    goc__chan_unlock(arg);
    return true;
}

/* ---- Send ---- */

/* Returns false only if !block and the send would block (the lock-free
 * "would block" answer was given by goc_chan_try_send already). */
static bool chansend(goc_chan *c, const void *elem, bool block)
{
    if (!c) {
        if (!block)
            return false;
        goc__park(NULL, NULL, "chan send (nil chan)");
        goc__fatal("unreachable");
    }
    goc__chan_check(c);

    goc__chan_lock(c);
    if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
        goc__chan_unlock(c);
        goc_panic("send on closed channel");
    }
    goc_sudog *sg = goc__waitq_dequeue(&c->recvq);
    if (sg) {
        goc__chan_send_locked(c, sg, elem);
        goc__chan_unlock(c);
        goc__chan_wake(sg, true);
        return true;
    }
    if (c->qcount < c->dataqsiz) {
        goc__chan_bufsend_locked(c, elem);
        goc__chan_unlock(c);
        return true;
    }
    if (!block) {
        goc__chan_unlock(c);
        return false;
    }

    /* Slow path: wait for a receiver. */
    goc_sudog me = {.g = goc__getg(), .elem = (void *)elem, .c = c};
    goc__waitq_enqueue(&c->sendq, &me);
    goc__race_release(&me);
    goc__park(unlock_chan, c, "chan send");
    /* Woken: the waker did everything under c->lock; c is not touched
     * again (see "Lifetime"). */
    if (unlikely(!me.success))
        goc_panic("send on closed channel");
    return true;
}

void goc_chan_send(goc_chan *c, const void *elem) { chansend(c, elem, true); }

static __attribute__((noinline)) int chan_try_send(goc_chan *c, const void *elem)
{
    return chansend(c, elem, false) ? GOC_CHAN_OK : -EAGAIN;
}

/* The failing answer in a leaf (no frame), the rest a tail call. */
int goc_chan_try_send(goc_chan *c, const void *elem)
{
    /* The failing poll laid out straight (likely): the success goes on to
     * take the lock, beside which a jump is nothing. */
    if (likely(c && goc__chan_nbsend_blocks(c)))
        return -EAGAIN;
    return chan_try_send(c, elem);
}

/* ---- Receive ---- */

/* Returns GOC_CHAN_OK, GOC_CHAN_CLOSED, or (only if !block) -EAGAIN.
 * Inline in both callers, so that a blocking receive is one frame above
 * goc__park, not two: a goroutine woken right after another one ended
 * (a close or a broadcast waking many) returns up a chain the CPU's
 * return-stack predictor gets wrong at every step, since the ended
 * goroutine's calls are what it holds (CancelBroadcast@1 79k -> 73k ns). */
static inline __attribute__((always_inline)) int chanrecv(goc_chan *c, void *out, bool block)
{
    if (!c) {
        if (!block)
            return -EAGAIN;
        goc__park(NULL, NULL, "chan receive (nil chan)");
        goc__fatal("unreachable");
    }
    goc__chan_check(c);
    /* Fast path of a failing non-blocking receive, as Go's: empty, then
     * not closed (would block); or closed and still empty (closed). */
    if (!block && goc__chan_empty(c)) {
        if (!atomic_load_explicit(&c->closed, memory_order_acquire))
            return -EAGAIN;
        if (goc__chan_empty(c)) {
            goc__race_acquire(c);
            if (out)
                memset(out, 0, c->elemsize);
            return GOC_CHAN_CLOSED;
        }
    }

    goc__chan_lock(c);
    if (atomic_load_explicit(&c->closed, memory_order_relaxed) && c->qcount == 0) {
        goc__chan_unlock(c);
        goc__race_acquire(c);
        if (out)
            memset(out, 0, c->elemsize);
        return GOC_CHAN_CLOSED;
    }
    goc_sudog *sg = goc__waitq_dequeue(&c->sendq);
    if (sg) {
        goc__chan_recv_locked(c, sg, out);
        goc__chan_unlock(c);
        goc__chan_wake(sg, true);
        return GOC_CHAN_OK;
    }
    if (c->qcount > 0) {
        goc__chan_bufrecv_locked(c, out);
        goc__chan_unlock(c);
        return GOC_CHAN_OK;
    }
    if (!block) {
        goc__chan_unlock(c);
        return -EAGAIN;
    }

    /* Slow path: wait for a sender or close. */
    goc_sudog me = {.g = goc__getg(), .elem = out, .c = c};
    goc__waitq_enqueue(&c->recvq, &me);
    goc__race_release(&me);
    goc__park(unlock_chan, c, "chan receive");
    /* Woken: the waker copied the value (or close zeroed *out) under
     * c->lock, and goc__ready ordered the waker before us; c is not touched
     * again (see "Lifetime"). */
    return me.success ? GOC_CHAN_OK : GOC_CHAN_CLOSED;
}

bool goc_chan_recv(goc_chan *c, void *out) { return chanrecv(c, out, true) == GOC_CHAN_OK; }

static __attribute__((noinline)) int chan_try_recv(goc_chan *c, void *out)
{
    return chanrecv(c, out, false);
}

/* As goc_chan_try_send. */
int goc_chan_try_recv(goc_chan *c, void *out)
{
    /* Also in the leaf: a closed, drained channel whose zero value nobody
     * wants (a poll of ctx.Done() once cancelled), as chanrecv's fast
     * path answers it. */
    if (likely(c && goc__chan_empty(c))) {
        GOC_CHAOS_POINT();
        if (likely(!atomic_load_explicit(&c->closed, memory_order_acquire)))
            return -EAGAIN;
        GOC_CHAOS_POINT();
        if (!out && goc__chan_empty(c)) {
            goc__race_acquire(c);
            return GOC_CHAN_CLOSED;
        }
    }
    return chan_try_recv(c, out);
}

/* ---- Close ---- */

void goc_chan_close(goc_chan *c)
{
    if (!c)
        goc_panic("close of nil channel");
    goc__chan_check(c);
    goc__chan_lock(c);
    if (atomic_load_explicit(&c->closed, memory_order_relaxed)) {
        goc__chan_unlock(c);
        goc_panic("close of closed channel");
    }
    goc__race_release(c);
    atomic_store_explicit(&c->closed, 1, memory_order_release);

    /* Every waiter: receivers (they get zero values) and senders (they
     * panic), woken after the unlock. Reading each next before waking its
     * sudog's G is all the walk needs: a waiter is parked until readied. */
    size_t elemsize = c->elemsize;
    goc_sudog *recvs = goc__waitq_take_all(&c->recvq);
    goc_sudog *sends = goc__waitq_take_all(&c->sendq);
    goc__chan_unlock(c);
    goc_p *burst = goc__ready_burst_begin();
    for (goc_sudog *sg = recvs, *next; sg; sg = next) {
        next = sg->next;
        if (next)
            __builtin_prefetch(next);
        if (sg->elem) {
            goc__race_acquire(sg);
            memset(sg->elem, 0, elemsize);
        }
        goc__chan_wake(sg, false);
    }
    for (goc_sudog *sg = sends, *next; sg; sg = next) {
        next = sg->next;
        goc__chan_wake(sg, false);
    }
    goc__ready_burst_end(burst);
}
