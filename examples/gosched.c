/* gosched.c: runtime.Gosched lets the other goroutines run (seed 002, 1.2.1).
 *
 *     func main() {
 *         go func(s string) {
 *             for i := 0; i < 2; i++ {
 *                 fmt.Println(s)
 *             }
 *         }("world")
 *         for i := 0; i < 2; i++ {
 *             runtime.Gosched()
 *             fmt.Println("hello")
 *         }
 *     }
 *
 * Each goc_yield() lets the "world" goroutine run before the next "hello".
 * As in Go, nothing waits for that goroutine: once main returns the program
 * ends, and with several workers its lines may come earlier or not at all.
 * Typical output: world, world, hello, hello.
 */
#include <stdio.h>

#include <goc.h>

static void say(void *arg)
{
    const char *s = arg;
    for (int i = 0; i < 2; i++)
        printf("%s\n", s);
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    goc_go(say, "world");
    for (int i = 0; i < 2; i++) {
        goc_yield();
        printf("hello\n");
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
