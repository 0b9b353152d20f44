/* blocking_call.c: a goroutine blocks in sleep(1), a plain system call goc
 * does not wrap, on the only worker; the ticker goroutine queued behind it
 * keeps ticking.
 *
 * In Go every system call goes through the runtime, which hands the worker
 * (the P) to another thread while the call blocks. A C library cannot wrap
 * every call its users make, so goc's monitor thread watches the workers
 * instead: one that has run the same goroutine for 5 ms while others wait
 * gets a spare worker beside it, which runs what was queued (here the
 * ticker and main). The blocked goroutine keeps its worker and goes on when
 * sleep returns; the spare then goes back to sleep.
 *
 * Expected output: "ticking while a goroutine sleeps in sleep(1):", about
 * nine ticks 100 ms apart, then "sleep(1) returned after N ticks".
 */
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include <goc.h>

static atomic_bool slept;

static void sleeper(void *arg)
{
    goc_waitgroup *wg = arg;
    sleep(1); /* blocks this worker's thread for a second */
    atomic_store(&slept, true);
    goc_waitgroup_done(wg);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    printf("ticking while a goroutine sleeps in sleep(1):\n");
    fflush(stdout);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    goc_waitgroup_add(&wg, 1);
    goc_go(sleeper, &wg);
    goc_yield(); /* the sleeper now holds the only worker */

    goc_ticker *t = goc_ticker_new(100 * GOC_MILLISECOND);
    int ticks = 0;
    while (!atomic_load(&slept)) {
        int64_t when;
        goc_chan_recv(goc_ticker_chan(t), &when);
        if (atomic_load(&slept))
            break;
        printf("tick %d\n", ++ticks);
        fflush(stdout);
    }
    goc_ticker_free(t);
    goc_waitgroup_wait(&wg);
    printf("sleep(1) returned after %d ticks\n", ticks);
    return ticks > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    goc_maxprocs(1);
    return goc_main(real_main, argc, argv);
}
