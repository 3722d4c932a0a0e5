/**
 * The arm64 guest of the run-loop-forms target: every vCPU runs a list of
 * generated blocks — RAM loads and stores on a few shared words, op.seq,
 * op.repeat (with and without a stride) of RAM, in-kernel vgic, quiet UART
 * and system-register accesses, op.pollWhile on a shared word, computations
 * and spins, SGIs to other vCPUs, quiet hypercalls, counter delays, the
 * virtual timer, mask / unmask and WFI — then idles in WFI.
 * Each op the run loop has a shortcut for appears here next to another vCPU
 * that is computing, spinning, polling or blocked, so that the shortcuts run
 * while the event queue interleaves the vCPUs.
 *
 * vCPU 0 boots from the device tree (the GIC, the UART, the CPUs), brings the
 * secondaries up with PSCI CPU_ON and releases them all at once through a go
 * word. SGI 1's handler is one op.seq of two stores; SGI 2's is a program
 * that adds one to its CPU's counter word (a load and a store).
 */

import {
  allocateBootMemory, ARCH_TIMER_CTRL_ENABLE, ARCH_TIMER_CTRL_IT_MASK, boot, CNTVCT_EL0, cpuOn, gicCpuInit, gicIrqVector, gicSgiWrites, Gicv3Driver,
  PSCI_0_2_FN_PSCI_VERSION, readCntvct, setCpuId, TPIDR_EL1, UART_PERIPH_ID0, writeCntvCtl, writeCntvCval, type BootedGuest, type GuestCode, type GuestImage,
} from "@irqlab/guest";
import { GICD_IIDR, ICC_PMR_EL1 } from "@irqlab/gic";
import { op, type GuestOp } from "@irqlab/sim";

/** Shared 32-bit words the blocks read and write; the harness compares them at the end. */
export const WORDS = 16;
/** After the words: the go word, then one online word per CPU. */
const GO = WORDS;
const ONLINE = WORDS + 1;
/** The SGIs the blocks send: 1 runs an op.seq action, 2 a handler program. */
export const SGI_SEQ = 1;
export const SGI_PROGRAM = 2;
/** Where SGI 1's action stores, and the first of SGI 2's per-CPU counters (cpu + this). */
const SGI_SEQ_WORDS = [WORDS - 2, WORDS - 1] as const;
const SGI_COUNTERS = WORDS - 6;

/** One generated block of a vCPU's list. */
export type Block =
  | { readonly k: "store"; readonly w: number; readonly v: number }
  | { readonly k: "load"; readonly w: number }
  | { readonly k: "seq"; readonly items: readonly (readonly [w: number, v: number])[] }
  | { readonly k: "repeat"; readonly n: number; readonly what: "load" | "store" | "vgic" | "uart" | "pmr" | "tpidr" | "hvc"; readonly w: number; readonly stride: boolean }
  | { readonly k: "poll"; readonly w: number; readonly equals: number; readonly relax: number; readonly tries: number }
  | { readonly k: "compute" | "spin"; readonly ns: number }
  | { readonly k: "sgi"; readonly sgi: number; readonly to: number }
  /** A delay: the virtual counter read, then polled until `ticks` later (udelay's loop, op.pollBelow). */
  | { readonly k: "delay"; readonly ticks: number; readonly relax: number }
  /** The virtual timer armed `ticks` ahead; its handler masks it and stores to a word. */
  | { readonly k: "timer"; readonly ticks: number }
  | { readonly k: "mask" | "unmask" | "wfi" };

/** Where the guest keeps its words, set once vCPU 0 allocated them (for the harness). */
export interface GuestWords {
  base: number;
}

/**
 * The image of a `cpus`-vCPU machine where vCPU `c` runs `blocks[c]`;
 * `onBlock` hears each block as its vCPU reaches it.
 */
export function runLoopFormsGuest(cpus: number, blocks: readonly (readonly Block[])[], words: GuestWords, onBlock: (b: Block) => void): GuestImage {
  let sys: BootedGuest | undefined;
  let gic: Gicv3Driver | undefined;
  let base = 0;
  const word = (w: number): number => base + 4 * w;

  /** seq items: a store of v, or a load where v < 0. */
  const access = (w: number, v: number): GuestOp => (v < 0 ? op.read(word(w), 4) : op.write(word(w), 4, v));

  /** The one op of a block, or undefined for the blocks of several ops (see {@link run}). */
  function toOp(b: Block, cpu: number): GuestOp | undefined {
    switch (b.k) {
      case "store":
        return op.write(word(b.w), 4, b.v);
      case "load":
        return op.read(word(b.w), 4);
      case "seq":
        return op.seq(b.items.map(([w, v]) => access(w, v)));
      case "repeat": {
        const stride = b.stride && (b.what === "load" || b.what === "store") ? 4 : undefined;
        // A strided repeat stays inside the words.
        const n = stride === undefined ? b.n : Math.min(b.n, WORDS - b.w);
        const one =
          b.what === "load" ? op.read(word(b.w), 4)
          : b.what === "store" ? op.write(word(b.w), 4, b.n)
          : b.what === "vgic" ? op.read(gic!.dist + GICD_IIDR, 4)
          : b.what === "uart" ? op.read(sys!.platform.console!.region.base + UART_PERIPH_ID0, 4)
          : b.what === "pmr" ? op.mrs(ICC_PMR_EL1)
          : b.what === "hvc" ? op.hvc([PSCI_0_2_FN_PSCI_VERSION])
          : op.mrs(TPIDR_EL1);
        return op.repeat(n, one, stride);
      }
      case "poll":
        return op.pollWhile(op.read(word(b.w), 4), 0xffff_ffff, b.equals, op.compute(b.relax), b.tries);
      case "compute":
        return op.compute(b.ns);
      case "spin":
        return op.spin(b.ns);
      case "sgi":
        return op.seq(gicSgiWrites(gic!, b.sgi, [b.to === cpu ? (cpu + 1) % cpus : b.to]));
      case "timer":
      case "delay":
        return undefined;
      case "mask":
        return op.mask();
      case "unmask":
        return op.unmask();
      case "wfi":
        return op.wfi();
    }
  }

  /** Runs a block. */
  function* run(b: Block, cpu: number): GuestCode {
    const one = toOp(b, cpu);
    if (one !== undefined) {
      yield one;
      return;
    }
    const now = yield* readCntvct();
    if (b.k === "delay") yield op.pollBelow(op.mrs(CNTVCT_EL0), now + b.ticks, op.compute(b.relax), 1 << 24);
    else if (b.k === "timer") {
      yield writeCntvCval(now + b.ticks);
      yield writeCntvCtl(ARCH_TIMER_CTRL_ENABLE);
    }
  }

  /** The common part: the CPU's SGIs on, online, wait for go, the blocks, then WFI for ever. */
  function* body(cpu: number): GuestCode<never> {
    yield* gic!.enableIrq(SGI_SEQ, cpu);
    yield* gic!.enableIrq(SGI_PROGRAM, cpu);
    const timer = sys!.platform.timer?.virtual;
    if (timer !== undefined) {
      yield writeCntvCtl(ARCH_TIMER_CTRL_IT_MASK);
      yield* gic!.enableIrq(timer, cpu);
    }
    yield op.write(word(ONLINE + cpu), 4, 1);
    yield op.pollWhile(op.read(word(GO), 4), 0xffff_ffff, 0, op.compute(50), 1 << 20);
    yield op.unmask();
    for (const b of blocks[cpu] ?? []) {
      onBlock(b);
      yield* run(b, cpu);
    }
    const wfi = op.wfi();
    for (;;) yield wfi;
  }

  return {
    main: function* (bootRegs) {
      sys = yield* boot(bootRegs, { arch: "aarch64" });
      const info = sys.platform.gic!;
      gic = new Gicv3Driver(info, sys.platform.cpus);
      yield* setCpuId(0);
      yield* gic.initDist();
      yield* gicCpuInit(gic, 0);
      base = allocateBootMemory(sys.platform, 4 * (ONLINE + cpus))!;
      words.base = base;
      for (let w = 0; w < ONLINE + cpus; w++) yield op.write(word(w), 4, 0);
      gic.irqs.register(SGI_SEQ, op.seq([op.write(word(SGI_SEQ_WORDS[0]), 4, 1), op.write(word(SGI_SEQ_WORDS[1]), 4, 2)]));
      gic.irqs.register(SGI_PROGRAM, function* (_irq, c) {
        const at = word(SGI_COUNTERS + (c % 4));
        const n = (yield op.read(at, 4)).value;
        yield op.write(at, 4, n + 1);
      });
      // The virtual timer's handler: a store, then the timer masked so that its level drops.
      const timer = sys.platform.timer?.virtual;
      if (timer !== undefined) gic.irqs.register(timer, op.seq([op.write(word(SGI_SEQ_WORDS[0]), 4, 3), writeCntvCtl(ARCH_TIMER_CTRL_IT_MASK | ARCH_TIMER_CTRL_ENABLE)]));
      for (let c = 1; c < cpus; c++) {
        yield* cpuOn(sys, sys.platform.cpus[c]!, base, c);
        yield op.pollWhile(op.read(word(ONLINE + c), 4), 0xffff_ffff, 0, op.compute(100), 1 << 20);
      }
      yield op.write(word(GO), 4, 1);
      return yield* body(0);
    },
    vector: gicIrqVector(() => gic),
    secondary: function* (_entry, context) {
      yield* setCpuId(context);
      yield* gicCpuInit(gic!, context);
      return yield* body(context);
    },
  };
}
