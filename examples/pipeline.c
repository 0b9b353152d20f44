/* pipeline.c: a pipeline of goroutines joined by channels, counter -> squarer -> printer (seed 002, 1.5.4).
 *
 *     func counter(out chan<- int) {
 *         for x := 0; x < 100; x++ {
 *             out <- x
 *         }
 *         close(out)
 *     }
 *     func squarer(out chan<- int, in <-chan int) {
 *         for v := range in {
 *             out <- v * v
 *         }
 *         close(out)
 *     }
 *     func printer(in <-chan int) {
 *         for v := range in {
 *             fmt.Println(v)
 *         }
 *     }
 *     func main() {
 *         naturals := make(chan int)
 *         squares := make(chan int)
 *         go counter(naturals)
 *         go squarer(squares, naturals)
 *         printer(squares)
 *     }
 *
 * Prints 0, 1, 4, 9, ... 9801, in order. Both channels are unbuffered: each
 * value is handed straight from one goroutine to the next. main owns both
 * channels (one reference each) and outlives every use, so the goroutines
 * need no references of their own.
 */
#include <stdio.h>

#include <goc.h>

struct stage {
    goc_chan *out, *in;
};

static void counter(void *arg)
{
    goc_chan *out = arg;
    for (int x = 0; x < 100; x++)
        goc_chan_send(out, &x);
    goc_chan_close(out);
}

static void squarer(void *arg)
{
    struct stage *s = arg;
    int v;
    while (goc_chan_recv(s->in, &v))
        GOC_CHAN_SEND(s->out, int, v * v);
    goc_chan_close(s->out);
}

static void printer(goc_chan *in)
{
    GOC_CHAN_RANGE(in, int, v)
        printf("%d\n", v);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    goc_chan *naturals = goc_chan_make(sizeof(int), 0);
    goc_chan *squares = goc_chan_make(sizeof(int), 0);
    struct stage sq = {.out = squares, .in = naturals};
    goc_go(counter, naturals);
    goc_go(squarer, &sq);
    printer(squares);
    goc_chan_release(naturals);
    goc_chan_release(squares);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
