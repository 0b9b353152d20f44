/* chan_test.c: channels and select. Ports of Go's runtime/chan_test.go
 * (TestChan, TestNonblockRecvRace, TestSelfSelect, TestSelectStress,
 * TestSelectFairness, TestPseudoRandomSend) and of Go's test/chan programs
 * (fifo, sieve1, goroutines, nonblock, select, doubleselect, zerosize) and
 * test/closedchan.go; then a many-producer many-consumer stress with close,
 * plain threads, nil channels, and the misuse panics (in child processes).
 * TestNonblockRecvRace and its mirror (a value sent then the channel
 * closed under a polling receiver) go through every form of non-blocking
 * receive, each of which has its own lock-free path.
 *
 * Runs under goc_main: every test runs in goroutine 1. Where Go sleeps to
 * give a goroutine the chance to do something it must not, these tests
 * yield a bounded number of times instead; nothing waits on time.
 */
#include <math.h>
#include <pthread.h>

#include "test.h"

#define YIELDS 100

static void yield_n(int n)
{
    for (int i = 0; i < n; i++)
        goc_yield();
}

static goc_chan *make_int_chan(size_t cap)
{
    goc_chan *c = goc_chan_make(sizeof(int), cap);
    if (!c) {
        perror("goc_chan_make");
        abort();
    }
    return c;
}

/* ---- TestChan ---- */

struct recv_block {
    goc_chan *c;
    atomic_int recv1, recv2;
    goc_waitgroup wg;
};

static void recv_block_1(void *arg)
{
    struct recv_block *r = arg;
    int v;
    goc_chan_recv(r->c, &v);
    atomic_store(&r->recv1, 1);
    goc_waitgroup_done(&r->wg);
}

static void recv_block_2(void *arg)
{
    struct recv_block *r = arg;
    int v;
    (void)goc_chan_recv(r->c, &v);
    atomic_store(&r->recv2, 1);
    goc_waitgroup_done(&r->wg);
}

static void send_zero_flag(void *arg)
{
    struct recv_block *r = arg;
    GOC_CHAN_SEND(r->c, int, 0);
    atomic_store(&r->recv1, 1);
    goc_waitgroup_done(&r->wg);
}

struct close_unblock {
    goc_chan *c, *done;
};

static void close_unblock_body(void *arg)
{
    struct close_unblock *u = arg;
    int v = 42;
    bool ok = goc_chan_recv(u->c, &v);
    bool good = v == 0 && !ok;
    goc_chan_send(u->done, &good);
}

struct sender_n {
    goc_chan *c;
    int n;
};

static void send_0_to_n(void *arg)
{
    /* Copied first: the last send lets the spawner leave the scope of *arg. */
    struct sender_n s = *(struct sender_n *)arg;
    for (int i = 0; i < s.n; i++)
        goc_chan_send(s.c, &i);
}

#define TC_P 4
#define TC_L 1000

struct tc_recv {
    goc_chan *c, *done;
};

static void tc_receiver(void *arg)
{
    struct tc_recv *r = arg;
    int *recv = calloc(TC_L, sizeof(int));
    for (int i = 0; i < TC_L; i++) {
        int v = -1;
        goc_chan_recv(r->c, &v);
        if (v >= 0 && v < TC_L)
            recv[v]++;
    }
    goc_chan_send(r->done, &recv);
}

TEST(TestChan)
{
    int N = SCALE(200);
    for (int chanCap = 0; chanCap < N; chanCap++) {
        {
            /* Receive from an empty channel blocks. */
            struct recv_block r = {.c = make_int_chan((size_t)chanCap)};
            goc_waitgroup_init(&r.wg);
            goc_waitgroup_add(&r.wg, 2);
            goc_go(recv_block_1, &r);
            goc_go(recv_block_2, &r);
            yield_n(10);
            CHECK(!atomic_load(&r.recv1) && !atomic_load(&r.recv2));
            /* Non-blocking receive does not block. */
            int v;
            CHECK(goc_chan_try_recv(r.c, &v) == -EAGAIN);
            goc_select_case sc[] = {GOC_RECV_CASE(r.c, &v)};
            CHECK(goc_select(sc, 1, true) == GOC_SELECT_DEFAULT);
            GOC_CHAN_SEND(r.c, int, 0);
            GOC_CHAN_SEND(r.c, int, 0);
            goc_waitgroup_wait(&r.wg);
            goc_chan_release(r.c);
        }
        {
            /* Send to a full channel blocks. */
            struct recv_block r = {.c = make_int_chan((size_t)chanCap)};
            goc_waitgroup_init(&r.wg);
            for (int i = 0; i < chanCap; i++)
                goc_chan_send(r.c, &i);
            goc_waitgroup_add(&r.wg, 1);
            goc_go(send_zero_flag, &r);
            yield_n(10);
            CHECK(!atomic_load(&r.recv1));
            /* Non-blocking send does not block. */
            int z = 0;
            CHECK(goc_chan_try_send(r.c, &z) == -EAGAIN);
            goc_select_case sc[] = {GOC_SEND_CASE(r.c, &z)};
            CHECK(goc_select(sc, 1, true) == GOC_SELECT_DEFAULT);
            goc_chan_recv(r.c, NULL);
            goc_waitgroup_wait(&r.wg);
            goc_chan_release(r.c);
        }
        {
            /* Receive 0 from a closed channel, after what was buffered. */
            goc_chan *c = make_int_chan((size_t)chanCap);
            for (int i = 0; i < chanCap; i++)
                goc_chan_send(c, &i);
            goc_chan_close(c);
            for (int i = 0; i < chanCap; i++) {
                int v = -1;
                CHECK(goc_chan_recv(c, &v) && v == i);
            }
            CHECK(GOC_CHAN_RECV(c, int) == 0);
            int v = 7;
            CHECK(!goc_chan_recv(c, &v) && v == 0);
            goc_chan_release(c);
        }
        {
            /* Close unblocks a receive. */
            struct close_unblock u = {make_int_chan((size_t)chanCap), goc_chan_make(sizeof(bool), 0)};
            goc_go(close_unblock_body, &u);
            yield_n(10);
            goc_chan_close(u.c);
            bool good = false;
            goc_chan_recv(u.done, &good);
            CHECK(good);
            goc_chan_release(u.c);
            goc_chan_release(u.done);
        }
        {
            /* 100 integers arrive uncorrupted in FIFO order, recv and recv2. */
            goc_chan *c = make_int_chan((size_t)chanCap);
            struct sender_n s = {c, 100};
            goc_go(send_0_to_n, &s);
            for (int i = 0; i < 100; i++) {
                int v = -1;
                goc_chan_recv(c, &v);
                CHECK(v == i);
            }
            goc_go(send_0_to_n, &s);
            for (int i = 0; i < 100; i++) {
                int v = -1;
                bool ok = goc_chan_recv(c, &v);
                CHECK(ok && v == i);
            }
            /* 1000 integers from each of 4 goroutines, all received. */
            struct sender_n sl = {c, TC_L};
            for (int p = 0; p < TC_P; p++)
                goc_go(send_0_to_n, &sl);
            struct tc_recv r = {c, goc_chan_make(sizeof(int *), 0)};
            for (int p = 0; p < TC_P; p++)
                goc_go(tc_receiver, &r);
            int total[TC_L] = {0};
            for (int p = 0; p < TC_P; p++) {
                int *recv;
                goc_chan_recv(r.done, &recv);
                for (int k = 0; k < TC_L; k++)
                    total[k] += recv[k];
                free(recv);
            }
            int bad = 0;
            for (int k = 0; k < TC_L; k++)
                bad += total[k] != TC_P;
            CHECK(bad == 0);
            goc_chan_release(r.done);
            goc_chan_release(c);
        }
        {
            /* len and cap. */
            goc_chan *c = make_int_chan((size_t)chanCap);
            CHECK(goc_chan_len(c) == 0 && goc_chan_cap(c) == (size_t)chanCap);
            for (int i = 0; i < chanCap; i++)
                goc_chan_send(c, &i);
            CHECK(goc_chan_len(c) == (size_t)chanCap && goc_chan_cap(c) == (size_t)chanCap);
            goc_chan_release(c);
        }
    }
}

/* ---- TestNonblockRecvRace ---- */

struct nbrr {
    goc_chan *c;
    int form; /* which non-blocking receive: see nbrecv */
    atomic_int failed;
    goc_waitgroup wg;
};

/* A non-blocking receive in each of its forms, which take different
 * lock-free paths: goc_select's inlined try form, the goc_select function
 * itself, and goc_chan_try_recv with and without somewhere to put the
 * value. Returns the goc_chan_try_recv answer (-EAGAIN: not ready). */
static int nbrecv(goc_chan *c, int form)
{
    int v;
    goc_select_case sc[] = {GOC_RECV_CASE(c, form == 0 ? NULL : &v)};
    switch (form) {
    case 0:
        return goc_select(sc, 1, true) == GOC_SELECT_DEFAULT ? -EAGAIN
               : sc[0].ok                                   ? GOC_CHAN_OK
                                                            : GOC_CHAN_CLOSED;
    case 1:
        return (goc_select)(sc, 1, true) == GOC_SELECT_DEFAULT ? -EAGAIN
               : sc[0].ok                                     ? GOC_CHAN_OK
                                                              : GOC_CHAN_CLOSED;
    case 2:
        return goc_chan_try_recv(c, NULL);
    default:
        return goc_chan_try_recv(c, &v);
    }
}
#define NBRECV_FORMS 4

static void nbrr_body(void *arg)
{
    struct nbrr *s = arg;
    if (nbrecv(s->c, s->form) == -EAGAIN)
        atomic_store(&s->failed, 1);
    goc_waitgroup_done(&s->wg);
}

/* try_recv on a closed channel, with and without somewhere to put the
 * value: what is still buffered comes first, then the closed answer. */
TEST(try_recv_after_close)
{
    for (size_t cap = 0; cap <= 2; cap += 2) {
        goc_chan *c = goc_chan_make(sizeof(int), cap);
        CHECK(goc_chan_try_recv(c, NULL) == -EAGAIN);
        for (int i = 1; i <= (int)cap; i++)
            CHECK(goc_chan_try_send(c, &i) == GOC_CHAN_OK);
        goc_chan_close(c);
        int v = -1;
        if (cap) {
            CHECK(goc_chan_try_recv(c, NULL) == GOC_CHAN_OK); /* the 1, dropped */
            CHECK(goc_chan_try_recv(c, &v) == GOC_CHAN_OK && v == 2);
        }
        CHECK(goc_chan_try_recv(c, NULL) == GOC_CHAN_CLOSED);
        v = -1;
        CHECK(goc_chan_try_recv(c, &v) == GOC_CHAN_CLOSED && v == 0);
        goc_chan_release(c);
    }
}

/* goc_select with one case and a literal default is inlined into the try
 * forms (include/goc/chan.h); (goc_select) is the function itself. Both
 * must give the same answers: the chosen index, ok, the value, the
 * channel's length, on every state a non-blocking case can meet. */
static int select1(goc_chan *c, goc_select_dir dir, int *v, bool *ok, bool inline_form)
{
    goc_select_case cs[] = {{.ch = c, .dir = dir, .elem = v, .ok = true}};
    int r = inline_form ? goc_select(cs, 1, true) : (goc_select)(cs, 1, true);
    *ok = cs[0].ok;
    return r;
}

TEST(select_one_case_both_forms)
{
    for (size_t cap = 0; cap <= 2; cap += 2) {
        goc_chan *ch[2] = {make_int_chan(cap), make_int_chan(cap)};
        int r[2], v[2];
        bool ok[2];
        for (int f = 0; f < 2; f++) {
            v[f] = 5;
            r[f] = select1(ch[f], GOC_SELECT_RECV, &v[f], &ok[f], f); /* empty */
            CHECK(r[f] == GOC_SELECT_DEFAULT && v[f] == 5);
            for (int i = 1; i <= (int)cap + 1; i++) { /* room, then full */
                v[f] = 10 * i;
                r[f] = select1(ch[f], GOC_SELECT_SEND, &v[f], &ok[f], f);
                CHECK(r[f] == (i <= (int)cap ? 0 : GOC_SELECT_DEFAULT));
            }
            CHECK(goc_chan_len(ch[f]) == cap);
            if (cap) {
                r[f] = select1(ch[f], GOC_SELECT_RECV, &v[f], &ok[f], f);
                CHECK(r[f] == 0 && ok[f] && v[f] == 10);
            }
            goc_chan_close(ch[f]);
            if (cap) { /* closed, one value left: still received, ok */
                r[f] = select1(ch[f], GOC_SELECT_RECV, &v[f], &ok[f], f);
                CHECK(r[f] == 0 && ok[f] && v[f] == 20);
            }
            v[f] = 5;
            r[f] = select1(ch[f], GOC_SELECT_RECV, &v[f], &ok[f], f); /* closed, drained */
            CHECK(r[f] == 0 && !ok[f] && v[f] == 0);
            r[f] = select1(NULL, GOC_SELECT_RECV, &v[f], &ok[f], f); /* nil: never ready */
            CHECK(r[f] == GOC_SELECT_DEFAULT && ok[f]);
            r[f] = select1(NULL, GOC_SELECT_SEND, &v[f], &ok[f], f);
            CHECK(r[f] == GOC_SELECT_DEFAULT);
            goc_chan_release(ch[f]);
        }
    }
}

TEST(TestNonblockRecvRace)
{
    int n = SCALE(10000);
    struct nbrr s;
    memset(&s, 0, sizeof s);
    goc_waitgroup_init(&s.wg);
    for (int i = 0; i < n && !atomic_load(&s.failed); i++) {
        s.c = make_int_chan(1);
        s.form = i % NBRECV_FORMS;
        GOC_CHAN_SEND(s.c, int, 1);
        goc_waitgroup_add(&s.wg, 1);
        goc_go(nbrr_body, &s);
        goc_chan_close(s.c);
        goc_chan_recv(s.c, NULL);
        goc_waitgroup_wait(&s.wg);
        goc_chan_release(s.c);
    }
    CHECK(!atomic_load(&s.failed)); /* "chan is not ready" */
}

/* c: the sender's own reference, released once its close returns. */
static void nbsc_sender(void *arg)
{
    goc_chan *c = arg;
    GOC_CHAN_SEND(c, int, 1);
    goc_chan_close(c);
    goc_chan_release(c);
}

/* The other order: a value sent, then the channel closed, while a
 * receiver polls it without blocking. The first answer that is not "not
 * ready" must be the value (a closed channel gives what it holds first),
 * then "closed": a poll that read the channel empty, then closed, must
 * look again before it says closed, or the value is skipped. */
TEST(nonblock_recv_value_before_closed)
{
    int n = SCALE(10000), skipped = 0;
    for (int i = 0; i < n; i++) {
        goc_chan *c = make_int_chan(i % 2);
        int form = i / 2 % NBRECV_FORMS;
        goc_chan_retain(c);
        goc_go(nbsc_sender, c);
        int r;
        while ((r = nbrecv(c, form)) == -EAGAIN)
            goc_yield();
        if (r != GOC_CHAN_OK)
            skipped++;
        /* Closed from now on, and drained. */
        CHECK(goc_chan_recv(c, NULL) == false);
        goc_chan_release(c);
    }
    if (skipped)
        fprintf(stderr, "the value was skipped in %d of %d rounds\n", skipped, n);
    CHECK(skipped == 0);
}

/* ---- TestSelfSelect ---- */

struct selfsel {
    goc_chan *c;
    int chanCap, p;
    atomic_int *selfrecv;
    goc_waitgroup *wg;
};

static void selfsel_body(void *arg)
{
    struct selfsel *s = arg;
    for (int i = 0; i < 1000; i++) {
        int v = -1, p = s->p;
        goc_select_case cases[2];
        int recv_idx;
        if (s->p == 0 || i % 2 == 0) {
            cases[0] = GOC_SEND_CASE(s->c, &p);
            cases[1] = GOC_RECV_CASE(s->c, &v);
            recv_idx = 1;
        } else {
            cases[0] = GOC_RECV_CASE(s->c, &v);
            cases[1] = GOC_SEND_CASE(s->c, &p);
            recv_idx = 0;
        }
        if (goc_select(cases, 2, false) == recv_idx && s->chanCap == 0 && v == s->p) {
            atomic_store(s->selfrecv, 1);
            break;
        }
    }
    goc_waitgroup_done(s->wg);
}

TEST(TestSelfSelect)
{
    int caps[] = {0, 10};
    for (int ci = 0; ci < 2; ci++) {
        goc_waitgroup wg = GOC_WAITGROUP_INIT;
        atomic_int selfrecv = 0;
        goc_chan *c = make_int_chan((size_t)caps[ci]);
        struct selfsel s[2];
        goc_waitgroup_add(&wg, 2);
        for (int p = 0; p < 2; p++) {
            s[p] = (struct selfsel){c, caps[ci], p, &selfrecv, &wg};
            goc_go(selfsel_body, &s[p]);
        }
        goc_waitgroup_wait(&wg);
        CHECK(!atomic_load(&selfrecv)); /* "self receive" */
        goc_chan_release(c);
    }
}

/* ---- TestSelectStress ---- */

struct stress {
    goc_chan *c[4];
    int N;
    goc_waitgroup wg;
};
struct stress_k {
    struct stress *s;
    int k;
};

static void stress_send(void *arg)
{
    struct stress_k *sk = arg;
    for (int i = 0; i < sk->s->N; i++)
        GOC_CHAN_SEND(sk->s->c[sk->k], int, 0);
    goc_waitgroup_done(&sk->s->wg);
}

static void stress_recv(void *arg)
{
    struct stress_k *sk = arg;
    for (int i = 0; i < sk->s->N; i++)
        goc_chan_recv(sk->s->c[sk->k], NULL);
    goc_waitgroup_done(&sk->s->wg);
}

static void stress_select(void *arg)
{
    struct stress_k *sk = arg; /* k: 0 sends, 1 receives */
    struct stress *s = sk->s;
    int n[4] = {0};
    goc_chan *c1[4];
    memcpy(c1, s->c, sizeof c1);
    int zero = 0;
    const int order[4] = {3, 2, 0, 1};
    for (int i = 0; i < 4 * s->N; i++) {
        goc_select_case cases[4];
        for (int j = 0; j < 4; j++)
            cases[j] = sk->k == 0 ? GOC_SEND_CASE(c1[order[j]], &zero)
                                  : GOC_RECV_CASE(c1[order[j]], NULL);
        int r = goc_select(cases, 4, false);
        int ch = order[r];
        if (++n[ch] == s->N)
            c1[ch] = NULL;
    }
    goc_waitgroup_done(&s->wg);
}

TEST(TestSelectStress)
{
    static struct stress s;
    s.c[0] = make_int_chan(0);
    s.c[1] = make_int_chan(0);
    s.c[2] = make_int_chan(2);
    s.c[3] = make_int_chan(3);
    s.N = SCALE(100000);
    goc_waitgroup_init(&s.wg);
    goc_waitgroup_add(&s.wg, 10);
    struct stress_k ks[4], sel[2];
    for (int k = 0; k < 4; k++) {
        ks[k] = (struct stress_k){&s, k};
        goc_go(stress_send, &ks[k]);
        goc_go(stress_recv, &ks[k]);
    }
    sel[0] = (struct stress_k){&s, 0};
    sel[1] = (struct stress_k){&s, 1};
    goc_go(stress_select, &sel[0]);
    goc_go(stress_select, &sel[1]);
    goc_waitgroup_wait(&s.wg);
    for (int k = 0; k < 4; k++) {
        CHECK(goc_chan_len(s.c[k]) == 0);
        goc_chan_release(s.c[k]);
    }
}

/* ---- TestSelectFairness ---- */

#define FAIR_TRIALS 10000

struct fair {
    goc_chan *c1, *c2, *c3, *c4, *out, *done;
    goc_waitgroup wg;
};

static void fair_body(void *arg)
{
    struct fair *f = arg;
    for (;;) {
        unsigned char b = 0;
        goc_select_case in[] = {
            GOC_RECV_CASE(f->c3, &b),
            GOC_RECV_CASE(f->c4, &b),
            GOC_RECV_CASE(f->c1, &b),
            GOC_RECV_CASE(f->c2, &b),
        };
        goc_select(in, 4, false);
        goc_select_case out[] = {
            GOC_SEND_CASE(f->out, &b),
            GOC_RECV_CASE(f->done, NULL),
        };
        if (goc_select(out, 2, false) == 1)
            break;
    }
    goc_waitgroup_done(&f->wg);
}

TEST(TestSelectFairness)
{
    const int trials = FAIR_TRIALS;
    struct fair f = {
        goc_chan_make(1, trials + 1), goc_chan_make(1, trials + 1), goc_chan_make(1, 0),
        goc_chan_make(1, 0), goc_chan_make(1, 0), goc_chan_make(1, 0), GOC_WAITGROUP_INIT,
    };
    for (int i = 0; i < trials + 1; i++) {
        GOC_CHAN_SEND(f.c1, unsigned char, 1);
        GOC_CHAN_SEND(f.c2, unsigned char, 2);
    }
    goc_waitgroup_add(&f.wg, 1);
    goc_go(fair_body, &f);
    int cnt1 = 0, cnt2 = 0, other = 0;
    for (int i = 0; i < trials; i++) {
        unsigned char b = GOC_CHAN_RECV(f.out, unsigned char);
        if (b == 1)
            cnt1++;
        else if (b == 2)
            cnt2++;
        else
            other++;
    }
    CHECK(other == 0);
    double r = (double)cnt1 / trials, e = fabs(r - 0.5);
    if (e > 4.5 / (2 * sqrt(trials)))
        fprintf(stderr, "unfair select: in %d trials, results were %d, %d\n", trials, cnt1, cnt2);
    CHECK(e <= 4.5 / (2 * sqrt(trials)));
    goc_chan_close(f.done);
    goc_waitgroup_wait(&f.wg);
    goc_chan *all[] = {f.c1, f.c2, f.c3, f.c4, f.out, f.done};
    for (int i = 0; i < 6; i++)
        goc_chan_release(all[i]);
}

/* ---- TestPseudoRandomSend ---- */

#define PRS_N 100

struct prs {
    goc_chan *c, *done;
    int l[PRS_N];
};

static void prs_body(void *arg)
{
    struct prs *s = arg;
    for (int i = 0; i < PRS_N; i++) {
        goc_yield();
        goc_chan_recv(s->c, &s->l[i]);
    }
    goc_chan_close(s->done);
}

TEST(TestPseudoRandomSend)
{
    int caps[] = {0, PRS_N};
    for (int ci = 0; ci < 2; ci++) {
        static struct prs s;
        s.c = make_int_chan((size_t)caps[ci]);
        s.done = goc_chan_make(0, 0);
        goc_go(prs_body, &s);
        int one = 1, zero = 0;
        for (int i = 0; i < PRS_N; i++) {
            goc_select_case cases[] = {GOC_SEND_CASE(s.c, &one), GOC_SEND_CASE(s.c, &zero)};
            goc_select(cases, 2, false);
        }
        goc_chan_recv(s.done, NULL);
        int n0 = 0, n1 = 0;
        for (int i = 0; i < PRS_N; i++) {
            n0 += (s.l[i] + 1) % 2;
            n1 += s.l[i];
        }
        if (n0 <= PRS_N / 10 || n1 <= PRS_N / 10)
            fprintf(stderr, "Want pseudorandom, got %d zeros and %d ones (chan cap %d)\n", n0, n1,
                    caps[ci]);
        CHECK(n0 > PRS_N / 10 && n1 > PRS_N / 10);
        goc_chan_release(s.c);
        goc_chan_release(s.done);
    }
}

/* ---- test/chan/fifo.go ---- */

#define FIFO_N 10

struct chain {
    goc_chan *ch, *in, *out;
    int val;
    atomic_int *bad;
};

/* Chain(ch, val, in, out): <-in; if <-ch != val { panic(val) }; out <- 1 */
static void fifo_chain(void *arg)
{
    struct chain *c = arg;
    goc_chan_recv(c->in, NULL);
    if (GOC_CHAN_RECV(c->ch, int) != c->val)
        atomic_fetch_add(c->bad, 1);
    GOC_CHAN_SEND(c->out, int, 1);
}

TEST(fifo)
{
    /* AsynchFifo */
    goc_chan *ch = make_int_chan(FIFO_N);
    for (int i = 0; i < FIFO_N; i++)
        goc_chan_send(ch, &i);
    for (int i = 0; i < FIFO_N; i++)
        CHECK(GOC_CHAN_RECV(ch, int) == i);
    goc_chan_release(ch);

    /* SynchFifo: a chain of goroutines, each waiting for the previous one
     * before it takes its value from ch. */
    atomic_int bad = 0;
    ch = make_int_chan(0);
    goc_chan *links[FIFO_N + 1];
    struct chain chains[FIFO_N];
    links[0] = make_int_chan(0);
    for (int i = 0; i < FIFO_N; i++) {
        links[i + 1] = make_int_chan(0);
        chains[i] = (struct chain){ch, links[i], links[i + 1], i, &bad};
        goc_go(fifo_chain, &chains[i]);
    }
    GOC_CHAN_SEND(links[0], int, 0);
    for (int i = 0; i < FIFO_N; i++)
        goc_chan_send(ch, &i);
    goc_chan_recv(links[FIFO_N], NULL);
    CHECK(atomic_load(&bad) == 0);
    for (int i = 0; i <= FIFO_N; i++)
        goc_chan_release(links[i]);
    goc_chan_release(ch);
}

/* ---- test/chan/sieve1.go ---- */

static void sieve_generate(void *arg)
{
    goc_chan *ch = arg;
    for (int i = 2;; i++)
        goc_chan_send(ch, &i);
}

struct filter {
    goc_chan *in, *out;
    int prime;
};

static void sieve_filter(void *arg)
{
    struct filter f = *(struct filter *)arg;
    free(arg);
    for (;;) {
        int i = GOC_CHAN_RECV(f.in, int);
        if (i % f.prime != 0)
            goc_chan_send(f.out, &i);
    }
}

static void sieve(void *arg)
{
    goc_chan *primes = arg;
    goc_chan *ch = make_int_chan(0); /* never freed: the sieve runs forever */
    goc_go(sieve_generate, ch);
    for (;;) {
        int prime = GOC_CHAN_RECV(ch, int);
        goc_chan_send(primes, &prime);
        goc_chan *ch1 = make_int_chan(0);
        struct filter *f = malloc(sizeof *f);
        *f = (struct filter){ch, ch1, prime};
        goc_go(sieve_filter, f);
        ch = ch1;
    }
}

static int sc_sieve1(int argc, char **argv)
{
    (void)argc, (void)argv;
    static const int a[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59,
                            61, 67, 71, 73, 79, 83, 89, 97};
    /* The sieve's goroutines stay blocked when this returns (as in Go); under
     * LeakSanitizer their channels would show, so this runs in a child. */
    goc_chan *primes = make_int_chan(0);
    goc_go(sieve, primes);
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if (GOC_CHAN_RECV(primes, int) != a[i])
            return 1;
    printf("sieve ok\n");
    return 0;
}

static char child_out[1 << 16];

TEST(sieve1)
{
    int st = run_child("sieve1", NULL, child_out, sizeof child_out);
    CHECK(st == 0 && strstr(child_out, "sieve ok"));
}

/* ---- test/chan/goroutines.go: a chain of goroutines ---- */

static void chain_link(void *arg)
{
    goc_chan **lr = arg;
    int v = GOC_CHAN_RECV(lr[1], int); /* left <- <-right */
    goc_chan_send(lr[0], &v);
    free(lr);
}

TEST(goroutines)
{
    int n = SCALE_LIVE(10000);
    goc_chan *leftmost = make_int_chan(0), *right = leftmost, *left = leftmost;
    goc_chan **all = malloc(sizeof(goc_chan *) * (size_t)(n + 1));
    all[0] = leftmost;
    for (int i = 0; i < n; i++) {
        right = make_int_chan(0);
        all[i + 1] = right;
        goc_chan **lr = malloc(2 * sizeof *lr);
        lr[0] = left, lr[1] = right;
        goc_go(chain_link, lr);
        left = right;
    }
    GOC_CHAN_SEND(right, int, n);
    CHECK(GOC_CHAN_RECV(leftmost, int) == n);
    for (int i = 0; i <= n; i++)
        goc_chan_release(all[i]);
    free(all);
}

/* ---- test/chan/nonblock.go (the non-blocking forms on every capacity) ---- */

struct nb {
    goc_chan *c;
    goc_chan *sync;
};

static void nb_recv(void *arg)
{
    struct nb *s = arg;
    int v = GOC_CHAN_RECV(s->c, int);
    CHECK(v == 123);
    goc_chan_send(s->sync, &(bool){true});
}

static void nb_send(void *arg)
{
    struct nb *s = arg;
    GOC_CHAN_SEND(s->c, int, 234);
    goc_chan_send(s->sync, &(bool){true});
}

TEST(nonblock)
{
    goc_chan *sync = goc_chan_make(sizeof(bool), 0);
    for (int buffer = 0; buffer < 2; buffer++) {
        goc_chan *c = make_int_chan((size_t)buffer);
        int v;
        CHECK(goc_chan_try_recv(c, &v) == -EAGAIN);
        CHECK(goc_chan_try_recv(NULL, &v) == -EAGAIN);
        CHECK(goc_chan_try_send(NULL, &v) == -EAGAIN);
        if (buffer == 0)
            CHECK(goc_chan_try_send(c, &(int){1}) == -EAGAIN);

        /* A receiver parked: the non-blocking send eventually succeeds. */
        struct nb s = {c, sync};
        goc_go(nb_recv, &s);
        int tries = 0;
        while (goc_chan_try_send(c, &(int){123}) != GOC_CHAN_OK && tries < 1000000) {
            tries++;
            goc_yield();
        }
        CHECK(tries < 1000000);
        goc_chan_recv(sync, NULL);

        /* A sender parked: the non-blocking receive eventually succeeds. */
        goc_go(nb_send, &s);
        tries = 0;
        v = 0;
        while (goc_chan_try_recv(c, &v) != GOC_CHAN_OK && tries < 1000000) {
            tries++;
            goc_yield();
        }
        CHECK(tries < 1000000 && v == 234);
        goc_chan_recv(sync, NULL);
        goc_chan_release(c);
    }
    goc_chan_release(sync);
}

/* ---- test/chan/select.go ---- */

static unsigned counter_bits;

static int select_count(goc_chan *c)
{
    int n = 0;
    for (;;) {
        int v;
        goc_select_case sc[] = {GOC_RECV_CASE(c, &v)};
        if (goc_select(sc, 1, true) == GOC_SELECT_DEFAULT)
            return n;
        n++;
    }
}

TEST(select)
{
    /* GetValue() returns 1, 2, 4, ... and each select sends it on one of two
     * channels; every value arrives on exactly one of them. */
    goc_chan *a = make_int_chan(1), *b = make_int_chan(1);
    counter_bits = 0;
    unsigned sum = 0;
    int i;
    for (i = 0; i < 10; i++) {
        int v = 1 << i;
        sum += (unsigned)v;
        goc_select_case sc[] = {GOC_SEND_CASE(a, &v), GOC_SEND_CASE(b, &v)};
        int r = goc_select(sc, 2, true);
        if (r == GOC_SELECT_DEFAULT) {
            sum -= (unsigned)v;
            int got = 0;
            if (goc_chan_try_recv(a, &got) == GOC_CHAN_OK)
                counter_bits |= (unsigned)got;
            if (goc_chan_try_recv(b, &got) == GOC_CHAN_OK)
                counter_bits |= (unsigned)got;
            i--;
            continue;
        }
    }
    int got;
    while (goc_chan_try_recv(a, &got) == GOC_CHAN_OK)
        counter_bits |= (unsigned)got;
    while (goc_chan_try_recv(b, &got) == GOC_CHAN_OK)
        counter_bits |= (unsigned)got;
    CHECK(counter_bits == sum && sum == 1023);
    CHECK(select_count(a) == 0 && select_count(b) == 0);
    goc_chan_release(a);
    goc_chan_release(b);
}

/* ---- test/chan/select3.go: which operations block ----
 * testBlock(always, f) runs f in a goroutine and checks that it has not
 * returned after the test goroutine yielded YIELDS times (Go sleeps 10ms);
 * such goroutines stay blocked until the process ends, so what they use is
 * static. testBlock(never, f) runs f in place: if it blocked, the test
 * would hang and ctest's timeout would fail it. The panics are checked in
 * MisusePanics. */

static goc_chan *s3_unbuf[3]; /* make(chan int) each, one blocked user each */
static atomic_int s3_returned; /* blocked goroutines that returned: must stay 0 */

static void s3_nil_send(void) { GOC_CHAN_SEND(NULL, int, 7); }
static void s3_nil_recv(void) { goc_chan_recv(NULL, NULL); }
static void s3_unbuf_recv(void) { goc_chan_recv(s3_unbuf[0], NULL); }
static void s3_select_empty(void) { goc_select(NULL, 0, false); }
static void s3_select_nil_recv(void)
{
    goc_select_case sc[] = {GOC_RECV_CASE(NULL, NULL)};
    goc_select(sc, 1, false);
}
static void s3_select_nil_send(void)
{
    int v = 7;
    goc_select_case sc[] = {GOC_SEND_CASE(NULL, &v)};
    goc_select(sc, 1, false);
}
static void s3_select_nil_both(void)
{
    int v = 7;
    goc_select_case sc[] = {GOC_RECV_CASE(NULL, NULL), GOC_SEND_CASE(NULL, &v)};
    goc_select(sc, 2, false);
}
static void s3_select_unbuf_recv(void)
{
    goc_select_case sc[] = {GOC_RECV_CASE(s3_unbuf[1], NULL)};
    goc_select(sc, 1, false);
}
static void s3_select_unbuf_send(void)
{
    int v = 7;
    goc_select_case sc[] = {GOC_SEND_CASE(s3_unbuf[2], &v)};
    goc_select(sc, 1, false);
}

static void s3_blocker(void *arg)
{
    ((void (*)(void))arg)();
    atomic_fetch_add(&s3_returned, 1);
}

TEST(select3)
{
    static void (*const always[])(void) = {
        s3_nil_send,        s3_nil_recv,        s3_unbuf_recv,        s3_select_empty,
        s3_select_nil_recv, s3_select_nil_send, s3_select_nil_both,   s3_select_unbuf_recv,
        s3_select_unbuf_send,
    };
    for (int i = 0; i < 3; i++)
        s3_unbuf[i] = make_int_chan(0);
    for (size_t i = 0; i < sizeof always / sizeof always[0]; i++)
        goc_go(s3_blocker, (void *)always[i]);
    yield_n(YIELDS);
    CHECK(atomic_load(&s3_returned) == 0);

    /* Never block. */
    goc_chan *closedch = make_int_chan(0);
    goc_chan_close(closedch);
    goc_chan *async = make_int_chan(1);
    GOC_CHAN_SEND(async, int, 7);
    for (int i = 0; i < 10; i++) {
        CHECK(GOC_CHAN_RECV(closedch, int) == 0);
        int x = 1;
        CHECK(!goc_chan_recv(closedch, &x) && x == 0);
    }
    int v = 7;
    CHECK(goc_select(NULL, 0, true) == GOC_SELECT_DEFAULT);
    goc_select_case nr[] = {GOC_RECV_CASE(NULL, NULL)};
    CHECK(goc_select(nr, 1, true) == GOC_SELECT_DEFAULT);
    goc_select_case ns[] = {GOC_SEND_CASE(NULL, &v)};
    CHECK(goc_select(ns, 1, true) == GOC_SELECT_DEFAULT);
    goc_select_case cr[] = {GOC_RECV_CASE(closedch, &v)};
    CHECK(goc_select(cr, 1, false) == 0 && !cr[0].ok && v == 0);
    goc_select_case ar[] = {GOC_RECV_CASE(async, &v)};
    CHECK(goc_select(ar, 1, false) == 0 && ar[0].ok && v == 7);
    goc_select_case as[] = {GOC_SEND_CASE(async, &v)};
    CHECK(goc_select(as, 1, false) == 0 && goc_chan_len(async) == 1);
    /* A closed channel wins over a nil one and over default. */
    goc_select_case mix[] = {GOC_RECV_CASE(NULL, NULL), GOC_RECV_CASE(closedch, NULL)};
    CHECK(goc_select(mix, 2, true) == 1 && !mix[1].ok);
    goc_chan_release(closedch);
    goc_chan_release(async);
}

/* ---- Memory model litmus: a buffered channel as a counting semaphore
 * (the k-th receive happens before the (k+C)-th send completes). Plain,
 * non-atomic memory guarded only by that edge; TSan checks it. ---- */

#define SEM_C 3
#define SEM_WORKERS 32

struct semlit {
    goc_chan *sem;
    int slot_owner[SEM_C]; /* plain ints: written only while holding a token */
    int inside;            /* plain: goroutines between acquire and release */
    atomic_int max_inside;
    goc_waitgroup wg;
};

static void sem_worker(void *arg)
{
    struct semlit *s = arg;
    for (int i = 0; i < SCALE(2000); i++) {
        goc_chan_send(s->sem, NULL); /* acquire */
        int in = __atomic_add_fetch(&s->inside, 1, __ATOMIC_RELAXED);
        int m = atomic_load(&s->max_inside);
        while (in > m && !atomic_compare_exchange_weak(&s->max_inside, &m, in))
            ;
        __atomic_sub_fetch(&s->inside, 1, __ATOMIC_RELAXED);
        goc_chan_recv(s->sem, NULL); /* release */
        if (i % 16 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&s->wg);
}

/* C = 1: a mutex. The counter is a plain int. */
static int mutex_counter;

static void mutex_worker(void *arg)
{
    goc_chan *m = arg;
    for (int i = 0; i < SCALE(2000); i++) {
        goc_chan_send(m, NULL);
        mutex_counter++;
        goc_chan_recv(m, NULL);
    }
}

TEST(MemoryModelSemaphore)
{
    static struct semlit s;
    memset(&s, 0, sizeof s);
    s.sem = goc_chan_make(0, SEM_C);
    goc_waitgroup_init(&s.wg);
    goc_waitgroup_add(&s.wg, SEM_WORKERS);
    for (int i = 0; i < SEM_WORKERS; i++)
        goc_go(sem_worker, &s);
    goc_waitgroup_wait(&s.wg);
    CHECK(atomic_load(&s.max_inside) <= SEM_C && atomic_load(&s.max_inside) >= 1);
    goc_chan_release(s.sem);

    goc_chan *m = goc_chan_make(0, 1);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    mutex_counter = 0;
    for (int i = 0; i < 8; i++)
        goc_waitgroup_go(&wg, mutex_worker, m);
    goc_waitgroup_wait(&wg);
    CHECK(mutex_counter == 8 * SCALE(2000));
    goc_chan_release(m);
}

/* ---- A select with more cases than fit on its stack buffers ---- */

#define MANY 40

static void send_to_37(void *arg)
{
    goc_chan *c = arg; /* our own reference */
    yield_n(10);
    GOC_CHAN_SEND(c, int, 37);
    goc_chan_release(c);
}

TEST(SelectManyCases)
{
    goc_chan *cs[MANY];
    goc_select_case sc[MANY];
    int vals[MANY];
    for (int i = 0; i < MANY; i++) {
        cs[i] = make_int_chan(i % 2); /* half buffered, half not */
        sc[i] = GOC_RECV_CASE(cs[i], &vals[i]);
    }
    CHECK(goc_select(sc, MANY, true) == GOC_SELECT_DEFAULT);
    GOC_CHAN_SEND(cs[5], int, 5);
    CHECK(goc_select(sc, MANY, false) == 5 && sc[5].ok && vals[5] == 5);
    goc_go(send_to_37, goc_chan_retain(cs[37])); /* buffered, but we likely park first */
    CHECK(goc_select(sc, MANY, false) == 37 && vals[37] == 37);
    for (int i = 0; i < MANY; i++) {
        CHECK(goc_chan_len(cs[i]) == 0);
        goc_chan_release(cs[i]);
    }
}

/* ---- test/chan/doubleselect.go ---- */

#define DS_ITER SCALE(100000)

struct ds {
    goc_chan *c1, *c2, *c3, *c4, *cmux, *done;
    int n;
};

/* Sends each value once, via whichever channel is ready. */
static void ds_sender(void *arg)
{
    struct ds *d = arg;
    for (int i = 0; i < d->n; i++) {
        goc_select_case sc[] = {
            GOC_SEND_CASE(d->c1, &i), GOC_SEND_CASE(d->c2, &i),
            GOC_SEND_CASE(d->c3, &i), GOC_SEND_CASE(d->c4, &i),
        };
        goc_select(sc, 4, false);
    }
    goc_chan_close(d->c1);
    goc_chan_close(d->c2);
    goc_chan_close(d->c3);
    goc_chan_close(d->c4);
}

struct ds_mux {
    struct ds *d;
    goc_chan *in;
};

static void ds_mux_body(void *arg)
{
    struct ds_mux *m = arg;
    int v;
    while (goc_chan_recv(m->in, &v))
        goc_chan_send(m->d->cmux, &v);
    goc_chan_send(m->d->done, &(bool){true});
}

static void ds_closer(void *arg)
{
    struct ds *d = arg;
    for (int i = 0; i < 4; i++)
        goc_chan_recv(d->done, NULL);
    goc_chan_close(d->cmux);
}

TEST(doubleselect)
{
    struct ds d = {make_int_chan(0), make_int_chan(0), make_int_chan(0), make_int_chan(0),
                   make_int_chan(0), goc_chan_make(sizeof(bool), 0), DS_ITER};
    struct ds_mux m[4] = {{&d, d.c1}, {&d, d.c2}, {&d, d.c3}, {&d, d.c4}};
    goc_go(ds_sender, &d);
    for (int i = 0; i < 4; i++)
        goc_go(ds_mux_body, &m[i]);
    goc_go(ds_closer, &d);
    unsigned char *seen = calloc((size_t)d.n, 1);
    int v, dup = 0, count = 0;
    while (goc_chan_recv(d.cmux, &v)) {
        if (v >= 0 && v < d.n) {
            dup += seen[v];
            seen[v] = 1;
        }
        count++;
    }
    CHECK(dup == 0 && count == d.n);
    free(seen);
    goc_chan *all[] = {d.c1, d.c2, d.c3, d.c4, d.cmux, d.done};
    for (int i = 0; i < 6; i++)
        goc_chan_release(all[i]);
}

/* ---- test/chan/zerosize.go ---- */

TEST(zerosize)
{
    /* make(chan struct{}), make(chan [0]byte), buffered and not. */
    for (size_t cap = 0; cap < 3; cap++) {
        goc_chan *c = goc_chan_make(0, cap);
        CHECK(c != NULL);
        CHECK(goc_chan_elem_size(c) == 0);
        for (size_t i = 0; i < cap; i++)
            goc_chan_send(c, NULL);
        CHECK(goc_chan_len(c) == cap);
        CHECK(goc_chan_try_send(c, NULL) == -EAGAIN);
        for (size_t i = 0; i < cap; i++)
            CHECK(goc_chan_recv(c, NULL));
        goc_chan_close(c);
        CHECK(!goc_chan_recv(c, NULL));
        goc_chan_release(c);
    }
    /* A huge capacity of zero-size elements costs no buffer. */
    goc_chan *big = goc_chan_make(0, (size_t)1 << 40);
    CHECK(big != NULL && goc_chan_cap(big) == (size_t)1 << 40);
    goc_chan_release(big);
    /* errno is the worker thread's: under TSan, goroutines that ran on
     * this thread before wrote it, with no edge to us. */
#if defined(GOC_SANITIZE_THREAD)
    CHECK(goc_chan_make(1 << 16, 1) == NULL);
    CHECK(goc_chan_make(8, SIZE_MAX / 4) == NULL);
#else
    CHECK(goc_chan_make(1 << 16, 1) == NULL && errno == EINVAL);
    CHECK(goc_chan_make(8, SIZE_MAX / 4) == NULL && errno == EINVAL);
#endif
}

/* ---- test/closedchan.go: every way to receive from a closed channel ---- */

enum { VIA_RECV, VIA_TRY, VIA_SELECT, VIA_SELECT_DEFAULT, VIA_COUNT };

/* Returns 1 with a value, 0 closed, -1 would block. */
static int recv_via(int how, goc_chan *c, int *v)
{
    switch (how) {
    case VIA_RECV:
        return goc_chan_recv(c, v) ? 1 : 0;
    case VIA_TRY: {
        int r = goc_chan_try_recv(c, v);
        return r == -EAGAIN ? -1 : r;
    }
    default: {
        goc_select_case sc[] = {GOC_RECV_CASE(NULL, v), GOC_RECV_CASE(c, v)};
        int r = goc_select(sc, 2, how == VIA_SELECT_DEFAULT);
        if (r == GOC_SELECT_DEFAULT)
            return -1;
        return sc[1].ok ? 1 : 0;
    }
    }
}

TEST(closedchan)
{
    for (int how = 0; how < VIA_COUNT; how++) {
        for (size_t cap = 0; cap < 3; cap += 2) {
            goc_chan *c = make_int_chan(cap);
            if (cap) {
                GOC_CHAN_SEND(c, int, 1);
                GOC_CHAN_SEND(c, int, 2);
            }
            goc_chan_close(c);
            int v = -1;
            if (cap) {
                CHECK(recv_via(how, c, &v) == 1 && v == 1);
                CHECK(recv_via(how, c, &v) == 1 && v == 2);
            }
            for (int i = 0; i < 3; i++) {
                v = -1;
                CHECK(recv_via(how, c, &v) == 0 && v == 0);
            }
            CHECK(goc_chan_len(c) == 0 && goc_chan_cap(c) == cap);
            goc_chan_release(c);
        }
    }
}

/* ---- Many producers and consumers, with close ---- */

struct mpmc {
    goc_chan *c;
    int per_producer;
    _Atomic int64_t sum;
    atomic_int count;
    goc_waitgroup producers, consumers;
    unsigned char *seen; /* per message; written by the consumer that got it */
    atomic_int dup;
};
struct mpmc_p {
    struct mpmc *m;
    int id;
};

static void mpmc_producer(void *arg)
{
    struct mpmc_p *p = arg;
    for (int i = 0; i < p->m->per_producer; i++) {
        int msg = p->id * p->m->per_producer + i;
        goc_chan_send(p->m->c, &msg);
        if (i % 64 == 0)
            goc_yield();
    }
    goc_waitgroup_done(&p->m->producers);
}

static void mpmc_consumer(void *arg)
{
    struct mpmc *m = arg;
    int msg;
    while (goc_chan_recv(m->c, &msg)) {
        if (__atomic_exchange_n(&m->seen[msg], 1, __ATOMIC_RELAXED))
            atomic_fetch_add(&m->dup, 1);
        atomic_fetch_add(&m->sum, msg);
        atomic_fetch_add(&m->count, 1);
    }
    goc_waitgroup_done(&m->consumers);
}

static void mpmc_closer(void *arg)
{
    struct mpmc *m = arg;
    goc_waitgroup_wait(&m->producers);
    goc_chan_close(m->c);
}

TEST(ProducersConsumersClose)
{
    const int P = 16, C = 16;
    size_t caps[] = {0, 1, 64};
    for (int ci = 0; ci < 3; ci++) {
        static struct mpmc m;
        memset(&m, 0, sizeof m);
        m.c = make_int_chan(caps[ci]);
        m.per_producer = SCALE(20000);
        int total = P * m.per_producer;
        m.seen = calloc((size_t)total, 1);
        goc_waitgroup_init(&m.producers);
        goc_waitgroup_init(&m.consumers);
        goc_waitgroup_add(&m.producers, P);
        goc_waitgroup_add(&m.consumers, C);
        struct mpmc_p ps[16];
        for (int i = 0; i < C; i++)
            goc_go(mpmc_consumer, &m);
        for (int i = 0; i < P; i++) {
            ps[i] = (struct mpmc_p){&m, i};
            goc_go(mpmc_producer, &ps[i]);
        }
        goc_go(mpmc_closer, &m);
        goc_waitgroup_wait(&m.consumers);
        CHECK(atomic_load(&m.count) == total);
        CHECK(atomic_load(&m.dup) == 0);
        CHECK(atomic_load(&m.sum) == (int64_t)total * (total - 1) / 2);
        free(m.seen);
        goc_chan_release(m.c);
    }
}

/* ---- Close wakes every waiter ----
 *
 * Plain receivers and select receivers wait on one channel; some of the
 * selects are won by another channel first (their sudogs leave the queue
 * while the others stay). Close must then wake every remaining waiter once,
 * with a zero value and ok = false: close detaches a queue with no select
 * waiters whole and walks one that has them (goc__waitq_take_all). */

enum { CW_PLAIN = 300, CW_SEL = 100 };

struct cw {
    goc_chan *c, *other;
    _Atomic int closed_seen, other_seen, bad;
    goc_waitgroup wg;
};

static void cw_plain(void *arg)
{
    struct cw *w = arg;
    long v = 0x5555555555555555L;
    bool ok = goc_chan_recv(w->c, &v);
    if (ok || v != 0)
        atomic_fetch_add(&w->bad, 1);
    else
        atomic_fetch_add(&w->closed_seen, 1);
    goc_waitgroup_done(&w->wg);
}

static void cw_select(void *arg)
{
    struct cw *w = arg;
    long v = 0x5555555555555555L, o;
    goc_select_case cs[2] = {GOC_RECV_CASE(w->c, &v), GOC_RECV_CASE(w->other, &o)};
    int r = goc_select(cs, 2, false);
    if (r == 1 && cs[1].ok)
        atomic_fetch_add(&w->other_seen, 1);
    else if (r == 0 && !cs[0].ok && v == 0)
        atomic_fetch_add(&w->closed_seen, 1);
    else
        atomic_fetch_add(&w->bad, 1);
    goc_waitgroup_done(&w->wg);
}

TEST(CloseWakesAll)
{
    for (int round = 0; round < SCALE(20) + 2; round++) {
        static struct cw w;
        memset(&w, 0, sizeof w);
        goc_waitgroup_init(&w.wg);
        w.c = goc_chan_make(sizeof(long), 0);
        w.other = goc_chan_make(sizeof(long), 0);
        /* Even rounds: plain waiters only (the queue is detached whole). */
        int nsel = round % 2 ? CW_SEL : 0, won = nsel / 2;
        goc_waitgroup_add(&w.wg, CW_PLAIN + nsel);
        for (int i = 0; i < CW_PLAIN + nsel; i++)
            goc_go(i % 4 == 3 && nsel ? cw_select : cw_plain, &w);
        /* Most are parked by now (not needed for the checks, which hold
         * for any interleaving). */
        for (int i = 0; i < 100; i++)
            goc_yield();
        for (int i = 0; i < won; i++)
            GOC_CHAN_SEND(w.other, long, i);
        goc_chan_close(w.c);
        goc_waitgroup_wait(&w.wg);
        CHECK(atomic_load(&w.bad) == 0);
        CHECK(atomic_load(&w.other_seen) == won);
        CHECK(atomic_load(&w.closed_seen) == CW_PLAIN + nsel - won);
        /* The queues are empty and usable: a closed channel answers at
         * once, and other still pairs a sender with a receiver. */
        long v = 7;
        CHECK(!goc_chan_recv(w.c, &v) && v == 0);
        CHECK(goc_chan_try_send(w.other, &v) == -EAGAIN);
        goc_chan_release(w.c);
        goc_chan_release(w.other);
    }
}

/* ---- Plain threads on both ends, and a select from a thread ---- */

/* The threads report their end on a channel: goroutine 1 waits there
 * (parking) rather than in pthread_join, which would block its worker (with
 * GOC_MAXPROCS=1, the only one, that goroutine_sender needs). */
static goc_chan *plain_fin;
static _Atomic int plain_known; /* threads goc knows (no false deadlock) */

static void *thread_sender(void *arg)
{
    goc_chan *c = arg;
    (void)goc_id(); /* known to goc from now on */
    atomic_fetch_add(&plain_known, 1);
    for (int i = 0; i < 1000; i++)
        goc_chan_send(c, &i);
    goc_chan_close(c);
    goc_chan_release(c);
    GOC_CHAN_SEND(plain_fin, long, 0);
    return NULL;
}

static void *thread_selecter(void *arg)
{
    goc_chan **cs = arg;
    long got = 0;
    (void)goc_id();
    atomic_fetch_add(&plain_known, 1);
    for (int open = 2; open > 0;) {
        int v;
        goc_select_case sc[] = {GOC_RECV_CASE(cs[0], &v), GOC_RECV_CASE(cs[1], &v)};
        int r = goc_select(sc, 2, false);
        if (!sc[r].ok) {
            cs[r] = NULL;
            open--;
        } else {
            got += v;
        }
    }
    GOC_CHAN_SEND(plain_fin, long, got);
    return NULL;
}

static void goroutine_sender(void *arg)
{
    goc_chan *c = arg;
    for (int i = 0; i < 1000; i++)
        goc_chan_send(c, &i);
    goc_chan_close(c);
    goc_chan_release(c);
}

TEST(PlainThreads)
{
    goc_chan *a = make_int_chan(0), *b = make_int_chan(3);
    goc_chan *cs[2] = {a, b};
    pthread_t sender, selecter;
    plain_fin = goc_chan_make(sizeof(long), 2);
    pthread_create(&sender, NULL, thread_sender, goc_chan_retain(a));
    goc_go(goroutine_sender, goc_chan_retain(b));
    pthread_create(&selecter, NULL, thread_selecter, cs);
    for (long i = 0; i < 100000000L && atomic_load(&plain_known) < 2; i++)
        goc_yield();
    long got = GOC_CHAN_RECV(plain_fin, long) + GOC_CHAN_RECV(plain_fin, long);
    pthread_join(sender, NULL);
    pthread_join(selecter, NULL);
    goc_chan_release(plain_fin);
    CHECK(got == 2 * 999 * 1000 / 2);
    goc_chan_release(a);
    goc_chan_release(b);
}

/* ---- Refcounts: releasing the last outside reference while a goroutine
 * is blocked on the channel ---- */

static void blocked_recv_then_done(void *arg)
{
    goc_chan **cd = arg;
    int v = GOC_CHAN_RECV(cd[0], int);
    goc_chan_send(cd[1], &v);
}

TEST(ReleaseWhileBlocked)
{
    goc_chan *c = make_int_chan(0), *done = make_int_chan(0);
    goc_chan *cd[2] = {c, done};
    goc_go(blocked_recv_then_done, cd);
    goc_chan *mine = goc_chan_retain(c);
    goc_chan_release(c); /* the creator lets go; "mine" and the receiver remain */
    GOC_CHAN_SEND(mine, int, 5);
    CHECK(GOC_CHAN_RECV(done, int) == 5);
    goc_chan_release(mine);
    goc_chan_release(done);
}

/* ---- Misuse and blocking forever, in child processes ---- */

static int sc_send_closed(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *c = make_int_chan(1);
    goc_chan_close(c);
    GOC_CHAN_SEND(c, int, 1);
    return 0;
}

static int sc_close_closed(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *c = make_int_chan(1);
    goc_chan_close(c);
    goc_chan_close(c);
    return 0;
}

static int sc_close_nil(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan_close(NULL);
    return 0;
}

static int sc_select_send_closed(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *c = make_int_chan(0);
    goc_chan_close(c);
    int v = 1;
    goc_select_case sc[] = {GOC_SEND_CASE(c, &v)};
    goc_select(sc, 1, true);
    return 0;
}

static void close_later(void *arg)
{
    goc_chan *c = arg;
    yield_n(YIELDS);
    goc_chan_close(c);
}

static int sc_blocked_send_closed(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *c = make_int_chan(0);
    goc_go(close_later, c);
    GOC_CHAN_SEND(c, int, 1); /* parks, then panics when close wakes it */
    return 0;
}

static void nil_recv_body(void *arg)
{
    (void)arg;
    goc_chan_recv(NULL, NULL);
}

static void no_cases_body(void *arg)
{
    (void)arg;
    goc_select(NULL, 0, false);
}

static void select_forever_body(void *arg)
{
    goc_chan *c = arg;
    goc_select_case sc[] = {GOC_RECV_CASE(c, NULL), GOC_RECV_CASE(NULL, NULL)};
    goc_select(sc, 2, false);
}

static void chan_recv_body(void *arg) { goc_chan_recv(arg, NULL); }

static int sc_block_forever(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *c = make_int_chan(0);
    goc_go(nil_recv_body, NULL);
    goc_go(no_cases_body, NULL);
    goc_go(select_forever_body, c);
    goc_go(chan_recv_body, c);
    yield_n(YIELDS);
    goc_chan_send(NULL, NULL); /* everyone asleep: deadlock */
    return 0;
}

static int sc_use_after_free(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *c = make_int_chan(4);
    goc_chan_release(c);
    GOC_CHAN_SEND(c, int, 1);
    return 0;
}

static void expect_panic(const char *scenario, const char *msg)
{
    int st = run_child(scenario, NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, msg) != NULL);
    if (st != 2 || !strstr(child_out, msg))
        fprintf(stderr, "child %s: status %d, output:\n%s\n", scenario, st, child_out);
}

TEST(MisusePanics)
{
    expect_panic("send_closed", "panic: send on closed channel");
    expect_panic("close_closed", "panic: close of closed channel");
    expect_panic("close_nil", "panic: close of nil channel");
    expect_panic("select_send_closed", "panic: send on closed channel");
    expect_panic("blocked_send_closed", "panic: send on closed channel");
}

TEST(BlockForever)
{
    int st = run_child("block_forever", NULL, child_out, sizeof child_out);
    CHECK(st == 2);
    CHECK(strstr(child_out, "all goroutines are asleep - deadlock!") != NULL);
    CHECK(strstr(child_out, "chan receive (nil chan)") != NULL);
    CHECK(strstr(child_out, "chan send (nil chan)") != NULL);
    CHECK(strstr(child_out, "select (no cases)") != NULL);
    CHECK(strstr(child_out, "[select") != NULL || strstr(child_out, " select") != NULL);
    CHECK(strstr(child_out, "chan receive\n") != NULL || strstr(child_out, "chan receive,") != NULL ||
          strstr(child_out, "chan receive]") != NULL);
    if (st != 2)
        fprintf(stderr, "child: status %d, output:\n%s\n", st, child_out);
}

TEST(UseAfterFree)
{
#if !defined(GOC_SANITIZE_ADDRESS) && !defined(GOC_SANITIZE_THREAD)
    /* The Release library is built with NDEBUG: no check. */
#else
    int st = run_child("use_after_free", NULL, child_out, sizeof child_out);
#if defined(GOC_SANITIZE_ADDRESS)
    /* ASan sees the freed memory first. */
    CHECK(st != 0 && strstr(child_out, "heap-use-after-free") != NULL);
#else
    CHECK(st == 2 && strstr(child_out, "goc: use of freed channel") != NULL);
#endif
    if (st == 0)
        fprintf(stderr, "child: status %d, output:\n%s\n", st, child_out);
#endif
}

static int run_all(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    RUN(TestChan);
    RUN(try_recv_after_close);
    RUN(select_one_case_both_forms);
    RUN(TestNonblockRecvRace);
    RUN(nonblock_recv_value_before_closed);
    RUN(TestSelfSelect);
    RUN(TestSelectStress);
    RUN(TestSelectFairness);
    RUN(TestPseudoRandomSend);
    RUN(fifo);
    RUN(goroutines);
    RUN(nonblock);
    RUN(select);
    RUN(select3);
    RUN(SelectManyCases);
    RUN(doubleselect);
    RUN(zerosize);
    RUN(closedchan);
    RUN(ProducersConsumersClose);
    RUN(CloseWakesAll);
    RUN(MemoryModelSemaphore);
    RUN(PlainThreads);
    RUN(ReleaseWhileBlocked);
    RUN(MisusePanics);
    RUN(BlockForever);
    RUN(UseAfterFree);
    RUN(sieve1);
    return test_summary();
}

static const struct test_scenario scenarios[] = {
    {"send_closed", sc_send_closed},
    {"close_closed", sc_close_closed},
    {"close_nil", sc_close_nil},
    {"select_send_closed", sc_select_send_closed},
    {"blocked_send_closed", sc_blocked_send_closed},
    {"block_forever", sc_block_forever},
    {"use_after_free", sc_use_after_free},
    {"sieve1", sc_sieve1},
};

int main(int argc, char **argv)
{
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
