/* races/shared_err.c: seed 001, case 3: a variable shared by accident.
 * ParallelWrite's goroutine assigns the function's own err while the
 * function goes on assigning it:
 *
 *     f1, err := os.Create("/tmp/file1")
 *     ...
 *         go func() {
 *             _, err = f1.Write(data) // this err is the function's
 *             res <- err
 *         }()
 *     f2, err := os.Create("/tmp/file2") // the second conflicting write
 *
 * Usage: shared_err racy|local
 *   racy   the goroutines write the function's err: the race detector
 *          reports it, exit 66
 *   local  each goroutine has its own err (Go: _, err := f1.Write(data)),
 *          and the results travel on the channel
 * The files are /dev/null: nothing is left behind. Prints "2 writes, 0 errors".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <goc.h>

struct writer {
    int fd;
    const char *data;
    int *err;        /* racy: the function's err */
    goc_chan *res;   /* chan error (an int here) */
};

static int write_all(int fd, const char *data)
{
    size_t n = strlen(data);
    return write(fd, data, n) == (ssize_t)n ? 0 : errno;
}

static void write_shared(void *arg)
{
    struct writer *w = arg;
    *w->err = write_all(w->fd, w->data); /* the shared err */
    goc_chan_send(w->res, w->err);
    close(w->fd);
}

static void write_local(void *arg)
{
    struct writer *w = arg;
    int err = write_all(w->fd, w->data); /* err := ... */
    goc_chan_send(w->res, &err);
    close(w->fd);
}

static struct writer ws[2];

/* Returns the result channel, as Go's does. */
static goc_chan *parallel_write(const char *data, bool racy)
{
    goc_chan *res = goc_chan_make(sizeof(int), 2);
    int err;
    int fd1 = open("/dev/null", O_WRONLY);
    err = fd1 < 0 ? errno : 0;
    if (err) {
        goc_chan_send(res, &err);
    } else {
        ws[0] = (struct writer){fd1, data, &err, res};
        goc_go(racy ? write_shared : write_local, &ws[0]);
    }
    int fd2 = open("/dev/null", O_WRONLY);
    err = fd2 < 0 ? errno : 0; /* the second conflicting write */
    if (err) {
        goc_chan_send(res, &err);
    } else {
        ws[1] = (struct writer){fd2, data, &err, res};
        goc_go(racy ? write_shared : write_local, &ws[1]);
    }
    /* Go's err escapes to the heap; here the frame must outlive the
     * goroutines: wait for both results before returning it. */
    int results[2];
    for (int i = 0; i < 2; i++)
        goc_chan_recv(res, &results[i]);
    for (int i = 0; i < 2; i++)
        goc_chan_send(res, &results[i]);
    return res;
}

static int real_main(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : "";
    bool racy = strcmp(v, "racy") == 0;
    if (!racy && strcmp(v, "local") != 0) {
        fprintf(stderr, "usage: shared_err racy|local\n");
        return 2;
    }
    goc_chan *res = parallel_write("xxx", racy);
    int errors = 0, e;
    for (int i = 0; i < 2; i++) {
        goc_chan_recv(res, &e);
        errors += e != 0;
    }
    printf("2 writes, %d errors\n", errors);
    goc_chan_release(res);
    return 0;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
