/* pool_test.c: sync.Pool. Ports of Go's TestPool, TestPoolNew and
 * TestPoolStress (an object is never handed to two holders at once), then
 * trimming (every cached object destroyed exactly once, C's stand-in for
 * the GC emptying pools), stealing between workers, and plain threads.
 */
#include <pthread.h>

#include "internal.h"
#include "test.h"

struct obj {
    atomic_int in_use; /* 1 while someone holds it */
    long payload;
};

static atomic_long made, destroyed;

static void *obj_new(void *ctx)
{
    (void)ctx;
    struct obj *o = calloc(1, sizeof *o);
    if (!o)
        abort();
    atomic_fetch_add(&made, 1);
    return o;
}

static void obj_free(void *x, void *ctx)
{
    (void)ctx;
    struct obj *o = x;
    if (atomic_load(&o->in_use))
        abort(); /* destroyed while held */
    free(o);
    atomic_fetch_add(&destroyed, 1);
}

static void reset_counts(void)
{
    atomic_store(&made, 0);
    atomic_store(&destroyed, 0);
}

TEST(TestPool)
{
    reset_counts();
    goc_pool p = GOC_POOL_INIT(NULL, obj_free, NULL);
    CHECK(goc_pool_get(&p) == NULL); /* empty, no New */
    struct obj *a = obj_new(NULL), *b = obj_new(NULL);
    goc_pool_put(&p, a);
    goc_pool_put(&p, b);
    void *g1 = goc_pool_get(&p), *g2 = goc_pool_get(&p);
    CHECK((g1 == a && g2 == b) || (g1 == b && g2 == a));
    CHECK(goc_pool_get(&p) == NULL);
    goc_pool_put(&p, a);
    goc_pool_put(&p, b);
    goc_pool_trim(&p); /* Go: after a GC the pool is empty */
    CHECK(atomic_load(&destroyed) == 2);
    CHECK(goc_pool_get(&p) == NULL);
    goc_pool_put(&p, NULL); /* ignored */
    goc_pool_destroy(&p);
}

static long counter;
static void *count_new(void *ctx)
{
    (void)ctx;
    return (void *)(intptr_t)++counter;
}

TEST(TestPoolNew)
{
    counter = 0;
    goc_pool p = GOC_POOL_INIT(count_new, NULL, NULL);
    CHECK(goc_pool_get(&p) == (void *)1);
    CHECK(goc_pool_get(&p) == (void *)2);
    goc_pool_put(&p, (void *)42);
    CHECK(goc_pool_get(&p) == (void *)42);
    CHECK(goc_pool_get(&p) == (void *)3);
    goc_pool_destroy(&p);
}

/* ---- TestPoolStress ---- */

struct stress_ctx {
    goc_pool p;
    atomic_int bad;
    int n;
    goc_waitgroup wg;
};

static void stress_body(void *arg)
{
    struct stress_ctx *c = arg;
    struct obj *v = goc_pool_get(&c->p);
    if (atomic_exchange(&v->in_use, 1) != 0)
        atomic_fetch_add(&c->bad, 1);
    for (int j = 0; j < c->n; j++) {
        v->payload = j; /* plain: ours alone while we hold it */
        atomic_store(&v->in_use, 0);
        goc_pool_put(&c->p, v);
        v = goc_pool_get(&c->p);
        if (atomic_exchange(&v->in_use, 1) != 0) {
            atomic_fetch_add(&c->bad, 1); /* handed out twice */
            break;
        }
        if (j % 64 == 0)
            goc_yield();
    }
    atomic_store(&v->in_use, 0);
    goc_pool_put(&c->p, v);
    goc_waitgroup_done(&c->wg);
}

TEST(TestPoolStress)
{
    static struct stress_ctx c;
    memset(&c, 0, sizeof c);
    reset_counts();
    goc_pool_init(&c.p, obj_new, obj_free, NULL);
    c.n = SCALE(100000);
    const int P = 10 + 2 * goc_maxprocs(0);
    goc_waitgroup_add(&c.wg, P);
    for (int i = 0; i < P; i++)
        CHECK(goc_go(stress_body, &c) > 0);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.bad) == 0);
    CHECK(atomic_load(&made) <= P * 2 + 64); /* objects were reused */
    goc_pool_destroy(&c.p);
    CHECK(atomic_load(&made) == atomic_load(&destroyed));
}

/* ---- Trim while others get and put; objects move between workers ---- */

struct trim_ctx {
    goc_pool p;
    atomic_int stop, bad;
    goc_waitgroup wg;
};

static void trim_user(void *arg)
{
    struct trim_ctx *c = arg;
    struct obj *held[8];
    for (int r = 0; r < 100000 && !atomic_load(&c->stop); r++) {
        for (int i = 0; i < 8; i++) {
            held[i] = goc_pool_get(&c->p);
            if (atomic_exchange(&held[i]->in_use, 1) != 0)
                atomic_fetch_add(&c->bad, 1);
        }
        goc_yield(); /* may resume on another worker: puts go to its cache */
        for (int i = 0; i < 8; i++) {
            atomic_store(&held[i]->in_use, 0);
            goc_pool_put(&c->p, held[i]);
        }
    }
    goc_waitgroup_done(&c->wg);
}

TEST(pool_trim_concurrent)
{
    static struct trim_ctx c;
    memset(&c, 0, sizeof c);
    reset_counts();
    goc_pool_init(&c.p, obj_new, obj_free, NULL);
    int n = 4 * goc_maxprocs(0);
    goc_waitgroup_add(&c.wg, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(trim_user, &c) > 0);
    for (int i = 0; i < SCALE(200); i++) {
        goc_pool_trim(&c.p);
        goc_yield();
    }
    atomic_store(&c.stop, 1);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.bad) == 0);
    goc_pool_destroy(&c.p);
    CHECK(atomic_load(&made) == atomic_load(&destroyed));
}

/* ---- Plain threads share the pool with goroutines ---- */

static goc_pool shared_pool = GOC_POOL_INIT(obj_new, obj_free, NULL);
static atomic_int shared_bad;

static void *pool_thread(void *arg)
{
    (void)arg;
    for (int i = 0; i < SCALE(50000); i++) {
        struct obj *o = goc_pool_get(&shared_pool);
        if (atomic_exchange(&o->in_use, 1) != 0)
            atomic_fetch_add(&shared_bad, 1);
        atomic_store(&o->in_use, 0);
        goc_pool_put(&shared_pool, o);
    }
    return NULL;
}

TEST(pool_plain_threads)
{
    reset_counts();
    enum { NT = 3 };
    pthread_t th[NT];
    for (int i = 0; i < NT; i++)
        CHECK(pthread_create(&th[i], NULL, pool_thread, NULL) == 0);
    pool_thread(NULL); /* goroutine 1 too */
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    CHECK(atomic_load(&shared_bad) == 0);
    goc_pool_destroy(&shared_pool);
    CHECK(atomic_load(&made) == atomic_load(&destroyed));
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(TestPool);
    RUN(TestPoolNew);
    RUN(TestPoolStress);
    RUN(pool_trim_concurrent);
    RUN(pool_plain_threads);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
