/* netpoll.h: the poller's hooks for goc's connections (net.c), beyond the
 * public goc_fd_wait/forget/close. None of them parks, except the wait. */
#ifndef GOC_NETPOLL_PRIV_H
#define GOC_NETPOLL_PRIV_H

#include <stdint.h>

#include "internal.h"

/* An events flag for goc__fd_wait_dl: the caller's last read of this
 * stream came back short, so the stream held nothing more then, and any
 * byte that came after made an edge: it may wait without trying to read,
 * unless a hang-up or error was seen (an end of stream that was already
 * there behind the data makes no new edge): then the wait returns
 * GOC_FD_READ at once. */
#define GOC__FD_DRAINED 0x100

/* goc_fd_wait whose deadline is read from *dl (0: none), a word another
 * goroutine may move: the mover stores the new value, then calls
 * goc__fd_kick. Returns what goc_fd_wait does, or 0 when the deadline moved
 * or a kick came: the caller retries its call and waits again. Parks. */
GOC_INTERNAL int goc__fd_wait_dl(int fd, int events, const _Atomic int64_t *dl);

/* Wakes fd's waiters for events (GOC_FD_READ | GOC_FD_WRITE) with 0. */
GOC_INTERNAL void goc__fd_kick(int fd, int events);

/* Closing fd: its waiters, and every later wait until goc_fd_forget(fd),
 * fail with -ECANCELED. The descriptor stays open (and its number taken)
 * until the caller forgets and closes it. */
GOC_INTERNAL void goc__fd_evict(int fd);

#endif
