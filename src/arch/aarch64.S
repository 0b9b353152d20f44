/* aarch64.S: context switch for AArch64 (AAPCS64).
 *
 * The saved frame, 176 bytes from the saved stack pointer upwards:
 *   0: x19 x20, 16: x21 x22, 32: x23 x24, 48: x25 x26, 64: x27 x28,
 *   80: x29 x30 (frame pointer, return address), 96: d8 d9, 112: d10 d11,
 *   128: d12 d13, 144: d14 d15, 160: FPCR.
 * Only callee-saved state is kept. */
        .text

        .globl  goc__ctx_switch
        .hidden goc__ctx_switch
        .type   goc__ctx_switch, %function
        .p2align 4
goc__ctx_switch:
        .cfi_startproc
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        mov     x11, sp
        str     x11, [x0]
        mov     sp, x1
        ldr     x10, [sp, #160]
        cmp     x9, x10                 /* writing FPCR is slow; it rarely differs */
        b.eq    1f
        msr     fpcr, x10
1:
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #176
        adr     x9, goc__ctx_trampoline /* a new goroutine: see x86_64.S */
        cmp     x30, x9
        b.eq    goc__ctx_trampoline
        ret
        .cfi_endproc
        .size   goc__ctx_switch, .-goc__ctx_switch

/* void *goc__ctx_init(void *top, struct goc_g *g, void *lo): lo unused */
        .globl  goc__ctx_init
        .hidden goc__ctx_init
        .type   goc__ctx_init, %function
        .p2align 4
goc__ctx_init:
        .cfi_startproc
        and     x0, x0, #~15
        sub     x0, x0, #176
        mov     x6, #0
        mov     x3, #22                 /* zero the 22 saved doublewords */
        mov     x4, x0
1:      str     x6, [x4], #8
        subs    x3, x3, #1
        b.ne    1b
        str     x1, [x0, #0]            /* x19 = g */
        adr     x5, goc__ctx_trampoline
        str     x5, [x0, #88]           /* x30 = trampoline */
        ret                             /* FPCR 0: the ABI's default */
        .cfi_endproc
        .size   goc__ctx_init, .-goc__ctx_init

        .type   goc__ctx_trampoline, %function
        .p2align 4
goc__ctx_trampoline:
        .cfi_startproc
        .cfi_undefined x30              /* the outermost frame: unwinders stop here */
        mov     x29, #0
        mov     x0, x19
        bl      goc__gentry
        brk     #0
        .cfi_endproc
        .size   goc__ctx_trampoline, .-goc__ctx_trampoline

        .section .note.GNU-stack,"",%progbits
