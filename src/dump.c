/* dump.c: goroutine dumps, panics, fatal errors, and the signals that lead
 * to them (SIGQUIT dumps as Go does; SIGSEGV/SIGBUS in a guard page is a
 * stack overflow).
 *
 * Everything here may run in a signal handler or with the scheduler in an
 * unknown state, so the dump takes no lock, allocates nothing and formats
 * with its own async-signal-safe writer; it reads goroutine descriptors
 * racily, as Go's traceback of other goroutines does. Exits are _exit(2):
 * after a fatal error no atexit handler should run with goroutines frozen
 * in the middle of what they were doing. Output buffered in stdio is
 * flushed first, except from a signal handler.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ---- A small async-signal-safe writer ---- */

typedef struct {
    int fd;
    size_t n;
    char buf[512];
} writer;

static void w_flush(writer *w)
{
    size_t off = 0;
    while (off < w->n) {
        ssize_t r = write(w->fd, w->buf + off, w->n - off);
        if (r <= 0)
            break;
        off += (size_t)r;
    }
    w->n = 0;
}

static void w_str(writer *w, const char *s)
{
    for (; *s; s++) {
        if (w->n == sizeof w->buf)
            w_flush(w);
        w->buf[w->n++] = *s;
    }
}

static void w_int(writer *w, int64_t v)
{
    char tmp[24];
    int i = sizeof tmp;
    tmp[--i] = 0;
    uint64_t u = v < 0 ? (uint64_t)-v : (uint64_t)v;
    do {
        tmp[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[--i] = '-';
    w_str(w, tmp + i);
}

static void w_duration(writer *w, int64_t ns)
{
    int64_t ms = ns / 1000000;
    if (ms >= 60000) {
        w_int(w, ms / 60000);
        w_str(w, ms / 60000 == 1 ? " minute" : " minutes");
    } else if (ms >= 1000) {
        w_int(w, ms / 1000);
        w_str(w, ".");
        w_int(w, (ms % 1000) / 100);
        w_str(w, "s");
    } else {
        w_int(w, ms);
        w_str(w, "ms");
    }
}

/* ---- The dump ---- */

struct dump_ctx {
    writer *w;
    goc_g *skip;
    int64_t now;
};

static void dump_one(goc_g *g, writer *w, int64_t now)
{
    uint32_t st = atomic_load_explicit(&g->status, memory_order_relaxed);
    w_str(w, "goroutine ");
    w_int(w, g->id);
    if (g->name) {
        w_str(w, " \"");
        w_str(w, g->name);
        w_str(w, "\"");
    }
    w_str(w, " [");
    switch (st) {
    case G_RUNNABLE:
        w_str(w, "runnable");
        break;
    case G_RUNNING:
        w_str(w, "running");
        break;
    case G_WAITING:
        w_str(w, g->waitreason ? g->waitreason : "waiting");
        w_str(w, ", ");
        w_duration(w, now - g->waitsince);
        break;
    default:
        w_str(w, "dead");
        break;
    }
    w_str(w, "]:\n");
    if (g->flags & G_MAIN) {
        w_str(w, "main goroutine (goc_main)\n");
    } else {
        w_str(w, "created by goroutine ");
        w_int(w, g->parent);
        w_str(w, " at ");
        w_str(w, g->file ? g->file : "?");
        w_str(w, ":");
        w_int(w, g->line);
        w_str(w, "\n");
    }
    w_str(w, "\n");
}

static void dump_cb(goc_g *g, void *arg)
{
    struct dump_ctx *c = arg;
    if (g != c->skip)
        dump_one(g, c->w, c->now);
}

static void dump_all(int fd)
{
    writer w = {.fd = fd};
    goc_p *p = goc__getp();
    goc_g *cur = p ? p->curg : NULL;
    if (cur && (cur->flags & G_SYSTEM))
        cur = NULL;
    int64_t now = goc__nanotime();
    if (cur)
        dump_one(cur, &w, now);
    struct dump_ctx c = {&w, cur, now};
    goc__stack_foreach(dump_cb, &c);
    w_flush(&w);
}

void goc_dump(int fd) { dump_all(fd); }

static void die(const char *prefix, const char *msg, bool flush) __attribute__((noreturn));
static void die(const char *prefix, const char *msg, bool flush)
{
    if (flush)
        fflush(NULL);
    writer w = {.fd = 2};
    w_str(&w, prefix);
    w_str(&w, msg);
    w_str(&w, "\n\n");
    w_flush(&w);
    dump_all(2);
    _exit(2);
}

void goc__fatal(const char *msg) { die("fatal error: ", msg, true); }

void goc__fatal_stack_overflow(goc_g *g)
{
    writer w = {.fd = 2};
    w_str(&w, "goc: goroutine ");
    w_int(&w, g->id);
    w_str(&w, " stack overflow\n\n");
    w_flush(&w);
    dump_all(2);
    _exit(2);
}

static _Atomic int panicking;

void goc_panic(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Deferred calls run first, as Go runs them while panicking; a panic
     * inside one of them ends the process at once. */
    if (atomic_fetch_add(&panicking, 1) == 0) {
        goc_p *p = goc__getp();
        goc_g *g = p ? p->curg : NULL;
        if (g && !(g->flags & (G_SYSTEM | G_THREAD)))
            goc__run_defers(g);
    }
    die("panic: ", msg, true);
}

/* ---- Signals ---- */

static struct sigaction old_segv, old_bus;

static void on_sigquit(int sig)
{
    (void)sig;
    writer w = {.fd = 2};
    w_str(&w, "SIGQUIT: quit\n\n");
    w_flush(&w);
    dump_all(2);
    _exit(2);
}

static void chain(int sig, siginfo_t *si, void *uc, struct sigaction *old)
{
    if (old->sa_flags & SA_SIGINFO) {
        if (old->sa_sigaction) {
            old->sa_sigaction(sig, si, uc);
            return;
        }
    } else if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
        old->sa_handler(sig);
        return;
    }
    /* Default action: reinstate it and return; the fault repeats. */
    signal(sig, SIG_DFL);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    const char *addr = si->si_addr;
    goc_g *g = goc__stack_owner(addr);
    if (g && addr >= g->stack.base && addr < g->stack.lo + 64) /* guard page or canary */
        goc__fatal_stack_overflow(g);
    goc_p *p = goc__getp();
    goc_g *cur = p ? p->curg : NULL;
    if (cur && !(cur->flags & G_SYSTEM)) {
        /* The running goroutine's stack pointer below its stack: it ran
         * off the end, whatever it hit (an unguarded stack's neighbour, a
         * frame larger than the guard). */
        const char *sp = goc__os_fault_sp(uc);
        if ((sp && sp < cur->stack.lo + 64 && sp >= cur->stack.base - (1 << 20)) ||
            (addr < cur->stack.lo && addr >= cur->stack.base - 65536))
            goc__fatal_stack_overflow(cur);
    }
    chain(sig, si, uc, sig == SIGSEGV ? &old_segv : &old_bus);
}

void goc__signals_init(void)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGQUIT, NULL, &old) == 0 && !(old.sa_flags & SA_SIGINFO) &&
        old.sa_handler == SIG_DFL) {
        sa.sa_handler = on_sigquit;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGQUIT, &sa, NULL);
    }
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
}

static __thread void *altstack; /* reachable, for LeakSanitizer */

void goc__signals_init_thread(void)
{
    /* Stack overflows are caught on an alternate stack: the faulting one
     * has no room left. Keep one the thread already has (a sanitizer's). */
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE) && cur.ss_sp)
        return;
    size_t size = 64 * 1024;
    altstack = malloc(size);
    stack_t ss = {.ss_sp = altstack, .ss_size = size, .ss_flags = 0};
    if (ss.ss_sp)
        sigaltstack(&ss, NULL);
}
