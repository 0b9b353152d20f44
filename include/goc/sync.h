/* goc/sync.h: Go's package sync (so far: WaitGroup).
 *
 * Waits here park a goroutine (its worker runs other goroutines meanwhile)
 * and block a plain thread as a whole. Objects are plain structs owned by
 * the caller: statically initialised with their GOC_*_INIT or set up with
 * their _init function, never copied after first use (as Go's vet insists),
 * and needing no destruction once nobody waits on them.
 */
#ifndef GOC_SYNC_H
#define GOC_SYNC_H

#include <stdint.h>

#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime's wait queue, embedded in sync objects. Private: its fields
 * are touched only by goc. */
typedef struct goc__waitq {
    uint32_t lock;
    uint32_t count; /* semaphore value */
    void *head;
    void *tail;
} goc__waitq;

/* sync.WaitGroup. Rules as Go's: Add with a positive delta that starts from
 * zero must happen before Wait; a counter that goes negative panics with
 * "sync: negative WaitGroup counter"; a WaitGroup may be reused once every
 * Wait of the previous round has returned. */
typedef struct goc_waitgroup {
    uint64_t state; /* high 32 bits: counter; low 32 bits: waiters */
    goc__waitq q;
} goc_waitgroup;

#define GOC_WAITGROUP_INIT {0, {0, 0, 0, 0}}

GOC_API void goc_waitgroup_init(goc_waitgroup *wg);
GOC_API void goc_waitgroup_add(goc_waitgroup *wg, int delta);
GOC_API void goc_waitgroup_done(goc_waitgroup *wg);
/* Parks until the counter is zero. */
GOC_API void goc_waitgroup_wait(goc_waitgroup *wg);
/* wg.Add(1); go func() { defer wg.Done(); fn(arg) }(). Returns goc_go's
 * result; on failure the counter is left unchanged. */
#define goc_waitgroup_go(wg, fn, arg) goc_waitgroup_go_at((wg), (fn), (arg), __FILE__, __LINE__)
GOC_API int64_t goc_waitgroup_go_at(goc_waitgroup *wg, goc_fn fn, void *arg,
                                    const char *file, int line);

#ifdef __cplusplus
}
#endif
#endif
