/**
 * The guest of the run-loop-forms target, on arm64 (GICv3) or riscv64 (AIA):
 * every vCPU runs a list of generated blocks — RAM loads and stores on a few
 * shared words, op.seq, op.repeat (with and without a stride) of RAM, of an
 * in-kernel interrupt controller's register, of a quiet UART register, of a
 * system register or CSR and of a hypercall KVM answers itself, op.pollWhile
 * on a shared word, computations and spins, IPIs, counter delays, timers,
 * mask / unmask, WFI and op.call of a program made of such blocks, and on
 * arm64's vCPU 0 ITS INT and MOVI commands (LPIs for every CPU) — then idles
 * in WFI. Each op the run loop has a shortcut for appears next to
 * another vCPU that is computing, spinning, polling or blocked, so that the
 * shortcuts run while the event queue interleaves the vCPUs.
 *
 * vCPU 0 boots from the device tree, brings the secondaries up (PSCI CPU_ON,
 * SBI HSM hart_start) and releases them all at once through a go word. IPI
 * kind 1's handler is one op.seq of two stores; kind 2's is a program that
 * adds one to its CPU's counter word (a load and a store). arm64 sends them
 * as SGIs 1 and 2; riscv64 as MSIs into the target's IMSIC file (an
 * identity of its own for kind 1, the IPI identity for kind 2). Kind 3 is
 * {@link IPI_OTHER}.
 */

import {
  allocateBootMemory, ARCH_TIMER_CTRL_ENABLE, ARCH_TIMER_CTRL_IT_MASK, boot, CNTVCT_EL0, cpuOn, CSR_SIE, CSR_SIP, CSR_SSCRATCH, gicCpuInit,
  gicIrqVector, gicSgiWrites, Gicv3Driver, IE_SSIE, IE_STIE, IMSIC_IPI_ID, ImsicDriver, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER, IrqTable,
  ItsDriver, KernelPages, LPI_PROP_DEFAULT, PSCI_0_2_FN_PSCI_VERSION, rdtime, readCntvct, SBI_EXT_BASE, SBI_EXT_BASE_GET_SPEC_VERSION, SBI_EXT_IPI, SBI_EXT_IPI_SEND_IPI, SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, setCpuId,
  setThisCpu, thisCpu, TPIDR_EL1, UART_LSR, UART_PERIPH_ID0, ULONG_MAX, writeCntvCtl, writeCntvCval, type BootedGuest, type GuestArch,
  type GuestCode, type GuestImage, type ItsCollection, type ItsDevice,
} from "@irqlab/guest";
import { CSR_STOPEI, IMSIC_SETEIPNUM_LE } from "@irqlab/aia";
import { GICD_IIDR, ICC_PMR_EL1 } from "@irqlab/gic";
import { op, type GuestOp } from "@irqlab/sim";

/** Shared 32-bit words the blocks read and write; the harness compares them at the end. */
export const WORDS = 16;
/** After the words: the go word, then one online word per CPU. */
const GO = WORDS;
const ONLINE = WORDS + 1;
/** The IPIs the blocks send: 1 runs an op.seq action, 2 a handler program (arm64: SGIs 1 and 2). */
export const IPI_SEQ = 1;
export const IPI_PROGRAM = 2;
/**
 * IPI kind 3, another way in: arm64 SGI 1 to several CPUs at once (every CPU but the one the block
 * names, the sender's own included); riscv64 an SBI IPI, a supervisor software interrupt whose
 * handler clears SSIP and runs kind 1's action.
 */
export const IPI_OTHER = 3;
/** arm64: the ITS device whose events the "lpi" blocks raise, its events and the LPI of event 0. */
const LPI_DEVICE = 1;
export const LPI_EVENTS = 8;
const FIRST_LPI = 8192;
/** Where IPI kind 1's action stores, and the first of kind 2's per-CPU counters (cpu % 4 + this). */
const SEQ_ACTION_WORDS = [WORDS - 2, WORDS - 1] as const;
const IPI_COUNTERS = WORDS - 6;

/** One generated block of a vCPU's list. */
export type Block =
  | { readonly k: "store"; readonly w: number; readonly v: number }
  | { readonly k: "load"; readonly w: number }
  | { readonly k: "seq"; readonly items: readonly (readonly [w: number, v: number])[] }
  | { readonly k: "repeat"; readonly n: number; readonly what: "load" | "store" | "irqchip" | "uart" | "irqchip-reg" | "cpu-reg" | "hypercall"; readonly w: number; readonly stride: boolean }
  | { readonly k: "poll"; readonly w: number; readonly equals: number; readonly relax: number; readonly tries: number }
  | { readonly k: "compute" | "spin"; readonly ns: number }
  /** IPI `kind` (IPI_SEQ, IPI_PROGRAM, IPI_OTHER) to `to`, or to the next CPU when `to` is the sender. */
  | { readonly k: "ipi"; readonly kind: number; readonly to: number }
  /**
   * A delay: the counter read, then read until `ticks` later (arm64: udelay's loop as one op.pollBelow
   * of CNTVCT_EL0; riscv64: a loop of `time` CSR reads and relaxes in the program).
   */
  | { readonly k: "delay"; readonly ticks: number; readonly relax: number }
  /**
   * The timer armed `ticks` ahead (arm64: the virtual timer, whose handler masks it; riscv64: SBI
   * set_timer, whose handler sets it to the end of time); the handler stores to a word.
   */
  | { readonly k: "timer"; readonly ticks: number }
  | { readonly k: "mask" | "unmask" | "wfi" }
  /** op.call of a program that runs `body` (the run loop keeps the caller in a frame; the loop form inlines it). */
  | { readonly k: "call"; readonly body: readonly Block[] }
  /**
   * arm64, vCPU 0 only (the ITS command queue is one driver's): an INT of ITS event `event` (an LPI
   * for the CPU its collection names: event e starts on CPU e % cpus), or a MOVI of it to CPU
   * `to`'s collection; each command followed by a SYNC, as Linux's driver sends them.
   */
  | { readonly k: "lpi"; readonly event: number }
  | { readonly k: "movi"; readonly event: number; readonly to: number };

/** Where the guest keeps its words, set once vCPU 0 allocated them (for the harness). */
export interface GuestWords {
  base: number;
}

/** What differs between the architectures: the interrupt controller, the registers, the hypercall. */
interface ArchParts {
  /** The op a "repeat" block repeats for what is not RAM. */
  repeated(what: "irqchip" | "uart" | "irqchip-reg" | "cpu-reg" | "hypercall"): GuestOp;
  /** The op that sends IPI `kind` (IPI_SEQ, IPI_PROGRAM, IPI_OTHER) to `to`. */
  ipi(kind: number, to: number): GuestOp;
  /** Before the blocks, on `cpu`: its interrupts on. */
  cpuUp(cpu: number): GuestCode;
  /** A "delay" block. */
  delay(ticks: number, relax: number): GuestCode;
  /** A "timer" block: the timer armed `ticks` ahead. */
  timer(ticks: number): GuestCode;
  /** An "lpi" or "movi" block (nothing without an ITS). */
  lpi(b: Extract<Block, { k: "lpi" | "movi" }>): GuestCode;
}

/**
 * The image of a `cpus`-vCPU `arch` machine where vCPU `c` runs
 * `blocks[c]`; `onBlock` hears each block as its vCPU reaches it.
 */
export function runLoopFormsGuest(arch: GuestArch, cpus: number, blocks: readonly (readonly Block[])[], words: GuestWords, onBlock: (b: Block) => void): GuestImage {
  let base = 0;
  const word = (w: number): number => base + 4 * w;
  let parts: ArchParts | undefined;

  /** seq items: a store of v, or a load where v < 0. */
  const access = (w: number, v: number): GuestOp => (v < 0 ? op.read(word(w), 4) : op.write(word(w), 4, v));

  /** Runs a block on `cpu`. */
  function* run(b: Block, cpu: number): GuestCode {
    switch (b.k) {
      case "store":
        yield op.write(word(b.w), 4, b.v);
        return;
      case "load":
        yield op.read(word(b.w), 4);
        return;
      case "seq":
        yield op.seq(b.items.map(([w, v]) => access(w, v)));
        return;
      case "repeat": {
        const ram = b.what === "load" || b.what === "store";
        const stride = b.stride && ram ? 4 : undefined;
        // A strided repeat stays inside the words.
        const n = stride === undefined ? b.n : Math.min(b.n, WORDS - b.w);
        const one = b.what === "load" ? op.read(word(b.w), 4) : b.what === "store" ? op.write(word(b.w), 4, b.n) : parts!.repeated(b.what);
        yield op.repeat(n, one, stride);
        return;
      }
      case "poll":
        yield op.pollWhile(op.read(word(b.w), 4), 0xffff_ffff, b.equals, op.compute(b.relax), b.tries);
        return;
      case "compute":
        yield op.compute(b.ns);
        return;
      case "spin":
        yield op.spin(b.ns);
        return;
      case "ipi":
        yield parts!.ipi(b.kind, b.to === cpu ? (cpu + 1) % cpus : b.to);
        return;
      case "delay":
        yield* parts!.delay(b.ticks, b.relax);
        return;
      case "timer":
        yield* parts!.timer(b.ticks);
        return;
      case "mask":
        yield op.mask();
        return;
      case "unmask":
        yield op.unmask();
        return;
      case "wfi":
        yield op.wfi();
        return;
      case "call":
        yield op.call(callee(b.body, cpu));
        return;
      case "lpi":
      case "movi":
        yield* parts!.lpi(b);
    }
  }

  /** The program a "call" block calls. */
  function* callee(body: readonly Block[], cpu: number): GuestCode {
    for (const b of body) yield* run(b, cpu);
  }

  /** Allocates and clears the words (on vCPU 0, before any other runs). */
  function* allocateWords(sys: BootedGuest): GuestCode {
    base = allocateBootMemory(sys.platform, 4 * (ONLINE + cpus))!;
    words.base = base;
    for (let w = 0; w < ONLINE + cpus; w++) yield op.write(word(w), 4, 0);
  }

  /**
   * The CPU's interrupts on, then its online word. Everything a block reads
   * of another CPU (riscv64: the identity kind 1 sends to it) is set by then,
   * so no vCPU depends on where the other programs are in JS, only on guest
   * memory.
   */
  function* up(cpu: number): GuestCode {
    yield* parts!.cpuUp(cpu);
    yield op.write(word(ONLINE + cpu), 4, 1);
  }

  /** vCPU 0 once it is up: the others started (`start(c)`) and waited for, then go. */
  function* bringUp(start: (cpu: number) => GuestCode<unknown>): GuestCode {
    for (let c = 1; c < cpus; c++) {
      yield* start(c);
      yield op.pollWhile(op.read(word(ONLINE + c), 4), 0xffff_ffff, 0, op.compute(100), 1 << 20);
    }
    yield op.write(word(GO), 4, 1);
  }

  /** Once the go word is set: the blocks, then WFI for ever. */
  function* go(cpu: number): GuestCode<never> {
    yield op.pollWhile(op.read(word(GO), 4), 0xffff_ffff, 0, op.compute(50), 1 << 20);
    yield op.unmask();
    for (const b of blocks[cpu] ?? []) {
      onBlock(b);
      yield* run(b, cpu);
    }
    const wfi = op.wfi();
    for (;;) yield wfi;
  }

  /** IPI kind 2's handler: one more in the CPU's counter word. */
  function* count(cpu: number): GuestCode {
    const at = word(IPI_COUNTERS + (cpu % 4));
    const n = (yield op.read(at, 4)).value;
    yield op.write(at, 4, n + 1);
  }
  /** IPI kind 1's action. */
  const seqAction = (): GuestOp => op.seq([op.write(word(SEQ_ACTION_WORDS[0]), 4, 1), op.write(word(SEQ_ACTION_WORDS[1]), 4, 2)]);
  /** The timer handler's store. */
  const timerStore = (): GuestOp => op.write(word(SEQ_ACTION_WORDS[0]), 4, 3);
  /** Kind 3's targets on arm64: every CPU but `to`, the sender among them. */
  const others = (to: number): number[] => Array.from({ length: cpus }, (_, c) => c).filter((c) => c !== to);

  if (arch === "riscv64") {
    let imsic: ImsicDriver | undefined;
    // Kind 1's identity in each CPU's file.
    const seqIds: number[] = [];
    return {
      main: function* (bootRegs) {
        const sys = yield* boot(bootRegs, { arch });
        yield* setThisCpu(0);
        const table = new IrqTable();
        const setup = ImsicDriver.setup(sys.platform, table);
        if (!setup.ok) throw new Error(setup.message);
        const drv = setup.driver;
        imsic = drv;
        yield* allocateWords(sys);
        drv.ipiHandler = count;
        const uart = sys.platform.console!;
        const lsr = uart.region.base + (uart.kind === "ns16550a" ? UART_LSR << uart.regShift : 0);
        const aplic = sys.platform.aplics[0]!;
        parts = {
          repeated: (what) =>
            what === "irqchip" ? op.read(aplic.region.base, 4)
            : what === "uart" ? op.read(lsr, 1)
            : what === "irqchip-reg" ? op.csrRead(CSR_STOPEI)
            : what === "hypercall" ? op.sbi(SBI_EXT_BASE, SBI_EXT_BASE_GET_SPEC_VERSION)
            : op.csrRead(CSR_SSCRATCH),
          ipi: (kind, to) =>
            kind === IPI_OTHER ? op.sbi(SBI_EXT_IPI, SBI_EXT_IPI_SEND_IPI, [1 << to, 0])
            : op.write(drv.msiAddress(to)! + IMSIC_SETEIPNUM_LE, 4, kind === IPI_SEQ ? seqIds[to]! : IMSIC_IPI_ID),
          cpuUp: function* (cpu) {
            yield* drv.startingCpu(cpu);
            const vec = drv.allocVector([cpu])!;
            seqIds[cpu] = vec.localId;
            table.register(vec.irq, seqAction());
            yield* drv.unmask(vec, cpu);
            yield op.csrSet(CSR_SIE, IE_SSIE | IE_STIE);
          },
          delay: function* (ticks, relax) {
            const end = (yield* rdtime()) + ticks;
            while ((yield* rdtime()) < end) yield op.compute(relax);
          },
          timer: function* (ticks) {
            yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [(yield* rdtime()) + ticks]);
          },
          lpi: function* () {
            // No ITS on riscv64: the generator draws no such block there.
          },
        };
        yield* up(0);
        yield* bringUp((c) => cpuOn(sys, sys.platform.cpus[c]!, base, c));
        return yield* go(0);
      },
      vector: function* (cause) {
        if (cause === IRQ_S_EXT && imsic !== undefined) yield* imsic.handleIrq(yield* thisCpu());
        else if (cause === IRQ_S_SOFT) {
          yield op.csrClear(CSR_SIP, IE_SSIE);
          yield seqAction();
        } else if (cause === IRQ_S_TIMER) {
          yield op.sbi(SBI_EXT_TIME, SBI_EXT_TIME_SET_TIMER, [ULONG_MAX]);
          yield timerStore();
        }
      },
      secondary: function* (_entry, context) {
        yield* setThisCpu(context);
        yield* up(context);
        return yield* go(context);
      },
    };
  }

  /**
   * The ITS as Linux's driver sets it up (tables, LPIs on every redistributor,
   * a collection per CPU), then device LPI_DEVICE with LPI_EVENTS events, each
   * mapped to an LPI of its own on CPU e % cpus; the even events' handler is
   * kind 1's action, the odd ones' kind 2's program. Undefined without an ITS.
   */
  function* itsSetUp(sys: BootedGuest, drv: Gicv3Driver): GuestCode<{ driver: ItsDriver; dev: ItsDevice; cols: ItsCollection[] } | undefined> {
    const info = sys.platform.gic?.its[0];
    if (info === undefined) return undefined;
    const probed = yield* ItsDriver.probe(sys.platform.gic!, info, new KernelPages(sys.platform, [{ base, size: 4 * (ONLINE + cpus) }]));
    if (!probed.ok) throw new Error(probed.message);
    const driver = probed.its;
    for (const cpu of sys.platform.cpus) {
      const err = yield* driver.enableLpis(cpu);
      if (err !== undefined) throw new Error(err);
    }
    const dev = (yield* driver.createDevice(LPI_DEVICE, LPI_EVENTS))!;
    const cols: ItsCollection[] = [];
    for (let c = 0; c < cpus; c++) {
      const col = driver.createCollection(c, c)!;
      yield* driver.mapc(col, true);
      cols.push(col);
    }
    for (let e = 0; e < LPI_EVENTS; e++) {
      yield* driver.lpis.setConfig(FIRST_LPI + e, LPI_PROP_DEFAULT);
      yield* driver.mapti(dev, e, FIRST_LPI + e, cols[e % cpus]!);
      drv.irqs.register(FIRST_LPI + e, e % 2 === 0 ? seqAction() : (_irq, c) => count(c));
    }
    for (const col of cols) yield* driver.invall(col);
    return { driver, dev, cols };
  }

  let gic: Gicv3Driver | undefined;
  return {
    main: function* (bootRegs) {
      const sys = yield* boot(bootRegs, { arch: "aarch64" });
      const drv = new Gicv3Driver(sys.platform.gic!, sys.platform.cpus);
      gic = drv;
      yield* setCpuId(0);
      yield* drv.initDist();
      yield* gicCpuInit(drv, 0);
      yield* allocateWords(sys);
      drv.irqs.register(IPI_SEQ, seqAction());
      drv.irqs.register(IPI_PROGRAM, (_irq, c) => count(c));
      // The virtual timer's handler: a store, then the timer masked so that its level drops.
      const timer = sys.platform.timer?.virtual;
      if (timer !== undefined) drv.irqs.register(timer, op.seq([timerStore(), writeCntvCtl(ARCH_TIMER_CTRL_IT_MASK | ARCH_TIMER_CTRL_ENABLE)]));
      const its = yield* itsSetUp(sys, drv);
      const uart = sys.platform.console!;
      parts = {
        repeated: (what) =>
          what === "irqchip" ? op.read(drv.dist + GICD_IIDR, 4)
          : what === "uart" ? op.read(uart.region.base + UART_PERIPH_ID0, 4)
          : what === "irqchip-reg" ? op.mrs(ICC_PMR_EL1)
          : what === "hypercall" ? op.hvc([PSCI_0_2_FN_PSCI_VERSION])
          : op.mrs(TPIDR_EL1),
        ipi: (kind, to) => (kind === IPI_OTHER ? op.seq(gicSgiWrites(drv, IPI_SEQ, others(to))) : op.seq(gicSgiWrites(drv, kind, [to]))),
        cpuUp: function* (cpu) {
          yield* drv.enableIrq(IPI_SEQ, cpu);
          yield* drv.enableIrq(IPI_PROGRAM, cpu);
          if (timer !== undefined) {
            yield writeCntvCtl(ARCH_TIMER_CTRL_IT_MASK);
            yield* drv.enableIrq(timer, cpu);
          }
        },
        delay: function* (ticks, relax) {
          const now = yield* readCntvct();
          yield op.pollBelow(op.mrs(CNTVCT_EL0), now + ticks, op.compute(relax), 1 << 24);
        },
        timer: function* (ticks) {
          const now = yield* readCntvct();
          yield writeCntvCval(now + ticks);
          yield writeCntvCtl(ARCH_TIMER_CTRL_ENABLE);
        },
        lpi: function* (b) {
          if (its === undefined) return;
          if (b.k === "lpi") yield* its.driver.int(its.dev, b.event);
          else yield* its.driver.movi(its.dev, b.event, its.cols[b.to]!);
        },
      };
      yield* up(0);
      yield* bringUp((c) => cpuOn(sys, sys.platform.cpus[c]!, base, c));
      return yield* go(0);
    },
    vector: gicIrqVector(() => gic),
    secondary: function* (_entry, context) {
      yield* setCpuId(context);
      yield* gicCpuInit(gic!, context);
      yield* up(context);
      return yield* go(context);
    },
  };
}
