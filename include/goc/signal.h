/* goc/signal.h: Go's package os/signal: incoming signals delivered on
 * channels.
 *
 * goc_signal_notify(ch, n, sigs) relays each of the n signals to ch, whose
 * element is an int (the signal number). As in Go, delivery never blocks
 * the signal path: when ch has no room the signal is dropped for it, so
 * give ch a buffer (capacity 1 is enough for one signal value). A signal
 * delivered several times before the relay runs may arrive once.
 *
 * goc keeps a reference to ch while it is registered (goc_signal_stop
 * drops it). While any signal is being relayed, a goroutine of goc's own
 * waits for them: it counts in goc_num_goroutine, and a program whose other
 * goroutines all wait is not deadlocked, since a signal can still wake one
 * (Go's deadlock detector makes the same exception).
 */
#ifndef GOC_SIGNAL_H
#define GOC_SIGNAL_H

#include "chan.h"
#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* signal.Notify(ch, sigs...). Returns 0, -EINVAL for a NULL ch, a channel
 * whose element is not an int, or a signal goc cannot catch (SIGKILL,
 * SIGSTOP, SIGSEGV, SIGBUS: those goc keeps), or -ENOMEM. */
GOC_API int goc_signal_notify(goc_chan *ch, int n, const int *sigs);

/* signal.Stop(ch): no more signals to ch; a signal nobody is notified of
 * any more gets its default action back. */
GOC_API void goc_signal_stop(goc_chan *ch);

#ifdef __cplusplus
}
#endif
#endif
