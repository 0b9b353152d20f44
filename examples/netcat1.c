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
 * the server goes away or ^C. mustCopy is netex.h's, and io.Copy its
 * io_copy; stdout is written through goc_blocking, so a slow terminal
 * parks the goroutine, not its worker.
 *
 * netcat1 or netcat1 --demo: starts clock2 beside it (on 127.0.0.1:0,
 * period env CLOCK_PERIOD_MS, 250 ms by default), shows three of its
 * lines, then stops that server: the copy ends with the connection, and
 * netcat1 with it.
 */
#include "netex.h"

/* main */
static void netcat(const char *address)
{
    goc_conn *conn = must_dial(address);
    mustCopy(rw_fd(os_stdout), rw_conn(conn));
    goc_conn_close(conn); /* defer conn.Close() */
}

static void stop_server(struct demo_user *u)
{
    printf("(the clock server stops)\n");
    demo_server_stop(u->hang_up_arg);
}

static int demo(void)
{
    struct demo_server server;
    demo_server_start(&server, "clock2", "CLOCK_PERIOD_MS", 250);

    /* netcat1's stdout is a pipe; a user watches it. */
    static const struct demo_line script[] = {{NULL, 3}};
    struct demo_terminal terminal;
    demo_terminal_open(&terminal, (struct demo_user){.script = script,
                                                     .n = 1,
                                                     .hang_up = stop_server,
                                                     .hang_up_arg = &server});
    netcat(server.address);
    demo_terminal_close(&terminal, true); /* netcat1 has ended: so does its output */
    return 0;
}

int main(int argc, char **argv) { return netex_main(argc, argv, netcat, demo); }
