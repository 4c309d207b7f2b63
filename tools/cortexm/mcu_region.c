/* mcu_region.c - see mcu_region.h.  Keep the two bodies different. */
#include "mcu_region.h"

__attribute__((noipa, used, externally_visible))
void mcu_region_start(void)
{
    __asm__ volatile("" ::: "memory");   /* compiles to: bx lr */
}

__attribute__((noipa, used, externally_visible))
void mcu_region_end(void)
{
    __asm__ volatile("nop" ::: "memory");  /* nop; bx lr */
}

__attribute__((noipa, used, externally_visible))
void mcu_node_begin(void)
{
    __asm__ volatile("nop\n\tnop" ::: "memory");  /* nop; nop; bx lr */
}

__attribute__((noipa, used, externally_visible))
void mcu_node_end(void)
{
    __asm__ volatile("nop\n\tnop\n\tnop" ::: "memory");  /* nop; nop; nop; bx lr */
}
