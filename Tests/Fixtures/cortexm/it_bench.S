/*
 * it_bench.S - a loop whose executed-instruction count is known by hand,
 * with IT blocks whose condition fails half of the time and a conditional
 * load.  Thumb-2 only (Cortex-M3/M4/M7).
 *
 * int32_t it_bench(int32_t n)   (n >= 1), returns sum over k = n..1 of
 *   (k even ? +5 : -2)          (n = 100 -> 150)
 *
 * Region instructions = 1 (mcu_region_start: bx lr) + 3 + 11*n + 1 + 1
 *                     = 11*n + 6   (n = 100 -> 1106)
 */
    .syntax unified
    .thumb
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
    .section .text.it_bench, "ax", %progbits
    .global it_bench
    .type it_bench, %function
    .thumb_func
it_bench:
    push    {r4, r5, r6, lr}
    mov     r5, r0
    bl      mcu_region_start    @ region opens at its first instruction
    mov     r0, r5              @ 1
    ldr     r3, =it_data        @ 1 (literal load)
    movs    r1, #0              @ 1
1:  ldr     r2, [r3]            @ L1     11 instructions per iteration
    ldr     r4, [r3, #4]        @ L2     (load after load)
    tst     r0, #1              @ T
    ite     eq                  @ I1
    addeq   r1, r1, r2          @ C1     fails when r0 odd
    subne   r1, r1, r4          @ C2     fails when r0 even
    it      eq                  @ I2
    ldreq   r6, [r3, #8]        @ L3     fails (no access) when r0 odd
    ldr     r2, [r3, #12]       @ L4     after a load only when L3 ran
    subs    r0, r0, #1          @ S
    bne     1b                  @ B      taken n-1 times
    mov     r4, r1              @ 1
    bl      mcu_region_end      @ 1      region closes at its first insn
    mov     r0, r4
    pop     {r4, r5, r6, pc}
    .pool
    .size it_bench, . - it_bench

    .section .rodata.it_data, "a", %progbits
    .align 2
it_data:
    .word 5, 2, 9, 0
#endif
