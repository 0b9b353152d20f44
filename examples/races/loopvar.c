/* races/loopvar.c: seed 001, case 2: goroutines started in a loop read the
 * loop variable, which the loop keeps writing.
 *
 *     for i := 0; i < 5; i++ {
 *         go func() {
 *             fmt.Println(i) // Not the 'i' you are looking for.
 *             wg.Done()
 *         }()
 *     }
 *
 * In C the closure's capture is the address of i.
 * Usage: loopvar racy|copy|channel
 *   racy     each goroutine gets &i: the race detector reports the loop's
 *            write and the goroutine's read, exit 66
 *   copy     each goroutine gets the value of i (Go: go func(i int){...}(i))
 *   channel  the loop sends each i on a channel, each goroutine receives one
 * The fixed versions print the sum of what the goroutines saw: 10.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <goc.h>

static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static int sum;
static goc_mutex sum_mu = GOC_MUTEX_INIT;
static goc_chan *ch;

static void add(int i)
{
    goc_mutex_lock(&sum_mu);
    sum += i;
    goc_mutex_unlock(&sum_mu);
}

static void print_shared(void *arg)
{
    add(*(int *)arg); /* reads the loop's i */
    goc_waitgroup_done(&wg);
}

static void print_copy(void *arg)
{
    add((int)(intptr_t)arg);
    goc_waitgroup_done(&wg);
}

static void print_recv(void *arg)
{
    (void)arg;
    int i;
    goc_chan_recv(ch, &i);
    add(i);
    goc_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : "";
    int i;
    if (strcmp(v, "racy") == 0) {
        for (i = 0; i < 5; i++) {
            goc_waitgroup_add(&wg, 1);
            goc_go(print_shared, &i);
        }
    } else if (strcmp(v, "copy") == 0) {
        for (i = 0; i < 5; i++) {
            goc_waitgroup_add(&wg, 1);
            goc_go(print_copy, (void *)(intptr_t)i);
        }
    } else if (strcmp(v, "channel") == 0) {
        ch = goc_chan_make(sizeof(int), 0);
        for (i = 0; i < 5; i++) {
            goc_waitgroup_add(&wg, 1);
            goc_go(print_recv, NULL);
            goc_chan_send(ch, &i);
        }
    } else {
        fprintf(stderr, "usage: loopvar racy|copy|channel\n");
        return 2;
    }
    goc_waitgroup_wait(&wg);
    printf("sum of what the goroutines saw: %d\n", sum);
    goc_chan_release(ch);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
