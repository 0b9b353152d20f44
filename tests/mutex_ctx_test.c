/* mutex_ctx_test.c: goc_mutex_lock_ctx, sync.Mutex.Lock that a context can
 * end (issue 6). A free mutex is taken; a context that has ended fails the
 * call even when the mutex is free; a waiter under a holder gives up at its
 * timeout or on cancel, leaving the mutex as it found it (the holder's
 * unlock leaves state 0: no waiter counted, no WOKEN, no STARVING kept);
 * and a stress of goroutines mixing lock and lock_ctx with random timeouts
 * and cancels keeps mutual exclusion, ends (no wake-up lost, whether a
 * cancel meets a normal wake-up or a starvation-mode handoff) and leaves
 * state 0. Beneath them, the runtime semaphore's context-aware acquire
 * never both takes a unit and reports the context's error.
 */
#include <errno.h>

#include "internal.h"
#include "test.h"

static int32_t state_of(goc_mutex *m) { return __atomic_load_n(&m->state, __ATOMIC_ACQUIRE); }

/* Until the mutex's semaphore has a queued waiter. */
static void until_queued(goc_mutex *m)
{
    while (!__atomic_load_n(&m->sema.head, __ATOMIC_ACQUIRE))
        goc_yield();
}

TEST(lock_ctx_free_and_ended)
{
    goc_mutex m = GOC_MUTEX_INIT;
    goc_ctx *ctx = goc_with_cancel(goc_background());
    CHECK(goc_mutex_lock_ctx(&m, ctx) == 0);
    CHECK(!goc_mutex_trylock(&m));
    goc_mutex_unlock(&m);
    CHECK(goc_mutex_lock_ctx(&m, goc_background()) == 0);
    goc_mutex_unlock(&m);
    goc_cancel(ctx);
    /* Ended: fails even though the mutex is free, as every ctx form does. */
    CHECK(goc_mutex_lock_ctx(&m, ctx) == -ECANCELED);
    CHECK(state_of(&m) == 0);
    goc_ctx_release(ctx);
}

TEST(lock_ctx_timeout_under_holder)
{
    goc_mutex m = GOC_MUTEX_INIT;
    goc_mutex_lock(&m);
    for (int i = 0; i < 3; i++) {
        goc_ctx *t = goc_with_timeout(goc_background(), GOC_MILLISECOND);
        CHECK(goc_mutex_lock_ctx(&m, t) == -ETIMEDOUT);
        goc_ctx_release(t);
        CHECK(state_of(&m) == 1); /* locked, nobody counted as waiting */
    }
    goc_mutex_unlock(&m);
    CHECK(state_of(&m) == 0);
    /* Still a working mutex. */
    goc_mutex_lock(&m);
    CHECK(!goc_mutex_trylock(&m));
    goc_mutex_unlock(&m);
    CHECK(goc_mutex_trylock(&m));
    goc_mutex_unlock(&m);
}

struct waiter {
    goc_mutex *m;
    goc_ctx *ctx;
    int result;
    goc_chan *done;
};

static void waiter_body(void *arg)
{
    struct waiter *w = arg;
    int r = w->ctx ? goc_mutex_lock_ctx(w->m, w->ctx) : (goc_mutex_lock(w->m), 0);
    __atomic_store_n(&w->result, r, __ATOMIC_RELEASE);
    if (r == 0)
        goc_mutex_unlock(w->m);
    int one = 1;
    goc_chan_send(w->done, &one);
}

TEST(lock_ctx_cancel_wakes_waiter)
{
    goc_mutex m = GOC_MUTEX_INIT;
    goc_chan *done = goc_chan_make(sizeof(int), 3);
    goc_mutex_lock(&m);
    /* A plain waiter, then a cancellable one behind it, then another plain
     * one: cancelling the middle one wakes it alone; the others are still
     * served after the unlock. */
    struct waiter a = {&m, NULL, 99, done}, b = {&m, goc_with_cancel(goc_background()), 99, done},
                  c = {&m, NULL, 99, done};
    CHECK(goc_go(waiter_body, &a) > 0);
    until_queued(&m);
    CHECK(goc_go(waiter_body, &b) > 0);
    while (state_of(&m) >> GOC__MUTEX_WAITER_SHIFT < 2)
        goc_yield();
    CHECK(goc_go(waiter_body, &c) > 0);
    while (state_of(&m) >> GOC__MUTEX_WAITER_SHIFT < 3)
        goc_yield();
    goc_cancel(b.ctx);
    int x;
    CHECK(goc_chan_recv(done, &x));
    CHECK(b.result == -ECANCELED);
    CHECK(a.result == 99 && c.result == 99);
    goc_mutex_unlock(&m);
    CHECK(goc_chan_recv(done, &x));
    CHECK(goc_chan_recv(done, &x));
    CHECK(a.result == 0 && c.result == 0);
    CHECK(state_of(&m) == 0);
    goc_ctx_release(b.ctx);
    goc_chan_release(done);
}

/* A cancel that meets an unlock: the main goroutine cancels a queued
 * waiter and unlocks before the waiter runs again (it waits in the main
 * goroutine's worker's queue), so the unlock counts it off and wakes it (in
 * normal mode), or hands it the mutex (starvation mode), although it has
 * left the semaphore's queue. Either way the wake-up must not be lost: the
 * waiter returns 0 (holding the mutex) or the error, and the mutex ends up
 * free with nobody counted. */
static void busy_ms(int64_t ms)
{
    int64_t end = goc__nanotime() + ms * 1000000;
    while (goc__nanotime() < end)
        ;
}

TEST(lock_ctx_cancel_meets_unlock)
{
    goc_mutex m = GOC_MUTEX_INIT;
    goc_chan *done = goc_chan_make(sizeof(int), 2);
    int x, rounds = SCALE(40) < 10 ? 10 : SCALE(40);
    for (int i = 0; i < rounds; i++) {
        /* Normal mode: the waiter is the only one counted. */
        goc_mutex_lock(&m);
        struct waiter w = {&m, goc_with_cancel(goc_background()), 99, done};
        CHECK(goc_go(waiter_body, &w) > 0);
        until_queued(&m);
        goc_cancel(w.ctx);
        goc_mutex_unlock(&m);
        CHECK(goc_chan_recv(done, &x));
        CHECK(w.result == 0 || w.result == -ECANCELED);
        CHECK(state_of(&m) == 0);
        goc_ctx_release(w.ctx);

        /* Starvation mode: a plain waiter a woken after over 1 ms loses
         * the mutex to us and turns it starving; then a cancellable
         * waiter b queues behind it, is cancelled, and the mutex is handed
         * to a and from a to b's (empty) place. */
        goc_mutex_lock(&m);
        struct waiter a = {&m, NULL, 99, done};
        CHECK(goc_go(waiter_body, &a) > 0);
        until_queued(&m);
        busy_ms(2);
        goc_mutex_unlock(&m);
        goc_mutex_lock(&m); /* before a runs, as a rule: it waits in our queue */
        struct waiter b = {&m, goc_with_cancel(goc_background()), 99, done};
        CHECK(goc_go(waiter_body, &b) > 0);
        /* Until b is counted, and a too unless it has been and gone (it
         * may have run before we locked again). */
        while (state_of(&m) >> GOC__MUTEX_WAITER_SHIFT <
               (__atomic_load_n(&a.result, __ATOMIC_ACQUIRE) == 0 ? 1 : 2))
            goc_yield();
        until_queued(&m);
        goc_cancel(b.ctx);
        goc_mutex_unlock(&m);
        CHECK(goc_chan_recv(done, &x));
        CHECK(goc_chan_recv(done, &x));
        CHECK(a.result == 0);
        CHECK(b.result == 0 || b.result == -ECANCELED);
        CHECK(state_of(&m) == 0);
        goc_ctx_release(b.ctx);
    }
    goc_chan_release(done);
}

/* ---- The semaphore: a free unit taken as the context ends ---- */

/* goc__semacquire_ctx on a semaphore holding one unit while another
 * goroutine cancels the context at the same moment. Exactly one outcome
 * may come of it: 0 with the unit taken, or the error with the unit left.
 * The watcher can run after the waiter took the unit and before the watch
 * is stopped; it once took such a waiter for one that had not queued yet,
 * so the call returned -ECANCELED and the unit was gone (a mutex then left
 * a waiter asleep for good: seen under qemu, where that window is wide). */
struct take_race {
    goc__waitq q;
    goc_ctx *ctx;
    atomic_int go, done; /* round numbers: started (-1: no more), finished by the canceller */
    int rounds;
};

static void take_race_canceller(void *arg)
{
    struct take_race *t = arg;
    for (int r = 1; r <= t->rounds; r++) {
        int go;
        while ((go = atomic_load(&t->go)) != r) {
            if (go < 0)
                return; /* the test gave up early */
            goc_yield();
        }
        goc_cancel(t->ctx);
        atomic_store(&t->done, r);
    }
}

TEST(semacquire_ctx_take_meets_cancel)
{
    static struct take_race t;
    memset(&t, 0, sizeof t);
    t.rounds = SCALE(20000) < 400 ? 400 : SCALE(20000);
    CHECK(goc_go(take_race_canceller, &t) > 0);
    int took = 0, cancelled = 0;
    for (int r = 1; r <= t.rounds; r++) {
        t.q.count = 1;
        t.ctx = goc_with_cancel(goc_background());
        atomic_store(&t.go, r);
        int err = goc__semacquire_ctx(&t.q, false, "test", t.ctx);
        if (err == 0) {
            took++;
            CHECK(t.q.count == 0);
        } else {
            cancelled++;
            CHECK(err == -ECANCELED);
            CHECK(t.q.count == 1);
        }
        CHECK(t.q.head == NULL);
        while (atomic_load(&t.done) != r)
            goc_yield();
        goc_ctx_release(t.ctx);
        if (test_failures_now) {
            atomic_store(&t.go, -1);
            break;
        }
    }
    fprintf(stderr, "  semacquire_ctx_take_meets_cancel: %d taken, %d cancelled first\n", took,
            cancelled);
}

/* ---- Stress ---- */

#define SLOTS 64

struct stress {
    goc_mutex m;
    goc_waitgroup wg;
    long inside, counter; /* guarded by m */
    atomic_long taken, failed, starving_seen;
    _Atomic(goc_ctx *) slot[SLOTS]; /* cancellable contexts in use, retained */
    atomic_bool stop;
    int loops;
};

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct worker {
    struct stress *s;
    int id;
};

static void stress_worker(void *arg)
{
    struct worker *wk = arg;
    struct stress *s = wk->s;
    uint64_t r = 0x9e3779b97f4a7c15ULL * (uint64_t)(wk->id + 1);
    for (int i = 0; i < s->loops; i++) {
        int how = (int)(rng(&r) % 3), err = 0;
        goc_ctx *ctx = NULL;
        if (how == 0) {
            goc_mutex_lock(&s->m);
        } else if (how == 1) {
            ctx = goc_with_timeout(goc_background(), (int64_t)(rng(&r) % 30) * GOC_MICROSECOND);
            err = goc_mutex_lock_ctx(&s->m, ctx);
        } else {
            /* The canceller may cancel it at any moment. */
            ctx = goc_with_cancel(goc_background());
            atomic_store(&s->slot[wk->id % SLOTS], goc_ctx_retain(ctx));
            err = goc_mutex_lock_ctx(&s->m, ctx);
            goc_ctx *mine = atomic_exchange(&s->slot[wk->id % SLOTS], NULL);
            if (mine)
                goc_ctx_release(mine);
        }
        if (ctx)
            goc_ctx_release(ctx);
        if (err) {
            CHECK(err == -ETIMEDOUT || err == -ECANCELED);
            atomic_fetch_add(&s->failed, 1);
            continue;
        }
        if (s->inside++ != 0)
            s->counter = -1000000000L; /* two inside at once */
        s->counter++;
        if (state_of(&s->m) & GOC__MUTEX_STARVING)
            atomic_fetch_add(&s->starving_seen, 1);
        /* Hold it across a few scheduling points, now and then long
         * enough that waiters turn the mutex to starvation mode. */
        int hold = (int)(rng(&r) % 8);
        for (int k = 0; k < hold; k++)
            goc_yield();
        if (rng(&r) % 64 == 0) {
            int64_t end = goc__nanotime() + 1500000;
            while (goc__nanotime() < end)
                goc_yield();
        }
        s->inside--;
        atomic_fetch_add(&s->taken, 1);
        goc_mutex_unlock(&s->m);
    }
    goc_waitgroup_done(&s->wg);
}

static void canceller(void *arg)
{
    struct stress *s = arg;
    uint64_t r = 12345;
    while (!atomic_load(&s->stop)) {
        goc_ctx *c = atomic_exchange(&s->slot[rng(&r) % SLOTS], NULL);
        if (c) {
            goc_cancel(c);
            goc_ctx_release(c);
        }
        goc_yield();
    }
    goc_waitgroup_done(&s->wg);
}

TEST(lock_ctx_stress)
{
    static struct stress s;
    static struct worker wk[SLOTS];
    memset(&s, 0, sizeof s);
    goc_mutex_init(&s.m);
    int n = 8 * goc_maxprocs(0);
    if (n > SLOTS)
        n = SLOTS;
    s.loops = SCALE(2000) < 40 ? 40 : SCALE(2000);
    /* s.wg counts the workers and the canceller, which stops when told
     * (after every worker has done its loops). */
    goc_waitgroup_add(&s.wg, n + 1);
    for (int i = 0; i < n; i++) {
        wk[i] = (struct worker){&s, i};
        CHECK(goc_go(stress_worker, &wk[i]) > 0);
    }
    CHECK(goc_go(canceller, &s) > 0);
    while (atomic_load(&s.taken) + atomic_load(&s.failed) < (long)n * s.loops)
        goc_yield();
    atomic_store(&s.stop, true);
    goc_waitgroup_wait(&s.wg);
    for (int i = 0; i < SLOTS; i++) {
        goc_ctx *c = atomic_exchange(&s.slot[i], NULL);
        if (c)
            goc_ctx_release(c);
    }
    CHECK(s.inside == 0);
    CHECK(s.counter == atomic_load(&s.taken));
    CHECK(state_of(&s.m) == 0);
    fprintf(stderr, "  lock_ctx_stress: %ld taken, %ld given up, %ld seen starving\n",
            atomic_load(&s.taken), atomic_load(&s.failed), atomic_load(&s.starving_seen));
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(lock_ctx_free_and_ended);
    RUN(lock_ctx_timeout_under_holder);
    RUN(lock_ctx_cancel_wakes_waiter);
    RUN(lock_ctx_cancel_meets_unlock);
    RUN(semacquire_ctx_take_meets_cancel);
    RUN(lock_ctx_stress);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
