/* ctx_value.c: request-scoped data in a context: a middleware puts each request's X-Request-ID in its context, and the handler reads it back (seed 001 §9, context.WithValue).
 *
 *     const requestIDKey int = 0
 *
 *     func WithRequestID(next http.Handler) http.Handler {
 *         return http.HandlerFunc(
 *             func(rw http.ResponseWriter, req *http.Request) {
 *                 // take request-id from the header
 *                 reqID := req.Header.Get("X-Request-ID")
 *                 // a valueCtx, under a key of our own type: no clashes
 *                 ctx := context.WithValue(req.Context(), requestIDKey, reqID)
 *                 // the request with it
 *                 req = req.WithContext(ctx)
 *                 // the HTTP handler
 *                 next.ServeHTTP(rw, req)
 *             })
 *     }
 *
 *     func GetRequestID(ctx context.Context) string {
 *         return ctx.Value(requestIDKey).(string)
 *     }
 *
 *     func Handle(rw http.ResponseWriter, req *http.Request) {
 *         reqID := GetRequestID(req.Context()) // for the logs, and so on
 *         ...
 *     }
 *
 *     func main() {
 *         handler := WithRequestID(http.HandlerFunc(Handle))
 *         http.ListenAndServe("/", handler)
 *     }
 *
 * goc's keys are addresses (goc_ctx_value compares pointers), so a key of
 * our own is the address of a static object of ours: nothing else can
 * collide with it, which is what Go's unexported key type achieves. The
 * value is the request's id, which lives as long as the request. Here the
 * server runs in this program and a client sends three requests, two with
 * an X-Request-ID and one without; Handle logs the id it finds and writes
 * it back.
 */
#include "httpmini.h" /* first: it defines _GNU_SOURCE */

static const char request_id_key; /* its address is the key */

/* WithRequestID(next): the request's context, for next, carries its id. */
typedef struct with_request_id {
    http_handler next;
    void *arg;
} with_request_id;

static void with_request_id_serve(void *arg, http_response *w, const char *path)
{
    with_request_id *m = arg;
    char id[128];
    http_header(w, "X-Request-ID", id, sizeof id);
    goc_ctx *ctx = goc_with_value(w->ctx, &request_id_key, id);
    if (!ctx)
        log_fatal("out of memory");
    goc_ctx *req_ctx = w->ctx;
    w->ctx = ctx; /* req = req.WithContext(ctx) */
    m->next(m->arg, w, path);
    w->ctx = req_ctx;
    goc_ctx_release(ctx);
}

static const char *get_request_id(goc_ctx *ctx)
{
    return goc_ctx_value(ctx, &request_id_key);
}

static void handle(void *arg, http_response *w, const char *path)
{
    (void)arg;
    const char *id = get_request_id(w->ctx);
    printf("handle %s: request id \"%s\"\n", path, id);
    http_printf(w, "request id: \"%s\"\n", id);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    setvbuf(stdout, NULL, _IOLBF, 0);
    with_request_id mw = {handle, NULL};
    http_route routes[] = {{"/", with_request_id_serve, &mw}};
    http_local server;
    http_local_start(&server, "server", routes, 1);

    static const struct {
        const char *path, *header;
    } requests[] = {
        {"/orders", "X-Request-ID: 7f3a-0001\r\n"},
        {"/users", "x-request-id: 7f3a-0002\r\n"}, /* header names ignore case */
        {"/health", ""},
    };
    for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        char url[GOC_ADDRSTRLEN + 64], buf[64];
        snprintf(url, sizeof url, "http://%s%s", server.addr, requests[i].path);
        http_response resp;
        int err = http_get_hdr(goc_background(), url, requests[i].header, &resp);
        if (err)
            printf("client: %s\n", http_err_str(err, buf));
        else
            printf("client: %s", resp.body ? resp.body : "");
        http_response_free(&resp);
    }

    http_local_stop(&server);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
