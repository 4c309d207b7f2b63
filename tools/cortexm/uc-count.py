#!/usr/bin/env python3
"""uc-count.py - independent instruction counter for insn-timer.so, using
Unicorn (pip install 'unicorn>=2.1,<2.2').  Runs a Cortex-M ELF built with
this runtime from its reset vector, serves semihosting SYS_WRITE0 / SYS_EXIT /
SYS_EXIT_EXTENDED, counts executed instructions overall and between
mcu_region_start / mcu_region_end (same convention as the plugin), and
tracks the lowest store in [_ebss, _estack).

Unicorn 2.1.4 does not call the code hook for Thumb instructions in an IT
block whose condition fails (qemu and the core do execute them); this script
decodes each IT instruction and counts the skipped ones (--no-it-fix turns
that off, to show the difference).

usage: uc-count.py --cpu m4 --flash 0,0x400000 --ram 0x20000000,0x400000
                   app.elf [--profile PATH] [--no-it-fix]
prints a JSON object like the plugin's (no cycles) plus "raw_hooks".
"""
import argparse
import json
import struct
import subprocess
import sys

from unicorn import (Uc, UC_ARCH_ARM, UC_MODE_THUMB, UC_MODE_MCLASS,
                     UC_HOOK_CODE, UC_HOOK_INTR, UC_HOOK_MEM_WRITE)
from unicorn import arm_const as A

CPUS = {"m0": A.UC_CPU_ARM_CORTEX_M0, "m0plus": A.UC_CPU_ARM_CORTEX_M0,
        "m3": A.UC_CPU_ARM_CORTEX_M3, "m4": A.UC_CPU_ARM_CORTEX_M4,
        "m7": A.UC_CPU_ARM_CORTEX_M7}


def pair(s):
    a, b = s.split(",")
    return int(a, 0), int(b, 0)


def load_segments(path):
    data = open(path, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 1 and data[5] == 1, "ELF32 LE"
    phoff, = struct.unpack_from("<I", data, 28)
    phentsize, phnum = struct.unpack_from("<HH", data, 42)
    segs = []
    for i in range(phnum):
        p_type, off, vaddr, paddr, filesz, memsz, flags, align = \
            struct.unpack_from("<8I", data, phoff + i * phentsize)
        if p_type == 1 and filesz:
            segs.append((paddr, data[off:off + filesz]))   # load address
    return segs


def symbols(path):
    out = subprocess.run(["arm-none-eabi-nm", path], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3:
            syms[f[2]] = int(f[0], 16)
    return syms


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", required=True, choices=sorted(CPUS))
    ap.add_argument("--flash", type=pair, required=True)
    ap.add_argument("--ram", type=pair, required=True)
    ap.add_argument("--profile")
    ap.add_argument("--no-it-fix", action="store_true")
    ap.add_argument("--max", type=int, default=200_000_000)
    ap.add_argument("elf")
    a = ap.parse_args()

    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(CPUS[a.cpu])
    uc.mem_map(a.flash[0], a.flash[1])
    uc.mem_map(a.ram[0], a.ram[1])
    uc.mem_map(0xE000E000, 0x1000)          # SCS (CPACR writes land here)
    for addr, blob in load_segments(a.elf):
        uc.mem_write(addr, blob)
    syms = symbols(a.elf)
    start = syms["mcu_region_start"] & ~1
    end = syms["mcu_region_end"] & ~1
    lo, hi = syms["_ebss"], syms["_estack"]
    sp, pc = struct.unpack("<II", uc.mem_read(a.flash[0], 8))

    st = {"n": 0, "raw": 0, "open": False, "i0": 0, "regions": [],
          "min": None, "minr": None, "pending": [], "exit": None}
    prof = {}

    def count(addr, size):
        if addr == end and st["open"]:
            st["regions"].append(st["n"] - st["i0"])
            st["open"] = False
        if addr == start:
            st["open"] = True
            st["i0"] = st["n"]
        st["n"] += 1
        if a.profile:
            c = prof.get(addr)
            prof[addr] = (size, (c[1] if c else 0) + 1)

    def insn_size(addr):
        hw, = struct.unpack("<H", uc.mem_read(addr, 2))
        return 4 if (hw >> 11) in (0b11101, 0b11110, 0b11111) else 2

    def on_code(uc_, addr, size, _):
        st["raw"] += 1
        if st["raw"] > a.max:
            uc_.emu_stop()
            return
        pend = st["pending"]
        if pend:
            if addr in [p for p, _s in pend]:
                k = [p for p, _s in pend].index(addr)
                skipped, st["pending"] = pend[:k], pend[k + 1:]
            else:
                skipped, st["pending"] = pend, []
            for p, s in skipped:
                count(p, s)
        count(addr, size)
        if size == 2 and not a.no_it_fix:
            hw, = struct.unpack("<H", uc_.mem_read(addr, 2))
            if (hw & 0xFF00) == 0xBF00 and (hw & 0xF):       # IT
                mask = hw & 0xF
                n = 4 - ((mask & -mask).bit_length() - 1)
                p = addr + 2
                lst = []
                for _ in range(n):
                    s = insn_size(p)
                    lst.append((p, s))
                    p += s
                st["pending"] = lst

    def on_write(uc_, access, addr, size, value, _):
        if lo <= addr < hi:
            if st["min"] is None or addr < st["min"]:
                st["min"] = addr
            if st["open"] and (st["minr"] is None or addr < st["minr"]):
                st["minr"] = addr

    def on_intr(uc_, intno, _):
        pc_ = uc_.reg_read(A.UC_ARM_REG_PC)
        hw, = struct.unpack("<H", uc_.mem_read(pc_, 2))
        if hw != 0xBEAB:
            print(f"uc-count: exception {intno} at {pc_:#x}", file=sys.stderr)
            uc_.emu_stop()
            return
        op = uc_.reg_read(A.UC_ARM_REG_R0)
        arg = uc_.reg_read(A.UC_ARM_REG_R1)
        if op == 0x04:                                        # SYS_WRITE0
            s = bytearray()
            while True:
                b = uc_.mem_read(arg + len(s), 1)[0]
                if b == 0:
                    break
                s.append(b)
            sys.stdout.write(s.decode("latin-1"))
        elif op == 0x18:                                      # SYS_EXIT
            st["exit"] = 0 if arg == 0x20026 else 1
        elif op == 0x20:                                      # SYS_EXIT_EXTENDED
            r, code = struct.unpack("<II", uc_.mem_read(arg, 8))
            st["exit"] = code if r == 0x20026 else 1
        else:
            print(f"uc-count: semihosting op {op:#x} unsupported", file=sys.stderr)
        if st["exit"] is not None:
            uc_.emu_stop()
            return
        uc_.reg_write(A.UC_ARM_REG_PC, (pc_ + 2) | 1)

    uc.hook_add(UC_HOOK_CODE, on_code)
    uc.hook_add(UC_HOOK_MEM_WRITE, on_write)
    uc.hook_add(UC_HOOK_INTR, on_intr)
    uc.reg_write(A.UC_ARM_REG_SP, sp)
    uc.emu_start(pc | 1, 0xFFFFFFFF)
    sys.stdout.flush()
    if a.profile:
        with open(a.profile, "w") as f:
            f.write("# vaddr size count\n")
            for addr in sorted(prof):
                f.write(f"{addr:x} {prof[addr][0]} {prof[addr][1]}\n")
    res = {"instructions": st["n"], "raw_hooks": st["raw"],
           "regions": st["regions"], "min_store": st["min"],
           "min_store_region": st["minr"], "exit": st["exit"]}
    print(json.dumps(res), file=sys.stderr)


if __name__ == "__main__":
    main()
