/*
 * startup.c - minimal Cortex-M (ARMv6-M / ARMv7-M / ARMv7E-M) startup for
 * bare-metal firmware run under qemu with cortexm.ld:
 *   vector table (initial SP = _estack, reset, default handlers),
 *   reset handler: copy .data, zero .bss, enable the FPU (CPACR) when
 *   compiled for hard/soft-fp with an FPU (__ARM_FP), call main(), then exit
 *   qemu through semihosting (status = main's return value).
 *
 * Default handlers loop forever (qemu then runs until killed: use a
 * timeout).  Build with -DCORTEXM_FAULT_EXIT to make them print
 * "fault <ipsr>" via semihosting and exit with status 99 instead.
 * C++ constructors (.init_array) are not run.
 */
#include <stdint.h>
#include "semihost.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

void Reset_Handler(void) __attribute__((noreturn));

void Default_Handler(void)
{
#ifdef CORTEXM_FAULT_EXIT
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    sh_write("fault ");
    sh_print_int((int32_t)ipsr);
    sh_write("\n");
    sh_exit(99);
#else
    for (;;) {
    }
#endif
}

void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void) __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

/* 16 system exception vectors; no external IRQs are used (all disabled at
 * reset), so none are listed. */
__attribute__((section(".isr_vector"), used))
void (*const cortexm_vectors[16])(void) = {
    (void (*)(void))&_estack,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
};

/* The loops must not become memcpy/memset calls (no libc required). */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void Reset_Handler(void)
{
    uint32_t *src = &_sidata;
    uint32_t *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss; dst++) {
        *dst = 0;
    }
#if defined(__ARM_FP)
    /* CPACR (0xE000ED88): full access to CP10 and CP11 */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    sh_exit(main());
}
