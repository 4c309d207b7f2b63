/*
 * insn-timer.c - a QEMU TCG plugin (plugin API version 1, QEMU 7.2) that
 * counts executed guest instructions exactly and weights each one with a
 * cycle cost read from a table file.  The timing model lives in the table;
 * this plugin only applies it.
 *
 * Build (no QEMU headers, no glib needed):
 *     cc -O2 -shared -fPIC -o insn-timer.so insn-timer.c
 *
 * Use (QEMU 7.2 accepts plugin arguments directly as key=value after the
 * file name; the older "arg=key=value" form is deprecated):
 *     qemu-system-arm ... -plugin ./insn-timer.so,table=app.tbl,\
 *         marks=0x1a0:0x1a4,stack_lo=0x20000100,stack_hi=0x20004000,out=result.json
 * (QemuOpts syntax: values may not contain ',' unless doubled as ',,').
 *
 * Arguments (all optional; hex values may have a 0x prefix):
 *   table=PATH     one line per instruction:
 *                    VADDR_HEX SIZE BASE TAKEN_EXTRA AFTER_LOAD FLAGS
 *                  '#' starts a comment; blank lines are ignored.
 *                  FLAGS bit 0 = IS_LOAD.  AFTER_LOAD = -1 means "no change".
 *   marks=HEX:HEX:...  addresses of marker functions (Thumb bit 0 is
 *                  ignored); marker i (1-based) records an event each time
 *                  execution reaches it.  Markers 1 and 2 also open and close
 *                  the region of min_store_region.
 *   stack_lo=HEX   lowest stack address (inclusive), e.g. end of .bss
 *   stack_hi=HEX   highest stack address (exclusive), e.g. _estack
 *   out=PATH       JSON result file (default: stderr)
 *   profile=PATH   optional: per-address execution counts with QEMU's
 *                  disassembly of each instruction (for debugging a table)
 *   load_needs_access=on|off  (default on) see "AFTER_LOAD" below.
 *
 * Cycle model applied per executed instruction I (prev = instruction executed
 * just before I):
 *   cycles += (prev is a load && I.AFTER_LOAD >= 0) ? I.AFTER_LOAD : I.BASE
 *   cycles += prev.TAKEN_EXTRA  if prev.TAKEN_EXTRA > 0 and
 *                               I.vaddr != prev.vaddr + prev.size
 *   ("taken" is decided when the next instruction executes, so the extra
 *   cycles of a branch are charged together with its successor.)
 *   "prev is a load" means prev has FLAGS bit 0 and, with
 *   load_needs_access=on, prev really read memory (a load in an IT block
 *   whose condition failed performs no access and is not treated as a load).
 *   Instructions not in the table cost 1 cycle and are counted as unknown.
 *
 * Marks: when execution reaches marker i (before that instruction is
 * counted, but after the taken-branch extra of the call into it), the event
 * [i, cycles, instructions] is appended with the running totals.  The
 * difference between two events is what ran in between: from a start
 * marker's first instruction up to and including the call to the end marker.
 *
 * Stack: every store (qemu memory callback) whose address a satisfies
 * stack_lo <= a < stack_hi updates min_store, and min_store_region if a
 * region is open.  Each access of a multiple store (PUSH/STM/STRD) is seen.
 *
 * Output (at exit, atexit callback), one JSON object:
 *   {"instructions": N, "cycles": C, "unknown": U,
 *    "marks": [[id, c, i], ...], "min_store": A, "min_store_region": A}
 * addresses are decimal; null when no store was seen in the range.
 *
 * Exactness and limits:
 *  - Counting uses a per-instruction execution callback that QEMU emits at
 *    the start of each instruction, before the instruction's own code.  So
 *    every instruction is counted exactly once per execution, regardless of
 *    how QEMU groups instructions into translation blocks (TBs).  If an
 *    instruction raises a synchronous exception (fault, SVC, BKPT, UDF) in
 *    the middle of a TB, it has been counted, and the rest of the TB is not
 *    (it did not execute): this is exact.  A faulting instruction that is
 *    re-executed after its handler returns is counted again (as hardware
 *    issues it again).  Interrupts are only taken between TBs.
 *  - Thumb IT blocks: QEMU translates an instruction whose IT condition fails
 *    as a conditional jump over its body, placed *after* the instruction
 *    start where the plugin callback is inserted, so condition-failed
 *    instructions are counted (as on the core, which issues them).  They
 *    are charged BASE from the table (Cortex-M TRMs: a failed conditional
 *    instruction normally takes 1 cycle; put that in BASE if you want).
 *  - Exception entry/return (stacking, 12+ cycles), interrupt latency, wait
 *    states, bus contention, and branch/prefetch effects beyond TAKEN_EXTRA
 *    are not modelled.  An exception entry right after a branch with
 *    TAKEN_EXTRA > 0 makes that branch look taken.
 *  - The last executed instruction never gets its TAKEN_EXTRA (no successor).
 *  - With icount (-icount) QEMU may re-execute a TB ending in an I/O access
 *    with memory-only instrumentation; no double counting results, but this
 *    plugin was only validated without -icount.
 *  - Single vCPU only (refuses to load with more); all state is global and
 *    touched only from the vCPU thread, then read once at exit.
 *  - Self-modifying code / code in RAM that changes is looked up by address
 *    at translation time: the table describes addresses, not bytes.
 *  - Deterministic: the result depends only on the executed instruction
 *    stream (no host time, no sampling).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The parts of QEMU's plugin API v1 (include/qemu/qemu-plugin.h of
 * QEMU 7.2) that this file uses, declared here because Debian's qemu does
 * not ship the header.  The functions are resolved from the qemu binary. */
typedef uint64_t qemu_plugin_id_t;
typedef uint32_t qemu_plugin_meminfo_t;
typedef struct qemu_info_t {
    const char *target_name;
    struct {
        int min;
        int cur;
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};
enum qemu_plugin_mem_rw {
    QEMU_PLUGIN_MEM_R = 1,
    QEMU_PLUGIN_MEM_W,
    QEMU_PLUGIN_MEM_RW,
};
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
                                            void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
                                               struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index,
                                          qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                           qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags,
                                            void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
                                      qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags,
                                      enum qemu_plugin_mem_rw rw,
                                      void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
                                    qemu_plugin_udata_cb_t cb, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
                                                 size_t idx);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);
bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;
EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                               int argc, char **argv);

/* ---- Instruction table ---- */
#define FLAG_IS_LOAD 1u

struct ent {
    uint64_t vaddr;
    uint64_t count;       /* executions (for profile=) */
    int32_t base;
    int32_t taken_extra;
    int32_t after_load;
    uint32_t flags;
    uint32_t size;        /* from the table; 0 = take QEMU's */
    bool known;           /* present in the table */
    uint32_t marker;      /* 1-based marker number, 0 if none */
    bool size_warned;
    char *disas;          /* for profile=, from qemu_plugin_insn_disas */
};

/* open-addressing hash map vaddr -> struct ent * */
static struct ent **map;
static size_t map_cap, map_used;

static size_t hash_addr(uint64_t a)
{
    a ^= a >> 33;
    a *= 0xff51afd7ed558ccdULL;
    a ^= a >> 33;
    return (size_t)a;
}

static void map_put(struct ent *e);

static void map_grow(void)
{
    struct ent **old = map;
    size_t oldcap = map_cap;
    map_cap = oldcap ? oldcap * 2 : 4096;
    map = calloc(map_cap, sizeof(*map));
    if (!map) {
        fprintf(stderr, "insn-timer: out of memory\n");
        exit(1);
    }
    map_used = 0;
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i]) {
            map_put(old[i]);
        }
    }
    free(old);
}

static struct ent *map_get(uint64_t va)
{
    if (!map_cap) {
        return NULL;
    }
    for (size_t i = hash_addr(va) & (map_cap - 1);; i = (i + 1) & (map_cap - 1)) {
        if (!map[i]) {
            return NULL;
        }
        if (map[i]->vaddr == va) {
            return map[i];
        }
    }
}

static void map_put(struct ent *e)
{
    if ((map_used + 1) * 2 > map_cap) {
        map_grow();
    }
    size_t i = hash_addr(e->vaddr) & (map_cap - 1);
    while (map[i]) {
        if (map[i]->vaddr == e->vaddr) {
            map[i] = e;
            return;
        }
        i = (i + 1) & (map_cap - 1);
    }
    map[i] = e;
    map_used++;
}

static struct ent *ent_new(uint64_t va)
{
    struct ent *e = calloc(1, sizeof(*e));
    if (!e) {
        fprintf(stderr, "insn-timer: out of memory\n");
        exit(1);
    }
    e->vaddr = va;
    e->base = 1;
    e->after_load = -1;
    return e;
}

static int load_table(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "insn-timer: cannot open table %s\n", path);
        return -1;
    }
    char line[512];
    int lineno = 0, n = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) {
            *hash = 0;
        }
        char *p = line;
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\n' || *p == '\r' || *p == 0) {
            continue;
        }
        char *q;
        unsigned long long va = strtoull(p, &q, 16);
        long v[5];
        bool ok = q != p;
        for (int k = 0; k < 5 && ok; k++) {
            p = q;
            v[k] = strtol(p, &q, 0);
            ok = q != p;
        }
        if (!ok) {
            fprintf(stderr, "insn-timer: %s:%d: expected 'VADDR SIZE BASE "
                    "TAKEN_EXTRA AFTER_LOAD FLAGS'\n", path, lineno);
            fclose(f);
            return -1;
        }
        struct ent *e = ent_new(va & ~1ULL);
        e->size = (uint32_t)v[0];
        e->base = (int32_t)v[1];
        e->taken_extra = (int32_t)v[2];
        e->after_load = (int32_t)v[3];
        e->flags = (uint32_t)v[4];
        e->known = true;
        if (map_get(e->vaddr)) {
            fprintf(stderr, "insn-timer: %s:%d: duplicate address %llx "
                    "(last one wins)\n", path, lineno, va);
        }
        map_put(e);
        n++;
    }
    fclose(f);
    return n;
}

/* ---- Run-time state (vCPU thread only) ---- */
static uint64_t n_insns, n_cycles, n_unknown;
static struct ent *prev;
static bool load_seen;            /* a memory read happened since last insn */
static bool load_needs_access = true;

#define MAX_MARKERS 8
static uint64_t marker_addr[MAX_MARKERS];
static size_t n_markers;
static bool region_open;
static uint64_t (*events)[3];
static size_t n_events, cap_events;

static bool track_stack;
static uint64_t stack_lo, stack_hi;
static uint64_t min_store = UINT64_MAX, min_store_region = UINT64_MAX;

static const char *out_path, *profile_path;
static bool written;

static void on_exec(unsigned int vcpu, void *udata)
{
    struct ent *e = udata;
    struct ent *p = prev;
    bool after_load = false;
    (void)vcpu;

    if (p) {
        if (p->taken_extra > 0 && e->vaddr != p->vaddr + p->size) {
            n_cycles += (uint64_t)p->taken_extra;
        }
        after_load = (p->flags & FLAG_IS_LOAD) &&
                     (load_seen || !load_needs_access);
    }
    load_seen = false;

    if (e->marker) {
        if (n_events == cap_events) {
            cap_events = cap_events ? cap_events * 2 : 64;
            events = realloc(events, cap_events * sizeof(*events));
            if (!events) {
                fprintf(stderr, "insn-timer: out of memory\n");
                exit(1);
            }
        }
        events[n_events][0] = e->marker;
        events[n_events][1] = n_cycles;
        events[n_events][2] = n_insns;
        n_events++;
        if (e->marker == 1) {
            region_open = true;
        } else if (e->marker == 2) {
            region_open = false;
        }
    }

    int32_t c = (after_load && e->after_load >= 0) ? e->after_load : e->base;
    n_cycles += (uint64_t)(int64_t)c;
    n_insns++;
    e->count++;
    if (!e->known) {
        n_unknown++;
    }
    prev = e;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info,
                   uint64_t vaddr, void *udata)
{
    (void)vcpu;
    (void)udata;
    if (!qemu_plugin_mem_is_store(info)) {
        load_seen = true;
        return;
    }
    if (track_stack && vaddr >= stack_lo && vaddr < stack_hi) {
        if (vaddr < min_store) {
            min_store = vaddr;
        }
        if (region_open && vaddr < min_store_region) {
            min_store_region = vaddr;
        }
    }
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t va = qemu_plugin_insn_vaddr(insn);
        uint32_t sz = (uint32_t)qemu_plugin_insn_size(insn);
        struct ent *e = map_get(va);
        if (!e) {
            e = ent_new(va);
            e->size = sz;
            map_put(e);
        } else if (e->size != sz && !e->size_warned) {
            fprintf(stderr, "insn-timer: table says size %u at %llx, qemu "
                    "decoded %u; using qemu's\n", e->size,
                    (unsigned long long)va, sz);
            e->size_warned = true;
            e->size = sz;
        }
        for (size_t m = 0; m < n_markers; m++) {
            if (marker_addr[m] == va) {
                e->marker = (uint32_t)(m + 1);
            }
        }
        if (profile_path && !e->disas) {
            e->disas = qemu_plugin_insn_disas(insn); /* may be NULL */
        }
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_exec,
                                               QEMU_PLUGIN_CB_NO_REGS, e);
        int rw = 0;
        if ((e->flags & FLAG_IS_LOAD) && load_needs_access) {
            rw |= QEMU_PLUGIN_MEM_R;
        }
        if (track_stack) {
            rw |= QEMU_PLUGIN_MEM_W;
        }
        if (rw) {
            qemu_plugin_register_vcpu_mem_cb(insn, on_mem,
                                             QEMU_PLUGIN_CB_NO_REGS,
                                             (enum qemu_plugin_mem_rw)rw,
                                             NULL);
        }
    }
}

static void put_addr(FILE *f, uint64_t a)
{
    if (a == UINT64_MAX) {
        fputs("null", f);
    } else {
        fprintf(f, "%llu", (unsigned long long)a);
    }
}

static int cmp_ent(const void *a, const void *b)
{
    const struct ent *x = *(struct ent *const *)a, *y = *(struct ent *const *)b;
    return x->vaddr < y->vaddr ? -1 : x->vaddr > y->vaddr;
}

static void write_profile(void)
{
    FILE *f = fopen(profile_path, "w");
    if (!f) {
        fprintf(stderr, "insn-timer: cannot write %s\n", profile_path);
        return;
    }
    size_t n = 0;
    struct ent **v = malloc((map_used + 1) * sizeof(*v));
    for (size_t i = 0; v && i < map_cap; i++) {
        if (map[i] && map[i]->count) {
            v[n++] = map[i];
        }
    }
    if (v) {
        qsort(v, n, sizeof(*v), cmp_ent);
        fputs("# vaddr size count known disassembly\n", f);
        for (size_t i = 0; i < n; i++) {
            fprintf(f, "%llx %u %llu %d %s\n", (unsigned long long)v[i]->vaddr,
                    v[i]->size, (unsigned long long)v[i]->count,
                    v[i]->known ? 1 : 0, v[i]->disas ? v[i]->disas : "?");
        }
        free(v);
    }
    fclose(f);
}

static void on_exit_cb(qemu_plugin_id_t id, void *udata)
{
    (void)id;
    (void)udata;
    if (written) {
        return;
    }
    written = true;
    FILE *f = stderr;
    if (out_path) {
        f = fopen(out_path, "w");
        if (!f) {
            fprintf(stderr, "insn-timer: cannot write %s\n", out_path);
            f = stderr;
        }
    }
    fprintf(f, "{\"instructions\": %llu, \"cycles\": %llu, \"unknown\": %llu, "
            "\"marks\": [", (unsigned long long)n_insns,
            (unsigned long long)n_cycles, (unsigned long long)n_unknown);
    for (size_t i = 0; i < n_events; i++) {
        fprintf(f, "%s[%llu, %llu, %llu]", i ? ", " : "",
                (unsigned long long)events[i][0],
                (unsigned long long)events[i][1],
                (unsigned long long)events[i][2]);
    }
    fputs("], \"min_store\": ", f);
    put_addr(f, min_store);
    fputs(", \"min_store_region\": ", f);
    put_addr(f, min_store_region);
    fputs("}\n", f);
    if (f != stderr) {
        fclose(f);
    } else {
        fflush(f);
    }
    if (profile_path) {
        write_profile();
    }
}

static bool parse_hex(const char *v, uint64_t *out)
{
    char *q;
    if (!*v) {
        return false;
    }
    *out = strtoull(v, &q, 16);
    return *q == 0;
}

/* "HEX:HEX:..." -> marker_addr[] */
static bool parse_marks(const char *v)
{
    n_markers = 0;
    while (*v) {
        char *q;
        if (n_markers == MAX_MARKERS) {
            return false;
        }
        uint64_t a = strtoull(v, &q, 16);
        if (q == v || (*q != ':' && *q != 0)) {
            return false;
        }
        marker_addr[n_markers++] = a & ~1ULL;
        v = *q == ':' ? q + 1 : q;
    }
    return n_markers > 0;
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                               int argc, char **argv)
{
    const char *table = NULL;
    bool have_lo = false, have_hi = false;

    if (info->system_emulation && info->system.max_vcpus > 1) {
        fprintf(stderr, "insn-timer: single vCPU only (max_vcpus=%d)\n",
                info->system.max_vcpus);
        return -1;
    }
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "insn-timer: argument '%s' is not key=value\n",
                    argv[i]);
            return -1;
        }
        size_t kl = (size_t)(eq - argv[i]);
        const char *v = eq + 1;
        bool ok = true;
#define KEY(s) (kl == sizeof(s) - 1 && strncmp(argv[i], s, kl) == 0)
        if (KEY("table")) {
            table = v;
        } else if (KEY("marks")) {
            ok = parse_marks(v);
        } else if (KEY("stack_lo")) {
            ok = have_lo = parse_hex(v, &stack_lo);
        } else if (KEY("stack_hi")) {
            ok = have_hi = parse_hex(v, &stack_hi);
        } else if (KEY("out")) {
            out_path = v;
        } else if (KEY("profile")) {
            profile_path = v;
        } else if (KEY("load_needs_access")) {
            if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1")) {
                load_needs_access = true;
            } else if (!strcmp(v, "off") || !strcmp(v, "false") ||
                       !strcmp(v, "0")) {
                load_needs_access = false;
            } else {
                ok = false;
            }
        } else {
            fprintf(stderr, "insn-timer: unknown argument '%s'\n", argv[i]);
            return -1;
        }
#undef KEY
        if (!ok) {
            fprintf(stderr, "insn-timer: bad value in '%s'\n", argv[i]);
            return -1;
        }
    }
    if (have_lo != have_hi || (have_lo && stack_lo >= stack_hi)) {
        fprintf(stderr, "insn-timer: need both stack_lo < stack_hi\n");
        return -1;
    }
    track_stack = have_lo;
    if (table && load_table(table) < 0) {
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
