/* serve_errgroup.c: the servers in an errgroup: a /shutdown request, SIGINT or SIGTERM, or any server's exit, and every goroutine of the group stops (seed 001 §7).
 *
 *     func main() {
 *         g, ctx := errgroup.WithContext(context.Background())
 *
 *         mux := http.NewServeMux()
 *         mux.HandleFunc("/ping", func(w http.ResponseWriter, r *http.Request) {
 *             w.Write([]byte("pong"))
 *         })
 *
 *         // mocks one server's exit
 *         serverOut := make(chan struct{})
 *         mux.HandleFunc("/shutdown", func(w http.ResponseWriter, r *http.Request) {
 *             serverOut <- struct{}{}
 *         })
 *
 *         server := http.Server{
 *             Handler: mux,
 *             Addr:    ":8080",
 *         }
 *
 *         // g1: when g1 exits, ctx is done: g2 and g3 exit with it
 *         g.Go(func() error {
 *             return server.ListenAndServe()
 *         })
 *
 *         // g2: when g2 exits it has called Shutdown: g1 exits
 *         g.Go(func() error {
 *             select {
 *             case <-ctx.Done():
 *                 log.Println("errgroup exit...")
 *             case <-serverOut:
 *                 log.Println("server will out...")
 *             }
 *
 *             timeoutCtx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
 *             defer cancel()
 *
 *             log.Println("shutting down server...")
 *             return server.Shutdown(timeoutCtx)
 *         })
 *
 *         // g3: catches the OS's exit signals
 *         g.Go(func() error {
 *             quit := make(chan os.Signal, 0)
 *             signal.Notify(quit, syscall.SIGINT, syscall.SIGTERM)
 *
 *             select {
 *             case <-ctx.Done():
 *                 return ctx.Err()
 *             case sig := <-quit:
 *                 return errors.Errorf("get os signal: %v", sig)
 *             }
 *         })
 *
 *         fmt.Printf("errgroup exiting: %+v\n", g.Wait())
 *     }
 *
 * One exits, all exit. GET /shutdown: g2 shuts the server down, g1's
 * ListenAndServe returns "http: Server closed", the group's first error,
 * which cancels ctx, and g3 returns. SIGINT or SIGTERM: g3's error comes
 * first and cancels ctx; g2 sees it and shuts the server down; g1 returns.
 * g.Wait returns once all three have, and prints the first error:
 *     errgroup exiting: http: Server closed
 *     errgroup exiting: get os signal: terminated
 *     errgroup exiting: get os signal: interrupt
 *
 * The changes, each so that no goroutine is left to chance:
 *  - the debug server of seed 001's first version (serve_stop.c) runs
 *    beside the app, in the group too (g1 serves the app, g1d the debug
 *    server, g2 shuts both down): every server stops.
 *  - quit has room for one signal and Notify is called before the group
 *    starts (main), and Stop after Wait: Go's docs ask for a buffered
 *    channel (an unbuffered one may miss the signal), and a signal that
 *    came before g3 ran Notify would kill the program (the servers may
 *    already be listening then: the test sends its signal as soon as they
 *    do).
 *  - the /shutdown handler sends on serverOut or gives up once ctx is
 *    done: in the seed a /shutdown that comes after g2 has stopped
 *    receiving blocks its handler forever, and Shutdown gives up on it
 *    after its 3 s.
 *  - HTTP is examples/httpmini.h (goc has no net/http): HTTP/1.0, one
 *    request per connection; ListenAndServe and Shutdown are Go's. Errors
 *    are ints; the signal's name is Go's; %+v's stack trace is not printed.
 *
 * Usage: serve_errgroup APP_ADDR [DEBUG_ADDR] (the seed's :8080; the
 * debug server's default is 127.0.0.1:0). Each server logs where it
 * listens ("app listening on 127.0.0.1:41234"). Then: curl ADDR/ping,
 * curl DEBUG_ADDR/debug/goroutines, curl ADDR/shutdown, or ^C.
 *
 * serve_errgroup or serve_errgroup --demo: the seed's main twice, both
 * servers on 127.0.0.1:0, with a curl session from this process: the first
 * time it ends with GET /shutdown, the second with a SIGINT the session
 * sends to this process (a ^C).
 */
#include "httpmini.h"

#define ERR_SIGNAL 100 /* + the signal: errors.Errorf("get os signal: %v", sig) */

static const char *err_str(int err, char buf[64])
{
    if (err == ERR_SIGNAL + SIGINT)
        return "get os signal: interrupt"; /* Go's names for them */
    if (err == ERR_SIGNAL + SIGTERM)
        return "get os signal: terminated";
    return http_err_str(err, buf);
}

static void ping(void *arg, http_response *w, const char *path)
{
    (void)arg, (void)path;
    http_write(w, "pong", 4);
}

struct group {
    goc_ctx *ctx;
    goc_chan *server_out; /* chan struct{} */
    goc_chan *quit;       /* chan os.Signal, capacity 1 */
    http_server server, debug;
};

static void shutdown_handler(void *arg, http_response *w, const char *path)
{
    (void)w, (void)path;
    struct group *g = arg;
    goc_select_case cases[] = {
        GOC_SEND_CASE(g->server_out, NULL),
        GOC_RECV_CASE(goc_ctx_done(g->ctx), NULL), /* g2 has stopped listening */
    };
    goc_select(cases, 2, false);
}

static void goroutines(void *arg, http_response *w, const char *path)
{
    (void)arg, (void)path;
    http_printf(w, "goroutines: %d\n", goc_num_goroutine());
}

/* g1, g1d */
static int listen_and_serve(void *server) { return http_listen_and_serve(server); }

/* g2 */
static int shut_down(void *arg)
{
    struct group *g = arg;
    goc_select_case cases[] = {
        GOC_RECV_CASE(goc_ctx_done(g->ctx), NULL),
        GOC_RECV_CASE(g->server_out, NULL),
    };
    if (goc_select(cases, 2, false) == 0)
        log_print("errgroup exit...");
    else
        log_print("server will out...");

    goc_ctx *timeout_ctx = goc_with_timeout(goc_background(), 3 * GOC_SECOND);

    log_print("shutting down server...");
    int err = http_shutdown(&g->server, timeout_ctx);
    int err_debug = http_shutdown(&g->debug, timeout_ctx);
    goc_ctx_release(timeout_ctx); /* defer cancel() */
    return err ? err : err_debug;
}

/* g3 */
static int catch_signals(void *arg)
{
    struct group *g = arg;
    int sig;
    goc_select_case cases[] = {
        GOC_RECV_CASE(goc_ctx_done(g->ctx), NULL),
        GOC_RECV_CASE(g->quit, &sig),
    };
    if (goc_select(cases, 2, false) == 0)
        return goc_ctx_err(g->ctx);
    return ERR_SIGNAL + sig;
}

/* The seed's main, on the two addresses; on_listen as in httpmini.h. */
static void seed_main(const char *app_addr, const char *debug_addr, goc_chan *on_listen)
{
    struct group g = {.server_out = goc_chan_make(0, 0), .quit = goc_chan_make(sizeof(int), 1)};
    static const int sigs[] = {SIGINT, SIGTERM};
    int err = goc_signal_notify(g.quit, 2, sigs);
    if (err)
        log_fatal("signal.Notify: %s", strerror(-err));

    goc_errgroup eg;
    g.ctx = goc_errgroup_with_context(&eg, goc_background());
    if (!g.ctx)
        log_fatal("out of memory");

    const http_route mux[] = {
        {"/ping", ping, NULL},
        {"/shutdown", shutdown_handler, &g},
    };
    static const http_route debug_mux[] = {{"/debug/goroutines", goroutines, NULL}};
    http_server_init(&g.server, "app", app_addr, mux, 2);
    http_server_init(&g.debug, "debug", debug_addr, debug_mux, 1);
    g.server.on_listen = g.debug.on_listen = on_listen;

    goc_errgroup_go(&eg, listen_and_serve, &g.server); /* g1 */
    goc_errgroup_go(&eg, listen_and_serve, &g.debug);  /* g1d */
    goc_errgroup_go(&eg, shut_down, &g);               /* g2 */
    goc_errgroup_go(&eg, catch_signals, &g);           /* g3 */

    char buf[64];
    printf("errgroup exiting: %s\n", err_str(goc_errgroup_wait(&eg), buf));
    fflush(stdout);

    goc_signal_stop(g.quit);
    http_server_destroy(&g.server);
    http_server_destroy(&g.debug);
    goc_ctx_release(g.ctx);
    goc_chan_release(g.server_out);
    goc_chan_release(g.quit);
}

/* ---- The demo ---- */

struct session {
    goc_chan *on_listen;
    bool by_signal; /* ends with ^C, else with GET /shutdown */
};

static void get(const char *addr, const char *path)
{
    char url[GOC_ADDRSTRLEN + 64], buf[64];
    snprintf(url, sizeof url, "http://%s%s", addr, path);
    printf("$ curl %s\n", url);
    fflush(stdout);
    http_response r;
    int err = http_get(url, &r);
    if (err)
        printf("curl: %s\n", http_err_str(err, buf));
    else if (r.len)
        printf("%s%s", r.body, r.body[r.len - 1] == '\n' ? "" : "\n");
    fflush(stdout);
    http_response_free(&r);
}

static void curl(void *arg)
{
    struct session *s = arg;
    char app[GOC_ADDRSTRLEN] = "", debug[GOC_ADDRSTRLEN] = "";
    for (int i = 0; i < 2; i++) {
        http_listening at;
        goc_chan_recv(s->on_listen, &at);
        snprintf(strcmp(at.name, "app") == 0 ? app : debug, GOC_ADDRSTRLEN, "%s", at.addr);
    }
    get(app, "/ping");
    get(debug, "/debug/goroutines");
    if (s->by_signal) {
        printf("^C\n");
        fflush(stdout);
        kill(getpid(), SIGINT);
    } else {
        get(app, "/shutdown");
    }
}

static int real_main(int argc, char **argv)
{
    if (!demo_mode(argc, argv)) {
        seed_main(argv[1], argc > 2 ? argv[2] : "127.0.0.1:0", NULL);
        return 0;
    }
    goc_chan *on_listen = goc_chan_make(sizeof(http_listening), 2);
    for (int i = 0; i < 2; i++) {
        struct session s = {on_listen, i == 1};
        goc_waitgroup wg = GOC_WAITGROUP_INIT;
        goc_waitgroup_go(&wg, curl, &s);
        seed_main("127.0.0.1:0", "127.0.0.1:0", on_listen);
        goc_waitgroup_wait(&wg);
        if (i == 0) {
            printf("\n");
            fflush(stdout);
        }
    }
    goc_chan_release(on_listen);
    return 0;
}

#if defined(__SANITIZE_THREAD__) || defined(GOC_SANITIZE_THREAD)
#include <pthread.h>

/* The race build only. ThreadSanitizer runs the handler of a signal sent
 * from outside only once the thread that took it goes through a libc call
 * it intercepts; goc's idle threads wait in raw system calls (futex,
 * epoll_pwait2) and may never do, so a SIGTERM would stay pending for
 * good. There, SIGINT and SIGTERM are blocked before goc starts its
 * threads (they inherit the mask) and a plain thread of ours takes them,
 * in sigsuspend: goc's handler runs as that returns. */
static void *signal_thread(void *unused)
{
    (void)unused;
    sigset_t none;
    sigemptyset(&none);
    for (;;)
        sigsuspend(&none);
    return NULL;
}

static void take_signals_on_a_thread(void)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, signal_thread, NULL) == 0)
        pthread_detach(t);
}
#else
static void take_signals_on_a_thread(void) {}
#endif

int main(int argc, char **argv)
{
    take_signals_on_a_thread();
    return goc_main(real_main, argc, argv);
}
