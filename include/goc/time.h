/* goc/time.h: Go's package time: the monotonic clock, sleeping, timers and
 * tickers.
 *
 * Durations and instants are int64_t nanoseconds; instants are goc_now()'s
 * monotonic clock (not the wall clock). Timer and ticker channels carry the
 * instant the timer fired (an int64_t, goc_now()'s clock), as Go's carry a
 * time.Time.
 *
 * Semantics follow Go 1.23: once goc_timer_stop or goc_timer_reset (or the
 * ticker forms) returns, no value from before the call can be received from
 * the channel; a ticker whose receiver falls behind drops ticks rather than
 * queueing them.
 *
 * Ownership. goc_timer_new / goc_ticker_new return an object the caller owns
 * and frees with goc_timer_free / goc_ticker_free (which stops it first).
 * The channel returned by goc_timer_chan / goc_ticker_chan belongs to the
 * object: retain it (goc_chan_retain) to keep it past the free.
 * goc_after returns a channel reference the caller owns (release it when
 * done); the timer behind it cleans up after itself once it fires.
 */
#ifndef GOC_TIME_H
#define GOC_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "chan.h"
#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GOC_NANOSECOND ((int64_t)1)
#define GOC_MICROSECOND ((int64_t)1000)
#define GOC_MILLISECOND ((int64_t)1000000)
#define GOC_SECOND ((int64_t)1000000000)
#define GOC_MINUTE (60 * GOC_SECOND)
#define GOC_HOUR (60 * GOC_MINUTE)

/* time.Now, monotonic: nanoseconds since an arbitrary point. Never parks. */
GOC_API int64_t goc_now(void);

/* time.Sleep(d): parks the calling goroutine (blocks a plain thread) for at
 * least d. d <= 0 returns at once. */
GOC_API void goc_sleep(int64_t d);

typedef struct goc_timer goc_timer;
typedef struct goc_ticker goc_ticker;

/* time.NewTimer(d): fires once, after d, sending the instant on its channel
 * (capacity 1). NULL on out of memory. */
GOC_API goc_timer *goc_timer_new(int64_t d);
GOC_API goc_chan *goc_timer_chan(goc_timer *t);
/* t.Stop(): true if this call stopped the timer, false if it had already
 * fired or been stopped. Afterwards no stale value can be received. */
GOC_API bool goc_timer_stop(goc_timer *t);
/* t.Reset(d): re-arms the timer to fire after d; true if it was active.
 * Afterwards no stale value can be received. */
GOC_API bool goc_timer_reset(goc_timer *t, int64_t d);
/* Stops the timer and frees it, with its channel reference. */
GOC_API void goc_timer_free(goc_timer *t);

/* time.AfterFunc(d, f): runs fn(arg) in its own goroutine after d. The
 * result stops or resets it (goc_timer_stop / goc_timer_reset; it has no
 * channel) and must be freed with goc_timer_free. */
GOC_API goc_timer *goc_after_func(int64_t d, goc_fn fn, void *arg);

/* time.After(d): a channel that receives the instant once, after d. The
 * caller owns the returned reference. NULL on out of memory. */
GOC_API goc_chan *goc_after(int64_t d);

/* time.NewTicker(d): sends the instant every d (d > 0; else NULL with
 * errno EINVAL) on a channel of capacity 1; a slow receiver loses ticks. */
GOC_API goc_ticker *goc_ticker_new(int64_t d);
GOC_API goc_chan *goc_ticker_chan(goc_ticker *t);
GOC_API void goc_ticker_stop(goc_ticker *t);
/* t.Reset(d): stops the ticker and restarts it with period d (d > 0). */
GOC_API void goc_ticker_reset(goc_ticker *t, int64_t d);
GOC_API void goc_ticker_free(goc_ticker *t);

/* time.Tick(d): a ticker's channel for a ticker that is never stopped. */
GOC_API goc_chan *goc_tick(int64_t d);

#ifdef __cplusplus
}
#endif
#endif
