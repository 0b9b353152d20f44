/* cond_test.c: sync.Cond. Ports of Go's sync/cond_test.go (TestCondSignal,
 * TestCondSignalGenerations: FIFO wake order, TestCondBroadcast), then a
 * Cond over another lock (an RWMutex's read side), a bounded queue of
 * producers and consumers, and the wait reason in the deadlock dump.
 *
 * Go's tests use channels for "running" and "awake"; here they are
 * WaitGroups and counters, each read under the Cond's mutex or after a Wait
 * that orders it.
 */
#include "internal.h"
#include "test.h"

/* ---- TestCondSignal ---- */

struct sig_ctx {
    goc_mutex m;
    goc_cond c;
    goc_waitgroup running;
    goc_waitgroup awake_wg;
    atomic_int awake;
    goc_waitgroup exited;
};

static void sig_waiter(void *arg)
{
    struct sig_ctx *s = arg;
    goc_mutex_lock(&s->m);
    goc_waitgroup_done(&s->running);
    goc_cond_wait(&s->c);
    atomic_fetch_add(&s->awake, 1);
    goc_waitgroup_done(&s->awake_wg);
    goc_mutex_unlock(&s->m);
    goc_waitgroup_done(&s->exited);
}

TEST(TestCondSignal)
{
    static struct sig_ctx s;
    memset(&s, 0, sizeof s);
    goc_mutex_init(&s.m);
    goc_cond_init(&s.c, &s.m);
    int n = 2;
    goc_waitgroup_add(&s.running, n);
    goc_waitgroup_add(&s.exited, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(sig_waiter, &s) > 0);
    goc_waitgroup_wait(&s.running); /* wait for everyone to run */
    for (int woken = 0; n > 0; n--, woken++) {
        /* Everybody who signalled "running" did so under m before Wait
         * released it: taking m means they are all in Wait. */
        goc_mutex_lock(&s.m);
        CHECK(atomic_load(&s.awake) == woken); /* goroutine not asleep */
        goc_waitgroup_add(&s.awake_wg, 1);
        goc_cond_signal(&s.c);
        goc_mutex_unlock(&s.m);
        goc_waitgroup_wait(&s.awake_wg); /* deadlocks if no goroutine wakes up */
        goc_mutex_lock(&s.m);
        CHECK(atomic_load(&s.awake) == woken + 1); /* too many goroutines awake */
        goc_mutex_unlock(&s.m);
    }
    goc_cond_signal(&s.c); /* nobody waits: a no-op */
    goc_waitgroup_wait(&s.exited);
}

/* ---- TestCondSignalGenerations: Signal wakes the longest waiter ---- */

struct gen_ctx {
    goc_mutex m;
    goc_cond c;
    goc_waitgroup running, awake_wg, exited;
    int awake_val; /* guarded by m */
};

struct gen_arg {
    struct gen_ctx *g;
    int i;
};

static void gen_waiter(void *arg)
{
    struct gen_arg *a = arg;
    struct gen_ctx *g = a->g;
    goc_mutex_lock(&g->m);
    goc_waitgroup_done(&g->running);
    goc_cond_wait(&g->c);
    g->awake_val = a->i;
    goc_waitgroup_done(&g->awake_wg);
    goc_mutex_unlock(&g->m);
    goc_waitgroup_done(&g->exited);
}

TEST(TestCondSignalGenerations)
{
    static struct gen_ctx g;
    static struct gen_arg args[100];
    memset(&g, 0, sizeof g);
    goc_mutex_init(&g.m);
    goc_cond_init(&g.c, &g.m);
    const int n = 100;
    goc_waitgroup_add(&g.exited, n);
    for (int i = 0; i < n; i++) {
        args[i] = (struct gen_arg){&g, i};
        goc_waitgroup_add(&g.running, 1);
        CHECK(goc_go(gen_waiter, &args[i]) > 0);
        if (i > 0) {
            goc_waitgroup_wait(&g.awake_wg);
            goc_mutex_lock(&g.m);
            int a = g.awake_val;
            goc_mutex_unlock(&g.m);
            if (a != i - 1) {
                fprintf(stderr, "wrong goroutine woke up: want %d, got %d\n", i - 1, a);
                CHECK(a == i - 1);
            }
        }
        goc_waitgroup_wait(&g.running);
        goc_mutex_lock(&g.m);
        goc_waitgroup_add(&g.awake_wg, 1);
        goc_cond_signal(&g.c);
        goc_mutex_unlock(&g.m);
    }
    goc_waitgroup_wait(&g.awake_wg);
    goc_waitgroup_wait(&g.exited);
}

/* ---- FIFO order with many waiters queued at once ---- */

struct fifo_ctx {
    goc_mutex m;
    goc_cond c;
    int queued;          /* waiters that took their ticket, guarded by m */
    int order[64], next; /* wake order, guarded by m */
    goc_waitgroup exited;
};

struct fifo_arg {
    struct fifo_ctx *f;
    int i;
};

static void fifo_waiter(void *arg)
{
    struct fifo_arg *a = arg;
    struct fifo_ctx *f = a->f;
    goc_mutex_lock(&f->m);
    /* Take tickets in i order: wait for our turn to queue. */
    while (f->queued != a->i) {
        goc_mutex_unlock(&f->m);
        goc_yield();
        goc_mutex_lock(&f->m);
    }
    f->queued++;
    goc_cond_wait(&f->c);
    f->order[f->next++] = a->i;
    goc_mutex_unlock(&f->m);
    goc_waitgroup_done(&f->exited);
}

TEST(cond_signal_fifo)
{
    static struct fifo_ctx f;
    static struct fifo_arg args[64];
    memset(&f, 0, sizeof f);
    goc_mutex_init(&f.m);
    goc_cond_init(&f.c, &f.m);
    const int n = 64;
    goc_waitgroup_add(&f.exited, n);
    for (int i = n - 1; i >= 0; i--) { /* started in reverse: order comes from the tickets */
        args[i] = (struct fifo_arg){&f, i};
        CHECK(goc_go(fifo_waiter, &args[i]) > 0);
    }
    int64_t deadline = goc__nanotime() + 10000000000LL;
    for (;;) {
        goc_mutex_lock(&f.m);
        int q = f.queued;
        goc_mutex_unlock(&f.m);
        if (q == n || goc__nanotime() > deadline)
            break;
        goc_yield();
    }
    /* One signal at a time, each waiting for its waiter to record itself
     * (woken waiters race for m, so only the wake order is checked). */
    for (int i = 0; i < n; i++) {
        goc_mutex_lock(&f.m);
        goc_cond_signal(&f.c);
        goc_mutex_unlock(&f.m);
        for (;;) {
            goc_mutex_lock(&f.m);
            int got = f.next;
            goc_mutex_unlock(&f.m);
            if (got == i + 1 || goc__nanotime() > deadline)
                break;
            goc_yield();
        }
    }
    goc_waitgroup_wait(&f.exited);
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad += f.order[i] != i;
    CHECK(bad == 0);
}

/* ---- TestCondBroadcast ---- */

#define NBCAST 200

struct bcast_ctx {
    goc_mutex m;
    goc_cond c;
    bool exit;                   /* guarded by m */
    goc_waitgroup running, awake_wg, exited;
    atomic_int awake;            /* wake-ups this round */
    atomic_int seen[NBCAST];     /* per goroutine, this round */
};

struct bcast_arg {
    struct bcast_ctx *b;
    int g;
};

static void bcast_body(void *arg)
{
    struct bcast_arg *a = arg;
    struct bcast_ctx *b = a->b;
    goc_mutex_lock(&b->m);
    while (!b->exit) {
        goc_waitgroup_done(&b->running);
        goc_cond_wait(&b->c);
        atomic_fetch_add(&b->seen[a->g], 1);
        atomic_fetch_add(&b->awake, 1);
        goc_waitgroup_done(&b->awake_wg);
    }
    goc_mutex_unlock(&b->m);
    goc_waitgroup_done(&b->exited);
}

TEST(TestCondBroadcast)
{
    static struct bcast_ctx b;
    static struct bcast_arg args[NBCAST];
    memset(&b, 0, sizeof b);
    goc_mutex_init(&b.m);
    goc_cond_init(&b.c, &b.m);
    const int n = NBCAST;
    int rounds = SCALE(NBCAST) < 10 ? 10 : SCALE(NBCAST);
    goc_waitgroup_add(&b.exited, n);
    goc_waitgroup_add(&b.running, n);
    for (int i = 0; i < n; i++) {
        args[i] = (struct bcast_arg){&b, i};
        CHECK(goc_go(bcast_body, &args[i]) > 0);
    }
    for (int r = 0; r < rounds && !test_failures_now; r++) {
        goc_waitgroup_wait(&b.running); /* deadlocks unless n are running */
        goc_mutex_lock(&b.m);
        if (r == rounds - 1)
            b.exit = true;
        CHECK(atomic_load(&b.awake) == 0); /* goroutine not asleep */
        goc_waitgroup_add(&b.awake_wg, n);
        if (r != rounds - 1)
            goc_waitgroup_add(&b.running, n);
        goc_cond_broadcast(&b.c);
        goc_mutex_unlock(&b.m);
        goc_waitgroup_wait(&b.awake_wg);
        goc_mutex_lock(&b.m);
        int twice = 0, never = 0;
        for (int g = 0; g < n; g++) {
            int v = atomic_exchange(&b.seen[g], 0);
            twice += v > 1;
            never += v == 0;
        }
        CHECK(twice == 0); /* goroutine woke up twice */
        CHECK(never == 0);
        atomic_store(&b.awake, 0);
        goc_mutex_unlock(&b.m);
    }
    goc_waitgroup_wait(&b.exited);
}

/* ---- A Cond over an RWMutex's read side (Go's c.L = rw.RLocker()) ---- */

static void rlock_fn(void *rw) { goc_rwmutex_rlock(rw); }
static void runlock_fn(void *rw) { goc_rwmutex_runlock(rw); }

struct rl_ctx {
    goc_rwmutex rw;
    goc_cond c;
    atomic_int ready;
    goc_waitgroup waiting, exited;
};

static void rl_waiter(void *arg)
{
    struct rl_ctx *r = arg;
    goc_rwmutex_rlock(&r->rw);
    goc_waitgroup_done(&r->waiting);
    while (!atomic_load(&r->ready))
        goc_cond_wait(&r->c);
    goc_rwmutex_runlock(&r->rw);
    goc_waitgroup_done(&r->exited);
}

TEST(cond_rlocker)
{
    static struct rl_ctx r;
    memset(&r, 0, sizeof r);
    goc_rwmutex_init(&r.rw);
    goc_cond_init_locker(&r.c, rlock_fn, runlock_fn, &r.rw);
    const int n = 8;
    goc_waitgroup_add(&r.waiting, n);
    goc_waitgroup_add(&r.exited, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(rl_waiter, &r) > 0);
    goc_waitgroup_wait(&r.waiting);
    /* The write lock waits until every reader is in Wait (read lock let go). */
    goc_rwmutex_lock(&r.rw);
    atomic_store(&r.ready, 1);
    goc_cond_broadcast(&r.c);
    goc_rwmutex_unlock(&r.rw);
    goc_waitgroup_wait(&r.exited);
}

/* ---- A bounded queue: producers and consumers on every worker ---- */

#define QCAP 8

struct bq {
    goc_mutex m;
    goc_cond not_full, not_empty;
    int buf[QCAP], head, len; /* guarded by m */
    long sum;                 /* consumed, guarded by m */
    goc_waitgroup wg;
    int per_producer;
};

static void producer(void *arg)
{
    struct bq *q = arg;
    for (int i = 1; i <= q->per_producer; i++) {
        goc_mutex_lock(&q->m);
        while (q->len == QCAP)
            goc_cond_wait(&q->not_full);
        q->buf[(q->head + q->len++) % QCAP] = i;
        goc_cond_signal(&q->not_empty);
        goc_mutex_unlock(&q->m);
    }
    goc_waitgroup_done(&q->wg);
}

static void consumer(void *arg)
{
    struct bq *q = arg;
    for (int i = 1; i <= q->per_producer; i++) {
        goc_mutex_lock(&q->m);
        while (q->len == 0)
            goc_cond_wait(&q->not_empty);
        q->sum += q->buf[q->head];
        q->head = (q->head + 1) % QCAP;
        q->len--;
        goc_cond_signal(&q->not_full);
        goc_mutex_unlock(&q->m);
    }
    goc_waitgroup_done(&q->wg);
}

TEST(cond_bounded_queue)
{
    static struct bq q;
    memset(&q, 0, sizeof q);
    goc_mutex_init(&q.m);
    goc_cond_init(&q.not_full, &q.m);
    goc_cond_init(&q.not_empty, &q.m);
    q.per_producer = SCALE(5000);
    int n = 2 * goc_maxprocs(0); /* producers, and as many consumers */
    goc_waitgroup_add(&q.wg, 2 * n);
    for (int i = 0; i < n; i++) {
        CHECK(goc_go(consumer, &q) > 0);
        CHECK(goc_go(producer, &q) > 0);
    }
    goc_waitgroup_wait(&q.wg);
    long per = (long)q.per_producer * (q.per_producer + 1) / 2;
    CHECK(q.sum == per * n);
    CHECK(q.len == 0);
}

/* ---- The wait reason in the deadlock dump (a child) ---- */

static char child_out[65536];

static int sc_cond_deadlock(int argc, char **argv)
{
    (void)argc, (void)argv;
    static goc_mutex m = GOC_MUTEX_INIT;
    static goc_cond c = GOC_COND_INIT(&m);
    goc_mutex_lock(&m);
    goc_cond_wait(&c); /* nobody will signal */
    return 0;
}

TEST(cond_wait_reason)
{
    int st = run_child("cond_deadlock", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, "fatal error: all goroutines are asleep - deadlock!\n") != NULL);
    CHECK(strstr(child_out, "[sync.Cond.Wait") != NULL);
    if (test_failures_now)
        fprintf(stderr, "child: status %d, output:\n%s\n", st, child_out);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(TestCondSignal);
    RUN(TestCondSignalGenerations);
    RUN(cond_signal_fifo);
    RUN(TestCondBroadcast);
    RUN(cond_rlocker);
    RUN(cond_bounded_queue);
    RUN(cond_wait_reason);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"cond_deadlock", sc_cond_deadlock},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
