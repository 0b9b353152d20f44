/* rwmutex_test.c: sync.RWMutex. Ports of Go's sync/rwmutex_test.go
 * (TestParallelReaders, TestRWMutex with HammerRWMutex), then writer
 * preference, the seed bank in its RWMutex form, and the wait reasons a
 * deadlocked reader and writer show in the dump (children). The misuse
 * cases sit in mutex_test.c, as Go keeps them in mutex_test.go.
 *
 * GOMAXPROCS cannot change once the runtime runs, so the hammer matrix runs
 * with the process's workers; Go's channels are WaitGroups here.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"
#include "test.h"

#define WAIT_LIMIT_NS (10LL * 1000000000LL)

/* ---- TestParallelReaders ---- */

struct par_ctx {
    goc_rwmutex m;
    goc_waitgroup clocked, cunlock, cdone;
};

static void parallel_reader(void *arg)
{
    struct par_ctx *c = arg;
    goc_rwmutex_rlock(&c->m);
    goc_waitgroup_done(&c->clocked);
    goc_waitgroup_wait(&c->cunlock);
    goc_rwmutex_runlock(&c->m);
    goc_waitgroup_done(&c->cdone);
}

static void do_test_parallel_readers(int n)
{
    static struct par_ctx c;
    memset(&c, 0, sizeof c);
    goc_rwmutex_init(&c.m);
    goc_waitgroup_add(&c.clocked, n);
    goc_waitgroup_add(&c.cunlock, 1);
    goc_waitgroup_add(&c.cdone, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(parallel_reader, &c) > 0);
    /* Every reader holds the read lock at once. */
    goc_waitgroup_wait(&c.clocked);
    goc_waitgroup_done(&c.cunlock);
    goc_waitgroup_wait(&c.cdone);
    CHECK(c.m.reader_count == 0);
}

TEST(TestParallelReaders)
{
    do_test_parallel_readers(1);
    do_test_parallel_readers(3);
    do_test_parallel_readers(4);
    do_test_parallel_readers(SCALE_LIVE(1000));
}

/* ---- TestRWMutex ---- */

struct hammer_ctx {
    goc_rwmutex rwm;
    atomic_int activity; /* active readers + 10000 * active writers */
    atomic_int bad;
    int iterations;
    goc_waitgroup cdone;
};

static void spin100(void)
{
    for (volatile int i = 0; i < 100; i++) {
    }
}

static void reader(void *arg)
{
    struct hammer_ctx *c = arg;
    for (int i = 0; i < c->iterations; i++) {
        goc_rwmutex_rlock(&c->rwm);
        int n = atomic_fetch_add(&c->activity, 1) + 1;
        if (n < 1 || n >= 10000)
            atomic_fetch_add(&c->bad, 1);
        spin100();
        atomic_fetch_sub(&c->activity, 1);
        goc_rwmutex_runlock(&c->rwm);
        if (i % 16 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&c->cdone);
}

static void writer(void *arg)
{
    struct hammer_ctx *c = arg;
    for (int i = 0; i < c->iterations; i++) {
        goc_rwmutex_lock(&c->rwm);
        int n = atomic_fetch_add(&c->activity, 10000) + 10000;
        if (n != 10000)
            atomic_fetch_add(&c->bad, 1);
        spin100();
        atomic_fetch_sub(&c->activity, 10000);
        goc_rwmutex_unlock(&c->rwm);
        if (i % 16 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&c->cdone);
}

static void hammer_rwmutex(int num_readers, int iterations)
{
    static struct hammer_ctx c;
    memset(&c, 0, sizeof c);
    goc_rwmutex_init(&c.rwm);
    c.iterations = iterations;
    goc_waitgroup_add(&c.cdone, 2 + num_readers);
    CHECK(goc_go(writer, &c) > 0);
    int i;
    for (i = 0; i < num_readers / 2; i++)
        CHECK(goc_go(reader, &c) > 0);
    CHECK(goc_go(writer, &c) > 0);
    for (; i < num_readers; i++)
        CHECK(goc_go(reader, &c) > 0);
    goc_waitgroup_wait(&c.cdone);
    CHECK(atomic_load(&c.bad) == 0);
    CHECK(atomic_load(&c.activity) == 0);
}

TEST(TestRWMutex)
{
    goc_rwmutex m = GOC_RWMUTEX_INIT;
    goc_rwmutex_lock(&m);
    CHECK(!goc_rwmutex_trylock(&m));  /* TryLock succeeded with mutex locked */
    CHECK(!goc_rwmutex_tryrlock(&m)); /* TryRLock succeeded with mutex locked */
    goc_rwmutex_unlock(&m);
    CHECK(goc_rwmutex_trylock(&m)); /* TryLock failed with mutex unlocked */
    goc_rwmutex_unlock(&m);
    CHECK(goc_rwmutex_tryrlock(&m)); /* TryRLock failed with mutex unlocked */
    CHECK(goc_rwmutex_tryrlock(&m)); /* TryRLock failed with mutex rlocked */
    CHECK(!goc_rwmutex_trylock(&m)); /* TryLock succeeded with mutex rlocked */
    goc_rwmutex_runlock(&m);
    goc_rwmutex_runlock(&m);

    int n = SCALE(1000) < 20 ? 20 : SCALE(1000);
    hammer_rwmutex(1, n);
    hammer_rwmutex(3, n);
    hammer_rwmutex(10, n);
    hammer_rwmutex(5, n);
    hammer_rwmutex(4 * goc_maxprocs(0), n);
}

/* ---- Read holds that move ----
 *
 * Readers that park while they hold the lock (and so may resume on another
 * worker), many of them at once, read locks handed to a plain thread to
 * release (Go allows another goroutine to), a plain thread reading beside
 * them, in two phases: writers that only write, then writers that read a
 * hundred times per write. Writers check they are alone; readers check no
 * writer is in; at the end nothing holds the mutex. (Written for a design
 * that counted read locks per worker, where a hold released elsewhere must
 * be found; it caught that design's deadlock, docs/benchmarks.md.) */

struct move_ctx {
    goc_rwmutex m;
    atomic_int activity; /* active readers + 10000 * active writers */
    atomic_int bad;
    int iterations, reads_per_write;
    goc_chan *handoff;   /* read holds passed to handoff_runlocker */
    goc_waitgroup done;
};

static void move_read_in(struct move_ctx *c)
{
    int n = atomic_fetch_add(&c->activity, 1) + 1;
    if (n < 1 || n >= 10000)
        atomic_fetch_add(&c->bad, 1);
}

static void move_reader(void *arg)
{
    struct move_ctx *c = arg;
    for (int i = 0; i < c->iterations; i++) {
        goc_rwmutex_rlock(&c->m);
        move_read_in(c);
        if (i % 3 == 0)
            goc_sleep(1000); /* parks holding it: may come back elsewhere */
        else if (i % 3 == 1)
            goc_yield();
        atomic_fetch_sub(&c->activity, 1);
        goc_rwmutex_runlock(&c->m);
    }
    goc_waitgroup_done(&c->done);
}

static void handoff_reader(void *arg)
{
    struct move_ctx *c = arg;
    for (int i = 0; i < c->iterations; i++) {
        goc_rwmutex_rlock(&c->m);
        move_read_in(c);
        int one = 1;
        goc_chan_send(c->handoff, &one);
    }
    goc_waitgroup_done(&c->done);
}

/* A plain thread (no worker, so no slots of its own): it releases read
 * holds that goroutines took in their workers' slots. */
static void *handoff_runlocker(void *arg)
{
    struct move_ctx *c = arg;
    int v;
    while (goc_chan_recv(c->handoff, &v)) {
        atomic_fetch_sub(&c->activity, 1);
        goc_rwmutex_runlock(&c->m);
    }
    return NULL;
}

static void move_writer(void *arg)
{
    struct move_ctx *c = arg;
    for (int i = 0; i < c->iterations; i++) {
        goc_rwmutex_lock(&c->m);
        if (atomic_fetch_add(&c->activity, 10000) + 10000 != 10000)
            atomic_fetch_add(&c->bad, 1);
        atomic_fetch_sub(&c->activity, 10000);
        goc_rwmutex_unlock(&c->m);
        for (int r = 0; r < c->reads_per_write; r++) {
            goc_rwmutex_rlock(&c->m);
            move_read_in(c);
            atomic_fetch_sub(&c->activity, 1);
            goc_rwmutex_runlock(&c->m);
        }
        goc_yield();
    }
    goc_waitgroup_done(&c->done);
}

static void *move_thread(void *arg)
{
    struct move_ctx *c = arg;
    for (int i = 0; i < c->iterations; i++) {
        goc_rwmutex_rlock(&c->m);
        move_read_in(c);
        atomic_fetch_sub(&c->activity, 1);
        goc_rwmutex_runlock(&c->m);
    }
    return NULL;
}

/* Some worker's read slot (rwmutex.c) holds m. */
static bool slot_holds(goc_rwmutex *m)
{
    for (int i = 0; i < goc__sched_nallp(); i++)
        for (int k = 0; k < GOC_RSLOTS; k++)
            if ((atomic_load(&goc__sched_allp(i)->rslot[k]) & ~(uintptr_t)1) == (uintptr_t)m)
                return true;
    return false;
}

TEST(rwmutex_moving_readers)
{
    static struct move_ctx c;
    int nreaders = 4 * GOC_RSLOTS; /* more than a worker's slots */
    for (int phase = 0; phase < 2; phase++) {
        memset(&c, 0, sizeof c);
        goc_rwmutex_init(&c.m);
        c.iterations = SCALE(200) < 20 ? 20 : SCALE(200);
        c.reads_per_write = phase == 0 ? 0 : 100;
        c.handoff = goc_chan_make(sizeof(int), 4);
        /* goc_thread_start, not pthread_create: goc counts the threads
         * from here on, so goroutines waiting for what they are about to
         * do are not taken for deadlocked (docs/runtime.md). */
        pthread_t t, h;
        CHECK(goc_thread_start(&h, handoff_runlocker, &c) == 0);
        CHECK(goc_thread_start(&t, move_thread, &c) == 0);
        goc_waitgroup_add(&c.done, nreaders + 2 + 2);
        for (int i = 0; i < nreaders; i++)
            CHECK(goc_go(move_reader, &c) > 0);
        CHECK(goc_go(move_writer, &c) > 0);
        CHECK(goc_go(move_writer, &c) > 0);
        CHECK(goc_go(handoff_reader, &c) > 0);
        CHECK(goc_go(handoff_reader, &c) > 0);
        goc_waitgroup_wait(&c.done);
        goc_chan_close(c.handoff);
        CHECK(pthread_join(h, NULL) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        goc_chan_release(c.handoff);
        CHECK(atomic_load(&c.bad) == 0);
        CHECK(atomic_load(&c.activity) == 0);
        CHECK(c.m.reader_count == 0);
        CHECK(!slot_holds(&c.m));
        /* The mutex is free: a writer gets it at once. */
        CHECK(goc_rwmutex_trylock(&c.m));
        goc_rwmutex_unlock(&c.m);
    }
}

/* ---- Writer preference: a pending writer stops new readers ---- */

struct pref_ctx {
    goc_rwmutex m;
    atomic_int order; /* who got in, in turn */
    atomic_int writer_turn, reader2_turn;
    goc_waitgroup done;
};

static void pref_writer(void *arg)
{
    struct pref_ctx *c = arg;
    goc_rwmutex_lock(&c->m);
    atomic_store(&c->writer_turn, atomic_fetch_add(&c->order, 1) + 1);
    goc_rwmutex_unlock(&c->m);
    goc_waitgroup_done(&c->done);
}

static void pref_reader2(void *arg)
{
    struct pref_ctx *c = arg;
    goc_rwmutex_rlock(&c->m);
    atomic_store(&c->reader2_turn, atomic_fetch_add(&c->order, 1) + 1);
    goc_rwmutex_runlock(&c->m);
    goc_waitgroup_done(&c->done);
}

static int64_t pending_waitq(goc__waitq *q)
{
    return __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) != NULL;
}

TEST(rwmutex_writer_preference)
{
    static struct pref_ctx c;
    memset(&c, 0, sizeof c);
    goc_rwmutex_init(&c.m);
    goc_rwmutex_rlock(&c.m); /* reader 1: us */
    goc_waitgroup_add(&c.done, 2);
    CHECK(goc_go(pref_writer, &c) > 0);
    /* Wait (bounded) until the writer has announced itself. */
    int64_t deadline = goc__nanotime() + WAIT_LIMIT_NS;
    while (__atomic_load_n(&c.m.reader_count, __ATOMIC_ACQUIRE) >= 0 &&
           goc__nanotime() < deadline)
        goc_yield();
    CHECK(__atomic_load_n(&c.m.reader_count, __ATOMIC_ACQUIRE) < 0);
    CHECK(!goc_rwmutex_tryrlock(&c.m)); /* a new reader may not pass a pending writer */
    CHECK(goc_go(pref_reader2, &c) > 0);
    /* Wait (bounded) until reader 2 is parked behind the writer. */
    while (!pending_waitq(&c.m.reader_sem) && goc__nanotime() < deadline)
        goc_yield();
    CHECK(pending_waitq(&c.m.reader_sem));
    CHECK(atomic_load(&c.order) == 0);
    goc_rwmutex_runlock(&c.m);
    goc_waitgroup_wait(&c.done);
    CHECK(atomic_load(&c.writer_turn) == 1);
    CHECK(atomic_load(&c.reader2_turn) == 2);
}

/* ---- Seed 000: the bank with an RWMutex (Balance reads, Deposit writes) ---- */

static goc_rwmutex bank_mu = GOC_RWMUTEX_INIT;
static long bank_a, bank_b; /* guarded by bank_mu; a + b is constant */
static atomic_int bank_bad;
static goc_waitgroup bank_wg = GOC_WAITGROUP_INIT;

static void bank_transfer(void *arg)
{
    long amount = (long)(intptr_t)arg;
    for (int i = 0; i < SCALE(2000); i++) {
        goc_rwmutex_lock(&bank_mu);
        bank_a -= amount;
        bank_b += amount;
        goc_rwmutex_unlock(&bank_mu);
        if (i % 8 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&bank_wg);
}

static void bank_audit(void *arg)
{
    (void)arg;
    for (int i = 0; i < SCALE(5000); i++) {
        goc_rwmutex_rlock(&bank_mu);
        if (bank_a + bank_b != 1000000)
            atomic_fetch_add(&bank_bad, 1);
        goc_rwmutex_runlock(&bank_mu);
        if (i % 8 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&bank_wg);
}

TEST(seed_bank_rwmutex)
{
    bank_a = 1000000;
    bank_b = 0;
    int nw = 2 * goc_maxprocs(0), nr = 8 * goc_maxprocs(0);
    goc_waitgroup_add(&bank_wg, nw + nr);
    for (int i = 0; i < nr; i++)
        CHECK(goc_go(bank_audit, NULL) > 0);
    for (int i = 0; i < nw; i++)
        CHECK(goc_go(bank_transfer, (void *)(intptr_t)(i % 2 ? 3 : -2)) > 0);
    goc_waitgroup_wait(&bank_wg);
    CHECK(atomic_load(&bank_bad) == 0);
    CHECK(bank_a + bank_b == 1000000);
}

/* ---- Wait reasons in the deadlock dump (children) ---- */

static char child_out[65536];

static int sc_writer_waits(int argc, char **argv)
{
    (void)argc, (void)argv;
    static goc_rwmutex m = GOC_RWMUTEX_INIT;
    goc_rwmutex_rlock(&m);
    goc_rwmutex_lock(&m); /* waits for its own read lock */
    return 0;
}

static int sc_reader_waits(int argc, char **argv)
{
    (void)argc, (void)argv;
    static goc_rwmutex m = GOC_RWMUTEX_INIT;
    goc_rwmutex_lock(&m);
    goc_rwmutex_rlock(&m);
    return 0;
}

static void check_deadlock(const char *scenario, const char *reason)
{
    int st = run_child(scenario, NULL, child_out, sizeof child_out);
    int before = test_failures_now;
    CHECK(st == 2);
    CHECK(strstr(child_out, "fatal error: all goroutines are asleep - deadlock!\n") != NULL);
    CHECK(strstr(child_out, reason) != NULL);
    if (test_failures_now != before)
        fprintf(stderr, "child %s: status %d, output:\n%s\n", scenario, st, child_out);
}

TEST(rwmutex_wait_reasons)
{
    check_deadlock("writer_waits", "[sync.RWMutex.Lock");
    check_deadlock("reader_waits", "[sync.RWMutex.RLock");
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(TestParallelReaders);
    RUN(TestRWMutex);
    RUN(rwmutex_moving_readers);
    RUN(rwmutex_writer_preference);
    RUN(seed_bank_rwmutex);
    RUN(rwmutex_wait_reasons);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"writer_waits", sc_writer_waits},
        {"reader_waits", sc_reader_waits},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
