/* reverb2.c: the echo server with a goroutine per shout, so echoes overlap (seed 002, 1.4.3).
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
 *             go echo(c, input.Text(), 1*time.Second)
 *         }
 *         // NOTE: ignoring potential errors from input.Err()
 *         c.Close()
 *     }
 *
 * main is clock2's: listen, then `go handleConn(conn)` for each connection.
 * As in Go, the go statement's arguments are evaluated where it runs:
 * input.Text() is copied before the next Scan overwrites it.
 *
 * One difference, which C's ownership makes visible: in Go, c.Close() while
 * echoes are still fading makes their later writes fail (ignored), and the
 * client loses them. Here goc_conn_close frees c, which the echo goroutines
 * must not touch afterwards; so handleConn counts them with a WaitGroup and
 * closes once the last has finished (gopl's exercise 8.4). A client that
 * closes its writing half (netcat3) hears every echo, then the end.
 * Fprintln puts a space between its operands, so each answer is "\t " and
 * the text; ToUpper and ToLower change ASCII letters only.
 *
 * Usage: reverb2 localhost:8000 (any address; port 0 lets the system
 * choose, and the server logs where it listens), then netcat2 or netcat3.
 *
 * reverb2 or reverb2 --demo: starts itself as a server on 127.0.0.1:0 (as
 * `./reverb2 127.0.0.1:0 &`) and plays the seed's session against it from a
 * user in this process: "Is there anybody there?", then
 * "Yooo-hooo!" while the first is still echoing, then ^D: the echoes
 * overlap. The delay is env REVERB_DELAY_MS (default 1000; 250 in the
 * demo).
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

/* go echo(c, input.Text(), delay): the arguments, evaluated now. */
struct echo_args {
    goc_conn *c;
    char *shout;
    int64_t delay;
};

static void go_echo(void *arg)
{
    struct echo_args *a = arg;
    echo(a->c, a->shout, a->delay);
    free(a->shout);
    free(a);
}

static void handleConn(void *arg)
{
    goc_conn *c = arg;
    goc_waitgroup echoes = GOC_WAITGROUP_INIT;
    goc_scanner *input = goc_scanner_new(c, 0);
    while (goc_scanner_scan(input) > 0) {
        struct echo_args *a = malloc(sizeof *a);
        *a = (struct echo_args){c, strdup(goc_scanner_text(input, NULL)), delay};
        goc_waitgroup_go(&echoes, go_echo, a);
    }
    /* NOTE: ignoring potential errors from input.Err() */
    goc_scanner_free(input);
    goc_waitgroup_wait(&echoes); /* C: no echo may use c once it is freed */
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
    struct demo_server server; /* $ ./reverb2 & */
    demo_server_start(&server, "reverb2", "REVERB_DELAY_MS", 250);

    /* The seed's session: the second shout once the first has been heard
     * once; ^D right after it. */
    static const struct demo_line script[] = {
        {"Is there anybody there?", 1},
        {"Yooo-hooo!", 0},
    };
    demo_user_dial(server.address, script, 2); /* the server closes once it has answered */
    demo_server_stop(&server);
    return 0;
}

int main(int argc, char **argv) { return netex_main(argc, argv, serve, demo); }
