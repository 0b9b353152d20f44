/* goexit.c: runtime.Goexit ends a goroutine after running its deferred
 * calls (seed 002, 1.2.2).
 *
 *     func main() {
 *         var wait sync.WaitGroup
 *         wait.Add(1)
 *         go func() {
 *             defer func() {
 *                 fmt.Println("A.defer")
 *                 wait.Done()
 *             }()
 *             func() {
 *                 defer fmt.Println("B.defer")
 *                 runtime.Goexit()
 *                 defer fmt.Println("C.defer")
 *                 fmt.Println("B")
 *             }()
 *             fmt.Println("A")
 *         }()
 *         wait.Wait()
 *     }
 *
 * Output, exactly:
 *     B.defer
 *     A.defer
 *
 * One difference from Go: goc_defer() defers to the end of the goroutine,
 * not of the C function that calls it (C has no hook on a function's
 * return). Here that is the same thing, since goc_exit() ends the goroutine.
 */
#include <stdio.h>

#include <goc.h>

static void println(void *s)
{
    printf("%s\n", (const char *)s);
}

static void a_defer(void *arg)
{
    goc_waitgroup *wait = arg;
    printf("A.defer\n");
    goc_waitgroup_done(wait);
}

static void inner(void)
{
    goc_defer(println, "B.defer");
    goc_exit(); /* runs B.defer, then A.defer, and ends the goroutine */
    goc_defer(println, "C.defer"); /* never reached */
    printf("B\n");
}

static void outer(void *wait)
{
    goc_defer(a_defer, wait);
    inner();
    printf("A\n"); /* never reached */
}

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    goc_waitgroup wait = GOC_WAITGROUP_INIT;
    goc_waitgroup_add(&wait, 1);
    goc_go(outer, &wait);
    goc_waitgroup_wait(&wait);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
