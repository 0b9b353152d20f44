/* signal.c: os/signal: signals relayed to channels.
 *
 * The handler only records the signal in a pending mask and writes a byte
 * to a self-pipe (both async-signal-safe); it never touches a channel. A
 * relay goroutine of goc's own waits on the pipe through the poller, takes
 * the pending mask and sends each signal to every channel registered for
 * it, without blocking (a full channel drops it, as Go documents).
 *
 * Locking: sg.lock guards the registrations (entries, installed, old). The
 * relay holds it while it sends, so once goc_signal_stop has removed a
 * channel under the lock, nothing is sent to it any more. Order: sg.lock,
 * then a channel's lock (try_send never parks).
 *
 * Pending signals: the handler sets the bit, then writes the pipe; the
 * relay drains the pipe, then exchanges the mask: a signal that arrives in
 * between leaves a byte in the pipe, so the next wait returns at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "goc/net.h"
#include "goc/signal.h"
#include "internal.h"

#define MAXSIG 64
#define MAXENTRIES 256

struct entry {
    goc_chan *ch;
    uint64_t mask; /* bit s: signal s */
};

static struct {
    goc_spinlock lock;
    struct entry entries[MAXENTRIES];
    int n;
    uint64_t installed;
    struct sigaction old[MAXSIG];
    _Atomic uint64_t pending;
    int pipe_r, pipe_w;
    bool relay_started;
} sg = {.lock = GOC_SPINLOCK_INIT, .pipe_r = -1, .pipe_w = -1};

static void on_signal(int sig)
{
    int saved = errno;
    atomic_fetch_or_explicit(&sg.pending, 1ull << sig, memory_order_release);
    char b = 0;
    if (write(sg.pipe_w, &b, 1) < 0) {
        /* full: a wake-up is pending anyway */
    }
    errno = saved;
}

/* errno read where it is set: a goroutine may move between threads. */
static __attribute__((noinline)) ssize_t drain_once(int fd)
{
    char buf[64];
    ssize_t r = read(fd, buf, sizeof buf);
    return r < 0 ? -errno : r;
}

static void relay(void *arg)
{
    (void)arg;
    for (;;) {
        while (drain_once(sg.pipe_r) > 0)
            ;
        uint64_t p = atomic_exchange_explicit(&sg.pending, 0, memory_order_acq_rel);
        if (p) {
            goc__spin_lock(&sg.lock);
            for (int i = 0; i < sg.n; i++) {
                uint64_t m = p & sg.entries[i].mask;
                for (int s = 1; s < MAXSIG; s++)
                    if (m & (1ull << s))
                        (void)goc_chan_try_send(sg.entries[i].ch, &s);
            }
            goc__spin_unlock(&sg.lock);
        }
        goc_fd_wait(sg.pipe_r, GOC_FD_READ, 0);
    }
}

static bool catchable(int s)
{
    return s > 0 && s < MAXSIG && s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS;
}

int goc_signal_notify(goc_chan *ch, int n, const int *sigs)
{
    if (!ch || n < 0 || (n && !sigs) || goc_chan_elem_size(ch) != sizeof(int))
        return -EINVAL;
    uint64_t want = 0;
    for (int i = 0; i < n; i++) {
        if (!catchable(sigs[i]))
            return -EINVAL;
        want |= 1ull << sigs[i];
    }
    goc__sched_start();
    goc__spin_lock(&sg.lock);
    if (sg.pipe_r < 0) {
        int fds[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
            goc__spin_unlock(&sg.lock);
            return -errno;
        }
        sg.pipe_r = fds[0];
        sg.pipe_w = fds[1];
    }
    struct entry *e = NULL;
    for (int i = 0; i < sg.n; i++)
        if (sg.entries[i].ch == ch)
            e = &sg.entries[i];
    if (!e) {
        if (sg.n == MAXENTRIES) {
            goc__spin_unlock(&sg.lock);
            return -ENOMEM;
        }
        e = &sg.entries[sg.n++];
        e->ch = goc_chan_retain(ch);
        e->mask = 0;
    }
    e->mask |= want;
    for (int s = 1; s < MAXSIG; s++) {
        if (!(want & (1ull << s)) || (sg.installed & (1ull << s)))
            continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART | SA_ONSTACK;
        sigfillset(&sa.sa_mask);
        sigaction(s, &sa, &sg.old[s]);
        sg.installed |= 1ull << s;
    }
    bool start = !sg.relay_started;
    sg.relay_started = true;
    goc__spin_unlock(&sg.lock);
    if (start && goc_go_at(relay, NULL, &(goc_go_options){.name = "goc signal relay"},
                           __FILE__, __LINE__) < 0)
        goc__fatal("cannot start the signal relay goroutine");
    return 0;
}

void goc_signal_stop(goc_chan *ch)
{
    goc_chan *drop = NULL;
    goc__spin_lock(&sg.lock);
    for (int i = 0; i < sg.n; i++) {
        if (sg.entries[i].ch == ch) {
            drop = ch;
            sg.entries[i] = sg.entries[--sg.n];
            break;
        }
    }
    uint64_t still = 0;
    for (int i = 0; i < sg.n; i++)
        still |= sg.entries[i].mask;
    for (int s = 1; s < MAXSIG; s++) {
        if ((sg.installed & (1ull << s)) && !(still & (1ull << s))) {
            sigaction(s, &sg.old[s], NULL); /* what it did before Notify */
            sg.installed &= ~(1ull << s);
        }
    }
    goc__spin_unlock(&sg.lock);
    goc_chan_release(drop);
}
