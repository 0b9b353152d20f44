/* polling.c: a non-blocking receive with select and default, polling for an abort between steps (seed 002, 1.8.4).
 *
 *     select {
 *     case <-abort:
 *         fmt.Printf("Launch aborted!\n")
 *         return
 *     default:
 *         // do nothing
 *     }
 *
 * The countdown does its own work between checks (here, a step of one
 * tick) and polls abort at each: the select with a default case never
 * blocks, it only looks. The tick is the first argument (default 100ms);
 * a byte on standard input aborts (countdown.h).
 */
#include <stdio.h>

#include <goc.h>

#include "countdown.h"

static int real_main(int argc, char **argv)
{
    int64_t d = countdown_tick(argc, argv);
    abort_on_input();
    printf("Commencing countdown.  Press return to abort.\n");
    int polls = 0;
    for (int countdown = 10; countdown > 0; countdown--) {
        printf("%d\n", countdown);
        goc_select_case cases[] = {GOC_RECV_CASE(abort_ch, NULL)};
        polls++;
        if (goc_select(cases, 1, true) == 0) { /* case <-abort: */
            printf("Launch aborted!\n");
            return 0;
        }
        /* default: do nothing, and go on with the step's work */
        goc_sleep(d);
    }
    printf("polled abort %d times without blocking\n", polls);
    launch();
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
