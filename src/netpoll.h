/* netpoll.h: the poller's hooks for goc's connections (net.c), beyond the
 * public goc_fd_wait/forget/close. None of them parks, except the wait. */
#ifndef GOC_NETPOLL_PRIV_H
#define GOC_NETPOLL_PRIV_H

#include <stdint.h>

#include "internal.h"

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
