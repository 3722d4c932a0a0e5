/**
 * The guest-operation protocol (DESIGN.md, "Guest execution").
 *
 * A guest program is a generator that yields architectural operations and is
 * resumed with their results. It sees only what a real guest sees: loads and
 * stores, system registers or CSRs, WFI, hypervisor and firmware calls, the
 * passing of time and its own interrupt mask. Whoever runs it (the KVM layer's
 * vCPU, or a test harness) executes each op and charges its cost.
 *
 * 64-bit values travel as two unsigned 32-bit halves (`value` low, `hi` high)
 * so that no op pays for bigint; for accesses of 4 bytes or less `hi` is 0.
 *
 * Allocation: the small builders below allocate one object per op, which is
 * fine for driver code. A hot guest loop may keep one op object and yield it
 * again: the executor never holds on to an op after resuming the guest, and
 * the {@link GuestResult} it passes back is likewise reused, so read what you
 * need from it before the next yield.
 */

import type { AccessSize } from "./mmio-bus.js";
import type { Nanoseconds } from "./time.js";

/**
 * Load `size` bytes from guest-physical `addr` (device or RAM). Without
 * `signExtend` the value is zero-extended (Arm LDRB/LDRH/LDR, RISC-V
 * LBU/LHU/LWU/LD).
 */
export interface MmioReadOp {
  readonly kind: "mmio-read";
  readonly addr: number;
  readonly size: AccessSize;
  /**
   * A sign-extending load into a register of this many bits: Arm
   * LDRSB/LDRSH/LDRSW with Xt = 64 or Wt = 32 (the ESR_ELx ISS bits SSE and
   * SF of the Arm ARM's ISS encoding for a Data Abort), RISC-V LB/LH/LW = 64 (XLEN).
   * The result's `value`/`hi` hold the extended register value; with 32 the
   * upper half is 0. An 8-byte load is not extended.
   */
  readonly signExtend?: 32 | 64;
}

/** Store `size` bytes at guest-physical `addr`. */
export interface MmioWriteOp {
  readonly kind: "mmio-write";
  readonly addr: number;
  readonly size: AccessSize;
  /** The value (sizes 1–4) or its low 32 bits (size 8). */
  readonly value: number;
  /** High 32 bits of an 8-byte store; 0 otherwise. */
  readonly hi: number;
}

/**
 * Read an Arm system register, identified by its encoding as Linux packs it
 * (see {@link sysReg}).
 */
export interface SysRegReadOp {
  readonly kind: "sysreg-read";
  readonly reg: number;
}

/** Write an Arm system register (MSR). */
export interface SysRegWriteOp {
  readonly kind: "sysreg-write";
  readonly reg: number;
  readonly value: number;
  readonly hi: number;
}

/**
 * A RISC-V CSR instruction on `csr` (a 12-bit CSR number). `op` is the
 * instruction: csrrw writes `value`, csrrs sets and csrrc clears the bits of
 * `value`; all return the old value. A plain read is csrrs with value 0.
 */
export interface CsrOp {
  readonly kind: "csr";
  readonly op: "csrrw" | "csrrs" | "csrrc";
  readonly csr: number;
  readonly value: number;
  readonly hi: number;
}

/** Wait for interrupt: the vCPU may block until an interrupt is pending. */
export interface WfiOp {
  readonly kind: "wfi";
}

/**
 * An Arm HVC or SMC with the SMCCC argument registers x0..x7 (x0 is the
 * function id, e.g. PSCI's CPU_ON). Results come back in x0..x3.
 */
export interface HypercallOp {
  readonly kind: "hvc" | "smc";
  readonly imm: number;
  readonly args: readonly number[];
}

/**
 * A RISC-V SBI ecall: `ext` is a7 (extension id), `fid` is a6 (function id),
 * `args` a0..a5. The sbiret comes back as `error` (a0) and `value` (a1).
 */
export interface SbiCallOp {
  readonly kind: "sbi";
  readonly ext: number;
  readonly fid: number;
  readonly args: readonly number[];
}

/**
 * The guest computes for `ns` virtual nanoseconds without touching devices.
 * An interrupt taken meanwhile runs between two of its instructions and the
 * computation then goes on for what is left of it — unless `untilInterrupt`
 * is set: then it is a wait on a flag the handler sets (`while (!flag)
 * cpu_relax();`), which the first interrupt taken ends; what is left is
 * dropped. `ns` bounds it as the loop's `tries` do.
 */
export interface ComputeOp {
  readonly kind: "compute";
  readonly ns: Nanoseconds;
  readonly untilInterrupt?: boolean;
}

/** Masks (PSTATE.I / sstatus.SIE cleared) or unmasks interrupts on this CPU. */
export interface IrqMaskOp {
  readonly kind: "irq-mask" | "irq-unmask";
}

/**
 * An Arm BRK #imm (a software breakpoint) at guest address `pc`. Guests have
 * no instruction stream, so the op names the address the instruction would
 * sit at: that is what a debugger sees as PC when the breakpoint stops the
 * vCPU, and what it compares against its breakpoint table. `imm` is the
 * 16-bit comment field (ESR_ELx.ISS of the exception). The result's `value`
 * is the ESR of the breakpoint exception when the guest takes it itself.
 */
export interface BrkOp {
  readonly kind: "brk";
  readonly imm: number;
  readonly pc: number;
}

/**
 * A RISC-V EBREAK (a software breakpoint) at guest address `pc`, named as
 * {@link BrkOp} names its address. The 4-byte encoding: a debugger steps
 * over it with PC + 4 (C.EBREAK is not modelled). The result's `value` is
 * the exception cause (scause 3, breakpoint) when the guest takes the
 * breakpoint itself.
 */
export interface EbreakOp {
  readonly kind: "ebreak";
  readonly pc: number;
}

/** An operation {@link RepeatOp} can repeat (and {@link SeqOp} hold): any but a repeat, a poll or a sequence. */
export type RepeatableOp =
  | MmioReadOp
  | MmioWriteOp
  | SysRegReadOp
  | SysRegWriteOp
  | CsrOp
  | WfiOp
  | HypercallOp
  | SbiCallOp
  | ComputeOp
  | IrqMaskOp
  | BrkOp
  | EbreakOp;

/**
 * `op` executed `count` times in a row, as a loop of `count` yields of `op`
 * would execute it — the same costs, exits, interrupts taken between two of
 * its executions, and trace — without resuming the guest program between
 * them: a guest's hot loop whose body ignores what the op returns (a
 * benchmark's timed loop). The guest is resumed once, after the last, with
 * that execution's result. With `stride`, the op is a load or store whose
 * address advances by `stride` bytes from one execution to the next (a
 * memset: execution i accesses `op.addr + i * stride`).
 */
export interface RepeatOp {
  readonly kind: "repeat";
  readonly count: number;
  readonly op: RepeatableOp;
  /** Bytes the address of a load or store advances by between executions. */
  readonly stride?: number;
}

/** Execution `i` of a repeat: its op, at its address when the repeat has a stride (a new op then). */
export function repeatedOp(r: RepeatOp, i: number): RepeatableOp {
  const o = r.op;
  if (r.stride === undefined || (o.kind !== "mmio-read" && o.kind !== "mmio-write")) return o;
  return { ...o, addr: o.addr + i * r.stride };
}

/**
 * A wait loop on one location, executed as this loop of yields would be —
 * the same loads at the same times, the same exits, the same interrupts
 * taken between two of its steps, the same trace — without resuming the
 * guest program between turns:
 *
 * ```ts
 * for (let n = 0; n < tries; n++) {
 *   if (!pollGoesOn(p, yield read)) break;
 *   yield relax;
 * }
 * ```
 *
 * where the loop goes on while `(value & mask) === equals` (`while
 * ((readl(addr) & mask) == equals && tries--) cpu_relax();`), or, with
 * `below`, while the 64-bit value read is below it (`while (get_cycles() <
 * end) cpu_relax();`). The guest is resumed once, with the last load's
 * result: the wait timed out if that value still satisfies the condition.
 * {@link pollLoop} is this loop as code.
 *
 * An executor may run turns faster than one by one when it knows what each
 * load would return — guest RAM that nothing can write meanwhile, a counter
 * that only time moves; what the guest and the VMM observe stays that of
 * the loop.
 */
export interface PollOp {
  readonly kind: "poll";
  /** The load of each turn: memory (1, 2 or 4 bytes), or a system register (a counter). */
  readonly read: MmioReadOp | SysRegReadOp;
  /** The bits of the loaded value compared with `equals` (0 with `below`). */
  readonly mask: number;
  /** The loop goes on while `(value & mask) === equals` (0 with `below`). */
  readonly equals: number;
  /** When set, the loop goes on while `hi * 2^32 + value` is below it instead. */
  readonly below?: number;
  /** What each turn does after a load that matched (cpu_relax()). */
  readonly relax: ComputeOp;
  /** The most loads (a positive integer). */
  readonly tries: number;
}

/** Whether a poll goes on after a load returned `r` (its condition still holds). */
export function pollGoesOn(p: PollOp, r: GuestResult): boolean {
  return p.below !== undefined ? r.hi * 4294967296 + r.value < p.below : ((r.value & p.mask) >>> 0) === p.equals;
}

/** Whether `kind` names an op that stands for several (a repeat, a poll, a sequence, a call): none may hold another. */
function isCompound(kind: unknown): boolean {
  return kind === "repeat" || kind === "poll" || kind === "seq" || kind === "call";
}

/**
 * What makes a repeat, poll or sequence one an executor cannot run as its
 * loop of yields, or undefined when it can (and for every other op): the
 * rules the `op` builders enforce, checked again by an executor for an op
 * made by hand. Reads the op's fields as untrusted. Ops are immutable once
 * made (their fields are readonly): an executor may check one once and
 * trust it from then on, as a vCPU does the repeat, sequence and poll it
 * ran last.
 */
export function guestOpProblem(op: GuestOp): string | undefined {
  const o = op as unknown as Record<string, unknown>;
  if (op.kind === "repeat") {
    const count = o.count;
    const inner = kindOf(o.op);
    if (!Number.isSafeInteger(count) || (count as number) < 1) return `count ${show(count)} is not a positive integer`;
    if (inner === undefined) return "a repeat needs an op";
    if (isCompound(inner)) return `a repeat cannot repeat a ${show(inner)}`;
    const stride = o.stride;
    if (stride === undefined) return undefined;
    if (!Number.isSafeInteger(stride) || (stride as number) < 1) return `stride ${show(stride)} is not a positive integer`;
    if (inner !== "mmio-read" && inner !== "mmio-write") return `a stride needs a load or store, not ${show(inner)}`;
    return undefined;
  }
  if (op.kind === "seq") {
    const ops = o.ops;
    if (!Array.isArray(ops) || ops.length === 0) return "no ops";
    for (const x of ops as unknown[]) {
      const k = kindOf(x);
      if (k === undefined) return "a sequence of something that is not an op";
      if (isCompound(k)) return `a sequence cannot hold a ${show(k)}`;
    }
    return undefined;
  }
  if (op.kind === "poll") {
    const tries = o.tries;
    const read = kindOf(o.read);
    if (!Number.isSafeInteger(tries) || (tries as number) < 1) return `tries ${show(tries)} is not a positive integer`;
    if (read !== "mmio-read" && read !== "sysreg-read") return `the load must be a memory or system-register read, not ${show(read)}`;
    if (kindOf(o.relax) !== "compute" || (o.relax as { untilInterrupt?: unknown }).untilInterrupt === true) return "relax must be a computation, not a spin";
    const below = o.below;
    if (below !== undefined && (!Number.isSafeInteger(below) || (below as number) < 0)) return `below ${show(below)} is not a non-negative integer`;
  }
  if (op.kind === "call") {
    const program = o.program;
    if (typeof program !== "object" || program === null || typeof (program as { next?: unknown }).next !== "function") return "a call needs a program (an iterator of ops)";
  }
  return undefined;
}

/** The `kind` of something that may be an op. */
function kindOf(v: unknown): unknown {
  return typeof v === "object" && v !== null ? (v as { kind?: unknown }).kind : undefined;
}

/** A field's value for a message: numbers and strings as they are, anything else by its type. */
function show(v: unknown): string {
  return typeof v === "number" || typeof v === "string" ? String(v) : typeof v;
}

/** `made`, or a RangeError naming the builder and what {@link guestOpProblem} found. */
function checked<T extends GuestOp>(builder: string, made: T): T {
  const why = guestOpProblem(made);
  if (why !== undefined) throw new RangeError(`op.${builder}: ${why}`);
  return made;
}

/**
 * `ops` executed one after the other, as yielding each in turn would execute
 * them — the same costs, exits, interrupts taken between two of them, and
 * trace — without resuming the guest program between them: straight-line
 * code whose intermediate results the program does not look at (the four
 * stores that write an ITS command). The guest is resumed once, after the
 * last, with its result.
 */
export interface SeqOp {
  readonly kind: "seq";
  readonly ops: readonly RepeatableOp[];
}

/**
 * `program` run to its end where the op was yielded, as `yield* program`
 * would run it — the same ops, costs, exits, interrupts and trace; the call
 * itself costs nothing — but with the executor resuming `program` directly
 * rather than through the caller at each of its ops. The caller is resumed
 * once, after `program` returned, with the result of its last op and with
 * {@link GuestResult.returned} set to what it returned ({@link call} hands
 * that back). For a hot loop kept as a state machine (StateMachineProgram)
 * that a generator starts: the generator's own resume at each of the loop's
 * ops is what this saves.
 */
export interface CallOp {
  readonly kind: "call";
  readonly program: Generator<GuestOp, unknown, GuestResult>;
}

/** Any architectural operation a guest can yield. */
export type GuestOp = RepeatableOp | RepeatOp | PollOp | SeqOp | CallOp;

/**
 * What an op returns to the guest. One object, reused between ops by the
 * executor: copy out what you need before yielding again.
 */
export interface GuestResult {
  /**
   * A read's value (low 32 bits for 64-bit reads); x0 of an HVC/SMC;
   * sbiret.value of an SBI call; the ESR (arm64) or scause (RISC-V) of a
   * breakpoint the guest took itself.
   */
  value: number;
  /** High 32 bits of a 64-bit read; 0 otherwise. */
  hi: number;
  /** sbiret.error of an SBI call (0 = SBI_SUCCESS); 0 for other ops. */
  error: number;
  /** x0..x3 after an HVC/SMC; empty otherwise. */
  regs: number[];
  /** What the program of the last {@link CallOp} returned (other ops leave it as it was). */
  returned?: unknown;
}

/** A fresh result record (for executors). */
export function newGuestResult(): GuestResult {
  return { value: 0, hi: 0, error: 0, regs: [], returned: undefined };
}

/** A guest program (or an interrupt vector): yields ops, receives results. */
export type GuestProgram = Generator<GuestOp, void, GuestResult>;

/**
 * The encoding of an Arm system register as Linux's sys_reg() packs it
 * (arch/arm64/include/asm/sysreg.h): op0 << 19 | op1 << 16 | CRn << 12 |
 * CRm << 8 | op2 << 5.
 */
export function sysReg(op0: number, op1: number, crn: number, crm: number, op2: number): number {
  return (op0 << 19) | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5);
}

/**
 * Every field any op has, in one order: what {@link blankOp} gives every op
 * it makes, so that the ops the builders return share one object shape. The
 * fields of the ops a run loop executes most (loads, stores, system
 * registers, CSRs, repeats) come first, so that one of those ops lies in one
 * or two cache lines.
 */
interface OpRecord {
  kind: GuestOp["kind"];
  addr: number | undefined;
  size: AccessSize | undefined;
  value: number | undefined;
  hi: number | undefined;
  reg: number | undefined;
  csr: number | undefined;
  op: CsrOp["op"] | RepeatableOp | undefined;
  count: number | undefined;
  stride: number | undefined;
  ns: Nanoseconds | undefined;
  untilInterrupt: boolean | undefined;
  signExtend: 32 | 64 | undefined;
  read: MmioReadOp | SysRegReadOp | undefined;
  mask: number | undefined;
  equals: number | undefined;
  below: number | undefined;
  relax: ComputeOp | undefined;
  tries: number | undefined;
  ops: readonly RepeatableOp[] | undefined;
  imm: number | undefined;
  args: readonly number[] | undefined;
  ext: number | undefined;
  fid: number | undefined;
  pc: number | undefined;
  program: CallOp["program"] | undefined;
}

/**
 * A new op of `kind` with every field of every kind, those it does not use
 * undefined. One object literal makes all of them, so every op a builder
 * returns has the same hidden class: an executor's loads of `kind`, `addr`,
 * `value`… stay monomorphic whatever mix of ops a guest yields, where one
 * shape per kind would make them megamorphic lookups at every op.
 */
function blankOp(kind: GuestOp["kind"]): OpRecord {
  return {
    kind,
    addr: undefined,
    size: undefined,
    value: undefined,
    hi: undefined,
    reg: undefined,
    csr: undefined,
    op: undefined,
    count: undefined,
    stride: undefined,
    ns: undefined,
    untilInterrupt: undefined,
    signExtend: undefined,
    read: undefined,
    mask: undefined,
    equals: undefined,
    below: undefined,
    relax: undefined,
    tries: undefined,
    ops: undefined,
    imm: undefined,
    args: undefined,
    ext: undefined,
    fid: undefined,
    pc: undefined,
    program: undefined,
  };
}

function memOp(kind: "mmio-read" | "mmio-write", addr: number, size: AccessSize): OpRecord {
  const o = blankOp(kind);
  o.addr = addr;
  o.size = size;
  return o;
}

function valueOp(kind: "sysreg-write" | "csr", value: number, hi: number): OpRecord {
  const o = blankOp(kind);
  o.value = value >>> 0;
  o.hi = hi >>> 0;
  return o;
}

function csrOp(instr: CsrOp["op"], csr: number, value: number, hi: number): CsrOp {
  const o = valueOp("csr", value, hi);
  o.op = instr;
  o.csr = csr;
  return o as CsrOp;
}

function callOp(kind: "hvc" | "smc", args: readonly number[], imm: number): HypercallOp {
  const o = blankOp(kind);
  o.imm = imm;
  o.args = args;
  return o as HypercallOp;
}

function computeOp(ns: Nanoseconds, untilInterrupt: boolean | undefined): ComputeOp {
  const o = blankOp("compute");
  o.ns = ns;
  o.untilInterrupt = untilInterrupt;
  return o as ComputeOp;
}

function pollOp(read: MmioReadOp | SysRegReadOp, mask: number, equals: number, below: number | undefined, relax: ComputeOp, tries: number): PollOp {
  const o = blankOp("poll");
  o.read = read;
  o.mask = mask;
  o.equals = equals;
  o.below = below;
  o.relax = relax;
  o.tries = tries;
  return o as PollOp;
}

/**
 * Builders for guest ops, and `yield*` helpers that return just the value.
 * The ops they make all have one object shape (every field of every kind,
 * the unused ones undefined): an op made by hand works the same, but makes
 * the executor's field loads slower.
 */
export const op = {
  /** An MMIO/RAM load. */
  read(addr: number, size: AccessSize): MmioReadOp {
    return memOp("mmio-read", addr, size) as MmioReadOp;
  },
  /**
   * A sign-extending MMIO/RAM load (LDRSB/LDRSH/LDRSW, LB/LH/LW) into a
   * register of `regBits` bits (Arm Wt = 32, Xt and RISC-V = 64).
   */
  readSigned(addr: number, size: AccessSize, regBits: 32 | 64 = 64): MmioReadOp {
    const o = memOp("mmio-read", addr, size);
    o.signExtend = regBits;
    return o as MmioReadOp;
  },
  /** An MMIO/RAM store; pass `hi` for the high word of an 8-byte store. */
  write(addr: number, size: AccessSize, value: number, hi = 0): MmioWriteOp {
    const o = memOp("mmio-write", addr, size);
    o.value = value >>> 0;
    o.hi = hi >>> 0;
    return o as MmioWriteOp;
  },
  /** MRS. */
  mrs(reg: number): SysRegReadOp {
    const o = blankOp("sysreg-read");
    o.reg = reg;
    return o as SysRegReadOp;
  },
  /** MSR. */
  msr(reg: number, value: number, hi = 0): SysRegWriteOp {
    const o = valueOp("sysreg-write", value, hi);
    o.reg = reg;
    return o as SysRegWriteOp;
  },
  /** csrr: a CSR read (csrrs with rs1 = x0). */
  csrRead(csr: number): CsrOp {
    return csrOp("csrrs", csr, 0, 0);
  },
  /** csrw: a CSR write; pass `hi` for the upper half of a 64-bit CSR. */
  csrWrite(csr: number, value: number, hi = 0): CsrOp {
    return csrOp("csrrw", csr, value, hi);
  },
  /** csrs: set bits; `hi` holds those of the upper half of a 64-bit CSR. */
  csrSet(csr: number, bits: number, hi = 0): CsrOp {
    return csrOp("csrrs", csr, bits, hi);
  },
  /** csrc: clear bits; `hi` holds those of the upper half of a 64-bit CSR. */
  csrClear(csr: number, bits: number, hi = 0): CsrOp {
    return csrOp("csrrc", csr, bits, hi);
  },
  /** WFI. */
  wfi(): WfiOp {
    return blankOp("wfi") as WfiOp;
  },
  /** HVC #imm with x0..x7. */
  hvc(args: readonly number[], imm = 0): HypercallOp {
    return callOp("hvc", args, imm);
  },
  /** SMC #imm with x0..x7. */
  smc(args: readonly number[], imm = 0): HypercallOp {
    return callOp("smc", args, imm);
  },
  /** ecall to the SBI. */
  sbi(ext: number, fid: number, args: readonly number[] = []): SbiCallOp {
    const o = blankOp("sbi");
    o.ext = ext;
    o.fid = fid;
    o.args = args;
    return o as SbiCallOp;
  },
  /** Compute for `ns` nanoseconds. */
  compute(ns: Nanoseconds): ComputeOp {
    return computeOp(ns, undefined);
  },
  /** Spin for at most `ns` nanoseconds, until an interrupt is taken (a poll of a flag the handler sets). */
  spin(ns: Nanoseconds): ComputeOp {
    return computeOp(ns, true);
  },
  /** BRK #imm at guest address `pc` (a software breakpoint; `imm` is 16 bits). */
  brk(imm: number, pc: number): BrkOp {
    const o = blankOp("brk");
    o.imm = imm & 0xffff;
    o.pc = pc;
    return o as BrkOp;
  },
  /** EBREAK at guest address `pc` (RISC-V software breakpoint). */
  ebreak(pc: number): EbreakOp {
    const o = blankOp("ebreak");
    o.pc = pc;
    return o as EbreakOp;
  },
  /**
   * `op` `count` times in a row (see {@link RepeatOp}); with `stride`, a
   * load or store at an address advancing by `stride` bytes each time.
   * @throws RangeError unless `count` is a positive safe integer, `op` is
   * not a repeat, poll or sequence, and a stride is a positive safe integer
   * given with a load or store.
   */
  repeat(count: number, op: GuestOp, stride?: number): RepeatOp {
    const made = blankOp("repeat");
    made.count = count;
    made.op = op as RepeatableOp;
    made.stride = stride;
    return checked("repeat", made as RepeatOp);
  },
  /**
   * A wait loop on `read`'s location (see {@link PollOp}): loads while
   * `(value & mask) === equals`, `relax` after each, at most `tries` loads.
   * @throws RangeError unless `tries` is a positive safe integer, the load
   * is 1, 2 or 4 bytes, `equals` has no bit outside `mask`, and `relax` is a
   * plain computation (not a spin).
   */
  pollWhile(read: MmioReadOp, mask: number, equals: number, relax: ComputeOp, tries: number): PollOp {
    if (read.size === 8) throw new RangeError("op.pollWhile: the load must be 1, 2 or 4 bytes");
    const m = mask >>> 0;
    const eq = equals >>> 0;
    if ((eq & ~m) !== 0) throw new RangeError(`op.pollWhile: equals 0x${eq.toString(16)} has bits outside mask 0x${m.toString(16)}: the loop would never turn`);
    return checked("pollWhile", pollOp(read, m, eq, undefined, relax, tries));
  },
  /**
   * A wait loop until a 64-bit value — a counter read from a system
   * register, or 8 bytes of memory — reaches `below` (see {@link PollOp}):
   * loads while `hi * 2^32 + value < below`, `relax` after each, at most
   * `tries` loads.
   * @throws RangeError unless `tries` is a positive safe integer, `below` a
   * non-negative safe integer, and `relax` a plain computation.
   */
  pollBelow(read: MmioReadOp | SysRegReadOp, below: number, relax: ComputeOp, tries: number): PollOp {
    return checked("pollBelow", pollOp(read, 0, 0, below, relax, tries));
  },
  /**
   * `ops` one after the other, the program resumed once after the last (see
   * {@link SeqOp}). @throws RangeError for no ops, or for a repeat, poll or
   * sequence among them.
   */
  seq(ops: readonly GuestOp[]): SeqOp {
    const made = blankOp("seq");
    made.ops = ops as readonly RepeatableOp[];
    return checked("seq", made as SeqOp);
  },
  /**
   * `program` run to its end, resumed by the executor directly (see
   * {@link CallOp}); {@link call} is the `yield*` form that returns what it
   * returned. @throws RangeError unless `program` is an iterator.
   */
  call(program: Generator<GuestOp, unknown, GuestResult>): CallOp {
    const made = blankOp("call");
    made.program = program;
    return checked("call", made as CallOp);
  },
  /** Mask interrupts. */
  mask(): IrqMaskOp {
    return blankOp("irq-mask") as IrqMaskOp;
  },
  /** Unmask interrupts. */
  unmask(): IrqMaskOp {
    return blankOp("irq-unmask") as IrqMaskOp;
  },
} as const;

/** A {@link PollOp} as the loop of yields it stands for; returns the last load's result. */
export function* pollLoop(p: PollOp): Generator<GuestOp, GuestResult, GuestResult> {
  let r: GuestResult | undefined;
  for (let n = 0; n < p.tries; n++) {
    r = yield p.read;
    if (!pollGoesOn(p, r)) return r;
    r = yield p.relax;
  }
  return r!;
}

/**
 * `program` with every {@link RepeatOp}, {@link PollOp} and {@link SeqOp} it yields
 * replaced by the loop of yields it stands for: the form an executor that
 * runs one op at a time needs, and the reference the fast forms are tested
 * against.
 */
export function* loopForm<T>(program: Generator<GuestOp, T, GuestResult>): Generator<GuestOp, T, GuestResult> {
  let last: GuestResult | undefined;
  let it = program.next(undefined as unknown as GuestResult);
  while (it.done !== true) {
    const o = it.value;
    let r: GuestResult;
    if (o.kind === "poll") r = yield* pollLoop(o);
    else if (o.kind === "repeat") {
      r = yield repeatedOp(o, 0);
      for (let i = 1; i < o.count; i++) r = yield repeatedOp(o, i);
    } else if (o.kind === "seq") {
      r = yield o.ops[0]!;
      for (let i = 1; i < o.ops.length; i++) r = yield o.ops[i]!;
    } else if (o.kind === "call") {
      r = yield* loopFormCall(o.program, last);
    } else r = yield o;
    last = r;
    it = program.next(r);
  }
  return it.value;
}

/**
 * A {@link CallOp}'s program as loopForm runs it: its ops in line, then the
 * result its caller resumes with — its last op's (or, when it yielded none,
 * the one the caller had), with `returned` set to what it returned.
 */
function* loopFormCall(program: Generator<GuestOp, unknown, GuestResult>, before: GuestResult | undefined): Generator<GuestOp, GuestResult, GuestResult> {
  let r = before;
  const called = loopForm(program);
  let it = called.next(undefined as unknown as GuestResult);
  while (it.done !== true) {
    r = yield it.value;
    it = called.next(r);
  }
  r ??= newGuestResult();
  r.returned = it.value;
  return r;
}

/**
 * `const v = yield* call(code)`: `code` run through an {@link op.call}, so
 * that the executor resumes it directly at each of its ops; returns what it
 * returned.
 */
export function* call<T>(code: Generator<GuestOp, T, GuestResult>): Generator<GuestOp, T, GuestResult> {
  return (yield op.call(code)).returned as T;
}

/** `const v = yield* read32(addr)`: a 32-bit load returning its value. */
export function* read32(addr: number): Generator<GuestOp, number, GuestResult> {
  return (yield op.read(addr, 4)).value;
}

/** `yield* write32(addr, v)`: a 32-bit store. */
export function* write32(addr: number, value: number): Generator<GuestOp, void, GuestResult> {
  yield op.write(addr, 4, value);
}
