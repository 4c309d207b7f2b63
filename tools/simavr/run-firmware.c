/* run-firmware: runs an AVR firmware on libsimavr and reports what it did, as one JSON object.
 *
 * Usage: run-firmware MCU FREQ_HZ FIRMWARE.elf [MAX_CYCLES]
 *
 * The firmware marks regions by writing GPIOR1 (1 = start, 2 = end); the cycle count of every mark
 * is reported, so the host learns the exact cycles of each inference. The stack pointer is read
 * after every instruction: the lowest value over the whole run and inside marked regions gives the
 * peak stack. The stack of interrupt handlers is told apart from the program's (simavr keeps a stack of
 * the handlers running): min_sp_main is the lowest stack pointer outside any handler, and
 * interrupt_stack the most bytes a handler took below the stack pointer it interrupted (the return
 * address the core pushes included), so a sketch whose timer and UART interrupts fire at arbitrary
 * points is measured as its worst-case analysis counts it. UART0 bytes are collected raw (simavr's own line printing is switched off). The run
 * ends when the firmware sleeps with interrupts off (cli; sleep), which simavr reports as done.
 *
 * Built by mcutune with: cc -O2 run-firmware.c $(pkg-config --cflags --libs simavr) -lelf
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_avr.h"
#include "sim_elf.h"
#include "sim_io.h"
#include "sim_irq.h"
#include "avr_uart.h"

#define GPIOR1_ADDRESS 0x4A /* data-space address on the ATmega328P and ATmega2560 */
#define SPL_ADDRESS 0x5D
#define SPH_ADDRESS 0x5E
#define MAX_MARKS 100000

static char *uart_bytes;
static size_t uart_count, uart_capacity;
static avr_cycle_count_t marks[MAX_MARKS];
static uint8_t mark_values[MAX_MARKS];
static size_t mark_count;
static int in_region;
static int too_many_marks;

static void on_uart(struct avr_irq_t *irq, uint32_t value, void *param) {
    (void)irq;
    (void)param;
    if (uart_count == uart_capacity) {
        uart_capacity = uart_capacity ? 2 * uart_capacity : 4096;
        uart_bytes = realloc(uart_bytes, uart_capacity);
        if (!uart_bytes) {
            fprintf(stderr, "run-firmware: out of memory\n");
            exit(3);
        }
    }
    uart_bytes[uart_count++] = (char)value;
}

static void on_gpior1(struct avr_t *avr, avr_io_addr_t addr, uint8_t value, void *param) {
    (void)param;
    avr->data[addr] = value;
    if (mark_count == MAX_MARKS) {
        too_many_marks = 1;
        return;
    }
    marks[mark_count] = avr->cycle;
    mark_values[mark_count++] = value;
    if (value == 1) in_region = 1;
    if (value == 2) in_region = 0;
}

static void print_json_string(const char *bytes, size_t count) {
    putchar('"');
    for (size_t i = 0; i < count; i++) {
        unsigned char c = (unsigned char)bytes[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') printf("\\n");
        else if (c < 0x20 || c >= 0x7f) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: run-firmware MCU FREQ_HZ FIRMWARE.elf [MAX_CYCLES]\n");
        return 2;
    }
    const char *mcu = argv[1];
    unsigned long frequency = strtoul(argv[2], NULL, 10);
    unsigned long long max_cycles = argc > 4 ? strtoull(argv[4], NULL, 10) : 4000000000ULL;

    elf_firmware_t firmware;
    memset(&firmware, 0, sizeof firmware);
    if (elf_read_firmware(argv[3], &firmware) != 0) {
        fprintf(stderr, "run-firmware: cannot read %s as an AVR ELF file\n", argv[3]);
        return 2;
    }
    avr_t *avr = avr_make_mcu_by_name(mcu);
    if (!avr) {
        fprintf(stderr, "run-firmware: simavr does not know the MCU '%s'\n", mcu);
        return 2;
    }
    avr_init(avr);
    firmware.frequency = (uint32_t)frequency;
    avr_load_firmware(avr, &firmware);
    avr->log = 0;

    uint32_t flags = 0;
    avr_ioctl(avr, AVR_IOCTL_UART_GET_FLAGS('0'), &flags);
    flags &= ~(uint32_t)(AVR_UART_FLAG_STDIO | AVR_UART_FLAG_POLL_SLEEP);
    avr_ioctl(avr, AVR_IOCTL_UART_SET_FLAGS('0'), &flags);
    avr_irq_t *uart_out = avr_io_getirq(avr, AVR_IOCTL_UART_GETIRQ('0'), UART_IRQ_OUTPUT);
    if (uart_out) avr_irq_register_notify(uart_out, on_uart, NULL);
    avr_register_io_write(avr, GPIOR1_ADDRESS, on_gpior1, NULL);

    uint16_t min_sp = 0xffff, min_sp_region = 0xffff, min_sp_main = 0xffff;
    /* The stack pointer an interrupt found (before the core pushed its return address), and the most
     * bytes any handler took below it. */
    unsigned interrupted_sp = 0, interrupt_stack = 0;
    int state = cpu_Running;
    while (state != cpu_Done && state != cpu_Crashed && avr->cycle < max_cycles) {
        int was_in_handler = avr->interrupts.running_ptr > 0;
        state = avr_run(avr);
        uint16_t sp = (uint16_t)(avr->data[SPL_ADDRESS] | (avr->data[SPH_ADDRESS] << 8));
        if (sp < 0x100) continue; /* the C runtime has not set SP yet */
        if (sp < min_sp) min_sp = sp;
        if (in_region && sp < min_sp_region) min_sp_region = sp;
        if (avr->interrupts.running_ptr > 0) {
            if (!was_in_handler) interrupted_sp = sp + avr->address_size; /* the step entered a handler */
            if (interrupted_sp > sp && interrupted_sp - sp > interrupt_stack) interrupt_stack = interrupted_sp - sp;
            if (!was_in_handler && interrupted_sp < min_sp_main) min_sp_main = (uint16_t)interrupted_sp;
        } else if (sp < min_sp_main) {
            min_sp_main = sp;
        }
    }
    const char *outcome = state == cpu_Done ? "done" : state == cpu_Crashed ? "crashed" : "timeout";

    printf("{\"state\":\"%s\",\"cycles\":%llu,\"ramend\":%u,\"min_sp\":%u,\"min_sp_region\":%u,\"min_sp_main\":%u,\"interrupt_stack\":%u,\"too_many_marks\":%s,",
           outcome, (unsigned long long)avr->cycle, (unsigned)avr->ramend, (unsigned)min_sp, (unsigned)min_sp_region,
           (unsigned)min_sp_main, interrupt_stack,
           too_many_marks ? "true" : "false");
    printf("\"marks\":[");
    for (size_t i = 0; i < mark_count; i++) printf("%s[%u,%llu]", i ? "," : "", mark_values[i], (unsigned long long)marks[i]);
    printf("],\"uart\":");
    print_json_string(uart_bytes ? uart_bytes : "", uart_count);
    printf("}\n");
    avr_terminate(avr);
    return 0;
}
