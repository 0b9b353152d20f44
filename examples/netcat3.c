/* netcat3.c: netcat2 that waits for the server's last words through a done channel (seed 002, 1.5.1).
 *
 *     func main() {
 *         conn, err := net.Dial("tcp", "localhost:8000")
 *         if err != nil {
 *             log.Fatal(err)
 *         }
 *         done := make(chan struct{})
 *         go func() {
 *             io.Copy(os.Stdout, conn) // NOTE: ignoring errors
 *             log.Println("done")
 *             done <- struct{}{} // signal the main goroutine
 *         }()
 *         mustCopy(conn, os.Stdin)
 *         conn.Close()
 *         <-done // wait for background goroutine to finish
 *     }
 *
 * When stdin ends (^D), main closes the connection's writing half
 * (TCPConn.CloseWrite, gopl's exercise 8.3; the seed's conn.Close() would
 * also end the background copy at once, losing what the server still had
 * to say): the server reads the end of its input, finishes answering and
 * closes, the background copy reaches the end, says "done" and signals
 * main over the unbuffered done channel; only then does main close the
 * connection and return.
 *
 * Usage: netcat3 localhost:8000 (the address of a reverb1, reverb2 or
 * chat server).
 *
 * netcat3 or netcat3 --demo: starts reverb2 beside it (on 127.0.0.1:0,
 * delay env REVERB_DELAY_MS, 250 ms by default) and plays a session on
 * netcat3's stdin and stdout: "Is there anybody there?", "Yooo-hooo!", and
 * ^D at once: every echo still arrives, then "done".
 */
#include "netex.h"

struct background {
    goc_conn *conn;
    goc_chan *done; /* chan struct{} */
};

/* go func() { ... }() */
static void background(void *arg)
{
    struct background *b = arg;
    io_copy(rw_fd(os_stdout), rw_conn(b->conn)); /* NOTE: ignoring errors */
    log_print("done");
    goc_chan_send(b->done, ""); /* signal the main goroutine */
}

/* main */
static void netcat(const char *address)
{
    goc_conn *conn = must_dial(address);
    struct background b = {conn, goc_chan_make(0, 0)}; /* done := make(chan struct{}) */
    goc_go(background, &b);
    mustCopy(rw_conn(conn), rw_fd(os_stdin));
    goc_conn_close_write(conn);
    goc_chan_recv(b.done, NULL); /* wait for background goroutine to finish */
    goc_conn_close(conn);
    goc_chan_release(b.done);
}

static int demo(void)
{
    struct demo_server server;
    demo_server_start(&server, "reverb2", "REVERB_DELAY_MS", 250);
    printf("$ netcat3 %s\n", server.address);

    /* netcat3's stdin and stdout are pipes, and a user at their ends. */
    static const struct demo_line script[] = {
        {"Is there anybody there?", 1},
        {"Yooo-hooo!", 0}, /* and ^D at once: netcat3 waits for the rest */
    };
    struct demo_terminal terminal;
    demo_terminal_open(&terminal,
                       (struct demo_user){.script = script, .n = 2, .hang_up = hang_up_fd});
    log_output = os_stdout; /* log.SetOutput: "done" in its place on the screen */
    netcat(server.address);
    log_output = STDERR_FILENO;
    demo_terminal_close(&terminal, true); /* netcat3 has ended: so does its output */
    demo_server_stop(&server);
    return 0;
}

int main(int argc, char **argv) { return netex_main(argc, argv, netcat, demo); }
