/* goc/net.h: waiting on file descriptors (Go's internal/poll), the base of
 * goc's network layer.
 *
 * goc_fd_wait parks the calling goroutine until a non-blocking descriptor is
 * ready, so a goroutine can drive any C library's socket (a database
 * client, an HTTP client) without stalling its worker. The protocol is the
 * usual one for non-blocking I/O: try the call; on EAGAIN, wait, then try
 * again. Spurious wake-ups are possible: always retry the call.
 *
 * errno: a goroutine may resume on another thread after any call that
 * parks, and errno is per thread (glibc even lets the compiler keep its
 * address across calls). Read errno right after the failing call, in a
 * function that does not park, never across goc_fd_wait: e.g.
 *     static ssize_t sys_read(int fd, void *b, size_t n)   (noinline)
 *     { ssize_t r = read(fd, b, n); return r < 0 ? -errno : r; }
 *
 * A descriptor is registered with the poller (epoll, edge-triggered) on its
 * first wait and stays registered until goc_fd_close or goc_fd_forget: tell
 * goc before the descriptor is closed, since its number may be reused.
 */
#ifndef GOC_NET_H
#define GOC_NET_H

#include <stdint.h>

#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GOC_FD_READ 1  /* readable, or the peer hung up, or an error */
#define GOC_FD_WRITE 2 /* writable, or an error */

/* Waits until fd is ready for one of events (GOC_FD_READ | GOC_FD_WRITE),
 * or until deadline (goc_now() clock; 0: none). Returns the events that are
 * ready (> 0), -ETIMEDOUT at the deadline (also when it has already passed),
 * -EBADF for a negative fd, -EINVAL for no events, -ECANCELED if another
 * goroutine calls goc_fd_close/goc_fd_forget meanwhile, or the negative
 * errno of a failed epoll registration (e.g. -EPERM for a regular file,
 * which is always ready: do not wait on those). Parks; from a plain thread,
 * blocks. */
GOC_API int goc_fd_wait(int fd, int events, int64_t deadline);

/* Forgets fd: goroutines waiting on it return -ECANCELED; the registration
 * is removed. Call it before closing fd yourself. */
GOC_API void goc_fd_forget(int fd);

/* goc_fd_forget(fd), then close(fd). Returns close's result (0 or -errno). */
GOC_API int goc_fd_close(int fd);

#ifdef __cplusplus
}
#endif
#endif
