/* signal_test.c: os/signal: SIGINT and SIGTERM delivered to a channel in a
 * child process, Stop restoring the default action, a full channel that
 * drops instead of blocking, and misuse answered with -EINVAL. */
#include <pthread.h>
#include <signal.h>

#include "internal.h"
#include "test.h"

static int sc_notify(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *ch = goc_chan_make(sizeof(int), 1);
    int sigs[] = {SIGINT, SIGTERM};
    if (goc_signal_notify(ch, 2, sigs) != 0)
        return 3;
    int s = 0;
    raise(SIGINT);
    if (!goc_chan_recv(ch, &s))
        return 4;
    printf("got %d\n", s);
    raise(SIGTERM);
    if (!goc_chan_recv(ch, &s))
        return 5;
    printf("got %d\n", s);
    /* A full channel drops: the relay never blocks. */
    raise(SIGINT);
    raise(SIGINT);
    raise(SIGINT);
    if (!goc_chan_recv(ch, &s))
        return 6;
    printf("got %d again\n", s);
    fflush(stdout);
    goc_signal_stop(ch);
    goc_chan_release(ch);
    raise(SIGTERM); /* default action again: the process ends here */
    for (int i = 0; i < 100; i++) {
        sigset_t none;
        sigemptyset(&none);
        sigsuspend(&none);
    }
    printf("still alive\n");
    return 0;
}

static void *send_sigterm(void *arg)
{
    (void)arg;
    kill(getpid(), SIGTERM); /* process-directed: any thread may take it */
    return NULL;
}

/* A signal from outside the process, while every thread sleeps in the
 * runtime (the main thread in goc_main's wait): it must still arrive.
 * (Under TSan, a thread asleep in a raw system call would hold it back.)
 * The select's 30 s case only bounds a failure. */
static int sc_external(int argc, char **argv)
{
    (void)argc, (void)argv;
    goc_chan *ch = goc_chan_make(sizeof(int), 1);
    int sigs[] = {SIGTERM};
    if (goc_signal_notify(ch, 1, sigs) != 0)
        return 3;
    pthread_t th;
    pthread_create(&th, NULL, send_sigterm, NULL);
    goc_chan *late = goc_after(30 * GOC_SECOND);
    int s = 0;
    int64_t when;
    goc_select_case cases[] = {
        {.ch = ch, .dir = GOC_SELECT_RECV, .elem = &s},
        {.ch = late, .dir = GOC_SELECT_RECV, .elem = &when},
    };
    int k = goc_select(cases, 2, false);
    pthread_join(th, NULL);
    goc_signal_stop(ch);
    goc_chan_release(ch);
    goc_chan_release(late);
    if (k != 0)
        return 4;
    printf("got %d\n", s);
    return 0;
}

TEST(signal_from_outside)
{
    static char out[4096];
    int st = run_child("external", NULL, out, sizeof out);
    CHECK(st == 0);
    CHECK(strstr(out, "got 15\n") != NULL);
    if (st != 0)
        fprintf(stderr, "status %d, output:\n%s\n", st, out);
}

TEST(sigint_sigterm_to_channel)
{
    static char out[4096];
    int st = run_child("notify", NULL, out, sizeof out);
    CHECK(strstr(out, "got 2\n") != NULL);
    CHECK(strstr(out, "got 15\n") != NULL);
    CHECK(strstr(out, "got 2 again\n") != NULL);
    CHECK(strstr(out, "still alive") == NULL);
    CHECK(st == 128 + SIGTERM);
    if (st != 128 + SIGTERM)
        fprintf(stderr, "status %d, output:\n%s\n", st, out);
}

TEST(misuse)
{
    int sigs[] = {SIGUSR1};
    int bad[] = {SIGKILL};
    goc_chan *wrong = goc_chan_make(sizeof(long long), 1);
    goc_chan *ok = goc_chan_make(sizeof(int), 1);
    CHECK(goc_signal_notify(NULL, 1, sigs) == -EINVAL);
    CHECK(goc_signal_notify(wrong, 1, sigs) == -EINVAL);
    CHECK(goc_signal_notify(ok, 1, bad) == -EINVAL);
    goc_signal_stop(ok); /* never registered: nothing happens */
    goc_chan_release(wrong);
    goc_chan_release(ok);
}

static int run_all(int argc, char **argv)
{
    (void)argc, (void)argv;
    RUN(sigint_sigterm_to_channel);
    RUN(misuse);
    RUN(signal_from_outside);
    return test_summary();
}

int main(int argc, char **argv)
{
    static const struct test_scenario scenarios[] = {
        {"notify", sc_notify},
        {"external", sc_external},
    };
    return test_main(argc, argv, scenarios, sizeof scenarios / sizeof *scenarios, run_all);
}
