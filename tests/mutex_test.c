/* mutex_test.c: sync.Mutex. Ports of Go's sync/mutex_test.go (TestMutex,
 * TestMutexFairness, TestMutexMisuse with the RWMutex cases Go keeps
 * there), then the seeds' programs: a bank whose total never changes under
 * concurrent transfers on every worker, the seed 000 bank (Deposit and
 * Balance), seed 004's counters ending at exactly 20,000, the Withdraw
 * self-deadlock reported by deadlock detection, and plain threads sharing a
 * mutex with goroutines.
 *
 * Go's tests use channels to join; these use WaitGroups (and seed 004's
 * channel-as-mutex counter comes with the channel tests).
 */
#include <pthread.h>

#include "internal.h"
#include "test.h"

#define WAIT_LIMIT_NS (10LL * 1000000000LL)

/* Busy for about ns nanoseconds, yielding: Go's tests sleep here, which
 * lets the other goroutines run; so does this. Timing, not synchronisation. */
static void busy_yield(int64_t ns)
{
    int64_t end = goc__nanotime() + ns;
    while (goc__nanotime() < end)
        goc_yield();
}

/* ---- TestMutex ---- */

struct hammer_ctx {
    goc_mutex m;
    goc_waitgroup wg;
    long inside; /* plain: the mutex guards it */
    long total;
    int loops;
};

static void hammer_mutex(void *arg)
{
    struct hammer_ctx *c = arg;
    for (int i = 0; i < c->loops; i++) {
        if (i % 3 == 0) {
            if (goc_mutex_trylock(&c->m)) {
                c->inside++;
                c->total++;
                c->inside--;
                goc_mutex_unlock(&c->m);
            }
            continue;
        }
        goc_mutex_lock(&c->m);
        c->inside++;
        if (c->inside != 1)
            c->total = -1000000000L; /* two inside at once */
        c->total++;
        c->inside--;
        goc_mutex_unlock(&c->m);
        if (i % 64 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&c->wg);
}

TEST(TestMutex)
{
    static struct hammer_ctx c;
    memset(&c, 0, sizeof c);
    goc_mutex_init(&c.m);
    goc_mutex_lock(&c.m);
    CHECK(!goc_mutex_trylock(&c.m)); /* TryLock succeeded with mutex locked */
    goc_mutex_unlock(&c.m);
    CHECK(goc_mutex_trylock(&c.m)); /* TryLock failed with mutex unlocked */
    goc_mutex_unlock(&c.m);

    c.loops = SCALE(1000) < 100 ? 100 : SCALE(1000);
    int n = 10 * goc_maxprocs(0);
    goc_waitgroup_add(&c.wg, n);
    for (int i = 0; i < n; i++)
        CHECK(goc_go(hammer_mutex, &c) > 0);
    goc_waitgroup_wait(&c.wg);
    CHECK(c.inside == 0);
    CHECK(c.total > 0);
    /* Every Lock (2 of 3 iterations) got in. */
    long locks = 0;
    for (int i = 0; i < c.loops; i++)
        locks += i % 3 != 0;
    CHECK(c.total >= locks * n);
    CHECK(c.m.state == 0);
}

/* ---- TestMutexFairness ---- */

struct fair_ctx {
    goc_mutex mu;
    atomic_int stop;
    atomic_int done;
    goc_waitgroup wg;
};

static void fair_hog(void *arg)
{
    struct fair_ctx *c = arg;
    /* Holds the mutex nearly all the time, for 100 us at a stretch. */
    while (!atomic_load(&c->stop)) {
        goc_mutex_lock(&c->mu);
        busy_yield(100000);
        goc_mutex_unlock(&c->mu);
    }
    goc_waitgroup_done(&c->wg);
}

static void fair_visitor(void *arg)
{
    struct fair_ctx *c = arg;
    for (int i = 0; i < 10; i++) {
        busy_yield(100000);
        goc_mutex_lock(&c->mu);
        goc_mutex_unlock(&c->mu);
    }
    atomic_store(&c->done, 1);
    goc_waitgroup_done(&c->wg);
}

TEST(TestMutexFairness)
{
    static struct fair_ctx c;
    memset(&c, 0, sizeof c);
    goc_mutex_init(&c.mu);
    goc_waitgroup_init(&c.wg);
    goc_waitgroup_add(&c.wg, 2);
    CHECK(goc_go(fair_hog, &c) > 0);
    CHECK(goc_go(fair_visitor, &c) > 0);
    /* Bounded wait: "can't acquire Mutex in 10 seconds". */
    int64_t deadline = goc__nanotime() + WAIT_LIMIT_NS;
    while (!atomic_load(&c.done) && goc__nanotime() < deadline)
        goc_yield();
    CHECK(atomic_load(&c.done));
    atomic_store(&c.stop, 1);
    if (atomic_load(&c.done))
        goc_waitgroup_wait(&c.wg);
}

/* ---- Starvation mode under load on every worker ---- */

struct starve_ctx {
    goc_mutex mu;
    goc_waitgroup wg;
    long count; /* guarded by mu */
    int loops;
    atomic_int saw_starving; /* the state had its starvation bit */
};

static void starve_body(void *arg)
{
    struct starve_ctx *c = arg;
    for (int i = 0; i < c->loops; i++) {
        goc_mutex_lock(&c->mu);
        c->count++;
        if (__atomic_load_n(&c->mu.state, __ATOMIC_RELAXED) & GOC__MUTEX_STARVING)
            atomic_store(&c->saw_starving, 1);
        /* A long critical section now and then pushes waiters past 1 ms. */
        if (i % 50 == 0) {
            int64_t end = goc__nanotime() + 1500000;
            while (goc__nanotime() < end)
                goc_yield();
        }
        goc_mutex_unlock(&c->mu);
    }
    goc_waitgroup_done(&c->wg);
}

TEST(mutex_starvation_mode)
{
    static struct starve_ctx c;
    /* Whether a waiter ends up past 1 ms *and* beaten to the lock is a
     * matter of timing: a few rounds, each checked for exactness. */
    for (int round = 0; round < 5; round++) {
        memset(&c, 0, sizeof c);
        goc_mutex_init(&c.mu);
        c.loops = 200;
        int n = 4 * goc_maxprocs(0);
        goc_waitgroup_add(&c.wg, n);
        for (int i = 0; i < n; i++)
            CHECK(goc_go(starve_body, &c) > 0);
        goc_waitgroup_wait(&c.wg);
        CHECK(c.count == (long)n * c.loops);
        CHECK(c.mu.state == 0);
        if (atomic_load(&c.saw_starving))
            break;
    }
    CHECK(atomic_load(&c.saw_starving)); /* waiters past 1 ms got the lock handed over */
}

/* ---- TestMutexMisuse (a fatal error ends the process: children) ---- */

static char child_out[65536];

static const struct misuse {
    const char *name;
    const char *want;
} misuses[] = {
    {"Mutex.Unlock", "fatal error: sync: unlock of unlocked mutex\n"},
    {"Mutex.Unlock2", "fatal error: sync: unlock of unlocked mutex\n"},
    {"RWMutex.Unlock", "fatal error: sync: Unlock of unlocked RWMutex\n"},
    {"RWMutex.Unlock2", "fatal error: sync: Unlock of unlocked RWMutex\n"},
    {"RWMutex.Unlock3", "fatal error: sync: Unlock of unlocked RWMutex\n"},
    {"RWMutex.RUnlock", "fatal error: sync: RUnlock of unlocked RWMutex\n"},
    {"RWMutex.RUnlock2", "fatal error: sync: RUnlock of unlocked RWMutex\n"},
    {"RWMutex.RUnlock3", "fatal error: sync: RUnlock of unlocked RWMutex\n"},
};

static int misuse_main(int argc, char **argv)
{
    (void)argc;
    const char *name = argv[2];
    goc_mutex mu = GOC_MUTEX_INIT;
    goc_rwmutex rw = GOC_RWMUTEX_INIT;
    if (strcmp(name, "Mutex.Unlock") == 0) {
        goc_mutex_unlock(&mu);
    } else if (strcmp(name, "Mutex.Unlock2") == 0) {
        goc_mutex_lock(&mu);
        goc_mutex_unlock(&mu);
        goc_mutex_unlock(&mu);
    } else if (strcmp(name, "RWMutex.Unlock") == 0) {
        goc_rwmutex_unlock(&rw);
    } else if (strcmp(name, "RWMutex.Unlock2") == 0) {
        goc_rwmutex_rlock(&rw);
        goc_rwmutex_unlock(&rw);
    } else if (strcmp(name, "RWMutex.Unlock3") == 0) {
        goc_rwmutex_lock(&rw);
        goc_rwmutex_unlock(&rw);
        goc_rwmutex_unlock(&rw);
    } else if (strcmp(name, "RWMutex.RUnlock") == 0) {
        goc_rwmutex_runlock(&rw);
    } else if (strcmp(name, "RWMutex.RUnlock2") == 0) {
        goc_rwmutex_lock(&rw);
        goc_rwmutex_runlock(&rw);
    } else if (strcmp(name, "RWMutex.RUnlock3") == 0) {
        goc_rwmutex_rlock(&rw);
        goc_rwmutex_runlock(&rw);
        goc_rwmutex_runlock(&rw);
    } else {
        fprintf(stderr, "unknown misuse %s\n", name);
        return 3;
    }
    fprintf(stderr, "did not fail\n");
    return 0;
}

static int run_child_arg(const char *scenario, const char *arg)
{
    /* run_child passes one argument; the misuse name goes by environment. */
    char env[128];
    snprintf(env, sizeof env, "GOC_TEST_ARG=%s", arg);
    const char *envs[] = {env, NULL};
    return run_child(scenario, envs, child_out, sizeof child_out);
}

TEST(TestMutexMisuse)
{
    for (size_t i = 0; i < sizeof misuses / sizeof misuses[0]; i++) {
        int st = run_child_arg("misuse", misuses[i].name);
        int before = test_failures_now;
        CHECK(st == 2);
        CHECK(strstr(child_out, misuses[i].want) != NULL);
        CHECK(strstr(child_out, "did not fail") == NULL);
        if (test_failures_now != before)
            fprintf(stderr, "%s: status %d, output:\n%s\n", misuses[i].name, st, child_out);
    }
}

/* ---- A bank whose total never changes: transfers on every worker ---- */

#define NACCOUNTS 16
#define INITIAL 1000

struct bank {
    goc_mutex mu[NACCOUNTS];
    long balance[NACCOUNTS]; /* balance[i] guarded by mu[i] */
    goc_waitgroup wg;
    atomic_int audits_bad;
    atomic_int stop_audit;
    int transfers;
};

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct teller_arg {
    struct bank *b;
    uint64_t seed;
};

static void teller(void *arg)
{
    struct teller_arg *t = arg;
    struct bank *b = t->b;
    for (int i = 0; i < b->transfers; i++) {
        int from = (int)(rng_next(&t->seed) % NACCOUNTS);
        int to = (int)(rng_next(&t->seed) % NACCOUNTS);
        if (from == to)
            continue;
        long amount = (long)(rng_next(&t->seed) % 50);
        /* Lock in account order: no lock-order deadlock. */
        int lo = from < to ? from : to, hi = from < to ? to : from;
        goc_mutex_lock(&b->mu[lo]);
        goc_mutex_lock(&b->mu[hi]);
        if (b->balance[from] >= amount) {
            b->balance[from] -= amount;
            b->balance[to] += amount;
        }
        goc_mutex_unlock(&b->mu[hi]);
        goc_mutex_unlock(&b->mu[lo]);
        if (i % 16 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&b->wg);
}

static void auditor(void *arg)
{
    struct bank *b = arg;
    for (int round = 0; round < 100000 && !atomic_load(&b->stop_audit); round++) {
        long sum = 0;
        for (int i = 0; i < NACCOUNTS; i++)
            goc_mutex_lock(&b->mu[i]);
        for (int i = 0; i < NACCOUNTS; i++)
            sum += b->balance[i];
        for (int i = NACCOUNTS - 1; i >= 0; i--)
            goc_mutex_unlock(&b->mu[i]);
        if (sum != (long)NACCOUNTS * INITIAL)
            atomic_fetch_add(&b->audits_bad, 1);
        goc_yield();
    }
}

TEST(mutex_bank_total_constant)
{
    static struct bank b;
    static struct teller_arg args[256];
    memset(&b, 0, sizeof b);
    for (int i = 0; i < NACCOUNTS; i++) {
        goc_mutex_init(&b.mu[i]);
        b.balance[i] = INITIAL;
    }
    b.transfers = SCALE(20000);
    int n = 8 * goc_maxprocs(0);
    if (n > 256)
        n = 256;
    /* b.wg joins the tellers; the auditor runs until they are done. */
    static goc_waitgroup audit_wg;
    goc_waitgroup_init(&audit_wg);
    CHECK(goc_waitgroup_go(&audit_wg, auditor, &b) > 0);
    goc_waitgroup_add(&b.wg, n);
    for (int i = 0; i < n; i++) {
        args[i] = (struct teller_arg){&b, 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1)};
        CHECK(goc_go(teller, &args[i]) > 0);
    }
    goc_waitgroup_wait(&b.wg);
    atomic_store(&b.stop_audit, 1);
    goc_waitgroup_wait(&audit_wg);
    long sum = 0;
    for (int i = 0; i < NACCOUNTS; i++)
        sum += b.balance[i];
    CHECK(sum == (long)NACCOUNTS * INITIAL);
    CHECK(atomic_load(&b.audits_bad) == 0);
}

/* ---- Seed 000: the bank with Deposit and Balance ---- */

static goc_mutex bank_mu = GOC_MUTEX_INIT;
static long bank_balance; /* guarded by bank_mu */

static void deposit(long amount)
{
    goc_mutex_lock(&bank_mu);
    bank_balance += amount;
    goc_mutex_unlock(&bank_mu);
}

static long balance(void)
{
    goc_mutex_lock(&bank_mu);
    long b = bank_balance;
    goc_mutex_unlock(&bank_mu);
    return b;
}

static goc_waitgroup seed_wg = GOC_WAITGROUP_INIT;

static void depositor(void *arg)
{
    deposit((long)(intptr_t)arg);
    goc_waitgroup_done(&seed_wg);
}

TEST(seed_bank_deposit_balance)
{
    bank_balance = 0;
    int n = SCALE_LIVE(1000);
    long want = 0;
    goc_waitgroup_add(&seed_wg, n);
    for (int i = 1; i <= n; i++) {
        want += i;
        CHECK(goc_go(depositor, (void *)(intptr_t)i) > 0);
    }
    goc_waitgroup_wait(&seed_wg);
    CHECK(balance() == want);
}

/* ---- Seed 004: counters with atomics and a mutex, exactly 20,000 ---- */

static goc_waitgroup counter_wg = GOC_WAITGROUP_INIT;
static atomic_int atomic_counter;
static goc_mutex counter_mu = GOC_MUTEX_INIT;
static int mutex_counter; /* guarded by counter_mu */

static void atomic_int_counter(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++)
        atomic_fetch_add(&atomic_counter, 1);
    goc_waitgroup_done(&counter_wg);
}

static void mutex_int_counter(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10000; i++) {
        goc_mutex_lock(&counter_mu);
        mutex_counter++;
        goc_mutex_unlock(&counter_mu);
        if (i % 256 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&counter_wg);
}

TEST(seed_counters_20000)
{
    atomic_store(&atomic_counter, 0);
    goc_waitgroup_add(&counter_wg, 2);
    CHECK(goc_go(atomic_int_counter, NULL) > 0);
    CHECK(goc_go(atomic_int_counter, NULL) > 0);
    goc_waitgroup_wait(&counter_wg);
    CHECK(atomic_load(&atomic_counter) == 20000);

    mutex_counter = 0;
    goc_waitgroup_add(&counter_wg, 2);
    CHECK(goc_go(mutex_int_counter, NULL) > 0);
    CHECK(goc_go(mutex_int_counter, NULL) > 0);
    goc_waitgroup_wait(&counter_wg);
    goc_mutex_lock(&counter_mu);
    CHECK(mutex_counter == 20000);
    goc_mutex_unlock(&counter_mu);
}

/* ---- Seed 000: Withdraw locks the mutex twice: deadlock detected ---- */

static void withdraw_deposit(long amount)
{
    goc_mutex_lock(&bank_mu);
    bank_balance += amount;
    goc_mutex_unlock(&bank_mu);
}

static bool withdraw(long amount)
{
    goc_mutex_lock(&bank_mu);
    withdraw_deposit(-amount); /* locks bank_mu again: waits forever */
    bool ok = bank_balance >= 0;
    if (!ok)
        withdraw_deposit(amount);
    goc_mutex_unlock(&bank_mu);
    return ok;
}

static int withdraw_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    withdraw_deposit(100);
    withdraw(50);
    fprintf(stderr, "withdraw returned\n");
    return 0;
}

TEST(seed_withdraw_self_deadlock)
{
    int st = run_child("withdraw", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, "fatal error: all goroutines are asleep - deadlock!\n") != NULL);
    CHECK(strstr(child_out, "sync.Mutex.Lock") != NULL); /* the wait reason in the dump */
    CHECK(strstr(child_out, "withdraw returned") == NULL);
    if (test_failures_now)
        fprintf(stderr, "child: status %d, output:\n%s\n", st, child_out);
}

/* ---- Plain threads and goroutines share a mutex ---- */

struct mixed_ctx {
    goc_mutex mu;
    long count; /* guarded by mu */
    int loops;
    goc_waitgroup wg;
};

static void mixed_goroutine(void *arg)
{
    struct mixed_ctx *c = arg;
    for (int i = 0; i < c->loops; i++) {
        goc_mutex_lock(&c->mu);
        c->count++;
        goc_mutex_unlock(&c->mu);
        if (i % 32 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&c->wg);
}

static atomic_int threads_known;

static void *mixed_thread(void *arg)
{
    struct mixed_ctx *c = arg;
    /* Known to goc before goroutine 1 waits: deadlock detection then
     * counts this thread as one that may still wake it. */
    (void)goc_id();
    atomic_fetch_add(&threads_known, 1);
    for (int i = 0; i < c->loops; i++) {
        goc_mutex_lock(&c->mu);
        c->count++;
        goc_mutex_unlock(&c->mu);
    }
    goc_waitgroup_done(&c->wg);
    return NULL;
}

TEST(mutex_plain_threads)
{
    static struct mixed_ctx c;
    memset(&c, 0, sizeof c);
    goc_mutex_init(&c.mu);
    c.loops = SCALE(20000);
    enum { NT = 3, NG = 8 };
    pthread_t th[NT];
    goc_waitgroup_add(&c.wg, NT + NG);
    atomic_store(&threads_known, 0);
    for (int i = 0; i < NT; i++)
        CHECK(pthread_create(&th[i], NULL, mixed_thread, &c) == 0);
    int64_t deadline = goc__nanotime() + WAIT_LIMIT_NS;
    while (atomic_load(&threads_known) < NT && goc__nanotime() < deadline)
        goc_yield();
    for (int i = 0; i < NG; i++)
        CHECK(goc_go(mixed_goroutine, &c) > 0);
    goc_waitgroup_wait(&c.wg);
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    CHECK(c.count == (long)(NT + NG) * c.loops);
}

/* ---- The first waiters: plain unlocks end (mutex.c, "Unlocking") ---- */

/* Every round a fresh mutex, still unlocking with plain stores, is hit at
 * once by goroutines on every worker and by a plain thread: the first
 * waiter to count itself turns the plain unlocks off while others unlock
 * and count themselves around it. A waiter that no unlock saw would never
 * be woken: the round would hang (and deadlock detection or the test's
 * time limit would say so). Some goroutines lock with a context that ends
 * mid-round, so that waiters also leave around the switch. Checked: one
 * holder at a time, every lock that returned counted, and the mutex
 * unlocked, no waiter counted, at the end of each round. */
struct first_ctx {
    goc_mutex mu;
    goc_chan *start;   /* closed to start the round */
    goc_ctx *ctx;      /* cancelled mid-round */
    goc_waitgroup wg;
    long inside, count; /* guarded by mu */
    atomic_long locks;  /* locks that returned 0 */
    int loops;
};

static void first_lock_loop(struct first_ctx *c, bool with_ctx)
{
    for (int i = 0; i < c->loops; i++) {
        if (with_ctx && i % 2) {
            if (goc_mutex_lock_ctx(&c->mu, c->ctx) != 0)
                continue;
        } else {
            goc_mutex_lock(&c->mu);
        }
        atomic_fetch_add(&c->locks, 1);
        if (++c->inside != 1)
            c->count = -1000000000L; /* two holders at once */
        c->count++;
        if (i % 4 == 0)
            goc_yield(); /* others queue behind the holder */
        c->inside--;
        goc_mutex_unlock(&c->mu);
    }
}

static void first_goroutine(void *arg)
{
    struct first_ctx *c = arg;
    goc_chan_recv(c->start, NULL);
    first_lock_loop(c, (goc_id() & 1) != 0);
    goc_waitgroup_done(&c->wg);
}

static void *first_thread(void *arg)
{
    struct first_ctx *c = arg;
    goc_chan_recv(c->start, NULL);
    first_lock_loop(c, false);
    goc_waitgroup_done(&c->wg);
    return NULL;
}

static void first_cancel(void *arg)
{
    struct first_ctx *c = arg;
    goc_chan_recv(c->start, NULL);
    for (int i = 0; i < 20; i++)
        goc_yield();
    goc_cancel(c->ctx);
    goc_waitgroup_done(&c->wg);
}

TEST(mutex_first_waiters)
{
    static struct first_ctx c;
    int rounds = SCALE(1500) < 30 ? 30 : SCALE(1500);
    int n = 4 * goc_maxprocs(0), shared_rounds = 0;
    for (int r = 0; r < rounds; r++) {
        memset(&c, 0, sizeof c);
        goc_mutex_init(&c.mu);
        c.loops = 50;
        c.start = goc_chan_make(0, 0);
        c.ctx = goc_with_cancel(goc_background());
        goc_waitgroup_add(&c.wg, n + 2);
        for (int i = 0; i < n; i++)
            CHECK(goc_go(first_goroutine, &c) > 0);
        CHECK(goc_go(first_cancel, &c) > 0);
        pthread_t t;
        CHECK(goc_thread_start(&t, first_thread, &c) == 0);
        goc_chan_close(c.start);
        goc_waitgroup_wait(&c.wg);
        pthread_join(t, NULL);
        CHECK(c.count == atomic_load(&c.locks));
        CHECK(c.inside == 0);
        CHECK(__atomic_load_n(&c.mu.state, __ATOMIC_ACQUIRE) == 0);
        shared_rounds += c.mu.shared == 1;
        goc_ctx_release(c.ctx);
        goc_chan_release(c.start);
        if (test_failures_now)
            break;
    }
    /* A mutex nobody waited for still unlocks with plain stores; one that
     * had waiters does not (where membarrier is usable). A round may pass
     * without a waiter (under qemu one did: its threads seldom run at
     * once), but not all of them. */
    goc_mutex m = GOC_MUTEX_INIT;
    goc_mutex_lock(&m);
    goc_mutex_unlock(&m);
    CHECK(m.state == 0 && m.shared == 0);
    CHECK(shared_rounds > 0);
    fprintf(stderr, "  mutex_first_waiters: %d of %d rounds had waiters\n", shared_rounds, rounds);
}

/* ---- TSan sees a race once the mutex is left out (race build only) ---- */

static long racy_counter; /* no lock: a data race, on purpose */
static goc_waitgroup racy_wg = GOC_WAITGROUP_INIT;

static void racy_incr(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        racy_counter++;
        if (i % 16 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&racy_wg);
}

static int racy_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_waitgroup_add(&racy_wg, 4);
    for (int i = 0; i < 4; i++)
        goc_go(racy_incr, NULL);
    goc_waitgroup_wait(&racy_wg);
    printf("counter %ld\n", racy_counter);
    return 0;
}

TEST(mutex_race_reported_without_lock)
{
#if defined(GOC_SANITIZE_THREAD)
    int st = run_child("racy", NULL, child_out, sizeof child_out);
    CHECK(st == 66);
    CHECK(strstr(child_out, "WARNING: ThreadSanitizer: data race") != NULL);
    CHECK(strstr(child_out, "racy_incr") != NULL);
    if (test_failures_now)
        fprintf(stderr, "child: status %d, output:\n%s\n", st, child_out);
#endif
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(TestMutex);
    RUN(TestMutexFairness);
    RUN(mutex_starvation_mode);
    RUN(TestMutexMisuse);
    RUN(mutex_bank_total_constant);
    RUN(seed_bank_deposit_balance);
    RUN(seed_counters_20000);
    RUN(seed_withdraw_self_deadlock);
    RUN(mutex_plain_threads);
    RUN(mutex_first_waiters);
    RUN(mutex_race_reported_without_lock);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"withdraw", withdraw_main},
        {"racy", racy_main},
    };
    /* misuse takes its case from the environment as a third argument:
     * not a plain scenario. */
    if (argc > 1 && strcmp(argv[1], "misuse") == 0) {
        const char *name = getenv("GOC_TEST_ARG");
        char *args[] = {argv[0], argv[1], (char *)(name ? name : ""), NULL};
        return goc_main(misuse_main, 3, args);
    }
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
