/* memo_test.c: the concurrent non-blocking memo cache (gopl §9.7, seeds
 * 000 and 002): each key computed once however many goroutines ask for it
 * at once; errors cached; different keys computed concurrently (a slow key
 * does not hold up the others: the cache's lock is not held while
 * computing); values freed by the cache. Every test ends with as many
 * goroutines as it began with. */
#include "leak.h"

static atomic_int calls[64];

static int compute(void *arg, const void *key, size_t len, void **val)
{
    (void)arg;
    int k = 0;
    memcpy(&k, key, len < sizeof k ? len : sizeof k);
    atomic_fetch_add(&calls[k], 1);
    goc_sleep(GOC_MILLISECOND); /* slow, as an HTTP GET */
    if (k % 7 == 3)
        return -EIO; /* errors are cached too */
    int *v = malloc(sizeof *v);
    *v = k * k;
    *val = v;
    return 0;
}

struct getter {
    goc_memo *m;
    int key;
    atomic_int *bad;
};

static void getter_body(void *arg)
{
    struct getter *g = arg;
    void *v = NULL;
    int err = goc_memo_get(g->m, &g->key, sizeof g->key, &v);
    bool ok = g->key % 7 == 3 ? err == -EIO && v == NULL : err == 0 && *(int *)v == g->key * g->key;
    if (!ok)
        atomic_fetch_add(g->bad, 1);
}

TEST(each_key_computed_once)
{
    for (int i = 0; i < 64; i++)
        atomic_store(&calls[i], 0);
    goc_memo *m = goc_memo_new(compute, NULL, free);
    CHECK(m != NULL);
    atomic_int bad = 0;
    enum { KEYS = 64, PER = 20 };
    static struct getter gs[KEYS];
    for (int k = 0; k < KEYS; k++)
        gs[k] = (struct getter){m, k, &bad};
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    for (int round = 0; round < 2; round++) { /* the second round hits the cache */
        for (int i = 0; i < PER; i++)
            for (int k = 0; k < KEYS; k++)
                goc_waitgroup_go(&wg, getter_body, &gs[k]);
        goc_waitgroup_wait(&wg);
    }
    CHECK(atomic_load(&bad) == 0);
    for (int k = 0; k < KEYS; k++)
        CHECK(atomic_load(&calls[k]) == 1);
    goc_memo_free(m); /* frees the values (ASan checks) */
}

/* A key whose computation waits for another key's: possible only if the
 * cache does not hold its lock while computing (the seed's point). */
static goc_memo *nb_memo;

static int dependent(void *arg, const void *key, size_t len, void **val)
{
    (void)arg;
    if (len == 1 && *(const char *)key == 'a') {
        void *b = NULL;
        goc_memo_get(nb_memo, "b", 1, &b); /* the cache is used from inside */
        *val = b;
        return 0;
    }
    *val = (void *)"B";
    return 0;
}

TEST(computing_does_not_block_other_keys)
{
    nb_memo = goc_memo_new(dependent, NULL, NULL);
    void *v = NULL;
    CHECK(goc_memo_get(nb_memo, "a", 1, &v) == 0);
    CHECK(v && strcmp(v, "B") == 0);
    CHECK(goc_memo_get(nb_memo, "b", 1, &v) == 0 && strcmp(v, "B") == 0);
    goc_memo_free(nb_memo);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    LRUN(each_key_computed_once);
    LRUN(computing_does_not_block_other_keys);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
