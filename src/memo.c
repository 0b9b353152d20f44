/* memo.c: the concurrent non-blocking memo cache (gopl §9.7, seed 000's
 * and 002's fourth version): a map from key to entry under one mutex; an
 * entry is created by the first goroutine to ask for its key, which
 * computes the result with the mutex released and then broadcasts "ready"
 * by closing the entry's channel. Entries are never removed before
 * goc_memo_free, so a goroutine may use one after dropping the mutex.
 * res (val, err) is written once, before ready is closed (and `done` set,
 * a fast path for readers that come later), and read only after (TSan is
 * told about the fast path's edge: this file is not instrumented).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "goc/chan.h"
#include "goc/memo.h"
#include "goc/sync.h"
#include "internal.h"
#include "keytab.h"
#include "race.h"

typedef struct entry {
    goc__kentry e;
    goc_chan *ready;         /* closed when the result is set */
    _Atomic uint32_t done;   /* set just before ready is closed */
    void *val;
    int err;
    unsigned char key[];
} entry;

struct goc_memo {
    goc_mutex mu;
    goc__keytab tab;
    goc_memo_fn fn;
    void *arg;
    void (*free_fn)(void *val);
};

goc_memo *goc_memo_new(goc_memo_fn fn, void *arg, void (*free_fn)(void *val))
{
    goc_memo *m = calloc(1, sizeof *m);
    if (!m) {
        errno = ENOMEM;
        return NULL;
    }
    m->fn = fn;
    m->arg = arg;
    m->free_fn = free_fn;
    return m;
}

int goc_memo_get(goc_memo *m, const void *key, size_t keylen, void **val)
{
    uint64_t h = goc__key_hash(key, keylen);
    goc_mutex_lock(&m->mu);
    entry *e = (entry *)goc__keytab_find(&m->tab, key, keylen, h);
    if (!e) {
        /* The first request for this key: this goroutine computes it. */
        e = calloc(1, sizeof *e + keylen);
        goc_chan *ready = e ? goc_chan_make(0, 0) : NULL;
        if (!ready) {
            free(e);
            goc_mutex_unlock(&m->mu);
            return -ENOMEM;
        }
        memcpy(e->key, key, keylen);
        e->e = (goc__kentry){.hash = h, .len = keylen, .key = e->key};
        e->ready = ready;
        if (goc__keytab_add(&m->tab, &e->e) < 0) {
            goc_chan_release(ready);
            free(e);
            goc_mutex_unlock(&m->mu);
            return -ENOMEM;
        }
        goc_mutex_unlock(&m->mu);
        void *v = NULL;
        e->err = m->fn(m->arg, key, keylen, &v);
        e->val = v;
        goc__race_release(e); /* for readers that take the fast path */
        atomic_store_explicit(&e->done, 1, memory_order_release);
        goc_chan_close(e->ready); /* broadcast the ready condition */
    } else {
        goc_mutex_unlock(&m->mu);
        if (atomic_load_explicit(&e->done, memory_order_acquire))
            goc__race_acquire(e);
        else
            goc_chan_recv(e->ready, NULL); /* wait for the ready condition */
    }
    if (val)
        *val = e->val;
    return e->err;
}

static void free_entry(goc__kentry *k, void *arg)
{
    goc_memo *m = arg;
    entry *e = (entry *)k;
    if (m->free_fn && e->val)
        m->free_fn(e->val);
    goc_chan_release(e->ready);
    free(e);
}

void goc_memo_free(goc_memo *m)
{
    if (!m)
        return;
    goc__keytab_destroy(&m->tab, free_entry, m);
    free(m);
}
