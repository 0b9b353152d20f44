/* ctx_leak.c: http.TimeoutHandler answers on time but cannot stop the handler it runs: a handler that ignores its context leaks a goroutine per request; one that watches ctx.Done() does not (seed 001 §9, context's drawbacks).
 *
 *     mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
 *         // blocks here: the goroutine is never released
 *         time.Sleep(1000 * time.Second)
 *         rw.Write([]byte("hello"))
 *     })
 *     handler := http.TimeoutHandler(mux, time.Millisecond, "xxx")
 *
 * TimeoutHandler's ServeHTTP (net/http, abridged as in the seed) runs the
 * handler in a goroutine of its own with a context that ends after dt,
 * and answers whichever comes first:
 *
 *     ctx, cancelCtx = context.WithTimeout(r.Context(), h.dt)
 *     defer cancelCtx()
 *     r = r.WithContext(ctx)
 *     done := make(chan struct{})
 *     tw := &timeoutWriter{w: w, h: make(Header), req: r}
 *     go func() {
 *         h.handler.ServeHTTP(tw, r)
 *         close(done)
 *     }()
 *     select {
 *     case <-done:
 *         // copy tw's response to w
 *     case <-ctx.Done():
 *         // 503 with the message ("xxx")
 *     }
 *
 * Once the context has ended, ServeHTTP returns and nobody waits for that
 * goroutine: if the handler does not look at its context, it goes on
 * (here, asleep for 1,000 s) after its request has been answered. The
 * seed's pprof showed the goroutines piling up; this program counts them.
 * It serves N requests (default 5) with dt = 1 ms twice: first with a
 * handler that waits for its work or for r.Context(), whichever ends
 * first, then with the seed's. Each request gets "xxx" (503), except that
 * the first handler, returning as its context ends, may win ServeHTTP's
 * select and have its empty page sent (200), as in Go; the first handler's
 * goroutines all end, the seed's stay, one per request, asleep when main
 * returns.
 */
#include "httpmini.h" /* first: it defines _GNU_SOURCE */

#include <stdatomic.h>

#define DT GOC_MILLISECOND
#define WORK (1000 * GOC_SECOND)

/* ---- TimeoutHandler ---- */

typedef struct timeout_handler {
    http_handler h; /* the handler it runs */
    void *arg;
    int64_t dt;
    const char *msg;
} timeout_handler;

/* What the goroutine running the handler owns: freed by whichever of it
 * and ServeHTTP is done last (a handler that never returns keeps it). */
struct timeout_run {
    http_handler h;   /* copied: the TimeoutHandler may be gone by the time it runs */
    void *arg;
    http_response tw; /* the handler's response; tw.ctx a reference of its own */
    char path[1024];
    goc_chan *done;   /* closed when the handler has returned: a reference */
    atomic_int owners;
};

static void timeout_run_unref(struct timeout_run *run)
{
    if (atomic_fetch_sub(&run->owners, 1) != 1)
        return;
    goc_ctx_unref(run->tw.ctx);
    http_response_free(&run->tw);
    goc_chan_release(run->done);
    free(run);
}

static void timeout_run(void *arg)
{
    struct timeout_run *run = arg;
    run->h(run->arg, &run->tw, run->path);
    goc_chan_close(run->done);
    timeout_run_unref(run);
}

/* TimeoutHandler's ServeHTTP. */
static void timeout_serve(void *arg, http_response *w, const char *path)
{
    timeout_handler *t = arg;
    goc_ctx *ctx = goc_with_timeout(w->ctx, t->dt);
    struct timeout_run *run = calloc(1, sizeof *run);
    if (!ctx || !run || !(run->done = goc_chan_make(0, 0)))
        log_fatal("out of memory");
    run->h = t->h;
    run->arg = t->arg;
    run->tw = (http_response){.status = 200, .ctx = goc_ctx_retain(ctx)};
    snprintf(run->path, sizeof run->path, "%s", path);
    atomic_store(&run->owners, 2);
    goc_go(timeout_run, run);
    goc_select_case cases[] = {GOC_RECV_CASE(run->done, NULL),
                               GOC_RECV_CASE(goc_ctx_done(ctx), NULL)};
    if (goc_select(cases, 2, false) == 0) {
        w->status = run->tw.status;
        http_write(w, run->tw.body ? run->tw.body : "", run->tw.len);
    } else {
        w->status = 503; /* http.StatusServiceUnavailable */
        http_printf(w, "%s", t->msg);
    }
    goc_ctx_release(ctx); /* defer cancelCtx() */
    timeout_run_unref(run);
}

/* ---- the handlers ---- */

/* The seed's: sleeps, whatever its context says. */
static void sleepy(void *arg, http_response *w, const char *path)
{
    (void)arg, (void)path;
    goc_sleep(WORK); /* blocks here: the goroutine is never released */
    http_printf(w, "hello");
}

/* Its work, or its request's end, whichever comes first. */
static void attentive(void *arg, http_response *w, const char *path)
{
    (void)arg, (void)path;
    goc_chan *work = goc_after(WORK);
    goc_select_case cases[] = {GOC_RECV_CASE(work, NULL),
                               GOC_RECV_CASE(goc_ctx_done(w->ctx), NULL)};
    if (goc_select(cases, 2, false) == 0)
        http_printf(w, "hello");
    goc_chan_release(work);
}

/* n requests to a server whose "/" is TimeoutHandler(h, 1 ms, "xxx"),
 * then the goroutines left once everything else has ended: it waits until
 * no more than `leaks` are left beside those it started with (so a
 * handler that should end and does not hangs the program). */
static void demo(const char *name, http_handler h, int n, int leaks)
{
    int before = goc_num_goroutine();
    timeout_handler t = {h, NULL, DT, "xxx"};
    http_route routes[] = {{"/", timeout_serve, &t}};
    http_local server;
    http_local_start(&server, "server", routes, 1);
    char url[GOC_ADDRSTRLEN + 16];
    snprintf(url, sizeof url, "http://%s/", server.addr);

    printf("-- TimeoutHandler(%s, 1ms, \"xxx\"), %d requests\n", name, n);
    for (int i = 0; i < n; i++) {
        http_response resp;
        char buf[64];
        int err = http_get(url, &resp);
        if (err)
            printf("  error: %s\n", http_err_str(err, buf));
        else
            printf("  %d %s\n", resp.status, resp.body ? resp.body : "");
        http_response_free(&resp);
    }
    http_local_stop(&server); /* waits for the connections */
    /* The connections' goroutines, and the handlers that looked at their
     * context, end (or have ended): wait for them. */
    while (goc_num_goroutine() - before > leaks)
        goc_yield();
    printf("  goroutines left behind: %d\n", goc_num_goroutine() - before);
}

static int real_main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5;
    if (n < 1 || argc > 2) {
        fprintf(stderr, "usage: ctx_leak [N]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    demo("attentive", attentive, n, 0);
    demo("sleepy", sleepy, n, n); /* last: its goroutines outlive main */
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
