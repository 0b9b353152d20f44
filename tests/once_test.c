/* once_test.c: sync.Once. A port of Go's TestOnce, then what Do promises
 * beyond calling fn once: every caller returns only after fn has returned
 * (callers that arrive while fn runs wait for it), the seed's lazy
 * initialisation (a table loaded once and read by many goroutines as plain
 * data, which TSan checks), plain threads, and many Onces.
 */
#include <pthread.h>

#include "internal.h"
#include "test.h"

/* ---- TestOnce ---- */

struct once_ctx {
    goc_once once;
    int o; /* incremented by fn: plain, the Once orders it */
    atomic_int bad;
    goc_waitgroup wg;
};

static void increment(void *arg)
{
    struct once_ctx *c = arg;
    c->o++;
}

static void once_run(void *arg)
{
    struct once_ctx *c = arg;
    goc_once_do(&c->once, increment, c);
    if (c->o != 1)
        atomic_fetch_add(&c->bad, 1); /* once failed inside run */
    goc_waitgroup_done(&c->wg);
}

TEST(TestOnce)
{
    static struct once_ctx c;
    memset(&c, 0, sizeof c);
    goc_once_init(&c.once);
    const int n = 10;
    goc_waitgroup_add(&c.wg, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(once_run, &c) > 0);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.bad) == 0);
    CHECK(c.o == 1); /* once failed outside run */
}

/* ---- Callers that arrive while fn runs wait for it ---- */

struct slow_ctx {
    goc_once once;
    atomic_int started, finished;
    atomic_int early; /* a Do returned before fn finished */
    int calls;        /* plain: written by fn only */
    goc_waitgroup wg;
};

static void slow_fn(void *arg)
{
    struct slow_ctx *c = arg;
    atomic_store(&c->started, 1);
    c->calls++;
    /* Long enough for the other callers to arrive and wait. */
    int64_t end = goc__nanotime() + 2000000;
    while (goc__nanotime() < end)
        goc_yield();
    atomic_store(&c->finished, 1);
}

static void slow_caller(void *arg)
{
    struct slow_ctx *c = arg;
    goc_once_do(&c->once, slow_fn, c);
    if (!atomic_load(&c->finished))
        atomic_fetch_add(&c->early, 1);
    goc_waitgroup_done(&c->wg);
}

TEST(once_waits_for_fn)
{
    static struct slow_ctx c;
    memset(&c, 0, sizeof c);
    goc_once_init(&c.once);
    int n = 8 * goc_maxprocs(0);
    goc_waitgroup_add(&c.wg, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(slow_caller, &c) > 0);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.early) == 0);
    CHECK(c.calls == 1);
    /* Afterwards, a call is the fast path and does not call fn. */
    goc_once_do(&c.once, slow_fn, &c);
    CHECK(c.calls == 1);
}

/* ---- The seed's lazy initialisation: icons loaded once ---- */

#define NICONS 64

static struct {
    char name[16];
    int pixels[32];
} icons[NICONS]; /* plain data, written by load_icons only */
static goc_once icons_once = GOC_ONCE_INIT;
static atomic_int loads;

static void load_icons(void *arg)
{
    (void)arg;
    atomic_fetch_add(&loads, 1);
    for (int i = 0; i < NICONS; i++) {
        snprintf(icons[i].name, sizeof icons[i].name, "icon%d", i);
        for (int j = 0; j < 32; j++)
            icons[i].pixels[j] = i * 32 + j;
    }
}

/* Icon(name): concurrency-safe, loads the table on first use. */
static int icon_pixel(int i, int j)
{
    goc_once_do(&icons_once, load_icons, NULL);
    return icons[i].pixels[j];
}

static atomic_int icon_bad;
static goc_waitgroup icon_wg = GOC_WAITGROUP_INIT;

static void icon_user(void *arg)
{
    int k = (int)(intptr_t)arg;
    for (int r = 0; r < 10; r++) {
        int i = (k + r) % NICONS, j = (k * 7 + r) % 32;
        if (icon_pixel(i, j) != i * 32 + j)
            atomic_fetch_add(&icon_bad, 1);
        /* (No stack buffer handed to libc here: TSan reports a reused
         * goroutine stack written by libc as a race, see stack reuse.) */
        if (strncmp(icons[i].name, "icon", 4) != 0 || atoi(icons[i].name + 4) != i)
            atomic_fetch_add(&icon_bad, 1);
    }
    goc_waitgroup_done(&icon_wg);
}

TEST(seed_lazy_icons)
{
    int n = SCALE_LIVE(1000);
    goc_waitgroup_add(&icon_wg, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(icon_user, (void *)(intptr_t)i) > 0);
    goc_waitgroup_wait(&icon_wg);
    CHECK(atomic_load(&loads) == 1);
    CHECK(atomic_load(&icon_bad) == 0);
}

/* ---- Plain threads and goroutines race for one Once ---- */

struct mixed_ctx {
    goc_once once;
    int value; /* plain: set by fn */
    atomic_int calls, bad;
    goc_waitgroup wg;
};

static void set_value(void *arg)
{
    struct mixed_ctx *c = arg;
    atomic_fetch_add(&c->calls, 1);
    c->value = 42;
}

static void mixed_use(struct mixed_ctx *c)
{
    goc_once_do(&c->once, set_value, c);
    if (c->value != 42)
        atomic_fetch_add(&c->bad, 1);
    goc_waitgroup_done(&c->wg);
}

static void mixed_goroutine(void *arg) { mixed_use(arg); }

static atomic_int threads_known;

static void *mixed_thread(void *arg)
{
    /* Known to goc before goroutine 1 waits (deadlock detection). */
    (void)goc_id();
    atomic_fetch_add(&threads_known, 1);
    mixed_use(arg);
    return NULL;
}

TEST(once_plain_threads)
{
    enum { NT = 4, NG = 16, ROUNDS = 20 };
    static struct mixed_ctx c;
    for (int r = 0; r < ROUNDS; r++) {
        memset(&c, 0, sizeof c);
        goc_once_init(&c.once);
        goc_waitgroup_add(&c.wg, NT + NG);
        pthread_t th[NT];
        atomic_store(&threads_known, 0);
        for (int i = 0; i < NT; i++)
            CHECK(pthread_create(&th[i], NULL, mixed_thread, &c) == 0);
        for (int i = 0; i < NG; i++)
            CHECK(goc_go(mixed_goroutine, &c) > 0);
        int64_t deadline = goc__nanotime() + 10000000000LL;
        while (atomic_load(&threads_known) < NT && goc__nanotime() < deadline)
            goc_yield();
        goc_waitgroup_wait(&c.wg);
        for (int i = 0; i < NT; i++)
            pthread_join(th[i], NULL); /* they are done: returns at once */
        CHECK(atomic_load(&c.calls) == 1);
        CHECK(atomic_load(&c.bad) == 0);
    }
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(TestOnce);
    RUN(once_waits_for_fn);
    RUN(seed_lazy_icons);
    RUN(once_plain_threads);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
