/* semihost.c - see semihost.h */
#include "semihost.h"

void sh_write(const char *s)
{
    sh_call(SH_SYS_WRITE0, s);
}

static const uint32_t pow10_tab[10] = {
    1000000000u, 100000000u, 10000000u, 1000000u, 100000u,
    10000u, 1000u, 100u, 10u, 1u,
};

char *sh_fmt_int(char *buf, int32_t v)
{
    uint32_t u = (uint32_t)v;
    if (v < 0) {
        *buf++ = '-';
        u = 0u - u;
    }
    int started = 0;
    for (int k = 0; k < 10; k++) {
        uint32_t p = pow10_tab[k];
        char d = '0';
        while (u >= p) {
            u -= p;
            d++;
        }
        if (d != '0' || started || k == 9) {
            *buf++ = d;
            started = 1;
        }
    }
    return buf;
}

void sh_print_int(int32_t v)
{
    char buf[12];
    *sh_fmt_int(buf, v) = 0;
    sh_write(buf);
}

void sh_print_ints(const int32_t *v, int n)
{
    char buf[128];
    char *p = buf;
    for (int i = 0; i < n; i++) {
        if (p - buf > (int)sizeof(buf) - 14) {   /* flush a long line */
            *p = 0;
            sh_write(buf);
            p = buf;
        }
        if (i) {
            *p++ = ' ';
        }
        p = sh_fmt_int(p, v[i]);
    }
    *p++ = '\n';
    *p = 0;
    sh_write(buf);
}

void sh_exit(int status)
{
    if (status == 0) {
        sh_call(SH_SYS_EXIT, (const void *)SH_ADP_Stopped_ApplicationExit);
    } else {
        uint32_t block[2] = { SH_ADP_Stopped_ApplicationExit, (uint32_t)status };
        sh_call(SH_SYS_EXIT_EXTENDED, block);
    }
    for (;;) {
    }
}
