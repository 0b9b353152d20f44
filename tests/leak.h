/* leak.h: RUN with a goroutine leak check, for tests whose subject starts
 * goroutines of its own (contexts' deadline and AfterFunc goroutines,
 * errgroup's, singleflight's): after the test, the number of goroutines
 * must come back to what it was before. Goroutines that are ending may
 * still be counted for a moment, so the check polls, boundedly (a leak is
 * a goroutine still there after 20 s), instead of sleeping a fixed time. */
#ifndef GOC_LEAK_H
#define GOC_LEAK_H

#include "test.h"

static inline bool goroutines_settle(int want)
{
    int64_t until = goc_now() + 20 * GOC_SECOND;
    while (goc_num_goroutine() > want && goc_now() < until)
        goc_sleep(100 * GOC_MICROSECOND);
    return goc_num_goroutine() == want;
}

#define LRUN(name)                                                                         \
    do {                                                                                   \
        test_begin(#name);                                                                 \
        int leak_base_ = goc_num_goroutine();                                              \
        test_##name();                                                                     \
        if (!goroutines_settle(leak_base_)) {                                              \
            fprintf(stderr, "%s: %d goroutines after the test, %d before\n", #name,        \
                    goc_num_goroutine(), leak_base_);                                      \
            test_failures_now++;                                                           \
        }                                                                                  \
        test_end(#name);                                                                   \
    } while (0)

/* Waits (boundedly, 20 s) until *v >= want. */
static inline bool wait_count(atomic_int *v, int want)
{
    int64_t until = goc_now() + 20 * GOC_SECOND;
    while (atomic_load(v) < want && goc_now() < until)
        goc_sleep(50 * GOC_MICROSECOND);
    return atomic_load(v) >= want;
}

#endif
