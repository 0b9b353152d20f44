/* goc/chan.h: Go's channels and select.
 *
 * A channel carries fixed-size elements (any size below 64 KiB, 0 included),
 * copied in and out with memcpy: goc_chan_send copies elem_size bytes from
 * the caller's pointer, goc_chan_recv copies them to the caller's pointer.
 * Semantics are Go's: an unbuffered channel (cap 0) hands a value from a
 * sender straight to a receiver; a buffered one queues up to cap values in
 * FIFO order; close() lets receivers drain what is queued and then receive
 * zero values with ok == false; a send on a closed channel, a close of a
 * closed channel and a close of a NULL channel panic with Go's messages.
 *
 * A NULL goc_chan * is Go's nil channel: sends and receives on it block
 * forever (shown in goc_dump as "chan send (nil chan)" / "chan receive (nil
 * chan)", and counted by deadlock detection), its cases in goc_select are
 * never ready, goc_chan_len/goc_chan_cap return 0.
 *
 * Operations that can block park a goroutine (its worker runs others
 * meanwhile) and block a plain thread as a whole; both ends may be either.
 *
 * Lifetime. A channel is reference-counted. goc_chan_make returns one
 * reference, owned by the caller; goc_chan_retain adds one (give one to each
 * goroutine that will keep using the channel, or keep one owner who outlives
 * every user); goc_chan_release drops one and frees the channel with the
 * last. The rule: every operation (send, receive, select, close, len, cap)
 * needs a reference that stays held until the call returns, whether the
 * caller's own or one that someone else is known to hold until then. goc
 * takes no reference of its own, not even for a goroutine parked in an
 * operation: a parked goroutine is woken by someone who holds one, and once
 * woken it does not touch the channel again (a blocked send or receive; a
 * select relocks its channels to leave their queues, so its caller's
 * references must still be held, as the rule says). Releasing your
 * reference while others are blocked on the channel with theirs is safe. A
 * use of a freed channel is undefined; in debug builds (without NDEBUG)
 * every operation checks the channel and ends the process with "fatal
 * error: goc: use of freed channel" when it finds one that was freed
 * (detection is best effort: memory reused for a new channel is not
 * caught).
 */
#ifndef GOC_CHAN_H
#define GOC_CHAN_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goc_chan goc_chan;

/* make(chan T, cap): goc_chan_make(sizeof(T), cap). Returns the channel with
 * one reference, or NULL with errno set to EINVAL (elem_size >= 65536, or
 * cap * elem_size too large) or ENOMEM. Never parks, so errno may be read
 * right after the call. */
GOC_API goc_chan *goc_chan_make(size_t elem_size, size_t cap);
/* Adds a reference and returns ch (NULL stays NULL). */
GOC_API goc_chan *goc_chan_retain(goc_chan *ch);
/* Drops a reference; the last one frees the channel. NULL: nothing. */
GOC_API void goc_chan_release(goc_chan *ch);

/* ch <- *elem. Parks until a receiver takes the value or buffer space frees
 * up. Panics "send on closed channel" if ch is (or gets) closed. */
GOC_API void goc_chan_send(goc_chan *ch, const void *elem);
/* *out, ok = <-ch. Parks until a value is there or ch is closed. Returns
 * true with the value, or false once ch is closed and drained, with *out
 * zeroed. out may be NULL to discard the value. */
GOC_API bool goc_chan_recv(goc_chan *ch, void *out);

/* Results of the non-blocking forms. */
enum {
    GOC_CHAN_CLOSED = 0, /* try_recv: closed and drained (*out zeroed) */
    GOC_CHAN_OK = 1,     /* the value was sent / received */
};
/* select { case ch <- *elem: ...; default: }. Returns GOC_CHAN_OK, or
 * -EAGAIN when the send would block (also on a NULL channel). Panics "send
 * on closed channel" on a closed channel, as Go's select does. Never parks. */
GOC_API int goc_chan_try_send(goc_chan *ch, const void *elem);
/* select { case *out, ok = <-ch: ...; default: }. Returns GOC_CHAN_OK with a
 * value, GOC_CHAN_CLOSED when ch is closed and drained (*out zeroed), or
 * -EAGAIN when the receive would block (also on a NULL channel). Never
 * parks. */
GOC_API int goc_chan_try_recv(goc_chan *ch, void *out);

/* close(ch). Receivers get what is buffered, then zero values with ok ==
 * false; blocked senders panic. Panics "close of nil channel" for NULL and
 * "close of closed channel" on a second close. Does not drop a reference. */
GOC_API void goc_chan_close(goc_chan *ch);
/* len(ch): values buffered now. cap(ch). Both 0 for NULL. */
GOC_API size_t goc_chan_len(goc_chan *ch);
GOC_API size_t goc_chan_cap(goc_chan *ch);
GOC_API size_t goc_chan_elem_size(goc_chan *ch);

/* ---- select ----
 *
 * Fill an array of cases and call goc_select:
 *
 *     int v; bool ok;
 *     goc_select_case cases[] = {
 *         GOC_RECV_CASE(in, &v),          // case v, ok := <-in
 *         GOC_SEND_CASE(out, &x),         // case out <- x
 *     };
 *     switch (goc_select(cases, 2, false)) {
 *     case 0: ok = cases[0].ok; ...; break;
 *     case 1: ...; break;
 *     }
 *
 * goc_select(cases, n, has_default) evaluates every case once, picks one of
 * the ready cases uniformly at random and performs it, and returns its index.
 * If none is ready: with has_default it returns GOC_SELECT_DEFAULT (-1) at
 * once; without, it parks until one is ready. A case with a NULL channel is
 * never ready; a send case whose channel is closed panics "send on closed
 * channel" when chosen; a receive case on a closed channel is ready, with ok
 * false and a zeroed element. n == 0 without default blocks forever ("select
 * (no cases)"). Cases may repeat channels. n must be below 65536. */
typedef enum goc_select_dir {
    GOC_SELECT_RECV = 1,
    GOC_SELECT_SEND = 2,
} goc_select_dir;

typedef struct goc_select_case {
    goc_chan *ch;       /* NULL: never ready */
    goc_select_dir dir;
    void *elem;         /* send: the value (read); recv: where it goes (may be NULL) */
    bool ok;            /* recv, set when chosen: true with a value, false if closed */
} goc_select_case;

#define GOC_SELECT_DEFAULT (-1)
#define GOC_SEND_CASE(chan, elemp) \
    ((goc_select_case){.ch = (chan), .dir = GOC_SELECT_SEND, .elem = (void *)(elemp)})
#define GOC_RECV_CASE(chan, elemp) \
    ((goc_select_case){.ch = (chan), .dir = GOC_SELECT_RECV, .elem = (elemp)})

GOC_API int goc_select(goc_select_case *cases, int n, bool has_default);

/* A select of one case and a default performed as Go compiles it
 * (selectnbrecv / selectnbsend): by the try form. 0 if the case was
 * performed (a receive sets ok), GOC_SELECT_DEFAULT if not. */
static inline int goc__select_try(goc_select_case *cs)
{
    if (cs->dir == GOC_SELECT_SEND)
        return goc_chan_try_send(cs->ch, cs->elem) == GOC_CHAN_OK ? 0 : GOC_SELECT_DEFAULT;
    int r = goc_chan_try_recv(cs->ch, cs->elem);
    if (r < 0)
        return GOC_SELECT_DEFAULT;
    cs->ok = r == GOC_CHAN_OK;
    return 0;
}

/* One case and a default, both written in the call (the usual
 * `select { case <-done: ...; default: }` poll): the call goes straight to
 * the try form, inline, so the case is never stored to be read back. Same
 * results as goc_select; any other call, and &goc_select, reach the
 * function. */
#if defined(__GNUC__) && defined(__OPTIMIZE__) && !defined(GOC_NO_INLINE_SELECT)
static inline __attribute__((always_inline)) int goc__select_inline(goc_select_case *cases, int n,
                                                                    bool has_default)
{
    if (__builtin_constant_p(n) && n == 1 && __builtin_constant_p(has_default) && has_default)
        return goc__select_try(&cases[0]);
    return (goc_select)(cases, n, has_default);
}
#define goc_select(cases, n, has_default) goc__select_inline((cases), (n), (has_default))
#endif

/* ---- Typed convenience ----
 * The element is copied by value through a temporary of type T; T must be
 * the type whose size the channel was made with (not checked).
 *   GOC_CHAN_SEND(ch, int, i * i);       // ch <- i*i
 *   int v = GOC_CHAN_RECV(ch, int);      // v := <-ch (0 once closed)
 *   GOC_CHAN_RANGE(ch, int, v) { ... }   // for v := range ch
 */
#define GOC_CHAN_SEND(ch, T, value) goc_chan_send((ch), &(T){value})
#define GOC_CHAN_RECV(ch, T)                   \
    __extension__({                            \
        T goc__recv_v;                         \
        goc_chan_recv((ch), &goc__recv_v);     \
        goc__recv_v;                           \
    })
#define GOC_CHAN_RANGE(ch, T, var) for (T var; goc_chan_recv((ch), &var);)

#ifdef __cplusplus
}
#endif
#endif
