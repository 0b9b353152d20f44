/* keytab.h: a small chained hash table of byte-string keys, for the
 * objects that index records by a caller's key under their own lock
 * (singleflight.c's calls, memo.c's entries). Intrusive: a record embeds a
 * goc__kentry whose key points to the record's own copy of the key bytes.
 * Not thread-safe: the owner's lock guards it. */
#ifndef GOC_KEYTAB_H
#define GOC_KEYTAB_H

#include <stddef.h>
#include <stdint.h>

#include "internal.h"

typedef struct goc__kentry {
    struct goc__kentry *next;
    uint64_t hash;
    size_t len;
    const unsigned char *key;
} goc__kentry;

typedef struct goc__keytab {
    goc__kentry **b; /* buckets; NULL until the first add */
    size_t mask;     /* buckets - 1 */
    size_t n;        /* entries */
} goc__keytab;

GOC_INTERNAL uint64_t goc__key_hash(const void *key, size_t len);
GOC_INTERNAL goc__kentry *goc__keytab_find(goc__keytab *t, const void *key, size_t len,
                                           uint64_t hash);
/* e's hash, len and key set by the caller. 0 or -ENOMEM (not added). */
GOC_INTERNAL int goc__keytab_add(goc__keytab *t, goc__kentry *e);
/* e must be in t. */
GOC_INTERNAL void goc__keytab_del(goc__keytab *t, goc__kentry *e);
/* Calls fn(e, arg) on every entry (fn may free it; NULL: none) and frees
 * the buckets. */
GOC_INTERNAL void goc__keytab_destroy(goc__keytab *t, void (*fn)(goc__kentry *e, void *arg),
                                      void *arg);

#endif
