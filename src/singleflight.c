/* singleflight.c: golang.org/x/sync/singleflight.
 *
 * g->calls is a keytab of the flights in progress, guarded by g->lock (a
 * runtime spin lock: every section is short and never parks). A flight
 * (struct call) is in the table from its start until it completes or is
 * forgotten (in_map). Only while it is in the table can callers join it,
 * so once the leader has taken it out (under lock) its dups count, its
 * waiter list and its channel list are final.
 *
 * A do-duplicate waits as Go's WaitGroup.Wait would, but on the call's
 * own list: a record on its stack, linked under lock, and it parks with
 * the lock still held (the park's unlock function drops it), so the
 * leader can never find it before it has parked. The leader copies the
 * result into each record and readies the waiters after dropping the
 * lock, reading each record's link before readying it (the record is gone
 * once its goroutine runs). So waiters never touch the call after it
 * completes, and do_chan callers get the result by value in their
 * channel: the call belongs to its leader alone, which frees it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "goc/singleflight.h"
#include "internal.h"
#include "keytab.h"
#include "race.h"

typedef struct waiter {
    goc_g *g;
    struct waiter *next;
    void *val; /* the result, copied in by the leader */
    int err;
} waiter;

typedef struct call {
    goc__kentry e;
    size_t dups;          /* callers that joined */
    waiter *waiters;      /* do-duplicates, parked */
    goc_chan **chans;     /* do_chan callers' channels (references) */
    size_t nchans, capchans;
    bool in_map;
    goc_singleflight *g;  /* do_chan's leader goroutine: */
    goc_singleflight_fn fn;
    void *arg;
    unsigned char key[];
} call;

/* The group's lock, as TSan must see it: the spin lock is invisible to it,
 * and the table's memory is touched (malloc'd, compared) under it by many
 * goroutines. */
static void group_lock(goc_singleflight *g)
{
    goc__spin_lock((goc_spinlock *)&g->lock);
    goc__race_acquire(g);
}

static void group_unlock(goc_singleflight *g)
{
    goc__race_release(g);
    goc__spin_unlock((goc_spinlock *)&g->lock);
}

void goc_singleflight_init(goc_singleflight *g, void (*share)(void *, size_t))
{
    *g = (goc_singleflight)GOC_SINGLEFLIGHT_INIT;
    g->share = share;
}

void goc_singleflight_destroy(goc_singleflight *g)
{
    goc__keytab *t = g->calls;
    if (t) {
        goc__keytab_destroy(t, NULL, NULL);
        free(t);
        g->calls = NULL;
    }
}

static void call_free(call *c)
{
    free(c->chans);
    free(c);
}

/* Under lock: the flight for key, or a new one in the table (NULL: out of
 * memory). *joined tells which. */
static call *find_or_start(goc_singleflight *g, const void *key, size_t keylen, bool *joined)
{
    goc__keytab *t = g->calls;
    if (!t && !(t = g->calls = calloc(1, sizeof *t)))
        return NULL;
    uint64_t h = goc__key_hash(key, keylen);
    call *c = (call *)goc__keytab_find(t, key, keylen, h);
    if (c) {
        c->dups++;
        *joined = true;
        return c;
    }
    *joined = false;
    c = calloc(1, sizeof *c + keylen);
    if (!c)
        return NULL;
    memcpy(c->key, key, keylen);
    c->e = (goc__kentry){.hash = h, .len = keylen, .key = c->key};
    if (goc__keytab_add(t, &c->e) < 0) {
        free(c);
        return NULL;
    }
    c->in_map = true;
    return c;
}

static int add_chan(call *c, goc_chan *ch)
{
    if (c->nchans == c->capchans) {
        size_t cap = c->capchans ? 2 * c->capchans : 4;
        goc_chan **a = realloc(c->chans, cap * sizeof *a);
        if (!a)
            return -ENOMEM;
        c->chans = a;
        c->capchans = cap;
    }
    c->chans[c->nchans++] = goc_chan_retain(ch);
    return 0;
}

/* The leader, fn returned (val, err): publishes the result. */
static void finish(goc_singleflight *g, call *c, void *val, int err)
{
    group_lock(g);
    if (c->in_map) {
        goc__keytab_del(g->calls, &c->e);
        c->in_map = false;
    }
    size_t dups = c->dups; /* final: nobody can join any more */
    waiter *w = c->waiters;
    c->waiters = NULL;
    group_unlock(g);
    if (g->share && dups && val)
        g->share(val, dups);
    while (w) {
        waiter *next = w->next;
        w->val = val;
        w->err = err;
        goc__ready(w->g);
        w = next;
    }
    goc_singleflight_result r = {val, err, dups > 0};
    for (size_t i = 0; i < c->nchans; i++) {
        goc_chan_send(c->chans[i], &r); /* capacity 1, sent once: never blocks */
        goc_chan_release(c->chans[i]);
    }
}

static bool unlock_group(goc_g *g, void *group)
{
    (void)g;
    group_unlock(group);
    return true;
}

int goc_singleflight_do(goc_singleflight *g, const void *key, size_t keylen,
                        goc_singleflight_fn fn, void *arg, void **val, bool *shared)
{
    bool joined;
    group_lock(g);
    call *c = find_or_start(g, key, keylen, &joined);
    if (!c) {
        group_unlock(g);
        return -ENOMEM;
    }
    if (joined) {
        waiter w = {goc__getg(), c->waiters, NULL, 0};
        c->waiters = &w;
        goc__park(unlock_group, g, "singleflight.Do");
        if (val)
            *val = w.val;
        if (shared)
            *shared = true;
        return w.err;
    }
    group_unlock(g);
    void *v = NULL;
    int err = fn(arg, &v);
    finish(g, c, v, err);
    if (val)
        *val = v;
    if (shared)
        *shared = c->dups > 0; /* final once finish took it out of the table */
    call_free(c);
    return err;
}

static void chan_leader(void *arg)
{
    call *c = arg;
    void *v = NULL;
    int e = c->fn(c->arg, &v);
    finish(c->g, c, v, e);
    call_free(c);
}

goc_chan *goc_singleflight_do_chan(goc_singleflight *g, const void *key, size_t keylen,
                                   goc_singleflight_fn fn, void *arg)
{
    goc_chan *ch = goc_chan_make(sizeof(goc_singleflight_result), 1);
    if (!ch)
        return NULL;
    bool joined;
    group_lock(g);
    call *c = find_or_start(g, key, keylen, &joined);
    if (!c || add_chan(c, ch) < 0) {
        if (c && joined)
            c->dups--;
        else if (c) { /* a new flight nobody can have joined yet */
            goc__keytab_del(g->calls, &c->e);
            free(c);
        }
        group_unlock(g);
        goc_chan_release(ch);
        errno = ENOMEM;
        return NULL;
    }
    group_unlock(g);
    if (!joined) {
        c->g = g;
        c->fn = fn;
        c->arg = arg;
        int64_t r = goc_go_at(chan_leader, c, NULL, "goc_singleflight_do_chan", 0);
        if (r < 0) {
            finish(g, c, NULL, (int)r);
            call_free(c);
        }
    }
    return ch;
}

void goc_singleflight_forget(goc_singleflight *g, const void *key, size_t keylen)
{
    group_lock(g);
    call *c = g->calls ? (call *)goc__keytab_find(g->calls, key, keylen,
                                                  goc__key_hash(key, keylen))
                       : NULL;
    if (c) {
        goc__keytab_del(g->calls, &c->e);
        c->in_map = false;
    }
    group_unlock(g);
}
