/* netcat1.c: a read-only TCP client: copies the connection to stdout (seed 002, 1.3.1).
 *
 *     // Netcat1 is a read-only TCP client.
 *     func main() {
 *         conn, err := net.Dial("tcp", "localhost:8000")
 *         if err != nil {
 *             log.Fatal(err)
 *         }
 *         defer conn.Close()
 *         mustCopy(os.Stdout, conn)
 *     }
 *
 *     func mustCopy(dst io.Writer, src io.Reader) {
 *         if _, err := io.Copy(dst, src); err != nil {
 *             log.Fatal(err)
 *         }
 *     }
 *
 * Usage: netcat1 localhost:8000 (the address of a clock1 or clock2), until
 * the server goes away or ^C. io.Copy is netex.h's io_copy; stdout is
 * written through goc_blocking, so a slow terminal parks the goroutine,
 * not its worker.
 *
 * netcat1 or netcat1 --demo: starts clock2 beside it (on 127.0.0.1:0,
 * period env CLOCK_PERIOD_MS, 250 ms by default), shows three of its
 * lines, then stops that server: the copy ends with the connection, and
 * netcat1 with it.
 */
#include "netex.h"

static int os_stdout = STDOUT_FILENO; /* os.Stdout: the demo's screen is a pipe */

static void mustCopy(rw dst, rw src)
{
    int err = io_copy(dst, src);
    if (err < 0)
        log_fatal("%s", strerror(-err));
}

/* main */
static int netcat(const char *address)
{
    goc_conn *conn = must_dial(address);
    mustCopy(rw_fd(os_stdout), rw_conn(conn));
    goc_conn_close(conn); /* defer conn.Close() */
    return 0;
}

static void stop_server(struct demo_user *u)
{
    printf("(the clock server stops)\n");
    demo_server_stop(u->hang_up_arg);
}

static int demo(void)
{
    char env[64];
    snprintf(env, sizeof env, "CLOCK_PERIOD_MS=%lld",
             (long long)(env_millis("CLOCK_PERIOD_MS", 250) / GOC_MILLISECOND));
    struct demo_server server;
    demo_server_start(&server, "clock2", env);

    /* netcat1's stdout is a pipe; a user watches it. */
    int screen[2];
    if (pipe2(screen, O_CLOEXEC) < 0)
        log_fatal("pipe: %s", strerror(errno));
    os_stdout = screen[1];
    static const struct demo_line script[] = {{NULL, 3}};
    struct demo_user user = {
        .screen = goc_scanner_new_fd(screen[0], 0),
        .script = script,
        .n = 1,
        .hang_up = stop_server,
        .hang_up_arg = &server,
    };
    goc_waitgroup watching = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&watching, demo_user, &user);

    netcat(server.address);

    close(screen[1]); /* netcat1 has ended: so does its output */
    goc_waitgroup_wait(&watching);
    goc_scanner_free(user.screen);
    close(screen[0]);
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
