/* reverb1.c: an echo server that answers each shout loud, then normal, then soft (seed 002, 1.4.1).
 *
 *     func echo(c net.Conn, shout string, delay time.Duration) {
 *         fmt.Fprintln(c, "\t", strings.ToUpper(shout))
 *         time.Sleep(delay)
 *         fmt.Fprintln(c, "\t", shout)
 *         time.Sleep(delay)
 *         fmt.Fprintln(c, "\t", strings.ToLower(shout))
 *     }
 *
 *     func handleConn(c net.Conn) {
 *         input := bufio.NewScanner(c)
 *         for input.Scan() {
 *             echo(c, input.Text(), 1*time.Second)
 *         }
 *         // NOTE: ignoring potential errors from input.Err()
 *         c.Close()
 *     }
 *
 * main is clock2's: listen, then `go handleConn(conn)` for each connection.
 * Within a connection the shouts are answered one after the other: a shout
 * made while an echo is fading waits for it (reverb2 answers at once).
 * Fprintln puts a space between its operands, so each answer is "\t " and
 * the text; ToUpper and ToLower change ASCII letters only (Go's change
 * every Unicode letter).
 *
 * Usage: reverb1 localhost:8000 (any address; port 0 lets the system
 * choose, and the server logs where it listens), then netcat2 or netcat3.
 *
 * reverb1 or reverb1 --demo: starts itself as a server on 127.0.0.1:0 (as
 * `./reverb1 127.0.0.1:0 &`) and plays the seed's session against it from a
 * user in this process: "Hello?", then "Is there anybody
 * there?", then "Yooo-hooo!" while the second is still echoing. The delay
 * is env REVERB_DELAY_MS (default 1000; 250 in the demo).
 */
#include "netex.h" /* first: it defines _GNU_SOURCE */

#include <ctype.h>

static int64_t delay; /* 1*time.Second */

static void echo(goc_conn *c, const char *shout, int64_t delay)
{
    char *upper = map_ascii(shout, toupper), *lower = map_ascii(shout, tolower);
    goc_conn_printf(c, "\t %s\n", upper);
    goc_sleep(delay);
    goc_conn_printf(c, "\t %s\n", shout);
    goc_sleep(delay);
    goc_conn_printf(c, "\t %s\n", lower);
    free(upper);
    free(lower);
}

static void handleConn(void *arg)
{
    goc_conn *c = arg;
    goc_scanner *input = goc_scanner_new(c, 0);
    while (goc_scanner_scan(input) > 0)
        echo(c, goc_scanner_text(input, NULL), delay);
    /* NOTE: ignoring potential errors from input.Err() */
    goc_scanner_free(input);
    goc_conn_close(c);
}

/* main */
static void serve(const char *address)
{
    delay = env_millis("REVERB_DELAY_MS", 1000);
    serve_each(address, handleConn); /* clock2's main */
}

static int demo(void)
{
    struct demo_server server; /* $ ./reverb1 & */
    demo_server_start(&server, "reverb1", "REVERB_DELAY_MS", 250);

    /* The seed's session, the user typing each line once the answers it
     * waits for have come; ^D right after the last. */
    static const struct demo_line script[] = {
        {"Hello?", 3},
        {"Is there anybody there?", 1},
        {"Yooo-hooo!", 0},
    };
    demo_user_dial(server.address, script, 3); /* the server closes once it has answered */
    demo_server_stop(&server);
    return 0;
}

int main(int argc, char **argv) { return netex_main(argc, argv, serve, demo); }
