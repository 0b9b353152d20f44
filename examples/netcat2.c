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
static void netcat(const char *address)
{
    goc_conn *conn = must_dial(address);
    struct copy *out = malloc(sizeof *out);
    *out = (struct copy){rw_fd(os_stdout), rw_conn(conn)};
    goc_go(go_mustCopy, out);
    mustCopy(rw_conn(conn), rw_fd(os_stdin));
    keep_until_exit(conn); /* still the background copy's: see above */
}

static int demo(void)
{
    struct demo_server server;
    demo_server_start(&server, "reverb1", "REVERB_DELAY_MS", 250);
    printf("$ netcat2 %s\n", server.address);

    /* netcat2's stdin and stdout are pipes, and a user at their ends. */
    static const struct demo_line script[] = {
        {"Hello?", 3},
        {"Is there anybody there?", 1},
        {"Yooo-hooo!", 5}, /* ^D once all has come back: netcat2 would lose the rest */
    };
    struct demo_terminal terminal;
    demo_terminal_open(&terminal, (struct demo_user){.script = script,
                                                     .n = 3,
                                                     .hang_up = hang_up_fd,
                                                     .gone_at_hang_up = true});
    netcat(server.address);
    /* netcat2 has ended; the process would exit here. The background copy
     * still holds the connection and the screen's writing end (a last
     * write there may even be in progress, for all the demo knows), so
     * neither is closed: they end with the process. */
    demo_terminal_close(&terminal, false);
    demo_server_stop(&server);
    return 0;
}

int main(int argc, char **argv) { return netex_main(argc, argv, netcat, demo); }
