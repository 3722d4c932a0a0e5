/**
 * A tiny machine for testing guest images without KVM: it runs the image's
 * generators on N CPUs, answers RAM loads and stores from a Uint8Array that
 * holds the device tree blob, emulates just enough of a PL011 or NS16550A to
 * record what is written, and answers PSCI (HVC/SMC) and SBI calls the way
 * KVM does for the functions the images use: PSCI_VERSION, CPU_ON, CPU_OFF,
 * SYSTEM_OFF, SYSTEM_RESET; SBI BASE probe, HSM hart_start/hart_stop, SRST,
 * DBCN write_byte and the legacy putchar.
 *
 * Scheduling is deterministic and fair: each running CPU in turn gets
 * `quantum` operations, or `quantumOf(turn)` (for interleaving tests).
 * WFI parks a CPU for good (nothing raises interrupts
 * here). The run ends at a power event, when no CPU can run, or after
 * `maxOps` operations.
 *
 * This is test scaffolding, not a model of anything: the real vCPU loop is
 * @irqlab/kvm's, which this package must not import.
 */

import { loopForm, newGuestResult, type GuestOp, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { MPIDR_EL1, type GuestArch, type GuestImage } from "../src/index.js";

/** A UART the executor emulates. */
export interface TestUart {
  readonly kind: "pl011" | "ns16550a";
  readonly base: number;
  /** NS16550A register spacing (default 0). */
  readonly regShift?: number;
}

/** Options of {@link runGuest}. */
export interface RunOptions {
  readonly arch: GuestArch;
  readonly image: GuestImage;
  /** The device tree blob, copied into RAM at `fdtAddress`. */
  readonly blob: Uint8Array;
  readonly ram?: { readonly base: number; readonly size: number };
  /** Default: arm64 the start of RAM (QEMU arm_load_dtb without a kernel); riscv64 the end of RAM aligned down to 2 MiB. */
  readonly fdtAddress?: number;
  /** Copy only this many bytes of the blob into RAM (a truncated blob). */
  readonly copyBytes?: number;
  /** MPIDR affinities / hart ids; cpus[0] boots. Default [0]. */
  readonly cpus?: readonly number[];
  readonly uart?: TestUart;
  /** Whether sbi_probe_extension(DBCN) says yes (default true). */
  readonly dbcn?: boolean;
  /** Boot registers instead of the architecture's protocol. */
  readonly bootRegs?: readonly number[];
  /** CPU_ON / hart_start of these hwids fails with this code. */
  readonly refuseStart?: ReadonlyMap<number, number>;
  /** These hwids start (CPU_ON succeeds) but are never scheduled. */
  readonly neverRun?: ReadonlySet<number>;
  /** Operations per turn in round-robin order (default 1). */
  readonly quantum?: number;
  /**
   * Operations for turn `turn` (overrides `quantum`): round-robin stays fair,
   * so a CPU holding a lock always gets to release it, while varying turn
   * lengths vary the interleaving.
   */
  readonly quantumOf?: (turn: number) => number;
  /** Stop after this many operations (default 5,000,000). */
  readonly maxOps?: number;
}

/** A power event the guest requested. */
export type PowerEvent =
  | { readonly kind: "psci-system-off"; readonly cpu: number }
  | { readonly kind: "psci-system-reset"; readonly cpu: number }
  | { readonly kind: "sbi-srst"; readonly cpu: number; readonly type: number; readonly reason: number };

/** What a run did. */
export interface RunResult {
  /** Bytes written to the UART, decoded as UTF-8, "\r\n" kept. */
  readonly uart: string;
  /** Bytes written to the SBI console (DBCN or legacy). */
  readonly sbiConsole: string;
  /** Which SBI console calls were used. */
  readonly sbiConsoleKinds: ReadonlySet<"dbcn" | "legacy">;
  /** Firmware calls other than console output, e.g. "hvc 0xc4000003 0x1 0x40001000 0x40001050". */
  readonly calls: readonly string[];
  readonly power: PowerEvent | undefined;
  readonly stop: "power" | "idle" | "budget";
  readonly ops: number;
  /** Virtual nanoseconds the guest spent in compute ops, per CPU. */
  readonly computeNs: readonly number[];
  /** Accesses outside RAM and the UART, ops of the wrong architecture, generators that returned. */
  readonly faults: readonly string[];
  readonly ram: SparseRam;
  readonly fdtAddress: number;
}

/** The UART text without "\r" (lines as a log shows them). */
export function lines(text: string): string[] {
  const out = text.replace(/\r\n/g, "\n").split("\n");
  if (out.at(-1) === "") out.pop();
  return out;
}

const MiB = 1024 * 1024;
const hex = (v: number): string => `0x${v.toString(16)}`;

/** Guest RAM whose 4 KiB pages exist once written (so a 128 MiB machine costs nothing). */
export class SparseRam {
  readonly base: number;
  readonly size: number;
  readonly #pages = new Map<number, Uint8Array>();

  constructor(base: number, size: number) {
    this.base = base;
    this.size = size;
  }

  contains(addr: number, size: number): boolean {
    return addr >= this.base && addr + size <= this.base + this.size;
  }

  /** A little-endian load of `size` (1, 2 or 4) bytes. */
  load(addr: number, size: number): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + this.byte(addr + i);
    return v;
  }

  /** A little-endian store of `size` (1, 2 or 4) bytes. */
  store(addr: number, size: number, value: number): void {
    for (let i = 0; i < size; i++) this.#page(addr + i, true)![(addr + i) % 4096] = (value >>> (8 * i)) & 0xff;
  }

  write(addr: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) this.#page(addr + i, true)![(addr + i) % 4096] = bytes[i]!;
  }

  byte(addr: number): number {
    return this.#page(addr, false)?.[addr % 4096] ?? 0;
  }

  #page(addr: number, create: boolean): Uint8Array | undefined {
    const n = Math.floor(addr / 4096);
    let p = this.#pages.get(n);
    if (p === undefined && create) {
      p = new Uint8Array(4096);
      this.#pages.set(n, p);
    }
    return p;
  }
}

interface Cpu {
  readonly hwid: number;
  gen: GuestProgram | undefined;
  state: "off" | "running" | "parked";
  readonly result: GuestResult;
  computeNs: number;
}

/** Runs `image` to a power event, idleness or the budget. */
export function runGuest(o: RunOptions): RunResult {
  const ramBase = o.ram?.base ?? (o.arch === "aarch64" ? 0x4000_0000 : 0x8000_0000);
  const ramSize = o.ram?.size ?? 128 * MiB;
  const ram = new SparseRam(ramBase, ramSize);
  const fdtAddress =
    o.fdtAddress ?? (o.arch === "aarch64" ? ramBase : Math.floor((ramBase + ramSize - o.blob.length) / (2 * MiB)) * 2 * MiB);
  ram.write(fdtAddress, o.blob.subarray(0, o.copyBytes ?? o.blob.length));
  const uartBytes: number[] = [];
  const sbiBytes: number[] = [];
  const sbiConsoleKinds = new Set<"dbcn" | "legacy">();
  const calls: string[] = [];
  const faults: string[] = [];
  let power: PowerEvent | undefined;

  const hwids = o.cpus ?? [0];
  const cpus: Cpu[] = hwids.map((hwid) => ({ hwid, gen: undefined, state: "off", result: newGuestResult(), computeNs: 0 }));
  const bootRegs = o.bootRegs ?? (o.arch === "aarch64" ? [fdtAddress, 0, 0, 0] : [hwids[0]!, fdtAddress]);
  cpus[0]!.gen = loopForm(o.image.main(bootRegs));
  cpus[0]!.state = "running";

  const inRam = (addr: number, size: number): boolean => ram.contains(addr, size);
  const start = (target: Cpu, entry: number, context: number): void => {
    if (o.image.secondary === undefined) throw new Error("image has no secondary entry");
    target.gen = loopForm(o.image.secondary(entry, context));
    target.state = o.neverRun?.has(target.hwid) === true ? "parked" : "running";
  };

  const uartRead = (addr: number): number | undefined => {
    const u = o.uart;
    if (u === undefined || addr < u.base || addr >= u.base + 0x1000) return undefined;
    const off = addr - u.base;
    if (u.kind === "pl011") return off === 0x18 ? 0x90 : 0; // UARTFR: TXFE | RXFE
    return off === 5 << (u.regShift ?? 0) ? 0x60 : 0; // LSR: THRE | TEMT
  };
  const uartWrite = (addr: number, value: number): boolean => {
    const u = o.uart;
    if (u === undefined || addr < u.base || addr >= u.base + 0x1000) return false;
    if (addr === u.base) uartBytes.push(value & 0xff);
    return true;
  };

  function psci(cpu: Cpu, op: GuestOp & { kind: "hvc" | "smc" }): number {
    const fid = (op.args[0] ?? 0) >>> 0;
    const [a1 = 0, a2 = 0, a3 = 0] = op.args.slice(1);
    calls.push(`${op.kind} ${hex(fid)}${op.args.slice(1).map((a) => ` ${hex(a)}`).join("")}`);
    switch (fid) {
      case 0x8400_0000:
        return 0x1_0001;
      case 0x8400_0008:
        power = { kind: "psci-system-off", cpu: cpus.indexOf(cpu) };
        return 0;
      case 0x8400_0009:
        power = { kind: "psci-system-reset", cpu: cpus.indexOf(cpu) };
        return 0;
      case 0x8400_0002:
        cpu.state = "off";
        cpu.gen = undefined;
        return 0;
      case 0x8400_0003:
      case 0xc400_0003: {
        const target = cpus.find((c) => c.hwid === a1);
        if (target === undefined) return -2;
        const refused = o.refuseStart?.get(a1);
        if (refused !== undefined) return refused;
        if (target.state !== "off") return -4;
        start(target, a2, a3);
        return 0;
      }
      default:
        return -1;
    }
  }

  function sbi(cpu: Cpu, op: GuestOp & { kind: "sbi" }): { error: number; value: number } {
    const [a0 = 0, a1 = 0, a2 = 0] = op.args;
    if (op.ext === 0x4442_434e && op.fid === 2) {
      sbiBytes.push(a0 & 0xff);
      sbiConsoleKinds.add("dbcn");
      return { error: 0, value: 0 };
    }
    if (op.ext === 0x01) {
      sbiBytes.push(a0 & 0xff);
      sbiConsoleKinds.add("legacy");
      return { error: 0, value: 0 };
    }
    calls.push(`sbi ${hex(op.ext)}/${op.fid}${op.args.map((a) => ` ${hex(a)}`).join("")}`);
    if (op.ext === 0x10 && op.fid === 3) {
      const known = [0x10, 0x48_534d, 0x5352_5354, 0x01, ...(o.dbcn === false ? [] : [0x4442_434e])];
      return { error: 0, value: known.includes(a0) ? 1 : 0 };
    }
    if (op.ext === 0x48_534d && op.fid === 0) {
      const target = cpus.find((c) => c.hwid === a0);
      if (target === undefined) return { error: -3, value: 0 };
      const refused = o.refuseStart?.get(a0);
      if (refused !== undefined) return { error: refused, value: 0 };
      if (target.state !== "off") return { error: -6, value: 0 };
      start(target, a1, a2);
      return { error: 0, value: 0 };
    }
    if (op.ext === 0x48_534d && op.fid === 1) {
      cpu.state = "off";
      cpu.gen = undefined;
      return { error: 0, value: 0 };
    }
    if (op.ext === 0x5352_5354 && op.fid === 0) {
      power = { kind: "sbi-srst", cpu: cpus.indexOf(cpu), type: a0, reason: a1 };
      return { error: 0, value: 0 };
    }
    return { error: -2, value: 0 };
  }

  /** Executes one op of `cpu` and fills its result. */
  function execute(cpu: Cpu, op: GuestOp): void {
    const r = cpu.result;
    r.value = 0;
    r.hi = 0;
    r.error = 0;
    r.regs = [];
    const wrongArch = (what: string): void => {
      faults.push(`${what} on ${o.arch}`);
    };
    switch (op.kind) {
      case "mmio-read": {
        if (inRam(op.addr, op.size)) {
          r.value = ram.load(op.addr, Math.min(op.size, 4));
          if (op.size === 8) r.hi = ram.load(op.addr + 4, 4);
          return;
        }
        const v = uartRead(op.addr);
        if (v === undefined) faults.push(`read of ${op.size} bytes at ${hex(op.addr)}`);
        else r.value = v;
        return;
      }
      case "mmio-write": {
        if (inRam(op.addr, op.size)) {
          ram.store(op.addr, Math.min(op.size, 4), op.value);
          if (op.size === 8) ram.store(op.addr + 4, 4, op.hi);
          return;
        }
        if (!uartWrite(op.addr, op.value)) faults.push(`write of ${op.size} bytes at ${hex(op.addr)}`);
        return;
      }
      case "sysreg-read":
        if (o.arch !== "aarch64") wrongArch("MRS");
        if (op.reg === MPIDR_EL1) {
          r.value = (0x8000_0000 | (cpu.hwid & 0xff_ffff)) >>> 0;
          r.hi = Math.floor(cpu.hwid / 2 ** 32) & 0xff;
        }
        return;
      case "sysreg-write":
        if (o.arch !== "aarch64") wrongArch("MSR");
        return;
      case "csr":
        if (o.arch !== "riscv64") wrongArch("CSR access");
        return;
      case "wfi":
        cpu.state = "parked";
        return;
      case "hvc":
      case "smc": {
        if (o.arch !== "aarch64") {
          wrongArch(op.kind.toUpperCase());
          return;
        }
        const x0 = psci(cpu, op);
        r.value = x0 >>> 0;
        r.hi = x0 < 0 ? 0xffff_ffff : 0;
        r.regs = [x0, op.args[1] ?? 0, op.args[2] ?? 0, op.args[3] ?? 0];
        return;
      }
      case "sbi": {
        if (o.arch !== "riscv64") {
          wrongArch("ecall");
          return;
        }
        const ret = sbi(cpu, op);
        r.error = ret.error;
        r.value = ret.value;
        return;
      }
      case "compute":
        cpu.computeNs += op.ns;
        return;
      case "irq-mask":
      case "irq-unmask":
        return;
      case "brk":
      case "ebreak":
        faults.push(`${op.kind} at ${hex(op.pc)}: no debugger in this executor`);
        return;
      case "repeat":
      case "poll":
      case "seq":
      case "call":
        // Programs run in their loop form (loopForm): these arrive as the ops they stand for.
        throw new Error(`${op.kind} reached the executor unexpanded`);
    }
  }

  const maxOps = o.maxOps ?? 5_000_000;
  const quantum = o.quantum ?? 1;
  let ops = 0;
  let stop: RunResult["stop"] = "idle";
  let next = 0;
  for (let turn = 0; ; turn++) {
    let index = -1;
    for (let k = 0; k < cpus.length && index < 0; k++) {
      const i = (next + k) % cpus.length;
      if (cpus[i]!.state === "running") index = i;
    }
    if (index < 0) break;
    next = index + 1;
    const budget = Math.max(1, o.quantumOf?.(turn) ?? quantum);
    const cpu = cpus[index]!;
    for (let n = 0; n < budget && cpu.state === "running" && power === undefined; n++) {
      const it = cpu.gen!.next(cpu.result);
      if (it.done === true) {
        faults.push(`CPU ${index} returned from its program`);
        cpu.state = "off";
        cpu.gen = undefined;
        break;
      }
      execute(cpu, it.value);
      ops++;
    }
    if (power !== undefined) {
      stop = "power";
      break;
    }
    if (ops >= maxOps) {
      stop = "budget";
      break;
    }
  }
  return {
    uart: new TextDecoder().decode(new Uint8Array(uartBytes)),
    sbiConsole: new TextDecoder().decode(new Uint8Array(sbiBytes)),
    sbiConsoleKinds,
    calls,
    power,
    stop,
    ops,
    computeNs: cpus.map((c) => c.computeNs),
    faults,
    ram,
    fdtAddress,
  };
}
