/* countdown.h: what the countdown examples share (seed 002, 1.8): the
 * tick from the command line, the launch, and the abort channel fed from
 * standard input.
 *
 * The tick. Go's programs count down one second a tick; these take the
 * tick as their first argument, as Go writes durations ("1s", "250ms",
 * "5ms"), and default to 100 ms so that `make demo` stays short. Pass 1s
 * for Go's pace.
 *
 * The abort channel. Go's programs start a goroutine that reads one byte
 * from standard input and then sends on abort:
 *
 *     abort := make(chan struct{})
 *     go func() {
 *         os.Stdin.Read(make([]byte, 1)) // read a single byte
 *         abort <- struct{}{}
 *     }()
 *
 * Reading a terminal blocks, so here a plain thread does it (it blocks as
 * a whole; goc's workers go on running goroutines), and sends on the
 * channel, which works from any thread. One difference: Go's goroutine
 * ignores the read's result and aborts at end of input too; this thread
 * aborts only when a byte arrives, so with standard input at end of file
 * (< /dev/null, as `make demo` runs) the countdown runs to the launch. The
 * channel has room for the one value, so the thread never waits on it.
 *
 * Lifetime: the abort channel lives until the process exits (the thread
 * may still be reading when main returns, as Go's goroutine may).
 */
#ifndef COUNTDOWN_H
#define COUNTDOWN_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goc.h>

/* Parses a Go duration with one unit: "100ms", "1s", "5ms", "250us",
 * "1.5s". Returns -1 if it cannot. */
static inline int64_t parse_duration(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {{"ns", GOC_NANOSECOND}, {"us", GOC_MICROSECOND}, {"ms", GOC_MILLISECOND},
                 {"s", GOC_SECOND},      {"m", GOC_MINUTE}};
    if (end == s || v < 0)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(end, units[i].unit))
            return (int64_t)(v * (double)units[i].ns);
    return -1;
}

/* The tick: argv[1] if given, else 100 ms. Exits with a usage line on a bad
 * argument. */
static inline int64_t countdown_tick(int argc, char **argv)
{
    if (argc < 2)
        return 100 * GOC_MILLISECOND;
    int64_t d = parse_duration(argv[1]);
    if (d <= 0) {
        fprintf(stderr, "usage: %s [tick, e.g. 1s or 100ms; default 100ms]\n", argv[0]);
        exit(2);
    }
    return d;
}

static inline void launch(void) { printf("Lift off!\n"); }

static inline void *read_one_byte(void *arg)
{
    goc_chan *abort = arg;
    char b;
    ssize_t n;
    while ((n = read(0, &b, 1)) < 0 && errno == EINTR)
        ;
    if (n == 1)
        goc_chan_send(abort, &(char){0}); /* abort <- struct{}{} */
    return NULL;
}

/* The abort channel (element size 0: chan struct{}), fed by a plain thread
 * that reads standard input. Kept in a global: it lives until the process
 * exits, and so tools like LeakSanitizer see it held. */
static goc_chan *abort_ch;

static inline goc_chan *abort_on_input(void)
{
    abort_ch = goc_chan_make(0, 1);
    pthread_t th;
    if (!abort_ch || pthread_create(&th, NULL, read_one_byte, abort_ch) != 0) {
        perror("abort_on_input");
        exit(1);
    }
    pthread_detach(th);
    return abort_ch;
}

#endif
