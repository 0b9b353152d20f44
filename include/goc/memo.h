/* goc/memo.h: the concurrent non-blocking memo cache of "The Go
 * Programming Language" §9.7 (seeds 000 and 002): a function's results,
 * cached by key, computed at most once per key even when many goroutines
 * ask for the same key at once, without holding a lock while computing.
 *
 *     m := memo.New(httpGetBody)         goc_memo *m = goc_memo_new(fetch, NULL, free);
 *     v, err := m.Get(url)               int err = goc_memo_get(m, url, strlen(url), &v);
 *
 * The first goroutine to ask for a key computes fn(arg, key, keylen,
 * &val) outside the cache's lock; the others asking meanwhile wait on the
 * entry's ready broadcast (a closed channel), then share the result. Errors
 * are cached too, as in the book. Different keys are computed
 * concurrently.
 *
 * Ownership: the cache owns the values fn returns and every entry; a value
 * returned by goc_memo_get is valid until goc_memo_free, which calls
 * free_fn (if not NULL) on each non-NULL value. Keys are copied.
 */
#ifndef GOC_MEMO_H
#define GOC_MEMO_H

#include <stddef.h>

#include "runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct goc_memo goc_memo;
/* Computes the value for key: returns an error (0: success) and sets *val
 * (NULL before the call). May park; must return. */
typedef int (*goc_memo_fn)(void *arg, const void *key, size_t keylen, void **val);

/* memo.New(f). NULL (errno ENOMEM) out of memory. */
GOC_API goc_memo *goc_memo_new(goc_memo_fn fn, void *arg, void (*free_fn)(void *val));
/* memo.Get(key): the value in *val (val may be NULL) and fn's error;
 * -ENOMEM if no entry could be made (nothing cached then). Parks while
 * another goroutine computes the same key. */
GOC_API int goc_memo_get(goc_memo *m, const void *key, size_t keylen, void **val);
/* Frees the cache, its entries and (free_fn) its values. No goc_memo_get
 * may be in progress. NULL: nothing. */
GOC_API void goc_memo_free(goc_memo *m);

#ifdef __cplusplus
}
#endif
#endif
