/* seed1_test.c: seed 001's network examples (examples/serve_stop.c,
 * serve_errgroup.c, memo_net.c), run as the programs they are: each binary,
 * built beside this test (<build>/examples/<name>), runs as a child with
 * its stdout and stderr on pipes; the servers, on 127.0.0.1:0, say where
 * they listen on stderr ("app listening on 127.0.0.1:41234"), and this
 * test talks HTTP/1.0 to them with its own few lines of client.
 *
 *  - serve_stop: its demo (a curl session, then pprof's mock exit) shows
 *    the seed's four log lines, and both servers stop; with the app's
 *    address already taken, the app fails at once, the debug server is
 *    shut down, pprof's mock exit still comes, and it ends cleanly.
 *  - serve_errgroup, three ways: a GET /shutdown (with an idle connection
 *    open, which must not hold the shutdown), SIGTERM and SIGINT; each
 *    time the group's first error is printed as the seed prints it, the
 *    log shows which way it went, and it exits with status 0. Also its
 *    demo.
 *  - memo_net: every URL asked for by 50 goroutines at once, each page
 *    fetched once (the server's count), every answer the right size.
 *
 * Each child ends by itself with status 0: in the ASan build, a goroutine
 * left parked holding memory, or any leak, would fail it (the children
 * inherit this test's sanitizer options); in the TSan build, any race.
 * Waits are bounded: connections carry a deadline, and a watchdog kills a
 * child that outlives LIMIT (its output then ends and the test fails);
 * nothing is timed.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <spawn.h>

#include "test.h"

extern char **environ;

#define LIMIT (120 * GOC_SECOND) /* a bound on any wait, never reached when all is well */

static char examples_dir[PATH_MAX + 16];

/* A test gives up (the failure recorded) when cond is false. */
#define REQUIRE(cond)          \
    do {                       \
        if (!(cond)) {         \
            CHECK(cond);       \
            return;            \
        }                      \
    } while (0)

/* ---- Children ---- */

struct proc {
    pid_t pid;
    int out, err; /* our ends of its stdout and stderr */
    goc_scanner *out_lines, *err_lines;
    goc_timer *watchdog;
    goc_mutex mu; /* watchdog vs reaping: never kill a reaped pid */
    bool reaped;
    char log[1 << 16]; /* the stderr lines read so far, for a failure's note */
    size_t loglen;
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

/* Starts examples/<name> with up to two arguments (NULL: none) and env
 * entries (NAME=VALUE, NULL-ended; they win over inherited ones), stdin
 * /dev/null, signals at their defaults, in a process group of its own. */
static struct proc *spawn(const char *name, const char *arg1, const char *arg2,
                          const char *const *env)
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

    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawnattr_t attr;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                        POSIX_SPAWN_SETPGROUP);
    char *argv[] = {path, (char *)arg1, (char *)(arg1 ? arg2 : NULL), NULL};
    /* Under an emulator (the AArch64 build runs in qemu-user) the child
     * needs it too (tests/test.h, run_child). */
    const char *runner = getenv("GOC_TEST_RUNNER");
    char *rargv[] = {(char *)runner, path, (char *)arg1, (char *)(arg1 ? arg2 : NULL), NULL};
    pid_t pid;
    int rc = runner && *runner
                 ? posix_spawnp(&pid, runner, &fa, &attr, rargv, (char **)envp)
                 : posix_spawn(&pid, path, &fa, &attr, argv, (char **)envp);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(err[1]);
    if (rc != 0) {
        fprintf(stderr, "spawn %s: %s\n", path, strerror(rc));
        close(out[0]), close(err[0]);
        return NULL;
    }
    struct proc *p = calloc(1, sizeof *p);
    p->pid = pid;
    p->mu = (goc_mutex)GOC_MUTEX_INIT;
    p->out = out[0];
    p->err = err[0];
    p->out_lines = goc_scanner_new_fd(p->out, 0);
    p->err_lines = goc_scanner_new_fd(p->err, 0);
    p->watchdog = goc_after_func(LIMIT, watchdog_kill, p);
    return p;
}

/* Go's log prefix, "2009/11/10 23:00:00 ": true if line has it. */
static bool has_log_prefix(const char *line)
{
    static const char form[] = "dddd/dd/dd dd:dd:dd ";
    for (size_t i = 0; i < sizeof form - 1; i++)
        if (form[i] == 'd' ? (line[i] < '0' || line[i] > '9') : line[i] != form[i])
            return false;
    return true;
}

/* The next stderr line, its log prefix checked and stripped; NULL at the
 * end. Every line read is kept in p->log. */
static const char *next_log(struct proc *p)
{
    if (goc_scanner_scan(p->err_lines) <= 0)
        return NULL;
    const char *line = goc_scanner_text(p->err_lines, NULL);
    int n = snprintf(p->log + p->loglen, sizeof p->log - p->loglen, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof p->log - p->loglen)
        p->loglen += (size_t)n;
    if (!has_log_prefix(line)) {
        fprintf(stderr, "  not a log line: \"%s\"\n", line);
        return line;
    }
    return line + 20;
}

/* Reads stderr until "<name> listening on ADDR" for each of the n names,
 * whose addresses go to addrs[i]. */
static bool wait_listening(struct proc *p, int n, const char *const *names,
                           char addrs[][GOC_ADDRSTRLEN])
{
    int seen = 0;
    const char *line;
    while (seen < n && (line = next_log(p))) {
        for (int i = 0; i < n; i++) {
            size_t len = strlen(names[i]);
            if (strncmp(line, names[i], len) == 0 && strncmp(line + len, " listening on ", 14) == 0) {
                snprintf(addrs[i], GOC_ADDRSTRLEN, "%s", line + len + 14);
                seen++;
            }
        }
    }
    if (seen < n)
        fprintf(stderr, "  no \"listening on\" lines; stderr:\n%s", p->log);
    return seen == n;
}

/* The rest of stdout into out, the rest of stderr's lines (prefixes
 * stripped) into lines; both until their end. */
static void read_rest(struct proc *p, char *out, size_t outsz, char *lines, size_t linesz)
{
    size_t n = 0;
    out[0] = 0;
    while (goc_scanner_scan(p->out_lines) > 0) {
        int k = snprintf(out + n, outsz - n, "%s\n", goc_scanner_text(p->out_lines, NULL));
        if (k > 0 && (size_t)k < outsz - n)
            n += (size_t)k;
    }
    n = 0;
    lines[0] = 0;
    const char *line;
    while ((line = next_log(p))) {
        int k = snprintf(lines + n, linesz - n, "%s\n", line);
        if (k > 0 && (size_t)k < linesz - n)
            n += (size_t)k;
    }
}

static intptr_t wait_exit_call(void *arg)
{
    siginfo_t si;
    while (waitid(P_PID, (id_t) * (pid_t *)arg, &si, WEXITED | WNOWAIT) < 0 && errno == EINTR)
        ;
    return 0;
}

/* Waits for the child's end and reaps it; returns its exit status, or
 * 128 + the signal that killed it. On a failure, shows its stderr. */
static int proc_wait(struct proc *p)
{
    goc_blocking(wait_exit_call, &p->pid); /* exited, not yet reaped */
    goc_mutex_lock(&p->mu);
    p->reaped = true;
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    goc_mutex_unlock(&p->mu);
    goc_timer_stop(p->watchdog);
    goc_timer_free(p->watchdog);
    while (next_log(p)) /* whatever is left: a sanitizer's report */
        ;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (rc != 0)
        fprintf(stderr, "  exit status %d; stderr:\n%s", rc, p->log);
    goc_scanner_free(p->out_lines);
    goc_scanner_free(p->err_lines);
    close(p->out);
    close(p->err);
    free(p);
    return rc;
}

/* ---- Lines ---- */

/* How many lines of text are exactly line. */
static int count_lines(const char *text, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += len)
        if ((p == text || p[-1] == '\n') && p[len] == '\n')
            n++;
    return n;
}

/* Where line is in text (a whole line), or NULL. */
static const char *find_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += len)
        if ((p == text || p[-1] == '\n') && p[len] == '\n')
            return p;
    return NULL;
}

static int count_all_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* ---- HTTP/1.0, from this side ---- */

/* GET path from addr: the whole response into resp. Returns the status
 * code (0 if the reply is not HTTP, negative on a network error), with
 * *body pointing into resp after the header. */
static int get(const char *addr, const char *path, char *resp, size_t size, const char **body)
{
    goc_conn *c;
    int rc = goc_dial("tcp", addr, &c);
    if (rc < 0) {
        fprintf(stderr, "  dial %s: %s\n", addr, strerror(-rc));
        return rc;
    }
    goc_conn_set_deadline(c, goc_now() + LIMIT);
    ssize_t n = goc_conn_printf(c, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, addr);
    size_t len = 0;
    while (n >= 0 && len + 1 < size && (n = goc_conn_read(c, resp + len, size - len - 1)) > 0)
        len += (size_t)n;
    goc_conn_close(c);
    resp[len] = 0;
    if (n < 0) {
        fprintf(stderr, "  GET %s%s: %s\n", addr, path, strerror((int)-n));
        return (int)n;
    }
    int status = 0;
    const char *end = strstr(resp, "\r\n\r\n");
    if (!end || sscanf(resp, "HTTP/1.0 %d ", &status) != 1) {
        fprintf(stderr, "  GET %s%s: not HTTP: \"%s\"\n", addr, path, resp);
        return 0;
    }
    *body = end + 4;
    /* the Content-Length header tells the body's length */
    char want[64];
    snprintf(want, sizeof want, "\r\nContent-Length: %zu\r\n", strlen(*body));
    if (!strstr(resp, want)) {
        fprintf(stderr, "  GET %s%s: no \"%s\": \"%s\"\n", addr, path, want + 2, resp);
        return 0;
    }
    return status;
}

/* ---- serve_stop ---- */

TEST(serve_stop_demo)
{
    struct proc *p = spawn("serve_stop", NULL, NULL, NULL);
    REQUIRE(p != NULL);
    static const char *const names[] = {"app", "debug"};
    char addrs[2][GOC_ADDRSTRLEN];
    bool listening = wait_listening(p, 2, names, addrs);
    static char out[1 << 14], log[1 << 14];
    read_rest(p, out, sizeof out, log, sizeof log);
    CHECK(proc_wait(p) == 0);
    REQUIRE(listening);

    /* The curl session, while both servers were up. */
    char want[512];
    snprintf(want, sizeof want, "$ curl http://%s/ping\npong\n$ curl http://%s/debug/goroutines\n"
             "goroutines: ", addrs[0], addrs[1]);
    CHECK(strncmp(out, want, strlen(want)) == 0);
    CHECK(count_all_lines(out) == 4);

    /* Then the seed's lines: pprof's mock exit closes stop, both servers
     * shut down, the app's ListenAndServe returns ErrServerClosed. */
    char app_exits[GOC_ADDRSTRLEN + 32], debug_exits[GOC_ADDRSTRLEN + 32];
    snprintf(app_exits, sizeof app_exits, "server will exiting, addr: %s", addrs[0]);
    snprintf(debug_exits, sizeof debug_exits, "server will exiting, addr: %s", addrs[1]);
    const char *mock = find_line(log, "server exit err: mock pprof exit");
    const char *app = find_line(log, app_exits);
    const char *debug = find_line(log, debug_exits);
    const char *closed = find_line(log, "server exit err: http: Server closed");
    CHECK(mock && app && debug && closed);
    CHECK(count_all_lines(log) == 4);
    CHECK(mock == log);             /* first: the exit that closes stop */
    CHECK(app && closed > app);     /* the app shuts down, then its ListenAndServe returns */
    if (count_all_lines(log) != 4)
        fprintf(stderr, "  stderr after the listening lines:\n%s", log);
}

TEST(serve_stop_one_fails_all_stop)
{
    /* The app's address is taken: its ListenAndServe fails at once. */
    goc_listener *taken;
    REQUIRE(goc_listen("tcp", "127.0.0.1:0", &taken) == 0);
    char taken_addr[GOC_ADDRSTRLEN];
    goc_listener_addr(taken, taken_addr, sizeof taken_addr);
    static const char *const env[] = {"SERVE_STOP_MOCK_EXIT_MS=200", NULL};
    struct proc *p = spawn("serve_stop", taken_addr, "127.0.0.1:0", env);
    if (!p)
        goc_listener_close(taken);
    REQUIRE(p != NULL);
    static char out[1 << 14], log[1 << 14];
    read_rest(p, out, sizeof out, log, sizeof log);
    CHECK(proc_wait(p) == 0);
    goc_listener_close(taken);

    /* Whichever came first, the app's failure or pprof's mock exit, closed
     * stop: the debug server was shut down (once), and main got both
     * exits. The app's server, which never served, has nothing to shut
     * down: its goroutine waiting on stop ended with it. */
    CHECK(out[0] == 0);
    CHECK(count_lines(log, "server exit err: address already in use") == 1);
    CHECK(count_lines(log, "server exit err: mock pprof exit") == 1);
    int will_exit = 0;
    for (const char *l = log; (l = strstr(l, "server will exiting, addr: ")); l++)
        will_exit++;
    CHECK(will_exit == 1);
    CHECK(!strstr(log, "Server closed")); /* the debug server's error is ignored */
    CHECK(!strstr(log, "app listening"));
}

/* ---- serve_errgroup ---- */

/* Starts serve_errgroup on two ephemeral ports; their addresses into
 * addrs (app, debug). */
static struct proc *start_errgroup(char addrs[2][GOC_ADDRSTRLEN])
{
    struct proc *p = spawn("serve_errgroup", "127.0.0.1:0", "127.0.0.1:0", NULL);
    static const char *const names[] = {"app", "debug"};
    if (p && !wait_listening(p, 2, names, addrs)) {
        kill(p->pid, SIGKILL);
        proc_wait(p);
        return NULL;
    }
    return p;
}

TEST(serve_errgroup_shutdown_request)
{
    char addrs[2][GOC_ADDRSTRLEN];
    struct proc *p = start_errgroup(addrs);
    REQUIRE(p != NULL);
    static char resp[1 << 14];
    const char *body = NULL;

    CHECK(get(addrs[0], "/ping", resp, sizeof resp, &body) == 200);
    CHECK(body && strcmp(body, "pong") == 0);
    CHECK(get(addrs[1], "/debug/goroutines", resp, sizeof resp, &body) == 200);
    CHECK(body && strncmp(body, "goroutines: ", 12) == 0 && atoi(body + 12) > 0);
    CHECK(get(addrs[0], "/nothing", resp, sizeof resp, &body) == 404);
    CHECK(body && strcmp(body, "404 page not found\n") == 0);
    CHECK(get(addrs[1], "/ping", resp, sizeof resp, &body) == 404); /* not the debug server's */

    /* A client that connects and says nothing, and one that sends half a
     * request: Shutdown closes them, unanswered, rather than wait for them
     * (Go closes idle connections). */
    goc_conn *idle = NULL, *half = NULL;
    CHECK(goc_dial("tcp", addrs[0], &idle) == 0);
    CHECK(goc_dial("tcp", addrs[0], &half) == 0);
    if (idle)
        goc_conn_set_deadline(idle, goc_now() + LIMIT);
    if (half) {
        goc_conn_set_deadline(half, goc_now() + LIMIT);
        CHECK(goc_conn_write_string(half, "GET /ping HTTP/1.0\r\n") > 0);
    }

    /* The handler's send reaches g2; Shutdown waits for this request to
     * be answered (200, empty, as the seed's handler writes nothing). */
    CHECK(get(addrs[0], "/shutdown", resp, sizeof resp, &body) == 200);
    CHECK(body && body[0] == 0);

    static char out[1 << 12], log[1 << 14];
    read_rest(p, out, sizeof out, log, sizeof log);
    CHECK(proc_wait(p) == 0);
    CHECK(strcmp(out, "errgroup exiting: http: Server closed\n") == 0);
    CHECK(strcmp(log, "server will out...\nshutting down server...\n") == 0);
    goc_conn *unanswered[] = {idle, half};
    for (int i = 0; i < 2; i++) {
        if (!unanswered[i])
            continue;
        char b;
        /* the end, or a reset if it was never accepted */
        ssize_t n = goc_conn_read(unanswered[i], &b, 1);
        CHECK(n == 0 || n == -ECONNRESET);
        goc_conn_close(unanswered[i]);
    }
}

static void signal_test(int sig, const char *want)
{
    char addrs[2][GOC_ADDRSTRLEN];
    struct proc *p = start_errgroup(addrs);
    REQUIRE(p != NULL);
    /* Notify was called before the servers started: once they listen, the
     * signal is caught. */
    CHECK(kill(p->pid, sig) == 0);
    static char out[1 << 12], log[1 << 14];
    read_rest(p, out, sizeof out, log, sizeof log);
    CHECK(proc_wait(p) == 0);
    CHECK(strcmp(out, want) == 0);
    /* g3's error cancelled ctx: g2 saw it and shut the servers down. */
    CHECK(strcmp(log, "errgroup exit...\nshutting down server...\n") == 0);
}

TEST(serve_errgroup_sigterm) { signal_test(SIGTERM, "errgroup exiting: get os signal: terminated\n"); }

TEST(serve_errgroup_sigint) { signal_test(SIGINT, "errgroup exiting: get os signal: interrupt\n"); }

TEST(serve_errgroup_demo)
{
    struct proc *p = spawn("serve_errgroup", NULL, NULL, NULL);
    REQUIRE(p != NULL);
    static char out[1 << 14], log[1 << 14];
    read_rest(p, out, sizeof out, log, sizeof log);
    CHECK(proc_wait(p) == 0);
    CHECK(count_lines(out, "pong") == 2);
    const char *first = find_line(out, "errgroup exiting: http: Server closed");
    const char *second = find_line(out, "errgroup exiting: get os signal: interrupt");
    CHECK(first && second && second > first);
    CHECK(count_lines(out, "^C") == 1);
    CHECK(count_lines(log, "shutting down server...") == 2);
}

/* ---- memo_net ---- */

TEST(memo_net_one_fetch_per_url)
{
    static const char *const env[] = {"MEMO_NET_LATENCY_MS=20", NULL};
    struct proc *p = spawn("memo_net", "50", NULL, env);
    REQUIRE(p != NULL);
    static const char *const names[] = {"server"};
    char addr[1][GOC_ADDRSTRLEN];
    bool listening = wait_listening(p, 1, names, addr);
    static char out[1 << 16], log[1 << 12];
    read_rest(p, out, sizeof out, log, sizeof log);
    CHECK(proc_wait(p) == 0);
    REQUIRE(listening);

    static const struct {
        const char *path;
        size_t size;
    } sites[] = {{"/golang.org", 7537}, {"/godoc.org", 6878}, {"/play.golang.org", 5767},
                 {"/gopl.io", 2856}};
    const char *again = find_line(out, "again, one after the other:");
    const char *asked = find_line(out, "the server was asked for:");
    REQUIRE(again && asked && asked > again);
    for (size_t i = 0; i < 4; i++) {
        /* "URL, DURATION, SIZE bytes": 50 before "again", 1 after */
        char url[GOC_ADDRSTRLEN + 32];
        snprintf(url, sizeof url, "http://%s%s, ", addr[0], sites[i].path);
        int before = 0, after = 0;
        for (const char *l = out; (l = strstr(l, url)); l++) {
            char unit[8] = "";
            double d = 0;
            size_t size = 0;
            CHECK(sscanf(l + strlen(url), "%lf%7[nsµm], %zu bytes\n", &d, unit, &size) == 3);
            CHECK(d > 0 && (!strcmp(unit, "ns") || !strcmp(unit, "µs") || !strcmp(unit, "ms") ||
                            !strcmp(unit, "s")));
            CHECK(size == sites[i].size);
            *(l < again ? &before : &after) += 1;
        }
        CHECK(before == 50 && after == 1);
        char count[64];
        snprintf(count, sizeof count, "  %s 1 time", sites[i].path);
        CHECK(count_lines(asked, count) == 1); /* one fetch per URL */
    }
    CHECK(count_lines(out, "204 requests, 4 fetches") == 1);
    CHECK(log[0] == 0); /* no error */
}

TEST(memo_net_demo)
{
    struct proc *p = spawn("memo_net", NULL, NULL, NULL);
    REQUIRE(p != NULL);
    static char out[1 << 14], log[1 << 12];
    read_rest(p, out, sizeof out, log, sizeof log);
    CHECK(proc_wait(p) == 0);
    CHECK(count_lines(out, "24 requests, 4 fetches") == 1);
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
    static const char *const needed[] = {"serve_stop", "serve_errgroup", "memo_net"};
    for (int i = 0; i < 3; i++) {
        char probe[sizeof examples_dir + 32];
        snprintf(probe, sizeof probe, "%s/%s", examples_dir, needed[i]);
        if (access(probe, X_OK) != 0) {
            fprintf(stderr, "%s: the examples are not built (%s)\n", argv[0], probe);
            return 1;
        }
    }

    RUN(serve_stop_demo);
    RUN(serve_stop_one_fails_all_stop);
    RUN(serve_errgroup_shutdown_request);
    RUN(serve_errgroup_sigterm);
    RUN(serve_errgroup_sigint);
    RUN(serve_errgroup_demo);
    RUN(memo_net_one_fetch_per_url);
    RUN(memo_net_demo);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
