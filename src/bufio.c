/* bufio.c: goc_scanner, Go's bufio.Scanner with ScanLines, over a
 * connection or any descriptor.
 *
 * The buffer holds buf[start, end): input not yet returned. A scan looks
 * for '\n' past what it has already searched (scanned), reads more when
 * there is none, moving the rest to the front or growing the buffer (up to
 * max + 3 bytes: the line, "\r\n", and the NUL that ends the returned
 * text, always written in place). A line is consumed at the next scan, so
 * its text stays valid until then. One goroutine uses a scanner at a time:
 * no locks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "goc/net.h"
#include "internal.h"

#define DEFAULT_MAX (64 * 1024) /* bufio.MaxScanTokenSize */
#define FIRST_CAP 4096

struct goc_scanner {
    goc_conn *conn; /* or fd: */
    int fd;
    bool fd_blocking; /* read through goc_blocking, not the poller */
    bool fd_waited;   /* the poller knows fd: forget it on free */
    char *buf;
    size_t cap, start, end, scanned, consume, max;
    const char *text;
    size_t len;
    bool eof;
    int err; /* sticky: -EMSGSIZE */
};

static goc_scanner *scanner_new(size_t max)
{
    goc_scanner *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->max = max ? max : DEFAULT_MAX;
    s->cap = s->max + 3 < FIRST_CAP ? s->max + 3 : FIRST_CAP;
    if (!(s->buf = malloc(s->cap))) {
        free(s);
        return NULL;
    }
    s->fd = -1;
    return s;
}

goc_scanner *goc_scanner_new(goc_conn *c, size_t max_line)
{
    goc_scanner *s = scanner_new(max_line);
    if (s)
        s->conn = c;
    return s;
}

goc_scanner *goc_scanner_new_fd(int fd, size_t max_line)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
        return NULL;
    goc_scanner *s = scanner_new(max_line);
    if (s) {
        s->fd = fd;
        s->fd_blocking = !(fl & O_NONBLOCK);
    }
    return s;
}

void goc_scanner_free(goc_scanner *s)
{
    if (!s)
        return;
    if (s->fd_waited)
        goc_fd_forget(s->fd);
    free(s->buf);
    free(s);
}

struct read_call {
    int fd;
    void *buf;
    size_t n;
};

static __attribute__((noinline)) intptr_t read_call(void *arg)
{
    struct read_call *c = arg;
    ssize_t r = read(c->fd, c->buf, c->n);
    return r < 0 ? -errno : r;
}

static ssize_t fill(goc_scanner *s, void *buf, size_t n)
{
    if (s->conn)
        return goc_conn_read(s->conn, buf, n);
    struct read_call c = {s->fd, buf, n};
    for (;;) {
        ssize_t r = s->fd_blocking ? goc_blocking(read_call, &c) : read_call(&c);
        if (r == -EINTR)
            continue;
        if (r != -EAGAIN || s->fd_blocking)
            return r;
        s->fd_waited = true;
        int w = goc_fd_wait(s->fd, GOC_FD_READ, 0);
        if (w < 0)
            return w;
    }
}

/* Returns the line buf[start, start+len) (len without the '\n'). */
static int token(goc_scanner *s, size_t len, size_t consume)
{
    s->consume = consume;
    s->scanned = 0;
    if (len > 0 && s->buf[s->start + len - 1] == '\r')
        len--;
    if (len > s->max)
        return s->err = -EMSGSIZE;
    s->buf[s->start + len] = 0;
    s->text = s->buf + s->start;
    s->len = len;
    return 1;
}

int goc_scanner_scan(goc_scanner *s)
{
    s->start += s->consume;
    s->consume = 0;
    if (s->start == s->end)
        s->start = s->end = 0;
    s->text = NULL;
    s->len = 0;
    if (s->err)
        return s->err;
    for (;;) {
        size_t have = s->end - s->start;
        char *nl = memchr(s->buf + s->start + s->scanned, '\n', have - s->scanned);
        if (nl) {
            size_t len = (size_t)(nl - (s->buf + s->start));
            return token(s, len, len + 1);
        }
        s->scanned = have;
        if (s->eof)
            return have ? token(s, have, have) : 0;
        if (have > s->max + 1) /* no room left for this line's "\n" */
            return s->err = -EMSGSIZE;
        if (s->end + 1 >= s->cap) { /* keep a byte for the NUL */
            memmove(s->buf, s->buf + s->start, have);
            s->start = 0;
            s->end = have;
            if (s->end + 1 >= s->cap) {
                size_t cap = s->cap * 2 < s->max + 3 ? s->cap * 2 : s->max + 3;
                char *b = realloc(s->buf, cap);
                if (!b)
                    return -ENOMEM;
                s->buf = b;
                s->cap = cap;
            }
        }
        ssize_t r = fill(s, s->buf + s->end, s->cap - s->end - 1);
        if (r < 0)
            return (int)r;
        if (r == 0)
            s->eof = true;
        s->end += (size_t)r;
    }
}

const char *goc_scanner_text(goc_scanner *s, size_t *len)
{
    if (len)
        *len = s->len;
    return s->text ? s->text : "";
}
