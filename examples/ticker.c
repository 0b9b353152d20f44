/* ticker.c: time.Tick against time.NewTicker and Stop; a slow receiver loses ticks (seed 002, 1.8.3).
 *
 *     tick := time.Tick(period)     // a ticker nobody can stop
 *     <-tick; <-tick; <-tick
 *
 *     ticker := time.NewTicker(period)
 *     <-ticker.C                    // receive from the ticker's channel
 *     ticker.Stop()                 // no tick after this
 *
 * Part 1 receives three ticks from goc_tick (Go's time.Tick: fine for a
 * ticker wanted until the program ends). Part 2 makes a ticker, receives
 * three ticks, stops it, and waits five periods more to show that nothing
 * arrives after Stop (Go 1.23's rule: once Stop returns, no tick, not even
 * one already sent, can be received). Part 3 shows that a receiver who
 * falls behind loses ticks instead of queueing them: after five periods
 * without receiving, at most one tick waits in the channel (capacity 1).
 * The period is the first argument (default 20ms).
 */
#include <stdio.h>

#include <goc.h>

#include "countdown.h"

static int real_main(int argc, char **argv)
{
    int64_t period = argc > 1 ? countdown_tick(argc, argv) : 20 * GOC_MILLISECOND;

    int64_t t0 = goc_now(), at;
    goc_chan *tick = goc_tick(period);
    for (int i = 1; i <= 3; i++) {
        goc_chan_recv(tick, &at);
        printf("time.Tick: tick %d (%s)\n", i, at - t0 >= i * period ? "on time or late, never early" : "EARLY");
    }

    goc_ticker *ticker = goc_ticker_new(period);
    if (!ticker) {
        perror("goc_ticker_new");
        return 1;
    }
    for (int i = 1; i <= 3; i++) {
        goc_chan_recv(goc_ticker_chan(ticker), NULL);
        printf("NewTicker: tick %d\n", i);
    }
    goc_ticker_stop(ticker);
    goc_chan *after = goc_after(5 * period);
    goc_select_case cases[] = {
        GOC_RECV_CASE(goc_ticker_chan(ticker), NULL),
        GOC_RECV_CASE(after, NULL),
    };
    printf("after Stop: %s\n", goc_select(cases, 2, false) == 0 ? "a tick arrived (BUG)" : "no tick in five periods");
    goc_chan_release(after);

    goc_ticker_reset(ticker, period);
    goc_sleep(5 * period);
    size_t waiting = goc_chan_len(goc_ticker_chan(ticker));
    printf("slow receiver: %s tick waiting after five periods\n", waiting <= 1 ? "at most one" : "more than one (BUG)");
    goc_ticker_free(ticker);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
