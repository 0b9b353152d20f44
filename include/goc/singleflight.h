/* goc/singleflight.h: golang.org/x/sync/singleflight: duplicate call
 * suppression. While a call for a key is in flight, other calls for the
 * same key wait for it and share its result instead of running their own.
 *
 * Keys are byte strings (key, keylen), copied. The function is
 * int fn(void *arg, void **val): it returns an error (0: success) and may
 * set *val (NULL before the call).
 *
 * Ownership of the value. Every caller of one flight (the one that ran fn
 * and each duplicate, through do or do_chan) receives the same void *val;
 * singleflight never copies or frees it. Two simple ways to use it:
 *  - a value that outlives its callers (a cache entry, an object the
 *    application frees later, a small integer cast to a pointer): nothing
 *    to do;
 *  - a reference-counted value: give the group a share hook
 *    (goc_singleflight_init); it is called once per flight whose value is
 *    not NULL and that had duplicates, as share(val, n) with the number of
 *    callers beyond the first, after fn returned and before any caller gets
 *    the value. Add n references there: then every caller owns one
 *    reference to what it receives, and drops it when done.
 *
 * A goc_singleflight is a plain struct owned by the caller: zeroed memory
 * or GOC_SINGLEFLIGHT_INIT is an empty group without a share hook. Its
 * table is allocated on first use; goc_singleflight_destroy frees it once
 * no call is in flight. fn must return (a goc_exit inside fn leaves the
 * duplicates waiting forever).
 */
#ifndef GOC_SINGLEFLIGHT_H
#define GOC_SINGLEFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "sync.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef int (*goc_singleflight_fn)(void *arg, void **val);

typedef struct goc_singleflight {
    uint32_t lock;                         /* private: guards calls */
    void *calls;                           /* the flights by key (private) */
    void (*share)(void *val, size_t n);
} goc_singleflight;

#define GOC_SINGLEFLIGHT_INIT {0, NULL, NULL}

/* What do_chan's channel carries (Go's singleflight.Result). */
typedef struct goc_singleflight_result {
    void *val;
    int err;
    bool shared; /* the value went to more than one caller */
} goc_singleflight_result;

GOC_API void goc_singleflight_init(goc_singleflight *g, void (*share)(void *val, size_t n));
/* Frees the group's table. No call may be in flight. */
GOC_API void goc_singleflight_destroy(goc_singleflight *g);

/* Do(key, fn): runs fn(arg, &val) unless a call for key is in flight, in
 * which case it parks until that call returns and takes its result.
 * Returns fn's error (-ENOMEM if the flight could not be set up; fn was
 * not called), the value in *val (val may be NULL), and in *shared (may be
 * NULL) whether the value went to more than one caller. */
GOC_API int goc_singleflight_do(goc_singleflight *g, const void *key, size_t keylen,
                                goc_singleflight_fn fn, void *arg, void **val, bool *shared);
/* DoChan(key, fn): as do, but returns at once a channel (capacity 1) that
 * receives one goc_singleflight_result; fn runs in a new goroutine unless
 * a call for key is in flight. The caller owns the channel reference
 * (goc_chan_release it). NULL (errno ENOMEM) out of memory. */
GOC_API goc_chan *goc_singleflight_do_chan(goc_singleflight *g, const void *key, size_t keylen,
                                           goc_singleflight_fn fn, void *arg);
/* Forget(key): later calls for key run fn again instead of waiting for the
 * call in flight (which completes normally for those already waiting). */
GOC_API void goc_singleflight_forget(goc_singleflight *g, const void *key, size_t keylen);

#ifdef __cplusplus
}
#endif
#endif
