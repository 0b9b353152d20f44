/* ctx_errcancel.c: error cancellation: f1 fails after 1 ms and cancels the context, so f2 stops at once (seed 001 §9).
 *
 *     func f1(ctx context.Context) error {
 *         select {
 *         case <-ctx.Done():
 *             return fmt.Errorf("f1: %w", ctx.Err())
 *         case <-time.After(time.Millisecond):
 *             return fmt.Errorf("f1 err in 1ms")
 *         }
 *     }
 *     func f2(ctx context.Context) error {
 *         select {
 *         case <-ctx.Done():
 *             return fmt.Errorf("f2: %w", ctx.Err())
 *         case <-time.After(time.Hour):
 *             return nil
 *         }
 *     }
 *     func main() {
 *         ctx, cancel := context.WithTimeout(context.Background(), time.Second)
 *         defer cancel()
 *         var wg sync.WaitGroup
 *         wg.Add(2)
 *         go func() {
 *             defer wg.Done()
 *             if err := f1(ctx); err != nil {
 *                 fmt.Println(err)
 *                 cancel()
 *             }
 *         }()
 *         go func() { ...the same with f2... }()
 *         wg.Wait()
 *     }
 *
 * Prints "f1 err in 1ms", then "f2: context canceled". Errors are ints
 * here: f1's own error is an application code, printed by the caller.
 * Any goroutine may cancel (goc_cancel); main, the owner, releases the
 * context last (goc_ctx_release, its defer cancel()). The timers are
 * goc_timer objects, freed when done (time.After's timer would stay armed
 * for an hour).
 */
#include <stdio.h>

#include <goc.h>

enum { F1_FAILED = 1 };

/* select { case <-ctx.Done(): case <-time.After(d): }: 0 if the timer won. */
static int wait_or_done(goc_ctx *ctx, int64_t d)
{
    goc_timer *t = goc_timer_new(d);
    goc_select_case cases[] = {
        GOC_RECV_CASE(goc_ctx_done(ctx), NULL),
        GOC_RECV_CASE(goc_timer_chan(t), NULL),
    };
    int which = goc_select(cases, 2, false);
    goc_timer_free(t);
    return which == 0 ? goc_ctx_err(ctx) : 0;
}

static int f1(goc_ctx *ctx)
{
    int err = wait_or_done(ctx, GOC_MILLISECOND);
    if (err) {
        printf("f1: %s\n", goc_ctx_err_str(err));
        return err;
    }
    printf("f1 err in 1ms\n"); /* simulate an error after a short while */
    return F1_FAILED;
}

static int f2(goc_ctx *ctx)
{
    int err = wait_or_done(ctx, GOC_HOUR); /* a long operation */
    if (err)
        printf("f2: %s\n", goc_ctx_err_str(err));
    return err;
}

struct job {
    goc_ctx *ctx;
    int (*f)(goc_ctx *);
};

static void run(void *arg)
{
    struct job *j = arg;
    if (j->f(j->ctx) != 0) {
        fflush(stdout);
        goc_cancel(j->ctx);
    }
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_ctx *ctx = goc_with_timeout(goc_background(), GOC_SECOND);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    struct job j1 = {ctx, f1}, j2 = {ctx, f2};
    goc_waitgroup_go(&wg, run, &j1);
    goc_waitgroup_go(&wg, run, &j2);
    goc_waitgroup_wait(&wg);
    goc_ctx_release(ctx); /* defer cancel() */
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
