/* ctx_timeout.c: timeout control with context.WithTimeout: handle(ctx, ms) gives an rpc ms milliseconds (seed 001 §9).
 *
 *     func rpc() (string, error) {
 *         time.Sleep(100 * time.Millisecond)
 *         return "rpc done", nil
 *     }
 *     func handle(ctx context.Context, ms int) {
 *         ctx, cancel := context.WithTimeout(ctx, time.Duration(ms)*time.Millisecond)
 *         defer cancel()
 *         r := make(chan result)
 *         go func() {
 *             data, err := rpc()
 *             r <- result{data: data, err: err}
 *         }()
 *         select {
 *         case <-ctx.Done():
 *             fmt.Printf("timeout: %d ms, context exit: %+v\n", ms, ctx.Err())
 *         case res := <-r:
 *             fmt.Printf("result: %s, err: %+v\n", res.data, res.err)
 *         }
 *     }
 *     func main() {
 *         for i := 1; i < 5; i++ {
 *             time.Sleep(1 * time.Second)
 *             go handle(context.Background(), i*50)
 *         }
 *         time.Sleep(time.Second)
 *     }
 *
 * Prints, as in the seed:
 *     timeout: 50 ms, context exit: context deadline exceeded
 *     result: rpc done, err: <nil>      (100 ms: a race between two 100 ms
 *     result: rpc done, err: <nil>       waits, which the rpc usually wins)
 *     result: rpc done, err: <nil>
 * One change: r has capacity 1, so that an rpc that finishes after its
 * handler gave up can still hand over its result and end (the seed's
 * unbuffered r leaks that goroutine: the leak seed 003 warns about). The
 * rpc goroutine holds its own reference to r.
 */
#include <stdio.h>

#include <goc.h>

typedef struct result {
    const char *data;
    int err;
} result;

static int rpc(const char **data)
{
    goc_sleep(100 * GOC_MILLISECOND);
    *data = "rpc done";
    return 0;
}

static void rpc_body(void *arg)
{
    goc_chan *r = arg;
    result res;
    res.err = rpc(&res.data);
    goc_chan_send(r, &res);
    goc_chan_release(r);
}

static void handle(goc_ctx *parent, int ms)
{
    goc_ctx *ctx = goc_with_timeout(parent, ms * GOC_MILLISECOND);
    goc_chan *r = goc_chan_make(sizeof(result), 1);
    goc_go(rpc_body, goc_chan_retain(r));
    result res;
    goc_select_case cases[] = {
        GOC_RECV_CASE(goc_ctx_done(ctx), NULL),
        GOC_RECV_CASE(r, &res),
    };
    if (goc_select(cases, 2, false) == 0)
        printf("timeout: %d ms, context exit: %s\n", ms, goc_ctx_err_str(goc_ctx_err(ctx)));
    else
        printf("result: %s, err: %s\n", res.data, goc_ctx_err_str(res.err));
    fflush(stdout);
    goc_chan_release(r);
    goc_ctx_release(ctx); /* defer cancel() */
}

static void handle_body(void *arg) { handle(goc_background(), (int)(intptr_t)arg); }

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (int i = 1; i < 5; i++) {
        goc_sleep(GOC_SECOND); /* a request comes in */
        goc_go(handle_body, (void *)(intptr_t)(i * 50));
    }
    goc_sleep(GOC_SECOND);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
