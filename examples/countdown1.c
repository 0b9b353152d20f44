/* countdown1.c: a rocket launch countdown paced by time.Tick (seed 002, 1.8.1).
 *
 *     func main() {
 *         fmt.Println("Commencing countdown.")
 *         tick := time.Tick(1 * time.Second)
 *         for countdown := 10; countdown > 0; countdown-- {
 *             fmt.Println(countdown)
 *             <-tick
 *         }
 *         launch()
 *     }
 *
 * Prints 10 down to 1, a tick apart, then "Lift off!". The tick is the
 * first argument (default 100ms; 1s is Go's pace; see countdown.h).
 * goc_tick, like time.Tick, gives the channel of a ticker that is never
 * stopped: fine for a ticker the program needs until it exits.
 */
#include <stdio.h>

#include <goc.h>

#include "countdown.h"

static int real_main(int argc, char **argv)
{
    int64_t d = countdown_tick(argc, argv);
    printf("Commencing countdown.\n");
    goc_chan *tick = goc_tick(d);
    for (int countdown = 10; countdown > 0; countdown--) {
        printf("%d\n", countdown);
        goc_chan_recv(tick, NULL);
    }
    launch();
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
