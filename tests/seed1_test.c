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
 * child that outlives PROC_LIMIT (tests/proc.h; its output then ends and
 * the test fails); nothing is timed.
 */
#include "proc.h"

/* ---- Children ---- */

/* A child and the stderr lines read from it so far, for a failure's
 * note. */
struct child {
    struct proc *proc;
    char log[1 << 16];
    size_t loglen;
};

/* Starts examples/<name> with up to two arguments (NULL: none) and env
 * entries (NULL-ended, may be NULL); NULL if it cannot be started. Ended
 * by child_end or child_wait. */
static struct child *spawn(const char *name, const char *arg1, const char *arg2,
                           const char *const *env)
{
    struct proc *p = proc_spawn(name, ARGS(arg1, arg2), &(struct proc_opts){.env = env});
    if (!p)
        return NULL;
    struct child *c = calloc(1, sizeof *c);
    c->proc = p;
    return c;
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
 * end. Every line read is kept in c->log. */
static const char *next_log(struct child *c)
{
    if (goc_scanner_scan(c->proc->err_lines) <= 0)
        return NULL;
    const char *line = goc_scanner_text(c->proc->err_lines, NULL);
    int n = snprintf(c->log + c->loglen, sizeof c->log - c->loglen, "%s\n", line);
    if (n > 0 && (size_t)n < sizeof c->log - c->loglen)
        c->loglen += (size_t)n;
    if (!has_log_prefix(line)) {
        fprintf(stderr, "  not a log line: \"%s\"\n", line);
        return line;
    }
    return line + 20;
}

/* Reads stderr until "<name> listening on ADDR" for each of the n names,
 * whose addresses go to addrs[i]. */
static bool wait_listening(struct child *c, int n, const char *const *names,
                           char addrs[][GOC_ADDRSTRLEN])
{
    int seen = 0;
    const char *line;
    while (seen < n && (line = next_log(c))) {
        for (int i = 0; i < n; i++) {
            size_t len = strlen(names[i]);
            if (strncmp(line, names[i], len) == 0 && strncmp(line + len, " listening on ", 14) == 0) {
                snprintf(addrs[i], GOC_ADDRSTRLEN, "%s", line + len + 14);
                seen++;
            }
        }
    }
    if (seen < n)
        fprintf(stderr, "  no \"listening on\" lines; stderr:\n%s", c->log);
    return seen == n;
}

/* Waits for the child's end and reaps it; returns its exit status, or
 * 128 + the signal that killed it. On a failure, shows its stderr. */
static int child_wait(struct child *c)
{
    int rc = proc_reap(c->proc);
    while (next_log(c)) /* whatever is left: a sanitizer's report */
        ;
    if (rc != 0)
        fprintf(stderr, "  exit status %d; stderr:\n%s", rc, c->log);
    proc_free(c->proc);
    free(c);
    return rc;
}

/* The rest of stdout into out, the rest of stderr's lines (prefixes
 * stripped) into lines, both until their end; then child_wait. */
static int child_end(struct child *c, char *out, size_t outsz, char *lines, size_t linesz)
{
    proc_read_lines(c->proc->out_lines, out, outsz);
    size_t n = 0;
    lines[0] = 0;
    const char *line;
    while ((line = next_log(c))) {
        int k = snprintf(lines + n, linesz - n, "%s\n", line);
        if (k > 0 && (size_t)k < linesz - n)
            n += (size_t)k;
    }
    return child_wait(c);
}

/* spawn, then child_end: the status, or -1 if it did not start. */
static int run_to_end(const char *name, const char *arg1, const char *arg2,
                      const char *const *env, char *out, size_t outsz, char *lines, size_t linesz)
{
    struct child *c = spawn(name, arg1, arg2, env);
    return c ? child_end(c, out, outsz, lines, linesz) : -1;
}

/* ---- Lines ---- */

/* Where line is in text (a whole line), or NULL. */
static const char *find_line(const char *text, const char *line)
{
    size_t len = strlen(line);
    for (const char *p = text; (p = strstr(p, line)); p += len)
        if ((p == text || p[-1] == '\n') && p[len] == '\n')
            return p;
    return NULL;
}

/* How many lines of text are exactly line. */
static int count_lines(const char *text, const char *line)
{
    int n = 0;
    for (const char *p = text; (p = find_line(p, line)); p += strlen(line))
        n++;
    return n;
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
    goc_conn_set_deadline(c, goc_now() + PROC_LIMIT);
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
    struct child *p = spawn("serve_stop", NULL, NULL, NULL);
    REQUIRE(p != NULL);
    static const char *const names[] = {"app", "debug"};
    char addrs[2][GOC_ADDRSTRLEN];
    bool listening = wait_listening(p, 2, names, addrs);
    static char out[1 << 14], log[1 << 14];
    CHECK(child_end(p, out, sizeof out, log, sizeof log) == 0);
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
    static char out[1 << 14], log[1 << 14];
    int st = run_to_end("serve_stop", taken_addr, "127.0.0.1:0", env, out, sizeof out, log,
                        sizeof log);
    goc_listener_close(taken);
    CHECK(st == 0);

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
static struct child *start_errgroup(char addrs[2][GOC_ADDRSTRLEN])
{
    struct child *p = spawn("serve_errgroup", "127.0.0.1:0", "127.0.0.1:0", NULL);
    static const char *const names[] = {"app", "debug"};
    if (p && !wait_listening(p, 2, names, addrs)) {
        kill(p->proc->pid, SIGKILL);
        child_wait(p);
        return NULL;
    }
    return p;
}

TEST(serve_errgroup_shutdown_request)
{
    char addrs[2][GOC_ADDRSTRLEN];
    struct child *p = start_errgroup(addrs);
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
        goc_conn_set_deadline(idle, goc_now() + PROC_LIMIT);
    if (half) {
        goc_conn_set_deadline(half, goc_now() + PROC_LIMIT);
        CHECK(goc_conn_write_string(half, "GET /ping HTTP/1.0\r\n") > 0);
    }

    /* The handler's send reaches g2; Shutdown waits for this request to
     * be answered (200, empty, as the seed's handler writes nothing). */
    CHECK(get(addrs[0], "/shutdown", resp, sizeof resp, &body) == 200);
    CHECK(body && body[0] == 0);

    static char out[1 << 12], log[1 << 14];
    CHECK(child_end(p, out, sizeof out, log, sizeof log) == 0);
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
    struct child *p = start_errgroup(addrs);
    REQUIRE(p != NULL);
    /* Notify was called before the servers started: once they listen, the
     * signal is caught. */
    CHECK(kill(p->proc->pid, sig) == 0);
    static char out[1 << 12], log[1 << 14];
    CHECK(child_end(p, out, sizeof out, log, sizeof log) == 0);
    CHECK(strcmp(out, want) == 0);
    /* g3's error cancelled ctx: g2 saw it and shut the servers down. */
    CHECK(strcmp(log, "errgroup exit...\nshutting down server...\n") == 0);
}

TEST(serve_errgroup_sigterm) { signal_test(SIGTERM, "errgroup exiting: get os signal: terminated\n"); }

TEST(serve_errgroup_sigint) { signal_test(SIGINT, "errgroup exiting: get os signal: interrupt\n"); }

TEST(serve_errgroup_demo)
{
    static char out[1 << 14], log[1 << 14];
    CHECK(run_to_end("serve_errgroup", NULL, NULL, NULL, out, sizeof out, log, sizeof log) == 0);
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
    struct child *p = spawn("memo_net", "50", NULL, env);
    REQUIRE(p != NULL);
    static const char *const names[] = {"server"};
    char addr[1][GOC_ADDRSTRLEN];
    bool listening = wait_listening(p, 1, names, addr);
    static char out[1 << 16], log[1 << 12];
    CHECK(child_end(p, out, sizeof out, log, sizeof log) == 0);
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
    static char out[1 << 14], log[1 << 12];
    CHECK(run_to_end("memo_net", NULL, NULL, NULL, out, sizeof out, log, sizeof log) == 0);
    CHECK(count_lines(out, "24 requests, 4 fetches") == 1);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (!proc_find_examples(ARGS("serve_stop", "serve_errgroup", "memo_net")))
        return 1;

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
