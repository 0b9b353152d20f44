/* priority.c: a select that prefers one channel: job1 always before job2 when both are ready (seed 002, 1.8.5).
 *
 *     func worker2(ch1, ch2 <-chan int) {
 *         for {
 *             select {
 *             case job1 := <-ch1:
 *                 fmt.Println(job1)
 *             case job2 := <-ch2:
 *             priority:
 *                 for {
 *                     select {
 *                     case job1 := <-ch1:
 *                         fmt.Println(job1)
 *                     default:
 *                         break priority
 *                     }
 *                 }
 *                 fmt.Println(job2)
 *             }
 *         }
 *     }
 *
 * select picks among ready cases at random, so it cannot prefer one by
 * itself. worker2 takes whichever comes, and when it is a job2 it first
 * drains every job1 that is ready, with a non-blocking inner select, before
 * doing the job2. (The seed's first version, nested selects with default
 * cases, prefers ch1 too but spins when both channels are empty.)
 *
 * Here both channels are filled before the worker starts, and closed: the
 * worker stops once both are drained (a closed channel is set to NULL, a
 * case that is never ready). Every job1 prints before any job2, though the
 * outer select draws at random. Then the seed's situation, producers
 * running alongside the worker: every job is done once.
 */
#include <stdio.h>

#include <goc.h>

static int printed1, printed2, late1; /* late1: a job1 printed after some job2 */

static void do_job(int job)
{
    if (job < 2000) {
        printed1++;
        if (printed2)
            late1++;
    } else {
        printed2++;
    }
}

/* worker2, ending when both channels are closed and drained. */
static void worker2(goc_chan *ch1, goc_chan *ch2, bool print)
{
    int job;
    while (ch1 || ch2) {
        goc_select_case outer[] = {GOC_RECV_CASE(ch1, &job), GOC_RECV_CASE(ch2, &job)};
        int k = goc_select(outer, 2, false);
        if (!outer[k].ok) { /* closed and drained */
            if (k == 0)
                ch1 = NULL;
            else
                ch2 = NULL;
            continue;
        }
        if (k == 0) { /* case job1 := <-ch1 */
            if (print)
                printf("%d\n", job);
            do_job(job);
            continue;
        }
        int job2 = job; /* case job2 := <-ch2 */
        for (;;) {      /* priority: */
            goc_select_case inner[] = {GOC_RECV_CASE(ch1, &job)};
            if (goc_select(inner, 1, true) != 0)
                break; /* default: break priority */
            if (!inner[0].ok) {
                ch1 = NULL;
                break;
            }
            if (print)
                printf("%d\n", job);
            do_job(job);
        }
        if (print)
            printf("%d\n", job2);
        do_job(job2);
    }
}

struct producer {
    goc_chan *ch;
    int first, n;
};

static void produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < p->n; i++)
        GOC_CHAN_SEND(p->ch, int, p->first + i);
    goc_chan_close(p->ch);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    /* Both ready from the start: job1s are 1000.., job2s 2000... */
    goc_chan *ch1 = goc_chan_make(sizeof(int), 5), *ch2 = goc_chan_make(sizeof(int), 5);
    for (int i = 0; i < 5; i++) {
        GOC_CHAN_SEND(ch1, int, 1000 + i);
        GOC_CHAN_SEND(ch2, int, 2000 + i);
    }
    goc_chan_close(ch1);
    goc_chan_close(ch2);
    worker2(ch1, ch2, true);
    printf("both ready: %d job1s and %d job2s, %d job1s after a job2\n", printed1, printed2, late1);
    goc_chan_release(ch1);
    goc_chan_release(ch2);

    /* Producers alongside, on buffered channels. */
    printed1 = printed2 = late1 = 0;
    ch1 = goc_chan_make(sizeof(int), 100);
    ch2 = goc_chan_make(sizeof(int), 100);
    goc_waitgroup wg = GOC_WAITGROUP_INIT;
    struct producer p1 = {ch1, 1000, 1000}, p2 = {ch2, 2000, 1000};
    goc_waitgroup_go(&wg, produce, &p1);
    goc_waitgroup_go(&wg, produce, &p2);
    worker2(ch1, ch2, false);
    goc_waitgroup_wait(&wg);
    printf("with producers: %d job1s and %d job2s done\n", printed1, printed2);
    goc_chan_release(ch1);
    goc_chan_release(ch2);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
