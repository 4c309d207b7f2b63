#ifndef DEMO_DENSE_H
#define DEMO_DENSE_H
#include <stdint.h>
#define DEMO_NOUT 32
#define DEMO_NSAMPLES 4
void dense_64x32(const int8_t *x, int32_t *y);
const int8_t *dense_sample(int s);
#endif
