/* netcat2.c: a TCP client that sends stdin and prints what comes back, at once (seed 002, 1.4.2).
 *
 *     func main() {
 *         conn, err := net.Dial("tcp", "localhost:8000")
 *         if err != nil {
 *             log.Fatal(err)
 *         }
 *         defer conn.Close()
 *         go mustCopy(os.Stdout, conn)
 *         mustCopy(conn, os.Stdin)
 *     }
 *
 * Two copies run at once: a goroutine copies the connection to stdout
 * while main copies stdin to the connection. When stdin ends (^D), main
 * returns and the program ends, whatever the server still had to say:
 * netcat3 waits for it. stdin and stdout are read and written through
 * goc_blocking, so a terminal parks the goroutine, not its worker.
 *
 * One difference: Go's deferred conn.Close() runs as main returns and
 * would wake the background copy with "use of closed network connection",
 * which mustCopy reports with log.Fatal if it runs before the process
 * ends; here the connection is left to the process's exit, so netcat2
 * always ends with status 0 at ^D.
 *
 * Usage: netcat2 localhost:8000 (the address of a reverb1 or reverb2).
 *
 * netcat2 or netcat2 --demo: starts reverb1 beside it (on 127.0.0.1:0,
 * delay env REVERB_DELAY_MS, 250 ms by default) and plays the seed's
 * session on netcat2's stdin and stdout: "Hello?", "Is there anybody
 * there?", "Yooo-hooo!" while the second is still echoing, and ^D once
 * everything has come back.
 */
#include "netex.h"

static int os_stdin = STDIN_FILENO;   /* os.Stdin: the demo's keyboard is a pipe */
static int os_stdout = STDOUT_FILENO; /* os.Stdout: the demo's screen is a pipe */

static void mustCopy(rw dst, rw src)
{
    int err = io_copy(dst, src);
    if (err < 0)
        log_fatal("%s", strerror(-err));
}

/* go mustCopy(dst, src) */
struct copy {
    rw dst, src;
};

static void go_mustCopy(void *arg)
{
    struct copy c = *(struct copy *)arg;
    free(arg);
    mustCopy(c.dst, c.src);
}

/* main */
static int netcat(const char *address)
{
    goc_conn *conn = must_dial(address);
    struct copy *out = malloc(sizeof *out);
    *out = (struct copy){rw_fd(os_stdout), rw_conn(conn)};
    goc_go(go_mustCopy, out);
    mustCopy(rw_conn(conn), rw_fd(os_stdin));
    keep_until_exit(conn); /* still the background copy's: see above */
    return 0;
}

static int demo(void)
{
    char env[64];
    snprintf(env, sizeof env, "REVERB_DELAY_MS=%lld",
             (long long)(env_millis("REVERB_DELAY_MS", 250) / GOC_MILLISECOND));
    struct demo_server server;
    demo_server_start(&server, "reverb1", env);
    printf("$ netcat2 %s\n", server.address);

    /* netcat2's stdin and stdout are pipes, and a user at their ends. */
    int keyboard[2], screen[2];
    if (pipe2(keyboard, O_CLOEXEC) < 0 || pipe2(screen, O_CLOEXEC) < 0)
        log_fatal("pipe: %s", strerror(errno));
    os_stdin = keyboard[0];
    os_stdout = screen[1];
    static const struct demo_line script[] = {
        {"Hello?", 3},
        {"Is there anybody there?", 1},
        {"Yooo-hooo!", 5}, /* ^D once all has come back: netcat2 would lose the rest */
    };
    struct demo_user user = {
        .keyboard = rw_fd(keyboard[1]),
        .screen = goc_scanner_new_fd(screen[0], 0),
        .script = script,
        .n = 3,
        .hang_up = hang_up_fd,
        .gone_at_hang_up = true,
    };
    goc_waitgroup watching = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&watching, demo_user, &user);

    netcat(server.address);

    /* netcat2 has ended; the process would exit here. The background copy
     * still holds the connection and the screen's writing end (a last
     * write there may even be in progress, for all the demo knows), so
     * neither is closed: they end with the process. */
    goc_waitgroup_wait(&watching);
    goc_scanner_free(user.screen);
    close(screen[0]);
    close(keyboard[0]);
    demo_server_stop(&server);
    return 0;
}

static int real_main(int argc, char **argv)
{
    if (demo_mode(argc, argv))
        return demo();
    return netcat(argv[1]);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
