/* counters.c: seed 004's three counters, two goroutines adding 10000 each
 * with an atomic, under a mutex, and with the count itself passed through a
 * channel of capacity 1.
 *
 *     var wg sync.WaitGroup
 *     var counter int32
 *     var mux sync.Mutex
 *     var ch = make(chan int, 1)
 *
 *     func AtomicIntCounter() {
 *         defer wg.Done()
 *         for i := 0; i < 10000; i++ {
 *             atomic.AddInt32(&counter, 1)
 *         }
 *     }
 *     func MutexIntCounter() {
 *         defer wg.Done()
 *         for i := 0; i < 10000; i++ {
 *             mux.Lock()
 *             counter++
 *             mux.Unlock()
 *         }
 *     }
 *     func ChannelIntCounter() {
 *         defer wg.Done()
 *         for i := 0; i < 10000; i++ {
 *             count := <-ch
 *             count++
 *             ch <- count
 *         }
 *     }
 *     func main() {
 *         wg.Add(2)
 *         go ChannelIntCounter()
 *         go ChannelIntCounter()
 *         ch <- 0 // buffered: otherwise nobody takes the last value (deadlock)
 *         wg.Wait()
 *         fmt.Println(<-ch)
 *     }
 *
 * Usage: counters atomic|mutex|channel|unbuffered
 *   atomic, mutex, channel   each prints 20000
 *   unbuffered               the seed's warning: ch without a buffer. The
 *                            last goroutine's `ch <- count` waits for a
 *                            receiver while main waits for it in wg.Wait:
 *                            "fatal error: all goroutines are asleep -
 *                            deadlock!", the dump, exit status 2, as Go.
 * The channel counter needs no lock around count: whoever holds the value
 * is the only one who can change it (share memory by communicating).
 */
#include <stdio.h>
#include <string.h>

#include <goc.h>

enum { PER_GOROUTINE = 10000 };

static goc_waitgroup wg = GOC_WAITGROUP_INIT;
static int32_t counter;
static goc_mutex mux = GOC_MUTEX_INIT;
static goc_chan *ch; /* of int */

static void atomic_int_counter(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_GOROUTINE; i++)
        __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST);
    goc_waitgroup_done(&wg);
}

static void mutex_int_counter(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_GOROUTINE; i++) {
        goc_mutex_lock(&mux);
        counter++;
        goc_mutex_unlock(&mux);
    }
    goc_waitgroup_done(&wg);
}

static void channel_int_counter(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_GOROUTINE; i++) {
        int count;
        goc_chan_recv(ch, &count);
        count++;
        goc_chan_send(ch, &count);
    }
    goc_waitgroup_done(&wg);
}

static int real_main(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : "";
    goc_fn fn = NULL;
    size_t cap = 1;
    if (strcmp(v, "atomic") == 0)
        fn = atomic_int_counter;
    else if (strcmp(v, "mutex") == 0)
        fn = mutex_int_counter;
    else if (strcmp(v, "channel") == 0)
        fn = channel_int_counter;
    else if (strcmp(v, "unbuffered") == 0)
        fn = channel_int_counter, cap = 0;
    if (!fn) {
        fprintf(stderr, "usage: counters atomic|mutex|channel|unbuffered\n");
        return 2;
    }
    goc_waitgroup_add(&wg, 2);
    if (fn == channel_int_counter) {
        ch = goc_chan_make(sizeof(int), cap);
        goc_go(fn, NULL);
        goc_go(fn, NULL);
        int zero = 0;
        goc_chan_send(ch, &zero);
        goc_waitgroup_wait(&wg);
        int count;
        goc_chan_recv(ch, &count);
        printf("%d\n", count);
        goc_chan_release(ch);
        return 0;
    }
    goc_go(fn, NULL);
    goc_go(fn, NULL);
    goc_waitgroup_wait(&wg);
    printf("%d\n", __atomic_load_n(&counter, __ATOMIC_SEQ_CST));
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
