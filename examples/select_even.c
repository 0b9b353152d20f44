/* select_even.c: select over a channel of capacity 1 prints 0 2 4 6 8 (seed 002, 1.8.2).
 *
 *     ch := make(chan int, 1)
 *     for i := 0; i < 10; i++ {
 *         select {
 *         case x := <-ch:
 *             fmt.Println(x) // "0" "2" "4" "6" "8"
 *         case ch <- i:
 *         }
 *     }
 *
 * The buffer alternates between empty and full, so exactly one case is
 * ready each time round: the send when i is even, the receive when odd.
 */
#include <stdio.h>

#include <goc.h>

static int real_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    goc_chan *ch = goc_chan_make(sizeof(int), 1);
    for (int i = 0; i < 10; i++) {
        int x;
        goc_select_case cases[] = {
            GOC_RECV_CASE(ch, &x),
            GOC_SEND_CASE(ch, &i),
        };
        if (goc_select(cases, 2, false) == 0)
            printf("%d\n", x);
    }
    goc_chan_release(ch);
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
