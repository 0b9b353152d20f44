/* serve_stop.c: the app and its debug server stop together: each server stops when a stop channel is closed, and main closes it at the first exit, then waits for the rest (seed 001 §1, seed 003).
 *
 *     func main() {
 *         done := make(chan error, 2)
 *         stop := make(chan struct{}, 0)
 *         go func() {
 *             done <- pprof(stop)
 *         }()
 *         go func() {
 *             done <- app(stop)
 *         }()
 *         var stoped bool
 *         for i := 0; i < cap(done); i++ {
 *             if err := <-done; err != nil {
 *                 log.Printf("server exit err: %+v", err)
 *             }
 *             if !stoped {
 *                 stoped = true
 *                 close(stop)
 *             }
 *         }
 *     }
 *
 *     func app(stop <-chan struct{}) error {
 *         mux := http.NewServeMux()
 *         mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
 *             w.Write([]byte("pong"))
 *         })
 *         return server(mux, ":8080", stop)
 *     }
 *
 *     func pprof(stop <-chan struct{}) error {
 *         // mocks an unexpected exit, to show that when one server
 *         // exits the other one exits too
 *         go func() {
 *             server(http.DefaultServeMux, ":8081", stop)
 *         }()
 *         time.Sleep(5 * time.Second)
 *         return fmt.Errorf("mock pprof exit")
 *     }
 *
 *     func server(handler http.Handler, addr string, stop <-chan struct{}) error {
 *         s := http.Server{
 *             Handler: handler,
 *             Addr:    addr,
 *         }
 *         go func() {
 *             <-stop
 *             log.Printf("server will exiting, addr: %s", addr)
 *             s.Shutdown(context.Background())
 *         }()
 *         return s.ListenAndServe()
 *     }
 *
 * prints, 5 s after it starts,
 *     2020/12/08 21:49:43 server exit err: mock pprof exit
 *     2020/12/08 21:49:43 server will exiting, addr: :8081
 *     2020/12/08 21:49:43 server will exiting, addr: :8080
 *     2020/12/08 21:49:43 server exit err: http: Server closed
 *
 * The lesson: never start a goroutine without knowing how it stops. Each
 * server stops when stop is closed (Shutdown makes its ListenAndServe
 * return), and main closes stop at the first server's exit, whatever it
 * was, then waits for the other: one exits, all exit. HTTP here is
 * examples/httpmini.h (goc has no net/http): HTTP/1.0, one request per
 * connection; Shutdown is Go's.
 *
 * What C adds, where the seed still leaves a goroutine to chance:
 *  - server's goroutine `<-stop; Shutdown` would wait forever on stop if
 *    ListenAndServe failed (say, its address is taken) and stop were never
 *    closed. Here it waits on stop or on the server's end (a `served`
 *    channel closed when ListenAndServe returns), and server joins it
 *    before returning, so it never outlives the server it shuts down.
 *  - pprof's goroutine, which runs the debug server, is owned by no one in
 *    the seed: main may return while it is still shutting down. Here it is
 *    counted in a WaitGroup that main waits on after its loop.
 *  - the debug server's DefaultServeMux serves net/http/pprof; here it
 *    serves /debug/goroutines, the goroutine count (goc_num_goroutine).
 *  - addresses: the servers log where they listen ("app listening on
 *    127.0.0.1:41234"), and the "will exiting" line gives that address.
 *    Errors are ints, printed with Go's texts where Go has one of its own
 *    ("http: Server closed"), else the system's ("address already in use",
 *    where Go says "listen tcp :8080: bind: address already in use");
 *    %+v's stack trace is not printed.
 *
 * Usage: serve_stop APP_ADDR DEBUG_ADDR (the seed's :8080 :8081); pprof's
 * mock exit comes after SERVE_STOP_MOCK_EXIT_MS milliseconds (default
 * 5000, the seed's 5 s).
 *
 * serve_stop or serve_stop --demo: both servers on 127.0.0.1:0 and a curl
 * session from this process against them; the session stands for the
 * seed's 5 s (pprof's mock exit comes when it is over, so that both
 * servers are up while it runs, whatever the machine's speed).
 */
#include "httpmini.h"

#define ERR_MOCK_PPROF_EXIT 10 /* fmt.Errorf("mock pprof exit") */

static const char *err_str(int err, char buf[64])
{
    return err == ERR_MOCK_PPROF_EXIT ? "mock pprof exit" : http_err_str(err, buf);
}

static const char *app_addr, *debug_addr;
static int64_t mock_exit_after;
static goc_chan *on_listen;    /* demo: where the servers say they listen */
static goc_chan *demo_session; /* demo: closed when the curl session ends */
static goc_waitgroup unowned = GOC_WAITGROUP_INIT; /* pprof's goroutine */

/* ---- server(handler, addr, stop) ---- */

struct shutdown_arg {
    http_server *s;
    goc_chan *stop, *served;
};

/* go func() { <-stop; log.Printf(...); s.Shutdown(context.Background()) }()
 * that also ends when the server has ended by itself. */
static void shutdown_on_stop(void *arg)
{
    struct shutdown_arg *a = arg;
    goc_select_case cases[] = {
        GOC_RECV_CASE(a->stop, NULL),
        GOC_RECV_CASE(a->served, NULL),
    };
    if (goc_select(cases, 2, false) == 0) {
        char addr[GOC_ADDRSTRLEN];
        log_print("server will exiting, addr: %s", http_server_addr(a->s, addr));
        http_shutdown(a->s, goc_background());
    }
}

static int server(const char *name, const http_route *handler, size_t nroutes, const char *addr,
                  goc_chan *stop)
{
    http_server s;
    http_server_init(&s, name, addr, handler, nroutes);
    s.on_listen = on_listen;
    struct shutdown_arg a = {&s, stop, goc_chan_make(0, 0)};
    goc_waitgroup shutting = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&shutting, shutdown_on_stop, &a);

    int err = http_listen_and_serve(&s);

    goc_chan_close(a.served);
    goc_waitgroup_wait(&shutting); /* the goroutine above has ended */
    goc_chan_release(a.served);
    http_server_destroy(&s);
    return err;
}

/* ---- app ---- */

static void ping(void *arg, http_response *w, const char *path)
{
    (void)arg, (void)path;
    http_write(w, "pong", 4);
}

static int app(goc_chan *stop)
{
    static const http_route mux[] = {{"/ping", ping, NULL}};
    return server("app", mux, 1, app_addr, stop);
}

/* ---- pprof ---- */

static void goroutines(void *arg, http_response *w, const char *path)
{
    (void)arg, (void)path;
    http_printf(w, "goroutines: %d\n", goc_num_goroutine());
}

static const http_route default_serve_mux[] = {{"/debug/goroutines", goroutines, NULL}};

static void serve_debug(void *stop)
{
    server("debug", default_serve_mux, 1, debug_addr, stop); /* its error ignored, as in the seed */
}

static int pprof(goc_chan *stop)
{
    goc_waitgroup_go(&unowned, serve_debug, stop); /* go func() { server(...) }() */
    if (demo_session)
        goc_chan_recv(demo_session, NULL); /* the demo: its session plays the 5 s */
    else
        goc_sleep(mock_exit_after);
    return ERR_MOCK_PPROF_EXIT;
}

/* ---- main ---- */

struct run_arg {
    int (*fn)(goc_chan *stop);
    goc_chan *stop, *done;
};

/* go func() { done <- fn(stop) }() */
static void run(void *arg)
{
    struct run_arg *r = arg;
    int err = r->fn(r->stop);
    goc_chan_send(r->done, &err);
}

/* The demo's curl: waits for both servers, asks each for a page. */
static void curl(void *unused)
{
    (void)unused;
    char urls[2][GOC_ADDRSTRLEN + 64];
    for (int i = 0; i < 2; i++) {
        http_listening at;
        goc_chan_recv(on_listen, &at);
        bool is_app = strcmp(at.name, "app") == 0;
        snprintf(urls[is_app ? 0 : 1], sizeof urls[0], "http://%s%s", at.addr,
                 is_app ? "/ping" : "/debug/goroutines");
    }
    for (int i = 0; i < 2; i++) {
        printf("$ curl %s\n", urls[i]);
        http_response r;
        char buf[64];
        int err = http_get(urls[i], &r);
        if (err)
            printf("curl: %s\n", http_err_str(err, buf));
        else
            printf("%s%s", r.body, r.len && r.body[r.len - 1] == '\n' ? "" : "\n");
        http_response_free(&r);
    }
    fflush(stdout);
    goc_chan_close(demo_session);
}

static int real_main(int argc, char **argv)
{
    goc_waitgroup demo = GOC_WAITGROUP_INIT;
    if (demo_mode(argc, argv)) {
        app_addr = debug_addr = "127.0.0.1:0";
        on_listen = goc_chan_make(sizeof(http_listening), 2);
        demo_session = goc_chan_make(0, 0);
        goc_waitgroup_go(&demo, curl, NULL);
    } else if (argc == 3) {
        app_addr = argv[1];
        debug_addr = argv[2];
        mock_exit_after = env_millis("SERVE_STOP_MOCK_EXIT_MS", 5000);
    } else {
        fprintf(stderr, "usage: serve_stop [APP_ADDR DEBUG_ADDR]\n");
        return 2;
    }

    goc_chan *done = goc_chan_make(sizeof(int), 2);
    goc_chan *stop = goc_chan_make(0, 0);
    struct run_arg debug = {pprof, stop, done}, main_app = {app, stop, done};
    goc_go(run, &debug);
    goc_go(run, &main_app);

    bool stoped = false;
    for (size_t i = 0; i < goc_chan_cap(done); i++) {
        int err;
        goc_chan_recv(done, &err);
        char buf[64];
        if (err != 0)
            log_print("server exit err: %s", err_str(err, buf));
        if (!stoped) {
            stoped = true;
            goc_chan_close(stop);
        }
    }

    goc_waitgroup_wait(&unowned); /* the debug server's goroutine */
    goc_waitgroup_wait(&demo);
    goc_chan_release(done);
    goc_chan_release(stop);
    if (on_listen) {
        goc_chan_release(on_listen);
        goc_chan_release(demo_session);
    }
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
