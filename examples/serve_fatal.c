/* serve_fatal.c: seed 003's first servers, which cannot be managed: a
 * server that fails ends the program from wherever it is, or leaves main
 * waiting for ever. examples/serve_stop.c is the version the seed arrives
 * at.
 *
 *     func main() {                         // "select"
 *         http.HandleFunc("/", hello)
 *         go func() {
 *             if err := http.ListenAndServe(":8080", nil); err != nil {
 *                 log.Fatal(err)
 *             }
 *         }()
 *         select {}
 *     }
 *
 * The seed's complaint: when the server exits with an error, main does not
 * know. log.Fatal ends the process from the server's goroutine (exit
 * status 1): main's `select {}` never hears of it.
 *
 *     func main() {                         // "main"
 *         http.HandleFunc("/", hello)
 *         if err := http.ListenAndServe(":8080", nil); err != nil {
 *             log.Fatal(err)
 *         }
 *     }
 *
 * Here main sees the error, but log.Fatal calls os.Exit: deferred calls do
 * not run ("fatal以后 defer无法执行"). main defers a cleanup line that is
 * never printed.
 *
 * "select-return" is the first program with its log.Fatal replaced by a
 * log.Print and a return: the failure no longer ends the process, and main
 * waits in `select {}` for a goroutine that is gone. Nothing is left that
 * could wake it, so goc says what Go says: "fatal error: all goroutines are
 * asleep - deadlock!", a dump showing goroutine 1 in "select (no cases)",
 * exit status 2. (A server that is still running would keep Go's detector
 * quiet, and goc's too; the program would just wait.)
 *
 * Usage: serve_fatal select|select-return|main ADDR
 *        serve_fatal [--demo]    each of the three, on an address this
 *                                process already listens on, so that the
 *                                server's listen fails
 * HTTP is examples/httpmini.h; "/" answers "Hello, GopherCon SG".
 */
#include "httpmini.h" /* first: it defines _GNU_SOURCE */

#include <sys/wait.h>

static const char *addr;
static const char *self; /* argv[0], for the demo's children */
static const char usage[] =
    "usage: serve_fatal select|select-return|main ADDR | serve_fatal [--demo]\n";

static void hello(void *arg, http_response *w, const char *path)
{
    (void)arg, (void)path;
    http_printf(w, "Hello, GopherCon SG\n");
}

static const http_route default_serve_mux[] = {{"/", hello, NULL}};

/* http.ListenAndServe(addr, nil): returns its error (it only returns with
 * one). */
static int listen_and_serve(void)
{
    http_server s;
    http_server_init(&s, "server", addr, default_serve_mux, 1);
    int err = http_listen_and_serve(&s);
    http_server_destroy(&s);
    return err;
}

/* Go's text for a failed listen: "listen tcp ADDR: bind: address already
 * in use". */
static const char *listen_err(int err, char buf[64])
{
    static char msg[GOC_ADDRSTRLEN + 128];
    snprintf(msg, sizeof msg, "listen tcp %s: %s%s", addr,
             err == -EADDRINUSE || err == -EACCES ? "bind: " : "", http_err_str(err, buf));
    return msg;
}

static void serve_or_fatal(void *unused)
{
    (void)unused;
    char buf[64];
    int err = listen_and_serve();
    log_fatal("%s", listen_err(err, buf)); /* exit status 1, from here */
}

static void serve_or_return(void *unused)
{
    (void)unused;
    char buf[64];
    int err = listen_and_serve();
    log_print("%s", listen_err(err, buf));
}

static void cleanup(void *unused)
{
    (void)unused;
    printf("deferred cleanup\n"); /* never printed: log.Fatal exits */
}

static int run(const char *variant)
{
    if (strcmp(variant, "select") == 0 || strcmp(variant, "select-return") == 0) {
        bool fatal = strcmp(variant, "select") == 0;
        goc_go(fatal ? serve_or_fatal : serve_or_return, NULL);
        goc_select(NULL, 0, false); /* select {} */
        return 0;
    }
    if (strcmp(variant, "main") == 0) {
        goc_defer(cleanup, NULL);
        char buf[64];
        int err = listen_and_serve();
        log_fatal("%s", listen_err(err, buf));
    }
    fputs(usage, stderr);
    return 2;
}

/* The demo: each variant in a child process (each ends the process it runs
 * in), against an address this process holds. */
static int demo(void)
{
    goc_listener *l;
    int err = goc_listen("tcp", "127.0.0.1:0", &l);
    if (err < 0)
        log_fatal("listen: %s", strerror(-err));
    static char where[GOC_ADDRSTRLEN];
    goc_listener_addr(l, where, sizeof where);
    addr = where;
    printf("%s is taken (this process listens on it)\n", addr);
    static const char *const variants[] = {"select", "main", "select-return"};
    for (int i = 0; i < 3; i++) {
        printf("\n$ serve_fatal %s %s\n", variants[i], addr);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            log_fatal("fork: %s", strerror(errno));
        if (pid == 0) {
            /* The child goes straight to a fresh process image: a forked
             * goc runtime has one thread left and must not be used. */
            execlp(self, self, variants[i], addr, (char *)NULL);
            _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        printf("(exit status %d)\n", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
    }
    goc_listener_close(l);
    return 0;
}

static int real_main(int argc, char **argv)
{
    self = argv[0];
    if (demo_mode(argc, argv))
        return demo();
    if (argc != 3) {
        fputs(usage, stderr);
        return 2;
    }
    addr = argv[2];
    return run(argv[1]);
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
