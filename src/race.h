/* race.h: what the sanitizers and valgrind must be told, in one place.
 *
 * goc moves stacks under the compiler's feet; ASan, TSan and valgrind each
 * need to hear about every stack change, and TSan about every happens-before
 * edge that goes through a futex or a context switch (which it cannot see).
 * Each helper compiles to nothing in a build without that tool. */
#ifndef GOC_RACE_H
#define GOC_RACE_H

#include <stddef.h>

#if defined(GOC_SANITIZE_THREAD)
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
void __tsan_set_fiber_name(void *fiber, const char *name);
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
static inline void *goc__race_fiber_current(void) { return __tsan_get_current_fiber(); }
static inline void *goc__race_fiber_create(void) { return __tsan_create_fiber(0); }
static inline void goc__race_fiber_destroy(void *f) { if (f) __tsan_destroy_fiber(f); }
/* Flag 1 (__tsan_switch_to_fiber_no_sync): goc publishes its own edges. */
static inline void goc__race_fiber_switch(void *f) { __tsan_switch_to_fiber(f, 1); }
static inline void goc__race_acquire(void *addr) { __tsan_acquire(addr); }
static inline void goc__race_release(void *addr) { __tsan_release(addr); }
#else
static inline void *goc__race_fiber_current(void) { return NULL; }
static inline void *goc__race_fiber_create(void) { return NULL; }
static inline void goc__race_fiber_destroy(void *f) { (void)f; }
static inline void goc__race_fiber_switch(void *f) { (void)f; }
static inline void goc__race_acquire(void *addr) { (void)addr; }
static inline void goc__race_release(void *addr) { (void)addr; }
#endif

#if defined(GOC_SANITIZE_ADDRESS)
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old,
                                     size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
static inline void goc__asan_start_switch(void **save, const void *bottom, size_t size)
{
    __sanitizer_start_switch_fiber(save, bottom, size);
}
static inline void goc__asan_finish_switch(void *save)
{
    __sanitizer_finish_switch_fiber(save, NULL, NULL);
}
static inline void goc__asan_unpoison(void *addr, size_t size)
{
    __asan_unpoison_memory_region(addr, size);
}
#else
static inline void goc__asan_start_switch(void **save, const void *bottom, size_t size)
{
    (void)save, (void)bottom, (void)size;
}
static inline void goc__asan_finish_switch(void *save) { (void)save; }
static inline void goc__asan_unpoison(void *addr, size_t size) { (void)addr, (void)size; }
#endif

#if defined(GOC_HAVE_VALGRIND)
#include <valgrind/valgrind.h>
static inline unsigned goc__valgrind_stack_register(void *lo, void *hi)
{
    return VALGRIND_STACK_REGISTER(lo, hi);
}
static inline void goc__valgrind_stack_deregister(unsigned id) { VALGRIND_STACK_DEREGISTER(id); }
#else
static inline unsigned goc__valgrind_stack_register(void *lo, void *hi)
{
    (void)lo, (void)hi;
    return 0;
}
static inline void goc__valgrind_stack_deregister(unsigned id) { (void)id; }
#endif

#endif
