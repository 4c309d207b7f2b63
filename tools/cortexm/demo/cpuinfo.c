/*
 * cpuinfo.c - prints CPUID, MVFR0, MVFR1, MVFR2 (as signed decimal) and
 * 1000 * 1.5f * 2.25f (3375; uses the FPU on hard-float builds, so it
 * HardFaults if startup.c did not enable CP10/CP11).
 */
#include <stdint.h>
#include "semihost.h"

volatile float fa = 1.5f, fb = 2.25f;

int main(void)
{
    int32_t v[5];
    v[0] = (int32_t)*(volatile uint32_t *)0xE000ED00u; /* CPUID */
    v[1] = (int32_t)*(volatile uint32_t *)0xE000EF40u; /* MVFR0 (0 if no FPU) */
    v[2] = (int32_t)*(volatile uint32_t *)0xE000EF44u; /* MVFR1 */
    v[3] = (int32_t)*(volatile uint32_t *)0xE000EF48u; /* MVFR2 */
    v[4] = (int32_t)(fa * fb * 1000.0f);
    sh_print_ints(v, 5);
    return 0;
}
