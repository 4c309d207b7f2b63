/*
 * main.c - demo firmware: int8 dense 64x32 on DEMO_NSAMPLES samples, each
 * inside an mcu_region; prints one line of 32 int32 outputs per sample.
 * Region 0 is empty (measures the marker overhead).  On Thumb-2 cores a
 * final region runs it_bench (it_bench.S), whose count is derived by hand.
 * -DREPEAT=k runs the layer k times per region (for timing).
 * With -DHOST it builds for the host with printf (reference outputs).
 */
#include <stdint.h>
#include "dense.h"

#ifndef REPEAT
#define REPEAT 1
#endif

#ifdef HOST
#include <stdio.h>
static void print_ints(const int32_t *v, int n)
{
    for (int i = 0; i < n; i++) {
        printf(i ? " %d" : "%d", (int)v[i]);
    }
    printf("\n");
}
#define mcu_region_start()
#define mcu_region_end()
#else
#include "semihost.h"
#include "mcu_region.h"
#define print_ints sh_print_ints
#if defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__)
#define HAVE_IT_BENCH 1
int32_t it_bench(int32_t n);
#endif
#endif

int32_t out[DEMO_NOUT];

int main(void)
{
    mcu_region_start();
    mcu_region_end();
    for (int s = 0; s < DEMO_NSAMPLES; s++) {
        const int8_t *x = dense_sample(s);
        mcu_region_start();
        for (int r = 0; r < REPEAT; r++) {
            dense_64x32(x, out);
        }
        mcu_region_end();
        print_ints(out, DEMO_NOUT);
    }
#ifdef HAVE_IT_BENCH
    int32_t r = it_bench(100);   /* opens and closes its own region */
    print_ints(&r, 1);
#endif
    return 0;
}
