/* chanport_test.c: the rest of Go's test/chan programs, ported to C
 * (tests/chan_test.c has sieve1, fifo, goroutines, nonblock, select,
 * select3, doubleselect and zerosize):
 *
 *   powser1   rational power series on demand channels (McIlroy), the
 *             checks of Go's test mode, its print mode's output, and the
 *             file's other operators (Recip, Shift, Mon, Monmul, Binom,
 *             Subst, eval) against what Go prints for them;
 *   powser2   the same on channels of pointers (Go: of interfaces);
 *   sieve2    the Eratosthenesque sieve: a heap of peeked channels, a proxy
 *             goroutine with a growing ring buffer behind a nil-able case;
 *   select2   100,000 selects do not grow the heap;
 *   select4   a select proceeds when a buffered value is ready, and leaves
 *             the other case's destination alone;
 *   select5   the generated program's recv, send and nonblock families,
 *             enumerated at run time (802 of Go's 1045 cases);
 *   select6   issue 2075: a failed select case leaves its channel's queue
 *             intact;
 *   select7   a received value discarded by a one- or two-case select;
 *   select8   one-, two- and three-case selects with default;
 *   sendstmt  a send case on a channel received from a channel of channels.
 *
 * Skipped: perm.go (an errorcheck test: channel directions are types in
 * Go, checked by its compiler; C has no such types), and select5's
 * recvOrder/sendOrder families (they check the order in which Go evaluates
 * a select's channel and value expressions; in C the caller builds the case
 * array with its own statements, so nothing of goc's is involved).
 *
 * Programs whose goroutines stay blocked when they are done (as Go's do,
 * until the process exits) run in a child process: their channels are never
 * freed, as Go's garbage collector would never need to either, and a
 * child's leaks are not reported (tests/test.h, run_child).
 */
#include <malloc.h>
#include <sys/mman.h>

#include "test.h"

#if defined(GOC_SANITIZE_ADDRESS) || defined(GOC_SANITIZE_THREAD)
/* <sanitizer/allocator_interface.h>, which not every compiler ships. */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

static char child_out[1 << 16];

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        perror("malloc");
        abort();
    }
    return p;
}

static goc_chan *xchan(size_t elem, size_t cap)
{
    goc_chan *c = goc_chan_make(elem, cap);
    if (!c) {
        perror("goc_chan_make");
        abort();
    }
    return c;
}

static void go(goc_fn fn, void *arg)
{
    if (goc_go(fn, arg) < 0) {
        fprintf(stderr, "goc_go failed\n");
        abort();
    }
}

/* Runs a scenario in a child; it must exit 0 and print `want` (if not NULL)
 * somewhere in its output. */
static void expect_child(const char *scenario, const char *want)
{
    int st = run_child(scenario, NULL, child_out, sizeof child_out);
    bool ok = st == 0 && (!want || strstr(child_out, want));
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "child %s: status %d, output:\n%s\n", scenario, st, child_out);
}

/* ======================================================================
 * test/chan/powser1.go and powser2.go: power series.
 *
 * A power series is a demand channel: a consumer sends a request on req,
 * then receives the next rational coefficient on dat. A denominator of zero
 * ends a series. Every operator starts a goroutine that serves its output
 * series on demand, pulling from its inputs. powser2 is the same program
 * with channels of interfaces; here, channels of pointers to rats.
 * ====================================================================== */

typedef struct {
    int64_t num, den;
} rat;

/* What flows on a dat channel: the rat itself (powser1) or a pointer to a
 * rat of its own (powser2). */
typedef union {
    rat v;
    rat *p;
} item;

static bool ps_boxed;

static void rat_pr(rat u)
{
    if (u.den == 1)
        printf("%lld", (long long)u.num);
    else
        printf("%lld/%lld", (long long)u.num, (long long)u.den);
    printf(" ");
}

static bool rat_eq(rat u, rat c) { return u.num == c.num && u.den == c.den; }

typedef struct dch {
    goc_chan *req; /* int: a request's serial number */
    goc_chan *dat; /* item */
    int nam;
} dch;

typedef dch *dch2[2];

static const char chnames[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/* Go's globals, written by many goroutines at once (races Go's test does
 * not mind: the values only name things); atomic here, as C requires. */
static atomic_int chnameserial, seqno;

static int next_seqno(void) { return atomic_fetch_add_explicit(&seqno, 1, memory_order_relaxed) + 1; }

static dch *mkdch(void)
{
    int c = atomic_fetch_add_explicit(&chnameserial, 1, memory_order_relaxed) %
            (int)strlen(chnames);
    dch *d = xmalloc(sizeof *d);
    d->req = xchan(sizeof(int), 0);
    d->dat = xchan(ps_boxed ? sizeof(rat *) : sizeof(rat), 0);
    d->nam = c;
    return d;
}

static dch **mkdch2(void)
{
    dch **d2 = xmalloc(sizeof(dch2));
    d2[0] = mkdch();
    d2[1] = mkdch();
    return d2;
}

static item box(rat r)
{
    item it;
    if (ps_boxed) {
        it.p = xmalloc(sizeof(rat));
        *it.p = r;
    } else {
        it.v = r;
    }
    return it;
}

static rat unbox(item it) { return ps_boxed ? *it.p : it.v; }

/* split reads a single demand channel and replicates its output onto two,
 * which may be read at different rates. A process is created at first
 * demand for a rat and dies after the rat has been sent to both outputs.
 *
 * When multiple generations of split exist, the newest will service
 * requests on one channel, which is always renamed to be out[0]; the oldest
 * will service requests on the other channel, out[1]. All generations but
 * the newest hold queued data that has already been sent to out[0]. When
 * data has finally been sent to out[1], a signal on the release-wait
 * channel tells the next newer generation to begin servicing out[1]. */

struct dosplit_args {
    dch *in;
    dch **out;
    goc_chan *wait;
};

static void go_dosplit(dch *in, dch **out, goc_chan *wait);

static void dosplit(void *arg)
{
    struct dosplit_args a = *(struct dosplit_args *)arg;
    free(arg);
    dch *in = a.in, **out = a.out;
    bool both = false; /* do not service both channels */

    goc_select_case s1[] = {GOC_RECV_CASE(out[0]->req, NULL), GOC_RECV_CASE(a.wait, NULL)};
    if (goc_select(s1, 2, false) == 1) {
        both = true;
        goc_select_case s2[] = {GOC_RECV_CASE(out[0]->req, NULL), GOC_RECV_CASE(out[1]->req, NULL)};
        if (goc_select(s2, 2, false) == 1) {
            dch *t = out[0];
            out[0] = out[1];
            out[1] = t;
        }
    }

    int seq = next_seqno();
    goc_chan_send(in->req, &seq);
    goc_chan *release = xchan(sizeof(int), 0);
    go_dosplit(in, out, release);
    item dat;
    goc_chan_recv(in->dat, &dat);
    goc_chan_send(out[0]->dat, &dat);
    if (!both)
        goc_chan_recv(a.wait, NULL);
    goc_chan_recv(out[1]->req, NULL);
    goc_chan_send(out[1]->dat, &dat);
    GOC_CHAN_SEND(release, int, 0);
}

static void go_dosplit(dch *in, dch **out, goc_chan *wait)
{
    struct dosplit_args *a = xmalloc(sizeof *a);
    *a = (struct dosplit_args){in, out, wait};
    go(dosplit, a);
}

static void split(dch *in, dch **out)
{
    goc_chan *release = xchan(sizeof(int), 0);
    go_dosplit(in, out, release);
    GOC_CHAN_SEND(release, int, 0);
}

static void put(rat dat, dch *out)
{
    goc_chan_recv(out->req, NULL);
    item it = box(dat);
    goc_chan_send(out->dat, &it);
}

static rat get(dch *in)
{
    int seq = next_seqno();
    goc_chan_send(in->req, &seq);
    item it;
    goc_chan_recv(in->dat, &it);
    return unbox(it);
}

/* Get one rat from each of n demand channels. */
static void getn(dch *in[], int n, rat out[])
{
    if (n != 2)
        goc_panic("bad n in getn");
    goc_chan *req[2], *dat[2];
    item it;
    for (int i = 0; i < n; i++) {
        req[i] = in[i]->req;
        dat[i] = NULL;
    }
    for (n = 2 * n; n > 0; n--) {
        int seq = next_seqno();
        goc_select_case cs[] = {
            GOC_SEND_CASE(req[0], &seq),
            GOC_SEND_CASE(req[1], &seq),
            GOC_RECV_CASE(dat[0], &it),
            GOC_RECV_CASE(dat[1], &it),
        };
        switch (goc_select(cs, 4, false)) {
        case 0:
            dat[0] = in[0]->dat;
            req[0] = NULL;
            break;
        case 1:
            dat[1] = in[1]->dat;
            req[1] = NULL;
            break;
        case 2:
            out[0] = unbox(it);
            dat[0] = NULL;
            break;
        case 3:
            out[1] = unbox(it);
            dat[1] = NULL;
            break;
        }
    }
}

/* Get one rat from each of 2 demand channels. */
static void get2(dch *in0, dch *in1, rat out[2]) { getn((dch *[]){in0, in1}, 2, out); }

static _Noreturn void copy(dch *in, dch *out)
{
    for (;;) {
        goc_chan_recv(out->req, NULL);
        item it = box(get(in));
        goc_chan_send(out->dat, &it);
    }
}

static _Noreturn void repeat(rat dat, dch *out)
{
    for (;;)
        put(dat, out);
}

typedef dch *PS; /* power series */

static PS Ones, Twos;

static PS mkPS(void) { return mkdch(); }
static dch **mkPS2(void) { return mkdch2(); }

/* Integer gcd; needed for rational arithmetic. */
static int64_t gcd(int64_t u, int64_t v)
{
    if (u < 0)
        return gcd(-u, v);
    if (u == 0)
        return v;
    return gcd(v % u, u);
}

/* Make a rational from two ints and from one int. */
static rat i2tor(int64_t u, int64_t v)
{
    int64_t g = gcd(u, v);
    rat r;
    if (v > 0) {
        r.num = u / g;
        r.den = v / g;
    } else {
        r.num = -u / g;
        r.den = -v / g;
    }
    return r;
}

static rat itor(int64_t u) { return i2tor(u, 1); }

static rat zero, one;
static rat finis; /* the end mark */

static int64_t end(rat u) { return u.den == 0; }

/* Operations on rationals. */
static rat add(rat u, rat v)
{
    int64_t g = gcd(u.den, v.den);
    return i2tor(u.num * (v.den / g) + v.num * (u.den / g), u.den * (v.den / g));
}

static rat mul(rat u, rat v)
{
    int64_t g1 = gcd(u.num, v.den);
    int64_t g2 = gcd(u.den, v.num);
    rat r;
    r.num = (u.num / g1) * (v.num / g2);
    r.den = (u.den / g2) * (v.den / g1);
    return r;
}

static rat neg(rat u) { return i2tor(-u.num, u.den); }
static rat sub(rat u, rat v) { return add(u, neg(v)); }

static rat inv(rat u)
{
    if (u.num == 0)
        goc_panic("zero divide in inv");
    return i2tor(u.den, u.num);
}

/* Print n terms of a power series. */
static void printn(PS U, int n)
{
    bool done = false;
    for (; !done && n > 0; n--) {
        rat u = get(U);
        if (end(u))
            done = true;
        else
            rat_pr(u);
    }
    printf("\n");
}

/* Evaluate n terms of power series U at x=c. */
static rat eval(rat c, PS U, int n)
{
    if (n == 0)
        return zero;
    rat y = get(U);
    if (end(y))
        return zero;
    return add(y, mul(c, eval(c, U, n - 1)));
}

/* Power-series constructors return channels on which power series flow.
 * They start an encapsulated generator that puts the terms of the series on
 * the channel. Each generator gets its closure's variables in a ps_args it
 * frees. */
struct ps_args {
    PS U, V, Z;
    dch **UU;
    rat c;
    int n;
};

static void go_ps(goc_fn fn, struct ps_args a)
{
    struct ps_args *p = xmalloc(sizeof *p);
    *p = a;
    go(fn, p);
}

static struct ps_args take(void *arg)
{
    struct ps_args a = *(struct ps_args *)arg;
    free(arg);
    return a;
}

static void split_body(void *arg)
{
    struct ps_args a = take(arg);
    split(a.U, a.UU);
}

/* Make a pair of power series identical to a given power series. */
static dch **Split(PS U)
{
    dch **UU = mkdch2();
    go_ps(split_body, (struct ps_args){.U = U, .UU = UU});
    return UU;
}

static void add_body(void *arg)
{
    struct ps_args a = take(arg);
    rat uv[2];
    for (;;) {
        goc_chan_recv(a.Z->req, NULL);
        get2(a.U, a.V, uv);
        item it;
        switch (end(uv[0]) + 2 * end(uv[1])) {
        case 0:
            it = box(add(uv[0], uv[1]));
            goc_chan_send(a.Z->dat, &it);
            break;
        case 1:
            it = box(uv[1]);
            goc_chan_send(a.Z->dat, &it);
            copy(a.V, a.Z);
        case 2:
            it = box(uv[0]);
            goc_chan_send(a.Z->dat, &it);
            copy(a.U, a.Z);
        case 3:
            it = box(finis);
            goc_chan_send(a.Z->dat, &it);
        }
    }
}

/* Add two power series. */
static PS Add(PS U, PS V)
{
    PS Z = mkPS();
    go_ps(add_body, (struct ps_args){.U = U, .V = V, .Z = Z});
    return Z;
}

static void cmul_body(void *arg)
{
    struct ps_args a = take(arg);
    bool done = false;
    item it;
    while (!done) {
        goc_chan_recv(a.Z->req, NULL);
        rat u = get(a.U);
        if (end(u)) {
            done = true;
        } else {
            it = box(mul(a.c, u));
            goc_chan_send(a.Z->dat, &it);
        }
    }
    it = box(finis);
    goc_chan_send(a.Z->dat, &it);
}

/* Multiply a power series by a constant. */
static PS Cmul(rat c, PS U)
{
    PS Z = mkPS();
    go_ps(cmul_body, (struct ps_args){.U = U, .Z = Z, .c = c});
    return Z;
}

/* Subtract. */
static PS Sub(PS U, PS V) { return Add(U, Cmul(neg(one), V)); }

static void monmul_body(void *arg)
{
    struct ps_args a = take(arg);
    for (; a.n > 0; a.n--)
        put(zero, a.Z);
    copy(a.U, a.Z);
}

/* Multiply a power series by the monomial x^n. */
static PS Monmul(PS U, int n)
{
    PS Z = mkPS();
    go_ps(monmul_body, (struct ps_args){.U = U, .Z = Z, .n = n});
    return Z;
}

/* Multiply by x. */
static PS Xmul(PS U) { return Monmul(U, 1); }

static void repeat_body(void *arg)
{
    struct ps_args a = take(arg);
    repeat(a.c, a.Z);
}

static PS Rep(rat c)
{
    PS Z = mkPS();
    go_ps(repeat_body, (struct ps_args){.Z = Z, .c = c});
    return Z;
}

static void mon_body(void *arg)
{
    struct ps_args a = take(arg);
    if (a.c.num != 0) {
        for (; a.n > 0; a.n = a.n - 1)
            put(zero, a.Z);
        put(a.c, a.Z);
    }
    put(finis, a.Z);
}

/* Monomial c*x^n. */
static PS Mon(rat c, int n)
{
    PS Z = mkPS();
    go_ps(mon_body, (struct ps_args){.Z = Z, .c = c, .n = n});
    return Z;
}

static void shift_body(void *arg)
{
    struct ps_args a = take(arg);
    put(a.c, a.Z);
    copy(a.U, a.Z);
}

static PS Shift(rat c, PS U)
{
    PS Z = mkPS();
    go_ps(shift_body, (struct ps_args){.U = U, .Z = Z, .c = c});
    return Z;
}

/* Multiply. The algorithm is
 *	let U = u + x*UU
 *	let V = v + x*VV
 *	then UV = u*v + x*(u*VV+v*UU) + x*x*UU*VV */
static PS Mul(PS U, PS V);

static void mul_body(void *arg)
{
    struct ps_args a = take(arg);
    item it;
    rat uv[2];
    goc_chan_recv(a.Z->req, NULL);
    get2(a.U, a.V, uv);
    if (end(uv[0]) || end(uv[1])) {
        it = box(finis);
        goc_chan_send(a.Z->dat, &it);
    } else {
        it = box(mul(uv[0], uv[1]));
        goc_chan_send(a.Z->dat, &it);
        dch **UU = Split(a.U);
        dch **VV = Split(a.V);
        PS W = Add(Cmul(uv[0], VV[0]), Cmul(uv[1], UU[0]));
        goc_chan_recv(a.Z->req, NULL);
        it = box(get(W));
        goc_chan_send(a.Z->dat, &it);
        copy(Add(W, Mul(UU[1], VV[1])), a.Z);
    }
}

static PS Mul(PS U, PS V)
{
    PS Z = mkPS();
    go_ps(mul_body, (struct ps_args){.U = U, .V = V, .Z = Z});
    return Z;
}

static void diff_body(void *arg)
{
    struct ps_args a = take(arg);
    item it;
    goc_chan_recv(a.Z->req, NULL);
    rat u = get(a.U);
    if (!end(u)) {
        bool done = false;
        for (int i = 1; !done; i++) {
            u = get(a.U);
            if (end(u)) {
                done = true;
            } else {
                it = box(mul(itor(i), u));
                goc_chan_send(a.Z->dat, &it);
                goc_chan_recv(a.Z->req, NULL);
            }
        }
    }
    it = box(finis);
    goc_chan_send(a.Z->dat, &it);
}

/* Differentiate. */
static PS Diff(PS U)
{
    PS Z = mkPS();
    go_ps(diff_body, (struct ps_args){.U = U, .Z = Z});
    return Z;
}

static void integ_body(void *arg)
{
    struct ps_args a = take(arg);
    item it;
    put(a.c, a.Z);
    bool done = false;
    for (int i = 1; !done; i++) {
        goc_chan_recv(a.Z->req, NULL);
        rat u = get(a.U);
        if (end(u))
            done = true;
        it = box(mul(i2tor(1, i), u));
        goc_chan_send(a.Z->dat, &it);
    }
    it = box(finis);
    goc_chan_send(a.Z->dat, &it);
}

/* Integrate, with const of integration. */
static PS Integ(rat c, PS U)
{
    PS Z = mkPS();
    go_ps(integ_body, (struct ps_args){.U = U, .Z = Z, .c = c});
    return Z;
}

static void binom_body(void *arg)
{
    struct ps_args a = take(arg);
    int n = 1;
    rat t = itor(1);
    while (a.c.num != 0) {
        put(t, a.Z);
        t = mul(mul(t, a.c), i2tor(1, n));
        a.c = sub(a.c, one);
        n++;
    }
    put(finis, a.Z);
}

/* Binomial theorem (1+x)^c. */
static PS Binom(rat c)
{
    PS Z = mkPS();
    go_ps(binom_body, (struct ps_args){.Z = Z, .c = c});
    return Z;
}

static void recip_body(void *arg)
{
    struct ps_args a = take(arg);
    dch **ZZ = mkPS2();
    goc_chan_recv(a.Z->req, NULL);
    rat z = inv(get(a.U));
    item it = box(z);
    goc_chan_send(a.Z->dat, &it);
    split(Mul(Cmul(neg(z), a.U), Shift(z, ZZ[0])), ZZ);
    copy(ZZ[1], a.Z);
}

/* Reciprocal of a power series
 *	let U = u + x*UU
 *	let Z = z + x*ZZ
 *	(u+x*UU)*(z+x*ZZ) = 1
 *	z = 1/u
 *	u*ZZ + z*UU +x*UU*ZZ = 0
 *	ZZ = -UU*(z+x*ZZ)/u */
static PS Recip(PS U)
{
    PS Z = mkPS();
    go_ps(recip_body, (struct ps_args){.U = U, .Z = Z});
    return Z;
}

/* Exponential of a power series with constant term 0 (nonzero constant
 * term would make nonrational coefficients); bug: the constant term is
 * simply ignored.
 *	Z = exp(U)
 *	DZ = Z*DU
 *	integrate to get Z */
static PS Exp(PS U)
{
    dch **ZZ = mkPS2();
    split(Integ(one, Mul(ZZ[0], Diff(U))), ZZ);
    return ZZ[1];
}

static PS Subst(PS U, PS V);

static void subst_body(void *arg)
{
    struct ps_args a = take(arg);
    dch **VV = Split(a.V);
    goc_chan_recv(a.Z->req, NULL);
    rat u = get(a.U);
    item it = box(u);
    goc_chan_send(a.Z->dat, &it);
    if (!end(u)) {
        if (end(get(VV[0])))
            put(finis, a.Z);
        else
            copy(Mul(VV[0], Subst(a.U, VV[1])), a.Z);
    }
}

/* Substitute V for x in U, where the leading term of V is zero
 *	let U = u + x*UU
 *	let V = v + x*VV
 *	then S(U,V) = u + VV*S(V,UU)
 * bug: a nonzero constant term is ignored */
static PS Subst(PS U, PS V)
{
    PS Z = mkPS();
    go_ps(subst_body, (struct ps_args){.U = U, .V = V, .Z = Z});
    return Z;
}

static void monsubst_body(void *arg)
{
    struct ps_args a = take(arg);
    rat c0 = a.c, c = one;
    item it;
    for (;;) {
        goc_chan_recv(a.Z->req, NULL);
        rat u = get(a.U);
        it = box(mul(u, c));
        goc_chan_send(a.Z->dat, &it);
        c = mul(c, c0);
        if (end(u)) {
            it = box(finis);
            goc_chan_send(a.Z->dat, &it);
            break;
        }
        for (int i = 1; i < a.n; i++) {
            goc_chan_recv(a.Z->req, NULL);
            it = box(zero);
            goc_chan_send(a.Z->dat, &it);
        }
    }
}

/* Monomial Substitution: U(c x^n). Each Ui is multiplied by c^i and
 * followed by n-1 zeros. */
static PS MonSubst(PS U, rat c0, int n)
{
    PS Z = mkPS();
    go_ps(monsubst_body, (struct ps_args){.U = U, .Z = Z, .c = c0, .n = n});
    return Z;
}

static void ps_init(bool boxed)
{
    ps_boxed = boxed;
    atomic_store(&chnameserial, -1);
    atomic_store(&seqno, 0);
    zero = itor(0);
    one = itor(1);
    finis = i2tor(1, 0);
    Ones = Rep(one);
    Twos = Rep(itor(2));
}

static void ps_check(PS U, rat c, int count, const char *str)
{
    for (int i = 0; i < count; i++) {
        rat r = get(U);
        if (!rat_eq(r, c)) {
            printf("got: ");
            rat_pr(r);
            printf("should get ");
            rat_pr(c);
            printf("\n");
            goc_panic("%s", str);
        }
    }
}

#define N 10

static void checka(PS U, const rat a[], const char *str)
{
    for (int i = 0; i < N; i++)
        ps_check(U, a[i], 1, str);
}

/* Go's main in test mode. */
static int powser_test(bool boxed)
{
    ps_init(boxed);
    ps_check(Ones, one, 5, "Ones");
    ps_check(Add(Ones, Ones), itor(2), 0, "Add Ones Ones"); /* 1 1 1 1 1 */
    ps_check(Add(Ones, Twos), itor(3), 0, "Add Ones Twos"); /* 3 3 3 3 3 */
    rat a[N];
    PS d = Diff(Ones);
    for (int i = 0; i < N; i++)
        a[i] = itor(i + 1);
    checka(d, a, "Diff"); /* 1 2 3 4 5 */
    PS in = Integ(zero, Ones);
    a[0] = zero; /* integration constant */
    for (int i = 1; i < N; i++)
        a[i] = i2tor(1, i);
    checka(in, a, "Integ");                               /* 0 1 1/2 1/3 1/4 1/5 */
    ps_check(Cmul(neg(one), Twos), itor(-2), 10, "CMul"); /* -1 -1 -1 -1 -1 */
    ps_check(Sub(Ones, Twos), itor(-1), 0, "Sub Ones Twos"); /* -1 -1 -1 -1 -1 */
    PS m = Mul(Ones, Ones);
    for (int i = 0; i < N; i++)
        a[i] = itor(i + 1);
    checka(m, a, "Mul"); /* 1 2 3 4 5 */
    PS e = Exp(Ones);
    a[0] = itor(1);
    a[1] = itor(1);
    a[2] = i2tor(3, 2);
    a[3] = i2tor(13, 6);
    a[4] = i2tor(73, 24);
    a[5] = i2tor(167, 40);
    a[6] = i2tor(4051, 720);
    a[7] = i2tor(37633, 5040);
    a[8] = i2tor(43817, 4480);
    a[9] = i2tor(4596553, 362880);
    checka(e, a, "Exp"); /* 1 1 3/2 13/6 73/24 */
    PS at = Integ(zero, MonSubst(Ones, neg(one), 2));
    for (int c = 1, i = 0; i < N; i++) {
        if (i % 2 == 0) {
            a[i] = zero;
        } else {
            a[i] = i2tor(c, i);
            c *= -1;
        }
    }
    checka(at, a, "ATan"); /* 0 -1 0 -1/3 0 -1/5 */
    printf("powser ok\n");
    return 0;
}

/* Go's main in print mode, then the operators its main leaves unused. */
static int powser_print(bool boxed)
{
    ps_init(boxed);
    printf("Ones: ");
    printn(Ones, 10);
    printf("Twos: ");
    printn(Twos, 10);
    printf("Add: ");
    printn(Add(Ones, Twos), 10);
    printf("Diff: ");
    printn(Diff(Ones), 10);
    printf("Integ: ");
    printn(Integ(zero, Ones), 10);
    printf("CMul: ");
    printn(Cmul(neg(one), Ones), 10);
    printf("Sub: ");
    printn(Sub(Ones, Twos), 10);
    printf("Mul: ");
    printn(Mul(Ones, Ones), 10);
    printf("Exp: ");
    printn(Exp(Ones), 15);
    printf("MonSubst: ");
    printn(MonSubst(Ones, neg(one), 2), 10);
    printf("ATan: ");
    printn(Integ(zero, MonSubst(Ones, neg(one), 2)), 10);
    /* Beyond Go's main. */
    printf("Recip: ");
    printn(Recip(Ones), 10);
    printf("Recip2: ");
    printn(Recip(Add(Ones, Ones)), 10);
    printf("Xmul: ");
    printn(Xmul(Ones), 10);
    printf("Mon: ");
    printn(Mon(i2tor(3, 4), 3), 10);
    printf("Binom: ");
    printn(Binom(itor(3)), 10);
    printf("BinomH: ");
    printn(Binom(i2tor(1, 2)), 8);
    printf("Subst: ");
    printn(Subst(Ones, Mon(one, 1)), 10);
    printf("Subst2: ");
    printn(Subst(Ones, Xmul(Ones)), 10);
    printf("Shift: ");
    printn(Shift(itor(7), Twos), 5);
    printf("Eval: ");
    rat_pr(eval(i2tor(1, 2), Ones, 10));
    printf("\n");
    fflush(stdout);
    return 0;
}

/* What Go 1.19 prints for the same calls (`go run powser1.go x`, and the
 * lines after ATan from the same calls added to its main). */
static const char powser_print_want[] =
    "Ones: 1 1 1 1 1 1 1 1 1 1 \n"
    "Twos: 2 2 2 2 2 2 2 2 2 2 \n"
    "Add: 3 3 3 3 3 3 3 3 3 3 \n"
    "Diff: 1 2 3 4 5 6 7 8 9 10 \n"
    "Integ: 0 1 1/2 1/3 1/4 1/5 1/6 1/7 1/8 1/9 \n"
    "CMul: -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 \n"
    "Sub: -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 \n"
    "Mul: 1 2 3 4 5 6 7 8 9 10 \n"
    "Exp: 1 1 3/2 13/6 73/24 167/40 4051/720 37633/5040 43817/4480 4596553/362880 "
    "58941091/3628800 274691047/13305600 12470162233/479001600 202976401213/6227020800 "
    "1178339174801/29059430400 \n"
    "MonSubst: 1 0 -1 0 1 0 -1 0 1 0 \n"
    "ATan: 0 1 0 -1/3 0 1/5 0 -1/7 0 1/9 \n"
    "Recip: 1 -1 0 0 0 0 0 0 0 0 \n"
    "Recip2: 1/2 -1/2 0 0 0 0 0 0 0 0 \n"
    "Xmul: 0 1 1 1 1 1 1 1 1 1 \n"
    "Mon: 0 0 0 3/4 \n"
    "Binom: 1 3 3 \n"
    "BinomH: 1 1/2 -1/8 1/16 -5/128 7/256 -21/1024 33/2048 \n"
    "Subst: 1 1 1 1 1 1 1 1 1 1 \n"
    "Subst2: 1 1 2 4 8 16 32 64 128 256 \n"
    "Shift: 7 2 2 2 2 \n"
    "Eval: 1023/512 \n";

static int sc_powser1(int argc, char **argv) { (void)argc, (void)argv; return powser_test(false); }
static int sc_powser2(int argc, char **argv) { (void)argc, (void)argv; return powser_test(true); }
static int sc_powser1_print(int argc, char **argv) { (void)argc, (void)argv; return powser_print(false); }
static int sc_powser2_print(int argc, char **argv) { (void)argc, (void)argv; return powser_print(true); }

TEST(powser1)
{
    expect_child("powser1", "powser ok");
    int st = run_child("powser1_print", NULL, child_out, sizeof child_out);
    CHECK(st == 0 && strcmp(child_out, powser_print_want) == 0);
    if (st != 0 || strcmp(child_out, powser_print_want) != 0)
        fprintf(stderr, "powser1 print: status %d, output:\n%s\n", st, child_out);
}

TEST(powser2)
{
    expect_child("powser2", "powser ok");
    int st = run_child("powser2_print", NULL, child_out, sizeof child_out);
    CHECK(st == 0 && strcmp(child_out, powser_print_want) == 0);
    if (st != 0 || strcmp(child_out, powser_print_want) != 0)
        fprintf(stderr, "powser2 print: status %d, output:\n%s\n", st, child_out);
}

#undef N

/* ======================================================================
 * test/chan/sieve2.go: primes up to 100 by an Eratosthenesque sieve that
 * only considers odd candidates.
 * ====================================================================== */

struct int_gen {
    goc_chan *out;
    int n, step;
};

static void int_gen_body(void *arg)
{
    struct int_gen g = *(struct int_gen *)arg;
    free(arg);
    for (;;) {
        goc_chan_send(g.out, &g.n);
        g.n += g.step;
    }
}

static goc_chan *int_gen(size_t cap, int n, int step)
{
    goc_chan *out = xchan(sizeof(int), cap);
    struct int_gen *g = xmalloc(sizeof *g);
    *g = (struct int_gen){out, n, step};
    go(int_gen_body, g); /* which frees g */
    return out;
}

/* Return a chan of odd numbers, starting from 5. */
static goc_chan *odds(void) { return int_gen(50, 5, 2); }

/* Return a chan of odd multiples of the prime number p, starting from p*p. */
static goc_chan *multiples(int p) { return int_gen(10, p * p, 2 * p); }

typedef struct {
    int head;
    goc_chan *ch;
} PeekCh;

/* A min-heap of PeekCh by head (Go: container/heap over PeekChHeap). */
typedef struct {
    PeekCh **a;
    int n, cap;
} PeekChHeap;

static void heap_swap(PeekChHeap *h, int i, int j)
{
    PeekCh *t = h->a[i];
    h->a[i] = h->a[j];
    h->a[j] = t;
}

static void heap_down(PeekChHeap *h, int i, int n)
{
    for (;;) {
        int j = 2 * i + 1, k;
        if (j >= n)
            break;
        k = j;
        if (j + 1 < n && h->a[j + 1]->head < h->a[j]->head)
            k = j + 1;
        if (!(h->a[k]->head < h->a[i]->head))
            break;
        heap_swap(h, i, k);
        i = k;
    }
}

static void heap_push(PeekChHeap *h, PeekCh *x)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 8;
        h->a = realloc(h->a, sizeof *h->a * (size_t)h->cap);
        if (!h->a)
            abort();
    }
    int i = h->n++;
    h->a[i] = x;
    while (i > 0 && h->a[i]->head < h->a[(i - 1) / 2]->head) {
        heap_swap(h, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static PeekCh *heap_pop(PeekChHeap *h)
{
    if (h->n == 0)
        goc_panic("pop from an empty heap");
    int n = h->n - 1;
    heap_swap(h, 0, n);
    heap_down(h, 0, n);
    return h->a[--h->n];
}

/* A circular list of ints (Go: container/ring). */
typedef struct ring {
    struct ring *next;
    int value;
} ring;

static ring *ring_new(int n)
{
    ring *first = xmalloc(sizeof *first), *r = first;
    for (int i = 1; i < n; i++) {
        r->next = xmalloc(sizeof *r);
        r = r->next;
    }
    r->next = first;
    return first;
}

/* r.Link(s) for a fresh ring s: s's elements come right after r. */
static void ring_link(ring *r, ring *s)
{
    ring *s_last = s;
    while (s_last->next != s)
        s_last = s_last->next;
    s_last->next = r->next;
    r->next = s;
}

struct proxy {
    goc_chan *in, *out;
};

static void sendproxy_body(void *arg)
{
    struct proxy p = *(struct proxy *)arg;
    free(arg);
    int n = 16; /* the allocated size of the circular queue */
    ring *first = ring_new(n), *last = first;
    goc_chan *c;
    int e = 0;
    for (;;) {
        c = p.out;
        if (first == last)
            c = NULL; /* buffer empty: disable output */
        else
            e = first->value;
        goc_select_case cs[] = {GOC_RECV_CASE(p.in, &e), GOC_SEND_CASE(c, &e)};
        switch (goc_select(cs, 2, false)) {
        case 0:
            last->value = e;
            if (last->next == first) {
                /* buffer full: expand it */
                ring_link(last, ring_new(n));
                n *= 2;
            }
            last = last->next;
            break;
        case 1:
            first = first->next;
            break;
        }
    }
}

/* Return a channel to serve as a sending proxy to out. A goroutine
 * receives values from the proxy and stores them in an expanding buffer,
 * so that sending to out never blocks. */
static goc_chan *sendproxy(goc_chan *out)
{
    goc_chan *in = xchan(sizeof(int), 10);
    struct proxy *p = xmalloc(sizeof *p);
    *p = (struct proxy){in, out};
    go(sendproxy_body, p); /* which frees p */
    return in;
}

struct sieve2 {
    goc_chan *out, *composites, *primes;
};

/* Merge channels of multiples of primes into composites. */
static void sieve2_merge(void *arg)
{
    struct sieve2 *s = arg;
    PeekChHeap h = {0};
    int min = 15;
    for (;;) {
        goc_chan *m = multiples(GOC_CHAN_RECV(s->primes, int));
        int head = GOC_CHAN_RECV(m, int);
        while (min < head) {
            goc_chan_send(s->composites, &min);
            PeekCh *minchan = heap_pop(&h);
            min = minchan->head;
            minchan->head = GOC_CHAN_RECV(minchan->ch, int);
            heap_push(&h, minchan);
        }
        while (min == head) {
            PeekCh *minchan = heap_pop(&h);
            min = minchan->head;
            minchan->head = GOC_CHAN_RECV(minchan->ch, int);
            heap_push(&h, minchan);
        }
        goc_chan_send(s->composites, &head);
        PeekCh *pc = xmalloc(sizeof *pc);
        *pc = (PeekCh){GOC_CHAN_RECV(m, int), m};
        heap_push(&h, pc);
    }
}

/* Sieve out composites from candidates. */
static void sieve2_sift(void *arg)
{
    struct sieve2 *s = arg;
    /* In order to generate the nth prime we only need multiples of primes
     * <= sqrt(nth prime). Thus, the merging goroutine will receive from
     * primes much slower than this goroutine will send to it, making the
     * buffer accumulate and block this goroutine from sending, causing a
     * deadlock. The solution is to use a proxy goroutine to do automatic
     * buffering. */
    goc_chan *primes = sendproxy(s->primes);
    goc_chan *candidates = odds();
    int p = GOC_CHAN_RECV(candidates, int);
    for (;;) {
        int c = GOC_CHAN_RECV(s->composites, int);
        while (p < c) {
            goc_chan_send(primes, &p);
            goc_chan_send(s->out, &p);
            p = GOC_CHAN_RECV(candidates, int);
        }
        if (p == c)
            p = GOC_CHAN_RECV(candidates, int);
    }
}

/* Return a chan int of primes. */
static goc_chan *Sieve(void)
{
    struct sieve2 *s = xmalloc(sizeof *s);
    /* The output values. */
    s->out = xchan(sizeof(int), 10);
    GOC_CHAN_SEND(s->out, int, 2);
    GOC_CHAN_SEND(s->out, int, 3);
    /* The channel of all composites to be eliminated in increasing order. */
    s->composites = xchan(sizeof(int), 50);
    /* The feedback loop. */
    s->primes = xchan(sizeof(int), 10);
    GOC_CHAN_SEND(s->primes, int, 3);
    go(sieve2_merge, s);
    go(sieve2_sift, s);
    return s->out;
}

static int sc_sieve2(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *primes = Sieve();
    static const int a[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                            43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) {
        int x = GOC_CHAN_RECV(primes, int);
        if (x != a[i]) {
            printf("%d != %d\n", x, a[i]);
            goc_panic("fail");
        }
    }
    printf("sieve2 ok\n");
    return 0;
}

TEST(sieve2) { expect_child("sieve2", "sieve2 ok"); }

/* ======================================================================
 * test/chan/select2.go: selects do not consume undue memory.
 * ====================================================================== */

/* Bytes the process has allocated and not freed. */
static size_t heap_in_use(void)
{
#if defined(GOC_SANITIZE_ADDRESS) || defined(GOC_SANITIZE_THREAD)
    return __sanitizer_get_current_allocated_bytes();
#else
    return mallinfo2().uordblks; /* every arena's */
#endif
}

struct sel2 {
    goc_chan *c;
    int n;
    goc_waitgroup wg;
};

static void sel2_sender(void *arg)
{
    struct sel2 *s = arg;
    for (int i = 0; i < s->n; i++)
        GOC_CHAN_SEND(s->c, int, 1);
    goc_waitgroup_done(&s->wg);
}

static bool sel2_receiver(goc_chan *c, goc_chan *dummy, int n)
{
    bool ok = true;
    for (int i = 0; i < n; i++) {
        goc_select_case cs[] = {GOC_RECV_CASE(c, NULL), GOC_RECV_CASE(dummy, NULL)};
        if (goc_select(cs, 2, false) != 0)
            ok = false; /* Go: panic("dummy") */
    }
    return ok;
}

static void sel2_round(struct sel2 *s, goc_chan *dummy)
{
    goc_waitgroup_add(&s->wg, 1);
    go(sel2_sender, s);
    CHECK(sel2_receiver(s->c, dummy, s->n));
    goc_waitgroup_wait(&s->wg); /* the sender has returned: nothing of it counts */
}

TEST(select2)
{
    struct sel2 s = {.c = xchan(sizeof(int), 0), .n = SCALE(100000), .wg = GOC_WAITGROUP_INIT};
    goc_chan *dummy = xchan(sizeof(int), 0);
    /* warm up */
    sel2_round(&s, dummy);
    size_t alloc = heap_in_use();
    /* second time shouldn't increase footprint by much */
    sel2_round(&s, dummy);
    size_t now = heap_in_use();
    if (now > alloc && now - alloc > 110000) {
        fprintf(stderr, "BUG: too much memory for %d selects: %zu\n", s.n, now - alloc);
        CHECK(!"select2: the heap grew");
    }
    goc_chan_release(s.c);
    goc_chan_release(dummy);
}

/* ======================================================================
 * test/chan/select4.go: a select proceeds when a value is ready. Go's
 * `case *f() = <-c1` must not evaluate f() unless that case is chosen; in
 * C the destination of a receive case is given up front, so the check is
 * that nothing is stored there.
 * ====================================================================== */

TEST(select4)
{
    struct {
        int a;
    } x = {0};
    int fdest = -7; /* where *f() would point */
    goc_chan *c = xchan(sizeof(int), 1), *c1 = xchan(sizeof(int), 0);
    GOC_CHAN_SEND(c, int, 42);
    goc_select_case cs[] = {GOC_RECV_CASE(c1, &fdest), GOC_RECV_CASE(c, &x.a)};
    int k = goc_select(cs, 2, false);
    CHECK(k == 1); /* Go: "BUG: called f" otherwise */
    CHECK(x.a == 42);
    CHECK(fdest == -7);
    goc_chan_release(c);
    goc_chan_release(c1);
}

/* ======================================================================
 * test/chan/select5.go generates a program with one function per path
 * through its templates (choose/maybe below, the same enumeration) and runs
 * it. Here the same paths build a case array at run time. The template
 * variants that differ only in Go syntax (x = <-c, *f(&x) = <-c, y := <-c,
 * i = <-c, m[13] = <-c) become different destinations of one receive; a
 * default "before" or "after" the real case is the same has_default.
 * ====================================================================== */

/* Code for enumerating all possible paths through some logic, as Go's:
 * the logic calls choose(n) when it wants to choose between n
 * possibilities; on successive runs it returns 0, 1, ..., n-1. maybe() is
 * similar but returns true and then false. for (; next(); ) gen(); runs
 * every path. */
struct choice {
    int i, n;
};

static struct choice choices[64];
static int nchoices, cp = -1;

static int choose(int n)
{
    if (cp >= nchoices) {
        /* never asked this before: start with 0. */
        if (nchoices == (int)(sizeof choices / sizeof choices[0]))
            goc_panic("too many choices");
        choices[nchoices++] = (struct choice){0, n};
        cp = nchoices;
        return 0;
    }
    /* otherwise give recorded answer */
    if (n != choices[cp].n)
        goc_panic("inconsistent choices");
    return choices[cp++].i;
}

static bool maybe(void) { return choose(2) == 0; }

static bool next(void)
{
    if (cp < 0) {
        /* start a new round */
        cp = 0;
        return true;
    }
    /* increment last choice sequence */
    cp = nchoices - 1;
    while (cp >= 0 && choices[cp].i == choices[cp].n - 1)
        cp--;
    if (cp < 0) {
        nchoices = 0;
        return false;
    }
    choices[cp].i++;
    nchoices = cp + 1;
    cp = 0;
    return true;
}

struct s5 {
    goc_chan *c, *dummy, *nilch; /* c is buffered: one goroutine does it all */
    int n, x;
    int m[14];
    int *trap; /* a PROT_NONE page: a receive stored there crashes */
    bool def;
    int nreset;
    bool failed;
};

static bool maybe_default(struct s5 *a)
{
    if (a->def)
        return false;
    a->def = maybe();
    return a->def;
}

/* The dummy and nil cases every template may add; none may be chosen. */
static int s5_dummies(struct s5 *a, goc_select_case *cs, int k, int *one, int *sink)
{
    if (maybe())
        cs[k++] = GOC_SEND_CASE(a->dummy, one);
    if (maybe())
        cs[k++] = GOC_RECV_CASE(a->dummy, sink);
    if (maybe())
        cs[k++] = GOC_SEND_CASE(a->nilch, one);
    if (maybe())
        cs[k++] = GOC_RECV_CASE(a->nilch, sink);
    return k;
}

static void s5_fail(struct s5 *a, const char *what)
{
    if (!a->failed)
        fprintf(stderr, "select5 case %d: %s (have %d want %d)\n", a->nreset, what, a->x, a->n);
    a->failed = true;
}

/* Send n, receive it one way or another into x, check that they match. */
static void s5_recv(struct s5 *a)
{
    goc_chan_send(a->c, &a->n);
    if (maybe()) {
        goc_chan_recv(a->c, &a->x);
    } else {
        goc_select_case cs[8];
        int k = 0, one = 1, y = -1, sink;
        bool def = maybe_default(a);
        /* Receive from c: direct, indirect, :=, interface, map. */
        int form = maybe() ? 0 : maybe() ? 1 : maybe() ? 2 : maybe() ? 3 : 4;
        int *dest[] = {&a->x, &a->x, &y, &y, &a->m[13]};
        cs[k++] = GOC_RECV_CASE(a->c, dest[form]);
        def |= maybe_default(a);
        k = s5_dummies(a, cs, k, &one, &sink);
        if (goc_select(cs, k, def) != 0)
            s5_fail(a, "a dummy or default case was chosen");
        if (form == 2 || form == 3)
            a->x = y;
        else if (form == 4)
            a->x = a->m[13];
    }
    if (a->x != a->n)
        s5_fail(a, "recv");
    a->n++;
}

/* Send n one way or another, receive it into x, check that they match. */
static void s5_send(struct s5 *a)
{
    if (maybe()) {
        goc_chan_send(a->c, &a->n);
    } else {
        goc_select_case cs[8];
        int k = 0, one = 1, sink;
        bool def = maybe_default(a);
        cs[k++] = GOC_SEND_CASE(a->c, &a->n);
        def |= maybe_default(a);
        k = s5_dummies(a, cs, k, &one, &sink);
        if (goc_select(cs, k, def) != 0)
            s5_fail(a, "a dummy or default case was chosen");
    }
    goc_chan_recv(a->c, &a->x);
    if (a->x != a->n)
        s5_fail(a, "send");
    a->n++;
}

/* Various combinations of non-blocking operations. Receive assignments
 * must not edit (or even compute the address of) the destination: here x
 * and the trap page. */
static void s5_nonblock(struct s5 *a)
{
    a->x = a->n;
    goc_select_case cs[8];
    int k = 0, one = 1;
    bool def = maybe_default(a);
    if (maybe())
        cs[k++] = GOC_SEND_CASE(a->dummy, &one);
    if (maybe())
        cs[k++] = GOC_SEND_CASE(a->nilch, &one);
    if (maybe())
        cs[k++] = GOC_RECV_CASE(a->dummy, NULL);
    if (maybe())
        cs[k++] = GOC_RECV_CASE(a->dummy, &a->x);
    if (maybe())
        cs[k++] = GOC_RECV_CASE(a->dummy, a->trap);
    if (maybe())
        cs[k++] = GOC_RECV_CASE(a->nilch, NULL);
    if (maybe())
        cs[k++] = GOC_RECV_CASE(a->nilch, &a->x);
    if (maybe())
        cs[k++] = GOC_RECV_CASE(a->nilch, a->trap);
    (void)def; /* MustDefault: a default after the cases if none before */
    if (goc_select(cs, k, true) != GOC_SELECT_DEFAULT)
        s5_fail(a, "a case that cannot proceed was chosen");
    if (a->x != a->n)
        s5_fail(a, "nonblock");
    a->n++;
}

TEST(select5)
{
    struct s5 a = {.c = xchan(sizeof(int), 1), .dummy = xchan(sizeof(int), 0), .n = 1};
    a.trap = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a.trap != MAP_FAILED);
    void (*families[])(struct s5 *) = {s5_recv, s5_send, s5_nonblock};
    int per[3] = {0};
    for (int f = 0; f < 3; f++)
        for (; next(); a.def = false, a.nreset++, per[f]++)
            families[f](&a);
    CHECK(!a.failed);
    /* Go's generated program has 1045 cases: these 802, and its recvOrder
     * (243) and sendOrder (49) families, left out (see the top of this
     * file). */
    fprintf(stderr, "select5: %d recv, %d send, %d nonblock cases\n", per[0], per[1], per[2]);
    CHECK(per[0] == 241 && per[1] == 49 && per[2] == 512);
    munmap(a.trap, 4096);
    goc_chan_release(a.c);
    goc_chan_release(a.dummy);
}

/* ======================================================================
 * test/chan/select6.go, issue 2075: a bug in select corrupted the channel
 * queues of failed cases if there were several waiters on those channels
 * and the select was the last in the queue; later waiters on the channel
 * then never woke up. c1 is such a channel.
 * ====================================================================== */

struct s6 {
    goc_chan *c1, *c2, *c3;
};

static void s6_recv_c1(void *arg)
{
    struct s6 *s = arg;
    goc_chan_recv(s->c1, NULL);
}

static void s6_select(void *arg)
{
    struct s6 *s = arg;
    goc_select_case cs[] = {GOC_RECV_CASE(s->c1, NULL), GOC_RECV_CASE(s->c2, NULL)};
    if (goc_select(cs, 2, false) == 0)
        goc_panic("dummy");
    GOC_CHAN_SEND(s->c3, bool, true);
    goc_chan_recv(s->c1, NULL);
}

static void s6_send_c2(void *arg)
{
    struct s6 *s = arg;
    GOC_CHAN_SEND(s->c2, bool, true);
}

static int sc_select6(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct s6 s = {xchan(sizeof(bool), 0), xchan(sizeof(bool), 0), xchan(sizeof(bool), 0)};
    go(s6_recv_c1, &s);
    go(s6_select, &s);
    go(s6_send_c2, &s);
    goc_chan_recv(s.c3, NULL);
    GOC_CHAN_SEND(s.c1, bool, true);
    GOC_CHAN_SEND(s.c1, bool, true);
    printf("select6 ok\n");
    return 0;
}

/* A deadlock (a lost waiter) ends the child with status 2. */
TEST(select6)
{
    for (int i = 0; i < SCALE(20); i++)
        expect_child("select6", "select6 ok");
}

/* ======================================================================
 * test/chan/select7.go: select when discarding a value.
 * ====================================================================== */

static void recv1(void *arg) { goc_chan_recv(arg, NULL); }

static void recv2(void *arg)
{
    goc_select_case cs[] = {GOC_RECV_CASE(arg, NULL)};
    goc_select(cs, 1, false);
}

static void recv3(void *arg)
{
    goc_chan *c2 = xchan(sizeof(int), 0);
    goc_select_case cs[] = {GOC_RECV_CASE(arg, NULL), GOC_RECV_CASE(c2, NULL)};
    goc_select(cs, 2, false);
    goc_chan_release(c2);
}

/* Each sender waits for its receiver's goroutine to end before it frees
 * the channel: the receiver's call must return first (goc/chan.h's rule). */
struct s7 {
    goc_fn recv;
    goc_chan *c;
    goc_waitgroup wg;
};

static void s7_recv(void *arg)
{
    struct s7 *s = arg;
    s->recv(s->c);
    goc_waitgroup_done(&s->wg);
}

static void s7_start(struct s7 *s, goc_fn recv)
{
    s->recv = recv;
    s->c = xchan(sizeof(int), 0);
    goc_waitgroup_init(&s->wg);
    goc_waitgroup_add(&s->wg, 1);
    go(s7_recv, s);
    goc_yield();
}

static void s7_end(struct s7 *s)
{
    goc_waitgroup_wait(&s->wg);
    goc_chan_release(s->c);
}

static void send1(goc_fn recv)
{
    struct s7 s;
    s7_start(&s, recv);
    GOC_CHAN_SEND(s.c, int, 1);
    s7_end(&s);
}

static void send2(goc_fn recv)
{
    struct s7 s;
    s7_start(&s, recv);
    int one = 1;
    goc_select_case cs[] = {GOC_SEND_CASE(s.c, &one)};
    CHECK(goc_select(cs, 1, false) == 0);
    s7_end(&s);
}

static void send3(goc_fn recv)
{
    struct s7 s;
    s7_start(&s, recv);
    goc_chan *c2 = xchan(sizeof(int), 0);
    int one = 1;
    goc_select_case cs[] = {GOC_SEND_CASE(s.c, &one), GOC_SEND_CASE(c2, &one)};
    CHECK(goc_select(cs, 2, false) == 0);
    goc_chan_release(c2);
    s7_end(&s);
}

TEST(select7)
{
    send1(recv1);
    send2(recv1);
    send3(recv1);
    send1(recv2);
    send2(recv2);
    send3(recv2);
    send1(recv3);
    send2(recv3);
    send3(recv3);
}

/* ======================================================================
 * test/chan/select8.go: one-, two- and three-case selects with default
 * (Go checks that break leaves each of them).
 * ====================================================================== */

static void s8_sender(void *arg)
{
    for (;;)
        GOC_CHAN_SEND(arg, int, 5);
}

static int sc_select8(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *ch = xchan(sizeof(int), 0);
    go(s8_sender, ch);
    int v = 0, ten = 10;

    goc_select_case one[] = {GOC_RECV_CASE(ch, &v)};
    if (goc_select(one, 1, false) != 0 || v != 5)
        goc_panic("unreachable");

    if (goc_select(NULL, 0, true) != GOC_SELECT_DEFAULT)
        goc_panic("unreachable");

    v = 0;
    int k = goc_select(one, 1, true);
    if (!(k == GOC_SELECT_DEFAULT || (k == 0 && v == 5)))
        goc_panic("unreachable");

    goc_select_case three[] = {GOC_RECV_CASE(ch, &v), GOC_SEND_CASE(ch, &ten)};
    k = goc_select(three, 2, true);
    if (k == 1)
        goc_panic("unreachable");
    printf("select8 ok\n");
    return 0;
}

TEST(select8) { expect_child("select8", "select8 ok"); }

/* ======================================================================
 * test/chan/sendstmt.go: `case <-cc <- 2`, a send case on the channel that
 * a receive from a channel of channels yields; and c <- (false || true).
 * ====================================================================== */

TEST(sendstmt)
{
    /* chanchan */
    goc_chan *cc = xchan(sizeof(goc_chan *), 1);
    goc_chan *c = xchan(sizeof(int), 1);
    goc_chan_send(cc, &c);
    goc_chan *got = NULL;
    goc_chan_recv(cc, &got); /* <-cc, evaluated on entry to the select */
    int two = 2;
    goc_select_case cs[] = {GOC_SEND_CASE(got, &two)};
    CHECK(goc_select(cs, 1, true) == 0); /* Go: panic("nonblock") */
    CHECK(GOC_CHAN_RECV(c, int) == 2);   /* Go: panic("bad receive") */
    goc_chan_release(c);
    goc_chan_release(cc);

    /* sendprec */
    goc_chan *b = xchan(sizeof(bool), 1);
    GOC_CHAN_SEND(b, bool, false || true);
    CHECK(GOC_CHAN_RECV(b, bool)); /* Go: panic("sent false") */
    goc_chan_release(b);
}

/* ====================================================================== */

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(powser1);
    RUN(powser2);
    RUN(sieve2);
    RUN(select2);
    RUN(select4);
    RUN(select5);
    RUN(select6);
    RUN(select7);
    RUN(select8);
    RUN(sendstmt);
    return test_summary();
}

static const struct test_scenario scenarios[] = {
    {"powser1", sc_powser1},
    {"powser2", sc_powser2},
    {"powser1_print", sc_powser1_print},
    {"powser2_print", sc_powser2_print},
    {"sieve2", sc_sieve2},
    {"select6", sc_select6},
    {"select8", sc_select8},
};

int main(int argc, char **argv)
{
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
