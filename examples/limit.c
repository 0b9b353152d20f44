/* limit.c: a buffered channel as a counting semaphore that bounds how many
 * goroutines work at once (seed 004), and what the seed's `select {}` does
 * once the work is over.
 *
 *     var limit = make(chan int, 3)
 *
 *     func main() {
 *         for _, w := range work {
 *             go func() {
 *                 limit <- 1
 *                 w()
 *                 <-limit
 *             }()
 *         }
 *         select{}
 *     }
 *
 * A goroutine sends into limit before it works and receives after: the
 * k-th receive happens before the (k+3)-th send completes, so at most 3
 * work items run at any moment, however many goroutines wait. Each item
 * here takes 20 ms (a sleep stands for the work) and prints how many were
 * running as it started, never more than 3.
 *
 * Then main sits in `select {}` forever, as the seed's does. When the last
 * item is done, no goroutine is left that could ever wake it, and goc says
 * so as Go does: "fatal error: all goroutines are asleep - deadlock!", a
 * dump with "goroutine 1 [select (no cases)]", exit status 2. A real
 * program waits with a WaitGroup (or a server runs forever) instead.
 *
 * The seed's closure captures the loop variable w: before Go 1.22 every
 * goroutine may see the last item. Here each goroutine gets its item as its
 * argument.
 */
#include <stdint.h>
#include <stdio.h>

#include <goc.h>

enum { WORK = 9, LIMIT = 3 };

static goc_chan *limit; /* of char, capacity LIMIT */
static int running;     /* items working now; atomic */

static void work(int i)
{
    int now = __atomic_add_fetch(&running, 1, __ATOMIC_RELAXED);
    printf("work %d starts, %d running\n", i, now);
    goc_sleep(20 * GOC_MILLISECOND);
    __atomic_sub_fetch(&running, 1, __ATOMIC_RELAXED);
}

static void limited(void *arg)
{
    char token = 1;
    goc_chan_send(limit, &token); /* limit <- 1 */
    work((int)(intptr_t)arg);
    goc_chan_recv(limit, NULL); /* <-limit */
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line out before the fatal error */
    limit = goc_chan_make(1, LIMIT);
    for (int i = 0; i < WORK; i++)
        goc_go(limited, (void *)(intptr_t)i);
    goc_select(NULL, 0, false); /* select {} */
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
