/* clock1.c: a sequential TCP clock server: one client at a time (seed 002, 1.3.1).
 *
 *     // Clock1 is a TCP server that periodically writes the time.
 *     func main() {
 *         listener, err := net.Listen("tcp", "localhost:8000")
 *         if err != nil {
 *             log.Fatal(err)
 *         }
 *         for {
 *             conn, err := listener.Accept()
 *             if err != nil {
 *                 log.Print(err) // e.g., connection aborted
 *                 continue
 *             }
 *             handleConn(conn) // handle one connection at a time
 *         }
 *     }
 *
 *     func handleConn(c net.Conn) {
 *         defer c.Close()
 *         for {
 *             _, err := io.WriteString(c, time.Now().Format("15:04:05\n"))
 *             if err != nil {
 *                 return // e.g., client disconnected
 *             }
 *             time.Sleep(1 * time.Second)
 *         }
 *     }
 *
 * Usage: clock1 localhost:8000 (any address; port 0 lets the system choose,
 * and the server logs where it listens), then `nc localhost 8000` or
 * netcat1. A second client waits until the first disconnects: its
 * connection is accepted by the kernel, but nobody writes to it.
 *
 * clock1 or clock1 --demo: starts itself as a server on 127.0.0.1:0 (as
 * `./clock1 127.0.0.1:0 &`) and runs two nc clients against it from this
 * process, each quitting after three lines: the second sees its
 * first line only once the first has gone. The period is env
 * CLOCK_PERIOD_MS (default 1000; 250 in the demo).
 */
#include "netex.h"

static int64_t period; /* time.Sleep(1 * time.Second) */

static void handleConn(goc_conn *c)
{
    for (;;) {
        char now[16];
        format_clock(now);
        if (goc_conn_write_string(c, now) < 0)
            break; /* e.g., client disconnected */
        goc_sleep(period);
    }
    goc_conn_close(c); /* defer c.Close() */
}

/* main */
static void serve(const char *address)
{
    period = env_millis("CLOCK_PERIOD_MS", 1000);
    goc_listener *listener = must_listen(address);
    for (;;) {
        /* on an error: log.Print(err) // e.g., connection aborted; continue */
        goc_conn *conn = accept_next(listener);
        handleConn(conn); /* handle one connection at a time */
    }
}

static int demo(void)
{
    struct demo_server server; /* $ ./clock1 & */
    demo_server_start(&server, "clock1", "CLOCK_PERIOD_MS", 250);
    demo_two_nc(server.address);
    demo_server_stop(&server);
    return 0;
}

int main(int argc, char **argv) { return netex_main(argc, argv, serve, demo); }
