/* lazy_test.c: the runtime started lazily, without goc_main, and used from
 * plain threads: they block as a whole where a goroutine would park.
 *
 * No goc_main here: main() is a plain thread, and the first goc call it
 * makes (goc_go, in lazy_start, the first test) starts the runtime.
 */
#include "test.h"

#include <pthread.h>
#include <sched.h>

#define SPIN_LIMIT 100000000L

/* ---- lazy_start ---- */

#define NLAZY 10000

struct lazy_ctx {
    goc_waitgroup wg;
    atomic_int added; /* the spawner has done its Add: Wait may start */
    atomic_int spawn_failed;
    int n;           /* goroutines to start: NLAZY, fewer under the sanitizers */
    int slot[NLAZY]; /* plain ints: the WaitGroup orders them */
    struct lazy_arg {
        struct lazy_ctx *c;
        int i;
    } args[NLAZY];
};

static void lazy_body(void *arg)
{
    struct lazy_arg *a = arg;
    a->c->slot[a->i] = a->i * 3;
    goc_waitgroup_done(&a->c->wg);
}

/* The first goroutine of the process: adds to the WaitGroup (an Add that
 * starts from zero must happen before the Wait), then starts the workers. */
static void lazy_spawner(void *arg)
{
    struct lazy_ctx *c = arg;
    goc_waitgroup_add(&c->wg, c->n);
    atomic_store_explicit(&c->added, 1, memory_order_release);
    for (int i = 0; i < c->n; i++) {
        c->args[i] = (struct lazy_arg){c, i};
        if (goc_go(lazy_body, &c->args[i]) <= 0) {
            atomic_fetch_add(&c->spawn_failed, 1);
            c->slot[i] = i * 3; /* so that the failure is counted once */
            goc_waitgroup_done(&c->wg);
        }
    }
}

TEST(lazy_start)
{
    static struct lazy_ctx c;
    memset(&c, 0, sizeof c);
    c.n = SCALE(NLAZY);
    for (int i = 0; i < c.n; i++)
        c.slot[i] = -1;
    goc_waitgroup_init(&c.wg);
    /* The process's first goc call that does anything: starts the runtime. */
    int64_t id = goc_go(lazy_spawner, &c);
    CHECK(id > 0);
    long spins = 0;
    while (!atomic_load_explicit(&c.added, memory_order_acquire) && spins++ < SPIN_LIMIT)
        sched_yield();
    CHECK(atomic_load_explicit(&c.added, memory_order_acquire) == 1);
    goc_waitgroup_wait(&c.wg); /* a plain thread: blocks as a whole */
    CHECK(atomic_load(&c.spawn_failed) == 0);
    int bad = 0;
    for (int i = 0; i < c.n; i++)
        if (c.slot[i] != i * 3)
            bad++;
    CHECK(bad == 0);
    /* The runtime did start: GOMAXPROCS can no longer change. */
    int n = goc_maxprocs(0);
    CHECK(n > 0);
    CHECK(goc_maxprocs(n + 1) == -EBUSY);
}

/* ---- plain_thread_waits_goroutine ---- */

#define NTHREADS 4
#define PER_THREAD 1000

struct pt_ctx {
    goc_waitgroup wg;
    int n;           /* goroutines to start: PER_THREAD, fewer under the sanitizers */
    atomic_int count;
    int slot[PER_THREAD];
    int failed;
    struct pt_arg {
        struct pt_ctx *c;
        int i;
    } args[PER_THREAD];
};

static void pt_body(void *arg)
{
    struct pt_arg *a = arg;
    a->c->slot[a->i] = a->i + 1;
    atomic_fetch_add(&a->c->count, 1);
    goc_waitgroup_done(&a->c->wg);
}

static void *pt_thread(void *arg)
{
    struct pt_ctx *c = arg;
    goc_waitgroup_init(&c->wg);
    goc_waitgroup_add(&c->wg, c->n);
    for (int i = 0; i < c->n; i++) {
        c->args[i] = (struct pt_arg){c, i};
        if (goc_go(pt_body, &c->args[i]) <= 0) {
            c->failed++;
            goc_waitgroup_done(&c->wg);
        }
    }
    goc_waitgroup_wait(&c->wg);
    return NULL;
}

TEST(plain_thread_waits_goroutine)
{
    static struct pt_ctx ctx[NTHREADS];
    memset(ctx, 0, sizeof ctx);
    for (int t = 0; t < NTHREADS; t++)
        ctx[t].n = SCALE(PER_THREAD);
    pthread_t th[NTHREADS];
    bool created[NTHREADS];
    for (int t = 0; t < NTHREADS; t++) {
        created[t] = pthread_create(&th[t], NULL, pt_thread, &ctx[t]) == 0;
        CHECK(created[t]);
    }
    for (int t = 0; t < NTHREADS; t++) {
        if (!created[t])
            continue;
        CHECK(pthread_join(th[t], NULL) == 0);
        struct pt_ctx *c = &ctx[t];
        CHECK(c->failed == 0);
        CHECK(atomic_load(&c->count) == c->n);
        int bad = 0;
        for (int i = 0; i < c->n; i++)
            if (c->slot[i] != i + 1)
                bad++;
        CHECK(bad == 0);
    }
}

/* ---- goroutine_waits_plain_thread ---- */

struct gw_ctx {
    goc_waitgroup inner; /* marked done by the plain thread */
    goc_waitgroup outer; /* marked done by the goroutine */
    atomic_int goroutine_waiting;
    int thread_work;     /* plain: written by the thread before its Done */
    int seen;            /* plain: what the goroutine saw after its Wait */
    int64_t goroutine_id;
};

static void gw_goroutine(void *arg)
{
    struct gw_ctx *c = arg;
    c->goroutine_id = goc_id();
    atomic_store(&c->goroutine_waiting, 1);
    goc_waitgroup_wait(&c->inner);
    c->seen = c->thread_work;
    goc_waitgroup_done(&c->outer);
}

static void *gw_thread(void *arg)
{
    struct gw_ctx *c = arg;
    /* Wait, bounded and without sleeping, for the goroutine to be on its
     * way into Wait, then a little longer so that it has likely parked. */
    for (long i = 0; i < SPIN_LIMIT && !atomic_load(&c->goroutine_waiting); i++)
        sched_yield();
    volatile unsigned long x = 0;
    for (long i = 0; i < 1000000; i++)
        x = x + (unsigned long)i;
    c->thread_work = 42;
    goc_waitgroup_done(&c->inner);
    return NULL;
}

TEST(goroutine_waits_plain_thread)
{
    static struct gw_ctx c;
    memset(&c, 0, sizeof c);
    goc_waitgroup_init(&c.inner);
    goc_waitgroup_init(&c.outer);
    goc_waitgroup_add(&c.inner, 1);
    goc_waitgroup_add(&c.outer, 1);
    int64_t id = goc_go(gw_goroutine, &c);
    CHECK(id > 0);
    pthread_t th;
    bool created = pthread_create(&th, NULL, gw_thread, &c) == 0;
    CHECK(created);
    if (!created)
        goc_waitgroup_done(&c.inner);
    goc_waitgroup_wait(&c.outer);
    if (created)
        CHECK(pthread_join(th, NULL) == 0);
    CHECK(c.goroutine_id == id);
    CHECK(c.seen == (created ? 42 : 0));
    CHECK(atomic_load(&c.goroutine_waiting) == 1);
}

/* ---- plain_thread_calls ---- */

static void never_called(void *arg) { (void)arg; }

TEST(plain_thread_calls)
{
    goc_yield(); /* sched_yield on a plain thread: returns */
    goc_yield();
    CHECK(goc_id() == 0);
    CHECK(goc_defer(NULL, NULL) == -EINVAL);
    CHECK(goc_defer(never_called, NULL) == -EPERM);
}

int main(int argc, char **argv)
{
    (void)argc;
    test_self = argv[0];
    RUN(lazy_start); /* first: it is what starts the runtime */
    RUN(plain_thread_waits_goroutine);
    RUN(goroutine_waits_plain_thread);
    RUN(plain_thread_calls);
    return test_summary();
}
