/* broadcast.c: closing a channel as a one-to-many stop signal, a buffered done channel as many-to-one, and a future over one-way channels (seed 001 §10).
 *
 *     func run(stop <-chan struct{}, done chan<- struct{}) {
 *         for {
 *             select {
 *             case <-stop:
 *                 fmt.Println("stop...")
 *                 done <- struct{}{}
 *                 return
 *             case <-time.After(time.Second):
 *                 fmt.Println("hello")
 *             }
 *         }
 *     }
 *
 *     func main() {
 *         stop := make(chan struct{})    // one to many
 *         done := make(chan struct{}, 10) // many to one
 *         for i := 0; i < 10; i++ {
 *             go run(stop, done)
 *         }
 *         time.Sleep(5 * time.Second)
 *         close(stop)
 *         for i := 0; i < 10; i++ {
 *             <-done
 *         }
 *     }
 *
 * and the future: a goroutine that may only read a channel, main that may
 * only write it:
 *
 *     func read(c <-chan int) { fmt.Println("read:", <-c) }
 *     func write(c chan<- int) { c <- 0 }
 *     func main() {
 *         c := make(chan int)
 *         go read(c)
 *         write(c)
 *     }
 *
 * C has no one-way channel types: the direction is the function's promise
 * (a comment), as in Go's `<-chan`, not checked. The periods here are
 * shorter (BROADCAST_TICK_MS, default 100 ms, instead of a second; the
 * close after 3.5 ticks): every goroutine says hello a few times, then
 * each prints "stop..." once, and main has all ten done signals. The
 * future's reader may print after write returns, so main waits for it
 * (Go's version may exit first and print nothing).
 */
#include <stdio.h>
#include <stdlib.h>

#include <goc.h>

enum { RUNNERS = 10 };

static int64_t tick;

/* stop: receive only; done: send only. */
static void run(goc_chan *stop, goc_chan *done)
{
    for (;;) {
        goc_chan *after = goc_after(tick);
        goc_select_case cases[] = {GOC_RECV_CASE(stop, NULL), GOC_RECV_CASE(after, NULL)};
        int i = goc_select(cases, 2, false);
        goc_chan_release(after);
        if (i == 0) {
            printf("stop...\n");
            goc_chan_send(done, &(char){0});
            return;
        }
        printf("hello\n");
    }
}

struct channels {
    goc_chan *stop, *done; /* references: each runner holds its own */
};

static void run_go(void *arg)
{
    struct channels *c = arg;
    run(c->stop, c->done);
    goc_chan_release(c->stop);
    goc_chan_release(c->done);
}

/* c: receive only. */
static void read_c(goc_chan *c)
{
    int v;
    goc_chan_recv(c, &v);
    printf("read: %d\n", v);
}

/* c: send only. */
static void write_c(goc_chan *c) { GOC_CHAN_SEND(c, int, 0); }

static goc_waitgroup reader = GOC_WAITGROUP_INIT;

static void read_go(void *c)
{
    read_c(c);
    goc_waitgroup_done(&reader);
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    const char *env = getenv("BROADCAST_TICK_MS");
    tick = (env ? atoll(env) : 100) * GOC_MILLISECOND;
    if (tick <= 0)
        tick = 100 * GOC_MILLISECOND;

    printf("-- close(stop) stops ten goroutines at once\n");
    goc_chan *stop = goc_chan_make(0, 0), *done = goc_chan_make(0, RUNNERS);
    static struct channels runners[RUNNERS];
    for (int i = 0; i < RUNNERS; i++) {
        runners[i] = (struct channels){goc_chan_retain(stop), goc_chan_retain(done)};
        goc_go(run_go, &runners[i]);
    }
    goc_sleep(tick * 7 / 2);
    goc_chan_close(stop);
    for (int i = 0; i < RUNNERS; i++)
        goc_chan_recv(done, NULL);
    printf("all %d done\n", RUNNERS);
    goc_chan_release(stop);
    goc_chan_release(done);

    printf("-- a future over one-way channels\n");
    goc_chan *fut = goc_chan_make(sizeof(int), 0);
    goc_waitgroup_add(&reader, 1);
    goc_go(read_go, fut);
    write_c(fut);
    goc_waitgroup_wait(&reader);
    goc_chan_release(fut);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
