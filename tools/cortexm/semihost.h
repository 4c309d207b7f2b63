/*
 * semihost.h - minimal Arm semihosting output for bare-metal Cortex-M
 * firmware under qemu (-semihosting-config enable=on,target=native,...).
 * No libc: strings go out with SYS_WRITE0, integers are formatted by a
 * division-free routine (no __aeabi_uidiv needed on Cortex-M0).
 */
#ifndef CORTEXM_SEMIHOST_H
#define CORTEXM_SEMIHOST_H

#include <stdint.h>

#define SH_SYS_WRITE0        0x04
#define SH_SYS_EXIT          0x18
#define SH_SYS_EXIT_EXTENDED 0x20
#define SH_ADP_Stopped_ApplicationExit 0x20026

/* Raw semihosting call: BKPT 0xAB with r0 = operation, r1 = argument. */
static inline int32_t sh_call(int32_t op, const void *arg)
{
    register int32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Write a NUL-terminated string to the host (qemu: the semihosting chardev). */
void sh_write(const char *s);

/* Format v in decimal at buf (needs 12 bytes); returns the end (not NUL
 * terminated). */
char *sh_fmt_int(char *buf, int32_t v);

/* Write v in decimal. */
void sh_print_int(int32_t v);

/* Write one line: n integers separated by single spaces, then '\n'. */
void sh_print_ints(const int32_t *v, int n);

/* Terminate qemu: status 0 -> SYS_EXIT(ADP_Stopped_ApplicationExit), qemu
 * exits 0; otherwise SYS_EXIT_EXTENDED with the status as subcode (qemu
 * exits with that status). */
void sh_exit(int status) __attribute__((noreturn));

#endif
