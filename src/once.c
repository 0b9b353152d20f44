/* once.c: sync.Once, as Go builds it (sync/once.go).
 *
 * done turns from 0 to 1 exactly once, after fn has returned, and never
 * back. The fast path is one acquire load of done. The slow path takes m:
 * the first caller runs fn under it and stores done before unlocking, so
 * every other caller either sees done == 1 or waits on m until fn has
 * returned, which is what "Do returns only after f returns" requires. (A
 * CAS on done alone would let a second caller return before fn finished.)
 *
 * Happens-before, for TSan (this file is not instrumented): fn's return is
 * published with a release on the Once before done is set; a fast path
 * that sees done acquires it. The slow path is ordered by m.
 */
#include "goc/sync.h"
#include "internal.h"
#include "race.h"

void goc_once_init(goc_once *o) { *o = (goc_once)GOC_ONCE_INIT; }

static void once_slow(goc_once *o, goc_fn fn, void *arg)
{
    goc_mutex_lock(&o->m);
    if (__atomic_load_n(&o->done, __ATOMIC_RELAXED) == 0) {
        fn(arg);
        goc__race_release(o);
        __atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
    }
    goc_mutex_unlock(&o->m);
}

void (goc_once_do)(goc_once *o, goc_fn fn, void *arg)
{
    if (likely(__atomic_load_n(&o->done, __ATOMIC_ACQUIRE) != 0)) {
        goc__race_acquire(o);
        return;
    }
    once_slow(o, fn, arg);
}
