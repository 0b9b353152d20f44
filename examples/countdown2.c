/* countdown2.c: a countdown that a key press aborts: select on time.After and an abort channel (seed 002, 1.8.1).
 *
 *     func main() {
 *         abort := make(chan struct{})
 *         go func() {
 *             os.Stdin.Read(make([]byte, 1)) // read a single byte
 *             abort <- struct{}{}
 *         }()
 *         fmt.Println("Commencing countdown.  Press return to abort.")
 *         select {
 *         case <-time.After(10 * time.Second):
 *             // Do nothing.
 *         case <-abort:
 *             fmt.Println("Launch aborted!")
 *             return
 *         }
 *         launch()
 *     }
 *
 * Waits ten ticks (default 100ms each, the first argument; 1s is Go's) for
 * a byte on standard input: "Launch aborted!" if one comes, else "Lift
 * off!". At end of input it launches (countdown.h says why). The channel
 * from goc_after is the caller's: released once the select is done; its
 * timer frees itself once it fires, as Go's is collected.
 */
#include <stdio.h>

#include <goc.h>

#include "countdown.h"

static int real_main(int argc, char **argv)
{
    int64_t d = countdown_tick(argc, argv);
    abort_on_input();
    printf("Commencing countdown.  Press return to abort.\n");
    goc_chan *after = goc_after(10 * d);
    goc_select_case cases[] = {
        GOC_RECV_CASE(after, NULL),    /* case <-time.After(10 * tick): */
        GOC_RECV_CASE(abort_ch, NULL), /* case <-abort: */
    };
    int chosen = goc_select(cases, 2, false);
    goc_chan_release(after);
    if (chosen == 1) {
        printf("Launch aborted!\n");
        return 0;
    }
    launch();
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
