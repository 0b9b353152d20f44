/* linux.c: the operating-system interface of os.h on Linux. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "os.h"

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

int goc__os_ncpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

int64_t goc__nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t goc__nanotime_coarse(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void goc__futex_wait(_Atomic uint32_t *addr, uint32_t val, int64_t timeout_ns)
{
#if defined(GOC_SANITIZE_THREAD)
    /* TSan runs a signal's handler when the receiving thread next passes
     * one of its interceptors, and a raw futex is none: a thread asleep
     * here would hold a SIGINT back for good. Sleep in slices, and pass an
     * interceptor (clock_gettime) after each. Callers re-check anyway. */
    const int64_t slice = 20 * 1000000;
    if (timeout_ns < 0 || timeout_ns > slice)
        timeout_ns = slice;
#endif
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
#if defined(GOC_SANITIZE_THREAD)
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
}

void goc__futex_wake(_Atomic uint32_t *addr, int nwake)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, nwake, NULL, NULL, 0);
}

void *goc__os_reserve(size_t len)
{
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void goc__os_unreserve(void *addr, size_t len)
{
    munmap(addr, len);
}

void goc__os_release(void *addr, size_t len)
{
    madvise(addr, len, MADV_DONTNEED);
}

int goc__os_guard_light(void *addr, size_t len)
{
    return madvise(addr, len, MADV_GUARD_INSTALL) == 0 ? 0 : -errno;
}

/* This process's pidfd, for process_madvise on itself; < 0 on failure. */
static int self_pidfd(void)
{
#if defined(SYS_pidfd_open)
    static _Atomic int self_fd = -1;
    int fd = atomic_load_explicit(&self_fd, memory_order_acquire);
    if (fd < 0) {
        fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
        if (fd < 0)
            return -errno;
        int expect = -1;
        if (!atomic_compare_exchange_strong(&self_fd, &expect, fd)) {
            close(fd);
            fd = expect;
        }
    }
    return fd;
#else
    return -ENOSYS;
#endif
}

/* madvise(advice) on the n ranges of iov, in one process_madvise call per
 * 256 where the kernel takes any advice that way (6.13+), else
 * -ENOSYS/-EINVAL for the caller to fall back. */
static int madvise_vec(struct iovec *iov, size_t n, int advice)
{
#if defined(SYS_process_madvise)
    int fd = self_pidfd();
    if (fd < 0)
        return fd;
    for (size_t done = 0; done < n;) {
        size_t k = n - done < 256 ? n - done : 256;
        size_t bytes = 0;
        for (size_t i = 0; i < k; i++)
            bytes += iov[done + i].iov_len;
        long r = syscall(SYS_process_madvise, fd, iov + done, k, advice, 0);
        if (r != (long)bytes)
            return r < 0 ? -errno : -EIO;
        done += k;
    }
    return 0;
#else
    (void)iov, (void)n, (void)advice;
    return -ENOSYS;
#endif
}

/* madvise(advice) on n pages spaced stride apart, batched as madvise_vec. */
static int madvise_many(void *first, size_t stride, size_t n, int advice)
{
    size_t page = goc__os_page_size();
    struct iovec iov[256];
    for (size_t done = 0; done < n;) {
        size_t k = n - done < 256 ? n - done : 256;
        for (size_t i = 0; i < k; i++) {
            iov[i].iov_base = (char *)first + (done + i) * stride;
            iov[i].iov_len = page;
        }
        int r = madvise_vec(iov, k, advice);
        if (r != 0)
            return r;
        done += k;
    }
    return 0;
}

void goc__os_release_many(struct iovec *ranges, size_t n)
{
    if (madvise_vec(ranges, n, MADV_DONTNEED) != 0)
        for (size_t i = 0; i < n; i++) /* no batching here: one at a time */
            madvise(ranges[i].iov_base, ranges[i].iov_len, MADV_DONTNEED);
}

int goc__os_guard_light_many(void *first, size_t stride, size_t n)
{
    return madvise_many(first, stride, n, MADV_GUARD_INSTALL);
}

int goc__os_populate_many(void *first, size_t stride, size_t n)
{
    if (madvise_many(first, stride, n, MADV_POPULATE_WRITE) == 0)
        return 0;
    size_t page = goc__os_page_size();
    for (size_t i = 0; i < n; i++)
        if (madvise((char *)first + i * stride, page, MADV_POPULATE_WRITE) != 0)
            return -errno;
    return 0;
}

int goc__os_guard_heavy(void *addr, size_t len)
{
    return mprotect(addr, len, PROT_NONE) == 0 ? 0 : -errno;
}

int goc__os_guard_light_supported(void)
{
    size_t pg = goc__os_page_size();
    void *p = goc__os_reserve(2 * pg);
    if (!p)
        return 0;
    int ok = goc__os_guard_light(p, pg) == 0;
    if (ok) {
        /* Trust, but verify: an emulator (qemu-user) may accept the advice
         * and ignore it. Reading a guarded page through a system call
         * fails with EFAULT instead of faulting. */
        int fds[2];
        if (pipe(fds) == 0) {
            ok = write(fds[1], p, 1) < 0 && errno == EFAULT;
            close(fds[0]);
            close(fds[1]);
        }
    }
    goc__os_unreserve(p, 2 * pg);
    return ok;
}

long goc__os_guard_heavy_budget(void)
{
    long max = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    if (f) {
        if (fscanf(f, "%ld", &max) != 1)
            max = 65530;
        fclose(f);
    }
    /* Each guard adds two mappings; keep a quarter of the limit (and at
     * least 4096) for the program's own mappings: malloc arenas, libraries,
     * thread stacks. */
    long spare = max / 4 > 4096 ? max / 4 : 4096;
    long budget = (max - spare) / 2;
    return budget > 0 ? budget : 0;
}

static _Atomic int membarrier_state; /* 0 unknown, 1 usable, -1 not */

int goc__os_membarrier_usable(void)
{
    int st = atomic_load_explicit(&membarrier_state, memory_order_acquire);
    if (st == 0) {
        st = syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0 ? 1 : -1;
        atomic_store_explicit(&membarrier_state, st, memory_order_release);
    }
    return st > 0;
}

void goc__os_membarrier(void)
{
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
        static const char msg[] = "fatal error: goc: membarrier failed\n";
        if (write(2, msg, sizeof msg - 1) < 0) {}
        abort();
    }
}

size_t goc__os_page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

int goc__os_gettid(void)
{
    return (int)syscall(SYS_gettid);
}

int goc__os_cpu(void)
{
    return sched_getcpu(); /* glibc reads it from rseq or the vDSO */
}

int64_t goc__os_thread_runq_wait(int tid)
{
    /* schedstat: time on the CPU, time waiting on a run queue, slices. */
    char path[64], buf[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unsigned long long oncpu, waiting;
    if (n <= 0)
        return -1;
    buf[n] = 0;
    if (sscanf(buf, "%llu %llu", &oncpu, &waiting) != 2)
        return -1;
    return (int64_t)waiting;
}

void *goc__os_fault_sp(const void *ucontext)
{
    const ucontext_t *uc = ucontext;
#if defined(__x86_64__)
    return (void *)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    return (void *)uc->uc_mcontext.sp;
#else
    (void)uc;
    return NULL;
#endif
}

bool goc__os_thread_start(void *(*fn)(void *), void *arg, size_t stack_size)
{
    pthread_attr_t attr;
    pthread_t th;
    if (pthread_attr_init(&attr) != 0)
        return false;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (stack_size)
        pthread_attr_setstacksize(&attr, stack_size);
    bool ok = pthread_create(&th, &attr, fn, arg) == 0;
    pthread_attr_destroy(&attr);
    return ok;
}
