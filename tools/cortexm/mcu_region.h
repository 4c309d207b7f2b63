/*
 * mcu_region.h - measurement markers for insn-timer.so.
 *
 * Call mcu_region_start() right before and mcu_region_end() right after the
 * code to measure.  The plugin opens a region when mcu_region_start's first
 * instruction executes and closes it when mcu_region_end's first instruction
 * executes, so a region includes the body of mcu_region_start (one `bx lr`)
 * and the call instruction to mcu_region_end: an empty region costs a
 * constant overhead (2 instructions with this file; run-demo.sh measures it).
 *
 * The functions are noipa (not inlined, cloned, merged by IPA-ICF, nor
 * analysed by the caller) and have different bodies, so the linker cannot
 * fold them either.  Results of the measured code must be used (e.g. stored
 * to a global) after mcu_region_end(), or the compiler may move pure
 * computation across the calls.
 */
#ifndef CORTEXM_MCU_REGION_H
#define CORTEXM_MCU_REGION_H

void mcu_region_start(void);
void mcu_region_end(void);
/* Calibration builds also mark each node of the model inside a region. */
void mcu_node_begin(void);
void mcu_node_end(void);

#endif
