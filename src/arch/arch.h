/* arch.h: the machine context switch, one implementation per architecture
 * (src/arch/x86_64.S, src/arch/aarch64.S, src/arch/ucontext.c as the portable
 * fallback). A context is a stack pointer: everything else the callee must
 * preserve (callee-saved registers, FP control words) is saved on the stack
 * being left, so a switch never makes a system call. */
#ifndef GOC_ARCH_H
#define GOC_ARCH_H

struct goc_g;

/* Saves the current context's stack pointer in *save_sp and resumes the one
 * whose stack pointer is to_sp. Returns when something switches back. */
void goc__ctx_switch(void **save_sp, void *to_sp);

/* Builds an initial context on a fresh stack [lo, top): when first switched
 * to, it calls goc__gentry(g), which must never return. Returns the stack
 * pointer to switch to. */
void *goc__ctx_init(void *top, struct goc_g *g, void *lo);

/* Entry of every goroutine (src/goroutine.c). */
void goc__gentry(struct goc_g *g) __attribute__((noreturn));

#endif
