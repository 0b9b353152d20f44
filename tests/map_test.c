/* map_test.c: goc_map, sync.Map. Ports of Go's sync/map_test.go:
 * TestMapMatchesRWMutex (random call sequences applied to goc_map and to a
 * reference map under a goc_rwmutex give the same results; Go's
 * quick.CheckEqual, here with a seeded generator, for byte keys and values,
 * pointer values with a destructor and pointer keys with user hash and
 * equality), TestConcurrentRange, TestMapRangeNestedCall,
 * TestCompareAndSwap_NonExistingKey, and TestIssue40999 (deleted keys do
 * not leak: here every key and value the map dropped has been freed once
 * it is destroyed, and while it runs the limbo stays bounded). Then
 * stress on every worker: disjoint keys written and deleted while readers
 * read pointer values inside a guard (ASan catches a value freed under a
 * reader), exact destructor counts, and plain threads.
 */
#include <pthread.h>

#include "internal.h"
#include "test.h"

/* ---- a small deterministic generator ---- */

static uint64_t rnd_next(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* ---- the reference: a map under a RWMutex (Go's RWMutexMap) ---- */

enum { NKEYS = 24 };

struct ref {
    goc_rwmutex mu;
    bool present[NKEYS];
    int64_t val[NKEYS]; /* byte maps: the value; pointer maps: unused */
    void *ptr[NKEYS];   /* pointer maps: the value */
};

enum {
    OP_LOAD, OP_STORE, OP_LOAD_OR_STORE, OP_LOAD_AND_DELETE, OP_DELETE, OP_SWAP,
    OP_CAS, OP_CAD, OP_RANGE, NOPS
};

/* ---- map kinds under test ---- */

static atomic_long values_freed, keys_freed;

static void value_free_count(void *v)
{
    free(v);
    atomic_fetch_add(&values_freed, 1);
}

static void key_free_count(void *k)
{
    free(k);
    atomic_fetch_add(&keys_freed, 1);
}

static uint64_t str_hash(const void *key, size_t size)
{
    (void)size;
    uint64_t h = 1469598103934665603u;
    for (const char *s = key; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

static bool str_equal(const void *a, const void *b, size_t size)
{
    (void)size;
    return strcmp(a, b) == 0;
}

/* kind 0: int64 keys, int64 values (bytes). kind 1: 5-byte keys, pointer
 * values with value_free. kind 2: string pointer keys (user hash, equal,
 * key_free), pointer values not owned. */
struct key5 { char b[5]; };

static goc_map *new_kind(int kind)
{
    goc_map_type t = {0};
    if (kind == 0) {
        t.key_size = 8;
        t.value_size = 8;
    } else if (kind == 1) {
        t.key_size = 5;
        t.value_free = value_free_count;
    } else {
        t.hash = str_hash;
        t.equal = str_equal;
        t.key_free = key_free_count;
    }
    goc_map *m = goc_map_new(&t);
    if (!m)
        abort();
    return m;
}

/* Key k in kind's representation; kind 2 returns a fresh string (the
 * caller frees it unless the map took it). */
static const void *mkkey(int kind, int k, int64_t *i64, struct key5 *k5)
{
    if (kind == 0) {
        *i64 = k * 7919;
        return i64;
    }
    if (kind == 1) {
        memset(k5, 0, sizeof *k5);
        k5->b[0] = 'k';
        k5->b[4] = (char)k;
        return k5;
    }
    char *s = malloc(16);
    if (!s)
        abort();
    snprintf(s, 16, "key-%d", k);
    return s;
}

static int64_t key_index(int kind, const void *key)
{
    if (kind == 0)
        return *(const int64_t *)key / 7919;
    if (kind == 1)
        return ((const struct key5 *)key)->b[4];
    return atoi((const char *)key + 4);
}

/* A value: kind 0 an int64; kind 1 a malloc'd int64 (the map frees it);
 * kind 2 a pointer into a static array. */
static int64_t statics[64], never_stored;

struct mval {
    int64_t i;
    void *p;
};

static struct mval mkval(int kind, int64_t v)
{
    struct mval r = {v, NULL};
    if (kind == 1) {
        int64_t *p = malloc(sizeof *p);
        if (!p)
            abort();
        *p = v;
        r.p = p;
    } else if (kind == 2) {
        r.p = &statics[v & 63];
    }
    return r;
}

static const void *vptr(int kind, struct mval *v) { return kind == 0 ? (const void *)&v->i : v->p; }

struct range_ctx {
    int kind;
    struct ref *ref;
    int seen[NKEYS];
    int bad;
};

static bool range_check(const void *key, const void *value, void *arg)
{
    struct range_ctx *c = arg;
    int64_t k = key_index(c->kind, key);
    if (k < 0 || k >= NKEYS || !c->ref->present[k]) {
        c->bad++;
        return true;
    }
    c->seen[k]++;
    if (c->kind == 0 ? *(const int64_t *)value != c->ref->val[k] : value != c->ref->ptr[k])
        c->bad++;
    if (c->kind == 1 && *(const int64_t *)value < 0) /* readable: not freed */
        c->bad++;
    return true;
}

/* Applies one random call to both; returns false on a mismatch. */
static bool apply_one(int kind, goc_map *m, struct ref *ref, uint64_t *rs, int64_t *next_val)
{
    int op = (int)(rnd_next(rs) % NOPS);
    int k = (int)(rnd_next(rs) % NKEYS);
    int64_t i64;
    struct key5 k5;
    const void *key = mkkey(kind, k, &i64, &k5);
    bool key_taken = false;
    bool ok = true;
    goc_rwmutex_lock(&ref->mu);
    bool had = ref->present[k];
    int64_t old_i = ref->val[k];
    void *old_p = ref->ptr[k];
    union { int64_t i; void *p; } out = {0};
    switch (op) {
    case OP_LOAD: {
        bool got = goc_map_load(m, key, &out);
        ok = got == had && (!had || (kind == 0 ? out.i == old_i : out.p == old_p));
        break;
    }
    case OP_STORE:
    case OP_SWAP: {
        struct mval v = mkval(kind, (*next_val)++);
        int r = op == OP_STORE ? goc_map_store(m, key, vptr(kind, &v))
                               : goc_map_swap(m, key, vptr(kind, &v), &out);
        if (op == OP_STORE)
            ok = r == 0;
        else
            ok = r == (had ? 1 : 0) && (!had || (kind == 0 ? out.i == old_i : out.p == old_p));
        key_taken = true;
        ref->present[k] = true;
        ref->val[k] = v.i;
        ref->ptr[k] = v.p;
        break;
    }
    case OP_LOAD_OR_STORE: {
        struct mval v = mkval(kind, (*next_val)++);
        int r = goc_map_load_or_store(m, key, vptr(kind, &v), &out);
        key_taken = true;
        if (had) {
            ok = r == 1 && (kind == 0 ? out.i == old_i : out.p == old_p);
            if (kind == 1)
                free(v.p); /* not taken */
        } else {
            ok = r == 0 && (kind == 0 ? out.i == v.i : out.p == v.p);
            ref->present[k] = true;
            ref->val[k] = v.i;
            ref->ptr[k] = v.p;
        }
        break;
    }
    case OP_LOAD_AND_DELETE:
    case OP_DELETE: {
        if (op == OP_DELETE) {
            goc_map_delete(m, key);
        } else {
            bool got = goc_map_load_and_delete(m, key, &out);
            ok = got == had && (!had || (kind == 0 ? out.i == old_i : out.p == old_p));
        }
        ref->present[k] = false;
        break;
    }
    case OP_CAS: {
        /* Half the time compare with the current value. */
        bool same = had && (rnd_next(rs) & 1);
        struct mval oldv = {same ? old_i : -5, same ? old_p : (void *)&never_stored};
        if (kind == 1 && !same)
            oldv.p = NULL;
        struct mval v = mkval(kind, (*next_val)++);
        int r = goc_map_compare_and_swap(m, key, vptr(kind, &oldv), vptr(kind, &v));
        ok = r == (same ? 1 : 0);
        if (same) {
            ref->val[k] = v.i;
            ref->ptr[k] = v.p;
        } else if (kind == 1) {
            free(v.p);
        }
        break;
    }
    case OP_CAD: {
        bool same = had && (rnd_next(rs) & 1);
        struct mval oldv = {same ? old_i : -5, same ? old_p : (void *)&never_stored};
        if (kind == 1 && !same)
            oldv.p = NULL;
        bool r = goc_map_compare_and_delete(m, key, vptr(kind, &oldv));
        ok = r == same;
        if (same)
            ref->present[k] = false;
        break;
    }
    case OP_RANGE: {
        struct range_ctx c = {.kind = kind, .ref = ref};
        goc_map_range(m, range_check, &c);
        ok = c.bad == 0;
        for (int i = 0; i < NKEYS; i++)
            if (c.seen[i] != (ref->present[i] ? 1 : 0))
                ok = false;
        break;
    }
    }
    goc_rwmutex_unlock(&ref->mu);
    if (kind == 2 && !key_taken)
        free((void *)key);
    if (!ok)
        fprintf(stderr, "kind %d: op %d on key %d (present %d) mismatched\n", kind, op, k, had);
    return ok;
}

TEST(TestMapMatchesRWMutex)
{
    int seeds = SCALE(200) < 20 ? 20 : SCALE(200);
    for (int kind = 0; kind < 3; kind++) {
        atomic_store(&values_freed, 0);
        atomic_store(&keys_freed, 0);
        long values_made = 0, keys_made_bound = 0;
        for (int seed = 0; seed < seeds; seed++) {
            uint64_t rs = (uint64_t)seed * 977 + (uint64_t)kind;
            goc_map *m = new_kind(kind);
            struct ref ref = {.mu = GOC_RWMUTEX_INIT};
            int64_t next_val = 1;
            int n = 50 + (int)(rnd_next(&rs) % 400);
            bool ok = true;
            for (int i = 0; i < n && ok; i++)
                ok = apply_one(kind, m, &ref, &rs, &next_val);
            CHECK(ok);
            goc_map_free(m);
            values_made += next_val - 1;
            keys_made_bound += n;
        }
        if (kind == 1) {
            /* Every value the map took was freed exactly once: made minus
             * the ones rejected (freed by the test) - counted by ASan for
             * doubles; here at least none leaked beyond what was made. */
            CHECK(atomic_load(&values_freed) > 0);
            CHECK(atomic_load(&values_freed) <= values_made);
        }
        if (kind == 2) {
            CHECK(atomic_load(&keys_freed) > 0);
            CHECK(atomic_load(&keys_freed) <= keys_made_bound);
        }
    }
}

/* Exact accounting: values taken == values freed after goc_map_free, for
 * byte-keyed pointer values (kind 1) under a deterministic sequence. */
TEST(map_destructor_counts)
{
    atomic_store(&values_freed, 0);
    goc_map *m = new_kind(1);
    long taken = 0;
    for (int round = 0; round < 200; round++) {
        for (int k = 0; k < NKEYS; k++) {
            int64_t i64;
            struct key5 k5;
            const void *key = mkkey(1, k, &i64, &k5);
            struct mval v = mkval(1, round);
            switch ((round + k) % 4) {
            case 0: CHECK(goc_map_store(m, key, v.p) == 0); taken++; break;
            case 1: CHECK(goc_map_swap(m, key, v.p, NULL) >= 0); taken++; break;
            case 2: goc_map_delete(m, key); free(v.p); break;
            case 3: {
                void *out;
                int r = goc_map_load_or_store(m, key, v.p, &out);
                if (r == 0)
                    taken++;
                else
                    free(v.p);
                break;
            }
            }
        }
        void *out;
        int64_t i64;
        struct key5 k5;
        (void)goc_map_load(m, mkkey(1, round % NKEYS, &i64, &k5), &out);
    }
    goc_map_free(m);
    CHECK(atomic_load(&values_freed) == taken);
}

TEST(TestCompareAndSwap_NonExistingKey)
{
    goc_map_type t = {.key_size = 8, .value_size = 8};
    goc_map *m = goc_map_new(&t);
    int64_t k = 42, a = 1, b = 2, out = 0;
    CHECK(goc_map_compare_and_swap(m, &k, &a, &b) == 0);
    CHECK(!goc_map_load(m, &k, &out));
    CHECK(!goc_map_compare_and_delete(m, &k, &a));
    /* The zero value is a value like any other (Go: CAS(nil, ...) fails). */
    int64_t zero = 0;
    CHECK(goc_map_compare_and_swap(m, &k, &zero, &b) == 0);
    CHECK(goc_map_store(m, &k, &a) == 0);
    CHECK(goc_map_compare_and_swap(m, &k, &a, &b) == 1);
    CHECK(goc_map_load(m, &k, &out) && out == 2);
    CHECK(goc_map_compare_and_delete(m, &k, &b));
    CHECK(!goc_map_load(m, &k, &out));
    goc_map_free(m);
}

static bool count_fn(const void *key, const void *value, void *arg)
{
    (void)key, (void)value;
    ++*(int *)arg;
    return true;
}

/* Go's TestMapRangeNestedCall: every method called from inside Range. */
struct nested_ctx {
    goc_map *m;
    int bad;
    int visits;
};

static bool nested_fn(const void *key, const void *value, void *arg)
{
    struct nested_ctx *c = arg;
    int64_t k = *(const int64_t *)key, v = *(const int64_t *)value, out = 0;
    c->visits++;
    /* A nested range sees at least this key. */
    int inner = 0;
    goc_map_range(c->m, count_fn, &inner);
    if (inner < 1)
        c->bad++;
    if (!goc_map_load(c->m, &k, &out) || out != v)
        c->bad++;
    int64_t w = 42;
    if (goc_map_load_or_store(c->m, &k, &w, &out) != 1 || out != v)
        c->bad++;
    if (goc_map_swap(c->m, &k, &w, &out) != 1 || out != v)
        c->bad++;
    if (goc_map_compare_and_swap(c->m, &k, &w, &v) != 1)
        c->bad++;
    if (!goc_map_load_and_delete(c->m, &k, &out) || out != v)
        c->bad++;
    if (goc_map_load(c->m, &k, &out))
        c->bad++;
    if (goc_map_store(c->m, &k, &v) != 0)
        c->bad++;
    goc_map_delete(c->m, &k);
    if (goc_map_compare_and_delete(c->m, &k, &v))
        c->bad++;
    return true;
}

TEST(TestMapRangeNestedCall)
{
    goc_map_type t = {.key_size = 8, .value_size = 8};
    goc_map *m = goc_map_new(&t);
    for (int64_t i = 1; i <= 3; i++) {
        int64_t v = i * 100;
        CHECK(goc_map_store(m, &i, &v) == 0);
    }
    struct nested_ctx c = {.m = m};
    goc_map_range(m, nested_fn, &c);
    CHECK(c.bad == 0);
    CHECK(c.visits == 3);
    int n = 0;
    goc_map_range(m, count_fn, &n);
    CHECK(n == 0); /* every key deleted inside the range */
    goc_map_free(m);
}

/* ---- Go's TestConcurrentRange ---- */

enum { RANGE_N = 1 << 10 };

struct crange {
    goc_map *m;
    atomic_int stop;
    atomic_int bad;
    goc_waitgroup wg;
};

static void crange_writer(void *arg)
{
    struct crange *c = arg;
    uint64_t rs = (uint64_t)goc_id();
    for (int64_t n = 1; !atomic_load(&c->stop); n++) {
        for (int64_t i = 1; i < RANGE_N; i++) {
            int64_t v = i * n; /* value is a multiple of the key */
            if (rnd_next(&rs) % 8 == 0)
                v = i * (n + 1);
            if (goc_map_store(c->m, &i, &v) != 0)
                atomic_fetch_add(&c->bad, 1);
        }
        goc_yield();
    }
    goc_waitgroup_done(&c->wg);
}

struct crange_iter {
    int64_t seen[RANGE_N];
    int bad;
};

static bool crange_fn(const void *key, const void *value, void *arg)
{
    struct crange_iter *it = arg;
    int64_t k = *(const int64_t *)key, v = *(const int64_t *)value;
    if (k <= 0 || k >= RANGE_N || v % k != 0 || it->seen[k]++)
        it->bad++;
    return true;
}

TEST(TestConcurrentRange)
{
    struct crange c = {.wg = GOC_WAITGROUP_INIT};
    goc_map_type t = {.key_size = 8, .value_size = 8};
    c.m = goc_map_new(&t);
    for (int64_t i = 1; i < RANGE_N; i++)
        CHECK(goc_map_store(c.m, &i, &i) == 0);
    int writers = goc_maxprocs(0);
    for (int i = 0; i < writers; i++) {
        goc_waitgroup_add(&c.wg, 1);
        goc_go(crange_writer, &c);
    }
    struct crange_iter *it = malloc(sizeof *it);
    int iters = SCALE(200) < 10 ? 10 : SCALE(200);
    for (int n = 0; n < iters; n++) {
        memset(it, 0, sizeof *it);
        goc_map_range(c.m, crange_fn, it);
        CHECK(it->bad == 0);
        int count = 0;
        for (int i = 1; i < RANGE_N; i++)
            count += it->seen[i] != 0;
        CHECK(count == RANGE_N - 1); /* every key, once */
        goc_yield();
    }
    atomic_store(&c.stop, 1);
    goc_waitgroup_wait(&c.wg);
    CHECK(atomic_load(&c.bad) == 0);
    free(it);
    goc_map_free(c.m);
}

/* ---- Go's TestIssue40999: deleted keys are reclaimed as it runs ---- */

TEST(TestIssue40999)
{
    atomic_store(&keys_freed, 0);
    goc_map_type t = {.hash = str_hash, .equal = str_equal, .key_free = key_free_count};
    goc_map *m = goc_map_new(&t);
    /* Go stores nil under a fresh key and deletes it, until a finalizer
     * shows a key was collected. Here: with nobody else using the map,
     * retired keys are freed by later writes, long before the end. */
    long n = 0;
    for (; n < 100000 && atomic_load(&keys_freed) < 100; n++) {
        char *k = malloc(24);
        snprintf(k, 24, "k%ld", n);
        CHECK(goc_map_store(m, k, NULL) == 0);
        goc_map_delete(m, k);
    }
    CHECK(atomic_load(&keys_freed) >= 100);
    CHECK(n < 100000);
    goc_map_free(m);
    CHECK(atomic_load(&keys_freed) == n);
}

/* ---- stress: disjoint keys per writer, readers everywhere ---- */

struct stress {
    goc_map *m;
    atomic_int bad;
    atomic_long taken;
    goc_waitgroup wg;
    atomic_int writers_left;
    int rounds;
};

struct sval {
    int64_t key, gen, check; /* check == key * 1000003 + gen */
};

static void sval_free(void *p)
{
    struct sval *v = p;
    v->check = -1; /* a reader still using it would see this (ASan: freed) */
    free(v);
    atomic_fetch_add(&values_freed, 1);
}

struct stress_arg {
    struct stress *s;
    int id;
};

static void stress_writer(void *arg)
{
    struct stress_arg *a = arg;
    struct stress *s = a->s;
    for (int r = 0; r < s->rounds; r++) {
        for (int64_t j = 0; j < 32; j++) {
            int64_t key = a->id * 1000 + j;
            struct sval *v = malloc(sizeof *v);
            v->key = key;
            v->gen = r;
            v->check = key * 1000003 + r;
            int op = (int)((r + j) % 5);
            if (op == 4) {
                goc_map_delete(s->m, &key);
                free(v);
                continue;
            }
            int ret = op == 3 ? goc_map_swap(s->m, &key, v, NULL) : goc_map_store(s->m, &key, v);
            if (ret < 0)
                atomic_fetch_add(&s->bad, 1);
            atomic_fetch_add(&s->taken, 1);
        }
        if (r % 16 == 0)
            goc_yield();
    }
    atomic_fetch_sub(&s->writers_left, 1);
    goc_waitgroup_done(&s->wg);
}

static void stress_reader(void *arg)
{
    struct stress_arg *a = arg;
    struct stress *s = a->s;
    uint64_t rs = (uint64_t)a->id;
    int i = 0;
    while (atomic_load(&s->writers_left) > 0 || i < 1000) {
        int64_t key = (int64_t)(rnd_next(&rs) % 4) * 1000 + (int64_t)(rnd_next(&rs) % 32);
        goc_map_guard g = goc_map_enter(s->m);
        struct sval *v;
        if (goc_map_load(s->m, &key, &v)) {
            if (v->key != key || v->check != key * 1000003 + v->gen)
                atomic_fetch_add(&s->bad, 1);
            if (++i % 64 == 0)
                goc_yield(); /* hold the guard across a yield (and maybe a migration) */
            if (v->check != key * 1000003 + v->gen)
                atomic_fetch_add(&s->bad, 1);
        }
        goc_map_leave(s->m, g);
        i++;
    }
    goc_waitgroup_done(&s->wg);
}

TEST(map_stress_disjoint)
{
    atomic_store(&values_freed, 0);
    goc_map_type t = {.key_size = 8, .value_free = sval_free};
    struct stress s = {.wg = GOC_WAITGROUP_INIT, .rounds = SCALE(2000)};
    s.m = goc_map_new(&t);
    struct stress_arg args[8];
    atomic_store(&s.writers_left, 4);
    for (int i = 0; i < 8; i++) {
        args[i] = (struct stress_arg){&s, i % 4};
        goc_waitgroup_add(&s.wg, 1);
        goc_go(i < 4 ? stress_writer : stress_reader, &args[i]);
    }
    goc_waitgroup_wait(&s.wg);
    CHECK(atomic_load(&s.bad) == 0);
    goc_map_free(s.m);
    CHECK(atomic_load(&values_freed) == atomic_load(&s.taken));
}

/* ---- plain threads and goroutines on one map ---- */

struct mixed {
    goc_map *m;
    atomic_int bad;
};

static void *mixed_thread(void *arg)
{
    struct mixed *x = arg;
    for (int64_t i = 0; i < SCALE(20000); i++) {
        int64_t k = i % 100, v = k * 3, out;
        if (goc_map_load_or_store(x->m, &k, &v, &out) < 0 || out != v)
            atomic_fetch_add(&x->bad, 1);
        if (i % 7 == 0)
            goc_map_delete(x->m, &k);
    }
    return NULL;
}

static void mixed_g(void *arg)
{
    mixed_thread(arg);
}

TEST(map_plain_threads)
{
    struct mixed x = {0};
    goc_map_type t = {.key_size = 8, .value_size = 8};
    x.m = goc_map_new(&t);
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, mixed_thread, &x);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    for (int i = 0; i < 4; i++)
        goc_waitgroup_go(&wg, mixed_g, &x);
    goc_waitgroup_wait(&wg);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    CHECK(atomic_load(&x.bad) == 0);
    goc_map_free(x.m);
}

/* Large byte keys (the generic hash path) and growth to many keys. */
TEST(map_large_keys)
{
    struct bigkey { char s[40]; };
    goc_map_type t = {.key_size = sizeof(struct bigkey), .value_size = sizeof(int)};
    goc_map *m = goc_map_new(&t);
    int n = SCALE(20000);
    for (int i = 0; i < n; i++) {
        struct bigkey k = {{0}};
        snprintf(k.s, sizeof k.s, "a rather long key number %d", i);
        CHECK(goc_map_store(m, &k, &i) == 0);
    }
    int bad = 0;
    for (int pass = 0; pass < 2; pass++) /* the second pass reads the promoted table */
        for (int i = 0; i < n; i++) {
            struct bigkey k = {{0}};
            snprintf(k.s, sizeof k.s, "a rather long key number %d", i);
            int out = -1;
            if (!goc_map_load(m, &k, &out) || out != i)
                bad++;
        }
    CHECK(bad == 0);
    int count = 0;
    goc_map_range(m, count_fn, &count);
    CHECK(count == n);
    goc_map_free(m);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(TestMapMatchesRWMutex);
    RUN(map_destructor_counts);
    RUN(TestCompareAndSwap_NonExistingKey);
    RUN(TestMapRangeNestedCall);
    RUN(TestConcurrentRange);
    RUN(TestIssue40999);
    RUN(map_stress_disjoint);
    RUN(map_plain_threads);
    RUN(map_large_keys);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
