/**
 * What the GICv3 workload images share: booting an arm64 guest with the GICv3
 * driver up on the boot CPU, a zeroed block of guest RAM for what the CPUs
 * share (kvm-unit-tests' volatile globals), starting secondaries with PSCI
 * CPU_ON and bringing the GIC up on each (Linux's secondary_start_kernel →
 * gic_starting_cpu → gic_cpu_init), and the idle loops.
 *
 * A secondary starts at the block's base (the entry point the boot CPU hands
 * to CPU_ON) with its logical CPU number as context (x0), puts that number in
 * TPIDR_EL1, initialises its redistributor and CPU interface and sets its
 * word in the block's online array; the boot CPU waits for that word, as
 * kvm-unit-tests' smp_boot_secondary waits for cpu_online().
 */

import { op, type ComputeOp, type PollOp } from "@irqlab/sim";
import { cpuRelax } from "../cpu.js";
import { allocateBootMemory } from "../boot/boot-memory.js";
import { boot, type BootedGuest } from "../boot/boot.js";
import type { Region } from "../boot/platform-info.js";
import { halt, panic } from "../boot/panic.js";
import type { GuestCode } from "../guest-image.js";
import { cpuOn, firmwareError } from "../power/power.js";
import { readCntfrq, setCpuId } from "../arm/arm-timer.js";
import { gicCpuInit } from "../arm/gicv3-cpu.js";
import { Gicv3Driver } from "../arm/gicv3-driver.js";
import { storeWords } from "../store-words.js";

/** How long the boot CPU waits for a secondary to come online (Linux __cpu_up: 5 s). */
export const ONLINE_TIMEOUT_NS = 5_000_000_000;
/**
 * The step of an idle spin (`while (true) cpu_relax();`): an interruptible
 * compute, taken up again after each interrupt. 1000 s, longer than any run:
 * the loop has no point where it does anything but spin, and each step's end
 * would only be a point where the run loop resumes the program.
 */
export const SPIN_STEP_NS = 1_000_000_000_000;

const SPIN: ComputeOp = op.compute(SPIN_STEP_NS);
const ONLINE_POLL: ComputeOp = op.compute(1_000);

/** A booted guest with its GICv3 driver and its shared RAM block. */
export interface GicSystem {
  readonly sys: BootedGuest;
  readonly gic: Gicv3Driver;
  /** CNTFRQ_EL0. */
  readonly hz: number;
  /** Base of the shared block: first one 32-bit online word per CPU, then `bytes` for the image. */
  readonly base: number;
  /** Start of the image's part of the block. */
  readonly data: number;
  /** The whole block, for allocators that must keep out of it. */
  readonly block: Region;
}

/** Address of CPU `cpu`'s online word. */
function onlineWord(g: GicSystem, cpu: number): number {
  return g.base + 4 * cpu;
}

/**
 * Boots (arm64 only), brings the GIC up on the boot CPU (distributor, then
 * its redistributor and CPU interface), and allocates and zeroes a block with
 * `size` bytes for the image (or as many as `size(cpus)` says for the CPU
 * count of the tree). Panics with Linux's message when the GIC fails.
 */
export function* gicBoot(bootRegs: readonly number[], name: string, size: number | ((cpus: number) => number)): GuestCode<GicSystem> {
  const sys = yield* boot(bootRegs, { arch: "aarch64" });
  const info = sys.platform.gic;
  if (info === undefined) return yield* panic(sys, "GICv3: no distributor detected, giving up");
  const gic = new Gicv3Driver(info, sys.platform.cpus);
  yield* setCpuId(0);
  if (!(yield* gic.initDist())) return yield* panic(sys, "RWP timeout, gone fishing");
  const err = yield* gicCpuInit(gic, 0);
  if (err !== undefined) return yield* panic(sys, err);
  const hz = yield* readCntfrq();
  const cpus = sys.platform.cpus.length;
  const bytes = typeof size === "number" ? size : size(cpus);
  const head = Math.ceil((4 * cpus) / 8) * 8;
  const base = allocateBootMemory(sys.platform, head + bytes);
  if (base === undefined) return yield* panic(sys, `${name}: no free RAM for ${head + bytes} bytes of shared data`);
  yield* storeWords(base, Math.ceil((head + bytes) / 4), 0);
  return { sys, gic, hz, base, data: base + head, block: { base, size: head + bytes } };
}

/**
 * Starts logical CPU `cpu` (PSCI CPU_ON at the block's base, context = `cpu`)
 * and waits until it is online. Returns undefined or a message in Linux's
 * words ("CPU2: failed to boot: …", "CPU2: failed to come online").
 */
export function* startSecondary(g: GicSystem, cpu: number): GuestCode<string | undefined> {
  const rc = yield* cpuOn(g.sys, g.sys.platform.cpus[cpu]!, g.base, cpu);
  if (rc !== 0) return `CPU${cpu}: failed to boot: ${firmwareError("aarch64", rc)}`;
  for (let waited = 0; waited < ONLINE_TIMEOUT_NS; waited += 1_000) {
    if ((yield op.read(onlineWord(g, cpu), 4)).value !== 0) return undefined;
    yield ONLINE_POLL;
  }
  return `CPU${cpu}: failed to come online`;
}

/**
 * The secondary entry's common part: checks where the CPU started, sets
 * TPIDR_EL1, runs gic_cpu_init and marks the CPU online. Returns the logical
 * CPU number, or panics.
 */
export function* secondaryStart(g: GicSystem | undefined, entry: number, context: number): GuestCode<number> {
  // Started before the boot CPU set anything up: nothing to run with.
  if (g === undefined) return yield* halt();
  const n = g.sys.platform.cpus.length;
  if (entry !== g.base || !Number.isInteger(context) || context < 1 || context >= n) {
    return yield* panic(g.sys, `a CPU started at 0x${entry.toString(16)} with context ${context}, which this image did not ask for`);
  }
  yield* setCpuId(context);
  const err = yield* gicCpuInit(g.gic, context);
  if (err !== undefined) return yield* panic(g.sys, err);
  yield op.write(onlineWord(g, context), 4, 1);
  return context;
}

/** `while (true) cpu_relax();` with interrupts as they are: a busy CPU that takes interrupts between steps. */
export function* spinForever(): GuestCode<never> {
  for (;;) yield SPIN;
}

/** `while (1) wfi();`: an idle CPU woken by each interrupt. */
export function* wfiForever(): GuestCode<never> {
  const wfi = op.wfi();
  for (;;) yield wfi;
}

/**
 * Polls the 32-bit word at `addr` with cpu_relax() until it is non-zero or
 * `tries` run out (`while (!word && tries--) cpu_relax();`, one
 * op.pollWhile); returns whether it was seen set.
 */
export function* pollWord(addr: number, tries: number): GuestCode<boolean> {
  return (yield pollWordOp(addr, tries)).value !== 0;
}

/** pollWord's op, for a loop that waits on the same word again and again (built once; a result of 0 means never set). */
export function pollWordOp(addr: number, tries: number): PollOp {
  return op.pollWhile(op.read(addr, 4), 0xffff_ffff, 0, cpuRelax(), tries);
}
