/* context_test.c: package context. Ports of Go's context tests
 * (TestBackground ... TestWithoutCancel, the Cause table, the AfterFunc
 * tests), then what C adds: references and release, a parent that does
 * not grow under a million short-lived children, deep trees, the watcher
 * hook, and the context-aware forms of send, receive, sleep and the
 * semaphore's acquire. Every test ends with as many goroutines as it began
 * with (leak.h).
 *
 * Go's `otherContext` (a context type of the user's own) has no C
 * counterpart; where Go's tests wrap a context in one, these wrap it in a
 * value context, the other kind that forwards to its parent. Timing
 * bounds are generous: a wait that Go bounds by `quiescent` (5 s) is
 * bounded here by 30 s, and nothing asserts that something was fast.
 */
#include "context.h"
#include "internal.h"
#include "leak.h"

#define QUIESCENT (30 * GOC_SECOND)
#define SHORT GOC_MILLISECOND
#define VERY_LONG (1000 * GOC_HOUR)

static bool is_done(goc_ctx *c)
{
    goc_chan *d = goc_ctx_done(c);
    return d && goc_chan_try_recv(d, NULL) == GOC_CHAN_CLOSED;
}

/* Parks until c is done or `limit` passed; true if done. */
static bool wait_done(goc_ctx *c, int64_t limit)
{
    goc_timer *t = goc_timer_new(limit);
    goc_select_case cs[2] = {GOC_RECV_CASE(goc_ctx_done(c), NULL),
                             GOC_RECV_CASE(goc_timer_chan(t), NULL)};
    int which = goc_select(cs, 2, false);
    goc_timer_free(t);
    return which == 0;
}

static bool chan_closed_within(goc_chan *ch, int64_t limit)
{
    goc_timer *t = goc_timer_new(limit);
    goc_select_case cs[2] = {GOC_RECV_CASE(ch, NULL), GOC_RECV_CASE(goc_timer_chan(t), NULL)};
    int which = goc_select(cs, 2, false);
    goc_timer_free(t);
    return which == 0;
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char key_k1 = 0, key_k2 = 0, key_k3 = 0;
#define k1 ((const void *)&key_k1)
#define k2 ((const void *)&key_k2)
#define k3 ((const void *)&key_k3)

/* ---- TestBackground, TestTODO ---- */

TEST(TestBackground)
{
    goc_ctx *cs[] = {goc_background(), goc_todo()};
    CHECK(cs[0] != cs[1]);
    for (int i = 0; i < 2; i++) {
        goc_ctx *c = cs[i];
        CHECK(c != NULL);
        CHECK(goc_ctx_done(c) == NULL); /* a nil channel: never ready */
        goc_select_case sc[1] = {GOC_RECV_CASE(goc_ctx_done(c), NULL)};
        CHECK(goc_select(sc, 1, true) == GOC_SELECT_DEFAULT);
        CHECK(goc_ctx_err(c) == 0);
        CHECK(goc_ctx_cause(c) == 0);
        CHECK(!goc_ctx_deadline(c, NULL));
        CHECK(goc_ctx_value(c, k1) == NULL);
        goc_cancel(c); /* does nothing */
        goc_ctx_release(goc_ctx_retain(c));
        CHECK(goc_ctx_err(c) == 0);
    }
}

/* ---- TestWithCancel ---- */

TEST(TestWithCancel)
{
    goc_ctx *c1 = goc_with_cancel(goc_background());
    goc_ctx *o = goc_with_value(c1, k1, "o");
    goc_ctx *c2 = goc_with_cancel(o);
    goc_ctx *contexts[] = {c1, o, c2};
    for (int i = 0; i < 3; i++) {
        CHECK(goc_ctx_done(contexts[i]) != NULL);
        CHECK(goc_ctx_err(contexts[i]) == 0);
        CHECK(!is_done(contexts[i]));
    }
    goc_cancel(c1); /* propagates synchronously */
    for (int i = 0; i < 3; i++) {
        CHECK(is_done(contexts[i]));
        CHECK(goc_ctx_err(contexts[i]) == -ECANCELED);
    }
    goc_ctx_release(c2);
    goc_ctx_release(o);
    goc_ctx_release(c1);
}

/* ---- TestParentFinishesChild ---- */

TEST(TestParentFinishesChild)
{
    /* parent -> cancelChild; parent -> valueChild -> timerChild */
    goc_ctx *parent = goc_with_cancel(goc_background());
    goc_ctx *cancel_child = goc_with_cancel(parent);
    goc_ctx *value_child = goc_with_value(parent, k1, "value");
    goc_ctx *timer_child = goc_with_timeout(value_child, VERY_LONG);
    CHECK(!is_done(parent) && !is_done(cancel_child) && !is_done(timer_child) &&
          !is_done(value_child));
    /* The parent's children are the two cancellable ones. */
    CHECK(goc__ctx_nchildren(parent) == 2);
    CHECK(goc__ctx_nchildren(value_child) == 0);

    goc_cancel(parent);
    CHECK(goc__ctx_nchildren(parent) == 0);
    goc_ctx *all[] = {parent, cancel_child, value_child, timer_child};
    for (int i = 0; i < 4; i++) {
        CHECK(is_done(all[i]));
        CHECK(goc_ctx_err(all[i]) == -ECANCELED);
    }
    /* A context made from a cancelled parent has ended already. */
    goc_ctx *pre = goc_with_value(parent, k1, "value");
    CHECK(is_done(pre));
    CHECK(goc_ctx_err(pre) == -ECANCELED);
    goc_ctx *pre2 = goc_with_cancel(parent);
    CHECK(is_done(pre2) && goc_ctx_err(pre2) == -ECANCELED);
    goc_ctx_release(pre2);
    goc_ctx_release(pre);
    goc_ctx_release(timer_child);
    goc_ctx_release(value_child);
    goc_ctx_release(cancel_child);
    goc_ctx_release(parent);
}

/* ---- TestChildFinishesFirst ---- */

TEST(TestChildFinishesFirst)
{
    goc_ctx *cancelable = goc_with_cancel(goc_background());
    goc_ctx *parents[] = {goc_background(), cancelable};
    for (int i = 0; i < 2; i++) {
        goc_ctx *parent = parents[i];
        goc_ctx *child = goc_with_cancel(parent);
        CHECK(!is_done(parent) && !is_done(child));
        if (i == 1)
            CHECK(goc__ctx_nchildren(parent) == 1);
        goc_cancel(child);
        if (i == 1)
            CHECK(goc__ctx_nchildren(parent) == 0); /* removed itself */
        CHECK(is_done(child));
        CHECK(goc_ctx_err(child) == -ECANCELED);
        CHECK(!is_done(parent));
        CHECK(goc_ctx_err(parent) == 0);
        goc_ctx_release(child);
    }
    goc_ctx_release(cancelable);
}

/* ---- TestDeadline, TestTimeout, TestCanceledTimeout ---- */

static void test_deadline(goc_ctx *c, const char *name)
{
    bool done = wait_done(c, QUIESCENT);
    if (!done)
        fprintf(stderr, "%s: context not timed out\n", name);
    CHECK(done);
    CHECK(goc_ctx_err(c) == -ETIMEDOUT);
}

TEST(TestDeadline)
{
    goc_ctx *c = goc_with_deadline(goc_background(), goc_now() + SHORT);
    int64_t d;
    CHECK(goc_ctx_deadline(c, &d));
    test_deadline(c, "WithDeadline");
    goc_ctx_release(c);

    c = goc_with_deadline(goc_background(), goc_now() + SHORT);
    goc_ctx *o = goc_with_value(c, k1, NULL);
    test_deadline(o, "WithDeadline+value");
    goc_ctx_release(o);
    goc_ctx_release(c);

    c = goc_with_deadline(goc_background(), goc_now() + SHORT);
    o = goc_with_value(c, k1, NULL);
    goc_ctx *c2 = goc_with_deadline(o, goc_now() + VERY_LONG);
    test_deadline(c2, "WithDeadline+value+WithDeadline");
    goc_ctx_release(c2);
    goc_ctx_release(o);
    goc_ctx_release(c);

    c = goc_with_deadline(goc_background(), goc_now() - SHORT);
    CHECK(is_done(c)); /* in the past: ended at once */
    test_deadline(c, "WithDeadline+inthepast");
    goc_ctx_release(c);

    c = goc_with_deadline(goc_background(), goc_now());
    test_deadline(c, "WithDeadline+now");
    goc_ctx_release(c);
}

TEST(TestTimeout)
{
    goc_ctx *c = goc_with_timeout(goc_background(), SHORT);
    test_deadline(c, "WithTimeout");
    goc_ctx_release(c);

    c = goc_with_timeout(goc_background(), SHORT);
    goc_ctx *o = goc_with_value(c, k1, NULL);
    test_deadline(o, "WithTimeout+value");
    goc_ctx_release(o);
    goc_ctx_release(c);

    c = goc_with_timeout(goc_background(), SHORT);
    o = goc_with_value(c, k1, NULL);
    goc_ctx *c2 = goc_with_timeout(o, VERY_LONG);
    test_deadline(c2, "WithTimeout+value+WithTimeout");
    goc_ctx_release(c2);
    goc_ctx_release(o);
    goc_ctx_release(c);
}

TEST(TestCanceledTimeout)
{
    goc_ctx *c = goc_with_timeout(goc_background(), GOC_SECOND);
    goc_ctx *o = goc_with_value(c, k1, NULL);
    goc_ctx *c2 = goc_with_timeout(o, VERY_LONG);
    goc_cancel(c2); /* synchronous */
    CHECK(is_done(c2));
    CHECK(goc_ctx_err(c2) == -ECANCELED);
    CHECK(!is_done(c));
    goc_ctx_release(c2);
    goc_ctx_release(o);
    goc_ctx_release(c);
}

TEST(deadlines_nest)
{
    /* An earlier parent deadline wins; a child's earlier one is its own. */
    int64_t now = goc_now(), d;
    goc_ctx *p = goc_with_deadline(goc_background(), now + GOC_HOUR);
    goc_ctx *later = goc_with_deadline(p, now + 2 * GOC_HOUR);
    goc_ctx *earlier = goc_with_deadline(p, now + GOC_MINUTE);
    goc_ctx *v = goc_with_value(earlier, k1, NULL);
    CHECK(goc_ctx_deadline(p, &d) && d == now + GOC_HOUR);
    CHECK(goc_ctx_deadline(later, &d) && d == now + GOC_HOUR);
    CHECK(goc_ctx_deadline(earlier, &d) && d == now + GOC_MINUTE);
    CHECK(goc_ctx_deadline(v, &d) && d == now + GOC_MINUTE);
    goc_ctx *w = goc_without_cancel(v);
    CHECK(!goc_ctx_deadline(w, &d));
    /* The later one has no timer of its own: it ends with p's. */
    CHECK(goc__ctx_nchildren(p) == 2);
    goc_ctx *all[] = {w, v, earlier, later, p};
    for (int i = 0; i < 5; i++)
        goc_ctx_release(all[i]);
}

/* ---- TestValues ---- */

static void check_values(goc_ctx *c, const char *nm, const char *v1, const char *v2,
                         const char *v3)
{
    const char *g1 = goc_ctx_value(c, k1), *g2 = goc_ctx_value(c, k2), *g3 = goc_ctx_value(c, k3);
    bool ok = g1 == v1 && g2 == v2 && g3 == v3;
    if (!ok)
        fprintf(stderr, "%s: values %s %s %s\n", nm, g1 ? g1 : "-", g2 ? g2 : "-", g3 ? g3 : "-");
    CHECK(ok);
}

TEST(TestValues)
{
    check_values(goc_background(), "c0", NULL, NULL, NULL);
    goc_ctx *c1 = goc_with_value(goc_background(), k1, "c1k1");
    check_values(c1, "c1", "c1k1", NULL, NULL);
    goc_ctx *c2 = goc_with_value(c1, k2, "c2k2");
    check_values(c2, "c2", "c1k1", "c2k2", NULL);
    goc_ctx *c3 = goc_with_value(c2, k3, "c3k3");
    check_values(c3, "c3", "c1k1", "c2k2", "c3k3");
    goc_ctx *c4 = goc_with_value(c3, k1, NULL);
    check_values(c4, "c4", NULL, "c2k2", "c3k3");

    goc_ctx *o1 = goc_with_cancel(c1); /* values pass through other kinds */
    goc_ctx *o2 = goc_with_value(o1, k2, "o2k2");
    check_values(o2, "o2", "c1k1", "o2k2", NULL);
    goc_ctx *o3 = goc_with_timeout(c4, VERY_LONG);
    goc_ctx *o4 = goc_with_value(o3, k3, NULL);
    check_values(o4, "o4", NULL, "c2k2", NULL);
    goc_ctx *all[] = {o4, o3, o2, o1, c4, c3, c2, c1};
    for (int i = 0; i < 8; i++)
        goc_ctx_release(all[i]);
}

/* Lookups through deep chains that mix every kind, with keys reused so
 * that nearer values shadow farther ones, against a plain model: the
 * innermost pair with the key (WithoutCancel passes values through). Two
 * branches grow from each chain's midpoint, so records that share
 * ancestors are checked too. Every depth is checked, for every key and a
 * key that is never set. */
static const void *model_value(const void *const *mk, void *const *mv, int n, const void *key)
{
    for (int i = n - 1; i >= 0; i--)
        if (mk[i] == key)
            return mv[i];
    return NULL;
}

TEST(deep_values_match_a_plain_walk)
{
    enum { DEPTH = 120, NKEYS = 5 };
    static char keys[NKEYS + 1], vals[2 * DEPTH];
    uint64_t seed = (uint64_t)goc_now() | 1;
    for (int round = 0; round < 4; round++) {
        goc_ctx *made[2 * DEPTH];
        int nmade = 0;
        const void *mk[2 * DEPTH];
        void *mv[2 * DEPTH];
        int nm = 0, mid_nm = 0;
        goc_ctx *ctx = goc_background(), *mid = NULL;
        for (int branch = 0; branch < 2; branch++) {
            if (branch) {
                ctx = mid;
                nm = mid_nm;
            }
            for (int d = branch ? DEPTH / 2 : 0; d < DEPTH; d++) {
                uint64_t r = rng_next(&seed);
                switch (r % 8) {
                case 0: ctx = goc_with_cancel(ctx); break;
                case 1: ctx = goc_without_cancel(ctx); break;
                case 2: ctx = goc_with_timeout(ctx, VERY_LONG); break;
                default:
                    mk[nm] = &keys[(r >> 8) % NKEYS];
                    mv[nm] = &vals[nmade];
                    ctx = goc_with_value(ctx, mk[nm], mv[nm]);
                    nm++;
                }
                CHECK(ctx != NULL);
                made[nmade++] = ctx;
                if (!branch && d == DEPTH / 2 - 1) {
                    mid = ctx;
                    mid_nm = nm;
                }
                for (int k = 0; k <= NKEYS; k++)
                    CHECK(goc_ctx_value(ctx, &keys[k]) == model_value(mk, mv, nm, &keys[k]));
            }
        }
        while (nmade > 0)
            goc_ctx_release(made[--nmade]);
    }
}

/* ---- TestSimultaneousCancels ---- */

struct canceller {
    goc_ctx *ctx;
    goc_waitgroup *wg;
};

static void cancel_body(void *arg)
{
    struct canceller *c = arg;
    goc_cancel(c->ctx);
    goc_waitgroup_done(c->wg);
}

TEST(TestSimultaneousCancels)
{
    enum { MAX = 120 };
    goc_ctx *m[MAX + 4];
    int n = 0, q = 0;
    m[n++] = goc_with_cancel(goc_background());
    while (q < n && n < 100) { /* a 4-ary tree of contexts */
        goc_ctx *parent = m[q++];
        for (int i = 0; i < 4; i++)
            m[n++] = goc_with_cancel(parent);
    }
    /* All the cancels, in a random order, each in its own goroutine. */
    uint64_t seed = (uint64_t)goc_now() | 1;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng_next(&seed) % (uint64_t)(i + 1));
        goc_ctx *t = m[i];
        m[i] = m[j];
        m[j] = t;
    }
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    struct canceller cs[MAX + 4];
    for (int i = 0; i < n; i++) {
        cs[i] = (struct canceller){m[i], &wg};
        goc_waitgroup_add(&wg, 1);
        goc_go(cancel_body, &cs[i]);
    }
    for (int i = 0; i < n; i++)
        CHECK(wait_done(m[i], QUIESCENT));
    goc_waitgroup_wait(&wg);
    for (int i = 0; i < n; i++) {
        CHECK(goc_ctx_err(m[i]) == -ECANCELED);
        goc_ctx_release(m[i]);
    }
}

/* ---- TestInterlockedCancels ---- */

struct interlocked {
    goc_ctx *parent, *child;
};

static void interlocked_body(void *arg)
{
    struct interlocked *x = arg;
    goc_chan_recv(goc_ctx_done(x->parent), NULL);
    goc_cancel(x->child);
}

TEST(TestInterlockedCancels)
{
    struct interlocked x;
    x.parent = goc_with_cancel(goc_background());
    x.child = goc_with_cancel(x.parent);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&wg, interlocked_body, &x);
    goc_cancel(x.parent);
    CHECK(wait_done(x.child, QUIESCENT));
    goc_waitgroup_wait(&wg);
    goc_ctx_release(x.child);
    goc_ctx_release(x.parent);
}

/* ---- TestLayersCancel, TestLayersTimeout ---- */

static void test_layers(uint64_t seed, bool timeout)
{
    enum { MIN_LAYERS = 30, MAX_LAYERS = 200 };
    static char vals[MAX_LAYERS]; /* keys and values: their addresses */
    goc_ctx *layers[MAX_LAYERS];
    int nl = 0, nvals = 0, ntimers = 0, ncancels = 0;
    const void *keys[MAX_LAYERS];
    goc_ctx *cancels[MAX_LAYERS];
    goc_ctx *ctx = goc_background();
    for (int i = 0; nl < MAX_LAYERS &&
                    (i < MIN_LAYERS || ntimers == 0 || ncancels == 0 || nvals == 0);
         i++) {
        switch (rng_next(&seed) % 3) {
        case 0:
            keys[nvals] = &vals[nl];
            ctx = goc_with_value(ctx, keys[nvals], (void *)keys[nvals]);
            nvals++;
            break;
        case 1:
            ctx = goc_with_cancel(ctx);
            cancels[ncancels++] = ctx;
            break;
        default:
            ctx = goc_with_timeout(ctx, timeout ? SHORT : VERY_LONG);
            cancels[ncancels++] = ctx;
            ntimers++;
        }
        layers[nl++] = ctx;
    }
    for (int i = 0; i < nvals; i++)
        CHECK(goc_ctx_value(ctx, keys[i]) == keys[i]);
    if (!timeout)
        CHECK(!is_done(ctx));
    if (timeout) {
        CHECK(wait_done(ctx, QUIESCENT));
    } else {
        goc_cancel(cancels[rng_next(&seed) % (uint64_t)ncancels]);
        CHECK(is_done(ctx));
    }
    for (int i = 0; i < nvals; i++)
        CHECK(goc_ctx_value(ctx, keys[i]) == keys[i]);
    while (nl > 0)
        goc_ctx_release(layers[--nl]);
}

TEST(TestLayersCancel) { test_layers((uint64_t)goc_now() | 1, false); }
TEST(TestLayersTimeout) { test_layers((uint64_t)goc_now() | 1, true); }

/* ---- TestCancelRemoves ---- */

TEST(TestCancelRemoves)
{
    goc_ctx *ctx = goc_with_cancel(goc_background());
    CHECK(goc__ctx_nchildren(ctx) == 0);
    goc_ctx *c = goc_with_cancel(ctx);
    CHECK(goc__ctx_nchildren(ctx) == 1);
    goc_cancel(c);
    CHECK(goc__ctx_nchildren(ctx) == 0);
    goc_ctx_release(c);

    c = goc_with_timeout(ctx, 60 * GOC_MINUTE);
    CHECK(goc__ctx_nchildren(ctx) == 1);
    goc_cancel(c);
    CHECK(goc__ctx_nchildren(ctx) == 0);
    goc_ctx_release(c);
    goc_ctx_release(ctx);
}

/* ---- TestWithCancelCanceledParent, ...SimultaneouslyCanceledParent ---- */

enum { PARENT_CAUSE = 101, CHILD_CAUSE = 102, TOO_SLOW = 103, FINISHED_EARLY = 104 };

TEST(TestWithCancelCanceledParent)
{
    goc_ctx *parent = goc_with_cancel_cause(goc_background());
    goc_cancel_cause(parent, PARENT_CAUSE);
    goc_ctx *c = goc_with_cancel(parent);
    CHECK(is_done(c));
    CHECK(goc_ctx_err(c) == -ECANCELED);
    CHECK(goc_ctx_cause(c) == PARENT_CAUSE);
    goc_ctx_release(c);
    goc_ctx_release(parent);
}

struct cause_cancel {
    goc_ctx *ctx;
    int cause;
};

static void cancel_cause_body(void *arg)
{
    struct cause_cancel *c = arg;
    goc_cancel_cause(c->ctx, c->cause);
}

TEST(TestWithCancelSimultaneouslyCanceledParent)
{
    for (int i = 0; i < 100; i++) {
        goc_ctx *parent = goc_with_cancel_cause(goc_background());
        struct cause_cancel cc = {parent, PARENT_CAUSE};
        goc_waitgroup wg = GOC_WAITGROUP_INIT;
        goc_waitgroup_go(&wg, cancel_cause_body, &cc);
        goc_ctx *c = goc_with_cancel(parent);
        goc_chan_recv(goc_ctx_done(c), NULL);
        CHECK(goc_ctx_err(c) == -ECANCELED);
        CHECK(goc_ctx_cause(c) == PARENT_CAUSE);
        goc_waitgroup_wait(&wg);
        goc_ctx_release(c);
        goc_ctx_release(parent);
    }
}

/* ---- TestWithValueChecksKey, TestInvalidDerivedFail (children) ---- */

static char child_out[1 << 16];

static int sc_nil_key(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_with_value(goc_background(), NULL, "bar");
    return 0;
}

static int sc_nil_parent(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_with_cancel(NULL);
    return 0;
}

TEST(TestWithValueChecksKey)
{
    int st = run_child("nil_key", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, "panic: nil key") != NULL);
    st = run_child("nil_parent", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, "panic: cannot create context from nil parent") != NULL);
}

/* ---- TestCause: Go's table ---- */

struct cause_case {
    const char *name;
    goc_ctx *(*make)(goc_ctx **keep); /* fills keep[] with what to release */
    int err, cause;
};

static goc_ctx *cc_background(goc_ctx **k) { (void)k; return goc_background(); }
static goc_ctx *cc_todo(goc_ctx **k) { (void)k; return goc_todo(); }
static goc_ctx *cc_with_cancel(goc_ctx **k)
{
    k[0] = goc_with_cancel(goc_background());
    goc_cancel(k[0]);
    return k[0];
}
static goc_ctx *cc_with_cancel_cause(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    goc_cancel_cause(k[0], PARENT_CAUSE);
    return k[0];
}
static goc_ctx *cc_with_cancel_cause_nil(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    goc_cancel_cause(k[0], 0);
    return k[0];
}
static goc_ctx *cc_parent_before_child(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    k[1] = goc_with_cancel_cause(k[0]);
    goc_cancel_cause(k[0], PARENT_CAUSE);
    goc_cancel_cause(k[1], CHILD_CAUSE);
    return k[1];
}
static goc_ctx *cc_parent_after_child(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    k[1] = goc_with_cancel_cause(k[0]);
    goc_cancel_cause(k[1], CHILD_CAUSE);
    goc_cancel_cause(k[0], PARENT_CAUSE);
    return k[1];
}
static goc_ctx *cc_parent_before_nil(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    k[1] = goc_with_cancel(k[0]);
    goc_cancel_cause(k[0], PARENT_CAUSE);
    goc_cancel(k[1]);
    return k[1];
}
static goc_ctx *cc_parent_after_nil(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    k[1] = goc_with_cancel(k[0]);
    goc_cancel(k[1]);
    goc_cancel_cause(k[0], PARENT_CAUSE);
    return k[1];
}
static goc_ctx *cc_child_after_nil(goc_ctx **k)
{
    k[0] = goc_with_cancel(goc_background());
    k[1] = goc_with_cancel_cause(k[0]);
    goc_cancel(k[0]);
    goc_cancel_cause(k[1], CHILD_CAUSE);
    return k[1];
}
static goc_ctx *cc_child_before_nil(goc_ctx **k)
{
    k[0] = goc_with_cancel(goc_background());
    k[1] = goc_with_cancel_cause(k[0]);
    goc_cancel_cause(k[1], CHILD_CAUSE);
    goc_cancel(k[0]);
    return k[1];
}
static goc_ctx *cc_with_timeout(goc_ctx **k)
{
    k[0] = goc_with_timeout(goc_background(), 0);
    goc_cancel(k[0]);
    return k[0];
}
static goc_ctx *cc_with_timeout_canceled(goc_ctx **k)
{
    k[0] = goc_with_timeout(goc_background(), VERY_LONG);
    goc_cancel(k[0]);
    return k[0];
}
static goc_ctx *cc_with_timeout_cause(goc_ctx **k)
{
    k[0] = goc_with_timeout_cause(goc_background(), 0, TOO_SLOW);
    goc_cancel(k[0]);
    return k[0];
}
static goc_ctx *cc_with_timeout_cause_canceled(goc_ctx **k)
{
    k[0] = goc_with_timeout_cause(goc_background(), VERY_LONG, TOO_SLOW);
    goc_cancel(k[0]);
    return k[0];
}
static goc_ctx *cc_timeout_cause_stacked(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    k[1] = goc_with_timeout_cause(k[0], 0, TOO_SLOW);
    goc_cancel_cause(k[0], FINISHED_EARLY);
    return k[1];
}
static goc_ctx *cc_timeout_cause_stacked_canceled(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    k[1] = goc_with_timeout_cause(k[0], VERY_LONG, TOO_SLOW);
    goc_cancel_cause(k[0], FINISHED_EARLY);
    return k[1];
}
static goc_ctx *cc_without_cancel(goc_ctx **k)
{
    k[0] = goc_without_cancel(goc_background());
    return k[0];
}
static goc_ctx *cc_without_cancel_canceled(goc_ctx **k)
{
    k[0] = goc_with_cancel_cause(goc_background());
    k[1] = goc_without_cancel(k[0]);
    goc_cancel_cause(k[0], FINISHED_EARLY);
    return k[1];
}
static goc_ctx *cc_without_cancel_timeout(goc_ctx **k)
{
    k[0] = goc_with_timeout_cause(goc_background(), 0, TOO_SLOW);
    k[1] = goc_without_cancel(k[0]);
    goc_cancel(k[0]);
    return k[1];
}

TEST(TestCause)
{
    const struct cause_case cases[] = {
        {"Background", cc_background, 0, 0},
        {"TODO", cc_todo, 0, 0},
        {"WithCancel", cc_with_cancel, -ECANCELED, -ECANCELED},
        {"WithCancelCause", cc_with_cancel_cause, -ECANCELED, PARENT_CAUSE},
        {"WithCancelCause nil", cc_with_cancel_cause_nil, -ECANCELED, -ECANCELED},
        {"parent cause before child", cc_parent_before_child, -ECANCELED, PARENT_CAUSE},
        {"parent cause after child", cc_parent_after_child, -ECANCELED, CHILD_CAUSE},
        {"parent cause before nil", cc_parent_before_nil, -ECANCELED, PARENT_CAUSE},
        {"parent cause after nil", cc_parent_after_nil, -ECANCELED, -ECANCELED},
        {"child cause after nil", cc_child_after_nil, -ECANCELED, -ECANCELED},
        {"child cause before nil", cc_child_before_nil, -ECANCELED, CHILD_CAUSE},
        {"WithTimeout", cc_with_timeout, -ETIMEDOUT, -ETIMEDOUT},
        {"WithTimeout canceled", cc_with_timeout_canceled, -ECANCELED, -ECANCELED},
        {"WithTimeoutCause", cc_with_timeout_cause, -ETIMEDOUT, TOO_SLOW},
        {"WithTimeoutCause canceled", cc_with_timeout_cause_canceled, -ECANCELED, -ECANCELED},
        {"WithTimeoutCause stacked", cc_timeout_cause_stacked, -ETIMEDOUT, TOO_SLOW},
        {"WithTimeoutCause stacked canceled", cc_timeout_cause_stacked_canceled, -ECANCELED,
         FINISHED_EARLY},
        {"WithoutCancel", cc_without_cancel, 0, 0},
        {"WithoutCancel canceled", cc_without_cancel_canceled, 0, 0},
        {"WithoutCancel timeout", cc_without_cancel_timeout, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        goc_ctx *keep[2] = {NULL, NULL};
        goc_ctx *ctx = cases[i].make(keep);
        int err = goc_ctx_err(ctx), cause = goc_ctx_cause(ctx);
        if (err != cases[i].err || cause != cases[i].cause) {
            fprintf(stderr, "%s: err %d cause %d, want %d %d\n", cases[i].name, err, cause,
                    cases[i].err, cases[i].cause);
            CHECK(false);
        }
        goc_ctx_release(keep[1]);
        goc_ctx_release(keep[0]);
    }
}

/* ---- TestCauseRace ---- */

TEST(TestCauseRace)
{
    goc_ctx *ctx = goc_with_cancel_cause(goc_background());
    struct cause_cancel cc = {ctx, PARENT_CAUSE};
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&wg, cancel_cause_body, &cc);
    int64_t until = goc_now() + QUIESCENT;
    int cause;
    while ((cause = goc_ctx_cause(ctx)) == 0 && goc_now() < until)
        goc_yield(); /* poll the cause, not Done */
    CHECK(cause == PARENT_CAUSE);
    goc_waitgroup_wait(&wg);
    goc_ctx_release(ctx);
}

/* ---- TestWithoutCancel ---- */

TEST(TestWithoutCancel)
{
    static char value[] = "value";
    goc_ctx *v = goc_with_value(goc_background(), k1, value);
    goc_ctx *p = goc_with_timeout(v, VERY_LONG);
    goc_ctx *ctx = goc_without_cancel(p);
    CHECK(!goc_ctx_deadline(ctx, NULL));
    CHECK(goc_ctx_done(ctx) == NULL);
    CHECK(goc_ctx_err(ctx) == 0);
    CHECK(goc_ctx_value(ctx, k1) == value);
    goc_cancel(p);
    CHECK(goc_ctx_err(ctx) == 0 && goc_ctx_done(ctx) == NULL);
    CHECK(goc_ctx_value(ctx, k1) == value);
    /* A child of it is cancelled only by its own cancel. */
    goc_ctx *c = goc_with_cancel(ctx);
    CHECK(!is_done(c));
    goc_ctx_release(c);
    goc_ctx_release(ctx);
    goc_ctx_release(p);
    goc_ctx_release(v);
}

/* ---- AfterFunc ---- */

static void close_chan(void *c) { goc_chan_close(c); }

TEST(TestAfterFuncCalledAfterCancel)
{
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_chan *donec = goc_chan_make(0, 0);
    goc_ctx_after *stop = goc_ctx_after_func(ctx, close_chan, donec);
    CHECK(!chan_closed_within(donec, SHORT)); /* not called before the cancel */
    goc_cancel(ctx);
    CHECK(chan_closed_within(donec, QUIESCENT));
    CHECK(!goc_ctx_after_stop(stop));
    goc_ctx_after_release(stop);
    goc_ctx_release(ctx);
    goc_chan_release(donec);
}

TEST(TestAfterFuncCalledAfterTimeout)
{
    goc_ctx *ctx = goc_with_timeout(goc_background(), SHORT);
    goc_chan *donec = goc_chan_make(0, 0);
    goc_ctx_after_release(goc_ctx_after_func(ctx, close_chan, donec)); /* no handle kept */
    CHECK(chan_closed_within(donec, QUIESCENT));
    goc_ctx_release(ctx);
    goc_chan_release(donec);
}

TEST(TestAfterFuncCalledImmediately)
{
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_cancel(ctx);
    goc_chan *donec = goc_chan_make(0, 0);
    goc_ctx_after *stop = goc_ctx_after_func(ctx, close_chan, donec);
    CHECK(chan_closed_within(donec, QUIESCENT));
    CHECK(!goc_ctx_after_stop(stop));
    goc_ctx_after_release(stop);
    goc_ctx_release(ctx);
    goc_chan_release(donec);
}

TEST(TestAfterFuncNotCalledAfterStop)
{
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_chan *donec = goc_chan_make(0, 0);
    goc_ctx_after *stop = goc_ctx_after_func(ctx, close_chan, donec);
    CHECK(goc_ctx_after_stop(stop));
    CHECK(goc__ctx_nchildren(ctx) == 0);
    goc_cancel(ctx);
    CHECK(!chan_closed_within(donec, SHORT));
    CHECK(!goc_ctx_after_stop(stop));
    goc_ctx_after_release(stop);
    goc_ctx_release(ctx);
    goc_chan_release(donec);

    /* On a context that never ends: stop reports true once. */
    stop = goc_ctx_after_func(goc_background(), close_chan, NULL);
    CHECK(goc_ctx_after_stop(stop));
    CHECK(!goc_ctx_after_stop(stop));
    goc_ctx_after_release(stop);
}

static void send_unit(void *c) { goc_chan_send(c, NULL); }

/* Cancelling does not wait for AfterFuncs to finish. */
TEST(TestAfterFuncCalledAsynchronously)
{
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_chan *donec = goc_chan_make(0, 0);
    goc_ctx_after *stop = goc_ctx_after_func(ctx, send_unit, donec); /* blocks until read */
    goc_cancel(ctx);
    CHECK(chan_closed_within(donec, QUIESCENT)); /* received, in fact */
    goc_ctx_after_stop(stop);
    goc_ctx_after_release(stop);
    goc_ctx_release(ctx);
    goc_chan_release(donec);
}

static void count_up(void *c) { atomic_fetch_add((atomic_int *)c, 1); }

TEST(after_func_many_from_any_goroutine)
{
    /* Registered and stopped in numbers, on a value context over a
     * cancellable one; those not stopped run exactly once. */
    goc_ctx *root = goc_with_cancel(goc_background());
    goc_ctx *ctx = goc_with_value(root, k1, NULL);
    static atomic_int ran;
    atomic_store(&ran, 0);
    int n = SCALE(100000);
    for (int i = 0; i < n; i++) {
        goc_ctx_after *h = goc_ctx_after_func(ctx, count_up, &ran);
        CHECK(goc_ctx_after_stop(h));
        goc_ctx_after_release(h);
    }
    CHECK(goc__ctx_nchildren(root) == 0);
    goc_ctx_after *keep[100];
    for (int i = 0; i < 100; i++)
        keep[i] = goc_ctx_after_func(ctx, count_up, &ran);
    CHECK(goc__ctx_nchildren(root) == 100);
    goc_ctx_release(root); /* cancels it: the owner's release */
    CHECK(wait_count(&ran, 100));
    for (int i = 0; i < 100; i++) {
        CHECK(!goc_ctx_after_stop(keep[i]));
        goc_ctx_after_release(keep[i]); /* the last holders of root */
    }
    goc_ctx_release(ctx);
    CHECK(atomic_load(&ran) == 100);
}

/* ---- References and release ---- */

struct gen_arg {
    goc_ctx *ctx;
    goc_chan *out;
};

static void user_body(void *arg)
{
    struct gen_arg *a = arg;
    goc_chan_recv(goc_ctx_done(a->ctx), NULL); /* still valid: its own reference */
    int err = goc_ctx_err(a->ctx);
    goc_ctx_unref(a->ctx);
    goc_chan_send(a->out, &err);
}

TEST(release_cancels_retain_keeps_alive)
{
    goc_ctx *parent = goc_with_cancel(goc_background());
    goc_ctx *ctx = goc_with_cancel(parent);
    struct gen_arg a = {goc_ctx_retain(ctx), goc_chan_make(sizeof(int), 0)};
    goc_go(user_body, &a);
    goc_ctx_release(ctx); /* the owner's defer cancel(): the user wakes */
    int err = 0;
    CHECK(goc_chan_recv(a.out, &err));
    CHECK(err == -ECANCELED);
    CHECK(goc__ctx_nchildren(parent) == 0);
    CHECK(goc_ctx_err(parent) == 0);

    /* unref never cancels: a worker giving its reference back early. */
    ctx = goc_with_cancel(parent);
    goc_ctx_unref(goc_ctx_retain(ctx));
    CHECK(goc_ctx_err(ctx) == 0);
    goc_ctx_release(ctx);
    goc_ctx_release(parent);
    goc_chan_release(a.out);
}

TEST(parent_released_before_its_children)
{
    /* The children's places in the parent's list become references when
     * the parent's release cancels it: the parent lives on until the
     * last child goes (ASan checks the frees). */
    static char val[] = "v";
    goc_ctx *p = goc_with_cancel(goc_background());
    goc_ctx *v = goc_with_value(p, k1, val);
    goc_ctx *c1 = goc_with_cancel(p), *c2 = goc_with_timeout(p, GOC_HOUR);
    goc_ctx *c3 = goc_with_cancel(v), *g1 = goc_with_cancel(c1);
    goc_ctx_release(p);
    goc_ctx *all[] = {c1, c2, c3, g1, v};
    for (int i = 0; i < 5; i++) {
        CHECK(goc_ctx_err(all[i]) == -ECANCELED);
        CHECK(goc_ctx_value(all[i], k1) == (i == 2 || i == 4 ? val : NULL));
    }
    for (int i = 0; i < 5; i++)
        goc_ctx_release(all[i]);

    /* An owner that gives its reference back without cancelling
     * (goc_ctx_unref instead of goc_ctx_release) still ends the context
     * when the last reference goes, children included. */
    p = goc_with_cancel(goc_background());
    c1 = goc_with_cancel(p);
    goc_ctx_unref(p);
    CHECK(goc_ctx_err(c1) == -ECANCELED);
    goc_ctx_release(c1);

    /* A child cancelled (not released) first keeps its parent alive. */
    p = goc_with_cancel(goc_background());
    c1 = goc_with_cancel(p);
    goc_cancel(c1);
    CHECK(goc__ctx_nchildren(p) == 0);
    goc_ctx_release(p);
    CHECK(goc_ctx_value(c1, k1) == NULL); /* walks through the released parent */
    goc_ctx_release(c1);
}

TEST(done_after_cancel_is_closed)
{
    goc_ctx *ctx = goc_with_timeout(goc_background(), VERY_LONG);
    goc_cancel(ctx); /* no Done asked for yet */
    CHECK(is_done(ctx));
    goc_ctx *v = goc_with_value(ctx, k1, NULL);
    CHECK(goc_ctx_done(v) == goc_ctx_done(ctx));
    goc_ctx_release(v);
    goc_ctx_release(ctx);
    CHECK(strcmp(goc_ctx_err_str(-ECANCELED), "context canceled") == 0);
    CHECK(strcmp(goc_ctx_err_str(-ETIMEDOUT), "context deadline exceeded") == 0);
    CHECK(strcmp(goc_ctx_err_str(0), "<nil>") == 0);
    CHECK(strlen(goc_ctx_err_str(-ENOMEM)) > 0);
}

/* ---- A parent does not grow ---- */

TEST(parent_with_a_million_children_does_not_grow)
{
    goc_ctx *parent = goc_with_cancel(goc_background());
    goc_ctx *v = goc_with_value(parent, k1, "v");
    int n = SCALE(1000000);
    size_t most = 0;
    for (int i = 0; i < n; i++) {
        goc_ctx *c;
        switch (i % 4) {
        case 0: c = goc_with_cancel(parent); break;
        case 1: c = goc_with_timeout(v, GOC_HOUR); break;
        case 2: c = goc_with_cancel(v); goc_ctx_done(c); break;
        default: c = goc_with_deadline(parent, goc_now() + GOC_HOUR); break;
        }
        size_t k = goc__ctx_nchildren(parent);
        if (k > most)
            most = k;
        goc_ctx_release(c);
    }
    CHECK(most == 1);
    CHECK(goc__ctx_nchildren(parent) == 0);
    CHECK(!goc__timers_pending()); /* every deadline timer stopped */
    /* Some children alive at once, released in another order. */
    enum { K = 1000 };
    goc_ctx *cs[K];
    for (int i = 0; i < K; i++)
        cs[i] = i % 2 ? goc_with_cancel(parent) : goc_with_timeout(v, GOC_HOUR);
    CHECK(goc__ctx_nchildren(parent) == K);
    for (int i = 0; i < K; i += 2)
        goc_ctx_release(cs[i]);
    CHECK(goc__ctx_nchildren(parent) == K / 2);
    for (int i = 1; i < K; i += 2)
        goc_ctx_release(cs[i]);
    CHECK(goc__ctx_nchildren(parent) == 0);
    CHECK(!goc__timers_pending());
    goc_ctx_release(v);
    goc_ctx_release(parent);
}

/* A parent that every worker derives from (and that has per-worker child
 * lists, forced or made by contention): children, grandchildren,
 * AfterFuncs and watchers linked, unlinked and counted from every worker,
 * then the parent's cancel reaches every child still linked, in whichever
 * list. The second round cancels while the workers are still deriving:
 * every child made after that sees the cancel at once. */
enum { SHARD_KEEP = 8 };

struct shard_worker {
    goc_ctx *parent;
    goc_ctx *kept[SHARD_KEEP];
    goc_ctx *after_cancel; /* the first child made once the parent had ended */
    _Atomic long *progress;
    int iters;             /* 0: until the parent ends */
    goc_waitgroup *wg;
};

static _Atomic int shard_after_runs;
static void shard_after_fn(void *arg) { (void)arg; atomic_fetch_add(&shard_after_runs, 1); }

static void shard_worker_body(void *arg)
{
    struct shard_worker *w = arg;
    for (int i = 0; w->iters == 0 || i < w->iters; i++) {
        /* Seen ended before the child is made: the child is made ended.
         * (Seen after, it may still be on its way: a cancel returns
         * before it has reached every descendant.) */
        bool ended = goc_ctx_err(w->parent) != 0;
        goc_ctx *c = goc_with_cancel(w->parent);
        CHECK(c != NULL);
        if (ended) {
            CHECK(goc_ctx_err(c) == -ECANCELED);
            w->after_cancel = c;
            break;
        }
        switch (i % 4) {
        case 0: { /* a grandchild, released first */
            goc_ctx *g = goc_with_cancel(c);
            /* Linked under c, unless c ended meanwhile (second round). */
            CHECK(goc__ctx_nchildren(c) == 1 || goc_ctx_err(c) == -ECANCELED);
            goc_ctx_release(g);
            CHECK(goc__ctx_nchildren(c) == 0);
            break;
        }
        case 1: { /* an AfterFunc on the shared parent, stopped */
            goc_ctx_after *a = goc_ctx_after_func(w->parent, shard_after_fn, NULL);
            CHECK(a != NULL);
            bool stopped = goc_ctx_after_stop(a);
            CHECK(stopped || goc_ctx_err(w->parent) != 0);
            goc_ctx_after_release(a);
            break;
        }
        case 2: /* a done channel: released the long way */
            CHECK(goc_ctx_done(c) != NULL);
            break;
        default:
            break;
        }
        atomic_fetch_add(w->progress, 1);
        goc_ctx_release(c);
    }
    for (int k = 0; k < SHARD_KEEP; k++)
        w->kept[k] = w->iters ? goc_with_cancel(w->parent) : NULL;
    goc_waitgroup_done(w->wg);
}

TEST(shared_parent_on_every_worker)
{
    int nw = 4 * goc_maxprocs(0);
    struct shard_worker *ws = calloc((size_t)nw, sizeof *ws);
    CHECK(ws != NULL);
    for (int round = 0; round < 2; round++) {
        goc_ctx *parent = goc_with_cancel(goc_background());
        if (round == 0 && goc_maxprocs(0) > 1)
            CHECK(goc__ctx_shard(parent));
        _Atomic long progress = 0;
        goc_waitgroup wg = GOC_WAITGROUP_INIT;
        for (int i = 0; i < nw; i++) {
            ws[i] = (struct shard_worker){.parent = parent, .progress = &progress,
                                          .iters = round == 0 ? SCALE(20000) : 0, .wg = &wg};
            goc_waitgroup_add(&wg, 1);
            CHECK(goc_go(shard_worker_body, &ws[i]) > 0);
        }
        if (round == 0) {
            goc_waitgroup_wait(&wg);
            /* Every kept child is linked; every released one is gone. */
            CHECK(goc__ctx_nchildren(parent) == (size_t)nw * SHARD_KEEP);
        } else {
            while (atomic_load(&progress) < (long)nw * SCALE(200))
                goc_yield();
        }
        goc_cancel(parent);
        if (round == 1)
            goc_waitgroup_wait(&wg);
        CHECK(goc__ctx_nchildren(parent) == 0);
        for (int i = 0; i < nw; i++) {
            for (int k = 0; k < SHARD_KEEP; k++) {
                if (!ws[i].kept[k])
                    continue;
                CHECK(goc_ctx_err(ws[i].kept[k]) == -ECANCELED);
                int v;
                CHECK(!goc_chan_recv(goc_ctx_done(ws[i].kept[k]), &v)); /* closed */
                goc_ctx_release(ws[i].kept[k]);
            }
            if (round == 1) {
                CHECK(ws[i].after_cancel != NULL);
                goc_ctx_release(ws[i].after_cancel);
            }
        }
        goc_ctx_release(parent);
    }
    free(ws);
}

/* Children made and released on every worker while their parent is
 * cancelled: a release races the parent's cancel taking the child from
 * its list (goc_ctx_release then cancels and frees it as usual; ASan
 * checks that each is freed once, and after its last use). The children
 * vary in what release may skip: plain ones (freed without a cancel),
 * ones under a value context (they count a reference to it), ones with a
 * done channel or a child of their own (cancelled first). */
struct release_race {
    goc_ctx *parent, *v;
    int n;
    _Atomic int late_ok; /* children made after the cancel was seen, born ended */
};

static void release_race_body(void *arg)
{
    struct release_race *r = arg;
    for (int i = 0; i < r->n; i++) {
        bool ended = goc_ctx_err(r->parent) != 0;
        goc_ctx *c = goc_with_cancel(i % 3 == 1 ? r->v : r->parent);
        if (ended && goc_ctx_err(c) == -ECANCELED)
            atomic_fetch_add(&r->late_ok, 1);
        else if (ended)
            atomic_fetch_add(&r->late_ok, -1000000);
        goc_ctx *gc = NULL;
        if (i % 5 == 2)
            goc_ctx_done(c);
        else if (i % 7 == 3)
            gc = goc_with_cancel(c);
        if (i % 16 == 0)
            goc_yield();
        goc_ctx_release(c);
        if (gc) {
            /* Cancelled by the release, or being cancelled by the
             * parent's cancel, which set c's error first (a second cancel
             * of c returns without waiting for the first to reach gc). */
            if (goc_ctx_err(gc) == 0) {
                CHECK(goc_ctx_err(r->parent) != 0);
                goc_chan_recv(goc_ctx_done(gc), NULL);
            }
            CHECK(goc_ctx_err(gc) == -ECANCELED);
            goc_ctx_release(gc);
        }
    }
}

TEST(release_races_parent_cancel)
{
    enum { G = 4 };
    for (int round = 0; round < 20; round++) {
        struct release_race r = {.n = SCALE(20000)};
        r.parent = goc_with_cancel(goc_background());
        r.v = goc_with_value(r.parent, k1, "v");
        goc_waitgroup wg = GOC_WAITGROUP_INIT;
        for (int i = 0; i < G; i++)
            goc_waitgroup_go(&wg, release_race_body, &r);
        for (int i = 0; i < round * 10; i++)
            goc_yield();
        goc_cancel(r.parent);
        goc_waitgroup_wait(&wg);
        CHECK(atomic_load(&r.late_ok) >= 0);
        CHECK(goc__ctx_nchildren(r.parent) == 0);
        goc_ctx_release(r.v);
        goc_ctx_release(r.parent);
    }
}

TEST(deep_tree_cancels_without_deep_stack)
{
    int n = SCALE(200000);
    goc_ctx **chain = malloc((size_t)n * sizeof *chain);
    goc_ctx *c = goc_background();
    for (int i = 0; i < n; i++)
        c = chain[i] = i % 3 == 2 ? goc_with_value(c, k1, NULL) : goc_with_cancel(c);
    CHECK(!is_done(chain[n - 1]));
    goc_cancel(chain[0]);
    CHECK(is_done(chain[n - 1]));
    CHECK(goc_ctx_err(chain[n - 1]) == -ECANCELED);
    /* Released root first: each lives on through its children's
     * references, and the last release frees the chain (iteratively). */
    for (int i = 0; i < n; i++)
        goc_ctx_release(chain[i]);
    free(chain);
}

/* ---- The watcher hook ---- */

static void watch_fn(goc__ctx_watch *w, int err) { *(int *)w->arg = err; }

TEST(watcher_hook)
{
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_ctx *v = goc_with_value(ctx, k1, NULL);
    int got = 0;
    goc__ctx_watch w;
    CHECK(goc__ctx_watch_start(v, &w, watch_fn, &got) == 0);
    CHECK(goc__ctx_nchildren(ctx) == 1);
    CHECK(goc__ctx_watch_stop(&w)); /* stopped before it fired */
    CHECK(goc__ctx_nchildren(ctx) == 0);
    CHECK(goc__ctx_watch_start(v, &w, watch_fn, &got) == 0);
    goc_cancel(ctx);
    CHECK(got == -ECANCELED); /* ran inside the cancel */
    CHECK(!goc__ctx_watch_stop(&w));
    CHECK(goc__ctx_watch_start(v, &w, watch_fn, &got) == -ECANCELED);
    CHECK(goc__ctx_watch_stop(&w));
    got = 0;
    CHECK(goc__ctx_watch_start(goc_background(), &w, watch_fn, &got) == 0);
    CHECK(goc__ctx_watch_stop(&w) && got == 0);
    goc_ctx_release(v);
    goc_ctx_release(ctx);
}

/* ---- Cancel broadcast: many goroutines blocked on Done ---- */

struct bcast {
    goc_ctx *ctx;
    atomic_int *woken;
};

static void bcast_body(void *arg)
{
    struct bcast *b = arg;
    goc_chan_recv(goc_ctx_done(b->ctx), NULL);
    atomic_fetch_add(b->woken, 1);
}

TEST(cancel_wakes_every_waiter)
{
    int n = SCALE_LIVE(10000);
    goc_ctx *ctx = goc_with_cancel(goc_background());
    atomic_int woken = 0;
    struct bcast b = {ctx, &woken};
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    for (int i = 0; i < n; i++)
        goc_waitgroup_go(&wg, bcast_body, &b);
    goc_yield();
    CHECK(atomic_load(&woken) == 0);
    goc_cancel(ctx);
    goc_waitgroup_wait(&wg);
    CHECK(atomic_load(&woken) == n);
    goc_ctx_release(ctx);
}

/* ---- Context-aware blocking calls ---- */

struct later {
    goc_ctx *ctx;
    goc_chan *ch;
    int64_t after;
};

static void cancel_later(void *arg)
{
    struct later *l = arg;
    goc_sleep(l->after);
    goc_cancel(l->ctx);
}

TEST(chan_send_recv_ctx)
{
    goc_chan *ch = goc_chan_make(sizeof(int), 0);
    int v = 7, got = 0;
    /* Ended already: fails at once, even with a receiver impossible. */
    goc_ctx *done = goc_with_cancel(goc_background());
    goc_cancel(done);
    CHECK(goc_chan_send_ctx(ch, &v, done) == -ECANCELED);
    CHECK(goc_chan_recv_ctx(ch, &got, done) == -ECANCELED);
    goc_ctx_release(done);

    /* Blocked send, cancelled by another goroutine. */
    goc_ctx *ctx = goc_with_cancel(goc_background());
    struct later l = {ctx, ch, GOC_MILLISECOND};
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&wg, cancel_later, &l);
    CHECK(goc_chan_send_ctx(ch, &v, ctx) == -ECANCELED);
    goc_waitgroup_wait(&wg);
    goc_ctx_release(ctx);

    /* Blocked receive, ended by a deadline. */
    ctx = goc_with_timeout(goc_background(), GOC_MILLISECOND);
    CHECK(goc_chan_recv_ctx(ch, &got, ctx) == -ETIMEDOUT);
    goc_ctx_release(ctx);

    /* A value, and a close, with a live context. */
    ctx = goc_with_timeout(goc_background(), GOC_HOUR);
    goc_chan *buf = goc_chan_make(sizeof(int), 1);
    CHECK(goc_chan_send_ctx(buf, &v, ctx) == 0);
    CHECK(goc_chan_recv_ctx(buf, &got, ctx) == GOC_CHAN_OK && got == 7);
    goc_chan_close(buf);
    CHECK(goc_chan_recv_ctx(buf, &got, ctx) == GOC_CHAN_CLOSED && got == 0);
    goc_chan_release(buf);
    /* Background: a plain send and receive. */
    buf = goc_chan_make(sizeof(int), 1);
    CHECK(goc_chan_send_ctx(buf, &v, goc_background()) == 0);
    CHECK(goc_chan_recv_ctx(buf, &got, goc_background()) == GOC_CHAN_OK && got == 7);
    goc_chan_release(buf);
    goc_ctx_release(ctx);
    goc_chan_release(ch);
}

TEST(sleep_ctx)
{
    CHECK(goc_sleep_ctx(GOC_MILLISECOND, goc_background()) == 0);
    goc_ctx *ctx = goc_with_timeout(goc_background(), GOC_HOUR);
    int64_t t0 = goc_now();
    CHECK(goc_sleep_ctx(2 * GOC_MILLISECOND, ctx) == 0);
    CHECK(goc_now() - t0 >= 2 * GOC_MILLISECOND);
    goc_ctx_release(ctx);

    ctx = goc_with_cancel(goc_background());
    struct later l = {ctx, NULL, GOC_MILLISECOND};
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&wg, cancel_later, &l);
    CHECK(goc_sleep_ctx(GOC_HOUR, ctx) == -ECANCELED); /* woken long before */
    goc_waitgroup_wait(&wg);
    CHECK(goc_sleep_ctx(GOC_HOUR, ctx) == -ECANCELED);
    goc_ctx_release(ctx);

    ctx = goc_with_timeout(goc_background(), GOC_MILLISECOND);
    CHECK(goc_sleep_ctx(GOC_HOUR, ctx) == -ETIMEDOUT);
    goc_ctx_release(ctx);
}

TEST(sema_acquire_deadline)
{
    goc_sema s = GOC_SEMA_INIT(2);
    CHECK(goc_sema_acquire_deadline(&s, 2, goc_now() - 1) == 0); /* free: no wait */
    CHECK(goc_sema_acquire_deadline(&s, 1, goc_now() - 1) == -ETIMEDOUT);
    int64_t t0 = goc_now();
    CHECK(goc_sema_acquire_deadline(&s, 1, t0 + GOC_MILLISECOND) == -ETIMEDOUT);
    CHECK(goc_now() >= t0 + GOC_MILLISECOND);
    CHECK(s.head == NULL); /* left the queue */
    CHECK(goc_sema_acquire_deadline(&s, 3, goc_now() + GOC_MILLISECOND) == -ETIMEDOUT);
    CHECK(goc_sema_acquire_deadline(&s, -1, goc_now()) == -EINVAL);
    goc_sema_release(&s, 2);
    CHECK(goc_sema_acquire_deadline(&s, 2, goc_now() + GOC_HOUR) == 0);
    goc_sema_release(&s, 2);
    CHECK(!goc__timers_pending());
}

struct sema_user {
    goc_sema *s;
    goc_ctx *ctx;
    int64_t n;
    int result;
    goc_chan *done;
};

static void sema_user_body(void *arg)
{
    struct sema_user *u = arg;
    u->result = goc_sema_acquire_ctx(u->s, u->n, u->ctx);
    goc_chan_send(u->done, &u->n);
}

TEST(sema_acquire_ctx)
{
    goc_sema s = GOC_SEMA_INIT(2);
    goc_ctx *ctx = goc_with_cancel(goc_background());
    CHECK(goc_sema_acquire_ctx(&s, 1, ctx) == 0);
    /* A waiter for 2 at the head holds back a later one for 1; cancelling
     * it lets the later one through (x/sync's rule). */
    goc_chan *done = goc_chan_make(sizeof(int64_t), 2);
    goc_ctx *big_ctx = goc_with_cancel(goc_background());
    struct sema_user big = {&s, big_ctx, 2, 99, done};
    struct sema_user small = {&s, ctx, 1, 99, done};
    goc_go(sema_user_body, &big);
    while (!__atomic_load_n(&s.head, __ATOMIC_ACQUIRE)) /* until big waits */
        goc_yield();
    goc_go(sema_user_body, &small);
    while (__atomic_load_n(&s.tail, __ATOMIC_ACQUIRE) == __atomic_load_n(&s.head, __ATOMIC_ACQUIRE))
        goc_yield(); /* until small waits behind it */
    CHECK(goc_chan_len(done) == 0);
    goc_cancel(big_ctx);
    int64_t who;
    CHECK(goc_chan_recv(done, &who));
    CHECK(goc_chan_recv(done, &who));
    CHECK(big.result == -ECANCELED);
    CHECK(small.result == 0);
    goc_sema_release(&s, 2);
    CHECK(s.cur == 0 && s.head == NULL);

    /* A request larger than the size waits for its context only. */
    goc_ctx *t = goc_with_timeout(goc_background(), GOC_MILLISECOND);
    CHECK(goc_sema_acquire_ctx(&s, 3, t) == -ETIMEDOUT);
    CHECK(goc_sema_acquire_ctx(&s, 1, t) == -ETIMEDOUT); /* ended: fails even if free */
    goc_ctx_release(t);
    goc_ctx_release(big_ctx);
    goc_ctx_release(ctx);
    goc_chan_release(done);
}

struct sema_stress {
    goc_sema *s;
    goc_ctx *ctx;
    atomic_int *held, *bad, *fails;
    int loops;
};

static void sema_stress_body(void *arg)
{
    struct sema_stress *a = arg;
    for (int i = 0; i < a->loops; i++) {
        int64_t n = 1 + i % 3;
        int r = i % 2 ? goc_sema_acquire_ctx(a->s, n, a->ctx)
                      : goc_sema_acquire_deadline(a->s, n, goc_now() + 20 * GOC_MICROSECOND);
        if (r != 0) {
            atomic_fetch_add(a->fails, 1);
            continue;
        }
        if (atomic_fetch_add(a->held, (int)n) + n > a->s->size)
            atomic_fetch_add(a->bad, 1);
        goc_yield();
        atomic_fetch_sub(a->held, (int)n);
        goc_sema_release(a->s, n);
    }
}

static void cancel_soon(void *arg)
{
    goc_ctx *ctx = arg;
    for (int i = 0; i < 50; i++)
        goc_yield();
    goc_cancel(ctx);
}

TEST(sema_stress_with_deadlines_and_cancels)
{
    /* Waiters leave the queue by deadline and by cancel while others
     * acquire and release: never more held than exist, all given back. */
    goc_sema s = GOC_SEMA_INIT(4);
    atomic_int held = 0, bad = 0, fails = 0;
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    int rounds = SCALE(20) > 4 ? SCALE(20) : 4;
    for (int r = 0; r < rounds; r++) {
        goc_ctx *ctx = goc_with_cancel(goc_background());
        struct sema_stress a = {&s, ctx, &held, &bad, &fails, SCALE(300) > 20 ? SCALE(300) : 20};
        for (int i = 0; i < 8; i++)
            goc_waitgroup_go(&wg, sema_stress_body, &a);
        goc_waitgroup_go(&wg, cancel_soon, ctx);
        goc_waitgroup_wait(&wg);
        goc_ctx_release(ctx);
    }
    CHECK(atomic_load(&bad) == 0);
    CHECK(s.cur == 0 && s.head == NULL && s.tail == NULL);
    fprintf(stderr, "    %d acquires failed (deadline or cancel)\n", atomic_load(&fails));
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    LRUN(TestBackground);
    LRUN(TestWithCancel);
    LRUN(TestParentFinishesChild);
    LRUN(TestChildFinishesFirst);
    LRUN(TestDeadline);
    LRUN(TestTimeout);
    LRUN(TestCanceledTimeout);
    LRUN(deadlines_nest);
    LRUN(TestValues);
    LRUN(deep_values_match_a_plain_walk);
    LRUN(TestSimultaneousCancels);
    LRUN(TestInterlockedCancels);
    LRUN(TestLayersCancel);
    LRUN(TestLayersTimeout);
    LRUN(TestCancelRemoves);
    LRUN(TestWithCancelCanceledParent);
    LRUN(TestWithCancelSimultaneouslyCanceledParent);
    LRUN(TestWithValueChecksKey);
    LRUN(TestCause);
    LRUN(TestCauseRace);
    LRUN(TestWithoutCancel);
    LRUN(TestAfterFuncCalledAfterCancel);
    LRUN(TestAfterFuncCalledAfterTimeout);
    LRUN(TestAfterFuncCalledImmediately);
    LRUN(TestAfterFuncNotCalledAfterStop);
    LRUN(TestAfterFuncCalledAsynchronously);
    LRUN(after_func_many_from_any_goroutine);
    LRUN(release_cancels_retain_keeps_alive);
    LRUN(parent_released_before_its_children);
    LRUN(done_after_cancel_is_closed);
    LRUN(parent_with_a_million_children_does_not_grow);
    LRUN(shared_parent_on_every_worker);
    LRUN(release_races_parent_cancel);
    LRUN(deep_tree_cancels_without_deep_stack);
    LRUN(watcher_hook);
    LRUN(cancel_wakes_every_waiter);
    LRUN(chan_send_recv_ctx);
    LRUN(sleep_ctx);
    LRUN(sema_acquire_deadline);
    LRUN(sema_acquire_ctx);
    LRUN(sema_stress_with_deadlines_and_cancels);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"nil_key", sc_nil_key},
        {"nil_parent", sc_nil_parent},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
