/* bench.h: what every C benchmark program shares. Each prints one number
 * for the benchmark named by argv[1] (bench/run.sh reads it). */
#ifndef GOC_BENCH_H
#define GOC_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The program's name, for messages: each benchmark defines BENCH_NAME. */
static inline _Noreturn void die(const char *what)
{
    fprintf(stderr, "%s: %s\n", BENCH_NAME, what);
    exit(1);
}

#endif
