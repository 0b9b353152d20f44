/* ctx_http.c: an HTTP handler that notices its client going away through the request's context, and a client whose request a timeout ends (seed 004, context with net/http).
 *
 * The server's handler works for two seconds unless its request's context
 * ends first:
 *
 *     func handler(w http.ResponseWriter, r *http.Request) {
 *         fmt.Println("handler start")
 *         ctx := r.Context()
 *         select {
 *         case <-time.After(time.Second * 2):
 *             _, err := fmt.Fprintln(w, "hello world!")
 *             if err != nil {
 *                 log.Fatalln(err)
 *             }
 *             fmt.Println("finish doing something")
 *         case <-ctx.Done(): // the client went away: say why
 *             errCtx := ctx.Err()
 *             if errCtx != nil {
 *                 fmt.Println(errCtx)
 *             }
 *         }
 *         fmt.Printf("handler end\n\n")
 *     }
 *
 * and the client gives its request a timeout:
 *
 *     ctx, cancelFunc := context.WithTimeout(context.Background(), time.Second*2)
 *     defer cancelFunc()
 *     req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost:8080", nil)
 *     resp, errResp := http.DefaultClient.Do(req)
 *     if errResp != nil {
 *         log.Fatal(errResp)
 *     }
 *     defer resp.Body.Close()
 *     respBytes, _ := ioutil.ReadAll(resp.Body)
 *     log.Fatal(string(respBytes))
 *
 * Here both run in one program, the server on a port of its own, and the
 * client asks twice: with a timeout of 100 ms, shorter than the handler's
 * work (1 s here): the client's request fails with "context deadline
 * exceeded", it closes its connection, and the handler, seeing its
 * request's context end, prints "context canceled" and stops working;
 * then with 3 s: "hello world!". Main waits for each handler's end before
 * printing what the client got, so the lines come in one order.
 * HTTP is examples/httpmini.h: the request's context is w->ctx there.
 */
#include "httpmini.h" /* first: it defines _GNU_SOURCE */

#define WORK (1 * GOC_SECOND)

static goc_chan *handled; /* a handler's end, for main's ordering */

static void handler(void *arg, http_response *w, const char *path)
{
    (void)arg, (void)path;
    printf("handler start\n");
    goc_ctx *ctx = w->ctx; /* r.Context() */
    goc_chan *after = goc_after(WORK);
    goc_select_case cases[] = {GOC_RECV_CASE(after, NULL), GOC_RECV_CASE(goc_ctx_done(ctx), NULL)};
    if (goc_select(cases, 2, false) == 0) {
        http_printf(w, "hello world!\n");
        printf("finish doing something\n");
    } else {
        int err = goc_ctx_err(ctx);
        if (err)
            printf("%s\n", goc_ctx_err_str(err));
    }
    goc_chan_release(after);
    printf("handler end\n\n");
    fflush(stdout);
    goc_chan_send(handled, &(char){0});
}

/* The client, with a timeout: what it got, or its error. */
static void client(const char *url, int64_t timeout)
{
    printf("-- client, timeout %lld ms\n", (long long)(timeout / GOC_MILLISECOND));
    fflush(stdout);
    goc_ctx *ctx = goc_with_timeout(goc_background(), timeout);
    http_response resp;
    int err = http_get_ctx(ctx, url, &resp);
    goc_ctx_release(ctx); /* defer cancelFunc() */
    goc_chan_recv(handled, NULL);
    char buf[64];
    if (err)
        printf("client: Get \"%s\": %s\n", url, http_err_str(err, buf));
    else
        printf("client: %s", resp.body ? resp.body : "");
    http_response_free(&resp);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    setvbuf(stdout, NULL, _IOLBF, 0);
    handled = goc_chan_make(0, 1);
    http_route routes[] = {{"/", handler, NULL}};
    http_local server;
    http_local_start(&server, "server", routes, 1);
    char url[GOC_ADDRSTRLEN + 16];
    snprintf(url, sizeof url, "http://%s/", server.addr);

    client(url, 100 * GOC_MILLISECOND);
    client(url, 3 * GOC_SECOND);

    http_local_stop(&server);
    goc_chan_release(handled);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
