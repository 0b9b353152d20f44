/* value.c: atomic.Value for pointers, with reclamation of replaced values
 * by split reference counting (no per-worker state, so a reader may move
 * between workers while it holds a value).
 *
 * Each stored value lives in a version: {ptr, inner}. v->state packs the
 * current version's address (64-byte aligned, so its bits 6..47) in its low
 * 42 bits, and above them `outer`: how many readers took that version
 * through state and have not given it back through state.
 *
 *   load      adds one to outer and reads the version from the same word
 *             (one compare-and-swap, retried under contention): from then
 *             on the version cannot be freed.
 *   release   while state still holds the version, takes one off outer
 *             (CAS); once the version has been replaced, takes one off its
 *             inner count instead.
 *   store     swaps in the new version with outer 0, and moves the old
 *             outer count into the old version's inner.
 *
 * inner starts at BIAS (the reference state itself holds), which no number
 * of early releases can bring to zero; the store adds outer - BIAS. So
 * inner reaches zero exactly once, after the version has been replaced and
 * every reader that took it has released it, whoever comes last: that one
 * frees it. A reader's version cannot be freed under it, so the release's
 * CAS cannot mistake a new version at a recycled address for its own.
 *
 * Happens-before, for TSan (this file is not instrumented): a store
 * publishes the value's contents (release on the version) to loads that
 * get it (acquire); every release of a version publishes the reader's
 * accesses to whoever frees it.
 */
#include <errno.h>
#include <stdlib.h>

#include "goc/sync.h"
#include "internal.h"
#include "race.h"

typedef struct version {
    void *ptr;
    _Atomic int64_t inner;
} __attribute__((aligned(64))) version;

#define PTR_BITS 42
#define PTR_MASK ((UINT64_C(1) << PTR_BITS) - 1)
#define ONE (UINT64_C(1) << PTR_BITS)
#define BIAS (INT64_C(1) << 40)

static uint64_t pack(version *ver)
{
    uintptr_t a = (uintptr_t)ver;
    if (unlikely((a >> 6) & ~(uintptr_t)PTR_MASK))
        goc__fatal("goc_value: version address beyond 48 bits");
    return (uint64_t)(a >> 6);
}

static version *unpack(uint64_t s) { return (version *)(uintptr_t)((s & PTR_MASK) << 6); }

void goc_value_init(goc_value *v, void (*free_fn)(void *ptr))
{
    *v = (goc_value)GOC_VALUE_INIT(free_fn);
}

static void version_free(goc_value *v, version *ver)
{
    goc__race_acquire(ver);
    if (v->free_fn && ver->ptr)
        v->free_fn(ver->ptr);
    free(ver);
}

/* Drops references from ver's inner count; frees it at zero. */
static void version_put(goc_value *v, version *ver, int64_t n)
{
    if (atomic_fetch_sub_explicit(&ver->inner, n, memory_order_acq_rel) == n)
        version_free(v, ver);
}

int goc_value_store(goc_value *v, void *p)
{
    version *ver = aligned_alloc(64, sizeof *ver);
    if (!ver)
        return -ENOMEM;
    ver->ptr = p;
    atomic_init(&ver->inner, BIAS);
    goc__race_release(ver);
    uint64_t old = __atomic_exchange_n(&v->state, pack(ver), __ATOMIC_ACQ_REL);
    version *prev = unpack(old);
    if (prev)
        /* Move the readers counted in old's outer to prev's inner, and drop
         * the state's own reference. */
        version_put(v, prev, BIAS - (int64_t)(old >> PTR_BITS));
    return 0;
}

void *goc_value_load(goc_value *v, goc_value_ref *ref)
{
    uint64_t s = __atomic_load_n(&v->state, __ATOMIC_RELAXED);
    for (;;) {
        if (unlikely((s & PTR_MASK) == 0)) {
            ref->version = NULL; /* nothing stored yet */
            return NULL;
        }
        /* Saturated outer count (4M readers on one version): let one go. */
        if (unlikely((s >> PTR_BITS) == (UINT64_MAX >> PTR_BITS))) {
            goc_yield();
            s = __atomic_load_n(&v->state, __ATOMIC_RELAXED);
            continue;
        }
        if (__atomic_compare_exchange_n(&v->state, &s, s + ONE, true, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            break;
    }
    version *ver = unpack(s);
    ref->version = ver;
    goc__race_acquire(ver);
    return ver->ptr;
}

void goc_value_release(goc_value *v, goc_value_ref *ref)
{
    version *ver = ref->version;
    if (!ver)
        return;
    ref->version = NULL;
    goc__race_release(ver);
    uint64_t mine = pack(ver);
    uint64_t s = __atomic_load_n(&v->state, __ATOMIC_RELAXED);
    while ((s & PTR_MASK) == mine)
        if (__atomic_compare_exchange_n(&v->state, &s, s - ONE, true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
            return;
    /* Replaced: our reference was moved to the version's inner count. */
    version_put(v, ver, 1);
}

void goc_value_destroy(goc_value *v)
{
    uint64_t old = __atomic_exchange_n(&v->state, 0, __ATOMIC_ACQ_REL);
    version *prev = unpack(old);
    if (prev)
        version_put(v, prev, BIAS - (int64_t)(old >> PTR_BITS));
}
