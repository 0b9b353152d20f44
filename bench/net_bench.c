/* net_bench.c: TCP echo over loopback (Go twin: bench/go/net_bench.go).
 *
 * Usage: net_bench echo_rps | echo_p99
 * Prints exactly one number on stdout (diagnostics go to stderr).
 *
 * One process: a goroutine-per-connection echo server (read what came,
 * write it back) and CLIENTS client goroutines, each making ROUNDS round
 * trips of MSG bytes (write, then read the MSG bytes back), timing each.
 * The clock starts once every client has connected. Both figures also go
 * to stderr as "bench-also:" lines, so bench/run.sh runs it once for both
 * rows.
 *
 *   echo_rps   round trips per second, all clients together
 *   echo_p99   the 99th percentile round trip, in microseconds
 *
 * Workers: GOC_MAXPROCS from the environment, as usual.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

#define BENCH_NAME "net_bench"
#include "bench.h"

#define CLIENTS 100
#define ROUNDS 10000
#define MSG 64

static goc_listener *lis;
static char addr[GOC_ADDRSTRLEN];
static goc_waitgroup connected = GOC_WAITGROUP_INIT, done = GOC_WAITGROUP_INIT;
static goc_chan *start;
static float *lat; /* CLIENTS * ROUNDS round trips, ns */

static void serve(void *arg)
{
    goc_conn *c = arg;
    char buf[4096];
    ssize_t n;
    while ((n = goc_conn_read(c, buf, sizeof buf)) > 0)
        if (goc_conn_write(c, buf, (size_t)n) != n)
            break;
    goc_conn_close(c);
}

static void accept_loop(void *arg)
{
    (void)arg;
    for (;;) {
        goc_conn *c;
        if (goc_accept(lis, &c) != 0)
            return;
        goc_go(serve, c);
    }
}

static void client(void *arg)
{
    long id = (long)arg;
    goc_conn *c;
    if (goc_dial("tcp", addr, &c) != 0)
        die("dial");
    goc_waitgroup_done(&connected);
    int x;
    goc_chan_recv(start, &x);
    char out[MSG], in[MSG];
    memset(out, 'a' + (int)(id % 26), sizeof out);
    float *l = lat + id * ROUNDS;
    for (int i = 0; i < ROUNDS; i++) {
        double t0 = now_ns();
        if (goc_conn_write(c, out, MSG) != MSG || goc_conn_read_full(c, in, MSG) != MSG)
            die("echo");
        l[i] = (float)(now_ns() - t0);
    }
    if (memcmp(in, out, MSG) != 0)
        die("echo: wrong bytes");
    goc_conn_close(c);
    goc_waitgroup_done(&done);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

static const char *const usage = "usage: net_bench echo_rps|echo_p99";

static int bench_main(int argc, char **argv)
{
    const char *b = bench_arg(argc, argv, usage);
    if (strcmp(b, "echo_rps") && strcmp(b, "echo_p99"))
        bench_unknown(b, usage);
    if (goc_listen("tcp", "127.0.0.1:0", &lis) != 0 ||
        goc_listener_addr(lis, addr, sizeof addr) < 0)
        die("listen");
    if (!(lat = malloc(sizeof *lat * CLIENTS * ROUNDS)) || !(start = goc_chan_make(sizeof(int), 0)))
        die("out of memory");
    goc_go(accept_loop, NULL);
    goc_waitgroup_add(&connected, CLIENTS);
    goc_waitgroup_add(&done, CLIENTS);
    for (long i = 0; i < CLIENTS; i++)
        goc_go(client, (void *)i);
    goc_waitgroup_wait(&connected);
    double t0 = now_ns();
    goc_chan_close(start);
    goc_waitgroup_wait(&done);
    double el = now_ns() - t0;
    qsort(lat, (size_t)CLIENTS * ROUNDS, sizeof *lat, cmp_float);
    double rps = (double)CLIENTS * ROUNDS / (el / 1e9);
    double p99 = lat[(size_t)((double)CLIENTS * ROUNDS * 0.99)] / 1e3;
    fprintf(stderr, "net_bench: %.0f req/s, p50 %.1f us, p99 %.1f us\n", rps,
            lat[CLIENTS * ROUNDS / 2] / 1e3, p99);
    /* One run gives both rows (bench/run.sh's bench-also). */
    fprintf(stderr, "bench-also: echo_rps %.1f\nbench-also: echo_p99 %.1f\n", rps, p99);
    printf("%.1f\n", strcmp(b, "echo_rps") == 0 ? rps : p99);
    return 0;
}

int main(int argc, char **argv) { return goc_main(bench_main, argc, argv); }
