/* blocking.c: goc_blocking, a pool of helper threads for calls that block
 * the thread (file I/O, getaddrinfo, a terminal read), as Go hands its P
 * away around a system call: the calling goroutine parks, its worker runs
 * the others, and a helper thread makes the call.
 *
 * The pool: at most pool.max threads, started on demand and kept for the
 * life of the process (an idle one costs a parked thread and its stack).
 * Jobs live on their callers' stacks and queue in FIFO order; a thread
 * that finishes a job takes the next one without parking.
 *
 * Invariants, under pool.lock: a job is on the queue or taken by exactly
 * one thread; a thread is on the idle list only while it has no job and is
 * parked (or about to park: goc__ready on a thread that has not yet slept
 * makes its sleep return at once). pool.nthreads counts the threads started
 * or being started, never more than pool.max.
 *
 * Deadlock detection: a helper thread is a plain thread known to goc, so it
 * counts as "outside" (able to wake a goroutine) while it runs a job, and
 * not while it is parked idle (goc__park/goc__ready keep that count). A
 * thread being started is counted from before it runs (goc_thread_start).
 * So a goroutine waiting on a job is never taken for deadlocked.
 *
 * TSan: the pool's lock is invisible to it; the edges caller -> fn and
 * fn -> caller are published on the job explicitly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>

#include "internal.h"
#include "race.h"

#define DEFAULT_THREADS 64
#define MAX_THREADS 1024

struct job {
    goc_blocking_fn fn;
    void *arg;
    intptr_t result;
    goc_note done;
    struct job *next;
};

struct idler {
    goc_g *g;
    struct idler *next;
};

static struct {
    goc_spinlock lock;
    struct job *head, *tail;
    struct idler *idle;
    int nthreads;
    int max; /* 0 until the first call reads the environment */
} pool = {.lock = GOC_SPINLOCK_INIT};

static int pool_max(void)
{
    const char *s = getenv("GOC_BLOCKING_THREADS");
    long n = s && *s ? strtol(s, NULL, 10) : DEFAULT_THREADS;
    if (n < 1)
        n = DEFAULT_THREADS;
    return n > MAX_THREADS ? MAX_THREADS : (int)n;
}

static bool unlock_pool(goc_g *g, void *arg)
{
    (void)g, (void)arg;
    goc__spin_unlock(&pool.lock);
    return true;
}

static void *helper_main(void *arg)
{
    (void)arg;
    goc__spin_lock(&pool.lock);
    for (;;) {
        struct job *j = pool.head;
        if (!j) {
            struct idler me = {.g = goc__getg(), .next = pool.idle};
            pool.idle = &me;
            goc__park(unlock_pool, NULL, "blocking pool idle");
            goc__spin_lock(&pool.lock);
            continue;
        }
        pool.head = j->next;
        if (!pool.head)
            pool.tail = NULL;
        goc__spin_unlock(&pool.lock);

        goc__race_acquire(&j->fn);
        intptr_t r = j->fn(j->arg);
        j->result = r;
        goc__race_release(&j->result);
        goc__note_wakeup(&j->done); /* j may be gone after this */

        goc__spin_lock(&pool.lock);
    }
    return NULL;
}

/* Starts one more helper thread (pool.nthreads already counts it),
 * counted outside from before it runs (goc_thread_start). */
static bool start_helper(void) { return goc_thread_start(NULL, helper_main, NULL) == 0; }

intptr_t goc_blocking(goc_blocking_fn fn, void *arg)
{
    goc_g *g = goc__getg();
    if (g->flags & G_THREAD)
        return fn(arg); /* a plain thread may block: it stalls nobody */

    struct job j = {.fn = fn, .arg = arg};
    goc__race_release(&j.fn);
    goc_g *wake = NULL;
    bool spawn = false;
    goc__spin_lock(&pool.lock);
    if (!pool.max)
        pool.max = pool_max();
    if (pool.tail)
        pool.tail->next = &j;
    else
        pool.head = &j;
    pool.tail = &j;
    if (pool.idle) {
        wake = pool.idle->g;
        pool.idle = pool.idle->next;
    } else if (pool.nthreads < pool.max) {
        pool.nthreads++;
        spawn = true;
    }
    goc__spin_unlock(&pool.lock);

    if (wake) {
        goc__ready(wake);
    } else if (spawn && !start_helper()) {
        /* No thread at all: take the job back if no helper has it, and
         * make the call here (stalling this worker, but making progress). */
        goc__spin_lock(&pool.lock);
        pool.nthreads--;
        bool mine = false;
        for (struct job **pp = &pool.head, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next) {
            if (*pp == &j) {
                *pp = j.next;
                if (pool.tail == &j)
                    pool.tail = prev;
                mine = true;
                break;
            }
        }
        goc__spin_unlock(&pool.lock);
        if (mine)
            return fn(arg);
    }
    goc__note_wait(&j.done, "syscall");
    goc__race_acquire(&j.result);
    return j.result;
}
