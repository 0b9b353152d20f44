/* ctx_examples_test.c: runs the context, errgroup, singleflight and memo
 * examples (examples/ctx_*.c, tracker.c, singleflight.c, memo_monitor.c,
 * built beside the tests) and checks what they print: the seed programs'
 * output, where it is deterministic, and their point where it is timing
 * (the singleflight demo: a second of queries without it, far fewer
 * queries with it). */
#include "proc.h" /* first: it defines _GNU_SOURCE */

static char out[1 << 16];

/* Runs examples/<name> from this build, as tests/proc.h runs a child (a
 * hung one is killed by its watchdog); its output, stdout and stderr
 * together, in out. Returns its exit status (-1 if it could not be
 * started). */
static int run_example_args(const char *name, const char *const *args)
{
    out[0] = 0;
    struct proc *p = proc_spawn(name, args, &(struct proc_opts){.merge_output = true});
    if (!p)
        return -1;
    size_t n = proc_read_lines(p->out_lines, out, sizeof out);
    int st = proc_wait(p);
    if (st != 0 || n == 0)
        fprintf(stderr, "%s: status %d, output:\n%s\n", name, st, out);
    return st;
}

static int run_example(const char *name) { return run_example_args(name, NULL); }

static int count_lines(const char *s, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *p = s; (p = strstr(p, line)); p += len)
        if ((p == s || p[-1] == '\n') && p[len] == '\n')
            n++;
    return n;
}

TEST(ctx_timeout)
{
    CHECK(run_example("ctx_timeout") == 0);
    /* 50 ms times out; 150 and 200 ms get the 100 ms rpc's result; 100 ms
     * is a race between two 100 ms waits (the seed's rpc won it). */
    const char *timeout50 = "timeout: 50 ms, context exit: context deadline exceeded\n";
    CHECK(strncmp(out, timeout50, strlen(timeout50)) == 0);
    int results = count_lines(out, "result: rpc done, err: <nil>");
    int timeout100 = count_lines(out, "timeout: 100 ms, context exit: context deadline exceeded");
    CHECK(results + timeout100 == 3 && results >= 2);
}

TEST(ctx_errcancel)
{
    CHECK(run_example("ctx_errcancel") == 0);
    CHECK(strcmp(out, "f1 err in 1ms\nf2: context canceled\n") == 0);
}

TEST(ctx_gen)
{
    CHECK(run_example("ctx_gen") == 0);
    CHECK(strcmp(out, "1\n2\n3\n4\n5\ngenerator: context canceled, returning\n"
                      "goroutines left: 1\n") == 0);
}

TEST(ctx_tree)
{
    CHECK(run_example("ctx_tree") == 0);
    const char *outer = strstr(out, "\n********I'm done\n");
    const char *inner = strstr(out, "\n*******I'm done too\n");
    const char *last = strstr(out, "\n******who lasts longest\n");
    CHECK(outer && inner && last && outer < last && inner < last);
    CHECK(count_lines(out, "********I'm done") == 1 && count_lines(out, "*******I'm done too") == 1);
    /* Both worked before the cancel, neither after it. */
    const char *first_running = strstr(out, "\nrunning\n");
    CHECK(first_running && first_running < outer && !strstr(last, "running"));
    CHECK(last && strcmp(strstr(out, "-- a job"), "-- a job cancelled before its work is done\n"
                                                 "context canceled\n") == 0);
}

TEST(ctx_http)
{
    CHECK(run_example("ctx_http") == 0);
    /* The 100 ms client gives up before the 1 s handler is done, and the
     * handler sees its request's context end; the 3 s one gets the page. */
    const char *first = strstr(out, "-- client, timeout 100 ms\nhandler start\ncontext canceled\n"
                                    "handler end\n\nclient: Get \"http://127.0.0.1:");
    const char *err = first ? strstr(first, "/\": context deadline exceeded\n") : NULL;
    const char *second = err ? strstr(err, "\n-- client, timeout 3000 ms\nhandler start\n"
                                           "finish doing something\nhandler end\n\n"
                                           "client: hello world!\n") : NULL;
    CHECK(first && err && second);
}

TEST(ctx_leak)
{
    CHECK(run_example("ctx_leak") == 0);
    /* Every request answered by the TimeoutHandler; the handler that
     * watches its context leaves nothing, the seed's one goroutine each. */
    /* The seed's handler never returns: its requests always get the
     * timeout's answer. The attentive one returns as its context ends, so
     * TimeoutHandler's select may take its (empty) page instead, as Go's
     * would. */
    int timeouts = count_lines(out, "  503 xxx"), pages = count_lines(out, "  200 ");
    CHECK(timeouts >= 5 && timeouts + pages == 10);
    const char *attentive = strstr(out, "-- TimeoutHandler(attentive, 1ms, \"xxx\"), 5 requests\n");
    const char *sleepy = strstr(out, "-- TimeoutHandler(sleepy, 1ms, \"xxx\"), 5 requests\n");
    CHECK(attentive && sleepy && attentive < sleepy);
    const char *none = strstr(out, "  goroutines left behind: 0\n");
    const char *five = strstr(out, "  goroutines left behind: 5\n");
    CHECK(none && five && none < sleepy && five > sleepy);
    if (test_failures_now)
        fprintf(stderr, "ctx_leak's output:\n%s\n", out);
}

TEST(ctx_value)
{
    CHECK(run_example("ctx_value") == 0);
    CHECK(strstr(out, "handle /orders: request id \"7f3a-0001\"\n"
                      "client: request id: \"7f3a-0001\"\n"
                      "handle /users: request id \"7f3a-0002\"\n"
                      "client: request id: \"7f3a-0002\"\n"
                      "handle /health: request id \"\"\n"
                      "client: request id: \"\"\n") != NULL);
}

TEST(tracker)
{
    CHECK(run_example("tracker") == 0);
    CHECK(strncmp(out, "event 1\nevent 2\nevent 3\nshutdown: <nil>\n", 40) == 0);
    const char *q = strstr(out, " events queued, then: context deadline exceeded\n");
    CHECK(q != NULL);
    if (q) {
        const char *start = q;
        while (start > out && start[-1] != '\n')
            start--;
        CHECK(atoi(start) >= 10); /* the buffer filled up, then Event gave up */
    }
    /* The slow tracker's Shutdown gave up at its deadline. */
    CHECK(count_lines(out, "shutdown: context deadline exceeded") == 1);
}

/* The seed's first two Trackers: a goroutine per event that nothing waits
 * for, so that main may return before any event is logged; then a
 * WaitGroup that Shutdown waits on, so that every event is logged before
 * it returns. */
TEST(tracker_early_versions)
{
    CHECK(run_example_args("tracker", ARGS("1")) == 0);
    CHECK(count_lines(out, "request 1: 201 Created") == 1 &&
          count_lines(out, "request 5: 201 Created") == 1);
    const char *ret = strstr(out, "main returns with ");
    int running = -1;
    CHECK(ret && sscanf(ret, "main returns with %d tracker goroutines running", &running) == 1 &&
          running >= 0 && running <= 5);

    CHECK(run_example_args("tracker", ARGS("2")) == 0);
    const char *shut = strstr(out, "shutdown: every event logged\n");
    CHECK(shut != NULL);
    static const char *const events[] = {"event 1\n", "event 2\n", "event 3\n", "event 4\n",
                                         "event 5\n"};
    for (int i = 0; i < 5; i++) {
        const char *e = strstr(out, events[i]);
        CHECK(e && shut && e < shut);
    }
    CHECK(run_example_args("tracker", ARGS("3")) == 2 && strstr(out, "usage:"));
}

TEST(singleflight)
{
    CHECK(run_example("singleflight") == 0);
    const char *w = strstr(out, "1000 concurrent requests without singleflight: ");
    const char *s = strstr(out, "1000 concurrent requests with singleflight: ");
    CHECK(w && s);
    if (!w || !s)
        return;
    double ms_without = 0, ms_with = 0;
    int q_without = 0, q_with = 0;
    CHECK(sscanf(w, "1000 concurrent requests without singleflight: %lf ms, %d database queries",
                 &ms_without, &q_without) == 2);
    CHECK(sscanf(s, "1000 concurrent requests with singleflight: %lf ms, %d database queries",
                 &ms_with, &q_with) == 2);
    CHECK(q_without == 1000);
    CHECK(ms_without >= 1000); /* the 1000th query alone sleeps 1000 ms */
    CHECK(q_with >= 1 && q_with < 1000);
    fprintf(stderr, "    without: %.1f ms, %d queries; with: %.1f ms, %d queries\n", ms_without,
            q_without, ms_with, q_with);
}

TEST(memo_monitor)
{
    CHECK(run_example("memo_monitor") == 0);
    const char *urls[] = {"https://golang.org", "https://godoc.org", "https://play.golang.org",
                          "http://gopl.io"};
    for (int i = 0; i < 4; i++) {
        char want[128];
        snprintf(want, sizeof want, "%s, ", urls[i]);
        int n = 0;
        for (const char *p = out; (p = strstr(p, want)); p++) {
            size_t bytes = 0;
            const char *b = strstr(p, " ms, ");
            CHECK(b && sscanf(b, " ms, %zu bytes", &bytes) == 1 && bytes == 1000 * strlen(urls[i]));
            n++;
        }
        CHECK(n == 2);
    }
    CHECK(strstr(out, "8 requests, 4 fetches\n") != NULL);
}

/* The squarer stops at the cancel: squares of 1, 2, 3, ... in order, at
 * most the one in progress after "context cancelled!", and only main left
 * at the end. */
TEST(ctx_square)
{
    CHECK(run_example("ctx_square") == 0);
    const char *cancelled = strstr(out, "cancelling context..\n");
    const char *done = strstr(out, "context cancelled!\n");
    CHECK(cancelled && done && cancelled < done);
    int n = 0, after = 0;
    for (const char *p = out; (p = strstr(p, "Result: ")); p++) {
        n++;
        CHECK(atoi(p + 8) == n * n);
        after += done && p > done;
    }
    CHECK(after <= 1);
    CHECK(strstr(out, "goroutines at the end: 1\n") != NULL);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    if (!proc_find_examples(ARGS("ctx_timeout", "ctx_errcancel", "ctx_gen", "ctx_square",
                                 "ctx_tree", "ctx_http", "ctx_leak", "ctx_value", "tracker",
                                 "singleflight", "memo_monitor")))
        return 1;
    RUN(ctx_errcancel);
    RUN(ctx_gen);
    RUN(ctx_square);
    RUN(ctx_tree);
    RUN(ctx_http);
    RUN(ctx_leak);
    RUN(ctx_value);
    RUN(tracker);
    RUN(tracker_early_versions);
    RUN(singleflight);
    RUN(memo_monitor);
    RUN(ctx_timeout);
    return test_summary();
}

int main(int argc, char **argv)
{
    test_self = argv[0];
    return goc_main(run_all, argc, argv);
}
