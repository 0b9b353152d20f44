/* goroutine.c: a goroutine's life: goc_main, goc_go, defer, goc_exit, and
 * the descriptors of plain threads that use goc.
 *
 * A goroutine runs goc__gentry on its own stack: its function, then its
 * deferred calls (last deferred first), then, for goc_waitgroup_go, the
 * Done of the WaitGroup it carries (g->done_wg), then goc__sched_goexit, which
 * switches away for good; the next context on the P frees its stack.
 * goc_exit runs the deferred calls and takes the same way out, abandoning
 * the frames in between.
 *
 * Goroutine 1 (goc_main's) is special, as in Go: when its function returns
 * the scheduler stops and goc_main returns the exit code to the main
 * thread; when it calls goc_exit the program goes on until every other
 * goroutine has ended.
 *
 * Ids come from a global counter, in batches of GOID_BATCH per P so that
 * spawning does not contend on one cache line.
 *
 * A plain thread's descriptor (G_THREAD) is made on its first goc call and
 * freed by a pthread key destructor when the thread exits. It counts the
 * thread in the scheduler's "outside" tally while the thread is not blocked
 * in goc, which is what keeps deadlock detection from firing while a thread
 * could still wake a goroutine. goc_thread_start counts a new thread from
 * before it exists: its starter adds one to the tally, and the thread,
 * having counted itself on its first step, takes that one back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arch.h"
#include "internal.h"
#include "race.h"

#define GOID_BATCH 64

static _Atomic int64_t goid_gen = 1;
static _Atomic int64_t thread_created; /* goroutines started from plain threads */

static struct {
    _Atomic bool mode;       /* goc_main is running */
    _Atomic bool goexited;   /* goroutine 1 called goc_exit */
    int (*fn)(int, char **);
    int argc;
    char **argv;
    int code;
    goc_note done;
} main_state;

static pthread_key_t thread_key;
static pthread_once_t thread_key_once = PTHREAD_ONCE_INIT;
static __thread goc_g *tls_thread_g;
__thread bool goc__thread_known;

bool goc__main_mode(void) { return atomic_load_explicit(&main_state.mode, memory_order_acquire); }
bool goc__main_goexited(void)
{
    return atomic_load_explicit(&main_state.goexited, memory_order_acquire);
}

int64_t goc__ngoroutines(void)
{
    return goc__sched_gcount() + atomic_load_explicit(&thread_created, memory_order_relaxed);
}

static void thread_g_destroy(void *arg)
{
    goc_g *g = arg;
    goc__thread_outside_dec();
    free(g);
}

static void thread_key_init(void) { pthread_key_create(&thread_key, thread_g_destroy); }

__attribute__((noinline)) goc_g *goc__thread_g(void)
{
    __asm__ volatile("" ::: "memory");
    goc_g *g = tls_thread_g;
    if (likely(g))
        return g;
    g = calloc(1, sizeof *g);
    if (!g)
        goc__fatal("out of memory registering a thread");
    g->flags = G_THREAD;
    atomic_store_explicit(&g->status, G_RUNNING, memory_order_relaxed);
    g->race_fiber = goc__race_fiber_current();
    pthread_once(&thread_key_once, thread_key_init);
    pthread_setspecific(thread_key, g);
    tls_thread_g = g;
    goc__thread_known = true;
    goc__thread_outside_inc();
    return g;
}

struct thread_start {
    void *(*fn)(void *);
    void *arg;
};

static void *thread_trampoline(void *arg)
{
    struct thread_start ts = *(struct thread_start *)arg;
    free(arg);
    goc__thread_g();           /* counts this thread as outside ... */
    goc__thread_outside_dec(); /* ... in place of its starter's count */
    return ts.fn(ts.arg);
}

int goc_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    if (!fn)
        return -EINVAL;
    struct thread_start *ts = malloc(sizeof *ts);
    if (!ts)
        return -ENOMEM;
    ts->fn = fn;
    ts->arg = arg;
    goc__thread_outside_inc(); /* the new thread's, until it counts itself */
    pthread_t t;
    int err = pthread_create(&t, NULL, thread_trampoline, ts);
    if (err) {
        goc__thread_outside_dec();
        free(ts);
        return -err;
    }
    if (thread)
        *thread = t;
    else
        pthread_detach(t);
    return 0;
}

static int64_t goid_alloc(goc_p *p)
{
    if (!p)
        return atomic_fetch_add_explicit(&goid_gen, 1, memory_order_relaxed);
    if (p->goid_next == p->goid_end) {
        p->goid_next = atomic_fetch_add_explicit(&goid_gen, GOID_BATCH, memory_order_relaxed);
        p->goid_end = p->goid_next + GOID_BATCH;
    }
    return p->goid_next++;
}

void goc__run_defers(goc_g *g)
{
    goc_defer_rec *d;
    while ((d = g->defers)) {
        g->defers = d->next;
        goc_fn fn = d->fn;
        void *arg = d->arg;
        free(d);
        fn(arg);
    }
}

static void finish(goc_g *g) __attribute__((noreturn));
static void finish(goc_g *g)
{
    goc__run_defers(g);
    if (g->done_wg)
        goc_waitgroup_done(g->done_wg);
    goc__sched_goexit(g);
}

void goc__gentry(goc_g *g)
{
    /* Acquire first: what runs next on this stack (the hand-off of the
     * context we came from included) is ordered after the spawner and after
     * the slot's previous goroutine. */
    goc__race_acquire(g);
    goc__race_acquire(goc__sched_tls_sync());
    goc__sched_after_switch(g);
    g->fn(g->arg);
    finish(g);
}

/* rec, size: goc__go_copy's record (NULL, 0: arg as given). */
static int64_t spawn(goc_fn fn, void *arg, const goc_go_options *opts, const char *file,
                     int line, uint32_t flags, goc_waitgroup *done_wg, const void *rec,
                     size_t size)
{
    goc__sched_start();
    goc_p *p = goc__getp();
    if (!p)
        goc__thread_g(); /* a thread that starts goroutines is one goc sees */
    goc_g *parent = p ? p->curg : NULL;
    goc_g *g = goc__stack_alloc(p, opts ? opts->stack_size : 0);
    if (!g)
        return -ENOMEM;
    int64_t id = goid_alloc(p);
    g->id = id;
    g->flags = flags;
    g->fn = fn;
    g->arg = arg;
    g->done_wg = done_wg;
    g->name = opts ? opts->name : NULL;
    g->file = file;
    g->line = line;
    g->parent = parent && !(parent->flags & G_SYSTEM) ? parent->id : 0;
    char *top = g->stack.hi;
    if (rec) {
        /* After the slot's previous goroutine, which released g as it
         * ended (goc__sched_goexit): memcpy is intercepted by TSan. */
        goc__race_acquire(g);
        top = (char *)((uintptr_t)(top - size) & ~(uintptr_t)15);
        memcpy(top, rec, size);
        g->arg = arg = top;
    }
    g->sp = goc__ctx_init(top, g, g->stack.lo);
    g->race_fiber = goc__race_fiber_create();
    if (p)
        atomic_store_explicit(&p->ncreated,
                              atomic_load_explicit(&p->ncreated, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&thread_created, 1, memory_order_relaxed);
    /* The go statement happens before the goroutine's execution begins. */
    goc__race_release(g);
    atomic_store_explicit(&g->status, G_RUNNABLE, memory_order_release);
    goc__runq_put_new(p, g); /* g may run, end and be reused from here on */
    return id;
}

int64_t goc_go_at(goc_fn fn, void *arg, const goc_go_options *opts, const char *file, int line)
{
    if (!fn)
        return -EINVAL;
    return spawn(fn, arg, opts, file, line, 0, NULL, NULL, 0);
}

int64_t goc__go_wg(goc_waitgroup *wg, goc_fn fn, void *arg, const char *file, int line)
{
    return spawn(fn, arg, NULL, file, line, 0, wg, NULL, 0);
}

int64_t goc__go_copy(goc_fn fn, const void *rec, size_t size, const char *file, int line)
{
    if (size > GOC_GO_COPY_MAX)
        goc__fatal("goc__go_copy: record too large");
    return spawn(fn, NULL, NULL, file, line, 0, NULL, rec, size);
}

int goc_defer(goc_fn fn, void *arg)
{
    if (!fn)
        return -EINVAL;
    goc_p *p = goc__getp();
    goc_g *g = p ? p->curg : NULL;
    if (!g || (g->flags & (G_THREAD | G_SYSTEM)))
        return -EPERM;
    goc_defer_rec *d = malloc(sizeof *d);
    if (!d)
        return -ENOMEM;
    d->fn = fn;
    d->arg = arg;
    d->next = g->defers;
    g->defers = d;
    return 0;
}

void goc_exit(void)
{
    goc_p *p = goc__getp();
    goc_g *g = p ? p->curg : NULL;
    if (!g || (g->flags & (G_THREAD | G_SYSTEM)))
        goc__fatal("goc_exit called from a thread that is not a goroutine");
    if (g->flags & G_MAIN)
        atomic_store_explicit(&main_state.goexited, true, memory_order_release);
    finish(g);
}

int64_t goc_id(void)
{
    goc_g *g = goc__getg();
    return (g->flags & (G_THREAD | G_SYSTEM)) ? 0 : g->id;
}

static void main_body(void *arg)
{
    (void)arg;
    main_state.code = main_state.fn(main_state.argc, main_state.argv);
    /* Like Go's main returning: nothing else runs from here on. */
    goc__sched_stop();
    goc__note_wakeup(&main_state.done);
    goc__park(NULL, NULL, "main returned");
    __builtin_unreachable();
}

int goc_main(int (*main_fn)(int argc, char **argv), int argc, char **argv)
{
    if (!main_fn)
        return -EINVAL;
    if (atomic_load_explicit(&main_state.mode, memory_order_acquire))
        return -EBUSY; /* once per process, as there is one func main */
    main_state.fn = main_fn;
    main_state.argc = argc;
    main_state.argv = argv;
    goc__thread_g(); /* count this thread as outside until it waits */
    goc__sched_start();
    if (spawn(main_body, NULL, NULL, "goc_main", 0, G_MAIN, NULL, NULL, 0) < 0)
        goc__fatal("cannot start goroutine 1");
    atomic_store_explicit(&main_state.mode, true, memory_order_release);
    goc__note_wait(&main_state.done, "goc_main");
    return main_state.code;
}
