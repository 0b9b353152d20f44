/* x86_64.S: context switch for x86-64, System V ABI.
 *
 * The saved frame, from the saved stack pointer upwards:
 *   0: MXCSR (4 bytes), 4: x87 control word (2 bytes), 6: zero, 8: r15, 16: r14,
 *   24: r13, 32: r12, 40: rbx, 48: rbp, 56: return address.
 * Only callee-saved state is kept: the caller of goc__ctx_switch already
 * treats every other register as clobbered. */
        .text

        .globl  goc__ctx_switch
        .hidden goc__ctx_switch
        .type   goc__ctx_switch, @function
        .p2align 4
goc__ctx_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        pushq   $0                      /* the FP words' slot (bytes 6-7 stay zero) */
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        /* Read back at the width written: a wider load would stall on
         * store forwarding. */
        movzwl  4(%rsp), %eax           /* this context's x87 control word */
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        /* MXCSR is loaded whatever it was: stmxcsr's result reaches a load
         * late (about 20 cycles on AMD Zen 5), and comparing it first made
         * the switch a quarter slower there, while ldmxcsr is cheap. The x87
         * control word is the opposite: fnstcw is fast and fldcw slow (it
         * cost a goroutine's start a fifth on Zen 5), so it is compared
         * and loaded only when it differs, which is almost never. */
        ldmxcsr (%rsp)
        cmpw    4(%rsp), %ax
        jne     1f
2:      addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        /* A goroutine's first switch jumps to the trampoline rather than
         * return to it. The return stack predicts a ret here to land after
         * the call that entered this switch; a resumed context lands after
         * a call of the same few sites in sched.c (right whenever both
         * sides left the same way, a park after a park), but no call ever
         * precedes the trampoline, so a new goroutine's first ret was
         * always mispredicted: about 5 ns of each goroutine's start on Zen
         * 5 (spawn@1 47 -> 41 ns). This branch is predicted from history. */
        leaq    goc__ctx_trampoline(%rip), %rcx
        cmpq    %rcx, (%rsp)
        je      3f
        ret
3:      addq    $8, %rsp
        jmp     goc__ctx_trampoline
1:      fldcw   4(%rsp)
        jmp     2b
        .cfi_endproc
        .size   goc__ctx_switch, .-goc__ctx_switch

/* void *goc__ctx_init(void *top, struct goc_g *g, void *lo): lo unused */
        .globl  goc__ctx_init
        .hidden goc__ctx_init
        .type   goc__ctx_init, @function
        .p2align 4
goc__ctx_init:
        .cfi_startproc
        movq    %rdi, %rax
        andq    $-16, %rax
        movq    $0, -8(%rax)            /* no caller above the trampoline */
        leaq    goc__ctx_trampoline(%rip), %rcx
        movq    %rcx, -16(%rax)         /* return address of the first switch */
        movq    $0, -24(%rax)           /* rbp */
        movq    $0, -32(%rax)           /* rbx */
        movq    %rsi, -40(%rax)         /* r12 = g */
        movq    $0, -48(%rax)           /* r13 */
        movq    $0, -56(%rax)           /* r14 */
        movq    $0, -64(%rax)           /* r15 */
        /* MXCSR 0x1f80 (all exceptions masked, round to nearest) and the
         * x87 control word 0x037f: the ABI's defaults. */
        movabsq $0x0000037f00001f80, %rcx
        movq    %rcx, -72(%rax)
        subq    $72, %rax
        ret
        .cfi_endproc
        .size   goc__ctx_init, .-goc__ctx_init

        .type   goc__ctx_trampoline, @function
        .p2align 4
goc__ctx_trampoline:
        .cfi_startproc
        .cfi_undefined rip              /* the outermost frame: unwinders stop here */
        xorl    %ebp, %ebp
        movq    %r12, %rdi
        andq    $-16, %rsp
        call    goc__gentry
        ud2
        .cfi_endproc
        .size   goc__ctx_trampoline, .-goc__ctx_trampoline

        .section .note.GNU-stack,"",@progbits
