/* ctx_gen.c: a generator goroutine that does not leak: cancelling the context stops it (seed 001 §9, the context package's example).
 *
 *     gen := func(ctx context.Context) <-chan int {
 *         dst := make(chan int)
 *         n := 1
 *         go func() {
 *             for {
 *                 select {
 *                 case <-ctx.Done():
 *                     return // returning not to leak the goroutine
 *                 case dst <- n:
 *                     n++
 *                 }
 *             }
 *         }()
 *         return dst
 *     }
 *     ctx, cancel := context.WithCancel(context.Background())
 *     defer cancel() // cancel when we are finished consuming integers
 *     for n := range gen(ctx) {
 *         fmt.Println(n)
 *         if n == 5 {
 *             break
 *         }
 *     }
 *
 * Prints 1 to 5, then shows that the generator has ended: the goroutine
 * count is back to 1 (main). The generator holds its own references to
 * the context and the channel (it may outlive main's use of both), and
 * gives them back as it returns; goc_chan_send_ctx is the select above.
 */
#include <stdio.h>
#include <stdlib.h>

#include <goc.h>

struct gen {
    goc_ctx *ctx;
    goc_chan *dst;
};

static void gen_body(void *arg)
{
    struct gen g = *(struct gen *)arg;
    free(arg);
    for (int n = 1;; n++)
        if (goc_chan_send_ctx(g.dst, &n, g.ctx) != 0)
            break; /* returning not to leak the goroutine */
    printf("generator: %s, returning\n", goc_ctx_err_str(goc_ctx_err(g.ctx)));
    goc_chan_release(g.dst);
    goc_ctx_unref(g.ctx);
}

/* gen(ctx): the channel (main's reference) the integers arrive on. */
static goc_chan *gen(goc_ctx *ctx)
{
    struct gen *g = malloc(sizeof *g);
    goc_chan *dst = goc_chan_make(sizeof(int), 0);
    if (!g || !dst)
        abort();
    g->ctx = goc_ctx_retain(ctx);
    g->dst = goc_chan_retain(dst);
    goc_go(gen_body, g);
    return dst;
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_chan *ch = gen(ctx);
    int n;
    while (goc_chan_recv(ch, &n)) {
        printf("%d\n", n);
        if (n == 5)
            break;
    }
    fflush(stdout);
    goc_chan_release(ch);
    goc_ctx_release(ctx); /* defer cancel(): the generator stops */
    /* Not needed, only to show it: the generator ends on its own. */
    for (int i = 0; i < 100000 && goc_num_goroutine() > 1; i++)
        goc_sleep(10 * GOC_MICROSECOND);
    printf("goroutines left: %d\n", goc_num_goroutine());
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
