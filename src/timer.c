/* timer.c: timers, tickers and sleep: per-P 4-ary heaps, as Go's time.go.
 *
 * Every armed timer sits in exactly one P's heap (t->owner, at t->idx): the
 * P whose goroutine (re)armed it, P 0's for a plain thread (a spare P that
 * goes dormant hands its timers to a worker first). A sleeping goroutine
 * has no timer at all: its heap slot holds the goroutine itself (tagged
 * SLEEPER), since nobody stops or moves a sleep but the heap, and firing
 * it is readying the goroutine, without touching its cold stack for a
 * timer's lock and fields. A P runs its due timers on its g0, from the
 * scheduler loop (and a busy P detours there when its earliest timer is
 * due, see sched.c); an idle P also runs other Ps' due timers, so none is
 * stranded behind a goroutine that computes; and an idle P sleeps until
 * the earliest deadline of all heaps.
 *
 * Locking. t->lock guards a timer's state (active, when, period, seq, the
 * channel's contents for Go 1.23's "no stale value" rule); p->tlock guards
 * p's heap and the idx/owner of the timers in it. Order: t->lock, then
 * p->tlock. Firing pops the timer under p->tlock (marking it running),
 * drops that lock, then takes t->lock and fires only if seq still matches
 * what it popped: a stop or reset in between voids the fire. A timer's
 * memory may be freed only once it is not running (goc_timer_free waits).
 *
 * Heaps live in address space reserved per P (goc__os_reserve), not malloc:
 * the runtime's own memory must stay invisible to TSan. LeakSanitizer does
 * not scan that memory, yet an armed timer is held by the runtime (a
 * time.Tick ticker, a pending goc_after): in the ASan build the heaps' used
 * parts become root regions just before the exit-time leak check.
 *
 * Memory. A timer with a channel is one block with its channel, owned by
 * the channel's references (see "Timer blocks"); a goc_after_func timer is
 * a malloc of its own, owned by the caller.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "chan.h"
#include "goc/time.h"
#include "internal.h"
#include "race.h"

#define HEAP_MAX (1u << 24) /* timers per P */
#define ARY 4

/* A timer's lock, as TSan must see it: the runtime's spin locks are
 * invisible to it, and the goroutine that arms a timer, the P that fires it
 * and the goroutine that stops or frees it all touch the timer and its
 * channel. */
static void tmr_lock(goc__tmr *t)
{
    goc__spin_lock(&t->lock);
    goc__race_acquire(t);
}

static void tmr_unlock(goc__tmr *t)
{
    goc__race_release(t);
    goc__spin_unlock(&t->lock);
}

/* ---- Heaps (p->tlock held) ----
 *
 * A slot's pointer carries a tag in its low bit: SLEEPER, for a goroutine
 * in goc_sleep (a goc_g, not a timer). Nobody deletes a sleep, so it needs
 * no idx, which saves a store into a cold stack at each level a sift moves
 * it; of a timer, the sift keeps t->idx up to date.
 *
 * The slots start ARY - 1 places into a page-aligned mapping, so that the
 * four children of any node (ARY * i + 1 .. ARY * i + ARY) fill one 64-byte
 * cache line: each level of a sift down reads one line, not two. */

#define SLEEPER ((uintptr_t)1)
#define HEAP_SKEW (ARY - 1)

_Static_assert(sizeof(struct goc__tslot) * ARY == 64, "a node's children fill a cache line");

static inline bool slot_sleeper(struct goc__tslot s) { return (uintptr_t)s.t & SLEEPER; }

static inline goc__tmr *slot_timer(struct goc__tslot s) { return s.t; }

static inline goc_g *slot_g(struct goc__tslot s)
{
    return (goc_g *)((uintptr_t)s.t & ~SLEEPER);
}

static inline void heap_set(goc_p *p, uint32_t i, struct goc__tslot s)
{
    p->theap[i] = s;
    if (!slot_sleeper(s))
        s.t->idx = (int32_t)i;
}

static void sift_up(goc_p *p, uint32_t i)
{
    struct goc__tslot s = p->theap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / ARY;
        if (p->theap[parent].when <= s.when)
            break;
        heap_set(p, i, p->theap[parent]);
        i = parent;
    }
    heap_set(p, i, s);
}

/* Returns where the slot at i ends up. */
static uint32_t sift_down(goc_p *p, uint32_t i)
{
    struct goc__tslot s = p->theap[i];
    uint32_t n = p->ntimers;
    for (;;) {
        uint32_t c = i * ARY + 1, best = i;
        if (c >= n)
            break;
        int64_t w = s.when;
        const struct goc__tslot *kids = &p->theap[c];
        uint32_t nk = n - c < ARY ? n - c : ARY;
        for (uint32_t k = 0; k < nk; k++) {
            if (kids[k].when < w) {
                w = kids[k].when;
                best = c + k;
            }
        }
        if (best == i)
            break;
        heap_set(p, i, p->theap[best]);
        i = best;
    }
    heap_set(p, i, s);
    return i;
}

static void update_timer0(goc_p *p)
{
    atomic_store_explicit(&p->timer0, p->ntimers ? p->theap[0].when : INT64_MAX,
                          memory_order_release);
}

static void heap_remove_at(goc_p *p, uint32_t i)
{
    if (!slot_sleeper(p->theap[i]))
        slot_timer(p->theap[i])->idx = -1;
    uint32_t last = --p->ntimers;
    if (i != last) {
        heap_set(p, i, p->theap[last]);
        if (sift_down(p, i) == i) /* it did not belong lower: maybe higher */
            sift_up(p, i);
    }
    update_timer0(p);
}

/* ---- LeakSanitizer ---- */

#if defined(GOC_SANITIZE_ADDRESS)
void __lsan_register_root_region(const void *p, size_t size);

/* Runs at exit before LSan's own check, which LSan registered with atexit
 * before main (atexit handlers run last registered, first). */
static void lsan_heap_roots(void)
{
    for (int i = 0; i < goc__sched_nallp(); i++) {
        goc_p *p = goc__sched_allp(i);
        goc__spin_lock(&p->tlock);
        if (p->ntimers)
            __lsan_register_root_region(p->theap, sizeof *p->theap * p->ntimers);
        goc__spin_unlock(&p->tlock);
    }
}

static void lsan_watch_heaps(void)
{
    static atomic_bool done;
    if (!atomic_exchange_explicit(&done, true, memory_order_relaxed))
        atexit(lsan_heap_roots);
}
#else
static void lsan_watch_heaps(void) {}
#endif

/* ---- Adding and deleting ---- */

/* Puts slot s in p's heap (p->tlock held); true if it is now the earliest. */
static bool heap_push(goc_p *p, struct goc__tslot s)
{
    if (!p->theap) {
        struct goc__tslot *base =
            goc__os_reserve(sizeof(struct goc__tslot) * (HEAP_MAX + HEAP_SKEW));
        if (!base)
            goc__fatal("out of memory for timers");
        p->theap = base + HEAP_SKEW;
        lsan_watch_heaps();
    }
    if (p->ntimers == HEAP_MAX)
        goc__fatal("too many timers on one worker");
    uint32_t i = p->ntimers++;
    heap_set(p, i, s);
    sift_up(p, i);
    update_timer0(p);
    return p->theap[0].t == s.t;
}

/* Adds slot s (a timer, its lock held, or a sleeper) to p's heap. */
static void slot_add_to(goc_p *p, struct goc__tslot s)
{
    goc__spin_lock(&p->tlock);
    if (!slot_sleeper(s))
        s.t->owner = p;
    bool earliest = heap_push(p, s);
    goc__spin_unlock(&p->tlock);
    if (earliest)
        goc__sched_timer_added(p);
}

static goc_p *this_p(void)
{
    goc_p *p = goc__getp();
    return p ? p : goc__sched_allp(0);
}

void goc__timer_add(goc__tmr *t)
{
    slot_add_to(this_p(), (struct goc__tslot){t->when, t});
}

bool goc__timer_del(goc__tmr *t)
{
    goc_p *p = t->owner;
    if (!p)
        return false;
    goc__spin_lock(&p->tlock);
    bool was = t->idx >= 0;
    if (was)
        heap_remove_at(p, (uint32_t)t->idx);
    goc__spin_unlock(&p->tlock);
    return was;
}

/* Moves an armed timer to its new t->when (t->lock held): in place, on
 * the P whose heap holds it (one sift, as Go's modtimer leaves a timer on
 * its P), or, if it is in none (stopped, fired, or popped by a fire or a
 * move in flight, which will see idx >= 0 and leave it), on this P's. */
static void timer_rearm(goc__tmr *t)
{
    goc_p *p = t->owner;
    if (p) {
        goc__spin_lock(&p->tlock);
        if (t->idx >= 0) {
            uint32_t i = (uint32_t)t->idx;
            p->theap[i].when = t->when;
            if (sift_down(p, i) == i)
                sift_up(p, i);
            bool earliest = p->theap[0].t == t;
            update_timer0(p);
            goc__spin_unlock(&p->tlock);
            if (earliest)
                goc__sched_timer_added(p);
            return;
        }
        goc__spin_unlock(&p->tlock);
    }
    goc__timer_add(t);
}

/* ---- Firing ---- */

/* Fires p's due timers, but readies at most one sleeping goroutine per
 * call: goc__ready puts it in this P's runnext, so it runs next, and with
 * more timers due the P detours back here at its next switch (sched.c
 * checks timer0 at every switch). Woken sleepers thus run ahead of the rest
 * of the run queue (new goroutines, yielders), a batch of them never
 * overflows the ring onto the global queue (where each would wait behind
 * fresh work, taken one per 61 schedules), and the earliest deadline runs
 * first. A channel timer's fire readies its receiver itself and does not
 * end the batch. */
void goc__timers_run(goc_p *p, int64_t now)
{
    if (atomic_load_explicit(&p->timer0, memory_order_acquire) > now)
        return;
    for (;;) {
        goc__spin_lock(&p->tlock);
        if (!p->ntimers || p->theap[0].when > now) {
            goc__spin_unlock(&p->tlock);
            return;
        }
        struct goc__tslot s = p->theap[0];
        if (slot_sleeper(s)) {
            heap_remove_at(p, 0);
            goc__spin_unlock(&p->tlock);
            goc__ready(slot_g(s));
            return; /* one at a time: see goc__timers_run's comment */
        }
        goc__tmr *t = slot_timer(s);
        atomic_store_explicit(&t->running, 1, memory_order_relaxed);
        heap_remove_at(p, 0);
        goc__spin_unlock(&p->tlock);

        tmr_lock(t);
        goc_g *wake = NULL;
        void (*done)(goc__tmr *) = NULL;
        if (t->active && t->idx < 0) {
            if (t->period > 0) {
                /* A ticker: next multiple of the period after now, so a
                 * late or slow one skips ticks instead of bunching them. */
                t->when += t->period * (1 + (now - t->when) / t->period);
                goc__timer_add(t);
            } else {
                t->active = false;
                done = t->done;
            }
            wake = t->fire(t, now);
        }
        tmr_unlock(t);
        atomic_store_explicit(&t->running, 0, memory_order_release);
        if (done)
            done(t);
        if (wake) {
            goc__ready(wake); /* the last touch: t may live on wake's stack */
            return;           /* one at a time: see goc__timers_run's comment */
        }
    }
}

/* As firing does: pop under from's lock (marked running, so no one frees
 * it), then re-add under the timer's own lock unless a stop or reset came
 * in between (that one re-armed it, or left it stopped). A sleeper just
 * moves. */
void goc__timers_move(goc_p *from, goc_p *to)
{
    for (;;) {
        goc__spin_lock(&from->tlock);
        if (!from->ntimers) {
            goc__spin_unlock(&from->tlock);
            return;
        }
        struct goc__tslot s = from->theap[0];
        if (slot_sleeper(s)) {
            heap_remove_at(from, 0);
            goc__spin_unlock(&from->tlock);
            slot_add_to(to, s);
            continue;
        }
        goc__tmr *t = slot_timer(s);
        atomic_store_explicit(&t->running, 1, memory_order_relaxed);
        heap_remove_at(from, 0);
        goc__spin_unlock(&from->tlock);
        tmr_lock(t);
        if (t->active && t->idx < 0)
            slot_add_to(to, (struct goc__tslot){t->when, t});
        tmr_unlock(t);
        atomic_store_explicit(&t->running, 0, memory_order_release);
    }
}

int64_t goc__timers_next(void)
{
    int64_t next = INT64_MAX;
    for (int i = 0; i < goc__sched_nallp(); i++) {
        int64_t w = atomic_load_explicit(&goc__sched_allp(i)->timer0, memory_order_acquire);
        if (w < next)
            next = w;
    }
    return next;
}

bool goc__timers_pending(void) { return goc__timers_next() != INT64_MAX; }

/* ---- Timers embedded in other runtime objects ---- */

void goc__tmr_start(goc__tmr *t, int64_t when)
{
    tmr_lock(t);
    t->active = true;
    t->when = when;
    goc__timer_add(t);
    tmr_unlock(t);
}

void goc__tmr_stop_sync(goc__tmr *t)
{
    tmr_lock(t);
    t->active = false;
    t->seq++;
    goc__timer_del(t);
    tmr_unlock(t);
    while (atomic_load_explicit(&t->running, memory_order_acquire))
        goc_yield();
    goc__race_acquire(t);
}

/* ---- Sleep ---- */

/* Runs once the sleeper has switched away (goc__park's unlock): from here
 * on the heap holds it, and firing the slot readies it. */
static bool sleep_arm(goc_g *g, void *arg)
{
    int64_t when = *(const int64_t *)arg;
    slot_add_to(this_p(), (struct goc__tslot){when, (goc__tmr *)((uintptr_t)g | SLEEPER)});
    return true;
}

int64_t goc_now(void) { return goc__nanotime(); }

void goc_sleep(int64_t d)
{
    if (d <= 0)
        return;
    goc__sched_start();
    int64_t when = goc__nanotime() + d;
    goc__park(sleep_arm, &when, "sleep");
}

/* ---- Timers and tickers with a channel ---- */

struct goc_timer {
    goc__tmr t;
    goc_chan *c;       /* NULL for goc_after_func */
};

/* A goc_after_func timer: the function runs in a goroutine of its own. */
struct func_timer {
    struct goc_timer tm; /* first: freed as a goc_timer */
    goc_fn fn;
    void *arg;
};

struct goc_ticker {
    struct goc_timer tm;
};

/* Go 1.23: no value from before a stop or reset can be received after it
 * (tm->t.lock held). t.sent: a fire may have left a value in c since the
 * last drain; stop and reset look at the channel only then, so a timer
 * that never fired is stopped without touching it. */
static void drain(struct goc_timer *tm)
{
    int64_t stale;
    if (!tm->t.sent)
        return;
    tm->t.sent = false;
    while (goc_chan_try_recv(tm->c, &stale) == GOC_CHAN_OK)
        ;
}

static goc_g *chan_fire(goc__tmr *t, int64_t now)
{
    struct goc_timer *tm = GOC__CONTAINER(t, struct goc_timer, t);
    if (goc_chan_try_send(tm->c, &now) == GOC_CHAN_OK) /* full: the tick is dropped */
        t->sent = true;
    return NULL;
}

static goc_g *func_fire(goc__tmr *t, int64_t now)
{
    (void)now;
    struct func_timer *ft = GOC__CONTAINER(t, struct func_timer, tm.t);
    if (goc_go_at(ft->fn, ft->arg, NULL, "goc_after_func", 0) < 0)
        goc__fatal("out of memory starting an AfterFunc goroutine");
    return NULL;
}

/* Arms tm (zeroed): c (or else a func_timer's function) says what firing
 * does; done, if set, runs once it has fired (a timer nobody else holds). */
static struct goc_timer *timer_arm(struct goc_timer *tm, int64_t d, int64_t period, goc_chan *c,
                                   void (*done)(goc__tmr *))
{
    goc__sched_start();
    tm->c = c;
    tm->t.lock = (goc_spinlock)GOC_SPINLOCK_INIT;
    tm->t.idx = -1;
    tm->t.fire = c ? chan_fire : func_fire;
    tm->t.done = done;
    tmr_lock(&tm->t);
    tm->t.active = true;
    tm->t.period = period;
    tm->t.when = goc__nanotime() + (d > 0 ? d : 0);
    goc__timer_add(&tm->t);
    tmr_unlock(&tm->t);
    return tm;
}

/* ---- Timer blocks ----
 *
 * A timer with a channel (goc_timer_new, goc_ticker_new, goc_after) is one
 * block: the timer, the channel's one-value buffer and the channel. The
 * channel's references own the block: the timer holds one (dropped by
 * goc_timer_free, or by goc_after's timer once it has fired), each
 * goc_chan_retain another, and the last goc_chan_release frees the block
 * (chan.c hands an embedded channel back: goc__chan_free_embedded). So a
 * channel kept after its timer is freed stays valid, as in Go.
 *
 * Blocks come from free lists, one per P plus one for plain threads,
 * refilled a chunk at a time. A chunk is CHUNK bytes, above glibc's mmap
 * threshold: a program that arms a million timers at once maps a few
 * hundred chunks, where a malloc per timer and channel grew each thread's
 * arena 128 KB at a time with mprotect under the address-space lock, which
 * the page faults of every other thread then wait for (timer_churn at 16
 * workers ran slower than at 4). A freed block goes on the list of the P
 * that frees it, or the plain threads' list: the memory stays with goc
 * for reuse, as much as the most timers ever live at once, never returned
 * to the system. A P's list is only touched by the thread running that P,
 * between two switches (nothing here parks): no lock; the plain threads'
 * list has one. Under ASan each block is a malloc of its own, so that a
 * use after free is caught. */

struct tblock {
    union {
        struct goc_timer tm; /* first: a goc_ticker is a goc_timer */
        struct tblock *next; /* on a free list */
    };
    int64_t buf;             /* the channel's buffer, ahead of it (chan.c) */
    goc_chan c;
} __attribute__((aligned(64)));
/* Three cache lines: the timer's first (all a stop or reset of a timer
 * that has not fired touches), the channel in the other two. A million
 * timers are 47,000 pages (62,500 at 256 bytes), each a page fault the
 * first time. */
_Static_assert(sizeof(struct tblock) == 192, "a timer block is three cache lines");

#define CHUNK (256 * 1024)

#if defined(GOC_SANITIZE_ADDRESS)
static struct tblock *tblock_get(void) { return aligned_alloc(64, sizeof(struct tblock)); }
static void tblock_put(struct tblock *b) { free(b); }
#else
static goc_spinlock thread_blocks_lock = GOC_SPINLOCK_INIT;
static struct tblock *thread_blocks;

/* Carves a fresh chunk into blocks: returns one, the rest on *list. */
static struct tblock *tblock_refill(struct tblock **list)
{
    struct tblock *chunk = aligned_alloc(64, CHUNK);
    if (!chunk)
        return NULL;
    size_t n = CHUNK / sizeof *chunk;
    for (size_t i = 1; i < n; i++) {
        chunk[i].next = *list;
        *list = &chunk[i];
    }
    return chunk;
}

static struct tblock *tblock_get(void)
{
    goc_p *p = goc__getp();
    struct tblock *b;
    if (p) {
        struct tblock **list = (struct tblock **)&p->tfree;
        if (!(b = *list))
            return tblock_refill(list);
        *list = b->next;
    } else {
        goc__spin_lock(&thread_blocks_lock);
        if ((b = thread_blocks))
            thread_blocks = b->next;
        else
            b = tblock_refill(&thread_blocks);
        goc__spin_unlock(&thread_blocks_lock);
    }
    /* Every touch of the block's last life happened before the last
     * release of its channel, which released here. */
    goc__race_acquire(b);
    return b;
}

static void tblock_put(struct tblock *b)
{
    goc__race_release(b);
    goc_p *p = goc__getp();
    if (p) {
        b->next = p->tfree;
        p->tfree = b;
    } else {
        goc__spin_lock(&thread_blocks_lock);
        b->next = thread_blocks;
        thread_blocks = b;
        goc__spin_unlock(&thread_blocks_lock);
    }
}
#endif

void goc__chan_free_embedded(goc_chan *c)
{
    tblock_put(GOC__CONTAINER(c, struct tblock, c));
}

/* A timer whose channel, in the same block, has capacity 1; refs: the
 * channel's references besides the timer's (goc_after's caller). */
static struct goc_timer *chan_timer_new(int64_t d, int64_t period, int32_t refs,
                                        void (*done)(goc__tmr *))
{
    struct tblock *b = tblock_get();
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    memset(&b->tm, 0, sizeof b->tm);
    goc__chan_init(&b->c, sizeof(int64_t), 1, (char *)&b->buf);
    atomic_store_explicit(&b->c.refs, 1 + refs, memory_order_relaxed);
    return timer_arm(&b->tm, d, period, &b->c, done);
}

goc_timer *goc_timer_new(int64_t d) { return chan_timer_new(d, 0, 0, NULL); }

goc_chan *goc_timer_chan(goc_timer *t) { return t ? t->c : NULL; }

bool goc_timer_stop(goc_timer *tm)
{
    tmr_lock(&tm->t);
    bool was = tm->t.active;
    tm->t.active = false;
    tm->t.seq++;
    goc__timer_del(&tm->t);
    drain(tm);
    tmr_unlock(&tm->t);
    return was;
}

static void rearm_locked(struct goc_timer *tm, int64_t d, int64_t period)
{
    tm->t.seq++;
    drain(tm);
    tm->t.period = period;
    tm->t.active = true;
    tm->t.when = goc__nanotime() + (d > 0 ? d : 0);
    timer_rearm(&tm->t);
}

bool goc_timer_reset(goc_timer *tm, int64_t d)
{
    tmr_lock(&tm->t);
    bool was = tm->t.active;
    rearm_locked(tm, d, tm->t.period);
    tmr_unlock(&tm->t);
    return was;
}

void goc_timer_free(goc_timer *tm)
{
    if (!tm)
        return;
    tmr_lock(&tm->t);
    tm->t.active = false;
    tm->t.seq++;
    goc__timer_del(&tm->t);
    tmr_unlock(&tm->t);
    /* A fire in flight on some P still holds a pointer to it. */
    while (atomic_load_explicit(&tm->t.running, memory_order_acquire))
        goc_yield();
    goc__race_acquire(&tm->t); /* after the last fire's release */
    if (tm->c)
        goc_chan_release(tm->c); /* the timer's reference: may free the block */
    else
        free(tm);
}

goc_timer *goc_after_func(int64_t d, goc_fn fn, void *arg)
{
    if (!fn)
        return NULL;
    struct func_timer *ft = calloc(1, sizeof *ft);
    if (!ft)
        return NULL;
    ft->fn = fn;
    ft->arg = arg;
    return timer_arm(&ft->tm, d, 0, NULL, NULL);
}

/* goc_after's timer: nobody else holds it, so it drops its reference once
 * fired (run by goc__timers_run after its last touch). */
static void after_done(goc__tmr *t)
{
    goc_chan_release(GOC__CONTAINER(t, struct goc_timer, t)->c);
}

goc_chan *goc_after(int64_t d)
{
    /* Two references: the caller's and the timer's. */
    struct goc_timer *tm = chan_timer_new(d, 0, 1, after_done);
    return tm ? tm->c : NULL;
}

goc_ticker *goc_ticker_new(int64_t d)
{
    if (d <= 0) {
        errno = EINVAL;
        return NULL;
    }
    return (goc_ticker *)chan_timer_new(d, d, 0, NULL);
}

goc_chan *goc_ticker_chan(goc_ticker *t) { return t ? t->tm.c : NULL; }

void goc_ticker_stop(goc_ticker *t) { (void)goc_timer_stop(&t->tm); }

void goc_ticker_reset(goc_ticker *t, int64_t d)
{
    if (d <= 0)
        goc_panic("non-positive interval for Ticker.Reset");
    tmr_lock(&t->tm.t);
    rearm_locked(&t->tm, d, d);
    tmr_unlock(&t->tm.t);
}

void goc_ticker_free(goc_ticker *t) { goc_timer_free(t ? &t->tm : NULL); }

goc_chan *goc_tick(int64_t d)
{
    goc_ticker *t = goc_ticker_new(d);
    return t ? t->tm.c : NULL; /* never stopped, as time.Tick's */
}
