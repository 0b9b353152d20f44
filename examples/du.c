/* du.c: disk usage of directory trees: a parallel walk limited by a counting semaphore, progress ticks, cancellation by closing a channel (seed 002, 1.9-1.10).
 *
 * Go's du4, the last of the seed's versions, with what each earlier one
 * added:
 *
 *   du1  a goroutine walks the trees and sends each file's size on
 *        fileSizes, closing it at the end; main sums what it receives.
 *   du2  -v: a time.Tick(500 * time.Millisecond) case prints the totals so
 *        far; without -v the tick channel stays nil, a case never ready.
 *   du3  a goroutine per directory (walkDir), counted by a WaitGroup whose
 *        Wait, in a goroutine of its own, closes fileSizes; at most 20
 *        directories are read at once, through a buffered channel used as
 *        a counting semaphore:
 *            var sema = make(chan struct{}, 20)
 *            sema <- struct{}{}        // acquire token
 *            defer func() { <-sema }() // release token
 *   du4  cancellation: a byte on standard input closes done, a broadcast
 *        to every goroutine. walkDir returns at once once cancelled(),
 *        dirents' acquire gives up when done is closed,
 *            select {
 *            case sema <- struct{}{}: // acquire token
 *            case <-done:
 *                return nil // cancelled
 *            }
 *        and main, on <-done, drains fileSizes so that every walker
 *        finishes, and returns without a total.
 *
 * Usage: du [-v] [dir...] (default "."). Prints "N files  X.Y GB", as the
 * seed does. Standard input is read by a plain thread (a blocking read must
 * not hold a worker); at end of input nothing is cancelled. Files are
 * lstat'ed, not followed, as ioutil.ReadDir does.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <goc.h>

static goc_chan *done; /* chan struct{}: closed to cancel */
static goc_chan *sema; /* chan struct{}, cap 20: a counting semaphore */
static goc_chan *fileSizes; /* chan int64 */
static goc_waitgroup n = GOC_WAITGROUP_INIT; /* walkDir calls still running */

static bool cancelled(void)
{
    goc_select_case cases[] = {GOC_RECV_CASE(done, NULL)};
    return goc_select(cases, 1, true) == 0; /* case <-done: true; default: false */
}

/* ---- dirents ---- */

struct entry {
    char *name;
    bool is_dir;
    int64_t size;
};

static void free_entries(struct entry *e, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(e[i].name);
    free(e);
}

/* The entries of directory dir (NULL and *count 0 on error or when
 * cancelled). At most cap(sema) calls read directories at once. */
static struct entry *dirents(const char *dir, size_t *count)
{
    *count = 0;
    goc_select_case acquire[] = {
        GOC_SEND_CASE(sema, &(char){0}), /* case sema <- struct{}{}: acquire token */
        GOC_RECV_CASE(done, NULL),       /* case <-done: */
    };
    if (goc_select(acquire, 2, false) == 1)
        return NULL; /* cancelled */

    struct entry *e = NULL;
    size_t cap = 0;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "du: open %s: %s\n", dir, strerror(errno));
    } else {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            struct stat st;
            if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
                fprintf(stderr, "du: lstat %s/%s: %s\n", dir, de->d_name, strerror(errno));
                continue;
            }
            if (*count == cap) {
                cap = cap ? 2 * cap : 16;
                struct entry *ne = realloc(e, cap * sizeof *e);
                if (!ne) {
                    perror("du");
                    exit(1);
                }
                e = ne;
            }
            e[*count] = (struct entry){strdup(de->d_name), S_ISDIR(st.st_mode), st.st_size};
            if (!e[*count].name) {
                perror("du");
                exit(1);
            }
            (*count)++;
        }
        closedir(d);
    }
    goc_chan_recv(sema, NULL); /* release token */
    return e;
}

/* ---- walkDir ---- */

static void n_done(void *arg) { goc_waitgroup_done(arg); }

/* go walkDir(dir, &n, fileSizes): recursively walks the file tree rooted at
 * dir (which it owns and frees) and sends the size of each file found on
 * fileSizes. */
static void walkDir(void *arg)
{
    char *dir = arg;
    goc_defer(n_done, &n); /* defer n.Done() */
    goc_defer(free, dir);
    if (cancelled())
        return;
    size_t count;
    struct entry *e = dirents(dir, &count);
    for (size_t i = 0; i < count; i++) {
        if (e[i].is_dir) {
            goc_waitgroup_add(&n, 1);
            char *subdir;
            if (asprintf(&subdir, "%s/%s", dir, e[i].name) < 0) {
                perror("du");
                exit(1);
            }
            goc_go(walkDir, subdir);
        } else {
            goc_chan_send(fileSizes, &e[i].size);
        }
    }
    free_entries(e, count);
}

static void closer(void *arg)
{
    (void)arg;
    goc_waitgroup_wait(&n);
    goc_chan_close(fileSizes);
}

/* ---- Cancellation from standard input ---- */

static void *read_then_cancel(void *arg)
{
    (void)arg;
    char b;
    ssize_t r;
    while ((r = read(0, &b, 1)) < 0 && errno == EINTR)
        ;
    if (r == 1)
        goc_chan_close(done); /* cancel traversal when input is detected */
    return NULL;
}

static void printDiskUsage(int64_t nfiles, int64_t nbytes)
{
    printf("%lld files  %.1f GB\n", (long long)nfiles, (double)nbytes / 1e9);
}

static int real_main(int argc, char **argv)
{
    bool verbose = false;
    int opt;
    while ((opt = getopt(argc, argv, "v")) != -1) {
        if (opt != 'v') {
            fprintf(stderr, "usage: du [-v] [dir...]\n");
            return 2;
        }
        verbose = true; /* show verbose progress messages */
    }
    char *dot[] = {".", NULL};
    char **roots = optind < argc ? argv + optind : dot;

    done = goc_chan_make(0, 0);
    sema = goc_chan_make(0, 20);
    fileSizes = goc_chan_make(sizeof(int64_t), 0);
    pthread_t th;
    if (!done || !sema || !fileSizes || pthread_create(&th, NULL, read_then_cancel, NULL) != 0) {
        perror("du");
        return 1;
    }
    pthread_detach(th); /* may still be reading when main returns */

    /* Traverse each root of the file tree in parallel. */
    for (char **r = roots; *r; r++) {
        char *root = strdup(*r);
        if (!root) {
            perror("du");
            return 1;
        }
        goc_waitgroup_add(&n, 1);
        goc_go(walkDir, root);
    }
    goc_go(closer, NULL);

    /* Print the results periodically. */
    goc_chan *tick = verbose ? goc_tick(500 * GOC_MILLISECOND) : NULL;
    int64_t nfiles = 0, nbytes = 0, size;
    for (;;) {
        goc_select_case cases[] = {
            GOC_RECV_CASE(done, NULL),
            GOC_RECV_CASE(fileSizes, &size),
            GOC_RECV_CASE(tick, NULL),
        };
        int k = goc_select(cases, 3, false);
        if (k == 0) {
            /* Drain fileSizes to allow existing goroutines to finish. */
            while (goc_chan_recv(fileSizes, NULL))
                ;
            return 0;
        }
        if (k == 1) {
            if (!cases[1].ok)
                break; /* fileSizes was closed */
            nfiles++;
            nbytes += size;
        } else {
            printDiskUsage(nfiles, nbytes);
        }
    }
    printDiskUsage(nfiles, nbytes); /* final totals */
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
