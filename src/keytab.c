/* keytab.c: the byte-key hash table of keytab.h. Buckets double when the
 * table holds more entries than buckets; they never shrink (a table sized
 * for its peak load stays so). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keytab.h"

uint64_t goc__key_hash(const void *key, size_t len)
{
    /* FNV-1a over the bytes, then a final mix so that the low bits (the
     * bucket index) depend on every byte. */
    const unsigned char *p = key;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * UINT64_C(0x100000001b3);
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    return h;
}

goc__kentry *goc__keytab_find(goc__keytab *t, const void *key, size_t len, uint64_t hash)
{
    if (!t->b)
        return NULL;
    for (goc__kentry *e = t->b[hash & t->mask]; e; e = e->next)
        if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0)
            return e;
    return NULL;
}

static int grow(goc__keytab *t)
{
    size_t nb = t->b ? (t->mask + 1) * 2 : 16;
    goc__kentry **b = calloc(nb, sizeof *b);
    if (!b)
        return -ENOMEM;
    for (size_t i = 0; t->b && i <= t->mask; i++) {
        goc__kentry *e = t->b[i];
        while (e) {
            goc__kentry *next = e->next;
            e->next = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
            e = next;
        }
    }
    free(t->b);
    t->b = b;
    t->mask = nb - 1;
    return 0;
}

int goc__keytab_add(goc__keytab *t, goc__kentry *e)
{
    if ((!t->b || t->n > t->mask) && grow(t) < 0 && !t->b)
        return -ENOMEM; /* a failed doubling only makes chains longer */
    goc__kentry **head = &t->b[e->hash & t->mask];
    e->next = *head;
    *head = e;
    t->n++;
    return 0;
}

void goc__keytab_del(goc__keytab *t, goc__kentry *e)
{
    goc__kentry **pp = &t->b[e->hash & t->mask];
    while (*pp != e)
        pp = &(*pp)->next;
    *pp = e->next;
    t->n--;
}

void goc__keytab_destroy(goc__keytab *t, void (*fn)(goc__kentry *e, void *arg), void *arg)
{
    for (size_t i = 0; t->b && i <= t->mask; i++) {
        goc__kentry *e = t->b[i];
        while (e) {
            goc__kentry *next = e->next;
            if (fn)
                fn(e, arg);
            e = next;
        }
    }
    free(t->b);
    *t = (goc__keytab){0};
}
