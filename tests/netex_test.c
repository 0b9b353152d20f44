/* netex_test.c: seed 002's network examples (examples/clock1.c ... chat.c),
 * run as the programs they are: each binary, built beside this test
 * (<build>/examples/<name>), is started as a child, on 127.0.0.1:0 for
 * the servers (whose "listening on" line on stderr gives the port), and
 * driven by real TCP clients in this process or by the netcat examples:
 * the clocks write the time in Go's "15:04:05" form, clock1 one client at
 * a time and clock2 several at once; reverb1 and reverb2 answer a shout
 * in its three forms, in order; netcat1-3 copy as the seed says (netcat3
 * waits for the server's last words after ^D); the chat server, with three
 * clients, prints arrivals, departures and messages exactly as the seed
 * does. Last, every example's demo (no arguments) ends by itself, status 0.
 *
 * Waits are bounded: connections carry a deadline, and a watchdog kills a
 * child that outlives PROC_LIMIT (tests/proc.h; its output then ends and
 * the test fails); nothing is timed.
 */
#include "proc.h" /* first: it defines _GNU_SOURCE */

#include <ctype.h>

/* examples/<name> [arg], its stdin a pipe of ours (p->in). */
static struct proc *spawn(const char *name, const char *arg, const char *const *env)
{
    return proc_spawn(name, ARGS(arg), &(struct proc_opts){.env = env, .open_stdin = true});
}

/* Starts examples/<name> as a server on 127.0.0.1:0; its address (from
 * its "listening on" line) into addr. NULL if it does not start. */
static struct proc *server(const char *name, const char *const *env, char *addr)
{
    struct proc *p = spawn(name, "127.0.0.1:0", env);
    if (!p)
        return NULL;
    while (goc_scanner_scan(p->err_lines) > 0) {
        const char *at = strstr(goc_scanner_text(p->err_lines, NULL), "listening on ");
        if (at) {
            snprintf(addr, GOC_ADDRSTRLEN, "%s", at + strlen("listening on "));
            return p;
        }
    }
    fprintf(stderr, "%s: no \"listening on\" line\n", name);
    proc_wait(p);
    return NULL;
}

/* examples/<client> against examples/<server_name> on 127.0.0.1:0 (started
 * with env): both started, or false. */
static bool client_of(const char *server_name, const char *const *env, const char *client,
                      struct proc **srv, struct proc **nc)
{
    char addr[GOC_ADDRSTRLEN];
    if (!(*srv = server(server_name, env, addr)))
        return false;
    return (*nc = spawn(client, addr, NULL)) != NULL;
}

/* ---- Lines ---- */

static goc_conn *dial(const char *addr)
{
    goc_conn *c = NULL;
    int rc = goc_dial("tcp", addr, &c);
    if (rc < 0) {
        fprintf(stderr, "dial %s: %s\n", addr, strerror(-rc));
        return NULL;
    }
    goc_conn_set_deadline(c, goc_now() + PROC_LIMIT);
    return c;
}

/* The next line, or NULL (with a note) at the end or on an error. */
static const char *next_line(goc_scanner *s)
{
    int rc = goc_scanner_scan(s);
    if (rc <= 0) {
        fprintf(stderr, "  no line: %s\n", rc == 0 ? "end of input" : strerror(-rc));
        return NULL;
    }
    return goc_scanner_text(s, NULL);
}

static bool expect_line(goc_scanner *s, const char *want)
{
    const char *got = next_line(s);
    if (got && strcmp(got, want) == 0)
        return true;
    if (got)
        fprintf(stderr, "  got  \"%s\"\n  want \"%s\"\n", got, want);
    return false;
}

/* The end of input is next. */
static bool expect_end(goc_scanner *s)
{
    int rc = goc_scanner_scan(s);
    if (rc > 0)
        fprintf(stderr, "  unexpected line \"%s\"\n", goc_scanner_text(s, NULL));
    return rc == 0;
}

/* Go's "15:04:05": a time of day. */
static bool is_clock(const char *s)
{
    if (!s || strlen(s) != 8 || s[2] != ':' || s[5] != ':')
        return false;
    for (int i = 0; i < 8; i++)
        if (i != 2 && i != 5 && (s[i] < '0' || s[i] > '9'))
            return false;
    return atoi(s) < 24 && atoi(s + 3) < 60 && atoi(s + 6) < 61;
}

static bool send_line(goc_conn *c, const char *line)
{
    return goc_conn_printf(c, "%s\n", line) == (ssize_t)strlen(line) + 1;
}

/* ---- Clocks ---- */

static const char *const fast_clock[] = {"CLOCK_PERIOD_MS=10", NULL};

TEST(clock1_one_client_at_a_time)
{
    char addr[GOC_ADDRSTRLEN];
    struct proc *srv = server("clock1", fast_clock, addr);
    REQUIRE(srv != NULL);
    goc_conn *a = dial(addr);
    REQUIRE(a != NULL);
    goc_scanner *sa = goc_scanner_new(a, 0);
    for (int i = 0; i < 3; i++)
        CHECK(is_clock(next_line(sa)));
    /* b waits in the accept queue while a is served; once a hangs up, the
     * server's next write fails and it takes b. */
    goc_conn *b = dial(addr);
    REQUIRE(b != NULL);
    goc_scanner *sb = goc_scanner_new(b, 0);
    goc_scanner_free(sa);
    goc_conn_close(a);
    for (int i = 0; i < 3; i++)
        CHECK(is_clock(next_line(sb)));
    goc_scanner_free(sb);
    goc_conn_close(b);
    CHECK(proc_stop(srv));
}

TEST(clock2_clients_at_once)
{
    char addr[GOC_ADDRSTRLEN];
    struct proc *srv = server("clock2", fast_clock, addr);
    REQUIRE(srv != NULL);
    goc_conn *a = dial(addr), *b = dial(addr);
    REQUIRE(a && b);
    goc_scanner *sa = goc_scanner_new(a, 0), *sb = goc_scanner_new(b, 0);
    /* Both connected, both served: with clock1 the second would wait. */
    for (int i = 0; i < 3; i++) {
        CHECK(is_clock(next_line(sa)));
        CHECK(is_clock(next_line(sb)));
    }
    goc_scanner_free(sa);
    goc_scanner_free(sb);
    goc_conn_close(a);
    goc_conn_close(b);
    CHECK(proc_stop(srv));
}

/* ---- Reverb ---- */

static const char *const fast_reverb[] = {"REVERB_DELAY_MS=10", NULL};

/* The seed's three forms of a shout. */
static void forms(const char *shout, char out[3][64])
{
    snprintf(out[0], 64, "\t %s", shout);
    for (char *p = out[0]; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(out[1], 64, "\t %s", shout);
    snprintf(out[2], 64, "\t %s", shout);
    for (char *p = out[2]; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* Reads n shouts' echoes until the end of input: each shout's three forms
 * in order; with in_turn, one shout's after the other (reverb1). */
static bool read_echoes(goc_scanner *s, const char *const *shouts, int n, bool in_turn)
{
    char want[8][3][64];
    int seen[8] = {0};
    for (int i = 0; i < n; i++)
        forms(shouts[i], want[i]);
    for (int k = 0; k < 3 * n; k++) {
        const char *got = next_line(s);
        if (!got)
            return false;
        int i = 0;
        /* the first shout still echoing whose next form this is */
        while (i < n && (seen[i] == 3 || strcmp(got, want[i][seen[i]]) != 0))
            i++;
        if (i == n || (in_turn && k / 3 != i)) {
            fprintf(stderr, "  unexpected echo \"%s\" (line %d)\n", got, k);
            return false;
        }
        seen[i]++;
    }
    return expect_end(s);
}

static void reverb_test(const char *name, bool in_turn)
{
    char addr[GOC_ADDRSTRLEN];
    struct proc *srv = server(name, fast_reverb, addr);
    REQUIRE(srv != NULL);
    goc_conn *c = dial(addr);
    REQUIRE(c != NULL);
    goc_scanner *s = goc_scanner_new(c, 0);
    /* One shout: loud, as shouted, soft. */
    CHECK(send_line(c, "Hello?"));
    CHECK(expect_line(s, "\t HELLO?"));
    CHECK(expect_line(s, "\t Hello?"));
    CHECK(expect_line(s, "\t hello?"));
    /* Two more at once, then the end of our input (netcat3's ^D): every
     * echo still comes, then the server closes. */
    static const char *const shouts[] = {"Is there anybody there?", "Yooo-hooo!"};
    CHECK(send_line(c, shouts[0]) && send_line(c, shouts[1]));
    CHECK(goc_conn_close_write(c) == 0);
    CHECK(read_echoes(s, shouts, 2, in_turn));
    goc_scanner_free(s);
    goc_conn_close(c);
    CHECK(proc_stop(srv));
}

TEST(reverb1_shouts_in_turn) { reverb_test("reverb1", true); }

TEST(reverb2_shouts_at_once) { reverb_test("reverb2", false); }

/* ---- Netcat ---- */

TEST(netcat1_copies_until_the_server_goes)
{
    struct proc *srv, *nc;
    REQUIRE(client_of("clock2", fast_clock, "netcat1", &srv, &nc));
    for (int i = 0; i < 3; i++)
        CHECK(is_clock(next_line(nc->out_lines)));
    CHECK(proc_stop(srv));
    CHECK(proc_wait(nc) == 0); /* the connection ended: io.Copy's nil error */
}

TEST(netcat2_stdin_and_stdout_at_once)
{
    struct proc *srv, *nc;
    REQUIRE(client_of("reverb1", fast_reverb, "netcat2", &srv, &nc));
    CHECK(write(nc->in, "Hello?\n", 7) == 7);
    CHECK(expect_line(nc->out_lines, "\t HELLO?"));
    CHECK(expect_line(nc->out_lines, "\t Hello?"));
    CHECK(expect_line(nc->out_lines, "\t hello?"));
    CHECK(write(nc->in, "Yooo-hooo!\n", 11) == 11);
    CHECK(expect_line(nc->out_lines, "\t YOOO-HOOO!"));
    CHECK(proc_wait(nc) == 0); /* ^D ends netcat2 at once */
    CHECK(proc_stop(srv));
}

TEST(netcat3_waits_for_the_last_echo)
{
    struct proc *srv, *nc;
    REQUIRE(client_of("reverb2", fast_reverb, "netcat3", &srv, &nc));
    static const char *const shouts[] = {"Is there anybody there?", "Yooo-hooo!"};
    CHECK(write(nc->in, "Is there anybody there?\nYooo-hooo!\n", 35) == 35);
    proc_close_stdin(nc); /* ^D before any echo */
    CHECK(read_echoes(nc->out_lines, shouts, 2, false));
    const char *done = next_line(nc->err_lines);
    CHECK(done && strlen(done) > 5 && strcmp(done + strlen(done) - 5, " done") == 0);
    CHECK(proc_wait(nc) == 0);
    CHECK(proc_stop(srv));
}

/* ---- Chat ---- */

struct chatter {
    goc_conn *conn;
    goc_scanner *in;
    char who[GOC_ADDRSTRLEN]; /* the server's conn.RemoteAddr() */
};

static bool chat_join(struct chatter *u, const char *addr)
{
    if (!(u->conn = dial(addr)))
        return false;
    u->in = goc_scanner_new(u->conn, 0);
    return goc_conn_local_addr(u->conn, u->who, sizeof u->who) > 0;
}

static GOC_PRINTF(2, 3) bool chat_sees(struct chatter *u, const char *fmt, ...)
{
    char want[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(want, sizeof want, fmt, ap);
    va_end(ap);
    return expect_line(u->in, want);
}

/* netcat3's ^D: the writing half; nothing more comes, then the end. */
static bool chat_leave(struct chatter *u)
{
    bool ok = goc_conn_close_write(u->conn) == 0 && expect_end(u->in);
    goc_scanner_free(u->in);
    goc_conn_close(u->conn);
    return ok;
}

/* A newcomer joins while old is there and speaks first, since it is in
 * the broadcaster's set once its own words come back (seeing "You are
 * ..." is not enough: its handleConn may not have entered it yet); old
 * answers, then leaves. Each sees every line of it, in order. */
static bool chat_meet(struct chatter *old, struct chatter *newcomer, const char *addr,
                      const char *hello, const char *answer)
{
    if (!chat_join(newcomer, addr))
        return false;
    CHECK(chat_sees(newcomer, "You are %s", newcomer->who));
    CHECK(chat_sees(old, "%s has arrived", newcomer->who));
    CHECK(send_line(newcomer->conn, hello));
    CHECK(chat_sees(newcomer, "%s: %s", newcomer->who, hello));
    CHECK(chat_sees(old, "%s: %s", newcomer->who, hello));
    CHECK(send_line(old->conn, answer));
    CHECK(chat_sees(old, "%s: %s", old->who, answer));
    CHECK(chat_sees(newcomer, "%s: %s", old->who, answer));
    CHECK(chat_leave(old));
    CHECK(chat_sees(newcomer, "%s has left", old->who));
    return true;
}

TEST(chat_three_clients)
{
    char addr[GOC_ADDRSTRLEN];
    struct proc *srv = server("chat", NULL, addr);
    REQUIRE(srv != NULL);
    /* Every line each client receives is checked, in order, to its end. */
    struct chatter a, b, c;
    REQUIRE(chat_join(&a, addr));
    CHECK(chat_sees(&a, "You are %s", a.who));
    CHECK(send_line(a.conn, "Anybody here?"));
    CHECK(chat_sees(&a, "%s: Anybody here?", a.who));
    REQUIRE(chat_meet(&a, &b, addr, "Hi!", "Hi yourself."));
    REQUIRE(chat_meet(&b, &c, addr, "Hello?", "Welcome."));
    CHECK(chat_leave(&c));
    CHECK(proc_stop(srv));
}

/* ---- Demos ---- */

/* Runs examples/<name> with no arguments, its stdin at its end, as
 * demo.sh does; returns its exit status with its stdout in out (lines). */
static int run_demo(const char *name, char *out, size_t size)
{
    static const char *const fast[] = {"CLOCK_PERIOD_MS=10", "REVERB_DELAY_MS=10", NULL};
    out[0] = 0;
    struct proc *p = spawn(name, NULL, fast);
    if (!p)
        return -1;
    proc_close_stdin(p);
    proc_read_lines(p->out_lines, out, size);
    char log[4096];
    proc_read_lines(p->err_lines, log, sizeof log); /* stderr: the log */
    int rc = proc_wait(p);
    if (rc != 0)
        fprintf(stderr, "%s: status %d; stderr:\n%s", name, rc, log);
    return rc;
}

TEST(demos_end_by_themselves)
{
    static const char *const names[] = {"clock1", "clock2", "netcat1", "reverb1",
                                        "netcat2", "reverb2", "netcat3", "chat"};
    static char out[16384];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        int rc = run_demo(names[i], out, sizeof out);
        if (rc != 0)
            fprintf(stderr, "%s: status %d, output:\n%s", names[i], rc, out);
        CHECK(rc == 0);
    }
}

/* What follows the demo's first line ("$ ./server 127.0.0.1:0 &"). */
static char *after_first_line(char *out)
{
    char *nl = strchr(out, '\n');
    return nl ? nl + 1 : out + strlen(out);
}

/* The demos that are deterministic show exactly the seed's transcripts. */
TEST(demo_transcripts)
{
    static char out[16384];
    static const char reverb1[] = "Hello?\n"
                                  "\t HELLO?\n"
                                  "\t Hello?\n"
                                  "\t hello?\n"
                                  "Is there anybody there?\n"
                                  "\t IS THERE ANYBODY THERE?\n"
                                  "Yooo-hooo!\n"
                                  "^D\n"
                                  "\t Is there anybody there?\n"
                                  "\t is there anybody there?\n"
                                  "\t YOOO-HOOO!\n"
                                  "\t Yooo-hooo!\n"
                                  "\t yooo-hooo!\n";
    CHECK(run_demo("reverb1", out, sizeof out) == 0);
    CHECK(strncmp(out, "$ REVERB_DELAY_MS=10 reverb1 127.0.0.1:0 &", 42) == 0);
    CHECK(strcmp(after_first_line(out), reverb1) == 0);
    static const char netcat2[] = "Hello?\n"
                                  "\t HELLO?\n"
                                  "\t Hello?\n"
                                  "\t hello?\n"
                                  "Is there anybody there?\n"
                                  "\t IS THERE ANYBODY THERE?\n"
                                  "Yooo-hooo!\n"
                                  "\t Is there anybody there?\n"
                                  "\t is there anybody there?\n"
                                  "\t YOOO-HOOO!\n"
                                  "\t Yooo-hooo!\n"
                                  "\t yooo-hooo!\n"
                                  "^D\n";
    CHECK(run_demo("netcat2", out, sizeof out) == 0);
    const char *session = strstr(out, "$ netcat2 ");
    session = session ? strchr(session, '\n') : NULL;
    CHECK(session && strcmp(session + 1, netcat2) == 0); /* after the two command lines */

    /* clock1 serves one client at a time: the first three times shown
     * went to the same client ("nc 1: 15:04:05" or "nc 2: ..."). */
    CHECK(run_demo("clock1", out, sizeof out) == 0);
    char *save, *line = strtok_r(after_first_line(out), "\n", &save), first[8] = "";
    for (int i = 0; i < 3 && line; i++, line = strtok_r(NULL, "\n", &save)) {
        if (i == 0)
            snprintf(first, sizeof first, "%.6s", line);
        CHECK(strlen(line) == 14 && strncmp(line, first, 6) == 0 && is_clock(line + 6));
    }
    CHECK(line != NULL);

    CHECK(run_demo("chat", out, sizeof out) == 0);
    CHECK(strstr(out, "has arrived\n") && strstr(out, "has left\n") && strstr(out, ": Welcome.\n"));
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (!proc_find_examples(ARGS("clock1", "clock2", "netcat1", "netcat2", "netcat3", "reverb1",
                                 "reverb2", "chat")))
        return 1;
    signal(SIGPIPE, SIG_IGN); /* a child that dies while we write its stdin */

    RUN(clock1_one_client_at_a_time);
    RUN(clock2_clients_at_once);
    RUN(reverb1_shouts_in_turn);
    RUN(reverb2_shouts_at_once);
    RUN(netcat1_copies_until_the_server_goes);
    RUN(netcat2_stdin_and_stdout_at_once);
    RUN(netcat3_waits_for_the_last_echo);
    RUN(chat_three_clients);
    RUN(demos_end_by_themselves);
    RUN(demo_transcripts);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
