/* countdown3.c: the countdown printed tick by tick, abortable, with a ticker that is stopped (seed 002, 1.8.3).
 *
 *     func main() {
 *         // ...create abort channel...
 *         fmt.Println("Commencing countdown.  Press return to abort.")
 *         tick := time.Tick(1 * time.Second)
 *         for countdown := 10; countdown > 0; countdown-- {
 *             fmt.Println(countdown)
 *             select {
 *             case <-tick:
 *                 // Do nothing.
 *             case <-abort:
 *                 fmt.Println("Launch aborted!")
 *                 return
 *             }
 *         }
 *         launch()
 *     }
 *
 * The seed notes that time.Tick's ticker lives on after main stops
 * listening (a leak once the countdown is aborted), and that a ticker
 * needed only for a while should be made with time.NewTicker and stopped:
 *
 *     ticker := time.NewTicker(1 * time.Second)
 *     <-ticker.C    // receive from the ticker's channel
 *     ticker.Stop() // cause the ticker's goroutine to terminate
 *
 * which this version does: goc_ticker_new, then goc_ticker_free (stop and
 * free) on both ways out. The tick is the first argument (default 100ms;
 * 1s is Go's); a byte on standard input aborts (countdown.h).
 */
#include <stdio.h>

#include <goc.h>

#include "countdown.h"

static int real_main(int argc, char **argv)
{
    int64_t d = countdown_tick(argc, argv);
    abort_on_input();
    printf("Commencing countdown.  Press return to abort.\n");
    goc_ticker *ticker = goc_ticker_new(d);
    if (!ticker) {
        perror("goc_ticker_new");
        return 1;
    }
    for (int countdown = 10; countdown > 0; countdown--) {
        printf("%d\n", countdown);
        goc_select_case cases[] = {
            GOC_RECV_CASE(goc_ticker_chan(ticker), NULL), /* case <-ticker.C: */
            GOC_RECV_CASE(abort_ch, NULL),                /* case <-abort: */
        };
        if (goc_select(cases, 2, false) == 1) {
            printf("Launch aborted!\n");
            goc_ticker_free(ticker); /* ticker.Stop() */
            return 0;
        }
    }
    goc_ticker_free(ticker); /* ticker.Stop() */
    launch();
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
