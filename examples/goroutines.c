/* goroutines.c: go statements joined with a sync.WaitGroup (seed 004), then
 * 100000 goroutines spread over every worker thread.
 *
 * Part 1 is the seed's program without its time.Sleep (which only fixed the
 * order of the first two lines):
 *
 *     var wg sync.WaitGroup
 *
 *     func say(id string) {
 *         fmt.Println("I am done! id: " + id)
 *         wg.Done()
 *     }
 *
 *     func main() {
 *         wg.Add(2)
 *         go func() {
 *             fmt.Println("Hello")
 *             wg.Done()
 *         }()
 *         go say("world")
 *         wg.Wait()
 *         fmt.Println("exit")
 *     }
 *
 * Part 2 starts 100000 goroutines, each writing its index into its own slot
 * and noting the thread it started on, waits for them all, and prints the
 * sum (0 + 1 + ... + 99999 = 4999950000), the goroutine count before and
 * after, and how many of the goc_maxprocs() workers ran them.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

enum { N = 100000 };

/* Part 1 */

static goc_waitgroup wg = GOC_WAITGROUP_INIT;

static void say(void *id)
{
    printf("I am done! id: %s\n", (const char *)id);
    goc_waitgroup_done(&wg);
}

static void hello(void *arg)
{
    (void)arg;
    printf("Hello\n");
    goc_waitgroup_done(&wg);
}

static int part1(void)
{
    goc_waitgroup_add(&wg, 2);
    if (goc_go(hello, NULL) < 0 || goc_go(say, "world") < 0) {
        fprintf(stderr, "goc_go failed\n");
        return 1;
    }
    goc_waitgroup_wait(&wg);
    printf("exit\n");
    return 0;
}

/* Part 2 */

static uint64_t *slots;      /* slots[i]: written by goroutine i only */
static pthread_t *started_on; /* the worker thread goroutine i started on */

static void work(void *arg)
{
    uintptr_t i = (uintptr_t)arg;
    started_on[i] = pthread_self(); /* a goroutine may move later: note its start */
    slots[i] += i;
}

static int cmp_thread(const void *a, const void *b)
{
    /* pthread_t is an integer on Linux; compare its bytes for a total order. */
    return memcmp(a, b, sizeof(pthread_t));
}

static int part2(void)
{
    slots = calloc(N, sizeof *slots);
    started_on = calloc(N, sizeof *started_on);
    if (slots == NULL || started_on == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }

    printf("goroutines before: %d\n", goc_num_goroutine());
    goc_waitgroup all = GOC_WAITGROUP_INIT;
    for (uintptr_t i = 0; i < N; i++) {
        int64_t id = goc_waitgroup_go(&all, work, (void *)i);
        if (id < 0) {
            fprintf(stderr, "goroutine %ju: %s\n", (uintmax_t)i, strerror((int)-id));
            return 1;
        }
    }
    goc_waitgroup_wait(&all);

    uint64_t sum = 0;
    for (size_t i = 0; i < N; i++)
        sum += slots[i];
    printf("sum of 0..%d: %ju (expected %ju)\n", N - 1, (uintmax_t)sum,
           (uintmax_t)N * (N - 1) / 2);

    /* Done() runs before a goroutine's last instructions: let them end. */
    while (goc_num_goroutine() > 1)
        goc_yield();
    printf("goroutines after: %d\n", goc_num_goroutine());

    qsort(started_on, N, sizeof *started_on, cmp_thread);
    int threads = 1;
    for (size_t i = 1; i < N; i++)
        threads += cmp_thread(&started_on[i - 1], &started_on[i]) != 0;
    printf("%d goroutines ran on %d of %d workers\n", N, threads, goc_maxprocs(0));

    int ok = sum == (uint64_t)N * (N - 1) / 2;
    free(slots);
    free(started_on);
    return ok ? 0 : 1;
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    if (part1() != 0)
        return 1;
    printf("\n");
    return part2();
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
