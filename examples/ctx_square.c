/* ctx_square.c: a goroutine squares numbers until its context is cancelled (seed 001 §9, "ending a goroutine with context").
 *
 *     ctx, cancel := context.WithCancel(context.Background())
 *     go func() {
 *         n := 0
 *         for {
 *             select {
 *             case <-ctx.Done():
 *                 return
 *             default:
 *                 n++
 *                 fmt.Println("Result:", square(n))
 *             }
 *         }
 *     }()
 *     time.Sleep(time.Second * 3)
 *     fmt.Println("cancelling context..")
 *     cancel()
 *     fmt.Println("context cancelled!")
 *     time.Sleep(time.Second * 3)
 *
 *     func square(n int) int {
 *         time.Sleep(time.Millisecond * 200) // for demonstration
 *         return n * n
 *     }
 *
 * Its periods are a tenth of the seed's here: square takes 20 ms, main
 * lets it run 300 ms, cancels, and waits 300 ms more. The square in
 * progress when the cancel comes still prints its result; the select after
 * it sees ctx.Done() and the goroutine returns, which the final count of
 * goroutines shows (1: main). The goroutine holds its own reference to the
 * context, since it may outlive main's.
 */
#include <stdio.h>

#include <goc.h>

static int square(int n)
{
    goc_sleep(20 * GOC_MILLISECOND); /* for demonstration */
    return n * n;
}

static void squarer(void *arg)
{
    goc_ctx *ctx = arg;
    int n = 0;
    for (;;) {
        goc_select_case cases[] = {GOC_RECV_CASE(goc_ctx_done(ctx), NULL)};
        if (goc_select(cases, 1, true) == 0)
            break; /* case <-ctx.Done(): return */
        n++;       /* default */
        printf("Result: %d\n", square(n));
        fflush(stdout);
    }
    goc_ctx_unref(ctx);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_ctx *ctx = goc_with_cancel(goc_background());
    goc_go(squarer, goc_ctx_retain(ctx));
    goc_sleep(300 * GOC_MILLISECOND);
    printf("cancelling context..\n");
    goc_cancel(ctx);
    printf("context cancelled!\n");
    fflush(stdout);
    goc_sleep(300 * GOC_MILLISECOND);
    /* It has ended by now, as a rule; on a slow machine, wait for it. */
    for (int i = 0; i < 10000 && goc_num_goroutine() > 1; i++)
        goc_sleep(GOC_MILLISECOND);
    printf("goroutines at the end: %d\n", goc_num_goroutine());
    goc_ctx_release(ctx);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
