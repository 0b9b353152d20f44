/* thumbnail.c: a parallel loop that returns its first error and leaks goroutines (unbuffered channel), the same without the leak (buffered channel), and one of unknown length (WaitGroup + closer) (seed 002, 1.6).
 *
 * makeThumbnails4 returns on the first error and leaves the other workers
 * blocked for ever on their unbuffered send (a goroutine leak):
 *
 *     func makeThumbnails4(filenames []string) error {
 *         errors := make(chan error)
 *         for _, f := range filenames {
 *             go func(f string) {
 *                 _, err := thumbnail.ImageFile(f)
 *                 errors <- err
 *             }(f)
 *         }
 *         for range filenames {
 *             if err := <-errors; err != nil {
 *                 return err // NOTE: incorrect: goroutine leak!
 *             }
 *         }
 *         return nil
 *     }
 *
 * The demo shows them: once makeThumbnails4 has returned, every worker
 * whose result it did not receive stays blocked, and the program counts
 * them (how many depends on the order the workers finish in). The fix,
 * makeThumbnails5: a channel with room for every result, so each worker
 * can send and end even when nobody receives any more:
 *
 *     func makeThumbnails5(filenames []string) (thumbfiles []string, err error) {
 *         type item struct {
 *             thumbfile string
 *             err       error
 *         }
 *         ch := make(chan item, len(filenames))
 *         for _, f := range filenames {
 *             go func(f string) {
 *                 var it item
 *                 it.thumbfile, it.err = thumbnail.ImageFile(f)
 *                 ch <- it
 *             }(f)
 *         }
 *         for range filenames {
 *             it := <-ch
 *             if it.err != nil {
 *                 return nil, it.err
 *             }
 *             thumbfiles = append(thumbfiles, it.thumbfile)
 *         }
 *         return thumbfiles, nil
 *     }
 *
 * makeThumbnails6 takes its file names from a channel, so it cannot count
 * them: a WaitGroup counts the workers, and a closer goroutine closes the
 * sizes channel once they are all done, ending main's range loop.
 *
 * ImageFile stands in for gopl.io/ch8/thumbnail's: it takes a few
 * milliseconds, returns "NAME.thumb.jpg" for "NAME.jpg", and fails for a
 * name that is not a .jpg. After each call the program waits until only
 * goroutine 1 is left and says so: with an unbuffered channel, the error
 * case would leave workers blocked and never get there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <goc.h>

/* ---- the stand-in for thumbnail.ImageFile ---- */

struct item {
    char thumbfile[64];
    const char *err; /* NULL: no error */
};

/* Fills it for infile; it.err set on failure. Parks a few milliseconds. */
static void ImageFile(const char *infile, struct item *it)
{
    size_t len = strlen(infile);
    goc_sleep((int64_t)(1 + len % 3) * GOC_MILLISECOND); /* the work */
    memset(it, 0, sizeof *it);
    if (len < 4 || strcmp(infile + len - 4, ".jpg") || len + 6 >= sizeof it->thumbfile) {
        it->err = "unknown image format";
        snprintf(it->thumbfile, sizeof it->thumbfile, "%s", infile);
        return;
    }
    snprintf(it->thumbfile, sizeof it->thumbfile, "%.*s.thumb.jpg", (int)(len - 4), infile);
}

/* ---- makeThumbnails4 ---- */

struct job4 {
    const char *f;
    goc_chan *errors; /* chan error, unbuffered: a reference */
};

static void worker4(void *arg)
{
    struct job4 *j = arg;
    struct item it;
    ImageFile(j->f, &it);
    goc_chan_send(j->errors, &it.err); /* blocks for ever once nobody receives */
    goc_chan_release(j->errors);
    free(j);
}

/* Returns the first error, or NULL. *received (for the demo, not in the
 * seed): how many results it took before it returned. */
static const char *makeThumbnails4(const char **filenames, int n, int *received)
{
    goc_chan *errors = goc_chan_make(sizeof(const char *), 0);
    if (!errors)
        abort();
    for (int i = 0; i < n; i++) {
        struct job4 *j = malloc(sizeof *j);
        if (!j)
            abort();
        *j = (struct job4){filenames[i], goc_chan_retain(errors)};
        goc_go(worker4, j);
    }
    *received = 0;
    for (int i = 0; i < n; i++) {
        const char *err;
        goc_chan_recv(errors, &err);
        ++*received;
        if (err) {
            goc_chan_release(errors); /* the blocked workers hold theirs */
            return err;               /* NOTE: incorrect: goroutine leak! */
        }
    }
    goc_chan_release(errors);
    return NULL;
}

/* ---- makeThumbnails5 ---- */

struct job {
    const char *f;
    goc_chan *ch; /* chan item, buffered: len(filenames) */
};

static void worker5(void *arg)
{
    struct job *j = arg;
    struct item it;
    ImageFile(j->f, &it);
    goc_chan_send(j->ch, &it); /* never blocks: there is room for every item */
    goc_chan_release(j->ch);   /* the worker's own reference */
    free(j);
}

/* Returns the number of thumbnails written to thumbfiles, or -1 with *err
 * set (and *errfile the file) on the first failure. */
static int makeThumbnails5(const char **filenames, int n, char (*thumbfiles)[64], const char **err,
                           char *errfile)
{
    goc_chan *ch = goc_chan_make(sizeof(struct item), (size_t)n);
    if (!ch)
        return -1;
    for (int i = 0; i < n; i++) {
        struct job *j = malloc(sizeof *j);
        if (!j)
            abort();
        *j = (struct job){filenames[i], goc_chan_retain(ch)};
        goc_go(worker5, j);
    }
    int got = 0;
    for (int i = 0; i < n; i++) {
        struct item it;
        goc_chan_recv(ch, &it);
        if (it.err) {
            *err = it.err;
            strcpy(errfile, it.thumbfile);
            goc_chan_release(ch); /* the workers hold theirs */
            return -1;
        }
        strcpy(thumbfiles[got++], it.thumbfile);
    }
    goc_chan_release(ch);
    return got;
}

/* ---- makeThumbnails6 ---- */

static goc_waitgroup wg = GOC_WAITGROUP_INIT; /* number of working goroutines */

struct job6 {
    char f[64];
    goc_chan *sizes; /* chan int64 */
};

static void worker6(void *arg)
{
    struct job6 *j = arg;
    struct item it;
    ImageFile(j->f, &it);
    if (it.err) {
        printf("  %s: %s\n", j->f, it.err); /* log.Println(err) */
    } else {
        int64_t size = (int64_t)strlen(it.thumbfile) * 1000; /* os.Stat(thumb).Size() */
        goc_chan_send(j->sizes, &size);
    }
    free(j);
    goc_waitgroup_done(&wg);
}

static void closer(void *sizes)
{
    goc_waitgroup_wait(&wg);
    goc_chan_close(sizes);
    goc_chan_release(sizes); /* the closer's own reference */
}

static int64_t makeThumbnails6(goc_chan *filenames)
{
    goc_chan *sizes = goc_chan_make(sizeof(int64_t), 0);
    struct job6 *j;
    for (;;) {
        j = malloc(sizeof *j);
        if (!j)
            abort();
        if (!goc_chan_recv(filenames, j->f))
            break;
        j->sizes = sizes;
        goc_waitgroup_add(&wg, 1);
        goc_go(worker6, j);
    }
    free(j);
    goc_go(closer, goc_chan_retain(sizes));
    int64_t total = 0, size;
    while (goc_chan_recv(sizes, &size))
        total += size;
    goc_chan_release(sizes); /* the workers are done with it (the closer waited) */
    return total;
}

struct feed {
    goc_chan *ch;
    const char **names;
    int n;
};

static void feed_names(void *arg)
{
    struct feed *fd = arg;
    for (int i = 0; i < fd->n; i++) {
        char name[64] = {0};
        snprintf(name, sizeof name, "%s", fd->names[i]);
        goc_chan_send(fd->ch, name);
    }
    goc_chan_close(fd->ch);
    goc_chan_release(fd->ch); /* the feeder's own reference */
}

static int by_name(const void *a, const void *b) { return strcmp(a, b); }

/* Waits (yielding) until only goroutine 1 is left; returns how many others
 * remain if that does not happen soon. */
static int others_left(void)
{
    for (long i = 0; i < 1000000 && goc_num_goroutine() > 1; i++) {
        if (i % 1000 == 999)
            goc_sleep(GOC_MILLISECOND); /* a worker may still be in ImageFile */
        else
            goc_yield();
    }
    return goc_num_goroutine() - 1;
}

static void run4(const char **names, int n)
{
    printf("makeThumbnails4(7 files, one not an image):\n");
    int received;
    const char *err = makeThumbnails4(names, n, &received);
    printf("  error: %s\n", err ? err : "none");
    /* The workers it did not hear from finish their work and then block on
     * their send for ever: wait until all the others have ended. */
    int leaked = n - received;
    while (goc_num_goroutine() - 1 > leaked)
        goc_yield();
    printf("  results received: %d of %d; goroutines left behind, to block for ever: %d\n",
           received, n, goc_num_goroutine() - 1);
}

static void run5(const char *title, const char **names, int n)
{
    char thumbs[16][64], errfile[64];
    const char *err = NULL;
    printf("makeThumbnails5(%s):\n", title);
    int got = makeThumbnails5(names, n, thumbs, &err, errfile);
    if (got < 0) {
        printf("  error: %s: %s\n", errfile, err);
    } else {
        /* They arrive in any order; print them sorted. */
        qsort(thumbs, (size_t)got, sizeof thumbs[0], by_name);
        for (int i = 0; i < got; i++)
            printf("  %s\n", thumbs[i]);
    }
    printf("  goroutines left behind: %d\n", others_left());
}

static int real_main(int argc, char **argv)
{
    (void)argc, (void)argv;
    const char *good[] = {"a.jpg", "bb.jpg", "ccc.jpg", "dddd.jpg", "eeeee.jpg"};
    const char *bad[] = {"a.jpg", "bb.jpg", "notes.txt", "dddd.jpg", "eeeee.jpg", "f.jpg", "gg.jpg"};
    run5("5 images", good, 5);
    run5("7 files, one not an image", bad, 7);

    printf("makeThumbnails6 (names from a channel):\n");
    goc_chan *names = goc_chan_make(64, 0);
    struct feed fd = {goc_chan_retain(names), bad, 7};
    goc_go(feed_names, &fd);
    int64_t total = makeThumbnails6(names);
    printf("  total size: %lld bytes\n", (long long)total);
    printf("  goroutines left behind: %d\n", others_left());
    goc_chan_release(names);

    run4(bad, 7); /* last: its leaked goroutines never end */
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    return goc_main(real_main, argc, argv);
}
