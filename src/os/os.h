/* os.h: the little goc needs from the operating system, behind one
 * interface (src/os/linux.c). Nothing here parks a goroutine: these are the
 * primitives the scheduler itself is built from. */
#ifndef GOC_OS_H
#define GOC_OS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* CPUs this process may run on (its affinity mask), at least 1. */
int goc__os_ncpu(void);

/* Monotonic clock in nanoseconds; the coarse one is cheaper and may lag by a
 * few milliseconds (good for wait durations in dumps). */
int64_t goc__nanotime(void);
int64_t goc__nanotime_coarse(void);

/* Blocks the calling thread while *addr == val, for at most timeout_ns
 * (< 0: no limit). May return spuriously: callers re-check. */
void goc__futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t timeout_ns);
void goc__futex_wake(_Atomic uint32_t *addr, int nwake);

/* Address space for stacks: reserved, committed page by page on first
 * touch, never counted against overcommit. NULL on failure. */
void *goc__os_reserve(size_t len);
void goc__os_unreserve(void *addr, size_t len);
/* Hands the pages back to the kernel; they read as zero afterwards. */
void goc__os_release(void *addr, size_t len);
/* goc__os_release of the n ranges, in as few system calls (and TLB
 * flushes) as the kernel allows: process_madvise on ourselves (6.13+; one
 * flush per call since 6.15), which reads the array as it is. */
void goc__os_release_many(struct iovec *ranges, size_t n);

/* Guard pages. A "light" guard (MADV_GUARD_INSTALL, Linux 6.13+) costs no
 * kernel mapping; a "heavy" one (mprotect) splits the mapping it sits in, and
 * vm.max_map_count caps how many a process can have. */
int goc__os_guard_light_supported(void);
int goc__os_guard_light(void *addr, size_t len);
int goc__os_guard_heavy(void *addr, size_t len);
/* Light guards on n pages spaced stride bytes apart from first, in as few
 * system calls as the kernel allows (process_madvise on ourselves, 6.13+).
 * Returns 0 when every page is guarded, a negative errno when the caller
 * should fall back to one goc__os_guard_light per page. */
int goc__os_guard_light_many(void *first, size_t stride, size_t n);
/* Commits n pages spaced stride bytes apart from first (writable, zero),
 * as if each had been touched: MADV_POPULATE_WRITE, batched where the
 * kernel allows. 0 on success, a negative errno if the kernel cannot. */
int goc__os_populate_many(void *first, size_t stride, size_t n);
/* How many heavy guards the process may spend, leaving room for the
 * mappings everything else in it needs. */
long goc__os_guard_heavy_budget(void);

size_t goc__os_page_size(void);

/* Asymmetric fences (Linux membarrier, private expedited): usable() says
 * whether this process may issue them (registering it on first call; false
 * on kernels before 4.14; qemu-user passes the call to the host's kernel,
 * whose barrier covers the emulated threads too); membarrier() makes every
 * thread of the process that is running execute a full memory barrier
 * before it returns, so the other side of a Dekker-style handshake needs
 * only a compiler barrier. Only call membarrier() once usable() said true. */
int goc__os_membarrier_usable(void);
void goc__os_membarrier(void);

/* The calling thread's id, and how long (ns) thread tid of this process has
 * spent runnable but waiting for a CPU since it started (-1 if the kernel
 * does not say): what tells a thread that is descheduled, on a loaded
 * machine or a VM whose CPU was stolen, from one that computes or blocks. */
int goc__os_gettid(void);
/* The CPU the calling thread is running on (-1 if unknown): a hint, stale
 * as soon as the kernel moves the thread. */
int goc__os_cpu(void);
/* Starts a detached thread running fn(arg), on a stack of stack_size bytes
 * (0: the system's default). False if it could not. */
bool goc__os_thread_start(void *(*fn)(void *), void *arg, size_t stack_size);
int64_t goc__os_thread_runq_wait(int tid);

/* The stack pointer of the context a signal interrupted (NULL if unknown). */
void *goc__os_fault_sp(const void *ucontext);

#endif
