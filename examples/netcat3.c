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

static int os_stdin = STDIN_FILENO;   /* os.Stdin: the demo's keyboard is a pipe */
static int os_stdout = STDOUT_FILENO; /* os.Stdout: the demo's screen is a pipe */

static void mustCopy(rw dst, rw src)
{
    int err = io_copy(dst, src);
    if (err < 0)
        log_fatal("%s", strerror(-err));
}

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
static int netcat(const char *address)
{
    goc_conn *conn = must_dial(address);
    struct background b = {conn, goc_chan_make(0, 0)}; /* done := make(chan struct{}) */
    goc_go(background, &b);
    mustCopy(rw_conn(conn), rw_fd(os_stdin));
    goc_conn_close_write(conn);
    goc_chan_recv(b.done, NULL); /* wait for background goroutine to finish */
    goc_conn_close(conn);
    goc_chan_release(b.done);
    return 0;
}

static int demo(void)
{
    char env[64];
    snprintf(env, sizeof env, "REVERB_DELAY_MS=%lld",
             (long long)(env_millis("REVERB_DELAY_MS", 250) / GOC_MILLISECOND));
    struct demo_server server;
    demo_server_start(&server, "reverb2", env);
    printf("$ netcat3 %s\n", server.address);

    /* netcat3's stdin and stdout are pipes, and a user at their ends. */
    int keyboard[2], screen[2];
    if (pipe2(keyboard, O_CLOEXEC) < 0 || pipe2(screen, O_CLOEXEC) < 0)
        log_fatal("pipe: %s", strerror(errno));
    os_stdin = keyboard[0];
    os_stdout = screen[1];
    log_output = screen[1]; /* log.SetOutput: "done" in its place on the screen */
    static const struct demo_line script[] = {
        {"Is there anybody there?", 1},
        {"Yooo-hooo!", 0}, /* and ^D at once: netcat3 waits for the rest */
    };
    struct demo_user user = {
        .keyboard = rw_fd(keyboard[1]),
        .screen = goc_scanner_new_fd(screen[0], 0),
        .script = script,
        .n = 2,
        .hang_up = hang_up_fd,
    };
    goc_waitgroup watching = GOC_WAITGROUP_INIT;
    goc_waitgroup_go(&watching, demo_user, &user);

    netcat(server.address);

    log_output = STDERR_FILENO;
    close(screen[1]); /* netcat3 has ended: so does its output */
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
