/* goc/net.h: Go's package net (and the bufio.Scanner the seeds read
 * connections with), over goc's network poller.
 *
 * Every call here that can wait parks the calling goroutine (a plain thread
 * blocks as a whole): sockets are non-blocking and close-on-exec, and a
 * goroutine that would block waits in the poller while its worker runs
 * others. Name resolution of a host that is not a numeric address (or
 * "localhost") runs getaddrinfo through goc_blocking, so it never stalls a
 * worker either.
 *
 * Errors are negative errno values, as everywhere in goc:
 *   -ETIMEDOUT     a deadline passed (Go's os.ErrDeadlineExceeded)
 *   -ECANCELED     the object was closed by goc_conn_close / goc_listener_close
 *                  while the call was in progress (Go's net.ErrClosed)
 *   -ECONNRESET, -EPIPE   the peer reset or went away; never SIGPIPE
 *   -ECONNREFUSED  nobody listens there
 *   -EADDRINUSE    goc_listen: the address is taken
 *   -EINVAL        a malformed address ("no port", "bad port", ...), or an
 *                  unknown network (-EAFNOSUPPORT for a network that does not
 *                  fit the call, e.g. goc_listen_packet("tcp", ...))
 *   -ENOENT        a host name that does not resolve ("no such host")
 *   -EAGAIN        resolution failed temporarily (try again later)
 *   -EHOSTUNREACH, -ENETUNREACH   no route
 *   -EMSGSIZE      goc_scanner: a line longer than its maximum; a datagram
 *                  too big to send
 * and the negative errno of any other failing system call (-EMFILE, ...).
 *
 * Networks: "tcp" (IPv4 or IPv6), "tcp4", "tcp6", "udp", "udp4", "udp6",
 * "unix" (stream), "unixgram" (datagram). Addresses are written as Go writes
 * them: "host:port", "[::1]:80", "127.0.0.1:8080", ":8080" (listen: every
 * interface, dual-stack for "tcp"/"udp"; dial: the local system), port 0 for
 * an ephemeral port (ask the listener's address for the one it got). The
 * host may be a numeric address, "localhost" or a name to resolve; the port
 * a number or a service name ("http"). A unix address is a path, or
 * "@name" for Linux's abstract namespace.
 *
 * Contexts (goc/context.h). goc_fd_wait_ctx, goc_dial_ctx, goc_accept_ctx,
 * goc_conn_read_ctx and goc_conn_write_ctx are the calls bounded by a
 * context as well: when ctx ends, the call in progress returns the
 * context's error (goc_ctx_err: -ECANCELED for a cancel, -ETIMEDOUT for its
 * deadline), at once if ctx has ended already (before looking at the
 * descriptor). Nothing else changes: the object's own deadlines still
 * apply, and a connection or listener stays usable after a call that its
 * context ended, as in Go, where a cancelled call just returns (a read
 * loses nothing: bytes that came meanwhile are there for the next read; a
 * write may have sent a prefix, as with a deadline). Note that -ECANCELED
 * also means "closed meanwhile": ask goc_ctx_err(ctx) to tell them apart.
 * The context's watch costs nothing until a call has to wait (one check of
 * goc_ctx_err), then a link in the context's list for as long as it
 * waits: no goroutine, no allocation. The context bounds the waits for the
 * descriptor, not a wait for this object's turn behind another goroutine's
 * read (write, accept) in progress on it, which ends when that call does.
 * ctx must not be NULL (goc_background() for none).
 *
 * Deadlines are absolute goc_now() instants (goc/time.h), 0 for none, with
 * Go's semantics: a deadline applies to every call in progress and every
 * later call until it is changed; once it has passed, calls fail with
 * -ETIMEDOUT (even when data is there) until it is moved to the future or
 * cleared. Moving a deadline takes effect for a call already waiting.
 *
 * Ownership. goc_listen / goc_dial / goc_accept / goc_listen_packet hand the
 * caller a new object, which the caller owns and ends with goc_conn_close /
 * goc_listener_close; that call frees it (after the calls in progress in
 * other goroutines have returned -ECANCELED) and the object must not be used
 * again afterwards, by any goroutine. A connection may be used by several
 * goroutines at once: one goroutine reading and another writing, as in
 * Go's chat server; concurrent reads (or concurrent writes) take turns, and
 * each write goes out whole before the next starts, as Go's do.
 * A goc_scanner belongs to its creator and is freed with goc_scanner_free;
 * it does not own the connection it reads.
 */
#ifndef GOC_NET_H
#define GOC_NET_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "context.h"
#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Waiting on any descriptor (Go's internal/poll) ----
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

#define GOC_FD_READ 1  /* readable, or the peer hung up, or an error */
#define GOC_FD_WRITE 2 /* writable, or an error */

/* Waits until fd is ready for one of events (GOC_FD_READ | GOC_FD_WRITE),
 * or until deadline (goc_now() clock; 0: none). Returns the events that are
 * ready (> 0), -ETIMEDOUT at the deadline (also when it has already passed),
 * -EBADF for a negative fd, -EINVAL for no events, -EBUSY if another
 * goroutine already waits on fd for the same event, -ECANCELED if another
 * goroutine calls goc_fd_close/goc_fd_forget meanwhile, or the negative
 * errno of a failed epoll registration (e.g. -EPERM for a regular file,
 * which is always ready: do not wait on those). Parks; from a plain thread,
 * blocks. */
GOC_API int goc_fd_wait(int fd, int events, int64_t deadline);

/* goc_fd_wait bounded by ctx instead of a deadline: returns the events that
 * are ready, or goc_ctx_err(ctx) once ctx ends (at once if it has), or the
 * other errors of goc_fd_wait. Parks; from a plain thread, blocks. */
GOC_API int goc_fd_wait_ctx(int fd, int events, goc_ctx *ctx);

/* Forgets fd: goroutines waiting on it return -ECANCELED; the registration
 * is removed. Call it before closing fd yourself. */
GOC_API void goc_fd_forget(int fd);

/* goc_fd_forget(fd), then close(fd). Returns close's result (0 or -errno). */
GOC_API int goc_fd_close(int fd);

/* ---- Connections and listeners (net.Conn, net.Listener) ---- */

typedef struct goc_conn goc_conn;
typedef struct goc_listener goc_listener;

/* Room for any address string goc writes ("[v6%zone]:port", a unix path). */
#define GOC_ADDRSTRLEN 128

/* net.Listen: a stream listener ("tcp", "tcp4", "tcp6", "unix") on address,
 * with SO_REUSEADDR and a backlog of SOMAXCONN. *out gets the listener
 * (NULL on failure). A "unix" listener removes its socket file on close, as
 * Go's does. Returns 0 or a negative errno (above). May park (resolution). */
GOC_API int goc_listen(const char *network, const char *address, goc_listener **out);

/* Listener.Accept: waits for the next connection, until the listener's
 * deadline. *out gets a new connection the caller owns. Returns 0,
 * -ETIMEDOUT, -ECANCELED (closed meanwhile), or another negative errno
 * (-EMFILE when out of descriptors: the listener stays usable). Parks. */
GOC_API int goc_accept(goc_listener *l, goc_conn **out);

/* goc_accept bounded by ctx too (top of this file): goc_ctx_err(ctx) once
 * ctx ends. Parks. */
GOC_API int goc_accept_ctx(goc_listener *l, goc_conn **out, goc_ctx *ctx);

/* Deadline for goc_accept (absolute goc_now() instant; 0: none). */
GOC_API int goc_listener_set_deadline(goc_listener *l, int64_t deadline);

/* Listener.Addr().String() into buf (NUL-terminated): e.g. "127.0.0.1:38211"
 * or "[::]:8000" after listening on ":8000". Returns the string's length, or
 * -ENOSPC if buf is too small (GOC_ADDRSTRLEN always fits). */
GOC_API int goc_listener_addr(goc_listener *l, char *buf, size_t size);

/* The listening descriptor, still owned by the listener. */
GOC_API int goc_listener_fd(goc_listener *l);

/* Listener.Close: a goc_accept in progress returns -ECANCELED; the socket
 * is closed and l freed once no call uses it. Returns 0. Never parks. */
GOC_API int goc_listener_close(goc_listener *l);

/* net.Dial: connects to address ("tcp", "tcp4", "tcp6", "unix", "udp",
 * "udp4", "udp6", "unixgram"). For udp, a connected datagram socket: each
 * write is one datagram, each read returns one. TCP connections have
 * TCP_NODELAY set, as Go's do. When a name resolves to several addresses,
 * each is tried in turn. *out gets the connection. Returns 0 or a negative
 * errno. Parks. */
GOC_API int goc_dial(const char *network, const char *address, goc_conn **out);

/* net.DialTimeout: as goc_dial, giving up with -ETIMEDOUT after timeout
 * nanoseconds (<= 0: no limit), resolution and connecting together (a name
 * lookup in progress is not interrupted: the time it took counts). With
 * several addresses, each gets a share of the time left (at least 2 s), as
 * in Go. */
GOC_API int goc_dial_timeout(const char *network, const char *address, int64_t timeout,
                             goc_conn **out);

/* net.DialContext (ctx first, as in Go): as goc_dial, bounded by ctx from
 * start to end: its deadline, if any, is the dial's (shared among several
 * addresses as goc_dial_timeout shares its time), and when ctx ends the
 * dial returns goc_ctx_err(ctx) at once, also while a name is being
 * resolved: a getaddrinfo already running cannot be stopped, so it goes on
 * in a goroutine of its own, on a goc_blocking thread, and its late result
 * is dropped when it comes. Parks. */
GOC_API int goc_dial_ctx(goc_ctx *ctx, const char *network, const char *address,
                         goc_conn **out);

/* Conn.Read: reads up to n bytes (one datagram for udp/unixgram). Returns
 * the bytes read (> 0), 0 at end of stream (the peer closed or shut down
 * its writing half; also when n is 0), or a negative errno: -ETIMEDOUT,
 * -ECONNRESET, -ECANCELED, ... Parks until some data is there. */
GOC_API ssize_t goc_conn_read(goc_conn *c, void *buf, size_t n);

/* goc_conn_read bounded by ctx too (top of this file): goc_ctx_err(ctx)
 * once ctx ends; the read deadline still applies. Parks. */
GOC_API ssize_t goc_conn_read_ctx(goc_conn *c, void *buf, size_t n, goc_ctx *ctx);

/* Reads exactly n bytes (io.ReadFull). Returns n; 0 if the stream ended
 * before the first byte (io.EOF); -EPIPE if it ended after some (Go's
 * io.ErrUnexpectedEOF); or a negative errno, the bytes read before the
 * failure being lost to the caller. Parks. */
GOC_API ssize_t goc_conn_read_full(goc_conn *c, void *buf, size_t n);

/* Conn.Write: writes all n bytes, waiting as needed, as Go's Write does.
 * Returns n, or a negative errno (-ETIMEDOUT, -EPIPE, -ECONNRESET, ...)
 * after which an unknown prefix of buf may have been sent. For udp, one
 * datagram (-EMSGSIZE if too big). Parks. */
GOC_API ssize_t goc_conn_write(goc_conn *c, const void *buf, size_t n);

/* goc_conn_write bounded by ctx too (top of this file): goc_ctx_err(ctx)
 * once ctx ends, an unknown prefix of buf having been sent; the write
 * deadline still applies. Parks. */
GOC_API ssize_t goc_conn_write_ctx(goc_conn *c, const void *buf, size_t n, goc_ctx *ctx);

/* io.WriteString(c, s): goc_conn_write of strlen(s) bytes. */
GOC_API ssize_t goc_conn_write_string(goc_conn *c, const char *s);

/* fmt.Fprintf(c, ...): formats, then writes it all in one goc_conn_write.
 * Returns the bytes written, or a negative errno (-ENOMEM, ...). */
GOC_API ssize_t goc_conn_printf(goc_conn *c, const char *fmt, ...) GOC_PRINTF(2, 3);
GOC_API ssize_t goc_conn_vprintf(goc_conn *c, const char *fmt, va_list ap);

/* TCPConn.CloseWrite / CloseRead: shuts down one half of a stream
 * connection (the peer reads end of stream after CloseWrite). The
 * connection must still be closed with goc_conn_close. Returns 0 or a
 * negative errno (-ENOTCONN, ...). */
GOC_API int goc_conn_close_write(goc_conn *c);
GOC_API int goc_conn_close_read(goc_conn *c);

/* Conn.Close: calls in progress in other goroutines return -ECANCELED; the
 * descriptor is closed and c freed once no call uses it. c must not be used
 * after this call. Returns 0. Never parks. */
GOC_API int goc_conn_close(goc_conn *c);

/* SetDeadline / SetReadDeadline / SetWriteDeadline: absolute goc_now()
 * instants, 0 for none (Go semantics: see the top of this file). Return 0. */
GOC_API int goc_conn_set_deadline(goc_conn *c, int64_t deadline);
GOC_API int goc_conn_set_read_deadline(goc_conn *c, int64_t deadline);
GOC_API int goc_conn_set_write_deadline(goc_conn *c, int64_t deadline);

/* LocalAddr().String() / RemoteAddr().String() into buf, NUL-terminated:
 * "127.0.0.1:8000", "[::1]:41000", a unix path (may be empty for an unnamed
 * unix socket). Return the length, or -ENOSPC if buf is too small
 * (GOC_ADDRSTRLEN always fits), or a negative errno (-ENOTCONN). */
GOC_API int goc_conn_local_addr(goc_conn *c, char *buf, size_t size);
GOC_API int goc_conn_remote_addr(goc_conn *c, char *buf, size_t size);

/* The connection's descriptor, still owned by the connection, for
 * setsockopt and the like. Reading it directly would bypass the
 * connection's deadlines, its turn-taking and the few bytes (up to 256) a
 * stream read may have taken past the caller's buffer (goc keeps them for
 * the next goc_conn_read: that is how it knows a stream is empty without
 * asking the kernel again). */
GOC_API int goc_conn_fd(goc_conn *c);

/* ---- Datagrams (net.ListenPacket, PacketConn) ---- */

/* A socket address, as read_from reports it and write_to takes it. */
typedef struct goc_addr {
    socklen_t len;
    struct sockaddr_storage ss;
} goc_addr;

/* Resolves address for network into *out (Go's net.ResolveUDPAddr and
 * friends; "unix"/"unixgram": a path). Returns 0 or a negative errno
 * (-EINVAL, -ENOENT, ...). May park (resolution). */
GOC_API int goc_addr_resolve(const char *network, const char *address, goc_addr *out);

/* Addr.String() into buf: as goc_conn_local_addr. */
GOC_API int goc_addr_string(const goc_addr *a, char *buf, size_t size);

/* net.ListenPacket: an unconnected datagram socket ("udp", "udp4", "udp6",
 * "unixgram") bound to address; use goc_conn_read_from / goc_conn_write_to
 * (goc_conn_read works too, without the sender). Owned as a goc_conn. */
GOC_API int goc_listen_packet(const char *network, const char *address, goc_conn **out);

/* PacketConn.ReadFrom: one datagram into buf (truncated to n), its sender
 * into *from (may be NULL). Returns the bytes read or a negative errno.
 * Parks. */
GOC_API ssize_t goc_conn_read_from(goc_conn *c, void *buf, size_t n, goc_addr *from);

/* PacketConn.WriteTo: one datagram to *to. Returns n or a negative errno.
 * Parks (while the socket buffer is full). */
GOC_API ssize_t goc_conn_write_to(goc_conn *c, const void *buf, size_t n, const goc_addr *to);

/* ---- A line reader (bufio.Scanner with ScanLines) ----
 *
 *     goc_scanner *s = goc_scanner_new(conn, 0);
 *     while (goc_scanner_scan(s) > 0)
 *         use(goc_scanner_text(s, NULL));
 *     goc_scanner_free(s);
 */
typedef struct goc_scanner goc_scanner;

/* A scanner over a connection: lines up to max_line bytes, not counting
 * their "\r\n" (0: 64 KiB, Go's bufio.MaxScanTokenSize). The scanner does
 * not own c. NULL on out of memory. */
GOC_API goc_scanner *goc_scanner_new(goc_conn *c, size_t max_line);

/* A scanner over any descriptor (stdin, a pipe, a file): a non-blocking
 * descriptor is waited on through the poller, a blocking one (a terminal, a
 * regular file) is read through goc_blocking, so neither stalls a worker.
 * The scanner does not own fd and leaves its flags alone; goc_scanner_free
 * forgets fd in the poller, so free the scanner before closing fd. NULL on
 * out of memory or a bad fd. */
GOC_API goc_scanner *goc_scanner_new_fd(int fd, size_t max_line);

/* Scanner.Scan: reads the next line. Returns 1 with a line (see
 * goc_scanner_text), 0 at the end of input (a last line without a newline
 * is returned first), or a negative errno: -EMSGSIZE for a line longer than
 * max_line (Go's bufio.ErrTooLong), or the read's error (-ETIMEDOUT, ...;
 * the scanner may be scanned again after a timeout). Parks. */
GOC_API int goc_scanner_scan(goc_scanner *s);

/* Scanner.Text: the line from the last successful scan, without its "\n" or
 * "\r\n", NUL-terminated (a line containing NUL bytes is complete in *len).
 * Valid until the next scan or free. len may be NULL. */
GOC_API const char *goc_scanner_text(goc_scanner *s, size_t *len);

/* Frees the scanner (not its connection or descriptor). */
GOC_API void goc_scanner_free(goc_scanner *s);

#ifdef __cplusplus
}
#endif
#endif
