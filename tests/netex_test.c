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
 * child that outlives LIMIT (its output then ends and the test fails);
 * nothing is timed.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>

#include "test.h"

extern char **environ;

#define LIMIT (120 * GOC_SECOND) /* a bound on any wait, never reached when all is well */

static char examples_dir[PATH_MAX + 16];

/* ---- Children ---- */

struct proc {
    pid_t pid;
    int in, out, err; /* our ends of its stdin, stdout, stderr */
    goc_scanner *out_lines, *err_lines;
    goc_timer *watchdog;
    goc_mutex mu; /* watchdog vs reaping: never kill a reaped pid */
    bool reaped;
};

static void watchdog_kill(void *arg)
{
    struct proc *p = arg;
    goc_mutex_lock(&p->mu);
    if (!p->reaped) {
        fprintf(stderr, "watchdog: killing process group %d\n", (int)p->pid);
        kill(-p->pid, SIGKILL);
    }
    goc_mutex_unlock(&p->mu);
}

/* Starts examples/<name> [arg] with env entries (NAME=VALUE, NULL-ended;
 * they win over inherited ones), its stdin, stdout and stderr on pipes,
 * signals at their defaults. NULL if it cannot be started. The result is
 * freed by proc_wait; a test that gives up early leaves it to the
 * watchdog. */
static struct proc *spawn(const char *name, const char *arg, const char *const *env)
{
    char path[sizeof examples_dir + 64];
    snprintf(path, sizeof path, "%s/%s", examples_dir, name);

    const char *envp[256];
    size_t k = 0;
    for (const char *const *e = env; e && *e; e++)
        envp[k++] = *e;
    for (char **e = environ; *e && k < 255; e++) {
        bool overridden = false;
        for (const char *const *o = env; o && *o; o++)
            overridden |= strncmp(*e, *o, strcspn(*o, "=") + 1) == 0;
        if (!overridden)
            envp[k++] = *e;
    }
    envp[k] = NULL;

    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_t attr; /* this test ignores SIGPIPE; the child must not */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    /* its own process group, with whatever it starts (the demos start
     * servers): a watchdog's kill reaches them all */
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    /* Under an emulator (the AArch64 build runs in qemu-user) the child
     * needs it too (tests/test.h, run_child). */
    const char *runner = getenv("GOC_TEST_RUNNER");
    char *argv[] = {path, (char *)arg, NULL};
    char *rargv[] = {(char *)runner, path, (char *)arg, NULL};
    bool emulated = runner && *runner;
    pid_t pid;
    int rc = emulated ? posix_spawnp(&pid, runner, &fa, &attr, rargv, (char **)envp)
                      : posix_spawn(&pid, path, &fa, &attr, argv, (char **)envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        fprintf(stderr, "spawn %s: %s\n", path, strerror(rc));
        close(in[1]), close(out[0]), close(err[0]);
        return NULL;
    }
    struct proc *p = calloc(1, sizeof *p);
    p->pid = pid;
    p->mu = (goc_mutex)GOC_MUTEX_INIT;
    p->in = in[1];
    p->out = out[0];
    p->err = err[0];
    p->out_lines = goc_scanner_new_fd(p->out, 0);
    p->err_lines = goc_scanner_new_fd(p->err, 0);
    p->watchdog = goc_after_func(LIMIT, watchdog_kill, p);
    return p;
}

static intptr_t wait_exit_call(void *arg)
{
    siginfo_t si;
    while (waitid(P_PID, (id_t) * (pid_t *)arg, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
    return 0;
}

/* Waits for the child's end and reaps it; returns its exit status, or
 * 128 + the signal that killed it. */
static int proc_wait(struct proc *p)
{
    if (p->in >= 0)
        close(p->in);
    p->in = -1;
    goc_blocking(wait_exit_call, &p->pid); /* exited, not yet reaped */
    goc_mutex_lock(&p->mu);
    p->reaped = true;
    /* Anything it left behind (a demo's server, if the demo died before
     * stopping it) would hold our pipes open. Its group's id is its pid,
     * which is not reused before the reaping below. */
    kill(-p->pid, SIGKILL);
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    goc_mutex_unlock(&p->mu);
    goc_timer_stop(p->watchdog);
    goc_timer_free(p->watchdog);
    goc_scanner_free(p->out_lines);
    goc_scanner_free(p->err_lines);
    close(p->out);
    close(p->err);
    free(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Ends a server: SIGTERM, then proc_wait. True if SIGTERM ended it (it
 * had not died of something else before). */
static bool proc_stop(struct proc *p)
{
    kill(p->pid, SIGTERM);
    return proc_wait(p) == 128 + SIGTERM;
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

/* A test gives up (the failure recorded) when cond is false. */
#define REQUIRE(cond)          \
    do {                       \
        if (!(cond)) {         \
            CHECK(cond);       \
            return;            \
        }                      \
    } while (0)

/* ---- Lines ---- */

static goc_conn *dial(const char *addr)
{
    goc_conn *c = NULL;
    int rc = goc_dial("tcp", addr, &c);
    if (rc < 0) {
        fprintf(stderr, "dial %s: %s\n", addr, strerror(-rc));
        return NULL;
    }
    goc_conn_set_deadline(c, goc_now() + LIMIT);
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
    char addr[GOC_ADDRSTRLEN];
    struct proc *srv = server("clock2", fast_clock, addr);
    REQUIRE(srv != NULL);
    struct proc *nc = spawn("netcat1", addr, NULL);
    REQUIRE(nc != NULL);
    for (int i = 0; i < 3; i++)
        CHECK(is_clock(next_line(nc->out_lines)));
    CHECK(proc_stop(srv));
    CHECK(proc_wait(nc) == 0); /* the connection ended: io.Copy's nil error */
}

TEST(netcat2_stdin_and_stdout_at_once)
{
    char addr[GOC_ADDRSTRLEN];
    struct proc *srv = server("reverb1", fast_reverb, addr);
    REQUIRE(srv != NULL);
    struct proc *nc = spawn("netcat2", addr, NULL);
    REQUIRE(nc != NULL);
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
    char addr[GOC_ADDRSTRLEN];
    struct proc *srv = server("reverb2", fast_reverb, addr);
    REQUIRE(srv != NULL);
    struct proc *nc = spawn("netcat3", addr, NULL);
    REQUIRE(nc != NULL);
    static const char *const shouts[] = {"Is there anybody there?", "Yooo-hooo!"};
    CHECK(write(nc->in, "Is there anybody there?\nYooo-hooo!\n", 35) == 35);
    close(nc->in); /* ^D before any echo */
    nc->in = -1;
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

TEST(chat_three_clients)
{
    char addr[GOC_ADDRSTRLEN];
    struct proc *srv = server("chat", NULL, addr);
    REQUIRE(srv != NULL);
    /* Each step waits for what it must: a newcomer speaks first, since it
     * is in the broadcaster's set once its own words come back (seeing
     * "You are ..." is not enough: its handleConn may not have entered it
     * yet). Every line each client receives is checked, in order, to its
     * end. */
    struct chatter a, b, c;
    REQUIRE(chat_join(&a, addr));
    CHECK(chat_sees(&a, "You are %s", a.who));
    CHECK(send_line(a.conn, "Anybody here?"));
    CHECK(chat_sees(&a, "%s: Anybody here?", a.who));
    REQUIRE(chat_join(&b, addr));
    CHECK(chat_sees(&b, "You are %s", b.who));
    CHECK(chat_sees(&a, "%s has arrived", b.who));
    CHECK(send_line(b.conn, "Hi!"));
    CHECK(chat_sees(&b, "%s: Hi!", b.who));
    CHECK(chat_sees(&a, "%s: Hi!", b.who));
    CHECK(send_line(a.conn, "Hi yourself."));
    CHECK(chat_sees(&a, "%s: Hi yourself.", a.who));
    CHECK(chat_sees(&b, "%s: Hi yourself.", a.who));
    CHECK(chat_leave(&a));
    CHECK(chat_sees(&b, "%s has left", a.who));

    REQUIRE(chat_join(&c, addr));
    CHECK(chat_sees(&c, "You are %s", c.who));
    CHECK(chat_sees(&b, "%s has arrived", c.who));
    CHECK(send_line(c.conn, "Hello?"));
    CHECK(chat_sees(&c, "%s: Hello?", c.who));
    CHECK(chat_sees(&b, "%s: Hello?", c.who));
    CHECK(send_line(b.conn, "Welcome."));
    CHECK(chat_sees(&b, "%s: Welcome.", b.who));
    CHECK(chat_sees(&c, "%s: Welcome.", b.who));
    CHECK(chat_leave(&b));
    CHECK(chat_sees(&c, "%s has left", b.who));
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
    close(p->in);
    p->in = -1;
    size_t n = 0;
    const char *line;
    while (goc_scanner_scan(p->out_lines) > 0 && (line = goc_scanner_text(p->out_lines, NULL)))
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s\n", line);
    char log[4096];
    size_t m = 0;
    log[0] = 0;
    while (goc_scanner_scan(p->err_lines) > 0) /* stderr: the log */
        m += (size_t)snprintf(log + m, m < sizeof log ? sizeof log - m : 0, "%s\n",
                              goc_scanner_text(p->err_lines, NULL));
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
    (void)argc;
    /* <dir of this binary>/../examples */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "readlink /proc/self/exe: %s\n", strerror(errno));
        return 1;
    }
    self[n] = 0;
    *strrchr(self, '/') = 0;
    snprintf(examples_dir, sizeof examples_dir, "%s/../examples", self);
    char probe[sizeof examples_dir + 16];
    snprintf(probe, sizeof probe, "%s/chat", examples_dir);
    if (access(probe, X_OK) != 0) {
        fprintf(stderr, "%s: the examples are not built (%s)\n", argv[0], probe);
        return 1;
    }
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
