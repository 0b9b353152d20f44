/* clock2.c: a concurrent TCP clock server: a goroutine per connection (seed 002, 1.3.2).
 *
 * clock1 with one change in main's loop:
 *
 *     for {
 *         conn, err := listener.Accept()
 *         if err != nil {
 *             log.Print(err) // e.g., connection aborted
 *             continue
 *         }
 *         go handleConn(conn) // handle connections concurrently
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
 * Usage: clock2 localhost:8000 (any address; port 0 lets the system choose,
 * and the server logs where it listens), then several `nc localhost 8000`
 * or netcat1 at once: each gets the time from its own goroutine.
 *
 * clock2 or clock2 --demo: starts itself as a server on 127.0.0.1:0 (as
 * `./clock2 127.0.0.1:0 &`) and runs two nc clients against it from this
 * process, each quitting after three lines: both are served at
 * once. The period is env CLOCK_PERIOD_MS (default 1000; 250 in the demo).
 */
#include "netex.h"

static int64_t period; /* time.Sleep(1 * time.Second) */

static void handleConn(void *arg)
{
    goc_conn *c = arg;
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
        goc_go(handleConn, conn); /* handle connections concurrently */
    }
}

static int demo(void)
{
    struct demo_server server; /* $ ./clock2 & */
    demo_server_start(&server, "clock2", "CLOCK_PERIOD_MS", 250);
    demo_two_nc(server.address);
    demo_server_stop(&server);
    return 0;
}

int main(int argc, char **argv) { return netex_main(argc, argv, serve, demo); }
