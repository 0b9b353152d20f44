/* context.c: Go's package context: cancellation trees, deadlines, values,
 * AfterFunc, and the context-aware channel and sleep calls.
 *
 * Kinds. Background and TODO are static. A cancel context (WithCancel,
 * WithCancelCause) and a timer context (WithDeadline, WithTimeout: a cancel
 * context with an embedded runtime timer) are "cancellable": a struct cctx
 * with its own error, cause, done channel and child list. A value context
 * (WithValue) and a WithoutCancel context only carry values. Every context
 * has h.cc, the cctx whose error and done channel it reports: itself when
 * cancellable, its parent's cc for a value context, and the static `never`
 * (which never ends) for Background, TODO and WithoutCancel. So goc_ctx_err
 * is ctx->cc->err: one atomic load.
 *
 * Invariants of a cctx c:
 *  - c->err is 0 until the first cancel, then fixed. The cause is written
 *    before err (release), so a reader that sees err sees the cause.
 *  - c->done is NULL until goc_ctx_done asks for it or c ends; the first
 *    cancel closes it, or sets it to the shared closed channel. err is set
 *    before done is closed, so a goroutine woken by Done sees err.
 *  - c's child lists hold the nodes (derived cctxs, AfterFuncs, watchers)
 *    whose `linked` flag is set; a node's list (node->list, set when it is
 *    linked) guards that flag. c has its own list, guarded by c's lock, and
 *    once a link has found c's lock held by someone else, one list per
 *    worker (c->shards, each with its lock, alone on a cache line): a
 *    context that every worker derives from then takes no lock that other
 *    workers take too. A linker checks err under its list's lock. The first
 *    cancel sets err under c's lock, then empties c's list and each shard
 *    under that one's lock, and from then on the canceller owns the links
 *    of the nodes it took. A cctx is in one of its parent's lists (p = its
 *    pcc, the parent's cc) iff linked: linked when it is made while p
 *    lives, unlinked by its own cancel (which removes it) or by p's (which
 *    takes every list). An ended cctx is never linked.
 *
 * Locking. A context's lock (c->list.lock) and its shards' locks are
 * runtime spin locks, held for short sections only: never across a park, a
 * goroutine start or a channel close. They never nest: a child is made and
 * linked under one of its parent's list locks alone, and a cancel takes
 * each lock in turn. Watchers' functions run under their list's lock and
 * may take their waiter's lock (so a waiter's lock is never held while
 * taking a context's). A cancel walks the subtree
 * iteratively, breadth first, through the detached lists (no recursion, so
 * a deep chain needs no deep stack): for each context it sets the error
 * and takes the list under that context's lock, then closes the done
 * channel, stops the timer and starts AfterFuncs after dropping it. A
 * second cancel of a context returns at once, possibly before the first
 * one has reached every descendant.
 *
 * References (refs). A context holds one on its parent; the owner holds
 * the one goc_with_* returned; goc_ctx_retain adds more; an AfterFunc
 * handle holds one on its context; a canceller holds one on each child it
 * took from a list until it is done with it; a firing deadline holds one
 * on its context until its goroutine has cancelled it. The last unref
 * frees the context (after cancelling it, so it is out of its parent's
 * list and its timer is stopped and not firing) and unrefs its parent, in
 * a loop. Child lists hold no references: a context leaves its parent's
 * list before it can be freed.
 *
 * One exception keeps the shared parent's counter out of the common path
 * (many children of one parent, each made and released in turn): a cctx
 * whose parent is itself cancellable (so the parent is its pcc) does not
 * count a reference to it while it is in one of the parent's lists: its
 * place there stands for it, and the parent cannot be freed while a list
 * is not empty (its free cancels it first, which empties them). When it
 * leaves the list, under that list's lock, the place becomes a counted
 * reference (parent_counted): the parent's cancel adds one per child it
 * takes, a child's own cancel adds its own, except when the child is
 * being released by the only reference left (goc_ctx_release with
 * refs == 1): then it is freed at once and never uses its parent again.
 * A plain cancel context released by its only holder, with nothing ever
 * linked under it and no done channel, is not even cancelled: nobody can
 * observe it, so it is unlinked from its parent and freed (release_quiet).
 *
 * Deadlines. The timer fires on a P's g0, where no lock of ours may be
 * taken and nothing may wait: it only starts a goroutine that cancels (as
 * Go's time.AfterFunc does), with a reference taken if the context is not
 * already being freed.
 *
 * Happens-before, for TSan (this file is not instrumented): a cancel
 * publishes on its cctx before setting err; goc_ctx_err and goc_ctx_cause
 * acquire when they see it set; the done channel's close carries its own
 * edge.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "goc/context.h"
#include "goc/time.h"
#include "internal.h"
#include "race.h"

enum { CTX_BACKGROUND, CTX_TODO, CTX_NEVER, CTX_CANCEL, CTX_TIMER, CTX_VALUE, CTX_WITHOUT };
enum { NODE_CTX, NODE_AFTER, NODE_WATCH };

typedef struct cctx cctx;

/* The header every kind starts with: immutable after creation, so the
 * walks of goc_ctx_value and goc_ctx_err through a parent never miss in
 * the cache because someone else is deriving from it. (The reference
 * count, which derivations write, is in each kind's own part.) */
struct goc_ctx {
    uint8_t kind;          /* CTX_* */
    struct goc_ctx *parent; /* a reference; NULL for the static ones */
    cctx *cc;              /* whose err and done this context reports */
    int64_t deadline;      /* INT64_MAX: none */
};

/* A list of children and the lock that guards it, and its nodes' `linked`
 * flags. A context's own list's lock is also the context's lock. */
typedef struct goc__ctx_list {
    goc_spinlock lock;
    goc__ctx_node *head, *tail;
    size_t n;
} ctx_list;

/* One worker's share of a busy parent's children, alone on its line. */
typedef struct {
    ctx_list l;
} __attribute__((aligned(64))) ctx_shard;

struct cctx {
    struct goc_ctx h;
    _Atomic int32_t err;
    int32_t cause;
    goc_chan *_Atomic done;
    cctx *pcc;                 /* the cctx it is linked under; NULL: none */
    /* One list per worker (nshards), made the first time a link found
     * the context's lock held; NULL until then. Set under that lock while
     * the context has not ended, never changed again, and it implies
     * had_children. With the header: what deriving from it reads. */
    ctx_shard *_Atomic shards;
    /* What deriving and cancelling children write (the lock, the list,
     * the references) starts 64 bytes past the header's end: never in one
     * of the header's cache lines, whatever malloc's alignment. */
    char pad_[32];
    ctx_list list;             /* its lock, and children (all, until shards) */
    _Atomic int32_t refs;
    goc__ctx_node node;        /* in pcc's list or one of its shards */
    bool parent_counted;       /* holds a counted reference to its parent (below) */
    bool had_children;         /* something was ever linked under it (release_quiet) */
};
_Static_assert(offsetof(cctx, list) - sizeof(struct goc_ctx) >= 64, "cctx layout");

typedef struct {
    cctx c;
    goc__tmr tmr;
    int32_t dcause;            /* the cause when the deadline ends it */
} tctx;

/* A value context's lookup data is immutable after creation. Besides its
 * own pair it copies the pairs of its VALUE_UP nearest value ancestors
 * (up[], nearest first) and points past them (skip: the next value
 * ancestor, NULL when none), so a lookup that misses loads one record per
 * VALUE_UP + 1 values instead of walking every parent: the walk is a chain
 * of dependent loads, as long as the chain of records it visits. Ancestors
 * live as long as their descendants (each context holds its parent), so
 * vparent and skip need no references. A WithoutCancel context (also a
 * vctx) carries no value: lookups pass over it as over a cancel context. */
enum { VALUE_UP = 2 };

typedef struct vctx {
    struct goc_ctx h;
    const void *key;
    void *val;
    _Atomic int32_t refs;
    uint32_t nup;              /* pairs in up[] */
    struct vctx *vparent;      /* the nearest value ancestor; NULL: none */
    struct vctx *skip;         /* the nearest value ancestor not in up[] */
    struct { const void *key; void *val; } up[VALUE_UP];
} vctx;

struct goc_ctx_after {
    goc__ctx_node node;
    goc_fn fn;
    void *arg;
    _Atomic int32_t refs;      /* the handle's, and the list's while linked */
    _Atomic uint32_t stopped;  /* a context that never ends: stop() ran */
    cctx *cc;                  /* NULL: the context never ends */
    goc_ctx *ctx;              /* a reference, when cc is set */
};

static cctx never = {.h = {.kind = CTX_NEVER, .cc = &never, .deadline = INT64_MAX}};
static struct goc_ctx background = {.kind = CTX_BACKGROUND, .cc = &never, .deadline = INT64_MAX};
static struct goc_ctx todo = {.kind = CTX_TODO, .cc = &never, .deadline = INT64_MAX};

goc_ctx *goc_background(void) { return &background; }
goc_ctx *goc_todo(void) { return &todo; }

static inline bool is_static(const goc_ctx *c) { return c->kind <= CTX_NEVER; }
static inline bool cancellable(const goc_ctx *c) { return c->kind == CTX_CANCEL || c->kind == CTX_TIMER; }

/* A zeroed context record. Not calloc: glibc's calloc always takes
 * malloc's slow path (it bypasses the per-thread cache), which doubled the
 * cost of a WithCancel + cancel pair; malloc and zeroing a few cache lines
 * stay in that cache. */
static inline __attribute__((always_inline)) void *ctx_zalloc(size_t size)
{
    void *p = malloc(size);
    if (!p)
        return NULL;
    /* Hides p from the compiler, which would fold malloc + memset back
     * into calloc. Inline, so that size is a constant. */
    __asm__ volatile("" : "+r"(p));
    /* Not memset either: for a record this size gcc emits rep stos, whose
     * start-up cost a WithCancel more than the rest of its set-up. Vector
     * stores, unrolled (malloc's memory is 16-byte aligned). */
    typedef uint64_t v16 __attribute__((vector_size(16), may_alias));
#pragma GCC unroll 32
    for (size_t i = 0; i < size / 16; i++)
        ((v16 *)p)[i] = (v16){0, 0};
    memset((char *)p + size / 16 * 16, 0, size % 16);
    return p;
}

/* The first reference of a context nobody else can see yet: a plain
 * store (assigning to the _Atomic field would be a sequentially consistent
 * store, an xchg on x86). Whoever gets the context later gets it through
 * a lock or a return, which orders this store before their accesses. */
static inline void refs_init(_Atomic int32_t *refs, int32_t n)
{
    atomic_store_explicit(refs, n, memory_order_relaxed);
}

/* ---- References ---- */

static inline _Atomic int32_t *refs_of(goc_ctx *c)
{
    return cancellable(c) ? &((cctx *)c)->refs : &((vctx *)c)->refs;
}

static inline goc_ctx *ref(goc_ctx *c)
{
    if (!is_static(c))
        atomic_fetch_add_explicit(refs_of(c), 1, memory_order_relaxed);
    return c;
}

/* A reference on a context that may be in the middle of being freed: none
 * is taken then. */
static bool try_ref(goc_ctx *c)
{
    _Atomic int32_t *refs = refs_of(c);
    int32_t r = atomic_load_explicit(refs, memory_order_relaxed);
    GOC_CHAOS_POINT(); /* the last reference may go now */
    while (r > 0)
        if (atomic_compare_exchange_weak_explicit(refs, &r, r + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    return false;
}

static void ctx_cancel(cctx *c, int32_t err, int32_t cause, bool remove, bool releasing);

/* Go's closedchan: the done channel of a context that ended before anyone
 * asked for one. Made once, never freed; contexts hold no reference to it. */
static goc_chan *_Atomic closedchan;

/* TSan sees the frees (malloc is intercepted), not the atomics: every
 * drop publishes on the object and the last one acquires, so the free is
 * ordered after every use by every holder. */
static inline bool drop(_Atomic int32_t *refs, void *obj)
{
    goc__race_release(obj);
    if (atomic_fetch_sub_explicit(refs, 1, memory_order_acq_rel) != 1)
        return false;
    goc__race_acquire(obj);
    return true;
}

static void unref(goc_ctx *c)
{
    while (c && !is_static(c) && drop(refs_of(c), c)) {
        goc_ctx *parent = c->parent;
        if (cancellable(c)) {
            cctx *cc = (cctx *)c;
            if (unlikely(!atomic_load_explicit(&cc->err, memory_order_acquire))) {
                /* Never cancelled (its owner gave its reference back with
                 * goc_ctx_unref): cancel it now, under a reference of its
                 * own, since the cancel may turn its children's places
                 * into references to it. */
                atomic_store_explicit(&cc->refs, 1, memory_order_relaxed);
                ctx_cancel(cc, -ECANCELED, 0, true, false);
                if (!drop(&cc->refs, cc))
                    return; /* its children free it */
            }
            /* Ended, so out of its parent's list, its timer stopped. */
            if (!cc->parent_counted)
                parent = NULL;
            goc_chan *d = atomic_load_explicit(&cc->done, memory_order_relaxed);
            if (d != atomic_load_explicit(&closedchan, memory_order_relaxed))
                goc_chan_release(d); /* its own, not the shared one */
            free(atomic_load_explicit(&cc->shards, memory_order_relaxed));
        }
        free(c);
        c = parent; /* a loop, not recursion: chains may be long */
    }
}

/* ---- The shared closed channel (Go's closedchan) ---- */

static goc_chan *closed_chan(void)
{
    goc_chan *c = atomic_load_explicit(&closedchan, memory_order_acquire);
    if (likely(c))
        return c;
    goc_chan *n = goc_chan_make(0, 0);
    if (!n)
        goc__fatal("out of memory making a context's done channel");
    goc_chan_close(n);
    if (!atomic_compare_exchange_strong_explicit(&closedchan, &c, n, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        goc_chan_release(n);
        return c;
    }
    return n;
}

/* ---- Child lists (the list's lock held) ---- */

/* Links n into l, one of c's lists. */
static void list_add(cctx *c, ctx_list *l, goc__ctx_node *n)
{
    n->next = NULL;
    n->prev = l->tail;
    if (l->tail)
        l->tail->next = n;
    else
        l->head = n;
    l->tail = n;
    n->list = l;
    n->linked = true;
    l->n++;
    /* (Linking into a shard: shards_make_locked set it, and a parent
     * shared by every worker has no line written at each link.) */
    if (l == &c->list)
        c->had_children = true;
}

static void list_del(goc__ctx_node *n)
{
    ctx_list *l = n->list;
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
    n->linked = false;
    l->n--;
}

/* The list a new child of c goes into: this worker's shard once c has
 * shards, else c's own. Any list is correct from any thread (each has its
 * lock); the shard only keeps a worker's links off the others' lines. */
static ctx_list *list_for(cctx *c)
{
    ctx_shard *s = atomic_load_explicit(&c->shards, memory_order_acquire);
    if (s) {
        goc_p *p = goc__getp();
        if (p && p->id < goc__sched_nprocs())
            return &s[p->id].l;
    }
    return &c->list;
}

/* The number of shards in s: one per worker (the worker count is fixed
 * once goc runs, and shards are only made while it runs). */
static inline int nshards(const ctx_shard *s) { return s ? goc__sched_nprocs() : 0; }

/* A link found c's lock held: give c one list per worker (c's lock held,
 * c not ended). Under the lock, so that a cancel, which sets err under the
 * same lock, either sees the shards and empties them or made err visible
 * to everyone who finds them. (The allocation is under the lock too: once
 * per context, and it never parks.) */
static void shards_make_locked(cctx *c)
{
    int n = goc__sched_nprocs();
    if (n < 2 || atomic_load_explicit(&c->shards, memory_order_relaxed))
        return;
    ctx_shard *s = aligned_alloc(_Alignof(ctx_shard), sizeof *s * (size_t)n);
    if (!s)
        return; /* c's own list serves, as before */
    memset(s, 0, sizeof *s * (size_t)n);
    c->had_children = true; /* for the links into the shards */
    atomic_store_explicit(&c->shards, s, memory_order_release);
}

static inline cctx *node_cctx(goc__ctx_node *n)
{
    return (cctx *)((char *)n - offsetof(cctx, node));
}

static inline goc_ctx_after *node_after(goc__ctx_node *n)
{
    return (goc_ctx_after *)((char *)n - offsetof(goc_ctx_after, node));
}

static void after_unref(goc_ctx_after *a)
{
    if (drop(&a->refs, a)) {
        unref(a->ctx);
        free(a);
    }
}

/* ---- Cancelling ---- */

/* Empties l, one of c's lists, which c's cancel ended (l's lock held):
 * runs the watchers, references the child contexts, appends those and the
 * AfterFuncs to the work list at wtail. Returns its new tail. */
static goc__ctx_node **take_list(cctx *c, ctx_list *l, int32_t err, goc__ctx_node **wtail)
{
    goc__ctx_node *n = l->head;
    while (n) {
        goc__ctx_node *next = n->next;
        n->linked = false;
        if (n->kind == NODE_WATCH) {
            goc__ctx_watch *w = (goc__ctx_watch *)n;
            w->fn(w, err);
        } else {
            if (n->kind == NODE_CTX) {
                cctx *child = node_cctx(n);
                ref(&child->h); /* the work list's */
                if (child->h.parent == &c->h) { /* its place becomes a reference */
                    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
                    child->parent_counted = true;
                }
            }
            n->next = NULL;
            *wtail = n;
            wtail = &n->next;
        }
        n = next;
    }
    l->head = l->tail = NULL;
    l->n = 0;
    return wtail;
}

/* Ends c if it has not ended: sets err and cause, takes its child lists
 * (running the watchers, referencing the child contexts; these and the
 * AfterFuncs are appended to the work list at wtail through their next
 * links), closes done, stops the timer. Returns the work list's new tail,
 * or NULL if c had ended already. */
static goc__ctx_node **cancel_one(cctx *c, int32_t err, int32_t cause, goc__ctx_node **wtail)
{
    goc_chan *closed = closed_chan();
    goc__spin_lock(&c->list.lock);
    if (atomic_load_explicit(&c->err, memory_order_relaxed)) {
        goc__spin_unlock(&c->list.lock);
        return NULL;
    }
    c->cause = cause;
    goc__race_release(c);
    atomic_store_explicit(&c->err, err, memory_order_release);
    goc_chan *d = atomic_load_explicit(&c->done, memory_order_relaxed);
    if (!d)
        atomic_store_explicit(&c->done, closed, memory_order_release);
    wtail = take_list(c, &c->list, err, wtail);
    ctx_shard *s = atomic_load_explicit(&c->shards, memory_order_relaxed);
    goc__spin_unlock(&c->list.lock);
    /* A linker checks err under its shard's lock: it linked before this
     * takes the shard, or it sees err and links nothing. */
    for (int i = 0, ns = nshards(s); i < ns; i++) {
        goc__spin_lock(&s[i].l.lock);
        wtail = take_list(c, &s[i].l, err, wtail);
        goc__spin_unlock(&s[i].l.lock);
    }
    if (d)
        goc_chan_close(d);
    if (c->h.kind == CTX_TIMER)
        goc__tmr_stop_sync(&((tctx *)c)->tmr);
    return wtail;
}

/* remove: take c out of its parent's list (its own cancel; a parent's
 * cancel has taken it already). releasing: the caller is goc_ctx_release,
 * about to drop its reference. */
static void ctx_cancel(cctx *c, int32_t err, int32_t cause, bool remove, bool releasing)
{
    if (!cause)
        cause = err;
    goc__ctx_node *work = NULL, **tail = cancel_one(c, err, cause, &work);
    if (!tail)
        return;
    cctx *p = c->pcc;
    ctx_list *l = c->node.list;
    if (remove && p && l) {
        goc__spin_lock(&l->lock);
        if (c->node.linked) {
            list_del(&c->node);
            /* Its place in the list becomes a counted reference, unless
             * the last reference to c is being dropped: then c is freed
             * right after this and never looks at its parent again. */
            if (c->h.parent == &p->h &&
                !(releasing && atomic_load_explicit(&c->refs, memory_order_relaxed) == 1)) {
                atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
                c->parent_counted = true;
            }
        }
        goc__spin_unlock(&l->lock);
    }
    /* Breadth first through the subtree: cancel_one appends each
     * context's children at the tail of the work list. */
    while (work) {
        goc__ctx_node *n = work;
        work = n->next;
        if (!work)
            tail = &work;
        if (n->kind == NODE_CTX) {
            cctx *child = node_cctx(n);
            goc__ctx_node **t = cancel_one(child, err, cause, tail);
            if (t)
                tail = t;
            unref(&child->h);
        } else {
            goc_ctx_after *a = node_after(n);
            if (goc_go_at(a->fn, a->arg, NULL, "goc_ctx_after_func", 0) < 0)
                goc__fatal("out of memory starting an AfterFunc goroutine");
            after_unref(a);
        }
    }
}

/* ---- Making contexts ---- */

static void check_parent(goc_ctx *parent)
{
    if (!parent)
        goc_panic("cannot create context from nil parent");
}

/* Links c under its parent's cc, or ends it at once if that has ended.
 * A cancellable parent is its own cc: c's place in its list stands for
 * c's reference to it; if it has ended, c counts a reference instead. */
static void propagate(cctx *c)
{
    cctx *p = c->h.parent->cc;
    if (p == &never)
        return;
    c->pcc = p;
    ctx_list *l = list_for(p);
    if (l != &p->list) {
        goc__spin_lock(&l->lock);
    } else if (goc__spin_lock_contended(&l->lock) &&
               !atomic_load_explicit(&p->err, memory_order_relaxed)) {
        /* Someone else was in p's lock: p is shared, its later children
         * go to per-worker lists. */
        shards_make_locked(p);
    }
    int32_t err = atomic_load_explicit(&p->err, memory_order_relaxed);
    if (!err) {
        list_add(p, l, &c->node);
        goc__spin_unlock(&l->lock);
        return;
    }
    int32_t cause = p->cause;
    if (!c->parent_counted) {
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
        c->parent_counted = true;
    }
    goc__spin_unlock(&l->lock);
    ctx_cancel(c, err, cause, false, false);
}

static void cctx_init(cctx *c, goc_ctx *parent, uint8_t kind)
{
    refs_init(&c->refs, 1);
    c->h.kind = kind;
    c->h.parent = parent;
    if (!cancellable(parent)) { /* else propagate decides */
        ref(parent);
        c->parent_counted = true;
    }
    c->h.cc = c;
    c->h.deadline = parent->deadline;
    c->list.lock = (goc_spinlock)GOC_SPINLOCK_INIT;
    c->node.kind = NODE_CTX;
}

goc_ctx *goc_with_cancel(goc_ctx *parent)
{
    check_parent(parent);
    cctx *c = ctx_zalloc(sizeof *c);
    if (!c)
        return NULL;
    cctx_init(c, parent, CTX_CANCEL);
    propagate(c);
    return &c->h;
}

goc_ctx *goc_with_cancel_cause(goc_ctx *parent) { return goc_with_cancel(parent); }

static goc_g *deadline_fire(goc__tmr *t, int64_t now);

static void deadline_body(void *arg)
{
    tctx *t = arg;
    ctx_cancel(&t->c, -ETIMEDOUT, t->dcause, true, false);
    unref(&t->c.h);
}

/* On a P's g0, t->lock held: no lock of ours, nothing that waits. */
static goc_g *deadline_fire(goc__tmr *t, int64_t now)
{
    (void)now;
    tctx *c = GOC__CONTAINER(t, tctx, tmr);
    if (!atomic_load_explicit(&c->c.err, memory_order_relaxed) && try_ref(&c->c.h) &&
        goc_go_at(deadline_body, c, NULL, "context deadline", 0) < 0)
        goc__fatal("out of memory starting a context deadline goroutine");
    return NULL;
}

goc_ctx *goc_with_deadline_cause(goc_ctx *parent, int64_t deadline, int cause)
{
    check_parent(parent);
    if (parent->deadline < deadline)
        return goc_with_cancel(parent); /* the parent's comes first */
    goc__sched_start();
    tctx *t = ctx_zalloc(sizeof *t);
    if (!t)
        return NULL;
    cctx_init(&t->c, parent, CTX_TIMER);
    t->c.h.deadline = deadline;
    t->dcause = cause;
    t->tmr.lock = (goc_spinlock)GOC_SPINLOCK_INIT;
    t->tmr.fire = deadline_fire;
    t->tmr.idx = -1;
    propagate(&t->c);
    if (deadline <= goc__nanotime()) {
        ctx_cancel(&t->c, -ETIMEDOUT, cause, true, false);
        return &t->c.h;
    }
    goc__tmr_start(&t->tmr, deadline);
    /* A cancel that came in between may have stopped the timer before it
     * was armed: stop it again. */
    if (atomic_load_explicit(&t->c.err, memory_order_acquire))
        goc__tmr_stop_sync(&t->tmr);
    return &t->c.h;
}

goc_ctx *goc_with_deadline(goc_ctx *parent, int64_t deadline)
{
    return goc_with_deadline_cause(parent, deadline, 0);
}

static int64_t deadline_after(int64_t timeout)
{
    int64_t now = goc__nanotime();
    return timeout > INT64_MAX - now ? INT64_MAX - 1 : now + timeout;
}

goc_ctx *goc_with_timeout(goc_ctx *parent, int64_t timeout)
{
    return goc_with_deadline_cause(parent, deadline_after(timeout), 0);
}

goc_ctx *goc_with_timeout_cause(goc_ctx *parent, int64_t timeout, int cause)
{
    return goc_with_deadline_cause(parent, deadline_after(timeout), cause);
}

/* The value context nearest to c (c included), or NULL. */
static vctx *nearest_value(goc_ctx *c)
{
    while (c && c->kind != CTX_VALUE)
        c = c->parent;
    return (vctx *)c;
}

static goc_ctx *value_new(goc_ctx *parent, uint8_t kind, const void *key, void *val)
{
    vctx *v = malloc(sizeof *v);
    if (!v)
        return NULL;
    refs_init(&v->refs, 1);
    v->h.kind = kind;
    v->h.parent = ref(parent);
    v->h.cc = kind == CTX_VALUE ? parent->cc : &never;
    v->h.deadline = kind == CTX_VALUE ? parent->deadline : INT64_MAX;
    v->key = key;
    v->val = val;
    v->nup = 0;
    v->vparent = v->skip = NULL;
    if (kind == CTX_VALUE) {
        vctx *a = nearest_value(parent);
        v->vparent = a;
        for (; a && v->nup < VALUE_UP; a = a->vparent, v->nup++) {
            v->up[v->nup].key = a->key;
            v->up[v->nup].val = a->val;
        }
        v->skip = a;
    }
    return &v->h;
}

goc_ctx *goc_with_value(goc_ctx *parent, const void *key, void *val)
{
    check_parent(parent);
    if (!key)
        goc_panic("nil key");
    return value_new(parent, CTX_VALUE, key, val);
}

goc_ctx *goc_without_cancel(goc_ctx *parent)
{
    check_parent(parent);
    return value_new(parent, CTX_WITHOUT, NULL, NULL);
}

/* ---- Cancel, release ---- */

void goc_cancel_cause(goc_ctx *ctx, int cause)
{
    if (ctx && cancellable(ctx))
        ctx_cancel((cctx *)ctx, -ECANCELED, cause, true, false);
}

void goc_cancel(goc_ctx *ctx) { goc_cancel_cause(ctx, 0); }

/* goc_ctx_release's common case, a context derived, used and released by
 * one owner: nobody but the caller can ever observe its cancel, so it is
 * unlinked and freed without being cancelled (one lock, that of the
 * parent's list it is in, and no read-modify-write of its own counters).
 * The conditions, and why they are stable once true:
 *  - a plain cancel context (a timer context has a timer to stop);
 *  - refs == 1: the caller's is the only reference, and no one else can
 *    take one (retaining, deriving, watching, AfterFunc all need a holder)
 *    except c's parent's cancel, which takes it off the parent's list
 *    first, under that list's lock: so if c is still linked once that
 *    lock is held, refs is still 1 and no cancel will ever reach c;
 *  - nothing was ever linked under c (had_children is written by list_add
 *    or, before any link into a shard, by shards_make_locked, by a holder:
 *    it is ordered before the drop of that holder's reference, which the
 *    acquire load of refs synchronises with), so no child can be inside
 *    one of c's list locks, unlinking itself;
 *  - no done channel (no goroutine can be waiting for a close).
 * Returns false, having changed nothing, when any of these does not hold or
 * c is no longer linked (its parent's cancel took it): the caller then
 * cancels and unrefs as usual. */
static bool release_quiet(cctx *c)
{
    if (c->h.kind != CTX_CANCEL || atomic_load_explicit(&c->refs, memory_order_acquire) != 1 ||
        c->had_children || atomic_load_explicit(&c->done, memory_order_relaxed))
        return false;
    if (c->pcc) {
        ctx_list *l = c->node.list;
        if (!l)
            return false;
        goc__spin_lock(&l->lock);
        bool linked = c->node.linked;
        if (linked)
            list_del(&c->node);
        goc__spin_unlock(&l->lock);
        if (!linked)
            return false;
    }
    goc__race_acquire(c); /* as drop's last reference does */
    goc_ctx *parent = c->parent_counted ? c->h.parent : NULL;
    free(c); /* no shards: they imply had_children */
    unref(parent);
    return true;
}

void goc_ctx_release(goc_ctx *ctx)
{
    if (!ctx)
        return;
    if (cancellable(ctx)) {
        if (release_quiet((cctx *)ctx))
            return;
        ctx_cancel((cctx *)ctx, -ECANCELED, 0, true, true);
    }
    unref(ctx);
}

goc_ctx *goc_ctx_retain(goc_ctx *ctx) { return ctx ? ref(ctx) : NULL; }

void goc_ctx_unref(goc_ctx *ctx) { unref(ctx); }

/* ---- Queries ---- */

static goc_chan *done_slow(cctx *c) __attribute__((noinline));

goc_chan *goc_ctx_done(goc_ctx *ctx)
{
    cctx *c = ctx->cc;
    goc_chan *d = atomic_load_explicit(&c->done, memory_order_acquire);
    if (likely(d) || c == &never)
        return d;
    return done_slow(c);
}

/* The first goc_ctx_done of a context that has not ended: makes the
 * channel, unless a cancel or another caller did meanwhile. */
static goc_chan *done_slow(cctx *c)
{
    goc_chan *d;
    goc_chan *n = goc_chan_make(0, 0);
    if (!n)
        goc__fatal("out of memory making a context's done channel");
    goc__spin_lock(&c->list.lock);
    d = atomic_load_explicit(&c->done, memory_order_relaxed);
    if (!d) {
        d = n;
        atomic_store_explicit(&c->done, d, memory_order_release);
    }
    goc__spin_unlock(&c->list.lock);
    if (d != n)
        goc_chan_release(n); /* lost to another caller, or to a cancel */
    return d;
}

int goc_ctx_err(goc_ctx *ctx)
{
    int32_t e = atomic_load_explicit(&ctx->cc->err, memory_order_acquire);
    if (unlikely(e))
        goc__race_acquire(ctx->cc);
    return e;
}

int goc_ctx_cause(goc_ctx *ctx)
{
    cctx *c = ctx->cc;
    if (!atomic_load_explicit(&c->err, memory_order_acquire))
        return 0;
    goc__race_acquire(c);
    return c->cause;
}

bool goc_ctx_deadline(goc_ctx *ctx, int64_t *deadline)
{
    if (ctx->deadline == INT64_MAX)
        return false;
    if (deadline)
        *deadline = ctx->deadline;
    return true;
}

void *goc_ctx_value(goc_ctx *ctx, const void *key)
{
    for (vctx *v = nearest_value(ctx); v; v = v->skip) {
        if (v->key == key)
            return v->val;
        for (uint32_t i = 0; i < v->nup; i++)
            if (v->up[i].key == key)
                return v->up[i].val;
    }
    return NULL;
}

const char *goc_ctx_err_str(int err)
{
    switch (err) {
    case 0: return "<nil>";
    case -ECANCELED: return "context canceled";
    case -ETIMEDOUT: return "context deadline exceeded";
    default: return err < 0 ? strerror(-err) : "unknown error";
    }
}

size_t goc__ctx_nchildren(goc_ctx *ctx)
{
    if (!cancellable(ctx))
        return 0;
    cctx *c = (cctx *)ctx;
    goc__spin_lock(&c->list.lock);
    size_t n = c->list.n;
    ctx_shard *s = atomic_load_explicit(&c->shards, memory_order_relaxed);
    goc__spin_unlock(&c->list.lock);
    for (int i = 0, ns = nshards(s); i < ns; i++) {
        goc__spin_lock(&s[i].l.lock);
        n += s[i].l.n;
        goc__spin_unlock(&s[i].l.lock);
    }
    return n;
}

bool goc__ctx_shard(goc_ctx *ctx)
{
    if (!cancellable(ctx))
        return false;
    cctx *c = (cctx *)ctx;
    goc__spin_lock(&c->list.lock);
    if (!atomic_load_explicit(&c->err, memory_order_relaxed))
        shards_make_locked(c);
    goc__spin_unlock(&c->list.lock);
    return atomic_load_explicit(&c->shards, memory_order_acquire) != NULL;
}

/* ---- AfterFunc ---- */

goc_ctx_after *goc_ctx_after_func(goc_ctx *ctx, goc_fn fn, void *arg)
{
    if (!fn) {
        errno = EINVAL;
        return NULL;
    }
    goc_ctx_after *a = ctx_zalloc(sizeof *a);
    if (!a)
        return NULL;
    a->node.kind = NODE_AFTER;
    a->fn = fn;
    a->arg = arg;
    refs_init(&a->refs, 1);
    cctx *c = ctx->cc;
    if (c == &never)
        return a; /* fn never runs */
    a->cc = c;
    a->ctx = ref(ctx);
    ctx_list *l = list_for(c);
    goc__spin_lock(&l->lock);
    if (!atomic_load_explicit(&c->err, memory_order_relaxed)) {
        refs_init(&a->refs, 2); /* and the list's (not yet linked: still ours alone) */
        list_add(c, l, &a->node);
        goc__spin_unlock(&l->lock);
        return a;
    }
    goc__spin_unlock(&l->lock);
    if (goc_go_at(fn, arg, NULL, "goc_ctx_after_func", 0) < 0)
        goc__fatal("out of memory starting an AfterFunc goroutine");
    return a;
}

bool goc_ctx_after_stop(goc_ctx_after *a)
{
    if (!a->cc)
        return !atomic_exchange_explicit(&a->stopped, 1, memory_order_relaxed);
    ctx_list *l = a->node.list;
    if (!l)
        return false; /* its context had ended: fn was started at once */
    goc__spin_lock(&l->lock);
    bool stopped = a->node.linked;
    if (stopped)
        list_del(&a->node);
    goc__spin_unlock(&l->lock);
    if (stopped)
        after_unref(a); /* the list's */
    return stopped;
}

void goc_ctx_after_release(goc_ctx_after *a)
{
    if (a)
        after_unref(a);
}

/* ---- Watchers (context.h) ---- */

int goc__ctx_watch_start(goc_ctx *ctx, goc__ctx_watch *w, void (*fn)(goc__ctx_watch *, int),
                         void *arg)
{
    w->node.kind = NODE_WATCH;
    w->node.linked = false;
    w->node.list = NULL;
    w->fn = fn;
    w->arg = arg;
    w->cc = NULL;
    cctx *c = ctx->cc;
    if (c == &never)
        return 0;
    ctx_list *l = list_for(c);
    goc__spin_lock(&l->lock);
    int32_t err = atomic_load_explicit(&c->err, memory_order_relaxed);
    if (!err) {
        list_add(c, l, &w->node);
        w->cc = c;
    }
    goc__spin_unlock(&l->lock);
    return err;
}

bool goc__ctx_watch_stop(goc__ctx_watch *w)
{
    if (!w->cc)
        return true;
    ctx_list *l = w->node.list;
    goc__spin_lock(&l->lock);
    bool was = w->node.linked;
    if (was)
        list_del(&w->node);
    goc__spin_unlock(&l->lock);
    return was;
}

/* ---- Context-aware channel operations and sleep ---- */

int goc_chan_send_ctx(goc_chan *ch, const void *elem, goc_ctx *ctx)
{
    int err = goc_ctx_err(ctx);
    if (err)
        return err;
    goc_chan *done = goc_ctx_done(ctx);
    if (!done) {
        goc_chan_send(ch, elem);
        return 0;
    }
    goc_select_case cs[2] = {GOC_SEND_CASE(ch, elem), GOC_RECV_CASE(done, NULL)};
    return goc_select(cs, 2, false) == 0 ? 0 : goc_ctx_err(ctx);
}

int goc_chan_recv_ctx(goc_chan *ch, void *out, goc_ctx *ctx)
{
    int err = goc_ctx_err(ctx);
    if (err)
        return err;
    goc_chan *done = goc_ctx_done(ctx);
    if (!done)
        return goc_chan_recv(ch, out) ? GOC_CHAN_OK : GOC_CHAN_CLOSED;
    goc_select_case cs[2] = {GOC_RECV_CASE(ch, out), GOC_RECV_CASE(done, NULL)};
    if (goc_select(cs, 2, false) == 0)
        return cs[0].ok ? GOC_CHAN_OK : GOC_CHAN_CLOSED;
    return goc_ctx_err(ctx);
}

int goc_sleep_ctx(int64_t d, goc_ctx *ctx)
{
    int err = goc_ctx_err(ctx);
    if (err || d <= 0)
        return err;
    goc_chan *done = goc_ctx_done(ctx);
    if (!done) {
        goc_sleep(d);
        return 0;
    }
    goc_timer *t = goc_timer_new(d);
    if (!t)
        return -ENOMEM;
    goc_select_case cs[2] = {GOC_RECV_CASE(goc_timer_chan(t), NULL), GOC_RECV_CASE(done, NULL)};
    int which = goc_select(cs, 2, false);
    goc_timer_free(t);
    return which == 0 ? 0 : goc_ctx_err(ctx);
}
