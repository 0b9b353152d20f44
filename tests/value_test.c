/* value_test.c: goc_value, atomic.Value for pointers with reclamation.
 * The seed's copy-on-write config (writers publish new configs, readers on
 * every worker read whole ones), readers that hold a value across yields
 * (and so across workers) while it is replaced, exact reclamation counts,
 * and plain threads. ASan catches a value freed under a reader; TSan checks
 * that a published value's contents are visible to its readers.
 */
#include <pthread.h>

#include "internal.h"
#include "test.h"

struct config {
    long a, b, c; /* a reader must see a == b == c */
    long gen;
};

static atomic_long freed, made;

static void config_free(void *p)
{
    struct config *cfg = p;
    cfg->a = -1; /* a reader still using it would notice (ASan too) */
    free(cfg);
    atomic_fetch_add(&freed, 1);
}

static struct config *config_new(long gen)
{
    struct config *cfg = malloc(sizeof *cfg);
    if (!cfg)
        abort();
    cfg->a = cfg->b = cfg->c = gen * 3 + 1;
    cfg->gen = gen;
    atomic_fetch_add(&made, 1);
    return cfg;
}

/* A config a reader may see: whole, as its writer made it. */
static bool config_whole(const struct config *cfg)
{
    return cfg && cfg->a == cfg->b && cfg->b == cfg->c && cfg->a == cfg->gen * 3 + 1;
}

/* A goc_value freeing with config_free, holding config 0; counts reset. */
static void value_start(goc_value *v)
{
    atomic_store(&freed, 0);
    atomic_store(&made, 0);
    goc_value_init(v, config_free);
    CHECK(goc_value_store(v, config_new(0)) == 0);
}

/* Once nobody reads: everything replaced is freed (the current one lives
 * on), then destroy frees the rest. */
static void value_finish(goc_value *v)
{
    goc_value_reclaim(v);
    goc_value_reclaim(v);
    CHECK(atomic_load(&freed) == atomic_load(&made) - 1);
    goc_value_destroy(v);
    CHECK(atomic_load(&freed) == atomic_load(&made));
}

TEST(value_basic)
{
    atomic_store(&freed, 0);
    atomic_store(&made, 0);
    goc_value v = GOC_VALUE_INIT(config_free);
    goc_value_ref r;
    CHECK(goc_value_load(&v, &r) == NULL);
    goc_value_release(&v, &r);
    CHECK(goc_value_store(&v, config_new(1)) == 0);
    struct config *c1 = goc_value_load(&v, &r);
    CHECK(c1 && c1->gen == 1);
    CHECK(goc_value_store(&v, config_new(2)) == 0);
    CHECK(atomic_load(&freed) == 0); /* still held */
    CHECK(c1->a == 4);
    goc_value_release(&v, &r);
    goc_value_reclaim(&v);
    CHECK(atomic_load(&freed) == 1); /* last reader let go */
    goc_value_ref r2;
    struct config *c2 = goc_value_load(&v, &r2);
    CHECK(c2 && c2->gen == 2);
    goc_value_release(&v, &r2);
    CHECK(goc_value_store(&v, config_new(3)) == 0);
    goc_value_reclaim(&v);
    CHECK(atomic_load(&freed) == 2); /* nobody holds it */
    /* Stores reclaim by themselves, in batches: 100 more stores leave at
     * most a few dozen replaced values pending. */
    for (int i = 0; i < 100; i++)
        CHECK(goc_value_store(&v, config_new(4 + i)) == 0);
    CHECK(atomic_load(&freed) >= 2 + 100 - 64);
    goc_value_destroy(&v);
    CHECK(atomic_load(&freed) == atomic_load(&made));
}

/* ---- The seed's copy-on-write config, on every worker ---- */

struct cow_ctx {
    goc_value cfg;
    atomic_int bad;
    atomic_int writers_left;
    goc_waitgroup wg;
    int reads, writes;
};

static void cow_reader(void *arg)
{
    struct cow_ctx *c = arg;
    for (int i = 0; i < c->reads; i++) {
        goc_value_ref r;
        struct config *cfg = goc_value_load(&c->cfg, &r);
        if (!config_whole(cfg))
            atomic_fetch_add(&c->bad, 1);
        if (i % 8 == 0) {
            /* Hold it across a yield: we may resume on another worker, and
             * the value may be replaced meanwhile. */
            goc_yield();
            if (cfg->a != cfg->gen * 3 + 1)
                atomic_fetch_add(&c->bad, 1);
        }
        goc_value_release(&c->cfg, &r);
    }
    goc_waitgroup_done(&c->wg);
}

static atomic_long next_gen;

static void cow_writer(void *arg)
{
    struct cow_ctx *c = arg;
    for (int i = 0; i < c->writes; i++) {
        CHECK(goc_value_store(&c->cfg, config_new(atomic_fetch_add(&next_gen, 1))) == 0);
        goc_yield();
    }
    goc_waitgroup_done(&c->wg);
}

TEST(value_copy_on_write_config)
{
    static struct cow_ctx c;
    memset(&c, 0, sizeof c);
    atomic_store(&next_gen, 1);
    value_start(&c.cfg);
    c.reads = SCALE(20000);
    c.writes = SCALE(2000);
    int nr = 4 * goc_maxprocs(0), nw = goc_maxprocs(0);
    goc_waitgroup_add(&c.wg, nr + nw);
    for (int i = 0; i < nr; i++)
        CHECK(goc_go(cow_reader, &c) > 0);
    for (int i = 0; i < nw; i++)
        CHECK(goc_go(cow_writer, &c) > 0);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.bad) == 0);
    value_finish(&c.cfg);
}

/* ---- Plain threads read while goroutines write ---- */

struct mixed_ctx {
    goc_value cfg;
    atomic_int bad, stop;
};

static void *mixed_reader(void *arg)
{
    struct mixed_ctx *c = arg;
    for (long i = 0; i < 1000000 && !atomic_load(&c->stop); i++) {
        goc_value_ref r;
        struct config *cfg = goc_value_load(&c->cfg, &r);
        if (!config_whole(cfg))
            atomic_fetch_add(&c->bad, 1);
        goc_value_release(&c->cfg, &r);
    }
    return NULL;
}

TEST(value_plain_threads)
{
    static struct mixed_ctx c;
    memset(&c, 0, sizeof c);
    value_start(&c.cfg);
    enum { NT = 3 };
    pthread_t th[NT];
    for (int i = 0; i < NT; i++)
        CHECK(pthread_create(&th[i], NULL, mixed_reader, &c) == 0);
    for (int i = 1; i <= SCALE(5000); i++) {
        CHECK(goc_value_store(&c.cfg, config_new(i)) == 0);
        if (i % 16 == 0)
            goc_yield();
    }
    atomic_store(&c.stop, 1);
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    CHECK(atomic_load(&c.bad) == 0);
    value_finish(&c.cfg);
}

/* A reader that holds a value while a thousand more are stored holds back
 * every free behind it (the backlog outgrows the nodes a slot keeps for
 * reuse); once it lets go, all of them are freed, and the nodes are reused
 * by the next thousand stores. */
TEST(value_long_reader)
{
    goc_value v;
    value_start(&v);
    goc_value_ref r;
    struct config *held = goc_value_load(&v, &r);
    for (int i = 1; i <= 1000; i++)
        CHECK(goc_value_store(&v, config_new(i)) == 0);
    CHECK(atomic_load(&freed) == 0);
    CHECK(held->a == 1 && held->gen == 0);
    goc_value_release(&v, &r);
    goc_value_reclaim(&v);
    goc_value_reclaim(&v);
    CHECK(atomic_load(&freed) == 1000);
    for (int i = 1001; i <= 2000; i++)
        CHECK(goc_value_store(&v, config_new(i)) == 0);
    value_finish(&v);
}

/* ---- Plain threads store while goroutines read ---- */

struct twriter_ctx {
    goc_value cfg;
    atomic_int bad, writers_left;
    goc_waitgroup readers;
};

static void twriter_reader(void *arg)
{
    struct twriter_ctx *c = arg;
    while (atomic_load(&c->writers_left) > 0) {
        goc_value_ref r;
        struct config *cfg = goc_value_load(&c->cfg, &r);
        if (!config_whole(cfg))
            atomic_fetch_add(&c->bad, 1);
        goc_value_release(&c->cfg, &r);
        goc_yield();
    }
    goc_waitgroup_done(&c->readers);
}

static void *twriter(void *arg)
{
    struct twriter_ctx *c = arg;
    for (int i = 0; i < SCALE(2000); i++)
        if (goc_value_store(&c->cfg, config_new(atomic_fetch_add(&next_gen, 1))) != 0)
            atomic_fetch_add(&c->bad, 1);
    atomic_fetch_sub(&c->writers_left, 1);
    return NULL;
}

TEST(value_thread_writers)
{
    static struct twriter_ctx c;
    memset(&c, 0, sizeof c);
    atomic_store(&next_gen, 1);
    value_start(&c.cfg);
    enum { NT = 3 };
    atomic_store(&c.writers_left, NT);
    int nr = 2 * goc_maxprocs(0);
    goc_waitgroup_add(&c.readers, nr);
    for (int i = 0; i < nr; i++)
        CHECK(goc_go(twriter_reader, &c) > 0);
    pthread_t th[NT];
    for (int i = 0; i < NT; i++)
        CHECK(pthread_create(&th[i], NULL, twriter, &c) == 0);
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    goc_waitgroup_wait(&c.readers);
    CHECK(atomic_load(&c.bad) == 0);
    value_finish(&c.cfg);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(value_basic);
    RUN(value_copy_on_write_config);
    RUN(value_plain_threads);
    RUN(value_long_reader);
    RUN(value_thread_writers);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
