/* hello_mutex.c: a mutex locked in one goroutine and unlocked in another (seed 004).
 *
 *     // mu is locked and unlocked in different goroutines, so this can
 *     // go wrong: main's Unlock may run first
 *     func main() {
 *         var mu sync.Mutex
 *         go func() {
 *             fmt.Println("你好, 世界")
 *             mu.Lock()
 *         }()
 *         mu.Unlock()
 *     }
 *
 * Usage: hello_mutex [fixed|channel]
 *   (none)   the seed's program: main unlocks the mutex before anyone has
 *            locked it, and the program dies as Go's does, "fatal error:
 *            sync: unlock of unlocked mutex" with the goroutines' dump, exit
 *            status 2 (the goroutine has not even printed yet)
 *   fixed    main locks first; the goroutine prints, then unlocks; main's
 *            second Lock waits for that unlock, so the greeting is printed
 *            before main returns. A Go mutex may be unlocked by another
 *            goroutine than the one that locked it, and goc's too
 *   channel  the same wait with a done channel: the goroutine's send
 *            happens before main's receive completes
 */
#include <stdio.h>
#include <string.h>

#include <goc.h>

static goc_mutex mu = GOC_MUTEX_INIT;
static goc_chan *done;

static void greet_then_lock(void *arg)
{
    (void)arg;
    printf("你好, 世界\n");
    goc_mutex_lock(&mu);
}

static void greet_then_unlock(void *arg)
{
    (void)arg;
    printf("你好, 世界\n");
    goc_mutex_unlock(&mu);
}

static void greet_then_send(void *arg)
{
    (void)arg;
    printf("你好, 世界\n");
    goc_chan_send(done, NULL);
}

static int real_main(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : "";
    if (strcmp(v, "") == 0) {
        goc_go(greet_then_lock, NULL);
        goc_mutex_unlock(&mu); /* fatal: nobody holds it yet */
    } else if (strcmp(v, "fixed") == 0) {
        goc_mutex_lock(&mu);
        goc_go(greet_then_unlock, NULL);
        goc_mutex_lock(&mu); /* waits for the goroutine's unlock */
    } else if (strcmp(v, "channel") == 0) {
        done = goc_chan_make(0, 0);
        goc_go(greet_then_send, NULL);
        goc_chan_recv(done, NULL);
        goc_chan_release(done);
    } else {
        fprintf(stderr, "usage: hello_mutex [fixed|channel]\n");
        return 2;
    }
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
