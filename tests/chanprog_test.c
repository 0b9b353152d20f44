/* chanprog_test.c: the seed programs built on channels, one litmus test per
 * happens-before rule of docs/memory-model.md, and the single-worker lock
 * mode's switch to real locks when a plain thread turns up.
 *
 * Litmus tests pass data through plain (non-atomic) memory ordered only by
 * the rule under test, in many pairs at once so that they run on every
 * worker; the value is checked, and a TSan build (make race) reports any
 * edge goc fails to publish.
 */
#include <pthread.h>

#include "test.h"

static goc_chan *mkc(size_t elem, size_t cap)
{
    goc_chan *c = goc_chan_make(elem, cap);
    if (!c) {
        fprintf(stderr, "goc_chan_make failed\n");
        exit(1);
    }
    return c;
}

/* Spawns n copies of fn(arg i) and waits for them. */
static void run_pairs(int n, void (*fn)(void *), void *args, size_t argsz, goc_waitgroup *wg)
{
    for (int i = 0; i < n; i++) {
        goc_waitgroup_add(wg, 1);
        goc_go(fn, (char *)args + (size_t)i * argsz);
    }
    goc_waitgroup_wait(wg);
}

static int npairs(void) { return 4 * goc_maxprocs(0); }

/* ---- Seed 002: mirroredQuery ----
 *   func mirroredQuery() string {
 *       responses := make(chan string, 3)
 *       go func() { responses <- request("asia.gopl.io") }()
 *       go func() { responses <- request("europe.gopl.io") }()
 *       go func() { responses <- request("americas.gopl.io") }()
 *       return <-responses // return the quickest response
 *   }
 * With capacity 3 the two slower goroutines do not leak: their sends
 * complete with nobody receiving. */

struct mirror {
    goc_chan *responses;
    int id;
};

static void mirror_request(void *arg)
{
    struct mirror *m = arg;
    for (int i = 0; i < m->id * 3; i++) /* the "slower" mirrors */
        goc_yield();
    goc_chan_send(m->responses, &m->id);
    goc_chan_release(m->responses);
    free(m);
}

static int mirrored_query(void)
{
    goc_chan *responses = mkc(sizeof(int), 3);
    for (int i = 0; i < 3; i++) {
        struct mirror *m = malloc(sizeof *m); /* each request owns its record */
        *m = (struct mirror){goc_chan_retain(responses), i + 1};
        goc_go(mirror_request, m);
    }
    int first = GOC_CHAN_RECV(responses, int);
    goc_chan_release(responses);
    return first;
}

TEST(MirroredQuery)
{
    int base = goc_num_goroutine();
    for (int round = 0; round < SCALE(200); round++) {
        int first = mirrored_query();
        CHECK(first >= 1 && first <= 3);
        /* The two others end without anyone receiving: none leaks. */
        long spins = 0;
        while (goc_num_goroutine() > base && spins++ < 10000000L)
            goc_yield();
        CHECK(goc_num_goroutine() == base);
    }
}

/* ---- Seed 000: the bank teller monitor goroutine ----
 *   var deposits = make(chan int) // send amount to deposit
 *   var balances = make(chan int) // receive balance
 *   func Deposit(amount int) { deposits <- amount }
 *   func Balance() int       { return <-balances }
 *   func teller() {
 *       var balance int // balance is confined to teller goroutine
 *       for {
 *           select {
 *           case amount := <-deposits: balance += amount
 *           case balances <- balance:
 *           }
 *       }
 *   }
 * (Plus a quit channel so the test can end the teller.) */

static goc_chan *deposits, *balances, *teller_quit;

static void teller(void *arg)
{
    goc_waitgroup *done = arg;
    int balance = 0, amount, q;
    for (;;) {
        goc_select_case cs[] = {
            GOC_RECV_CASE(deposits, &amount),
            GOC_SEND_CASE(balances, &balance),
            GOC_RECV_CASE(teller_quit, &q),
        };
        int r = goc_select(cs, 3, false);
        if (r == 0)
            balance += amount;
        else if (r == 2)
            break;
    }
    goc_waitgroup_done(done);
}

static void bank_deposit(int amount) { goc_chan_send(deposits, &amount); }
static int bank_balance(void) { return GOC_CHAN_RECV(balances, int); }

static void bank_customer(void *arg)
{
    goc_waitgroup *wg = arg;
    for (int i = 0; i < 100; i++) {
        bank_deposit(1);
        CHECK(bank_balance() >= i + 1);
    }
    goc_waitgroup_done(wg);
}

TEST(BankTeller)
{
    deposits = mkc(sizeof(int), 0);
    balances = mkc(sizeof(int), 0);
    teller_quit = mkc(sizeof(int), 0);
    goc_waitgroup tdone = GOC_WAITGROUP_INIT, wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_add(&tdone, 1);
    goc_go(teller, &tdone);
    bank_deposit(200);
    CHECK(bank_balance() == 200);
    int n = SCALE_LIVE(100);
    for (int i = 0; i < n; i++) {
        goc_waitgroup_add(&wg, 1);
        goc_go(bank_customer, &wg);
    }
    goc_waitgroup_wait(&wg);
    CHECK(bank_balance() == 200 + 100 * n);
    goc_chan_close(teller_quit);
    goc_waitgroup_wait(&tdone);
    goc_chan_release(deposits);
    goc_chan_release(balances);
    goc_chan_release(teller_quit);
}

/* ---- Seed 004: a counter guarded by a channel of capacity 1 ----
 *   var (sema = make(chan struct{}, 1); balance int)
 *   func Deposit(amount int) { sema <- struct{}{}; balance += amount; <-sema }
 */

static goc_chan *sema;
static long guarded_balance; /* plain: only the channel orders it */

static void sema_depositor(void *arg)
{
    goc_waitgroup *wg = arg;
    for (int i = 0; i < 1000; i++) {
        goc_chan_send(sema, NULL); /* acquire */
        guarded_balance += 1;
        goc_chan_recv(sema, NULL); /* release */
    }
    goc_waitgroup_done(wg);
}

TEST(CounterGuardedByChannel)
{
    sema = mkc(0, 1);
    guarded_balance = 0;
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    int n = SCALE_LIVE(64);
    for (int i = 0; i < n; i++) {
        goc_waitgroup_add(&wg, 1);
        goc_go(sema_depositor, &wg);
    }
    goc_waitgroup_wait(&wg);
    CHECK(guarded_balance == 1000L * n);
    goc_chan_release(sema);
}

/* ---- Litmus tests, one per rule of docs/memory-model.md ---- */

#define LITMUS_ITERS SCALE(2000)

struct litmus {
    goc_chan *c, *back;
    long data; /* plain */
    long bad;
    goc_waitgroup *wg;
    goc_waitgroup inner;
};

/* Goroutine start: the goc_go call happens before the function begins. */
static void start_child(void *arg)
{
    struct litmus *l = arg;
    if (l->data != 42)
        l->bad++;
    goc_waitgroup_done(&l->inner);
}

static void litmus_start(void *arg)
{
    struct litmus *l = arg;
    for (int i = 0; i < LITMUS_ITERS / 10; i++) {
        l->data = 42;
        goc_waitgroup_add(&l->inner, 1);
        goc_go(start_child, l);
        goc_waitgroup_wait(&l->inner);
        l->data = 0;
    }
    goc_waitgroup_done(l->wg);
}

/* Rule 1 (a send happens before the receive completes), on a channel of
 * the capacity litmus_run gives; back carries rule 1 the other way. */
static void rule1_receiver(void *arg)
{
    struct litmus *l = arg;
    long v;
    for (int i = 0; i < LITMUS_ITERS; i++) {
        goc_chan_recv(l->c, &v);
        if (l->data != v)
            l->bad++;
        goc_chan_send(l->back, NULL); /* rule 1 again, the other way */
    }
    goc_waitgroup_done(&l->inner);
}

static void litmus_rule1(void *arg)
{
    struct litmus *l = arg;
    goc_waitgroup_add(&l->inner, 1);
    goc_go(rule1_receiver, l);
    for (long i = 1; i <= LITMUS_ITERS; i++) {
        l->data = i;
        goc_chan_send(l->c, &i);
        goc_chan_recv(l->back, NULL);
    }
    goc_waitgroup_wait(&l->inner);
    goc_waitgroup_done(l->wg);
}

/* Rule 1 through select cases on both sides. */
static void rule1s_receiver(void *arg)
{
    struct litmus *l = arg;
    long v;
    for (int i = 0; i < LITMUS_ITERS; i++) {
        goc_select_case cs[] = {GOC_RECV_CASE(l->c, &v), GOC_RECV_CASE(NULL, &v)};
        if (goc_select(cs, 2, false) != 0 || l->data != v)
            l->bad++;
        goc_select_case bs[] = {GOC_SEND_CASE(l->back, NULL)};
        goc_select(bs, 1, false);
    }
    goc_waitgroup_done(&l->inner);
}

static void litmus_rule1_select(void *arg)
{
    struct litmus *l = arg;
    goc_waitgroup_add(&l->inner, 1);
    goc_go(rule1s_receiver, l);
    for (long i = 1; i <= LITMUS_ITERS; i++) {
        l->data = i;
        goc_select_case cs[] = {GOC_SEND_CASE(l->c, &i), GOC_SEND_CASE(NULL, &i)};
        goc_select(cs, 2, false);
        goc_select_case bs[] = {GOC_RECV_CASE(l->back, NULL)};
        goc_select(bs, 1, false);
    }
    goc_waitgroup_wait(&l->inner);
    goc_waitgroup_done(l->wg);
}

/* Rule 2: close happens before a receive that returns because closed. */
static void rule2_receiver(void *arg)
{
    struct litmus *l = arg;
    if (goc_chan_recv(l->c, NULL) || l->data != 7)
        l->bad++;
    goc_waitgroup_done(&l->inner);
}

static void litmus_rule2(void *arg)
{
    struct litmus *l = arg;
    goc_chan_release(l->c); /* (litmus_run's; this one makes its own) */
    for (int i = 0; i < LITMUS_ITERS / 10; i++) {
        goc_chan *c = mkc(0, (size_t)(i % 2));
        l->c = c;
        l->data = 0;
        goc_waitgroup_add(&l->inner, 1);
        goc_go(rule2_receiver, l);
        if (i % 3 == 0)
            goc_yield(); /* sometimes the receiver is parked first */
        l->data = 7;
        goc_chan_close(c);
        goc_waitgroup_wait(&l->inner);
        goc_chan_release(c);
    }
    goc_waitgroup_done(l->wg);
}

/* Rule 3: a receive from an unbuffered channel happens before the send
 * completes. The receiver writes, then receives; the sender reads after
 * its send returns. */
static void rule3_receiver(void *arg)
{
    struct litmus *l = arg;
    for (long i = 1; i <= LITMUS_ITERS; i++) {
        l->data = i;
        goc_chan_recv(l->c, NULL);
        goc_chan_recv(l->back, NULL); /* the sender has read */
    }
    goc_waitgroup_done(&l->inner);
}

static void litmus_rule3(void *arg)
{
    struct litmus *l = arg;
    goc_waitgroup_add(&l->inner, 1);
    goc_go(rule3_receiver, l);
    for (long i = 1; i <= LITMUS_ITERS; i++) {
        goc_chan_send(l->c, NULL);
        if (l->data != i)
            l->bad++;
        goc_chan_send(l->back, NULL);
    }
    goc_waitgroup_wait(&l->inner);
    goc_waitgroup_done(l->wg);
}

/* Rule 4: the k-th receive on a channel of capacity C happens before the
 * (k+C)-th send completes. The receiver writes slot k before its k-th
 * receive; the sender reads it once its (k+C)-th send has returned. */
#define R4_C 3
struct rule4 {
    struct litmus l;
    long slots[64];
};

static void rule4_receiver(void *arg)
{
    struct rule4 *r = arg;
    for (int k = 0; k < 64 - R4_C; k++) {
        r->slots[k] = k + 1;
        goc_chan_recv(r->l.c, NULL);
    }
    goc_waitgroup_done(&r->l.inner);
}

static void litmus_rule4(void *arg)
{
    struct rule4 *r = arg;
    for (int it = 0; it < LITMUS_ITERS / 50 + 1; it++) {
        goc_chan *c = mkc(sizeof(long), R4_C);
        r->l.c = c;
        memset(r->slots, 0, sizeof r->slots);
        goc_waitgroup_add(&r->l.inner, 1);
        goc_go(rule4_receiver, r);
        for (long s = 0; s < 64; s++) { /* 64 sends: 61 received + 3 left */
            goc_chan_send(c, &s); /* the s-th send (from 0) */
            long k = s - R4_C;    /* receive k happened before send s completed */
            if (k >= 0 && r->slots[k] != k + 1)
                r->l.bad++;
        }
        goc_waitgroup_wait(&r->l.inner);
        goc_chan_release(c);
    }
    goc_waitgroup_done(r->l.wg);
}

static void litmus_run(void (*fn)(void *), size_t cap, bool rule4)
{
    int n = npairs();
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    if (rule4) {
        struct rule4 *rs = calloc((size_t)n, sizeof *rs);
        for (int i = 0; i < n; i++)
            rs[i].l.wg = &wg;
        run_pairs(n, fn, rs, sizeof *rs, &wg);
        for (int i = 0; i < n; i++)
            CHECK(rs[i].l.bad == 0);
        free(rs);
        return;
    }
    struct litmus *ls = calloc((size_t)n, sizeof *ls);
    for (int i = 0; i < n; i++) {
        ls[i].c = mkc(sizeof(long), cap);
        ls[i].back = mkc(0, cap);
        ls[i].wg = &wg;
    }
    run_pairs(n, fn, ls, sizeof *ls, &wg);
    for (int i = 0; i < n; i++) {
        CHECK(ls[i].bad == 0);
        if (fn != litmus_rule2)
            goc_chan_release(ls[i].c);
        goc_chan_release(ls[i].back);
    }
    free(ls);
}

TEST(LitmusGoroutineStart) { litmus_run(litmus_start, 0, false); }
TEST(LitmusSendBeforeRecvUnbuffered) { litmus_run(litmus_rule1, 0, false); }
TEST(LitmusSendBeforeRecvBuffered) { litmus_run(litmus_rule1, 4, false); }
TEST(LitmusSelect) { litmus_run(litmus_rule1_select, 0, false); }
TEST(LitmusSelectBuffered) { litmus_run(litmus_rule1_select, 2, false); }
TEST(LitmusCloseBeforeRecv) { litmus_run(litmus_rule2, 0, false); }
TEST(LitmusRecvBeforeSendUnbuffered) { litmus_run(litmus_rule3, 0, false); }
TEST(LitmusRecvBeforeSendCapacity) { litmus_run(litmus_rule4, 0, true); }

/* ---- One worker, then a plain thread: the lock-free mode ends ----
 * Run in a child with GOC_MAXPROCS=1: two goroutines ping-pong (lock-free
 * sections) while plain threads start sending on channels the goroutines
 * receive from, and a select spans both kinds. */

static goc_chan *st_ping, *st_pong, *st_q, *st_u;
static _Atomic int st_known;

static void *st_thread(void *arg)
{
    (void)arg;
    (void)goc_id();
    atomic_fetch_add(&st_known, 1);
    for (long i = 1; i <= 20000; i++) {
        if (i % 2)
            goc_chan_send(st_q, &i);
        else
            goc_chan_send(st_u, &i);
    }
    return NULL;
}

static void st_ponger(void *arg)
{
    (void)arg;
    long v;
    while (goc_chan_recv(st_ping, &v))
        goc_chan_send(st_pong, &v);
}

static int sc_single_worker_threads(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (goc_maxprocs(0) != 1)
        return 3;
    st_ping = mkc(sizeof(long), 0);
    st_pong = mkc(sizeof(long), 0);
    st_q = mkc(sizeof(long), 8);
    st_u = mkc(sizeof(long), 0);
    goc_go(st_ponger, NULL);
    long v = 0;
    for (long i = 0; i < 20000; i++) { /* lock-free while alone */
        goc_chan_send(st_ping, &i);
        goc_chan_recv(st_pong, &v);
    }
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, st_thread, NULL);
    for (long s = 0; s < 100000000L && atomic_load(&st_known) < 2; s++)
        goc_yield();
    long sum = 0, got = 0, pings = 0;
    while (got < 40000) {
        long x;
        goc_select_case cs[] = {GOC_RECV_CASE(st_q, &x), GOC_RECV_CASE(st_u, &x)};
        goc_select(cs, 2, false);
        sum += x;
        got++;
        if (got % 4 == 0) {
            goc_chan_send(st_ping, &got);
            goc_chan_recv(st_pong, &v);
            pings += v == got;
        }
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    goc_chan_close(st_ping);
    printf("sum %ld pings %ld\n", sum, pings);
    return sum == 2 * 20000L * 20001 / 2 && pings == 10000 ? 0 : 1;
}

TEST(SingleWorkerThenThreads)
{
    static const char *const env[] = {"GOC_MAXPROCS=1", NULL};
    char out[8192];
    int st = run_child("single_worker_threads", env, out, sizeof out);
    if (st != 0)
        fprintf(stderr, "child exited %d:\n%s\n", st, out);
    CHECK(st == 0);
    CHECK(strstr(out, "sum 400020000 pings 10000") != NULL);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(MirroredQuery);
    RUN(BankTeller);
    RUN(CounterGuardedByChannel);
    RUN(LitmusGoroutineStart);
    RUN(LitmusSendBeforeRecvUnbuffered);
    RUN(LitmusSendBeforeRecvBuffered);
    RUN(LitmusSelect);
    RUN(LitmusSelectBuffered);
    RUN(LitmusCloseBeforeRecv);
    RUN(LitmusRecvBeforeSendUnbuffered);
    RUN(LitmusRecvBeforeSendCapacity);
    RUN(SingleWorkerThenThreads);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"single_worker_threads", sc_single_worker_threads},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
