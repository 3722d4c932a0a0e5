/**
 * A one-vCPU arm64 VM for checking that a guest op's fast form (a repeat, a
 * poll, a sequence) executes exactly as the loop of yields it stands for:
 * the same guest runs once as written and once through sim's loopForm, and
 * everything the VMM and a trace reader can observe is compared — each exit
 * with its time (and a store's value), what host events logged, the virtual
 * time at the end, the trace.
 *
 * What the guest's program saw goes into the log through its `note`. The
 * guest reports done with a store to {@link DONE}; a store to
 * {@link ACK} lowers interrupt line 0 (a vector's acknowledgement). A load
 * that exits is answered with `answer(n)` for the n-th such load.
 */
import { EventQueue, loopForm, sysReg, Tracer, type GuestProgram } from "@irqlab/sim";
import { expect } from "vitest";
import { Kvm } from "../src/kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8, type Device } from "../src/index.js";
import { KVM_EXIT_INTR, KVM_EXIT_MMIO } from "../src/uapi/exit-reasons.js";
import type { Vm } from "../src/vm.js";
import { vgicV3Setup } from "./kvm-selftests/lib/vgic.js";

/** Guest RAM starts here (a slot of `ramBytes`). */
export const RAM = 0x4000_0000;
/** The guest's "done" store: the run ends at its exit. */
export const DONE = 0x1000;
/** The vector's acknowledgement store: the VMM lowers interrupt line 0. */
export const ACK = 0x2000;
/** No device and no RAM: every access here exits to the VMM. */
export const USER = 0x0900_0000;
/** With `vgic`: the distributor and the redistributor (QEMU virt's addresses). */
export const GICD = 0x0800_0000;
export const GICR = 0x080a_0000;
/**
 * TPIDR_EL1 in the sys_reg() encoding MRS/MSR ops take (arch/arm64/include/asm/sysreg.h
 * SYS_TPIDR_EL1 = sys_reg(3, 0, 13, 0, 4)): an EL1 register KVM holds for the guest, without a trap.
 */
export const TPIDR_EL1 = sysReg(3, 0, 13, 0, 4);

/** Adds a line to the run's log (host-side bookkeeping of a guest: what its program saw). */
export type Note = (line: string) => void;

export interface LoopFormSetup {
  /** The boot program; run as written for "op", through loopForm for "loop". */
  readonly main: (note: Note) => GuestProgram;
  /** The interrupt vector (run as written either way: it is the same code in both runs). */
  readonly vector?: (note: Note) => GuestProgram;
  /** Bytes of RAM at {@link RAM} (default 64 KiB). */
  readonly ramBytes?: number;
  /** Host events at virtual times; a string an event returns is logged. */
  readonly events?: readonly (readonly [time: number, event: (vm: Vm, gic: Device | undefined) => unknown])[];
  /** KVM_RUN's deadline for each call (RunOptions.until = now + slice): runs that return mid-op. */
  readonly slice?: number;
  /** The VMM's answer to the n-th load that exits (default n & 0xff). */
  readonly answer?: (n: number) => number;
  /** Logged after the run: what the test wants compared about the end state (memory, say). */
  readonly after?: (vm: Vm) => readonly string[];
  /** An in-kernel vgic-v3 of 64 IRQs at {@link GICD} / {@link GICR}, initialised before the run; events get it. */
  readonly vgic?: boolean;
  /** Trace the run (default true); off, the runs take the paths an untraced run takes. */
  readonly trace?: boolean;
  /** What the VMM does at the vector's {@link ACK} store (default: lower interrupt line 0). */
  readonly ack?: (vm: Vm) => void;
}

export interface LoopFormRun {
  /** Exits with their times, event logs and `after`'s lines, in order. */
  readonly log: string[];
  /** Virtual time when the guest reported done. */
  readonly end: number;
  /** The trace as text. */
  readonly trace: string;
}

/** Runs the setup's guest in one form. */
export function runLoopForm(s: LoopFormSetup, form: "op" | "loop"): LoopFormRun {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: s.trace ?? true }) });
  const vm = kvm.createVm();
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: s.ramBytes ?? 0x1_0000 });
  const v = vm.createVcpu(0);
  v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  let gic: Device | undefined;
  if (s.vgic === true) gic = vgicV3Setup(vm, 1, 64, GICD, GICR);
  const log: string[] = [];
  const note: Note = (line) => void log.push(`${line}@${queue.now}`);
  const vector = s.vector;
  v.loadGuest({
    main: form === "op" ? () => s.main(note) : () => loopForm(s.main(note)),
    ...(vector !== undefined ? { vector: () => vector(note) } : {}),
  });
  for (const [t, event] of s.events ?? []) {
    queue.schedule(t, () => {
      const line = event(vm, gic);
      if (typeof line === "string") log.push(`${line}@${queue.now}`);
    }, undefined);
  }
  let loads = 0;
  for (let calls = 0; calls < 1_000_000; calls++) {
    const e = v.run(0, s.slice === undefined ? undefined : { until: queue.now + s.slice });
    if (e.reason === KVM_EXIT_INTR) {
      log.push(`intr:${e.cause}@${queue.now}`);
      continue;
    }
    expect(e.reason).toBe(KVM_EXIT_MMIO);
    if (e.reason !== KVM_EXIT_MMIO) break;
    log.push(`${e.isWrite ? "w" : "r"}@0x${e.physAddr.toString(16)}@${queue.now}${e.isWrite ? `=${e.data[0]}` : ""}`);
    if (e.physAddr === DONE) break;
    if (e.physAddr === ACK) {
      if (s.ack !== undefined) s.ack(vm);
      else vm.irqLine(0, 0);
    }
    else if (!e.isWrite) e.data.set([(s.answer ?? ((n: number) => n & 0xff))(++loads) & 0xff, 0, 0, 0]);
  }
  log.push(...(s.after?.(vm) ?? []));
  return { log, end: queue.now, trace: kvm.tracer.toText() };
}

/** Runs both forms and expects the same log, end time and trace; returns the fast form's run. */
export function expectLoopFormEqual(s: LoopFormSetup): LoopFormRun {
  const loop = runLoopForm(s, "loop");
  const fast = runLoopForm(s, "op");
  expect(fast.log).toEqual(loop.log);
  expect(fast.end).toBe(loop.end);
  expect(fast.trace).toBe(loop.trace);
  return fast;
}
