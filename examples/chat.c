/* chat.c: a chat server: a broadcaster monitor goroutine owns the set of clients (seed 002, 1.11).
 *
 *     func main() {
 *         listener, err := net.Listen("tcp", "localhost:8000")
 *         if err != nil {
 *             log.Fatal(err)
 *         }
 *         go broadcaster()
 *         for {
 *             conn, err := listener.Accept()
 *             if err != nil {
 *                 log.Print(err)
 *                 continue
 *             }
 *             go handleConn(conn)
 *         }
 *     }
 *
 *     type client chan<- string // an outgoing message channel
 *
 *     var (
 *         entering = make(chan client)
 *         leaving  = make(chan client)
 *         messages = make(chan string) // all incoming client messages
 *     )
 *
 *     func broadcaster() {
 *         clients := make(map[client]bool) // all connected clients
 *         for {
 *             select {
 *             case msg := <-messages:
 *                 // Broadcast incoming message to all
 *                 // clients' outgoing message channels.
 *                 for cli := range clients {
 *                     cli <- msg
 *                 }
 *             case cli := <-entering:
 *                 clients[cli] = true
 *             case cli := <-leaving:
 *                 delete(clients, cli)
 *                 close(cli)
 *             }
 *         }
 *     }
 *
 *     func handleConn(conn net.Conn) {
 *         ch := make(chan string) // outgoing client messages
 *         go clientWriter(conn, ch)
 *
 *         who := conn.RemoteAddr().String()
 *         ch <- "You are " + who
 *         messages <- who + " has arrived"
 *         entering <- ch
 *
 *         input := bufio.NewScanner(conn)
 *         for input.Scan() {
 *             messages <- who + ": " + input.Text()
 *         }
 *         // NOTE: ignoring potential errors from input.Err()
 *
 *         leaving <- ch
 *         messages <- who + " has left"
 *         conn.Close()
 *     }
 *
 *     func clientWriter(conn net.Conn, ch <-chan string) {
 *         for msg := range ch {
 *             fmt.Fprintln(conn, msg) // NOTE: ignoring network errors
 *         }
 *     }
 *
 * With n clients, 2n+2 goroutines and no lock: only the broadcaster
 * touches the set of clients, and the goroutines share nothing but
 * channels and connections.
 *
 * What C adds. Strings: a message is a malloc'd string, owned by whoever
 * receives it from a channel (Go's strings are immutable and collected);
 * the broadcaster hands each client a copy of its own. Lifetimes: the
 * channels entering, leaving and messages live as long as the program;
 * each client's channel belongs to its handleConn, which releases it once
 * the broadcaster has closed it and clientWriter has drained it; and since
 * goc_conn_close frees the connection, handleConn waits for its
 * clientWriter to finish before closing it (Go's clientWriter may still be
 * writing when conn.Close() runs; its write then fails, ignored).
 *
 * Usage: chat localhost:8000 (any address; port 0 lets the system choose,
 * and the server logs where it listens), then a netcat3 per person.
 *
 * chat or chat --demo: starts itself as a server on 127.0.0.1:0 (as
 * `./chat 127.0.0.1:0 &`) and plays a session with three users from this
 * process, each step waiting for what the users have
 * seen. A newcomer speaks first, before anyone else does: a user is in the
 * broadcaster's set only once its entering message has been received, and
 * the only sign of that a client can see is its own words coming back.
 * Seeing "You are ..." is not enough: handleConn may not yet have sent its
 * arrival and entering messages, and words or arrivals broadcast before
 * that miss the newcomer, in Go as here.
 */
#include "netex.h"

typedef goc_chan *client; /* an outgoing message channel: chan<- string */

static goc_chan *entering; /* chan client */
static goc_chan *leaving;  /* chan client */
static goc_chan *messages; /* chan string: all incoming client messages */

/* ch <- fmt.Sprintf(...): the receiver owns the string. */
static GOC_PRINTF(2, 3) void send_string(goc_chan *ch, const char *fmt, ...)
{
    char *s;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        log_fatal("out of memory");
    va_end(ap);
    goc_chan_send(ch, &s);
}

static void broadcaster(void *unused)
{
    (void)unused;
    client *clients = NULL; /* all connected clients: a set, as the map is */
    size_t n = 0, cap = 0;
    for (;;) {
        char *msg;
        client cli;
        goc_select_case cases[] = {
            GOC_RECV_CASE(messages, &msg),
            GOC_RECV_CASE(entering, &cli),
            GOC_RECV_CASE(leaving, &cli),
        };
        switch (goc_select(cases, 3, false)) {
        case 0:
            /* Broadcast incoming message to all
             * clients' outgoing message channels. */
            for (size_t i = 0; i < n; i++) {
                char *copy = strdup(msg);
                goc_chan_send(clients[i], &copy);
            }
            free(msg);
            break;
        case 1:
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                clients = realloc(clients, cap * sizeof *clients);
            }
            clients[n++] = cli;
            break;
        case 2:
            for (size_t i = 0; i < n; i++)
                if (clients[i] == cli) {
                    clients[i] = clients[--n];
                    break;
                }
            goc_chan_close(cli);
            break;
        }
    }
}

struct writer {
    goc_conn *conn;
    goc_chan *ch;
    goc_waitgroup *done;
};

static void clientWriter(void *arg)
{
    struct writer *w = arg;
    char *msg;
    while (goc_chan_recv(w->ch, &msg)) {
        goc_conn_printf(w->conn, "%s\n", msg); /* NOTE: ignoring network errors */
        free(msg);
    }
    goc_waitgroup_done(w->done);
}

static void handleConn(void *arg)
{
    goc_conn *conn = arg;
    goc_chan *ch = goc_chan_make(sizeof(char *), 0); /* outgoing client messages */
    goc_waitgroup writing = GOC_WAITGROUP_INIT;
    struct writer w = {conn, ch, &writing};
    goc_waitgroup_add(&writing, 1);
    goc_go(clientWriter, &w);

    char who[GOC_ADDRSTRLEN];
    if (goc_conn_remote_addr(conn, who, sizeof who) < 0)
        strcpy(who, "?"); /* the peer is already gone */
    send_string(ch, "You are %s", who);
    send_string(messages, "%s has arrived", who);
    goc_chan_send(entering, &ch);

    goc_scanner *input = goc_scanner_new(conn, 0);
    while (goc_scanner_scan(input) > 0)
        send_string(messages, "%s: %s", who, goc_scanner_text(input, NULL));
    /* NOTE: ignoring potential errors from input.Err() */
    goc_scanner_free(input);

    goc_chan_send(leaving, &ch);
    send_string(messages, "%s has left", who);
    goc_waitgroup_wait(&writing); /* C: clientWriter is done with conn and ch */
    goc_conn_close(conn);
    goc_chan_release(ch);
}

/* main */
static void serve(const char *address)
{
    /* var ( entering = make(chan client) ... ) */
    entering = goc_chan_make(sizeof(client), 0);
    leaving = goc_chan_make(sizeof(client), 0);
    messages = goc_chan_make(sizeof(char *), 0);

    goc_listener *listener = must_listen(address);
    goc_go(broadcaster, NULL);
    for (;;) {
        goc_conn *conn = accept_next(listener);
        goc_go(handleConn, conn);
    }
}

/* ---- The demo: three users, each a connection and what it shows ---- */

struct user {
    const char *name;
    goc_conn *conn;
    goc_scanner *screen;
};

static void join(struct user *u, const char *address)
{
    printf("%s joins: $ netcat3 %s\n", u->name, address);
    u->conn = must_dial(address);
    u->screen = goc_scanner_new(u->conn, 0);
}

/* Waits for the user's next line and shows it. */
static void see(struct user *u)
{
    if (goc_scanner_scan(u->screen) <= 0)
        log_fatal("%s: the server hung up", u->name);
    printf("%s sees:  %s\n", u->name, goc_scanner_text(u->screen, NULL));
}

static void say(struct user *u, const char *text)
{
    printf("%s types: %s\n", u->name, text);
    goc_conn_printf(u->conn, "%s\n", text);
}

/* ^D as netcat3 does it: the writing half first, then whatever is left
 * until the server closes. */
static void leave(struct user *u)
{
    printf("%s types: ^D\n", u->name);
    goc_conn_close_write(u->conn);
    while (goc_scanner_scan(u->screen) > 0)
        printf("%s sees:  %s\n", u->name, goc_scanner_text(u->screen, NULL));
    goc_scanner_free(u->screen);
    goc_conn_close(u->conn);
}

static int demo(void)
{
    struct demo_server server; /* $ ./chat & */
    demo_server_start(&server, "chat", NULL, 0);
    const char *address = server.address;

    struct user a = {.name = "A"}, b = {.name = "B"}, c = {.name = "C"};
    join(&a, address);
    see(&a); /* You are A */
    say(&a, "Anybody here?");
    see(&a); /* A: Anybody here? (A is in the set) */
    join(&b, address);
    see(&b); /* You are B */
    see(&a); /* B has arrived */
    say(&b, "Hi!");
    see(&b); /* B: Hi! (B is in the set) */
    see(&a);
    say(&a, "Hi yourself.");
    see(&a);
    see(&b);
    leave(&a);
    see(&b); /* A has left */
    join(&c, address);
    see(&c); /* You are C */
    see(&b); /* C has arrived */
    say(&c, "Hello?");
    see(&c);
    see(&b);
    say(&b, "Welcome.");
    see(&b);
    see(&c);
    leave(&b);
    see(&c); /* B has left */
    leave(&c);
    demo_server_stop(&server);
    return 0;
}

int main(int argc, char **argv) { return netex_main(argc, argv, serve, demo); }
