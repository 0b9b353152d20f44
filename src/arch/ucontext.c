/* ucontext.c: portable context switch for targets without an assembly port.
 * Slower (swapcontext saves the signal mask with a system call), but correct:
 * a context's "stack pointer" is the address of a ucontext_t that lives on
 * the suspended stack itself. */
#include <stdint.h>
#include <ucontext.h>

#include "arch.h"

void goc__ctx_switch(void **save_sp, void *to_sp)
{
    ucontext_t self;
    *save_sp = &self;
    swapcontext(&self, (ucontext_t *)to_sp);
}

static void ctx_start(unsigned hi, unsigned lo)
{
    uintptr_t g = ((uintptr_t)hi << 16 << 16) | (uintptr_t)lo;
    goc__gentry((struct goc_g *)g);
}

void *goc__ctx_init(void *top, struct goc_g *g, void *lo)
{
    uintptr_t t = ((uintptr_t)top - sizeof(ucontext_t)) & ~(uintptr_t)63;
    ucontext_t *uc = (ucontext_t *)t;
    getcontext(uc);
    uc->uc_link = 0;
    uc->uc_stack.ss_sp = lo; /* the usable stack lies below the ucontext */
    uc->uc_stack.ss_size = t - (uintptr_t)lo;
    uintptr_t p = (uintptr_t)g;
    makecontext(uc, (void (*)(void))ctx_start, 2, (unsigned)(p >> 16 >> 16), (unsigned)p);
    return uc;
}
