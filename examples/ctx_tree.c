/* ctx_tree.c: one cancel() stops a goroutine and the goroutine it started (seed 000, context), and a job that a cancel ends before its work is done (seed 004).
 *
 * Seed 000: a goroutine that works until its context is done starts
 * another that does the same with the same context; main cancels once,
 * and both stop:
 *
 *     ctx, cancel := context.WithCancel(context.Background())
 *     go func(ctx context.Context) {
 *         go func(ctx context.Context) {
 *             for {
 *                 select {
 *                 case <-ctx.Done():
 *                     fmt.Println("*******I'm done too")
 *                     return
 *                 default:
 *                     fmt.Println("me too, running")
 *                     time.Sleep(time.Second * 2)
 *                 }
 *             }
 *         }(ctx)
 *         for {
 *             select {
 *             case <-ctx.Done():
 *                 fmt.Println("********I'm done")
 *                 return
 *             default:
 *                 fmt.Println("running")
 *                 time.Sleep(time.Second * 2)
 *             }
 *         }
 *     }(ctx)
 *     time.Sleep(time.Second * 5)
 *     cancel() // every goroutine that uses ctx.Done() returns
 *     time.Sleep(time.Second * 5)
 *     fmt.Println("******who lasts longest")
 *
 * (the seed prints Chinese; these are its words in English). Periods here
 * are 100 ms for 2 s, and the cancel comes after 250 ms; main's second
 * sleep, which in Go gives the two goroutines time to notice, is a
 * WaitGroup here: main goes on once both have returned.
 *
 * Seed 004: job waits for its work (time.After) or for its context:
 *
 *     func job(ctx context.Context) {
 *         select {
 *         case <-ctx.Done():
 *             if err := ctx.Err(); err != nil {
 *                 fmt.Println(err)
 *             }
 *         case <-time.After(2 * time.Second):
 *             fmt.Println("job completed!")
 *         }
 *     }
 *     func main() {
 *         ctx, cancel := context.WithCancel(context.Background())
 *         go func() {
 *             time.Sleep(time.Second)
 *             cancel()
 *         }()
 *         job(ctx)
 *     }
 *
 * Here the cancel comes after 100 ms, so job prints "context canceled"
 * long before its 2 s of work would be done.
 */
#include <stdio.h>

#include <goc.h>

#define PERIOD (100 * GOC_MILLISECOND)

static goc_waitgroup both = GOC_WAITGROUP_INIT;

/* Works until ctx is done. ctx: a reference of its own, given back. */
static void work(goc_ctx *ctx, const char *running, const char *done)
{
    for (;;) {
        goc_select_case cases[] = {GOC_RECV_CASE(goc_ctx_done(ctx), NULL)};
        if (goc_select(cases, 1, true) == 0) {
            printf("%s\n", done);
            break;
        }
        printf("%s\n", running);
        goc_sleep(PERIOD);
    }
    goc_ctx_unref(ctx);
    goc_waitgroup_done(&both);
}

static void inner(void *ctx) { work(ctx, "me too, running", "*******I'm done too"); }

static void outer(void *ctx)
{
    goc_go(inner, goc_ctx_retain(ctx));
    work(ctx, "running", "********I'm done");
}

static void job(goc_ctx *ctx)
{
    goc_chan *after = goc_after(2 * GOC_SECOND);
    goc_select_case cases[] = {GOC_RECV_CASE(goc_ctx_done(ctx), NULL), GOC_RECV_CASE(after, NULL)};
    if (goc_select(cases, 2, false) == 0) {
        int err = goc_ctx_err(ctx);
        if (err)
            printf("%s\n", goc_ctx_err_str(err));
    } else {
        printf("job completed!\n");
    }
    goc_chan_release(after);
}

static void cancel_later(void *ctx)
{
    goc_sleep(PERIOD);
    goc_cancel(ctx);
    goc_ctx_unref(ctx);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("-- one cancel stops a goroutine and the one it started\n");
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_waitgroup_add(&both, 2);
    goc_go(outer, goc_ctx_retain(ctx));
    goc_sleep(PERIOD * 5 / 2);
    goc_cancel(ctx); /* every goroutine that uses ctx's Done returns */
    goc_waitgroup_wait(&both);
    printf("******who lasts longest\n");
    goc_ctx_release(ctx);

    printf("-- a job cancelled before its work is done\n");
    ctx = goc_with_cancel(goc_background());
    goc_go(cancel_later, goc_ctx_retain(ctx));
    job(ctx);
    goc_ctx_release(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
