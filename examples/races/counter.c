/* races/counter.c: seed 001, case 1: a counter incremented by two
 * goroutines without synchronisation.
 *
 *     func routine(id int) {
 *         for i := 0; i < 2; i++ {
 *             value := counter
 *             value++
 *             counter = value
 *         }
 *         wg.Done()
 *     }
 *
 * Usage: counter racy|mutex|atomic|channel
 *   racy     the seed's program: the race detector (make race) reports the
 *            read and the write with both goroutines' stacks, exit 66
 *   mutex    counter++ under a goc_mutex (the seed's fix)
 *   atomic   an atomic add
 *   channel  a channel of capacity 1 used as the lock
 * Each fixed version prints "Final Counter: 4000" (1000 runs of 2 x 2).
 */
#include <stdio.h>
#include <string.h>

#include <goc.h>

enum { RUNS = 1000 };

static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static int counter;
static goc_mutex mu = GOC_MUTEX_INIT;
static goc_chan *lock_ch;

static void routine_racy(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        int value = counter;
        value++;
        counter = value;
    }
    goc_waitgroup_done(&wg);
}

static void routine_mutex(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        goc_mutex_lock(&mu);
        counter++;
        goc_mutex_unlock(&mu);
    }
    goc_waitgroup_done(&wg);
}

static void routine_atomic(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++)
        __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
    goc_waitgroup_done(&wg);
}

static void routine_channel(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++) {
        char token = 0;
        goc_chan_send(lock_ch, &token); /* lock: fill the one slot */
        counter++;
        goc_chan_recv(lock_ch, &token); /* unlock */
    }
    goc_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    goc_fn routine = NULL;
    const char *v = argc > 1 ? argv[1] : "";
    if (strcmp(v, "racy") == 0)
        routine = routine_racy;
    else if (strcmp(v, "mutex") == 0)
        routine = routine_mutex;
    else if (strcmp(v, "atomic") == 0)
        routine = routine_atomic;
    else if (strcmp(v, "channel") == 0)
        routine = routine_channel;
    if (!routine) {
        fprintf(stderr, "usage: counter racy|mutex|atomic|channel\n");
        return 2;
    }
    lock_ch = goc_chan_make(1, 1);
    for (int r = 0; r < RUNS; r++) {
        for (int i = 1; i <= 2; i++) {
            goc_waitgroup_add(&wg, 1);
            goc_go(routine, NULL);
        }
        goc_waitgroup_wait(&wg);
    }
    printf("Final Counter: %d\n", __atomic_load_n(&counter, __ATOMIC_RELAXED));
    goc_chan_release(lock_ch);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
