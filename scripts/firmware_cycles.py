#!/usr/bin/env python3
"""Estimated Cortex-M4F cycles per 512-sample hop on the nRF52840 (64 MHz, flash cache on).

QEMU counts instructions, not cycles. This script reads a QEMU TCG log of the firmware streaming
a short PCM piece (`qemu-system-arm -d in_asm,exec,cpu,nochain`: the disassembly of every
translation block, one line per executed block and the core registers at its entry), classifies
every executed instruction of the per-hop work and applies a Cortex-M4 timing model plus flash
wait states. Plain Python 3, no third-party packages; the log is read as a stream (a FIFO), never
loaded whole. Run through `scripts/firmware-cycles`, which builds the image and starts QEMU.

Usage: firmware_cycles.py --elf IMAGE --log LOG --hops N [--bench-total INSNS]
  IMAGE        the tinygenre-qemu ELF that QEMU ran (symbols: arm-none-eabi-nm -C; inlining:
               arm-none-eabi-addr2line -f -i -C, from its debug info)
  LOG          the QEMU log (file or FIFO)
  N            hops (feature frames) the firmware produced from the piece (its `bench hops:`)
  INSNS        the firmware's own SysTick count, frontend + LSTM per hop, for the same piece
Output (stdout): instructions per hop, the instruction mix, cycles per hop (low / best / high)
with the model's assumptions, the share of the hop budget, and a per-function profile.

Scope of "per hop": every instruction executed inside `Stream::push` (inlined into the image's
main: an instruction is in scope when its inline chain, from the debug info, contains
`genre_core::stream::Stream::push`), plus everything called from there (a call stack is kept
from `bl`/`blx` and their return addresses). Start-up, reading the PCM file over semihosting and
the i16 conversion in main are out of scope. Divided by N. The firmware's SysTick figure leaves
out the few instructions of its own bookkeeping (SysTick reads, cost counters), so this count
is slightly higher.

Timing model (Arm Cortex-M4 Technical Reference Manual, r0p1, "Instruction set summary" and
the FPU chapter; P = pipeline refill after a taken branch, 1..3 cycles):
  data processing, MOV/MOVW/MOVT, shifts, extends, bit-field, saturating, SIMD add/sub   1
  MUL, SMULL/UMULL/SMLAL/UMLAL, SMLAD/SMUAD/SMLABB/SMMUL... (single-cycle MAC)          1
  MLA, MLS                                                                                2
  SDIV/UDIV: 2..12 by operand size (early termination); assumed 2 / 7 / 12
  LDR/STR (all widths) 2; a load/store directly after another load/store in the same
    block, whose address does not use the previous load's result, pipelines to 1
  LDRD/STRD 3; LDM/STM/PUSH/POP 1+N (N registers); POP/LDM with PC and LDR PC +P
  B/BX/BLX/BL/CBZ/CBNZ: 1, +P when taken (taken = the next executed block does not start at
    the next instruction); TBB/TBH 2+P (plus the flash read of the table)
  IT: folded (0) in low/best, 1 in high
  VADD/VSUB/VMUL/VNMUL/VABS/VNEG/VCVT/VCMP/VMOV/VMRS 1; VMOV of two core regs 2
  VMLA/VMLS/VNMLA/VNMLS/VFMA/VFMS 3; VDIV/VSQRT 14
  VLDR/VSTR 2 (pipelined to 1 like LDR/STR); VLDM/VSTM/VPUSH/VPOP 1+N words (D reg = 2 words)
  BKPT, barriers, MRS/MSR, CPS: 1 (out of scope anyway)
Memory (nRF52840): RAM 0 wait states. Flash (0x0000_0000..) at 64 MHz has wait states; the
NVMC cache (NVMC.ICACHECNF.CACHEEN) caches instruction fetches on the I-Code bus only (its
counters are IHIT/IMISS, "I-code cache hit/miss"), so loads of constant tables, weights and
literal pools over the D-Code bus pay the flash wait states W on every access:
  W per uncached flash access: low 1, best 2, high 3
  instruction-cache misses per hop: low 0 (the hop's code stays cached), best one per
  16-byte line of code executed in the hop, high three per line; each costs W.
Data addresses: the register values at each block's entry are in the log; a load's base
register is followed through the block (writeback, MOV, ADD/SUB immediate, ADD register,
MOVW/MOVT) back to the block's entry, or, when it was loaded inside the block and only moves
within its region afterwards, forward to the next block's entry. A load whose address cannot be
followed counts as RAM in low/best and as flash in high; the script prints how many there
were. PC-relative loads (literal pools, TBB/TBH) read flash.
Known inexactness: under -icount QEMU starts a block it then leaves unexecuted about once per
65,535 instructions (budget refill); negligible. An I/O access (SysTick read) in mid-block makes
QEMU re-execute from that instruction in a new block; the script truncates the first block there.
"""

import argparse
import bisect
import collections
import functools
import re
import subprocess
import sys
import types

HOP_CYCLES = 2_048_000  # 32 ms at 64 MHz
BUDGET = 204_800  # 10 % of the hop
SCOPE_FN = "genre_core::stream::Stream::push"
MAIN_FN = "tinygenre_qemu::__cortex_m_rt_main"
LINE_BYTES = 16

SCENARIOS = ("low", "best", "high")
P_REFILL = {"low": 1, "best": 2, "high": 3}
DIV = {"low": 2, "best": 7, "high": 12}
IT_COST = {"low": 0, "best": 0, "high": 1}
FLASH_W = {"low": 1, "best": 2, "high": 3}
IMISS_PER_LINE = {"low": 0, "best": 1, "high": 3}

CONDS = ("eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt",
         "gt", "le", "al")
REG_ALIAS = {"sb": 9, "sl": 10, "fp": 11, "ip": 12, "sp": 13, "lr": 14, "pc": 15}

ALU = set("""mov movs mvn mvns movw movt add adds adc adcs addw sub subs sbc sbcs subw rsb rsbs
and ands orr orrs orn orns eor eors bic bics cmp cmn tst teq lsl lsls lsr lsrs asr asrs ror
rors rrx rrxs clz rbit rev rev16 revsh sxtb sxth uxtb uxth sxtb16 uxtb16 sxtab sxtah uxtab
uxtah sxtab16 uxtab16 bfi bfc ubfx sbfx ssat usat ssat16 usat16 qadd qsub qdadd qdsub sel
pkhbt pkhtb adr usad8 usada8 nop sadd16 ssub16 sadd8 ssub8 uadd16 usub16 uadd8 usub8 qadd16
qsub16 qadd8 qsub8 uqadd16 uqsub16 uqadd8 uqsub8 shadd16 shsub16 uhadd16 uhsub16 shadd8 shsub8
uhadd8 uhsub8 sasx ssax uasx usax qasx qsax uqasx uqsax shasx shsax uhasx uhsax""".split())
MUL1 = set("""mul muls smull umull smlal umlal umaal smlad smladx smlsd smlsdx smuad smuadx
smusd smusdx smlald smlaldx smlsld smlsldx smulbb smulbt smultb smultt smlabb smlabt smlatb
smlatt smulwb smulwt smlawb smlawt smlalbb smlalbt smlaltb smlaltt smmul smmulr smmla smmlar
smmls smmlsr""".split())
MUL2 = {"mla", "mls"}
DIVS = {"sdiv", "udiv"}
LOADS = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrt", "ldrbt", "ldrht", "ldrex", "ldrexb",
         "ldrexh"}
STORES = {"str", "strb", "strh", "strt", "strex", "strexb", "strexh"}
LDM = {"ldm", "ldmia", "ldmfd", "ldmdb", "ldmea", "pop"}
STM = {"stm", "stmia", "stmea", "stmdb", "stmfd", "push"}
BRANCH = {"b", "bl", "bx", "blx", "cbz", "cbnz"}
TABLE = {"tbb", "tbh"}
ITS = {"it", "itt", "ite", "ittt", "itte", "itet", "itee", "itttt", "ittte", "ittet", "ittee",
       "itett", "itete", "iteet", "iteee"}
FP1 = {"vadd", "vsub", "vmul", "vnmul", "vabs", "vneg", "vcvt", "vcvtr", "vcvta", "vcvtn",
       "vcvtp", "vcvtm", "vcmp", "vcmpe", "vmov", "vmrs", "vmsr", "vcvtb", "vcvtt"}
FPMAC = {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma", "vfnms"}
FPDIV = {"vdiv", "vsqrt"}
FPLS = {"vldr", "vstr"}
FPLDM = {"vldm", "vldmia", "vldmdb", "vpop"}
FPSTM = {"vstm", "vstmia", "vstmdb", "vpush"}
SYSTEM = {"bkpt", "isb", "dsb", "dmb", "mrs", "msr", "cpsid", "cpsie", "svc", "wfi", "wfe",
          "sev", "yield", "udf"}
KNOWN = (ALU | MUL1 | MUL2 | DIVS | LOADS | STORES | LDM | STM | BRANCH | TABLE | ITS | FP1
         | FPMAC | FPDIV | FPLS | FPLDM | FPSTM | SYSTEM | {"ldrd", "strd"})
NO_DEST = {"cmp", "cmn", "tst", "teq", "nop"} | STORES | STM | BRANCH | TABLE | ITS | SYSTEM

CLASS_ORDER = ("ALU", "IT", "multiply / MAC", "divide", "load (RAM)", "load (flash)",
               "load (not followed)", "store", "load/store multiple", "branch not taken",
               "branch taken", "FP add/mul/cvt/mov", "FP multiply-accumulate", "FP div/sqrt",
               "FP load/store", "other")


def base_mnemonic(raw):
    """`vmovgt.f32` -> `vmov`, `addls` -> `add`, `ldr.w` -> `ldr`, `blne` -> `bl`."""
    word = raw.lower().split(".")[0]
    if word in KNOWN:
        return word
    if len(word) > 2 and word[-2:] in CONDS and word[:-2] in KNOWN:
        return word[:-2]
    return word


def reg_num(token):
    token = token.strip().lower()
    if token in REG_ALIAS:
        return REG_ALIAS[token]
    if re.fullmatch(r"r\d+", token):
        return int(token[1:])
    return None


def reg_list(text):
    """Core registers and FP words in a `{...}` list."""
    inner = text[text.index("{") + 1:text.index("}")]
    core, words = [], 0
    for item in inner.split(","):
        item = item.strip().lower()
        parts = item.split("-")
        if item.startswith(("s", "d")) and item[1:2].isdigit():
            lo = int(parts[0][1:])
            hi = int(parts[-1][1:])
            words += (hi - lo + 1) * (2 if item.startswith("d") else 1)
        else:
            lo, hi = reg_num(parts[0]), reg_num(parts[-1])
            if lo is not None and hi is not None:
                core.extend(range(lo, hi + 1))
    return core, words


def imm(text):
    text = text.strip().lstrip("#")
    try:
        return int(text, 0)
    except ValueError:
        return None


class Insn:
    """One decoded instruction: its class, its cycles without memory wait states, the memory
    words it reads, and the core registers it writes."""

    __slots__ = ("addr", "size", "mn", "cls", "cycles", "ldst", "load", "words", "addr_op",
                 "dests", "sets", "uses", "is_branch", "is_call", "writes_pc")

    def __init__(self, addr, size, raw_mn, ops):
        self.addr, self.size = addr, size
        mn = base_mnemonic(raw_mn)
        self.mn = mn
        self.ldst = False  # a single load/store, which can pipeline with its neighbour
        self.load = False  # reads memory
        self.words = 0  # words read
        self.addr_op = None  # ("reg", base, index, shift, offset) or "flash" (PC-relative)
        self.dests, self.sets, self.uses = [], None, set()
        self.is_branch = self.is_call = self.writes_pc = False
        self.cycles = {s: 1 for s in SCENARIOS}
        opl = split_ops(ops)
        first = reg_num(opl[0]) if opl else None

        if mn in ITS:
            self.cls = "IT"
            self.cycles = dict(IT_COST)
        elif mn in ALU:
            self.cls = "ALU"
        elif mn in MUL1:
            self.cls = "multiply / MAC"
        elif mn in MUL2:
            self.cls = "multiply / MAC"
            self.cycles = {s: 2 for s in SCENARIOS}
        elif mn in DIVS:
            self.cls = "divide"
            self.cycles = dict(DIV)
        elif mn in LOADS or mn in STORES or mn in ("ldrd", "strd") or mn in FPLS:
            self.load = mn in LOADS or mn in ("ldrd", "vldr")
            two = mn in ("ldrd", "strd")
            if mn in FPLS:
                self.cls = "FP load/store"
            else:
                self.cls = "load" if self.load else "store"
            self.cycles = {s: 3 if two else 2 for s in SCENARIOS}
            self.ldst = not two
            self.words = 2 if two or (mn == "vldr" and opl[0].startswith("d")) else 1
            self.addr_op = address_operand(ops)
            if self.load and mn != "vldr":
                self.dests = [r for r in (reg_num(o) for o in opl[:2 if two else 1])
                              if r is not None]
        elif mn in LDM or mn in STM or mn in FPLDM or mn in FPSTM:
            core, fp_words = reg_list(ops)
            self.words = len(core) + fp_words
            if mn in FPLDM or mn in FPSTM:
                self.cls = "FP load/store"
            else:
                self.cls = "load/store multiple"
            self.cycles = {s: 1 + self.words for s in SCENARIOS}
            self.load = mn in LDM or mn in FPLDM
            stacked = mn in ("push", "pop", "vpush", "vpop")
            base = 13 if stacked else reg_num(opl[0].rstrip("!"))
            self.addr_op = ("reg", base, None, 0, 0)
            if mn in LDM:
                self.dests = [r for r in core if r != 15]
                if 15 in core:
                    self.writes_pc = True
        elif mn in BRANCH:
            self.cls = "branch"
            self.is_branch = True
            self.is_call = mn in ("bl", "blx")
        elif mn in TABLE:
            self.cls = "branch"
            self.is_branch = True
            self.cycles = {s: 2 for s in SCENARIOS}
            self.load, self.words, self.addr_op = True, 1, "flash"
        elif mn in FPMAC:
            self.cls = "FP multiply-accumulate"
            self.cycles = {s: 3 for s in SCENARIOS}
        elif mn in FPDIV:
            self.cls = "FP div/sqrt"
            self.cycles = {s: 14 for s in SCENARIOS}
        elif mn in FP1:
            self.cls = "FP add/mul/cvt/mov"
            if mn == "vmov" and first is not None:
                self.dests = [r for r in (reg_num(o) for o in opl) if r is not None]
            if mn == "vmov" and sum(reg_num(o) is not None for o in opl) == 2:
                self.cycles = {s: 2 for s in SCENARIOS}
        else:
            self.cls = "other"

        if mn in ("smull", "umull", "smlal", "umlal", "umaal", "smlald", "smlsld", "smlalbb",
                  "smlalbt", "smlaltb", "smlaltt"):
            self.dests = [r for r in (reg_num(o) for o in opl[:2]) if r is not None]
        elif (not self.dests and first is not None and mn not in NO_DEST
              and not mn.startswith("v") and self.addr_op is None):
            self.dests = [first]
            self.sets = value_expr(mn, opl)
        if 15 in self.dests:
            self.dests.remove(15)
            self.writes_pc = True
        if self.writes_pc:
            self.is_branch = True
            self.cls = "branch"
        if isinstance(self.addr_op, tuple):
            self.uses = {r for r in self.addr_op[1:3] if r is not None}


def split_ops(ops):
    """Top-level comma split (brackets and braces kept together)."""
    out, depth, cur = [], 0, ""
    for ch in ops:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def address_operand(ops):
    """("reg", base, index_or_None, shift, offset) for `[base, ...]`, "flash" for [pc, ...]."""
    m = re.search(r"\[([^\]]*)\]", ops)
    if not m:
        return None
    parts = [p.strip() for p in m.group(1).split(",")]
    base = reg_num(parts[0])
    if base == 15:
        return "flash"
    index, shift, offset = None, 0, 0
    if len(parts) > 1:
        r = reg_num(parts[1])
        if r is not None:
            index = r
            if len(parts) > 2:
                sm = re.match(r"lsl\s+#(\w+)", parts[2])
                shift = int(sm.group(1), 0) if sm else 0
        else:
            offset = imm(parts[1]) or 0
    return ("reg", base, index, shift, offset)


def value_expr(mn, opl):
    """Expression for the destination of a data-processing instruction, or None (unknown).

    ("reg", r, 0): the entry value of r; ("const", v); ("add", e1, e2, shift)."""
    d = reg_num(opl[0])
    srcs = opl[1:]
    if mn in ("mov", "movs") and len(srcs) == 1:
        r = reg_num(srcs[0])
        if r is not None:
            return ("copy", r)
        v = imm(srcs[0])
        return ("const", v) if v is not None else None
    if mn == "movw" and srcs:
        v = imm(srcs[0])
        return ("const", v) if v is not None else None
    if mn == "movt" and srcs:
        v = imm(srcs[0])
        return ("movt", d, v) if v is not None else None
    if mn in ("add", "adds", "addw", "sub", "subs", "subw"):
        if len(srcs) == 1:  # add rd, #imm / add rd, rm
            srcs = [opl[0]] + srcs
        a = reg_num(srcs[0])
        if a is None:
            return None
        if len(srcs) >= 2 and reg_num(srcs[1]) is not None and mn.startswith("add"):
            shift = 0
            if len(srcs) > 2:
                sm = re.match(r"lsl\s+#(\w+)", srcs[2])
                shift = int(sm.group(1), 0) if sm else 0
            return ("addreg", a, reg_num(srcs[1]), shift)
        if len(srcs) >= 2 and imm(srcs[1]) is not None:
            return ("copy", a)  # region preserved; small offsets ignored
    return None


def parse_block(lines):
    """Instructions of one `IN:` listing (`0xADDR:  hex halfwords  mnemonic  operands`)."""
    insns = []
    for line in lines:
        p = re.split(r"\s{2,}", line.rstrip("\n"))
        if len(p) < 3:
            continue
        insns.append(Insn(int(p[0].rstrip(":"), 16), 2 * len(p[1].split()), p[2],
                          p[3] if len(p) > 3 else ""))
    return insns


class Block:
    """A translated block: its instructions, each load's address as an expression over the
    registers at the block's entry (or exit), and which loads/stores pipeline."""

    def __init__(self, insns):
        self.insns = insns
        self.start = insns[0].addr
        self.end = insns[-1].addr + insns[-1].size
        self.loads = [i for i, ins in enumerate(insns) if ins.load]
        self.addr_exprs = {}
        self.pipelined = []
        state = {r: ("reg", r) for r in range(16)}  # register -> expression, None = unknown
        prev_ldst_dests = None
        for i, ins in enumerate(insns):
            op = ins.addr_op
            if ins.load:
                if op == "flash" or op is None:
                    self.addr_exprs[i] = op
                else:
                    _, base, index, shift, offset = op
                    b = state.get(base)
                    if b is None and self.keeps_region(base, i):
                        b = ("exit", base)
                    idx = state.get(index) if index is not None else ("const", 0)
                    self.addr_exprs[i] = ("sum", b, idx, shift, offset, True)
            self.pipelined.append(ins.ldst and prev_ldst_dests is not None
                                  and not ins.uses & prev_ldst_dests)
            prev_ldst_dests = set(ins.dests) if ins.ldst else None
            # Base-register writeback keeps the base in its memory region: state unchanged.
            new = resolve(ins.sets, state) if ins.sets is not None else None
            for d in ins.dests:
                state[d] = None
            if new is not None and len(ins.dests) == 1:
                state[ins.dests[0]] = new

    def keeps_region(self, reg, i):
        """Whether `reg` after instruction i stays in its memory region to the block's end
        (written at most by base writeback or ADD/SUB immediate to itself), so the value it
        has at the next block's entry tells the region."""
        for ins in self.insns[i + 1:]:
            if reg in ins.dests and ins.sets != ("copy", reg):
                return False
        return True


def resolve(expr, state):
    """A `value_expr` result in terms of the entry registers."""
    tag = expr[0]
    if tag == "copy":
        return state.get(expr[1])
    if tag == "const":
        return ("const", expr[1])
    if tag == "movt":
        low = state.get(expr[1])
        low = low[1] & 0xFFFF if low is not None and low[0] == "const" else 0
        return ("const", low | expr[2] << 16)
    if tag == "addreg":
        return ("sum", state.get(expr[1]), state.get(expr[2]), expr[3], 0, False)
    return None


def evaluate(expr, entry, exit_):
    """Value of an address expression given the registers at the block's entry and exit (the
    next block's entry), or None."""
    if expr is None:
        return None
    tag = expr[0]
    if tag == "reg":
        return entry[expr[1]]
    if tag == "exit":
        return exit_[expr[1]] if exit_ is not None else None
    if tag == "const":
        return expr[1]
    a, b = evaluate(expr[1], entry, exit_), evaluate(expr[2], entry, exit_)
    if a is None or b is None:
        # A memory operand's base with an unknown index stays in its region; for ADD of two
        # registers, a RAM pointer plus something unknown stays in RAM.
        if expr[5] and a is not None:
            return a
        known = a if a is not None else b
        return known if known is not None and known >= 0x2000_0000 else None
    return (a + (b << expr[3]) + expr[4]) & 0xFFFF_FFFF


def run_tool(*cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, check=True).stdout


def text_symbols(elf):
    """(start, size, name) of the ELF's code symbols, by address."""
    syms = []
    for line in run_tool("arm-none-eabi-nm", "-C", "-n", "-S", elf).splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] in ("t", "T"):
            syms.append((int(parts[0], 16), int(parts[1], 16), parts[3]))
    return syms


def flash_end_of(elf):
    """End of what the image places in flash (vectors, code, constants)."""
    end = 0
    for line in run_tool("arm-none-eabi-size", "-A", elf).splitlines():
        p = line.split()
        if len(p) == 3 and p[0] in (".vector_table", ".text", ".rodata") and p[1].isdigit():
            end = max(end, int(p[2]) + int(p[1]))
    return end


def inline_chains(elf, start, end):
    """Address -> inlined function names, innermost first, for every instruction of
    [start, end) (objdump for the addresses, one addr2line run for the chains)."""
    dis = run_tool("arm-none-eabi-objdump", "-d", "--no-show-raw-insn",
                   f"--start-address={start:#x}", f"--stop-address={end:#x}", elf)
    addrs = [int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):\t", dis, re.M)]
    out = run_tool("arm-none-eabi-addr2line", "-f", "-i", "-C", "-a", "-e", elf,
                   stdin="\n".join(hex(a) for a in addrs) + "\n")
    chains, cur, expect_fn = {}, None, True
    for line in out.splitlines():
        if line.startswith("0x") and expect_fn:
            cur = int(line, 16)
            chains[cur] = []
            continue
        if expect_fn:
            chains[cur].append(line)
        expect_fn = not expect_fn  # function name, then file:line
    return chains


class Trace:
    """Streams the QEMU log and counts, per block and context, executions, taken exits and
    the memory region of every load."""

    def __init__(self, scoped, flash_end):
        self.scoped = scoped  # addresses in scope by their inline chain
        self.flash_end = flash_end
        self.blocks = {}  # QEMU host pointer -> Block (latest translation there)
        self.execs = collections.Counter()  # (block, cut, in_scope_by_caller) -> executions
        self.taken = collections.Counter()  # same key -> exits through a taken branch
        self.regions = collections.Counter()  # (key, load index, region) -> executions
        self.stack = []  # (return address, call made in scope)
        self.scoped_frames = 0
        self.prev = None  # (block, registers, in scope by caller): accounted at the next block
        self.unmatched = 0

    def region(self, value):
        if value is None:
            return "unknown"
        if value < self.flash_end:
            return "flash"
        if 0x2000_0000 <= value < 0x4000_0000:
            return "ram"
        return "other"

    def executed(self, host, pc, cflags, regs):
        """One `Trace` line and its register dump: closes the previous block."""
        if self.prev is not None:
            block, pregs, ext = self.prev
            cut = len(block.insns)
            # CF_LAST_IO: an I/O access in mid-block; QEMU re-runs from that instruction.
            if cflags & 0x8000 and block.start < pc < block.end:
                cut = next(i for i, ins in enumerate(block.insns) if ins.addr == pc)
            key = (block, cut, ext)
            self.execs[key] += 1
            last = block.insns[cut - 1]
            if last.is_branch and pc != last.addr + last.size:
                self.taken[key] += 1
            for i in block.loads:
                if i >= cut:
                    break
                expr = block.addr_exprs[i]
                value = None if expr == "flash" else evaluate(expr, pregs, regs)
                reg = "flash" if expr == "flash" else self.region(value)
                self.regions[(key, i, reg)] += 1
            if last.is_call and cut == len(block.insns):
                in_scope = ext or last.addr in self.scoped
                self.stack.append((last.addr + last.size, in_scope))
                self.scoped_frames += in_scope
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == pc:  # a return
                self.scoped_frames -= sum(s for _, s in self.stack[depth:])
                del self.stack[depth:]
                break
        block = self.blocks.get(host)
        if block is None or block.start != pc:
            self.unmatched += 1
            self.prev = None
            return
        self.prev = (block, regs, self.scoped_frames > 0)

    def finish(self):
        if self.prev is not None:
            block, _, ext = self.prev
            self.execs[(block, len(block.insns), ext)] += 1
            self.prev = None

    def read(self, log):
        trace_re = re.compile(r"Trace \d+: 0x([0-9a-f]+) \[[0-9a-f]+/([0-9a-f]+)/[0-9a-f]+/"
                              r"([0-9a-f]+)\]")
        reg_re = re.compile(r"R(\d\d)=([0-9a-f]{8})")
        listing, pending, current, reg_text = False, [], None, []
        for line in log:
            head = line[:2]
            if head == "Tr" and line.startswith("Trace "):
                m = trace_re.match(line)
                host, pc, cflags = m.group(1), int(m.group(2), 16), int(m.group(3), 16)
                if pending:
                    self.blocks[host] = Block(parse_block(pending))
                    pending = []
                listing, current, reg_text = False, (host, pc, cflags), []
            elif head[:1] == "R" and current is not None and head[1:].isdigit():
                reg_text.append(line)
                if len(reg_text) == 4:  # R00..R15
                    regs = [0] * 16
                    for n, v in reg_re.findall("".join(reg_text)):
                        regs[int(n)] = int(v, 16)
                    self.executed(*current, regs)
                    current = None
            elif head == "IN":
                listing, pending = True, []
            elif listing and head == "0x":
                pending.append(line)
        self.finish()


def tally(trace, chains, hops):
    """Per-class and per-function instructions and cycles (per scenario) of the scoped work."""
    t = types.SimpleNamespace(insns=0, cls_n=collections.Counter(),
                 cls_c={s: collections.Counter() for s in SCENARIOS},
                 fn_n=collections.Counter(), fn_c={s: collections.Counter() for s in SCENARIOS},
                 lines=set(), loads=collections.Counter())
    regions = collections.defaultdict(collections.Counter)
    for (key, i, reg), n in trace.regions.items():
        regions[(key, i)][reg] += n
    for key, n in trace.execs.items():
        block, cut, ext = key
        n_taken = trace.taken[key]
        for i in range(cut):
            ins = block.insns[i]
            if not (ext or ins.addr in trace.scoped):
                continue
            fn = chains(ins.addr)
            t.insns += n
            t.fn_n[fn] += n
            t.lines.add(ins.addr // LINE_BYTES)
            cyc = {s: (ins.cycles[s] - (1 if block.pipelined[i] else 0)) * n for s in SCENARIOS}
            cls = ins.cls
            if ins.load:
                where = regions[(key, i)]
                t.loads.update(where)
                for s in SCENARIOS:
                    flash = where["flash"] + (where["unknown"] if s == "high" else 0)
                    cyc[s] += FLASH_W[s] * ins.words * flash
                if cls == "load":
                    top = max(where, key=where.get) if where else "unknown"
                    cls = {"ram": "load (RAM)", "flash": "load (flash)"}.get(
                        top, "load (not followed)")
            if cls == "branch":
                last = i == cut - 1
                k = (n if ins.is_call or ins.writes_pc or ins.mn == "bx" else n_taken) \
                    if last else 0
                t.cls_n["branch taken"] += k
                t.cls_n["branch not taken"] += n - k
                for s in SCENARIOS:
                    refill = P_REFILL[s] * k
                    share = cyc[s] * k // n if n else 0
                    t.cls_c[s]["branch taken"] += share + refill
                    t.cls_c[s]["branch not taken"] += cyc[s] - share
                    t.fn_c[s][fn] += cyc[s] + refill
                continue
            t.cls_n[cls] += n
            for s in SCENARIOS:
                t.cls_c[s][cls] += cyc[s]
                t.fn_c[s][fn] += cyc[s]
    t.imiss = {s: IMISS_PER_LINE[s] * len(t.lines) * FLASH_W[s] for s in SCENARIOS}
    t.per_hop = {s: sum(t.cls_c[s].values()) / hops + t.imiss[s] for s in SCENARIOS}
    return t


def report(t, hops, bench_total, unmatched):
    out = []
    w = out.append
    per = t.per_hop
    ih = t.insns / hops
    w("firmware cycles: estimated Cortex-M4F cycles per hop on the nRF52840 (64 MHz, flash "
      "cache on)")
    w(f"  trace: {hops} hops; per hop = instructions in Stream::push and its callees / hops")
    w(f"  instructions per hop  {ih:,.0f}")
    if bench_total:
        w(f"    the firmware's SysTick count for the same piece (frontend + LSTM): "
          f"{bench_total:,} ({100.0 * (ih - bench_total) / bench_total:+.2f} %; the trace "
          "adds the stream's own bookkeeping)")
    if unmatched:
        w(f"    ({unmatched} executed blocks had no listing and were skipped)")
    w(f"  instruction mix per hop:  {'instructions':>12s} {'share':>6s} {'cycles (best)':>14s}")
    for cls in CLASS_ORDER:
        k = t.cls_n.get(cls, 0)
        if k:
            w(f"    {cls:24s} {k / hops:12,.0f} {100.0 * k / t.insns:5.1f}% "
              f"{t.cls_c['best'][cls] / hops:14,.0f}")
    w(f"    {'I-cache misses':24s} {'':12s} {'':6s} {t.imiss['best']:14,.0f}"
      f"   ({len(t.lines)} code lines of {LINE_BYTES} bytes run per hop)")
    n = sum(t.loads.values())
    w(f"  memory reads per hop: {n / hops:,.0f} instructions; by address: RAM "
      f"{t.loads['ram'] / hops:,.0f}, flash {t.loads['flash'] / hops:,.0f}, other "
      f"{t.loads['other'] / hops:,.0f}, not followed {t.loads['unknown'] / hops:,.0f}")
    w(f"  cycles per hop          {'low':>10s} {'best':>10s} {'high':>10s}")
    w("    estimate            " + " ".join(f"{per[s]:10,.0f}" for s in SCENARIOS))
    w("    cycles/instruction  " + " ".join(f"{per[s] / ih:10.2f}" for s in SCENARIOS))
    w("    share of the hop    " + " ".join(f"{100 * per[s] / HOP_CYCLES:9.1f}%"
                                            for s in SCENARIOS)
      + f"   (32 ms at 64 MHz = {HOP_CYCLES:,} cycles)")
    w("    of the 10% budget   " + " ".join(f"{100 * per[s] / BUDGET:9.0f}%" for s in SCENARIOS)
      + f"   ({BUDGET:,} cycles)")
    w("  assumptions, low/best/high: taken-branch refill "
      + "/".join(str(P_REFILL[s]) for s in SCENARIOS) + "; SDIV/UDIV "
      + "/".join(str(DIV[s]) for s in SCENARIOS) + "; IT " + "/".join(str(IT_COST[s])
                                                                  for s in SCENARIOS)
      + "; flash wait states per uncached word " + "/".join(str(FLASH_W[s]) for s in SCENARIOS)
      + " (data reads of flash bypass the I-cache); I-cache misses per code line per hop "
      + "/".join(str(IMISS_PER_LINE[s]) for s in SCENARIOS)
      + "; loads not followed count as RAM/RAM/flash")
    w("  profile per hop, top 15 by cycles (best); 'main > F': F inlined into main:")
    w(f"    {'instructions':>12s} {'cycles':>10s} {'cyc/insn':>8s}  function")
    for fn, cyc in t.fn_c["best"].most_common(15):
        k = t.fn_n[fn]
        w(f"    {k / hops:12,.0f} {cyc / hops:10,.0f} {cyc / k:8.2f}  {fn}")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--elf", required=True, help="the tinygenre-qemu image QEMU ran")
    ap.add_argument("--log", required=True, help="QEMU log (-d in_asm,exec,cpu,nochain)")
    ap.add_argument("--hops", type=int, required=True, help="hops the firmware produced")
    ap.add_argument("--bench-total", type=int, help="the firmware's frontend + LSTM per hop")
    args = ap.parse_args()

    syms = text_symbols(args.elf)
    starts = [s[0] for s in syms]
    main_fn = next(s for s in syms if s[2] == MAIN_FN)
    chains = inline_chains(args.elf, main_fn[0], main_fn[0] + main_fn[1])
    scoped = {a for a, chain in chains.items() if SCOPE_FN in chain}

    def function(addr):
        i = bisect.bisect_right(starts, addr) - 1
        name = syms[i][2] if i >= 0 and addr < syms[i][0] + max(syms[i][1], 2) else "?"
        if name == MAIN_FN:
            inner = next((f for f in chains.get(addr, [])
                          if f.startswith("genre_core::")), None)
            if inner:
                return f"main > {inner}"
        return name

    trace = Trace(scoped, flash_end_of(args.elf))
    with open(args.log, "r", errors="replace") as log:
        trace.read(log)
    if not trace.execs:
        sys.exit("error: no executed blocks in the log")
    print(report(tally(trace, functools.lru_cache(maxsize=None)(function), args.hops),
                 args.hops, args.bench_total, trace.unmatched))


if __name__ == "__main__":
    main()
