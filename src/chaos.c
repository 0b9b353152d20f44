/* chaos.c: schedule perturbation for testing (a build with GOC_CHAOS=ON).
 *
 * goc's races live in windows a few instructions wide: between a lock-free
 * fast path's two loads, between a lock's release and the wake that
 * follows it, between a thief's read of a victim's ring and its CAS. On a
 * 2-CPU machine such a window is almost never open when the other side
 * arrives, so a bug in one can pass thousands of test runs. In a chaos
 * build, GOC_CHAOS_POINT() marks those windows (every runtime spin lock's
 * acquire and release, and the points named in each file), and each point
 * reached, at random, holds its thread for a while: a few pauses most
 * often, a sched_yield sometimes, a sleep of up to 200 us rarely. Holding
 * a thread widens the window it sits in to the length of the hold, with
 * the other workers running meanwhile; with more workers than CPUs
 * (GOC_MAXPROCS=8 on 2 CPUs) the kernel adds preemption at any point.
 *
 * A point only delays: it never changes what the code does, so whatever a
 * chaos run finds is a bug a plain build can meet with unlucky timing.
 * Nothing here takes a lock, allocates or touches goc's state: a point may
 * sit in a critical section, a signal handler's path, or a thread goc does
 * not know. GOC_CHAOS=0 in the environment turns the points off at run
 * time (to compare); GOC_CHAOS=N makes a point act once in N on average
 * (default 8).
 *
 * Order as well as timing: GOC_CHAOS_COIN() is a fair coin where the
 * runtime may choose either of two orders that are both correct. A
 * goroutine made ready goes to its P's run-next slot only on heads, so
 * code that leans on who runs first after a wake-up or a go statement
 * meets the other order too. Go's scheduler does this in its race mode,
 * and so does goc's TSan build (make race), which has the coin without the
 * points.
 *
 * Without GOC_CHAOS the points compile to nothing, and without GOC_CHAOS or
 * TSan this file to no code.
 */
#define _GNU_SOURCE
#include "internal.h"

#if GOC_CHAOS || defined(GOC_SANITIZE_THREAD)
#include <sched.h>
#include <stdlib.h>
#include <time.h>

static _Atomic uint32_t chaos_every; /* 0: not read yet; UINT32_MAX: off */
static __thread uint64_t chaos_rng;

static uint32_t chaos_setting(void)
{
    uint32_t every = atomic_load_explicit(&chaos_every, memory_order_relaxed);
    if (likely(every))
        return every;
    const char *env = getenv("GOC_CHAOS");
    long n = env && *env ? strtol(env, NULL, 10) : 8;
    every = n <= 0 ? UINT32_MAX : n > 1000000 ? 1000000 : (uint32_t)n;
    atomic_store_explicit(&chaos_every, every, memory_order_relaxed);
    return every;
}

static uint32_t chaos_rand(void)
{
    uint64_t x = chaos_rng;
    if (unlikely(!x)) /* seeded per thread from its TLS address and the clock */
        x = ((uint64_t)(uintptr_t)&chaos_rng ^ (uint64_t)clock()) * 0x9e3779b97f4a7c15ULL | 1;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    chaos_rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

bool goc__chaos_coin(void)
{
    return chaos_setting() != UINT32_MAX && (chaos_rand() & 1);
}
#endif

#if GOC_CHAOS
void goc__chaos(void)
{
    uint32_t every = chaos_setting();
    if (every == UINT32_MAX)
        return;
    uint32_t r = chaos_rand();
    if (r % every)
        return;
    r /= every;
    switch (r % 64) {
    case 0: { /* rarely: long enough for the other workers to do a lot */
        struct timespec ts = {0, (long)(r / 64 % 200) * 1000};
        nanosleep(&ts, NULL);
        break;
    }
    case 1: case 2: case 3: case 4:
        sched_yield();
        break;
    default:
        for (uint32_t i = r / 64 % 256; i; i--)
            goc__cpu_relax();
    }
}
#endif
