/**
 * A small arm64 machine for testing the GICv3 driver and the GIC workloads
 * without KVM: the bare @irqlab/gic model (distributor at 0x08000000,
 * redistributors at 0x080a0000, ICC_* system registers), guest RAM holding
 * the device tree, a PL011 that records what is written, PSCI CPU_ON /
 * SYSTEM_OFF, MPIDR_EL1, TPIDR_EL1, and the Generic Timer counter
 * (CNTFRQ_EL0, CNTVCT_EL0) on one virtual clock.
 *
 * Scheduling: CPUs take turns of `quantum` ops; every op costs 1 ns and a
 * compute op its ns, on one shared clock (the CPUs run one after another,
 * not in parallel: enough for logic, not for timing). Before each op a CPU
 * with interrupts unmasked whose IRQ line (GICv3 group 1 output) is high
 * enters the image's vector, masked, and returns to the interrupted program
 * when the vector ends. WFI parks a CPU until its line is high. The run ends
 * at SYSTEM_OFF, when every CPU is parked with nothing pending, or after
 * `maxOps` ops.
 *
 * Test scaffolding, not a model: the vCPU loop is @irqlab/kvm's, which the
 * guest package must not import.
 */

import { Gicv3, GICD_SIZE } from "@irqlab/gic";
import { MmioBus, MMIO_UNHANDLED, loopForm, newGuestResult, sysReg, type GuestOp, type GuestProgram, type GuestResult, type WideValue } from "@irqlab/sim";
import { CNTFRQ_EL0, CNTVCT_EL0, MPIDR_EL1, TPIDR_EL1, type GuestImage } from "../src/index.js";
import { SparseRam } from "./guest-executor.js";

/** Options of {@link runGicGuest}. */
export interface GicRunOptions {
  readonly image: GuestImage;
  readonly blob: Uint8Array;
  /** Number of CPUs (MPIDR affinities 0..n-1, as the test trees' cpu@N reg). */
  readonly cpus: number;
  /** Counter frequency (default 25 MHz). */
  readonly hz?: number;
  /** Ops per turn (default 4). */
  readonly quantum?: number;
  /** Stop after this many ops (default 3,000,000). */
  readonly maxOps?: number;
  /** The GIC to use (default: a fresh KVM-profile Gicv3 with `cpus` PEs). */
  readonly gic?: Gicv3;
}

/** What a run did. */
export interface GicRunResult {
  readonly uart: string;
  readonly stop: "power" | "idle" | "budget";
  readonly ops: number;
  /** Virtual ns at the end. */
  readonly now: number;
  readonly gic: Gicv3;
  readonly ram: SparseRam;
  /** Interrupts taken per CPU (vector entries). */
  readonly taken: readonly number[];
  /** Firmware calls, e.g. "hvc 0xc4000003". */
  readonly calls: readonly string[];
  readonly faults: readonly string[];
}

const RAM_BASE = 0x4000_0000;
const RAM_SIZE = 128 * 1024 * 1024;
const DIST = 0x0800_0000;
const REDIST = 0x080a_0000;
const UART = 0x0900_0000;

interface Frame {
  readonly gen: GuestProgram;
  readonly masked: boolean;
  readonly value: number;
  readonly hi: number;
}

interface Cpu {
  readonly pe: number;
  gen: GuestProgram | undefined;
  state: "off" | "running" | "parked";
  masked: boolean;
  tpidr: number;
  readonly frames: Frame[];
  readonly result: GuestResult;
}

/** Runs `image` on the bare GICv3 model. */
export function runGicGuest(o: GicRunOptions): GicRunResult {
  const hz = o.hz ?? 25_000_000;
  const ram = new SparseRam(RAM_BASE, RAM_SIZE);
  ram.write(RAM_BASE, o.blob);
  const gic = o.gic ?? new Gicv3({ cpus: o.cpus });
  const bus = new MmioBus();
  bus.map(DIST, GICD_SIZE, gic.distributor, "gicd");
  bus.map(REDIST, gic.redistributors.size, gic.redistributors, "gicr");
  const wide: WideValue = { hi: 0 };
  let uart = "";
  const calls: string[] = [];
  const faults: string[] = [];
  let now = 0;
  const machine = { power: false };
  const cpus: Cpu[] = Array.from({ length: o.cpus }, (_, pe) => ({
    pe,
    gen: undefined,
    state: "off",
    masked: true,
    tpidr: 0,
    frames: [],
    result: newGuestResult(),
  }));
  cpus[0]!.gen = loopForm(o.image.main([RAM_BASE, 0, 0, 0]));
  cpus[0]!.state = "running";
  const taken = cpus.map(() => 0);

  function hvc(cpu: Cpu, args: readonly number[]): number {
    const fid = (args[0] ?? 0) >>> 0;
    calls.push(`hvc 0x${fid.toString(16)}`);
    if (fid === 0x8400_0008) {
      machine.power = true;
      return 0;
    }
    if (fid === 0xc400_0003 || fid === 0x8400_0003) {
      const t = cpus[args[1] ?? -1];
      if (t === undefined) return -2;
      if (t.state !== "off") return -4;
      if (o.image.secondary === undefined) return -1;
      t.gen = loopForm(o.image.secondary(args[2] ?? 0, args[3] ?? 0));
      t.state = "running";
      return 0;
    }
    if (fid === 0x8400_0000) return 0x1_0001;
    return -1; // SMCCC_RET_NOT_SUPPORTED
  }

  function execute(cpu: Cpu, op: GuestOp): void {
    // Programs run in their loop form (loopForm): a repeat, poll, sequence or call arrives as the ops it stands for.
    if (op.kind === "repeat" || op.kind === "poll" || op.kind === "seq" || op.kind === "call") throw new Error(`${op.kind} reached the executor unexpanded`);
    const r = cpu.result;
    r.value = 0;
    r.hi = 0;
    r.error = 0;
    now += 1;
    switch (op.kind) {
      case "mmio-read": {
        if (ram.contains(op.addr, op.size)) {
          r.value = ram.load(op.addr, Math.min(op.size, 4));
          if (op.size === 8) r.hi = ram.load(op.addr + 4, 4);
          return;
        }
        if (op.addr >= UART && op.addr < UART + 0x1000) {
          r.value = op.addr === UART + 0x18 ? 0x90 : 0;
          return;
        }
        const v = bus.read(op.addr, op.size);
        if (v === MMIO_UNHANDLED) faults.push(`read at 0x${op.addr.toString(16)}`);
        else {
          r.value = v;
          r.hi = bus.readHi;
        }
        return;
      }
      case "mmio-write":
        if (ram.contains(op.addr, op.size)) {
          ram.store(op.addr, Math.min(op.size, 4), op.value);
          if (op.size === 8) ram.store(op.addr + 4, 4, op.hi);
        } else if (op.addr === UART) uart += String.fromCharCode(op.value & 0xff);
        else if (op.addr < UART || op.addr >= UART + 0x1000) {
          if (!bus.write(op.addr, op.size, op.value, op.hi)) faults.push(`write at 0x${op.addr.toString(16)}`);
        }
        return;
      case "sysreg-read":
        if (op.reg === MPIDR_EL1) r.value = (0x8000_0000 | cpu.pe) >>> 0;
        else if (op.reg === TPIDR_EL1) r.value = cpu.tpidr;
        else if (op.reg === CNTFRQ_EL0) r.value = hz;
        else if (op.reg === CNTVCT_EL0) {
          const t = Math.floor((now * hz) / 1e9);
          r.value = t % 2 ** 32;
          r.hi = Math.floor(t / 2 ** 32);
        } else {
          r.value = gic.readSysReg(cpu.pe, op.reg, wide) >>> 0;
          r.hi = wide.hi >>> 0;
        }
        return;
      case "sysreg-write":
        if (op.reg === TPIDR_EL1) cpu.tpidr = op.value;
        else gic.writeSysReg(cpu.pe, op.reg, op.value, op.hi);
        return;
      case "hvc":
      case "smc": {
        const x0 = hvc(cpu, op.args);
        r.value = x0 >>> 0;
        r.hi = x0 < 0 ? 0xffff_ffff : 0;
        return;
      }
      case "wfi":
        if (!gic.irqLevel(cpu.pe)) cpu.state = "parked";
        return;
      case "compute":
        now += op.ns;
        return;
      case "irq-mask":
      case "irq-unmask":
        cpu.masked = op.kind === "irq-mask";
        return;
      case "csr":
      case "sbi":
        faults.push(`${op.kind} on aarch64`);
        return;
      case "brk":
      case "ebreak":
        faults.push(`unexpected op ${op.kind}`);
    }
  }

  const quantum = o.quantum ?? 4;
  const maxOps = o.maxOps ?? 3_000_000;
  let ops = 0;
  let stop: GicRunResult["stop"] = "idle";
  let next = 0;
  outer: for (;;) {
    for (const c of cpus) if (c.state === "parked" && gic.irqLevel(c.pe)) c.state = "running";
    let index = -1;
    for (let k = 0; k < cpus.length && index < 0; k++) {
      const i = (next + k) % cpus.length;
      if (cpus[i]!.state === "running") index = i;
    }
    if (index < 0) break;
    next = index + 1;
    const cpu = cpus[index]!;
    for (let n = 0; n < quantum && cpu.state === "running"; n++) {
      if (!cpu.masked && gic.irqLevel(cpu.pe) && o.image.vector !== undefined) {
        cpu.frames.push({ gen: cpu.gen!, masked: cpu.masked, value: cpu.result.value, hi: cpu.result.hi });
        cpu.gen = loopForm(o.image.vector(0));
        cpu.masked = true;
        taken[cpu.pe]!++;
      }
      const it = cpu.gen!.next(cpu.result);
      if (it.done === true) {
        const f = cpu.frames.pop();
        if (f === undefined) {
          faults.push(`CPU ${cpu.pe} returned from its program`);
          cpu.state = "off";
          break;
        }
        cpu.gen = f.gen;
        cpu.masked = f.masked;
        cpu.result.value = f.value;
        cpu.result.hi = f.hi;
        continue;
      }
      execute(cpu, it.value);
      ops++;
      if (machine.power) {
        stop = "power";
        break outer;
      }
    }
    if (ops >= maxOps) {
      stop = "budget";
      break;
    }
  }
  return { uart, stop, ops, now, gic, ram, taken, calls, faults };
}

/** ICC_SGI1R_EL1's encoding, for tests that look at what the driver wrote. */
export const SGI1R = sysReg(3, 0, 12, 11, 5);
