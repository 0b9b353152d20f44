/* sched_bench_asm.S: the reference "bare swap" for bench/sched_bench.c.
 *
 * The least a context switch between two stacks can cost: save the
 * callee-saved registers on the current stack, store the stack pointer,
 * load the other one, restore its registers and return into it. No signal
 * mask, no floating-point control words, no scheduler: the figure the
 * scheduler's yield is compared with. It does not use goc.
 *
 *   void bench_bare_swap(void **save_sp, void *load_sp);
 *       Saves the caller's context, stores its stack pointer in *save_sp,
 *       and resumes the context whose stack pointer is load_sp.
 *
 *   void *bench_bare_make(void *stack_top, void (*fn)(void *), void *arg);
 *       Prepares a context on the stack ending at stack_top (16-byte
 *       aligned) that, when first resumed by bench_bare_swap, calls
 *       fn(arg). fn must never return. Returns its stack pointer.
 *
 * The swap returns into the other context with an indirect jump rather than
 * `ret`: a `ret` there never matches the return-stack predictor (the call
 * was made on the other stack), costing a misprediction on every switch
 * (about 4x slower on x86-64); the indirect jump is predicted well in a
 * ping-pong, so this is the figure a well-written swap can reach.
 */

#if defined(__APPLE__)
#define SYM(name) _##name
#else
#define SYM(name) name
#endif

#if defined(__ELF__)
#define FUNC_TYPE(name) .type name, %function
#define FUNC_SIZE(name) .size name, .-name
#else
#define FUNC_TYPE(name)
#define FUNC_SIZE(name)
#endif

#if defined(__x86_64__)

    .text

/* void bench_bare_swap(void **save_sp [rdi], void *load_sp [rsi]) */
    .globl SYM(bench_bare_swap)
    FUNC_TYPE(SYM(bench_bare_swap))
    .p2align 4
SYM(bench_bare_swap):
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    popq %rcx                   /* return address: jump, not ret (see top) */
    jmpq *%rcx
    FUNC_SIZE(SYM(bench_bare_swap))

/* First return of a new context lands here with r12 = fn, r13 = arg and
 * rsp 16-byte aligned, as a call expects. */
    FUNC_TYPE(bench_bare_entry)
    .p2align 4
bench_bare_entry:
    movq %r13, %rdi
    callq *%r12
    ud2                         /* fn returned: not allowed */
    FUNC_SIZE(bench_bare_entry)

/* void *bench_bare_make(void *stack_top [rdi], fn [rsi], arg [rdx])
 * Frame, from the returned sp up: r15 r14 r13 r12 rbx rbp, return address
 * (bench_bare_entry); after the ret, rsp = stack_top (16-byte aligned). */
    .globl SYM(bench_bare_make)
    FUNC_TYPE(SYM(bench_bare_make))
    .p2align 4
SYM(bench_bare_make):
    andq $-16, %rdi
    leaq -56(%rdi), %rax
    movq $0, 0(%rax)            /* r15 */
    movq $0, 8(%rax)            /* r14 */
    movq %rdx, 16(%rax)         /* r13 = arg */
    movq %rsi, 24(%rax)         /* r12 = fn */
    movq $0, 32(%rax)           /* rbx */
    movq $0, 40(%rax)           /* rbp */
    leaq bench_bare_entry(%rip), %rcx
    movq %rcx, 48(%rax)         /* return address */
    ret
    FUNC_SIZE(SYM(bench_bare_make))

#elif defined(__aarch64__)

    .text

/* void bench_bare_swap(void **save_sp [x0], void *load_sp [x1])
 * Saves x19-x28, x29 (fp), x30 (lr) and d8-d15 (the low halves of v8-v15
 * are callee-saved under AAPCS64) in a 160-byte frame. */
    .globl SYM(bench_bare_swap)
    FUNC_TYPE(SYM(bench_bare_swap))
    .p2align 4
SYM(bench_bare_swap):
    sub sp, sp, #160
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #160
    br x30                      /* not ret (see top) */
    FUNC_SIZE(SYM(bench_bare_swap))

/* First return of a new context lands here with x19 = fn, x20 = arg. */
    FUNC_TYPE(bench_bare_entry)
    .p2align 4
bench_bare_entry:
    mov x0, x20
    blr x19
    brk #0                      /* fn returned: not allowed */
    FUNC_SIZE(bench_bare_entry)

/* void *bench_bare_make(void *stack_top [x0], fn [x1], arg [x2]) */
    .globl SYM(bench_bare_make)
    FUNC_TYPE(SYM(bench_bare_make))
    .p2align 4
SYM(bench_bare_make):
    and x0, x0, #~15
    sub x0, x0, #160
    stp x1, x2, [x0, #0]        /* x19 = fn, x20 = arg */
    stp xzr, xzr, [x0, #16]
    stp xzr, xzr, [x0, #32]
    stp xzr, xzr, [x0, #48]
    stp xzr, xzr, [x0, #64]
    adr x9, bench_bare_entry
    stp xzr, x9, [x0, #80]      /* x29 = 0, x30 = bench_bare_entry */
    stp xzr, xzr, [x0, #96]
    stp xzr, xzr, [x0, #112]
    stp xzr, xzr, [x0, #128]
    stp xzr, xzr, [x0, #144]
    ret
    FUNC_SIZE(SYM(bench_bare_make))

#else
#error "sched_bench_asm.S: bare swap written for x86-64 and AArch64 only"
#endif

#if defined(__ELF__)
    .section .note.GNU-stack, "", %progbits
#endif
