/* goc/runtime.h: goroutines and the scheduler (Go's `go`, package runtime).
 *
 * Goroutines are scheduled M:N over GOC_MAXPROCS worker threads (default: the
 * CPUs this process may run on). Scheduling is cooperative: a goroutine runs
 * until it calls something that parks (a channel operation, a lock, a sleep),
 * goc_yield(), or returns. A CPU-bound loop must call goc_yield() now and
 * then (every few hundred microseconds of work is plenty), or the goroutines
 * queued behind it on its worker wait until it does; work stealing lets the
 * other workers take them meanwhile.
 *
 * Every call here works from a goroutine and from a plain thread that is not
 * one (a plain thread blocks as a whole where a goroutine would park). The
 * runtime starts lazily on first use, or explicitly through goc_main().
 */
#ifndef GOC_RUNTIME_H
#define GOC_RUNTIME_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GOC_API __attribute__((visibility("default")))
#define GOC_NORETURN __attribute__((noreturn))
#define GOC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GOC_API
#define GOC_NORETURN
#define GOC_PRINTF(a, b)
#endif

/* A goroutine's body. */
typedef void (*goc_fn)(void *arg);

/* Options for goc_go_opts(). Zero-initialise, then set what you need. */
typedef struct goc_go_options {
    size_t stack_size; /* usable stack bytes; 0: GOC_STACK_SIZE or 128 KiB */
    const char *name;  /* shown by goc_dump(); not copied: must outlive the goroutine */
} goc_go_options;

/* Runs main_fn(argc, argv) as goroutine 1 and returns its result once it
 * returns, like Go's func main: the other goroutines are not waited for, and
 * no goroutine is started or resumed after goroutine 1 returns. Call it once,
 * from the process's main thread, before any other goc call:
 *     int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
 * Parks: the calling thread blocks until goroutine 1 returns. Returns
 * -EINVAL for a NULL main_fn, -EBUSY if called a second time. */
GOC_API int goc_main(int (*main_fn)(int argc, char **argv), int argc, char **argv);

/* Starts fn(arg) in a new goroutine, like `go fn(arg)`. Returns the new
 * goroutine's id (> 0), or -ENOMEM / -EAGAIN when no stack can be had.
 * May yield: when the caller's run queue is full, the caller lets the queued
 * goroutines run before it continues (back-pressure instead of an unbounded
 * queue). The macros record the call site for goc_dump(). */
#define goc_go(fn, arg) goc_go_at((fn), (arg), NULL, __FILE__, __LINE__)
#define goc_go_opts(fn, arg, opts) goc_go_at((fn), (arg), (opts), __FILE__, __LINE__)
GOC_API int64_t goc_go_at(goc_fn fn, void *arg, const goc_go_options *opts,
                          const char *file, int line);

/* runtime.Gosched: lets the other runnable goroutines run; the caller stays
 * runnable and resumes later. From a plain thread: sched_yield(). */
GOC_API void goc_yield(void);

/* runtime.Goexit: runs the calling goroutine's deferred calls (last deferred,
 * first run) and ends it. Frames between its function and this call are
 * abandoned, not unwound: C cleanup in them does not run. Ending goroutine 1
 * this way leaves the program running until every other goroutine has ended
 * ("no goroutines (main called runtime.Goexit) - deadlock!"), as in Go.
 * Calling it from a plain thread is a fatal error. */
GOC_API GOC_NORETURN void goc_exit(void);

/* defer fn(arg): runs when the calling goroutine's function returns or the
 * goroutine calls goc_exit(), in reverse order of deferral. Returns 0,
 * -ENOMEM, or -EPERM from a plain thread (which has no goroutine to end). */
GOC_API int goc_defer(goc_fn fn, void *arg);

/* The calling goroutine's id (goroutine 1 is goc_main's), 0 on a plain thread. */
GOC_API int64_t goc_id(void);

/* Starts a plain thread running fn(arg) (pthread_create with default
 * attributes) that goc counts, for deadlock detection, from this call on:
 * a thread started otherwise is unknown to goc until its first goc call,
 * and goroutines waiting for what it is about to do can meanwhile be
 * reported deadlocked. The thread is known to goc until it exits. thread
 * receives it, to join; NULL: it is detached. Returns 0, -EINVAL for a
 * NULL fn, -ENOMEM, or pthread_create's error, negated. */
GOC_API int goc_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

/* runtime.NumGoroutine: goroutines that exist now (started, not yet ended). */
GOC_API int goc_num_goroutine(void);

/* GOMAXPROCS: returns the number of workers. n > 0 sets it when the runtime
 * has not started yet (overriding env GOC_MAXPROCS); once it has started, a
 * different n is refused with -EBUSY. n <= 0 only queries. */
GOC_API int goc_maxprocs(int n);

/* Prints every goroutine to fd: id, state, wait reason, how long it has
 * waited, its name and where it was created. Also printed on SIGQUIT, which
 * then ends the process with status 2, as Go does. Never parks. */
GOC_API void goc_dump(int fd);

/* A call that may block: its result comes back through goc_blocking. */
typedef intptr_t (*goc_blocking_fn)(void *arg);

/* Runs fn(arg), a call that may block the thread (file I/O, getaddrinfo,
 * reading a terminal, a library's blocking call), on one of goc's helper
 * threads while the calling goroutine parks, so its worker keeps running
 * the other goroutines (as Go hands its P away around a system call).
 * Returns fn's result. fn runs on another thread: it must read errno itself
 * (return -errno, say) and must not use the caller's thread-local storage.
 * At most GOC_BLOCKING_THREADS (environment; default 64, at most 1024)
 * calls run at once; later ones queue, in order, until a thread is free.
 * The parked goroutine counts as waiting on the outside world: no deadlock
 * is reported while a call is in flight. From a plain thread (not a
 * goroutine) fn is simply called on that thread. If no helper thread can be
 * started at all, fn is called on the caller's worker. Parks. */
GOC_API intptr_t goc_blocking(goc_blocking_fn fn, void *arg);

/* panic(fmt...): runs the calling goroutine's deferred calls, prints
 * "panic: <message>", dumps every goroutine and exits with status 2. */
GOC_API GOC_NORETURN void goc_panic(const char *fmt, ...) GOC_PRINTF(1, 2);

#ifdef __cplusplus
}
#endif
#endif
