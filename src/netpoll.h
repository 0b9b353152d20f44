/* netpoll.h: the poller's hooks for goc's connections (net.c), beyond the
 * public goc_fd_wait/forget/close. None of them parks, except the wait. */
#ifndef GOC_NETPOLL_PRIV_H
#define GOC_NETPOLL_PRIV_H

#include <stdint.h>

#include "context.h"
#include "internal.h"

/* An events flag for goc__fd_wait_dl: the caller's last read of this
 * stream came back short, so the stream held nothing more then, and any
 * byte that came after made an edge: it may wait without trying to read,
 * unless a hang-up or error was seen (an end of stream that was already
 * there behind the data makes no new edge): then the wait returns
 * GOC_FD_READ at once. */
#define GOC__FD_DRAINED 0x100

/* A context bounding one call's waits (goc_fd_wait_ctx, net.c's _ctx
 * calls), on the caller's stack: GOC__FD_CTX_INIT(ctx). The call's first
 * wait that would park starts a watcher on the context (so a call that
 * never waits never touches the context); when the context ends, the
 * watcher stores its error in err and kicks fd for events, and a wait that
 * sees err (before parking or woken by the kick) returns it. The caller
 * stops it with goc__fd_ctx_stop before the call returns, and before
 * closing the descriptor it was started for (a later wait on another
 * descriptor starts it again, for that one). Only the caller and the
 * watcher use it; fd and events are fixed while it is started. */
typedef struct goc__fd_ctx {
    goc__ctx_watch watch;
    goc_ctx *ctx;
    _Atomic int err; /* 0 until the context ends (seen by a wait); then its error */
    int fd, events;  /* what the watcher kicks */
    bool on;         /* the watcher is started */
} goc__fd_ctx;

#define GOC__FD_CTX_INIT(c) {.ctx = (c)}

/* Stops fc's watcher if started (NULL: nothing). Afterwards no kick of it
 * is running or will run. Never parks. */
GOC_INTERNAL void goc__fd_ctx_stop(goc__fd_ctx *fc);

/* goc_fd_wait whose deadline is read from *dl (0: none), a word another
 * goroutine may move: the mover stores the new value, then calls
 * goc__fd_kick. fc (NULL: none) bounds the wait by a context: its error is
 * returned once the context has ended. Returns what goc_fd_wait does, or 0
 * when the deadline moved or a kick came: the caller retries its call and
 * waits again (a kick may also come from a waiter on the same descriptor
 * whose context ended as it was failing with -EBUSY: 0 never means more
 * than "look again"). Parks. */
GOC_INTERNAL int goc__fd_wait_dl(int fd, int events, const _Atomic int64_t *dl,
                                 goc__fd_ctx *fc);

/* Wakes fd's waiters for events (GOC_FD_READ | GOC_FD_WRITE) with 0. */
GOC_INTERNAL void goc__fd_kick(int fd, int events);

/* Closing fd: its waiters, and every later wait until goc_fd_forget(fd),
 * fail with -ECANCELED. The descriptor stays open (and its number taken)
 * until the caller forgets and closes it. */
GOC_INTERNAL void goc__fd_evict(int fd);

#endif
