/*
 * fault_test.S - checks counting when an instruction in the middle of a
 * translation block faults (Thumb-2, mps2 machines: 0x30000000 is unmapped,
 * so the load raises a BusFault, escalated to HardFault).
 *
 * main: opens a region, runs 4 instructions of straight-line code whose 4th
 * (a load) faults; the 6 instructions after it in the same block never run.
 * HardFault_Handler (overrides startup.c's weak one) closes the region and
 * exits.  Region instructions = 1 (mcu_region_start: bx lr) + 4 + 1 (bl
 * mcu_region_end in the handler) = 6.  Exception entry is not an
 * instruction, and its 32-byte stacking is done by qemu's C code, not by
 * guest stores, so the plugin does not see it as a store.
 */
    .syntax unified
    .thumb
    .section .text.main, "ax", %progbits
    .global main
    .type main, %function
    .thumb_func
main:
    push    {r4, lr}
    bl      mcu_region_start
    movs    r0, #1                  @ 1
    movs    r1, #2                  @ 2
    ldr     r2, =0x30000000         @ 3
    ldr     r3, [r2]                @ 4: faults
    movs    r0, #3                  @ not executed
    movs    r0, #4
    movs    r0, #5
    movs    r0, #6
    movs    r0, #7
    pop     {r4, pc}
    .pool
    .size main, . - main

    .section .text.HardFault_Handler, "ax", %progbits
    .global HardFault_Handler
    .type HardFault_Handler, %function
    .thumb_func
HardFault_Handler:
    bl      mcu_region_end
    movs    r0, #0
    bl      sh_exit
    .size HardFault_Handler, . - HardFault_Handler
