#!/usr/bin/env python3
"""make-table.py - write an insn-timer table for every instruction of an ELF,
from `arm-none-eabi-objdump -d`, using a *rough* demo timing model taken
from the Cortex-M0+/M3/M4 technical reference manuals (zero wait states,
pipeline refill P = 2).  It exists to exercise insn-timer.so; the project's
real timing model is meant to produce the same table format.

usage: make-table.py --core {m0plus,m3,m4,m7} app.elf > app.tbl
Line format: VADDR_HEX SIZE BASE TAKEN_EXTRA AFTER_LOAD FLAGS  (# mnemonic)
(m7 uses the m4 numbers: no dual issue, so it is pessimistic for M7.)
"""
import argparse
import re
import subprocess
import sys

COND = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi",
        "ls", "ge", "lt", "gt", "le", "al"}
LINE = re.compile(r"^\s*([0-9a-f]+):\t((?:[0-9a-f]{4} ){1,2})\s*\t(\S+)\s*(.*)$")
IS_LOAD = 1


def branch_kind(m):
    """'uncond', 'cond' or None for a mnemonic without width suffix."""
    if m in ("b", "bl", "blx", "bx"):
        return "uncond"
    if m in ("cbz", "cbnz", "tbb", "tbh"):
        return "cond"
    if m[0] == "b" and m[1:] in COND:
        return "cond"
    for p in ("blx", "bx", "bl"):
        if m.startswith(p) and m[len(p):] in COND:
            return "cond"
    return None


def nregs(ops):
    m = re.search(r"\{([^}]*)\}", ops)
    if not m:
        return 1
    n = 0
    for part in m.group(1).split(","):
        part = part.strip()
        r = re.match(r"[rsd](\d+)-[rsd](\d+)$", part)
        n += int(r.group(2)) - int(r.group(1)) + 1 if r else 1
    return n


def cost(core, m, ops):
    """-> (base, taken_extra, after_load, flags)"""
    m0 = core == "m0plus"
    P = 1 if m0 else 2            # extra cycles of a taken branch
    writes_pc = bool(re.match(r"pc\b", ops)) or ("pc}" in ops) or \
        bool(re.search(r"[{,]\s*pc\b", ops))
    bk = branch_kind(m)
    if bk:
        extra = 2 if (m0 and m.startswith("bl") and bk == "uncond" and m != "blx") else P
        return 1, extra, -1, 0
    after = -1 if m0 else 1       # M3/M4: a load/store right after a load pipelines
    if m.startswith("v"):         # FPU (M4/M7 only)
        if m in ("vpush", "vpop") or m.startswith(("vldm", "vstm")):
            n = nregs(ops)
            return 1 + n, 0, -1, IS_LOAD if m in ("vpop",) or m.startswith("vldm") else 0
        if m.startswith("vldr"):
            return 2, 0, 1, IS_LOAD
        if m.startswith("vstr"):
            return 2, 0, 1, 0
        if m.startswith(("vdiv", "vsqrt")):
            return 14, 0, -1, 0
        if m.startswith(("vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms")):
            return 3, 0, -1, 0
        return 1, 0, -1, 0
    if m in ("push", "pop") or m.startswith(("ldm", "stm")):
        n = nregs(ops)
        load = m == "pop" or m.startswith("ldm")
        if load and writes_pc:
            return 1 + n, P if not m0 else 2, -1, IS_LOAD
        return 1 + n, 0, -1, IS_LOAD if load else 0
    if m.startswith("ld"):        # ldr ldrb ldrh ldrsb ldrsh ldrd ldrex ...
        base = 3 if m.startswith("ldrd") and not m0 else 2
        if writes_pc:
            return base, P, -1, IS_LOAD
        return base, 0, (base - 1 if after > 0 else -1), IS_LOAD
    if m.startswith("st") and not m.startswith("stc"):
        base = 3 if m.startswith("strd") and not m0 else 2
        return base, 0, (base - 1 if after > 0 else -1), 0
    if m.startswith(("sdiv", "udiv")):
        return 7, 0, -1, 0        # 2..12 on M3/M4
    if core == "m3":
        if m.startswith(("mla", "mls")):
            return 2, 0, -1, 0
        if m.startswith(("smull", "umull", "smlal", "umlal")):
            return 4, 0, -1, 0
    if writes_pc and not m.startswith(("cmp", "cmn", "tst", "teq")):
        return 1, P, -1, 0        # mov pc / add pc
    return 1, 0, -1, 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--core", required=True, choices=["m0plus", "m3", "m4", "m7"])
    ap.add_argument("--objdump", default="arm-none-eabi-objdump")
    ap.add_argument("elf")
    a = ap.parse_args()
    core = "m4" if a.core == "m7" else a.core
    dis = subprocess.run([a.objdump, "-d", a.elf], check=True,
                         capture_output=True, text=True).stdout
    out = sys.stdout
    out.write(f"# insn-timer table for {a.elf}, core {a.core} (demo model)\n")
    for line in dis.splitlines():
        mt = LINE.match(line)
        if not mt:
            continue
        addr, raw, mn, ops = mt.groups()
        if mn.startswith("."):      # .word / .short: literal pool data
            continue
        size = 2 * len(raw.split())
        m = mn.lower().split(".")[0]  # drop .w / .n
        base, extra, after, flags = cost(core, m, ops)
        out.write(f"{int(addr, 16):x} {size} {base} {extra} {after} {flags}  # {mn} {ops}\n")


if __name__ == "__main__":
    main()
