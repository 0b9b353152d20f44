/* singleflight_test.c: golang.org/x/sync/singleflight. Ports of TestDo,
 * TestDoErr, TestDoDupSuppress, TestForget and TestDoChan; then the share
 * hook (reference-counted values: every caller owns one reference), many
 * concurrent callers of one key, different keys in flight at once, and
 * do_chan duplicates. Every test ends with as many goroutines as it began
 * with. */
#include "leak.h"

static int return_bar(void *arg, void **val)
{
    (void)arg;
    *val = "bar";
    return 0;
}

TEST(TestDo)
{
    goc_singleflight g = GOC_SINGLEFLIGHT_INIT;
    void *v = NULL;
    bool shared = true;
    CHECK(goc_singleflight_do(&g, "key", 3, return_bar, NULL, &v, &shared) == 0);
    CHECK(v && strcmp(v, "bar") == 0);
    CHECK(!shared);
    goc_singleflight_destroy(&g);
}

static int return_err(void *arg, void **val)
{
    (void)arg, (void)val;
    return -EIO;
}

TEST(TestDoErr)
{
    goc_singleflight g = GOC_SINGLEFLIGHT_INIT;
    void *v = (void *)1;
    CHECK(goc_singleflight_do(&g, "key", 3, return_err, NULL, &v, NULL) == -EIO);
    CHECK(v == NULL);
    goc_singleflight_destroy(&g);
}

/* ---- TestDoDupSuppress ---- */

struct dup {
    goc_singleflight *g;
    goc_waitgroup *wg1, *wg2;
    goc_chan *c;
    atomic_int *calls;
};

static int dup_fn(void *arg, void **val)
{
    struct dup *d = arg;
    if (atomic_fetch_add(d->calls, 1) == 0)
        goc_waitgroup_done(d->wg1); /* the first invocation */
    const char *v;
    goc_chan_recv(d->c, &v);
    goc_chan_send(d->c, &v); /* pump: available to any later call */
    goc_sleep(10 * GOC_MILLISECOND); /* let more goroutines enter do */
    *val = (void *)v;
    return 0;
}

static void dup_caller(void *arg)
{
    struct dup *d = arg;
    goc_waitgroup_done(d->wg1);
    void *v = NULL;
    int err = goc_singleflight_do(d->g, "key", 3, dup_fn, d, &v, NULL);
    CHECK(err == 0);
    CHECK(v && strcmp(v, "bar") == 0);
    goc_waitgroup_done(d->wg2);
}

TEST(TestDoDupSuppress)
{
    goc_singleflight g = GOC_SINGLEFLIGHT_INIT;
    goc_waitgroup wg1 = GOC_WAITGROUP_INIT, wg2 = GOC_WAITGROUP_INIT;
    atomic_int calls = 0;
    struct dup d = {&g, &wg1, &wg2, goc_chan_make(sizeof(char *), 1), &calls};
    const int n = 10;
    goc_waitgroup_add(&wg1, 1);
    for (int i = 0; i < n; i++) {
        goc_waitgroup_add(&wg1, 1);
        goc_waitgroup_add(&wg2, 1);
        goc_go(dup_caller, &d);
    }
    goc_waitgroup_wait(&wg1);
    /* At least one goroutine is in fn now, and all of them have at least
     * reached the line before do. */
    const char *bar = "bar";
    goc_chan_send(d.c, &bar);
    goc_waitgroup_wait(&wg2);
    int got = atomic_load(&calls);
    if (got <= 0 || got >= n)
        fprintf(stderr, "number of calls = %d; want over 0 and less than %d\n", got, n);
    CHECK(got > 0 && got < n);
    goc_chan_release(d.c);
    goc_singleflight_destroy(&g);
}

/* ---- TestForget ---- */

static goc_chan *first_started, *unblock_first, *first_finished, *unblock_second;
static goc_singleflight forget_g;

static int first_fn(void *arg, void **val)
{
    (void)arg, (void)val;
    goc_chan_close(first_started);
    goc_chan_recv(unblock_first, NULL);
    goc_chan_close(first_finished);
    return 0;
}

static void first_caller(void *arg)
{
    (void)arg;
    goc_singleflight_do(&forget_g, "key", 3, first_fn, NULL, NULL, NULL);
}

static int second_fn(void *arg, void **val)
{
    (void)arg;
    goc_chan_recv(unblock_second, NULL);
    *val = (void *)(intptr_t)2;
    return 0;
}

static int third_fn(void *arg, void **val)
{
    (void)arg;
    *val = (void *)(intptr_t)3;
    return 0;
}

TEST(TestForget)
{
    goc_singleflight_init(&forget_g, NULL);
    first_started = goc_chan_make(0, 0);
    unblock_first = goc_chan_make(0, 0);
    first_finished = goc_chan_make(0, 0);
    unblock_second = goc_chan_make(0, 0);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&wg, first_caller, NULL);
    goc_chan_recv(first_started, NULL);
    goc_singleflight_forget(&forget_g, "key", 3);

    goc_chan *second = goc_singleflight_do_chan(&forget_g, "key", 3, second_fn, NULL);
    goc_chan_close(unblock_first);
    goc_chan_recv(first_finished, NULL);

    goc_chan *third = goc_singleflight_do_chan(&forget_g, "key", 3, third_fn, NULL);
    goc_chan_close(unblock_second);
    goc_singleflight_result r;
    CHECK(goc_chan_recv(second, &r));
    CHECK(goc_chan_recv(third, &r));
    if (r.val != (void *)(intptr_t)2)
        fprintf(stderr, "we should receive the second call's result 2, got %ld\n",
                (long)(intptr_t)r.val);
    CHECK(r.val == (void *)(intptr_t)2);
    CHECK(r.shared);
    goc_waitgroup_wait(&wg);
    goc_chan *all[] = {first_started, unblock_first, first_finished, unblock_second, second, third};
    for (int i = 0; i < 6; i++)
        goc_chan_release(all[i]);
    goc_singleflight_destroy(&forget_g);
}

/* ---- TestDoChan ---- */

TEST(TestDoChan)
{
    goc_singleflight g = GOC_SINGLEFLIGHT_INIT;
    goc_chan *ch = goc_singleflight_do_chan(&g, "key", 3, return_bar, NULL);
    CHECK(ch != NULL);
    goc_singleflight_result r;
    CHECK(goc_chan_recv(ch, &r));
    CHECK(r.val && strcmp(r.val, "bar") == 0);
    CHECK(r.err == 0);
    CHECK(!r.shared);
    goc_chan_release(ch);
    goc_singleflight_destroy(&g);
}

/* ---- Reference-counted values through the share hook ---- */

typedef struct refval {
    atomic_int refs;
    int payload;
} refval;

static atomic_int freed;

static void refval_share(void *val, size_t n) { atomic_fetch_add(&((refval *)val)->refs, (int)n); }

static void refval_put(refval *v)
{
    if (atomic_fetch_sub(&v->refs, 1) == 1) {
        atomic_fetch_add(&freed, 1);
        free(v);
    }
}

static goc_chan *gate;
static atomic_int fn_calls;

static int make_refval(void *arg, void **val)
{
    (void)arg;
    atomic_fetch_add(&fn_calls, 1);
    goc_chan_recv(gate, NULL); /* until every caller has joined */
    refval *v = malloc(sizeof *v);
    v->refs = 1;
    v->payload = 42;
    *val = v;
    return 0;
}

struct caller {
    goc_singleflight *g;
    atomic_int *in, *bad;
    bool chan;
};

static void ref_caller(void *arg)
{
    struct caller *c = arg;
    void *v = NULL;
    if (c->chan) {
        goc_chan *ch = goc_singleflight_do_chan(c->g, "k", 1, make_refval, NULL);
        atomic_fetch_add(c->in, 1);
        goc_singleflight_result r;
        goc_chan_recv(ch, &r);
        goc_chan_release(ch);
        v = r.val;
    } else {
        atomic_fetch_add(c->in, 1);
        goc_singleflight_do(c->g, "k", 1, make_refval, NULL, &v, NULL);
    }
    if (!v || ((refval *)v)->payload != 42)
        atomic_fetch_add(c->bad, 1);
    else
        refval_put(v); /* each caller owns one reference */
}

TEST(share_hook_gives_each_caller_a_reference)
{
    goc_singleflight g;
    goc_singleflight_init(&g, refval_share);
    gate = goc_chan_make(0, 0);
    atomic_store(&freed, 0);
    atomic_store(&fn_calls, 0);
    atomic_int in = 0, bad = 0;
    int n = SCALE_LIVE(1000);
    struct caller cs[2] = {{&g, &in, &bad, false}, {&g, &in, &bad, true}};
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    for (int i = 0; i < n; i++)
        goc_waitgroup_go(&wg, ref_caller, &cs[i % 2]);
    CHECK(wait_count(&in, n)); /* every caller is in do (or do_chan) */
    while (atomic_load(&fn_calls) == 0)
        goc_yield();
    /* The do callers that counted themselves in may not have joined yet:
     * let them, before the flight ends. */
    for (int i = 0; i < 1000; i++)
        goc_yield();
    goc_chan_close(gate);
    goc_waitgroup_wait(&wg);
    CHECK(atomic_load(&bad) == 0);
    CHECK(atomic_load(&freed) == atomic_load(&fn_calls)); /* no leak, no double free */
    fprintf(stderr, "    %d callers, fn ran %d times\n", n, atomic_load(&fn_calls));
    goc_chan_release(gate);
    goc_singleflight_destroy(&g);
}

/* ---- Different keys fly at once ---- */

static int slow_key(void *arg, void **val)
{
    goc_sleep(GOC_MILLISECOND);
    *val = arg;
    return 0;
}

struct keyed {
    goc_singleflight *g;
    int key;
    atomic_int *bad;
};

static void keyed_caller(void *arg)
{
    struct keyed *k = arg;
    void *v = NULL;
    goc_singleflight_do(k->g, &k->key, sizeof k->key, slow_key, (void *)(intptr_t)k->key, &v,
                        NULL);
    if (v != (void *)(intptr_t)k->key)
        atomic_fetch_add(k->bad, 1);
}

TEST(keys_are_independent)
{
    goc_singleflight g = GOC_SINGLEFLIGHT_INIT;
    atomic_int bad = 0;
    enum { KEYS = 50, PER = 20 };
    static struct keyed ks[KEYS];
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    for (int k = 0; k < KEYS; k++)
        ks[k] = (struct keyed){&g, k, &bad};
    for (int i = 0; i < PER; i++)
        for (int k = 0; k < KEYS; k++)
            goc_waitgroup_go(&wg, keyed_caller, &ks[k]);
    goc_waitgroup_wait(&wg);
    CHECK(atomic_load(&bad) == 0);
    goc_singleflight_destroy(&g);
}

/* Duplicates racing a leader whose fn returns at once: some join after
 * the leader has taken the waiters (they must read the result from the
 * call without parking), some are queued in time. Every caller gets the
 * value, and flights plus the shares handed out equal the callers: each
 * caller is either a leader or counted as one duplicate of one flight. */
static atomic_long race_calls, race_shared;

static void race_share(void *val, size_t n)
{
    (void)val;
    atomic_fetch_add(&race_shared, (long)n);
}

static int race_fn(void *arg, void **val)
{
    atomic_fetch_add(&race_calls, 1);
    *val = arg;
    return 7;
}

struct race_arg {
    goc_singleflight *g;
    void *want;
    atomic_int *bad;
};

static void race_caller(void *p)
{
    struct race_arg *a = p;
    void *v = NULL;
    int err = goc_singleflight_do(a->g, "k", 1, race_fn, a->want, &v, NULL);
    if (v != a->want || err != 7)
        atomic_fetch_add(a->bad, 1);
}

TEST(duplicates_racing_the_leader)
{
    goc_singleflight g;
    goc_singleflight_init(&g, race_share);
    atomic_store(&race_calls, 0);
    atomic_store(&race_shared, 0);
    atomic_int bad = 0;
    enum { PER = 64 };
    int rounds = SCALE(500);
    static char want;
    struct race_arg a = {&g, &want, &bad};
    for (int r = 0; r < rounds; r++) {
        goc_waitgroup wg = GOC_WAITGROUP_INIT;
        for (int i = 0; i < PER; i++)
            goc_waitgroup_go(&wg, race_caller, &a);
        goc_waitgroup_wait(&wg);
    }
    CHECK(atomic_load(&bad) == 0);
    CHECK(atomic_load(&race_calls) + atomic_load(&race_shared) == (long)rounds * PER);
    goc_singleflight_destroy(&g);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    LRUN(TestDo);
    LRUN(TestDoErr);
    LRUN(TestDoDupSuppress);
    LRUN(TestForget);
    LRUN(TestDoChan);
    LRUN(share_hook_gives_each_caller_a_reference);
    LRUN(keys_are_independent);
    LRUN(duplicates_racing_the_leader);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
