/* goroutine_test.c: a goroutine's life: defer, goc_exit, ids, counts,
 * GOMAXPROCS, options, dumps, and the ways a program dies (panic, misuse).
 *
 * Runs under goc_main: every test runs in goroutine 1. The death scenarios
 * run in a child process (run_child) as "<self> <scenario>".
 */
#include "test.h"

#include <inttypes.h>
#include <pthread.h>

#define YIELD_LIMIT 10000000L

/* ---- A small append-only log, written by one goroutine at a time ---- */

struct log {
    char buf[512];
    size_t n;
};

static void log_append(struct log *l, const char *s)
{
    size_t len = strlen(s);
    if (l->n + len + 1 >= sizeof l->buf)
        return;
    memcpy(l->buf + l->n, s, len + 1);
    l->n += len;
}

/* "word word word": appends s, with a space before it unless first. */
static void log_word(struct log *l, const char *s)
{
    if (l->n)
        log_append(l, " ");
    log_append(l, s);
}

struct log_entry {
    struct log *log;
    const char *s;
};

static void defer_append(void *arg)
{
    struct log_entry *e = arg;
    log_append(e->log, e->s);
}

static void defer_word(void *arg)
{
    struct log_entry *e = arg;
    log_word(e->log, e->s);
}

static void defer_done(void *arg) { goc_waitgroup_done(arg); }

/* Yields (bounded) until *v == want; returns whether it got there. */
static bool yield_until_eq(atomic_int *v, int want)
{
    for (long i = 0; i < YIELD_LIMIT; i++) {
        if (atomic_load(v) == want)
            return true;
        goc_yield();
    }
    return atomic_load(v) == want;
}

/* Yields (bounded) until goc_num_goroutine() == want. */
static bool yield_until_ngoroutine(int want)
{
    for (long i = 0; i < YIELD_LIMIT; i++) {
        if (goc_num_goroutine() == want)
            return true;
        goc_yield();
    }
    return goc_num_goroutine() == want;
}

/* ---- defer_order ---- */

struct defer_order_ctx {
    struct log log;
    struct log_entry a, b, c;
    goc_waitgroup wg;
    int rc[4];
};

static void defer_order_body(void *arg)
{
    struct defer_order_ctx *c = arg;
    c->rc[0] = goc_defer(defer_done, &c->wg); /* registered first: runs last */
    c->rc[1] = goc_defer(defer_append, &c->a);
    c->rc[2] = goc_defer(defer_append, &c->b);
    c->rc[3] = goc_defer(defer_append, &c->c);
    /* returns normally */
}

TEST(defer_order)
{
    static struct defer_order_ctx c;
    memset(&c, 0, sizeof c);
    c.a = (struct log_entry){&c.log, "A"};
    c.b = (struct log_entry){&c.log, "B"};
    c.c = (struct log_entry){&c.log, "C"};
    goc_waitgroup_init(&c.wg);
    goc_waitgroup_add(&c.wg, 1);
    CHECK(goc_go(defer_order_body, &c) > 1);
    goc_waitgroup_wait(&c.wg);
    for (int i = 0; i < 4; i++)
        CHECK(c.rc[i] == 0);
    CHECK(strcmp(c.log.buf, "CBA") == 0);
}

/* ---- goexit_runs_defers: the seed program ---- */

struct seed_ctx {
    struct log log;
    goc_waitgroup wg;
    struct log_entry b_defer, c_defer;
};

static void seed_a_defer(void *arg)
{
    struct seed_ctx *c = arg;
    log_word(&c->log, "A.defer");
    goc_waitgroup_done(&c->wg);
}

__attribute__((noinline)) static void seed_inner(struct seed_ctx *c)
{
    goc_defer(defer_word, &c->b_defer);
    goc_exit(); /* runs B.defer, then A.defer, and ends the goroutine */
    goc_defer(defer_word, &c->c_defer); /* never reached */
    log_word(&c->log, "X");
}

static void seed_outer(void *arg)
{
    struct seed_ctx *c = arg;
    goc_defer(seed_a_defer, c);
    seed_inner(c);
    log_word(&c->log, "A"); /* never reached */
}

TEST(goexit_runs_defers)
{
    static struct seed_ctx c;
    memset(&c, 0, sizeof c);
    c.b_defer = (struct log_entry){&c.log, "B.defer"};
    c.c_defer = (struct log_entry){&c.log, "C.defer"};
    goc_waitgroup_init(&c.wg);
    goc_waitgroup_add(&c.wg, 1);
    CHECK(goc_go(seed_outer, &c) > 1);
    goc_waitgroup_wait(&c.wg);
    CHECK(strstr(c.log.buf, "X") == NULL);
    CHECK(strstr(c.log.buf, "C.defer") == NULL);
    CHECK(strcmp(c.log.buf, "B.defer A.defer") == 0);
    if (strcmp(c.log.buf, "B.defer A.defer") != 0)
        fprintf(stderr, "log: \"%s\"\n", c.log.buf);
}

/* ---- goexit_nested_deep ---- */

#define NEST_DEPTH 50

struct nest_ctx {
    goc_waitgroup wg;
    int order[NEST_DEPTH + 8];
    int norder;
    int after_exit; /* incremented by code that must never run */
    struct nest_level {
        struct nest_ctx *c;
        int level;
    } levels[NEST_DEPTH + 1];
};

static void nest_defer(void *arg)
{
    struct nest_level *l = arg;
    struct nest_ctx *c = l->c;
    if (c->norder < (int)(sizeof c->order / sizeof c->order[0]))
        c->order[c->norder++] = l->level;
}

/* Not noreturn as far as the compiler knows, so that the recursion below
 * has a way out (gcc's -Winfinite-recursion). */
__attribute__((noinline)) static void nest_bottom(int level)
{
    if (level >= NEST_DEPTH)
        goc_exit();
}

__attribute__((noinline)) static void nest(struct nest_ctx *c, int level)
{
    struct nest_level *l = &c->levels[level];
    l->c = c;
    l->level = level;
    goc_defer(nest_defer, l);
    nest_bottom(level); /* goc_exit from NEST_DEPTH frames down */
    if (level < NEST_DEPTH)
        nest(c, level + 1);
    c->after_exit++; /* never reached; also keeps the recursion from being a tail call */
}

static void nest_body(void *arg)
{
    struct nest_ctx *c = arg;
    goc_defer(defer_done, &c->wg);
    nest(c, 1);
    c->after_exit++;
}

TEST(goexit_nested_deep)
{
    static struct nest_ctx c;
    memset(&c, 0, sizeof c);
    goc_waitgroup_init(&c.wg);
    goc_waitgroup_add(&c.wg, 1);
    CHECK(goc_go(nest_body, &c) > 1);
    goc_waitgroup_wait(&c.wg);
    CHECK(c.after_exit == 0);
    CHECK(c.norder == NEST_DEPTH);
    bool lifo = true;
    for (int i = 0; i < c.norder && i < NEST_DEPTH; i++)
        if (c.order[i] != NEST_DEPTH - i)
            lifo = false;
    CHECK(lifo);
}

/* ---- defer_plain_thread ---- */

static void never_called(void *arg) { (void)arg; }

static void *defer_thread(void *arg)
{
    int *rc = arg;
    *rc = goc_defer(never_called, NULL);
    return NULL;
}

TEST(defer_plain_thread)
{
    int rc = 12345;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, defer_thread, &rc) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(rc == -EPERM);
    CHECK(goc_defer(NULL, &rc) == -EINVAL);
}

/* ---- ids ---- */

#define NIDS 1000

struct ids_ctx {
    goc_waitgroup wg;
    int64_t got[NIDS];
    int64_t ret[NIDS];
    struct ids_slot {
        struct ids_ctx *c;
        int i;
    } slots[NIDS];
};

static void ids_body(void *arg)
{
    struct ids_slot *s = arg;
    s->c->got[s->i] = goc_id();
    goc_waitgroup_done(&s->c->wg);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void *id_thread(void *arg)
{
    *(int64_t *)arg = goc_id();
    return NULL;
}

TEST(ids)
{
    CHECK(goc_id() == 1);
    static struct ids_ctx c;
    memset(&c, 0, sizeof c);
    goc_waitgroup_init(&c.wg);
    goc_waitgroup_add(&c.wg, NIDS);
    for (int i = 0; i < NIDS; i++) {
        c.slots[i] = (struct ids_slot){&c, i};
        c.ret[i] = goc_go(ids_body, &c.slots[i]);
    }
    goc_waitgroup_wait(&c.wg);
    static int64_t sorted[NIDS];
    bool match = true, over1 = true;
    for (int i = 0; i < NIDS; i++) {
        if (c.got[i] != c.ret[i])
            match = false;
        if (c.got[i] <= 1)
            over1 = false;
        sorted[i] = c.got[i];
    }
    CHECK(match);
    CHECK(over1);
    qsort(sorted, NIDS, sizeof sorted[0], cmp_i64);
    bool distinct = true;
    for (int i = 1; i < NIDS; i++)
        if (sorted[i] == sorted[i - 1])
            distinct = false;
    CHECK(distinct);
    CHECK(goc_id() == 1);

    int64_t tid = -1;
    pthread_t th;
    CHECK(pthread_create(&th, NULL, id_thread, &tid) == 0);
    CHECK(pthread_join(th, NULL) == 0);
    CHECK(tid == 0);
}

/* ---- num_goroutine ---- */

#define NBLOCKED 100

struct numg_ctx {
    goc_waitgroup gate, wg;
    atomic_int started;
};

static void numg_body(void *arg)
{
    struct numg_ctx *c = arg;
    atomic_fetch_add(&c->started, 1);
    goc_waitgroup_wait(&c->gate);
    goc_waitgroup_done(&c->wg);
}

TEST(num_goroutine)
{
    /* Goroutines of earlier tests may still be on their way out: they did
     * their Done before they ended. */
    CHECK(yield_until_ngoroutine(1));
    int b = goc_num_goroutine();
    CHECK(b == 1);

    static struct numg_ctx c;
    memset(&c, 0, sizeof c);
    goc_waitgroup_init(&c.gate);
    goc_waitgroup_init(&c.wg);
    goc_waitgroup_add(&c.gate, 1);
    goc_waitgroup_add(&c.wg, NBLOCKED);
    for (int i = 0; i < NBLOCKED; i++)
        CHECK(goc_go(numg_body, &c) > 1);
    CHECK(yield_until_eq(&c.started, NBLOCKED));
    CHECK(goc_num_goroutine() == b + NBLOCKED);
    goc_waitgroup_done(&c.gate);
    goc_waitgroup_wait(&c.wg);
    CHECK(yield_until_ngoroutine(b));
    CHECK(goc_num_goroutine() == b);
}

/* ---- maxprocs ---- */

TEST(maxprocs)
{
    int n = goc_maxprocs(0);
    CHECK(n > 0);
    CHECK(goc_maxprocs(-1) == n);
    CHECK(goc_maxprocs(n) == n);
    CHECK(goc_maxprocs(n + 1) == -EBUSY);
    CHECK(goc_maxprocs(0) == n);
}

/* ---- go_options ---- */

#define BIG_FRAME (800 * 1024)

struct bigstack_ctx {
    goc_waitgroup wg;
    unsigned long sum;
};

__attribute__((noinline)) static unsigned long big_frame(void)
{
    char buf[BIG_FRAME];
    volatile char *v = buf;
    /* Touch the frame from the top down, a byte every 512, then both ends. */
    for (long i = BIG_FRAME - 1; i >= 0; i -= 512)
        v[i] = (char)(i & 0x7f);
    v[BIG_FRAME - 1] = 0x11;
    v[0] = 0x22;
    unsigned long sum = 0;
    for (long i = BIG_FRAME - 1; i >= 0; i -= 512)
        sum += (unsigned char)v[i];
    return sum + (unsigned char)v[0];
}

static unsigned long big_frame_expected(void)
{
    unsigned long sum = 0;
    for (long i = BIG_FRAME - 1; i >= 0; i -= 512)
        sum += i == BIG_FRAME - 1 ? 0x11 : i == 0 ? 0x22 : (unsigned long)(i & 0x7f);
    return sum + 0x22;
}

static void bigstack_body(void *arg)
{
    struct bigstack_ctx *c = arg;
    c->sum = big_frame();
    goc_waitgroup_done(&c->wg);
}

struct named_ctx {
    goc_waitgroup gate, wg;
    atomic_int started;
};

static void named_body(void *arg)
{
    struct named_ctx *c = arg;
    atomic_fetch_add(&c->started, 1);
    goc_waitgroup_wait(&c->gate);
    goc_waitgroup_done(&c->wg);
}

/* Dumps every goroutine into a temporary file and returns the text
 * (malloc'd, NUL-terminated), or NULL. */
static char *dump_text(void)
{
    FILE *f = tmpfile();
    if (!f)
        return NULL;
    int fd = fileno(f);
    goc_dump(fd);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = NULL;
    if (size >= 0 && lseek(fd, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1))) {
        size_t n = 0;
        while (n < (size_t)size) {
            ssize_t r = read(fd, text + n, (size_t)size - n);
            if (r <= 0)
                break;
            n += (size_t)r;
        }
        text[n] = 0;
    }
    fclose(f);
    return text;
}

TEST(go_options)
{
    /* A larger stack than the default, used by an 800 KiB frame. */
    static struct bigstack_ctx big;
    memset(&big, 0, sizeof big);
    goc_waitgroup_init(&big.wg);
    goc_waitgroup_add(&big.wg, 1);
    goc_go_options o = {0};
    o.stack_size = 1024 * 1024;
    CHECK(goc_go_opts(bigstack_body, &big, &o) > 1);
    goc_waitgroup_wait(&big.wg);
    CHECK(big.sum == big_frame_expected());

    /* A name, shown by goc_dump with the creation site and wait reason. */
    static struct named_ctx c;
    memset(&c, 0, sizeof c);
    goc_waitgroup_init(&c.gate);
    goc_waitgroup_init(&c.wg);
    goc_waitgroup_add(&c.gate, 1);
    goc_waitgroup_add(&c.wg, 1);
    goc_go_options no = {0};
    no.name = "worker-x";
    int64_t id = goc_go_opts(named_body, &c, &no);
    CHECK(id > 1);
    CHECK(yield_until_eq(&c.started, 1));

    char head[128];
    snprintf(head, sizeof head, "goroutine %" PRId64 " \"worker-x\" [", id);
    char *text = NULL;
    const char *entry = NULL;
    /* It has started; it may still be on its way into the wait. */
    for (long i = 0; i < 100000; i++) {
        free(text);
        text = dump_text();
        if (!text)
            break;
        entry = strstr(text, head);
        if (entry && strncmp(entry + strlen(head), "sync.WaitGroup.Wait", 19) == 0)
            break;
        entry = NULL;
        goc_yield();
    }
    CHECK(text != NULL);
    CHECK(text && strstr(text, "\"worker-x\"") != NULL);
    CHECK(entry != NULL);
    if (entry) {
        /* The entry runs up to the blank line that ends it. */
        const char *end = strstr(entry, "\n\n");
        size_t len = end ? (size_t)(end - entry) : strlen(entry);
        char *one = strndup(entry, len);
        CHECK(one && strstr(one, "sync.WaitGroup.Wait") != NULL);
        CHECK(one && strstr(one, "goroutine_test.c:") != NULL);
        CHECK(one && strstr(one, "created by goroutine 1 at ") != NULL);
        free(one);
    } else if (text) {
        fprintf(stderr, "dump:\n%s\n", text);
    }
    free(text);
    goc_waitgroup_done(&c.gate);
    goc_waitgroup_wait(&c.wg);
}

/* ---- go_null_fn ---- */

TEST(go_null_fn)
{
    CHECK(goc_go(NULL, NULL) == -EINVAL);
    goc_go_options o = {0};
    CHECK(goc_go_opts(NULL, NULL, &o) == -EINVAL);
}

/* ---- waitgroup_go ---- */

#define NWGGO 1000

static void wggo_count(void *arg) { atomic_fetch_add((atomic_int *)arg, 1); }

struct wggo_exit_ctx {
    atomic_int before, after;
};

static void wggo_exit(void *arg)
{
    struct wggo_exit_ctx *c = arg;
    atomic_fetch_add(&c->before, 1);
    goc_exit();
    atomic_fetch_add(&c->after, 1); /* never reached */
}

TEST(waitgroup_go)
{
    static goc_waitgroup wg = GOC_WAITGROUP_INIT;
    static atomic_int count;
    atomic_store(&count, 0);
    bool ok = true;
    for (int i = 0; i < NWGGO; i++)
        if (goc_waitgroup_go(&wg, wggo_count, &count) <= 1)
            ok = false;
    CHECK(ok);
    goc_waitgroup_wait(&wg);
    CHECK(atomic_load(&count) == NWGGO);

    static struct wggo_exit_ctx c;
    atomic_store(&c.before, 0);
    atomic_store(&c.after, 0);
    CHECK(goc_waitgroup_go(&wg, wggo_exit, &c) > 1);
    goc_waitgroup_wait(&wg); /* returns: the Done is deferred */
    CHECK(atomic_load(&c.before) == 1);
    CHECK(atomic_load(&c.after) == 0);
}

/* ---- Death in a child ---- */

static char child_out[65536];

TEST(panic_child)
{
    int st = run_child("panic", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    const char *d = strstr(child_out, "deferred ran");
    const char *p = strstr(child_out, "panic: boom 42");
    CHECK(d != NULL);
    CHECK(p != NULL);
    CHECK(d && p && d < p);
    CHECK(strstr(child_out, "goroutine 1 [running]") != NULL);
    CHECK(strstr(child_out, "not reached") == NULL);
    if (test_failures_now)
        fprintf(stderr, "child status %d, output:\n%s\n", st, child_out);
}

TEST(negative_wg_child)
{
    int st = run_child("negwg", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, "panic: sync: negative WaitGroup counter\n") != NULL);
    CHECK(strstr(child_out, "not reached") == NULL);
    if (test_failures_now)
        fprintf(stderr, "child status %d, output:\n%s\n", st, child_out);
}

TEST(goexit_from_thread_child)
{
    int st = run_child("goexit_thread", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out,
                  "fatal error: goc_exit called from a thread that is not a goroutine") != NULL);
    CHECK(strstr(child_out, "not reached") == NULL);
    if (test_failures_now)
        fprintf(stderr, "child status %d, output:\n%s\n", st, child_out);
}

/* ---- The child scenarios ---- */

static void panic_deferred(void *arg)
{
    (void)arg;
    fprintf(stderr, "deferred ran\n");
}

static int panic_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    goc_defer(panic_deferred, NULL);
    goc_panic("boom %d", 42);
}

static int negwg_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_done(&wg);
    fprintf(stderr, "not reached\n");
    return 0;
}

static void *goexit_thread(void *arg)
{
    (void)arg;
    goc_exit();
}

static int goexit_thread_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    pthread_t th;
    if (pthread_create(&th, NULL, goexit_thread, NULL) != 0)
        return 3;
    pthread_join(th, NULL);
    fprintf(stderr, "not reached\n");
    return 0;
}

static int run_all(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    RUN(defer_order);
    RUN(goexit_runs_defers);
    RUN(goexit_nested_deep);
    RUN(defer_plain_thread);
    RUN(ids);
    RUN(num_goroutine);
    RUN(maxprocs);
    RUN(go_options);
    RUN(go_null_fn);
    RUN(waitgroup_go);
    RUN(panic_child);
    RUN(negative_wg_child);
    RUN(goexit_from_thread_child);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"panic", panic_main},
        {"negwg", negwg_main},
        {"goexit_thread", goexit_thread_main},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
