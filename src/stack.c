/* stack.c: goroutine stacks and the descriptors that live on them.
 *
 * A stack slot, from low to high addresses:
 *     [guard page][canary words][ usable stack, grows down  ][goc_g]
 *      base        lo                                    hi   top of slot
 * The descriptor sits at the top of its own slot, so a goroutine that has
 * just started touches one page for both. Slots of the default size are
 * carved out of large arenas reserved with MAP_NORESERVE: memory is
 * committed page by page as a goroutine touches it, and a parked goroutine
 * with a shallow stack costs one page plus its share of the page tables
 * (a 4 KiB page table maps 2 MiB, so a 136 KiB slot costs about 272 bytes).
 * That is why the default usable size is 128 KiB, not a thread's 8 MiB.
 * Goroutines asking for another size get a mapping of their own.
 *
 * Overflow protection, in order of preference:
 *   - a light guard (MADV_GUARD_INSTALL, Linux 6.13+): costs no mapping, so
 *     every slot gets one;
 *   - a heavy guard (mprotect): splits the arena's mapping, and
 *     vm.max_map_count (65530 by default) caps the process near 32,700 of
 *     them; goc spends at most goc__os_guard_heavy_budget() of them;
 *   - beyond that budget, a canary: the lowest 64 bytes of the usable stack
 *     are never legitimately used and must read as zero. They are checked,
 *     with the saved stack pointer, every time the goroutine switches away
 *     (goc__stack_ok). Reading them costs no memory: an untouched page
 *     reads from the kernel's shared zero page.
 * GOC_STACK_GUARD=heavy|none restricts the choice, to exercise the
 * fallbacks on a kernel that has light guards.
 * A fault in a guard page is reported by dump.c's SIGSEGV handler as
 * "goc: goroutine N stack overflow".
 *
 * Caches. Each P keeps up to P_CACHE_MAX dead goroutines (descriptor and
 * stack, still warm) for reuse; beyond that they go to the global hot list.
 * When the global hot list holds HOT_MAX, further stacks go to the release
 * batch, still warm and still taken before cold slots; a full batch has
 * its pages handed back to the kernel (MADV_DONTNEED) in one system call,
 * made outside stk.lock, and its slots become cold slots: address space
 * only. Each call costs a TLB flush on every CPU running the process (an
 * interrupt apiece, tens of microseconds in a VM), which is why the batch
 * is large. Two batches alternate: one fills while the other is handed
 * back, by the releaser thread (started at the first full batch), so that
 * a worker ending goroutines does not stop for the system call; by the
 * thread that filled it if the releaser could not start. Arenas are never
 * unmapped while the process runs.
 *
 * Locking: stk.lock guards the arena table's growth, the global lists, the
 * batches (but a batch being handed back belongs to its releaser until it
 * takes the lock again to make its slots cold), the releaser's state and
 * mailbox, and the custom-stack list. The arena table is append-only and
 * published with release stores, so goc__stack_foreach and goc__stack_owner
 * read it without the lock (from a signal handler too). No system call
 * and no first touch of a page is made with stk.lock held: reserving and
 * guarding an arena, guarding a slot, laying out a fresh slot and handing
 * back a batch all happen before the lock is taken or after it is dropped.
 * The one exception is the cold list's room, reserved once, at the first
 * batch (cold_ready_locked).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "race.h"

#define ARENA_SLOTS 1024
#define ARENAS_MAX 16384 /* 16 M default-size goroutines */
#define P_CACHE_MAX 512
#define HOT_MAX 2048
#define RELEASE_BATCH 256 /* slots handed back per system call */
#define PREFAULT_AHEAD 2048
#define PREFAULT_BATCH 64
#define PREFAULT_LEAD 128
#define CANARY_BYTES GOC_STACK_CANARY
#define SLOT_COLORS 32
#define DEFAULT_USABLE (128 * 1024)
#define MIN_USABLE (16 * 1024)
#define HELPER_STACK (64 * 1024) /* the prefaulter's and the releaser's */

struct arena {
    char *base;
    _Atomic size_t carved; /* slots handed out so far */
    bool guarded;          /* every slot has its light guard already */
};

struct cold_slot {
    char *base;
    uint8_t guard;
    bool guard_pending; /* fresh from an unguarded arena: guard_slot it */
};

enum { RELEASER_NONE, RELEASER_STARTING, RELEASER_RUNNING, RELEASER_FAILED };

/* Dead Gs on their way to the cold list; ranges and slots are filled in by
 * the releaser, from each G before its pages go. */
struct release_batch {
    goc_g *g[RELEASE_BATCH];
    struct iovec ranges[RELEASE_BATCH];
    struct cold_slot slots[RELEASE_BATCH];
    size_t n;
};

static struct {
    goc_spinlock lock;
    bool inited;
    size_t page;
    size_t usable;      /* default usable bytes */
    size_t slot;        /* default slot bytes */
    bool light;         /* light guards supported */
    long heavy_budget;
    _Atomic long heavy_used;
    struct arena arenas[ARENAS_MAX];
    _Atomic int narenas;
    int cur;            /* the arena being carved */
    _Atomic bool prefault; /* the prefaulter runs */
    _Atomic size_t carved_lin;     /* slots carved, counted across arenas */
    _Atomic size_t populated_lin;  /* slots whose top page the prefaulter committed */
    _Atomic uint32_t prefault_sleeping;
    goc_g *hot;         /* global list of warm dead Gs, via cachelink */
    long nhot;
    struct release_batch batch[2];
    int filling;        /* the batch that takes dead Gs */
    /* The other batch is being handed back (else it is empty). Written
     * under stk.lock; read without it as a hint (goc__stack_helpers_busy). */
    _Atomic bool releasing;
    int releaser;       /* RELEASER_* */
    struct release_batch *posted; /* a full batch for the releaser */
    _Atomic uint32_t posts;       /* bumped after each post: the releaser's futex */
    struct cold_slot *cold;
    size_t ncold;
    goc_g *custom;      /* live custom-size Gs, via cachelink */
} stk = {.lock = GOC_SPINLOCK_INIT};

static void prefault_start(void);

static size_t round_up(size_t n, size_t a) { return (n + a - 1) / a * a; }

static size_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return 0;
    switch (*end) {
    case 'k': case 'K': v <<= 10; break;
    case 'm': case 'M': v <<= 20; break;
    case 'g': case 'G': v <<= 30; break;
    default: break;
    }
    return (size_t)v;
}

/* Slot bytes for a usable stack of n bytes. */
static size_t slot_size(size_t usable)
{
    return round_up(stk.page + CANARY_BYTES + usable + sizeof(goc_g) + 64 * SLOT_COLORS,
                    stk.page);
}

/* LeakSanitizer cannot see goroutine stacks: memory that only a goroutine
 * still parked at exit points to would be reported as leaked, though it is
 * as reachable as in Go. At exit (before LSan's own check, which LSan
 * registered with atexit before main), every live goroutine's stack, from
 * its saved stack pointer up (all of it for one still running), becomes a
 * root region, and so does its descriptor just above it: the argument of
 * a goroutine that has not run yet is referenced from there alone. */
#if defined(GOC_SANITIZE_ADDRESS)
void __lsan_register_root_region(const void *p, size_t size);

static void lsan_root_stack(goc_g *g, void *arg)
{
    (void)arg;
    /* A goroutine still running on its worker (the scheduler has stopped,
     * but it goes on to its next switch) has live frames below the stack
     * pointer it saved last: take its whole stack. */
    bool running = atomic_load_explicit(&g->status, memory_order_acquire) == G_RUNNING;
    const char *lo = !running && g->sp && (char *)g->sp > g->stack.lo && (char *)g->sp < g->stack.hi
                         ? (const char *)g->sp
                         : g->stack.lo;
    __lsan_register_root_region(lo, (size_t)((const char *)(g + 1) - lo));
}

static void lsan_stack_roots(void) { goc__stack_foreach(lsan_root_stack, NULL); }
#endif

static void stack_init_locked(void)
{
    if (stk.inited)
        return;
    stk.page = goc__os_page_size();
    size_t usable = DEFAULT_USABLE;
    const char *env = getenv("GOC_STACK_SIZE");
    if (env && *env) {
        size_t v = parse_size(env);
        if (v >= MIN_USABLE)
            usable = v;
    }
    stk.usable = usable;
    stk.slot = slot_size(usable);
    /* GOC_STACK_GUARD=heavy or =none narrows the choice (to test the
     * fallbacks on a kernel that has light guards). */
    const char *guard = getenv("GOC_STACK_GUARD");
    bool allow_light = !guard || !*guard || !strcmp(guard, "light");
    bool allow_heavy = allow_light || !strcmp(guard, "heavy");
    stk.light = allow_light && goc__os_guard_light_supported();
    stk.heavy_budget = allow_heavy ? goc__os_guard_heavy_budget() : 0;
    stk.inited = true;
    prefault_start();
#if defined(GOC_SANITIZE_ADDRESS)
    atexit(lsan_stack_roots);
#endif
}

size_t goc__stack_default_size(void)
{
    goc__spin_lock(&stk.lock);
    stack_init_locked();
    goc__spin_unlock(&stk.lock);
    return stk.usable;
}

/* Lays out the descriptor and stack bounds of a slot. The descriptor's
 * memory must be zero or a dead G's. */
static goc_g *slot_g(char *base, size_t slot)
{
    /* Slots are a multiple of the page size apart, so descriptors at the
     * same offset in each would all fall in the same few cache sets: colour
     * the offset by the slot's address. */
    uintptr_t top = (uintptr_t)base + slot;
    uintptr_t color = (((uintptr_t)base / stk.page) % SLOT_COLORS) * 64;
    return (goc_g *)((top - sizeof(goc_g) - color) & ~(uintptr_t)63);
}

static goc_g *slot_layout(char *base, size_t slot, uint8_t guard, uint8_t custom)
{
    goc_g *g = slot_g(base, slot);
    g->stack.base = base;
    g->stack.lo = base + stk.page;
    g->stack.hi = (char *)((uintptr_t)g & ~(uintptr_t)15);
    g->stack.slot = slot;
    g->stack.guard = guard;
    g->stack.custom = custom;
    return g;
}

/* Guards one slot, without stk.lock: the system call (an mprotect takes
 * the kernel's address-space lock for writing) must not hold up every P
 * that wants a stack. The heavy budget is claimed before it is spent. */
static uint8_t guard_slot(char *base)
{
    if (stk.light && goc__os_guard_light(base, stk.page) == 0)
        return STACK_GUARD_LIGHT;
    long used = atomic_load_explicit(&stk.heavy_used, memory_order_relaxed);
    while (used < stk.heavy_budget) {
        if (atomic_compare_exchange_weak_explicit(&stk.heavy_used, &used, used + 1,
                                                  memory_order_relaxed, memory_order_relaxed)) {
            if (goc__os_guard_heavy(base, stk.page) == 0)
                return STACK_GUARD_HEAVY;
            atomic_fetch_sub_explicit(&stk.heavy_used, 1, memory_order_relaxed);
            break;
        }
    }
    return STACK_GUARD_NONE;
}

/* Reserves a new arena and guards all its slots, in a few system calls
 * rather than one per goroutine, then appends it to the table. Called
 * without stk.lock: the calls take hundreds of microseconds (the guards
 * need page tables), which every P wanting a stack would spend spinning.
 * Two threads that both find the arenas used up each add one; the second
 * is simply carved later. False: no address space, or the table is full. */
static bool add_arena(void)
{
    if (atomic_load_explicit(&stk.narenas, memory_order_relaxed) == ARENAS_MAX)
        return false;
    size_t len = stk.slot * ARENA_SLOTS;
    char *base = goc__os_reserve(len);
    if (!base)
        return false;
    bool guarded = stk.light && goc__os_guard_light_many(base, stk.slot, ARENA_SLOTS) == 0;
    goc__spin_lock(&stk.lock);
    int n = atomic_load_explicit(&stk.narenas, memory_order_relaxed);
    if (n == ARENAS_MAX) {
        goc__spin_unlock(&stk.lock);
        goc__os_unreserve(base, len);
        return false;
    }
    struct arena *a = &stk.arenas[n];
    a->base = base;
    a->guarded = guarded;
    atomic_store_explicit(&a->carved, 0, memory_order_relaxed);
    atomic_store_explicit(&stk.narenas, n + 1, memory_order_release);
    goc__spin_unlock(&stk.lock);
    return true;
}

static void prefault_kick(size_t carved_lin);

/* A new default-size slot, not touched yet: its base goes to *c, and its
 * guard if the arena has them all already (else c->guard_pending: the
 * caller guards it after the unlock). Called with stk.lock held. Arenas
 * are carved in order; the prefaulter has usually added the next ones
 * already. False: every arena is carved; the caller adds one (add_arena,
 * without the lock) and tries again. */
static bool carve_locked(struct cold_slot *c)
{
    int n = atomic_load_explicit(&stk.narenas, memory_order_relaxed);
    if (n == 0)
        return false;
    struct arena *a = &stk.arenas[stk.cur];
    if (atomic_load_explicit(&a->carved, memory_order_relaxed) == ARENA_SLOTS) {
        if (stk.cur + 1 == n)
            return false;
        a = &stk.arenas[++stk.cur];
    }
    size_t i = atomic_load_explicit(&a->carved, memory_order_relaxed);
    *c = (struct cold_slot){.base = a->base + i * stk.slot,
                            .guard = a->guarded ? STACK_GUARD_LIGHT : STACK_GUARD_NONE,
                            .guard_pending = !a->guarded};
    atomic_store_explicit(&a->carved, i + 1, memory_order_release);
    prefault_kick((size_t)stk.cur * ARENA_SLOTS + i + 1);
    return true;
}

/* ---- The prefaulter ----
 * A fresh slot costs its first page fault, the bulk of what starting a
 * goroutine on new memory costs (1.5-2 us on a VM here, most of it the
 * kernel zeroing and accounting the page). A background thread commits the
 * top page of the next PREFAULT_AHEAD slots to be carved, in batches
 * (MADV_POPULATE_WRITE, through process_madvise where the kernel allows),
 * so a spawning burst finds them ready and the work runs on an otherwise
 * idle CPU. It touches only slots not yet carved, never their contents:
 * populating an already present page is a no-op. At most PREFAULT_AHEAD
 * pages (8 MiB) are committed ahead of use. GOC_STACK_PREFAULT=0 turns it
 * off. */

static void prefault_kick(size_t carved_lin)
{
    if (!atomic_load_explicit(&stk.prefault, memory_order_relaxed))
        return;
    atomic_store_explicit(&stk.carved_lin, carved_lin, memory_order_relaxed);
    if (atomic_load_explicit(&stk.populated_lin, memory_order_relaxed) <
            carved_lin + PREFAULT_AHEAD / 2 &&
        atomic_load_explicit(&stk.prefault_sleeping, memory_order_relaxed)) {
        atomic_store_explicit(&stk.prefault_sleeping, 0, memory_order_release);
        goc__futex_wake(&stk.prefault_sleeping, 1);
    }
}

static void *prefault_main(void *arg)
{
    (void)arg;
    size_t pop = 0;
    for (;;) {
        size_t carved = atomic_load_explicit(&stk.carved_lin, memory_order_relaxed);
        if (pop < carved + PREFAULT_LEAD)
            pop = carved + PREFAULT_LEAD; /* behind: work where the carver is not */
        if (pop >= carved + PREFAULT_AHEAD) {
            atomic_store_explicit(&stk.prefault_sleeping, 1, memory_order_release);
            if (atomic_load_explicit(&stk.carved_lin, memory_order_acquire) == carved)
                goc__futex_wait(&stk.prefault_sleeping, 1, -1);
            continue;
        }
        int ai = (int)(pop / ARENA_SLOTS);
        size_t j = pop % ARENA_SLOTS;
        /* One arena beyond the one being populated: adding one takes
         * hundreds of microseconds, long enough for a carver just behind
         * to reach the end and add one itself. */
        while (ai + 1 >= atomic_load_explicit(&stk.narenas, memory_order_acquire)) {
            if (!add_arena()) {
                atomic_store(&stk.prefault, false); /* out of address space: stop */
                return NULL;
            }
        }
        size_t k = ARENA_SLOTS - j < PREFAULT_BATCH ? ARENA_SLOTS - j : PREFAULT_BATCH;
        char *first_top = stk.arenas[ai].base + (j + 1) * stk.slot - stk.page;
        if (goc__os_populate_many(first_top, stk.slot, k) != 0) {
            atomic_store(&stk.prefault, false); /* the kernel cannot: leave it to faults */
            return NULL;
        }
        pop += k;
        atomic_store_explicit(&stk.populated_lin, pop, memory_order_relaxed);
    }
}

static void prefault_start(void)
{
    const char *env = getenv("GOC_STACK_PREFAULT");
    if (env && !strcmp(env, "0"))
        return;
    atomic_store(&stk.prefault, true);
    if (!goc__os_thread_start(prefault_main, NULL, HELPER_STACK))
        atomic_store(&stk.prefault, false);
}

static goc_g *alloc_custom(size_t usable)
{
    size_t slot = slot_size(usable);
    char *base = goc__os_reserve(slot);
    if (!base)
        return NULL;
    goc_g *g = slot_layout(base, slot, guard_slot(base), 1);
    goc__spin_lock(&stk.lock);
    g->cachelink = stk.custom;
    stk.custom = g;
    goc__spin_unlock(&stk.lock);
    g->stack.vg_id = goc__valgrind_stack_register(g->stack.lo, g->stack.hi);
    return g;
}

/* Resets what a new goroutine inherits from a cached descriptor: the fields
 * goc_go does not set itself. Field by field, not memset: a rep stos of the
 * whole descriptor costs more than the goroutine's entire start-up. */
static goc_g *recycle(goc_g *g)
{
    g->schedlink = NULL;
    g->defers = NULL;
    g->waitreason = NULL;
    g->waitsince = 0;
    g->param = NULL;
    g->race_fiber = NULL;
    g->asan_fake = NULL;
    atomic_store_explicit(&g->wake, 0, memory_order_relaxed);
    goc__asan_unpoison(g->stack.lo, (size_t)(g->stack.hi - g->stack.lo));
    return g;
}

goc_g *goc__stack_alloc(goc_p *p, size_t size)
{
    goc_g *g = NULL;
    if (!stk.inited)
        goc__stack_default_size();
    if (size && size != stk.usable) {
        g = alloc_custom(size < MIN_USABLE ? MIN_USABLE : size);
        return g ? recycle(g) : NULL;
    }
    if (p && p->gfree) {
        g = p->gfree;
        p->gfree = g->cachelink;
        p->ngfree--;
        g->cachelink = NULL;
        return recycle(g);
    }
    goc__spin_lock(&stk.lock);
    if (stk.hot) {
        /* Refill the P's cache in one visit to the lock. */
        g = stk.hot;
        stk.hot = g->cachelink;
        stk.nhot--;
        for (int i = 0; p && stk.hot && i < P_CACHE_MAX / 2; i++) {
            goc_g *c = stk.hot;
            stk.hot = c->cachelink;
            stk.nhot--;
            c->cachelink = p->gfree;
            p->gfree = c;
            p->ngfree++;
        }
    } else if (stk.batch[stk.filling].n) {
        struct release_batch *b = &stk.batch[stk.filling];
        g = b->g[--b->n];
    } else {
        /* A slot whose top page may not be there (handed back, or never
         * touched): it is laid out after the unlock, since that first
         * touch may fault, microseconds that every other P wanting the
         * lock would spend spinning. Until then it reads as zero (G_FREE),
         * which goc__stack_foreach skips. */
        struct cold_slot c;
        bool fresh = false;
        while (!stk.ncold && !(fresh = carve_locked(&c))) {
            goc__spin_unlock(&stk.lock);
            if (!add_arena())
                return NULL;
            goc__spin_lock(&stk.lock);
        }
        if (!fresh)
            c = stk.cold[--stk.ncold];
        goc__spin_unlock(&stk.lock);
        if (c.guard_pending)
            c.guard = guard_slot(c.base);
        g = slot_layout(c.base, stk.slot, c.guard, 0);
        if (fresh)
            g->stack.vg_id = goc__valgrind_stack_register(g->stack.lo, g->stack.hi);
        g->cachelink = NULL;
        return recycle(g);
    }
    goc__spin_unlock(&stk.lock);
    g->cachelink = NULL;
    return recycle(g);
}

static void free_custom(goc_g *g)
{
    goc__spin_lock(&stk.lock);
    for (goc_g **pp = &stk.custom; *pp; pp = &(*pp)->cachelink) {
        if (*pp == g) {
            *pp = g->cachelink;
            break;
        }
    }
    goc__spin_unlock(&stk.lock);
    if (g->stack.guard == STACK_GUARD_HEAVY)
        atomic_fetch_sub_explicit(&stk.heavy_used, 1, memory_order_relaxed);
    goc__valgrind_stack_deregister(g->stack.vg_id);
    goc__os_unreserve(g->stack.base, g->stack.slot);
}

/* Room for every slot there can be in the cold list, committed as used
 * (stk.lock held); not malloc: the runtime's own memory stays invisible to
 * TSan. False if the address space is not there. */
static bool cold_ready_locked(void)
{
    if (!stk.cold)
        stk.cold = goc__os_reserve(sizeof(struct cold_slot) * ARENAS_MAX * ARENA_SLOTS);
    return stk.cold != NULL;
}

/* The next batch to hand back, taken out of rotation, or NULL if none is
 * full. Warm slots beyond HOT_MAX (left there while both batches were
 * full) top up the filling batch first, so that the excess goes too, batch
 * by batch. Called with stk.lock held and no batch being handed back but
 * the caller's: a thread about to hand back a batch it takes sets
 * stk.releasing, and the releasing thread takes the next one before it
 * clears it, so that the flag never drops between two batches (tests and
 * spinning Ps read it without the lock). */
static struct release_batch *next_batch_locked(void)
{
    struct release_batch *b = &stk.batch[stk.filling];
    while (stk.nhot > HOT_MAX && b->n < RELEASE_BATCH && cold_ready_locked()) {
        goc_g *g = stk.hot;
        stk.hot = g->cachelink;
        stk.nhot--;
        b->g[b->n++] = g;
    }
    if (b->n < RELEASE_BATCH)
        return NULL;
    stk.filling ^= 1;
    return b;
}

/* Hands back the pages of a batch from next_batch_locked and makes its
 * slots cold; then the next one, while there is one. */
static void release_batches(struct release_batch *b)
{
    while (b) {
        for (size_t i = 0; i < b->n; i++) {
            goc_g *g = b->g[i];
            /* The whole slot but its guard, descriptor included: it reads
             * as zero (G_FREE) once released. */
            b->ranges[i] = (struct iovec){.iov_base = g->stack.lo,
                                          .iov_len = stk.slot - stk.page};
            b->slots[i] = (struct cold_slot){.base = g->stack.base, .guard = g->stack.guard};
        }
        goc__os_release_many(b->ranges, b->n);
        goc__spin_lock(&stk.lock);
        for (size_t i = 0; i < b->n; i++)
            stk.cold[stk.ncold++] = b->slots[i];
        b->n = 0;
        if (!(b = next_batch_locked()))
            atomic_store_explicit(&stk.releasing, false, memory_order_relaxed);
        goc__spin_unlock(&stk.lock);
    }
}

/* ---- The releaser ----
 * Hands back the batches posted to it. A post is made under stk.lock and
 * followed by a bump of stk.posts; the releaser reads posts before it looks
 * for a post under the lock, and sleeps only while posts still reads that
 * value, so a post made after its look always wakes it. */

static void *releaser_main(void *arg)
{
    (void)arg;
    for (;;) {
        uint32_t seen = atomic_load_explicit(&stk.posts, memory_order_seq_cst);
        goc__spin_lock(&stk.lock);
        struct release_batch *b = stk.posted;
        stk.posted = NULL;
        goc__spin_unlock(&stk.lock);
        if (b)
            release_batches(b);
        else
            goc__futex_wait(&stk.posts, seen, -1);
    }
    return NULL;
}

/* Called with stk.lock not held, by the thread that found the releaser not
 * started; until it runs, batches are handed back inline. */
static void releaser_start(void)
{
    bool ok = goc__os_thread_start(releaser_main, NULL, HELPER_STACK);
    goc__spin_lock(&stk.lock);
    stk.releaser = ok ? RELEASER_RUNNING : RELEASER_FAILED;
    goc__spin_unlock(&stk.lock);
}

bool goc__stack_helpers_busy(void)
{
    return (atomic_load_explicit(&stk.prefault, memory_order_relaxed) &&
            !atomic_load_explicit(&stk.prefault_sleeping, memory_order_relaxed)) ||
           atomic_load_explicit(&stk.releasing, memory_order_relaxed);
}

bool goc__stack_releasing(void)
{
    return atomic_load_explicit(&stk.releasing, memory_order_relaxed);
}

/* Called after g has switched away for good (it is G_DEAD). */
void goc__stack_free(goc_p *p, goc_g *g)
{
    goc__race_fiber_destroy(g->race_fiber);
    g->race_fiber = NULL;
    if (g->stack.custom) {
        free_custom(g);
        return;
    }
    atomic_store_explicit(&g->status, G_FREE, memory_order_relaxed);
    if (p && p->ngfree < P_CACHE_MAX) {
        g->cachelink = p->gfree;
        p->gfree = g;
        p->ngfree++;
        return;
    }
    /* Move half of the P's cache (or just g, from a plain thread) to the
     * global lists. */
    struct release_batch *full = NULL;
    goc__spin_lock(&stk.lock);
    int n = p ? P_CACHE_MAX / 2 : 0;
    for (;;) {
        struct release_batch *b = &stk.batch[stk.filling];
        if (stk.nhot >= HOT_MAX && b->n < RELEASE_BATCH && cold_ready_locked()) {
            b->g[b->n++] = g;
        } else {
            /* Warm: below HOT_MAX, or while both batches are full (the
             * excess goes later: next_batch_locked), or if there is no cold
             * list (keep it warm rather than lose it). */
            g->cachelink = stk.hot;
            stk.hot = g;
            stk.nhot++;
        }
        if (n-- <= 0 || !p->gfree)
            break;
        g = p->gfree;
        p->gfree = g->cachelink;
        p->ngfree--;
    }
    /* A full batch (filled now, or while the other was being handed back)
     * goes as soon as the other one is empty. */
    struct release_batch *b = NULL;
    if (!atomic_load_explicit(&stk.releasing, memory_order_relaxed) && (b = next_batch_locked()))
        atomic_store_explicit(&stk.releasing, true, memory_order_relaxed);
    bool posted = false, start = false;
    if (b) {
        if (stk.releaser == RELEASER_RUNNING) {
            stk.posted = b;
            posted = true;
        } else {
            full = b;
            start = stk.releaser == RELEASER_NONE;
            if (start)
                stk.releaser = RELEASER_STARTING;
        }
    }
    goc__spin_unlock(&stk.lock);
    if (posted) {
        atomic_fetch_add_explicit(&stk.posts, 1, memory_order_seq_cst);
        goc__futex_wake(&stk.posts, 1);
    }
    if (full)
        release_batches(full);
    if (start)
        releaser_start();
}

bool goc__stack_canary_ok(goc_g *g)
{
    const uint64_t *c = (const uint64_t *)g->stack.lo;
    uint64_t acc = 0;
    for (size_t i = 0; i < GOC_STACK_CANARY / sizeof *c; i++)
        acc |= c[i];
    return acc == 0;
}

void goc__stack_foreach(void (*fn)(goc_g *g, void *arg), void *arg)
{
    int n = atomic_load_explicit(&stk.narenas, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        struct arena *a = &stk.arenas[i];
        size_t carved = atomic_load_explicit(&a->carved, memory_order_acquire);
        for (size_t j = 0; j < carved; j++) {
            goc_g *g = slot_g(a->base + j * stk.slot, stk.slot);
            uint32_t st = atomic_load_explicit(&g->status, memory_order_relaxed);
            if (st != G_FREE && st != G_DEAD)
                fn(g, arg);
        }
    }
    if (goc__spin_trylock(&stk.lock)) {
        for (goc_g *g = stk.custom; g; g = g->cachelink) {
            uint32_t st = atomic_load_explicit(&g->status, memory_order_relaxed);
            if (st != G_FREE && st != G_DEAD)
                fn(g, arg);
        }
        goc__spin_unlock(&stk.lock);
    }
}

goc_g *goc__stack_owner(const void *addr)
{
    const char *x = addr;
    int n = atomic_load_explicit(&stk.narenas, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        struct arena *a = &stk.arenas[i];
        size_t carved = atomic_load_explicit(&a->carved, memory_order_acquire);
        if (x >= a->base && x < a->base + carved * stk.slot) {
            size_t j = (size_t)(x - a->base) / stk.slot;
            return slot_g(a->base + j * stk.slot, stk.slot);
        }
    }
    if (goc__spin_trylock(&stk.lock)) {
        goc_g *found = NULL;
        for (goc_g *g = stk.custom; g; g = g->cachelink)
            if (x >= g->stack.base && x < g->stack.base + g->stack.slot)
                found = g;
        goc__spin_unlock(&stk.lock);
        return found;
    }
    return NULL;
}
