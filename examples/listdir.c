/* listdir.c: leave concurrency to the caller (seed 003). Three shapes of
 * ListDirectory, and the seed's leak().
 *
 *     func ListDirectory(dir string) ([]string, error)
 *     func ListDirectory(dir string) chan string
 *     func ListDirectory(root string, workFn func(string)) error
 *
 *     func leak() {
 *         ch := make(chan int)
 *         go func() {
 *             val := <-ch
 *             fmt.Println("We received a value:", val)
 *         }()
 *     }
 *
 * Usage: listdir slice|chan|func DIR NAME    looks for NAME in DIR
 *        listdir leak
 *   slice  reads the whole directory, then searches: the caller gets every
 *          entry, or an error, but only once all are read.
 *   chan   a goroutine sends each entry on an unbuffered channel and closes
 *          it at the end. The caller stops reading once it finds NAME, and
 *          the goroutine is left blocked on its next send forever: a leak
 *          (it shows in goc_num_goroutine). A directory that cannot be read
 *          closes the channel at once: to the caller that looks the same as
 *          an empty directory (the error is lost).
 *   func   the callback form, as filepath.WalkDir: the caller's function
 *          sees each entry and can stop the walk; the error comes back; no
 *          goroutine is started, so the caller decides whether to run it in
 *          one (`go`), and knows when it ends.
 *   leak   the seed's leak(): a goroutine waits on a channel that nobody
 *          else can reach, so nothing will ever send on it. Called twice;
 *          goc_dump then lists both goroutines with where they were created
 *          ("chan receive" once they have got that far, else runnable).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <goc.h>

/* Entry names of dir other than "." and "..", each passed to fn until it
 * returns false. 0, or -errno if dir cannot be read. */
static int each_entry(const char *dir, bool (*fn)(const char *name, void *arg), void *arg)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 && !fn(de->d_name, arg))
            break;
    closedir(d);
    return 0;
}

/* ---- slice: func ListDirectory(dir string) ([]string, error) ---- */

struct names {
    char **v;
    size_t n, cap;
};

static bool append_name(const char *name, void *arg)
{
    struct names *s = arg;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) {
            perror("listdir");
            exit(1);
        }
    }
    if (!(s->v[s->n++] = strdup(name))) {
        perror("listdir");
        exit(1);
    }
    return true;
}

static int list_slice(const char *dir, const char *want)
{
    struct names s = {0};
    int err = each_entry(dir, append_name, &s);
    if (err) {
        printf("slice: error: open %s: %s\n", dir, strerror(-err));
        return 0;
    }
    bool found = false;
    for (size_t i = 0; i < s.n; i++) {
        found = found || strcmp(s.v[i], want) == 0;
        free(s.v[i]);
    }
    free(s.v);
    printf("slice: read all %zu entries first; %s %s\n", s.n, want, found ? "found" : "not found");
    return 0;
}

/* ---- chan: func ListDirectory(dir string) chan string ---- */

enum { NAME_MAX_LEN = 256 };

struct walker {
    const char *dir;
    goc_chan *ch; /* of char[NAME_MAX_LEN]; the walker's reference */
};

static bool send_name(const char *name, void *arg)
{
    char buf[NAME_MAX_LEN] = {0};
    snprintf(buf, sizeof buf, "%s", name);
    goc_chan_send(arg, buf); /* blocks until the caller reads it */
    return true;
}

static void walker(void *arg)
{
    struct walker *w = arg;
    each_entry(w->dir, send_name, w->ch); /* an error has nowhere to go */
    goc_chan_close(w->ch);
    goc_chan_release(w->ch);
    free(w);
}

/* The channel of dir's entries; the caller holds a reference. */
static goc_chan *list_chan_start(const char *dir)
{
    struct walker *w = malloc(sizeof *w);
    if (!w) {
        perror("listdir");
        exit(1);
    }
    w->dir = dir;
    w->ch = goc_chan_make(NAME_MAX_LEN, 0);
    goc_chan *ch = goc_chan_retain(w->ch);
    goc_go(walker, w);
    return ch;
}

static int list_chan(const char *dir, const char *want)
{
    goc_chan *ch = list_chan_start(dir);
    char name[NAME_MAX_LEN];
    int seen = 0;
    bool found = false;
    while (!found && goc_chan_recv(ch, name)) { /* for name := range ch */
        seen++;
        found = strcmp(name, want) == 0;
    }
    goc_chan_release(ch);
    if (!found) {
        /* The walker has closed the channel: the end of the directory, or
         * an error? The channel cannot say. */
        printf("chan: %s not found after %d entries (the end, or an error: the caller "
               "cannot tell)\n",
               want, seen);
        return 0;
    }
    /* The walker waits to send the next entry, or to close: for ever. */
    printf("chan: %s found after %d entries; goroutines left behind: %d\n", want, seen,
           goc_num_goroutine() - 1);
    return 0;
}

/* ---- func: func ListDirectory(root string, workFn func(string)) error ---- */

struct search {
    const char *want;
    int seen;
    bool found;
};

static bool look(const char *name, void *arg)
{
    struct search *s = arg;
    s->seen++;
    s->found = strcmp(name, s->want) == 0;
    return !s->found; /* found: stop the walk */
}

static int list_func(const char *dir, const char *want)
{
    struct search s = {want, 0, false};
    int err = each_entry(dir, look, &s);
    if (err)
        printf("func: error: open %s: %s\n", dir, strerror(-err));
    else if (s.found)
        printf("func: %s found after %d entries, walk stopped; goroutines left behind: %d\n",
               want, s.seen, goc_num_goroutine() - 1);
    else
        printf("func: %s not found in %d entries\n", want, s.seen);
    return 0;
}

/* ---- leak ---- */

static void receive(void *arg)
{
    int val;
    goc_chan_recv(arg, &val);
    printf("We received a value: %d\n", val);
}

static void leak(void)
{
    goc_chan *ch = goc_chan_make(sizeof(int), 0);
    goc_go(receive, ch); /* the goroutine's reference: never released */
}

static int leak_main(void)
{
    leak();
    leak();
    printf("leak: called twice; goroutines left behind: %d, each waiting on a channel no one "
           "else holds\n",
           goc_num_goroutine() - 1);
    fflush(stdout);
    goc_dump(STDOUT_FILENO);
    return 0;
}

static int real_main(int argc, char **argv)
{
    const char *v = argc > 1 ? argv[1] : "";
    if (strcmp(v, "leak") == 0 && argc == 2)
        return leak_main();
    if (argc == 4) {
        if (strcmp(v, "slice") == 0)
            return list_slice(argv[2], argv[3]);
        if (strcmp(v, "chan") == 0)
            return list_chan(argv[2], argv[3]);
        if (strcmp(v, "func") == 0)
            return list_func(argv[2], argv[3]);
    }
    fprintf(stderr, "usage: listdir slice|chan|func DIR NAME | listdir leak\n");
    return 2;
}

int main(int argc, char **argv) { return goc_main(real_main, argc, argv); }
