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
    goc_listener *listener = must_listen(address);
    for (;;) {
        goc_conn *conn;
        int err = goc_accept(listener, &conn);
        if (err < 0) {
            log_print("accept: %s", strerror(-err)); /* e.g., connection aborted */
            continue;
        }
        goc_go(handleConn, conn); /* handle connections concurrently */
    }
}

static int demo(void)
{
    char env[64];
    struct demo_server server; /* $ ./clock2 & */
    demo_server_start(&server, "clock2", env_entry(env, "CLOCK_PERIOD_MS", 250));

    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    struct demo_nc nc1 = {server.address, "nc 1", 3}, nc2 = {server.address, "nc 2", 3};
    goc_waitgroup_go(&wg, demo_nc, &nc1);
    goc_waitgroup_go(&wg, demo_nc, &nc2);
    goc_waitgroup_wait(&wg);
    demo_server_stop(&server);
    return 0;
}

static int real_main(int argc, char **argv)
{
    bool is_demo = demo_mode(argc, argv);
    period = env_millis("CLOCK_PERIOD_MS", is_demo ? 250 : 1000);
    if (is_demo)
        return demo();
    serve(argv[1]);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
