/* dense.c - int8 dense layer 64x32, int32 accumulator (naive loop, like
 * emitted code). */
#include <stdint.h>
#include "dense.h"
#include "dense_data.h"

__attribute__((noinline))
void dense_64x32(const int8_t *x, int32_t *y)
{
    for (int j = 0; j < DENSE_NOUT; j++) {
        int32_t acc = dense_b[j];
        const int8_t *w = &dense_w[j * DENSE_NIN];
        for (int i = 0; i < DENSE_NIN; i++) {
            acc += (int32_t)w[i] * (int32_t)x[i];
        }
        y[j] = acc;
    }
}

const int8_t *dense_sample(int s)
{
    return dense_x[s];
}
