/* map.c: sync.Map, as Go builds it (sync/map.go, Go 1.20 with Swap,
 * CompareAndSwap and CompareAndDelete), plus what Go's GC does for it:
 * epoch-based reclamation of what the map unlinks.
 *
 * Structure (Go's):
 *   read    an atomic pointer to an immutable hash table of entries, with
 *           an AMENDED bit: the dirty table holds keys that read lacks.
 *           Loads, and stores to keys in read, use it without the mutex.
 *   dirty   a mutable hash table, guarded by mu, holding every live key:
 *           all non-expunged entries of read, plus the new keys. NULL until
 *           a new key is stored. After enough loads missed read (as many as
 *           dirty has keys), dirty becomes the read table (promotion) and
 *           dirty is NULL again.
 *   entry   one per key, shared by read and dirty: p, an atomic pointer to
 *           the value: NULL (deleted), EXPUNGED (deleted and not in dirty,
 *           so it must not be revived through read), or the value. A deleted
 *           key's entry stays in read until the next dirty table is built,
 *           which expunges it and leaves it out.
 *   values  byte values (value_size > 0), and pointer values when value_free
 *           is set, live in immutable boxes, so a value is replaced with one
 *           CAS on p. Other pointer values are stored in p directly (NULL as
 *           &nil_value).
 *
 * Reclamation (the read-side guard is epoch.h's, shared with value.c).
 * What a write unlinks (an old read table at promotion, the expunged
 * entries it held, an entry deleted from dirty, a replaced box) may still
 * be in use by a concurrent operation, so it is retired, not
 * freed: pushed on a limbo list, and freed after a grace period. Every
 * operation runs inside a read-side guard:
 *
 *   enter   e = epoch; counter[slot][e & 1] += 1 (seq_cst); if epoch is no
 *           longer e, undo and retry. slot: the worker's own (plain threads
 *           share one), so the counters' cache lines stay local.
 *   leave   counter[slot][parity] -= 1 (the same slot and parity).
 *
 * A retirer, inside its guard, reads epoch after the unlink (seq_cst) and
 * pushes the object on limbo[epoch & 1]. The epoch advances from e to e+1
 * (under mu, by a writer) only when the counters of parity (e-1) & 1 sum to
 * zero; then limbo[(e-1) & 1], the objects retired during epoch e-1, are
 * freed. Why this is safe:
 *   - a guard whose enter saw epoch e stayed unchanged across its increment
 *     is counted (seq_cst: the writer's scan after the flip to e+1 sees the
 *     increment, or the reader's re-check sees the flip and retries); a
 *     stale reader that increments a parity after the scan re-checks, sees
 *     a newer epoch and backs out. Counts are per slot and a guard adds and
 *     subtracts on one slot, so a scan never sees a guard's -1 without its
 *     +1: a zero sum means every guard counted in that parity has left.
 *   - an operation that saw object X entered its guard before X was
 *     unlinked, so at an epoch <= the epoch its retirer read after the
 *     unlink; X's list is freed only after that parity drained, and every
 *     older parity drained before the previous flip.
 *   - while a retirer holds a guard of epoch g, the epoch cannot pass g+1
 *     (the flip to g+2 needs parity g drained), so the list it pushes on is
 *     not the one a concurrent flip frees.
 * Load's fast path (a hit in read, or a miss with nothing in dirty) runs
 * on one worker's thread from start to end, so where Linux's membarrier is
 * available it counts itself in a per-worker `local` counter with plain
 * stores, and the writer that scans issues membarrier first (see
 * goc__os_membarrier); a load that must go to dirty leaves that guard and
 * starts over on the atomic path.
 * Writers never wait for readers: a flip that is not yet possible is tried
 * again on the next write (mutex slow paths, and every 64 retirements of
 * the lock-free paths with a trylock). A guard held for a long time (a
 * parked range callback, goc_map_enter) only delays frees.
 *
 * Happens-before, for TSan (this file is not instrumented, but malloc,
 * free, memcpy and memcmp are intercepted): a value is published with a
 * release on its entry and read after an acquire on it; tables and keys
 * are written under mu and published with a release on the map, which
 * lookups in read acquire; every guard's leave releases on the map's
 * reclaim word, which the reclaimer acquires before it frees.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "epoch.h"
#include "goc/sync.h"
#include "internal.h"
#include "race.h"

enum { R_ENTRY = 1, R_BOX, R_TABLE };

typedef struct rnode {
    struct rnode *next;
    uint32_t kind;
} rnode;

typedef struct entry {
    rnode r;
    _Atomic(void *) p;
    uint64_t hash;
    void *kptr;                                 /* pointer keys */
    _Alignas(16) unsigned char key[];           /* byte keys */
} entry;

typedef struct box {
    rnode r;
    _Alignas(16) unsigned char v[];
} box;

typedef struct slot {
    uint64_t hash;
    entry *e;
} slot;

typedef struct table {
    rnode r;
    size_t mask;
    size_t count;
    slot s[];
} table;

struct counter {
    goc__epoch_count cnt;   /* guards that may move between threads */
    goc__epoch_count local; /* load's fast path: written by the slot's worker only */
} __attribute__((aligned(64)));

#define AMENDED ((uintptr_t)1)

struct goc_map {
    _Atomic uintptr_t read;     /* table * | AMENDED */
    uint32_t nslots;
    bool boxed;
    bool fast;                  /* membarrier: load's fast path may run */
    uint64_t seed;
    struct counter *slots;
    goc_map_type t;
    _Atomic uint64_t epoch __attribute__((aligned(64)));
    _Atomic(rnode *) limbo[2];
    _Atomic uint32_t nretired;
    goc_mutex mu __attribute__((aligned(64)));
    table *dirty;               /* under mu */
    size_t misses;              /* under mu */
    char reclaim_sync;          /* TSan's address for guard leave -> free */
};

static char expunged_sentinel, nil_sentinel;
#define EXPUNGED ((void *)&expunged_sentinel)
#define NIL_VALUE ((void *)&nil_sentinel)

static inline bool is_value(void *p) { return p != NULL && p != EXPUNGED; }

/* ---- hashing ------------------------------------------------------- */

static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static uint64_t hash_bytes(const unsigned char *s, size_t n, uint64_t seed)
{
    uint64_t h = seed ^ (n * UINT64_C(0x9E3779B97F4A7C15));
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, s, 8);
        h = mix(h ^ w, UINT64_C(0xbf58476d1ce4e5b9));
        s += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;
        for (size_t i = 0; i < n; i++)
            w |= (uint64_t)s[i] << (8 * i);
        h = mix(h ^ w, UINT64_C(0x94d049bb133111eb));
    }
    return mix(h, UINT64_C(0x9E3779B97F4A7C15));
}

static inline uint64_t key_hash(goc_map *m, const void *key)
{
    if (m->t.hash)
        return mix(m->t.hash(key, m->t.key_size) ^ m->seed, UINT64_C(0xbf58476d1ce4e5b9));
    if (m->t.key_size == 8) { /* the common fixed-size key, inlined */
        uint64_t w;
        __builtin_memcpy(&w, key, 8);
        return mix(w ^ m->seed, UINT64_C(0xbf58476d1ce4e5b9));
    }
    if (m->t.key_size)
        return hash_bytes(key, m->t.key_size, m->seed);
    return mix((uint64_t)(uintptr_t)key ^ m->seed, UINT64_C(0xbf58476d1ce4e5b9));
}

static inline const void *entry_key(goc_map *m, entry *e)
{
    return m->t.key_size ? (const void *)e->key : e->kptr;
}

static inline bool key_equal(goc_map *m, entry *e, const void *key)
{
    size_t ks = m->t.key_size;
    if (m->t.equal)
        return m->t.equal(entry_key(m, e), key, ks);
    if (ks == 8)
        return __builtin_memcmp(e->key, key, 8) == 0;
    if (ks)
        return memcmp(e->key, key, ks) == 0;
    return e->kptr == key;
}

/* ---- tables -------------------------------------------------------- */

static table *table_new(size_t want)
{
    size_t cap = 8;
    while (cap < 2 * want)
        cap *= 2;
    table *t = calloc(1, sizeof *t + cap * sizeof(slot));
    if (!t)
        return NULL;
    t->r.kind = R_TABLE;
    t->mask = cap - 1;
    return t;
}

static inline entry *table_find(goc_map *m, table *t, const void *key, uint64_t h)
{
    if (!t)
        return NULL;
    for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
        entry *e = t->s[i].e;
        if (!e)
            return NULL;
        if (t->s[i].hash == h && key_equal(m, e, key))
            return e;
    }
}

/* Needs room (table_reserve). */
static void table_insert(table *t, entry *e)
{
    size_t i = e->hash & t->mask;
    while (t->s[i].e)
        i = (i + 1) & t->mask;
    t->s[i].hash = e->hash;
    t->s[i].e = e;
    t->count++;
}

/* Removes e (present) with backward-shift deletion. */
static void table_remove(table *t, entry *e)
{
    size_t i = e->hash & t->mask;
    while (t->s[i].e != e)
        i = (i + 1) & t->mask;
    for (size_t j = i;;) {
        j = (j + 1) & t->mask;
        if (!t->s[j].e)
            break;
        size_t k = t->s[j].hash & t->mask; /* home of the entry at j */
        /* It may move to i unless its home lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            t->s[i] = t->s[j];
            i = j;
        }
    }
    t->s[i].e = NULL;
    t->s[i].hash = 0;
    t->count--;
}

/* Room in dirty for one more entry. Under mu. */
static int dirty_reserve(goc_map *m)
{
    table *d = m->dirty;
    if ((d->count + 1) * 2 <= d->mask + 1)
        return 0;
    table *n = table_new(d->count + 1);
    if (!n)
        return -ENOMEM;
    for (size_t i = 0; i <= d->mask; i++)
        if (d->s[i].e)
            table_insert(n, d->s[i].e);
    free(d); /* private to mu holders: never seen by readers */
    m->dirty = n;
    return 0;
}

/* ---- the read-side guard and reclamation ------------------------------ */

/* Asymmetric fences (Linux membarrier, private expedited): the writer that
 * scans the counters first makes every thread of the process execute a
 * full memory barrier, so a load's fast path needs none: it counts itself
 * in its worker's local counter with a plain store and a compiler barrier.
 * Either the scan sees that store, or the barrier came before it, and then
 * the load's re-check of the epoch sees the flip that preceded the scan.
 * Without membarrier (kernels before 4.14) loads use the atomic path. */
static inline goc_map_guard guard_enter(goc_map *m)
{
    uint32_t slot = goc__epoch_slot(m->nslots);
    return (goc_map_guard){slot, goc__epoch_enter(&m->epoch, &m->slots[slot].cnt)};
}

static inline void guard_leave(goc_map *m, goc_map_guard g)
{
    goc__race_release(&m->reclaim_sync);
    goc__epoch_leave(&m->slots[g.slot].cnt, g.parity);
}

goc_map_guard goc_map_enter(goc_map *m) { return guard_enter(m); }
void goc_map_leave(goc_map *m, goc_map_guard g) { guard_leave(m, g); }

static void free_box(goc_map *m, box *b)
{
    if (!m->t.value_size && m->t.value_free) {
        void *v;
        memcpy(&v, b->v, sizeof v);
        m->t.value_free(v);
    }
    free(b);
}

static void free_entry(goc_map *m, entry *e)
{
    if (!m->t.key_size && m->t.key_free)
        m->t.key_free(e->kptr);
    free(e);
}

static void free_list(goc_map *m, rnode *r)
{
    if (!r)
        return;
    goc__race_acquire(&m->reclaim_sync);
    while (r) {
        rnode *next = r->next;
        switch (r->kind) {
        case R_ENTRY: free_entry(m, (entry *)r); break;
        case R_BOX: free_box(m, (box *)r); break;
        default: free(r); break;
        }
        r = next;
    }
}

/* Flips the epoch if parity (e-1) has drained; returns the list retired
 * during e-1, to be freed (outside mu). Under mu. */
static rnode *advance_locked(goc_map *m)
{
    uint64_t e = atomic_load_explicit(&m->epoch, memory_order_seq_cst);
    unsigned old = (unsigned)((e + 1) & 1);
    if (!goc__epoch_drained(&m->slots[0].cnt, sizeof m->slots[0], m->nslots, old))
        return NULL;
    if (m->fast) {
        goc__os_membarrier();
        if (!goc__epoch_drained(&m->slots[0].local, sizeof m->slots[0], m->nslots, old))
            return NULL;
    }
    rnode *list = atomic_exchange_explicit(&m->limbo[old], NULL, memory_order_acquire);
    /* A Dekker store (internal.h). */
    (void)atomic_exchange_explicit(&m->epoch, e + 1, memory_order_seq_cst);
    return list;
}

static inline bool limbo_empty(goc_map *m)
{
    return !atomic_load_explicit(&m->limbo[0], memory_order_relaxed) &&
           !atomic_load_explicit(&m->limbo[1], memory_order_relaxed);
}

static void lock(goc_map *m) { goc_mutex_lock(&m->mu); }

static void unlock(goc_map *m)
{
    rnode *list = limbo_empty(m) ? NULL : advance_locked(m);
    goc_mutex_unlock(&m->mu);
    free_list(m, list);
}

/* Called inside a guard, after r was unlinked. */
static void retire(goc_map *m, rnode *r)
{
    uint64_t e = atomic_load_explicit(&m->epoch, memory_order_seq_cst);
    _Atomic(rnode *) *l = &m->limbo[e & 1];
    rnode *head = atomic_load_explicit(l, memory_order_relaxed);
    do
        r->next = head;
    while (!atomic_compare_exchange_weak_explicit(l, &head, r, memory_order_release,
                                                  memory_order_relaxed));
    /* Lock-free writers never take mu: every 64 retirements, one of them
     * tries to advance the epoch. */
    if ((atomic_fetch_add_explicit(&m->nretired, 1, memory_order_relaxed) & 63) == 63 &&
        goc_mutex_trylock(&m->mu))
        unlock(m);
}

/* A replaced or deleted value. */
static inline void retire_value(goc_map *m, void *p)
{
    if (m->boxed && is_value(p))
        retire(m, &((box *)p)->r);
}

/* ---- values -------------------------------------------------------- */

/* What p stores for value (a box or the pointer itself), NULL without
 * memory. */
static void *make_value(goc_map *m, const void *value)
{
    if (!m->boxed)
        return value ? (void *)value : NIL_VALUE;
    size_t n = m->t.value_size ? m->t.value_size : sizeof(void *);
    box *b = malloc(sizeof *b + n);
    if (!b)
        return NULL;
    b->r.kind = R_BOX;
    if (m->t.value_size)
        memcpy(b->v, value, n);
    else
        memcpy(b->v, &value, sizeof value);
    return b;
}

/* Frees a value never published. */
static void drop_value(goc_map *m, void *p)
{
    if (m->boxed && p)
        free(p);
}

/* The value as the API passes it: bytes (a pointer to them) or the pointer. */
static inline const void *value_view(goc_map *m, void *p)
{
    if (m->t.value_size)
        return ((box *)p)->v;
    if (m->boxed) {
        void *v;
        memcpy(&v, ((box *)p)->v, sizeof v);
        return v;
    }
    return p == NIL_VALUE ? NULL : p;
}

static inline void copy_out(goc_map *m, void *p, void *out)
{
    if (!out)
        return;
    if (m->t.value_size == 8)
        __builtin_memcpy(out, ((box *)p)->v, 8); /* the common size, inlined */
    else if (m->t.value_size)
        memcpy(out, ((box *)p)->v, m->t.value_size);
    else
        *(const void **)out = value_view(m, p);
}

/* out = the value as given (load_or_store's stored case). */
static inline void copy_given(goc_map *m, const void *value, void *out)
{
    if (!out)
        return;
    if (m->t.value_size)
        memcpy(out, value, m->t.value_size);
    else
        *(const void **)out = value;
}

static inline bool value_equal(goc_map *m, void *p, const void *value)
{
    if (m->t.value_size)
        return memcmp(((box *)p)->v, value, m->t.value_size) == 0;
    return value_view(m, p) == value;
}

static inline void *load_p(entry *e)
{
    void *p = atomic_load_explicit(&e->p, memory_order_seq_cst);
    goc__race_acquire(e);
    return p;
}

static inline bool cas_p(entry *e, void **old, void *new)
{
    GOC_CHAOS_POINT(); /* *old, read before, may be stale by the CAS */
    goc__race_release(e);
    return atomic_compare_exchange_strong_explicit(&e->p, old, new, memory_order_seq_cst,
                                                   memory_order_seq_cst);
}

/* ---- the map ------------------------------------------------------- */

/* A store-type call took the caller's pointer key; e is the entry that
 * holds the key now. If e kept its own key pointer, the given one is not
 * needed: freed at once (nobody else has seen it). */
static inline void key_consumed(goc_map *m, entry *e, const void *key)
{
    if (!m->t.key_size && m->t.key_free && e && e->kptr != key)
        m->t.key_free((void *)key);
}

static inline table *rtab(uintptr_t r) { return (table *)(r & ~AMENDED); }

static inline uintptr_t load_read(goc_map *m)
{
    uintptr_t r = atomic_load_explicit(&m->read, memory_order_seq_cst);
    goc__race_acquire(m);
    return r;
}

static inline void store_read(goc_map *m, uintptr_t r)
{
    goc__race_release(m);
    (void)atomic_exchange_explicit(&m->read, r, memory_order_seq_cst); /* Dekker (internal.h) */
}

goc_map *goc_map_new(const goc_map_type *type)
{
    goc__sched_start();
    goc_map *m = aligned_alloc(64, (sizeof(goc_map) + 63) & ~(size_t)63);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    m->t = *type;
    m->boxed = type->value_size > 0 || type->value_free != NULL;
    m->fast = goc__os_membarrier_usable();
    m->nslots = (uint32_t)goc__sched_nprocs() + 1;
    m->slots = aligned_alloc(64, m->nslots * sizeof(struct counter));
    if (!m->slots) {
        free(m);
        return NULL;
    }
    memset(m->slots, 0, m->nslots * sizeof(struct counter));
    m->seed = mix((uint64_t)goc__nanotime() ^ (uint64_t)(uintptr_t)m, UINT64_C(0x9E3779B97F4A7C15));
    goc_mutex_init(&m->mu);
    goc__race_release(m);
    return m;
}

static void free_live_entry(goc_map *m, entry *e)
{
    void *p = atomic_load_explicit(&e->p, memory_order_relaxed);
    if (m->boxed && is_value(p))
        free_box(m, p);
    free_entry(m, e);
}

void goc_map_free(goc_map *m)
{
    if (!m)
        return;
    goc__race_acquire(m);
    goc__race_acquire(&m->reclaim_sync);
    table *r = rtab(atomic_load_explicit(&m->read, memory_order_acquire));
    if (r)
        for (size_t i = 0; i <= r->mask; i++) {
            entry *e = r->s[i].e;
            /* With a dirty table, the entries of read not in it are the
             * expunged ones. */
            if (e && (!m->dirty || atomic_load_explicit(&e->p, memory_order_relaxed) == EXPUNGED))
                free_live_entry(m, e);
        }
    if (m->dirty)
        for (size_t i = 0; i <= m->dirty->mask; i++)
            if (m->dirty->s[i].e)
                free_live_entry(m, m->dirty->s[i].e);
    free(r);
    free(m->dirty);
    free_list(m, atomic_exchange(&m->limbo[0], NULL));
    free_list(m, atomic_exchange(&m->limbo[1], NULL));
    free(m->slots);
    free(m);
}

/* Under mu, with dirty non-NULL: dirty becomes read. */
static void promote_locked(goc_map *m)
{
    table *old = rtab(atomic_load_explicit(&m->read, memory_order_relaxed));
    store_read(m, (uintptr_t)m->dirty);
    m->dirty = NULL;
    m->misses = 0;
    if (old) {
        for (size_t i = 0; i <= old->mask; i++) {
            entry *e = old->s[i].e;
            if (e && atomic_load_explicit(&e->p, memory_order_relaxed) == EXPUNGED)
                retire(m, &e->r);
        }
        retire(m, &old->r);
    }
}

static void miss_locked(goc_map *m)
{
    m->misses++;
    if (m->misses < m->dirty->count)
        return;
    promote_locked(m);
}

/* Go's tryExpungeLocked: a deleted entry of read becomes expunged. */
static bool try_expunge_locked(entry *e)
{
    void *p = atomic_load_explicit(&e->p, memory_order_seq_cst);
    while (p == NULL) {
        if (atomic_compare_exchange_weak_explicit(&e->p, &p, EXPUNGED, memory_order_seq_cst,
                                                  memory_order_seq_cst))
            return true;
    }
    return p == EXPUNGED;
}

/* Go's dirtyLocked: builds dirty from read, leaving the deleted out. */
static int dirty_locked(goc_map *m)
{
    if (m->dirty)
        return 0;
    table *r = rtab(atomic_load_explicit(&m->read, memory_order_relaxed));
    table *d = table_new((r ? r->count : 0) + 1);
    if (!d)
        return -ENOMEM;
    if (r)
        for (size_t i = 0; i <= r->mask; i++) {
            entry *e = r->s[i].e;
            if (e && !try_expunge_locked(e))
                table_insert(d, e);
        }
    m->dirty = d;
    return 0;
}

/* Adds a new key to dirty, holding nv. Under mu. */
static int add_new_locked(goc_map *m, uintptr_t r, const void *key, uint64_t h, void *nv,
                          entry **out)
{
    if (dirty_locked(m) || dirty_reserve(m))
        return -ENOMEM;
    size_t ks = m->t.key_size;
    entry *e = malloc(sizeof *e + ks);
    if (!e)
        return -ENOMEM;
    e->r.kind = R_ENTRY;
    e->hash = h;
    e->kptr = ks ? NULL : (void *)key;
    if (ks)
        memcpy(e->key, key, ks);
    atomic_init(&e->p, nv);
    goc__race_release(e);
    table_insert(m->dirty, e);
    *out = e;
    if (!(r & AMENDED))
        store_read(m, r | AMENDED);
    return 0;
}

/* Go's unexpungeLocked, and back into dirty. Under mu; e from read. */
static int unexpunge_locked(goc_map *m, entry *e)
{
    if (atomic_load_explicit(&e->p, memory_order_seq_cst) != EXPUNGED)
        return 0;
    /* Expunged: dirty exists and lacks e. */
    if (dirty_reserve(m))
        return -ENOMEM;
    void *p = EXPUNGED;
    if (atomic_compare_exchange_strong_explicit(&e->p, &p, NULL, memory_order_seq_cst,
                                                memory_order_seq_cst))
        table_insert(m->dirty, e);
    return 0;
}

/* Finds key's entry: in read, else (when amended) in dirty under mu,
 * counting a miss if `miss`. Inside a guard: the entry stays valid. */
static entry *find(goc_map *m, const void *key, uint64_t h, bool miss)
{
    uintptr_t r = load_read(m);
    entry *e = table_find(m, rtab(r), key, h);
    if (e || !(r & AMENDED))
        return e;
    lock(m);
    r = load_read(m);
    e = table_find(m, rtab(r), key, h);
    if (!e && (r & AMENDED)) {
        e = table_find(m, m->dirty, key, h);
        if (miss)
            miss_locked(m);
    }
    unlock(m);
    return e;
}

bool goc_map_load(goc_map *m, const void *key, void *out)
{
    uint64_t h = key_hash(m, key);
    goc_p *wp;
    if (likely(m->fast) && (wp = goc__getp()) != NULL && likely((uint32_t)wp->id < m->nslots - 1)) {
        /* The fast path, on this worker's thread from start to end (it
         * never parks): a local guard (see goc__os_membarrier). */
        struct counter *c = &m->slots[wp->id];
        uint64_t e;
        _Atomic int64_t *n;
        for (;;) {
            e = atomic_load_explicit(&m->epoch, memory_order_relaxed);
            n = &c->local.n[e & 1];
            atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
            atomic_signal_fence(memory_order_seq_cst);
            if (likely(atomic_load_explicit(&m->epoch, memory_order_acquire) == e))
                break;
            atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) - 1,
                                  memory_order_relaxed);
        }
        uintptr_t r = load_read(m);
        entry *e1 = table_find(m, rtab(r), key, h);
        bool done = e1 || !(r & AMENDED), ok = false;
        if (e1) {
            void *p = atomic_load_explicit(&e1->p, memory_order_acquire);
            goc__race_acquire(e1);
            if (is_value(p)) {
                copy_out(m, p, out);
                ok = true;
            }
        }
        goc__race_release(&m->reclaim_sync);
        atomic_store_explicit(n, atomic_load_explicit(n, memory_order_relaxed) - 1,
                              memory_order_release);
        if (done)
            return ok;
        /* A miss that needs dirty, under mu (which may park): the slow path. */
    }
    goc_map_guard g = guard_enter(m);
    bool ok = false;
    entry *e = find(m, key, h, true);
    if (e) {
        void *p = load_p(e);
        if (is_value(p)) {
            copy_out(m, p, out);
            ok = true;
        }
    }
    guard_leave(m, g);
    return ok;
}

int goc_map_swap(goc_map *m, const void *key, const void *value, void *out)
{
    uint64_t h = key_hash(m, key);
    void *nv = make_value(m, value);
    if (!nv)
        return -ENOMEM;
    goc_map_guard g = guard_enter(m);
    void *p = NULL;
    int ret = 0;
    entry *e = table_find(m, rtab(load_read(m)), key, h);
    if (e) {
        /* Go's trySwap: fails only on an expunged entry. */
        p = load_p(e);
        while (p != EXPUNGED && !cas_p(e, &p, nv))
            ;
        if (p != EXPUNGED)
            goto done;
    }
    lock(m);
    uintptr_t r = load_read(m);
    if ((e = table_find(m, rtab(r), key, h))) {
        ret = unexpunge_locked(m, e);
        if (!ret) {
            goc__race_release(e);
            p = atomic_exchange_explicit(&e->p, nv, memory_order_seq_cst);
        }
    } else if ((e = table_find(m, m->dirty, key, h))) {
        goc__race_release(e);
        p = atomic_exchange_explicit(&e->p, nv, memory_order_seq_cst);
    } else {
        p = NULL;
        ret = add_new_locked(m, r, key, h, nv, &e);
    }
    unlock(m);
    if (ret) {
        drop_value(m, nv);
        guard_leave(m, g);
        return ret;
    }
done:
    key_consumed(m, e, key);
    if (is_value(p)) {
        goc__race_acquire(e);
        copy_out(m, p, out);
        retire_value(m, p);
        ret = 1;
    }
    guard_leave(m, g);
    return ret;
}

int goc_map_store(goc_map *m, const void *key, const void *value)
{
    int ret = goc_map_swap(m, key, value, NULL);
    return ret < 0 ? ret : 0;
}

/* Go's tryLoadOrStore. Returns 1 loaded, 0 stored, -1 expunged, -ENOMEM. */
static int try_load_or_store(goc_map *m, entry *e, const void *value, void **nv, void *out)
{
    void *p = load_p(e);
    for (;;) {
        if (p == EXPUNGED)
            return -1;
        if (p) {
            copy_out(m, p, out);
            return 1;
        }
        if (!*nv && !(*nv = make_value(m, value)))
            return -ENOMEM;
        if (cas_p(e, &p, *nv)) {
            *nv = NULL; /* published */
            copy_given(m, value, out);
            return 0;
        }
        goc__race_acquire(e);
    }
}

int goc_map_load_or_store(goc_map *m, const void *key, const void *value, void *out)
{
    uint64_t h = key_hash(m, key);
    goc_map_guard g = guard_enter(m);
    void *nv = NULL;
    int ret;
    entry *e = table_find(m, rtab(load_read(m)), key, h);
    if (e && (ret = try_load_or_store(m, e, value, &nv, out)) != -1)
        goto out;
    lock(m);
    uintptr_t r = load_read(m);
    if ((e = table_find(m, rtab(r), key, h))) {
        ret = unexpunge_locked(m, e);
        if (!ret)
            ret = try_load_or_store(m, e, value, &nv, out);
    } else if ((e = table_find(m, m->dirty, key, h))) {
        ret = try_load_or_store(m, e, value, &nv, out);
        miss_locked(m);
    } else if (!nv && !(nv = make_value(m, value))) {
        ret = -ENOMEM;
    } else {
        ret = add_new_locked(m, r, key, h, nv, &e);
        if (!ret) {
            nv = NULL;
            copy_given(m, value, out);
        }
    }
    unlock(m);
out:
    if (ret >= 0)
        key_consumed(m, e, key);
    drop_value(m, nv);
    guard_leave(m, g);
    return ret;
}

/* Go's entry.delete: returns the deleted value (retired by the caller) or
 * NULL. */
static void *entry_delete(entry *e)
{
    void *p = load_p(e);
    while (is_value(p))
        if (cas_p(e, &p, NULL))
            return p;
    return NULL;
}

bool goc_map_load_and_delete(goc_map *m, const void *key, void *out)
{
    uint64_t h = key_hash(m, key);
    goc_map_guard g = guard_enter(m);
    void *p = NULL;
    uintptr_t r = load_read(m);
    entry *e = table_find(m, rtab(r), key, h);
    if (!e && (r & AMENDED)) {
        lock(m);
        r = load_read(m);
        e = table_find(m, rtab(r), key, h);
        if (!e && (r & AMENDED)) {
            e = table_find(m, m->dirty, key, h);
            if (e) {
                /* In dirty only (never in any read table): unlinked here. */
                table_remove(m->dirty, e);
                p = entry_delete(e);
                retire(m, &e->r);
                e = NULL;
            }
            miss_locked(m);
        }
        unlock(m);
    }
    if (e)
        p = entry_delete(e);
    bool ok = p != NULL;
    if (ok) {
        copy_out(m, p, out);
        retire_value(m, p);
    }
    guard_leave(m, g);
    return ok;
}

void goc_map_delete(goc_map *m, const void *key) { goc_map_load_and_delete(m, key, NULL); }

/* Go's tryCompareAndSwap. 1 swapped, 0 not, -ENOMEM. */
static int try_cas(goc_map *m, entry *e, const void *old_value, const void *new_value, void **nv)
{
    void *p = load_p(e);
    for (;;) {
        if (!is_value(p) || !value_equal(m, p, old_value))
            return 0;
        if (!*nv && !(*nv = make_value(m, new_value)))
            return -ENOMEM;
        if (cas_p(e, &p, *nv)) {
            *nv = NULL;
            retire_value(m, p);
            return 1;
        }
        goc__race_acquire(e);
    }
}

int goc_map_compare_and_swap(goc_map *m, const void *key, const void *old_value,
                             const void *new_value)
{
    uint64_t h = key_hash(m, key);
    goc_map_guard g = guard_enter(m);
    void *nv = NULL;
    int ret = 0;
    uintptr_t r = load_read(m);
    entry *e = table_find(m, rtab(r), key, h);
    if (e) {
        ret = try_cas(m, e, old_value, new_value, &nv);
    } else if (r & AMENDED) {
        lock(m);
        r = load_read(m);
        if ((e = table_find(m, rtab(r), key, h))) {
            ret = try_cas(m, e, old_value, new_value, &nv);
        } else if ((e = table_find(m, m->dirty, key, h))) {
            ret = try_cas(m, e, old_value, new_value, &nv);
            miss_locked(m);
        }
        unlock(m);
    }
    drop_value(m, nv);
    guard_leave(m, g);
    return ret;
}

bool goc_map_compare_and_delete(goc_map *m, const void *key, const void *old_value)
{
    uint64_t h = key_hash(m, key);
    goc_map_guard g = guard_enter(m);
    bool deleted = false;
    /* Go: not removed from dirty, expunged at the next promotion. */
    entry *e = find(m, key, h, true);
    if (e) {
        void *p = load_p(e);
        while (is_value(p) && value_equal(m, p, old_value)) {
            if (cas_p(e, &p, NULL)) {
                retire_value(m, p);
                deleted = true;
                break;
            }
            goc__race_acquire(e);
        }
    }
    guard_leave(m, g);
    return deleted;
}

void goc_map_range(goc_map *m, bool (*fn)(const void *key, const void *value, void *arg),
                   void *arg)
{
    goc_map_guard g = guard_enter(m);
    uintptr_t r = load_read(m);
    if (r & AMENDED) {
        /* Go: promote dirty, so the range sees every key and later loads
         * are fast. */
        lock(m);
        r = load_read(m);
        if (r & AMENDED) {
            promote_locked(m);
            r = load_read(m);
        }
        unlock(m);
    }
    table *t = rtab(r);
    if (t)
        for (size_t i = 0; i <= t->mask; i++) {
            entry *e = t->s[i].e;
            if (!e)
                continue;
            void *p = load_p(e);
            if (!is_value(p))
                continue;
            if (!fn(entry_key(m, e), value_view(m, p), arg))
                break;
        }
    guard_leave(m, g);
}
