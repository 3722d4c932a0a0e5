/**
 * The CPU side of the GICv3 driver (Linux drivers/irqchip/irq-gic-v3.c), run
 * on each CPU as it comes up:
 *
 * - {@link gicCpuInit}: gic_cpu_init() — find this CPU's redistributor
 *   (gic_populate_rdist), wake it (gic_enable_redist: clear
 *   GICR_WAKER.ProcessorSleep, poll until ChildrenAsleep reads 0), make
 *   SGIs/PPIs Group 1, deactivate and disable them and give them the default
 *   priority (irq-gic-common.c gic_cpu_config, then the RWP wait), then the
 *   CPU interface (gic_cpu_sys_reg_init): ICC_SRE_EL1.SRE (checked), the
 *   implemented priority bits from ICC_CTLR_EL1, the Group 0 probe through
 *   PMR (gic_has_group0), ICC_PMR_EL1 = 0xf0 (DEFAULT_PMR_VALUE),
 *   ICC_BPR1_EL1 = 0, ICC_CTLR_EL1.EOImode = 0 (a guest has no EL2, so
 *   is_hyp_mode_available() is false and supports_deactivate_key is off),
 *   the active priority registers cleared, ICC_IGRPEN1_EL1 = 1.
 * - {@link gicSendSgi}: gic_ipi_send_mask() — one ICC_SGI1R_EL1 write per
 *   cluster of up to 16 CPUs that share Aff3.Aff2.Aff1 and Aff0[7:4]
 *   (gic_compute_target_list, gic_send_sgi with the RS field).
 * - {@link gicHandleIrq}: gic_handle_irq() — acknowledge with ICC_IAR1_EL1,
 *   ignore the special INTIDs 1020..1023, run the handler from the IrqTable
 *   (generic_handle_domain_irq), then EOI with ICC_EOIR1_EL1 (EOImode 0:
 *   priority drop and deactivation; gic_eoi_irq, or gic_deactivate_unhandled
 *   when nobody handles it).
 *
 * Errors come back as the message Linux prints, for the image to report.
 */

import {
  GICD_ICACTIVER,
  GICD_ICENABLER,
  GICD_IPRIORITYR,
  GICR_IGROUPR0,
  GICR_WAKER,
  GICR_WAKER_ChildrenAsleep,
  GICR_WAKER_ProcessorSleep,
  ICC_AP0Rn_EL1,
  ICC_AP1Rn_EL1,
  ICC_BPR1_EL1,
  ICC_CTLR_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICC_SGI1R_EL1,
  ICC_SRE_EL1,
} from "@irqlab/gic";
import { op, StateMachineProgram, type GuestOp, type GuestProgram, type GuestResult, type SysRegReadOp, type SysRegWriteOp } from "@irqlab/sim";
import { cpuRelax } from "../cpu.js";
import type { GuestCode } from "../guest-image.js";
import { READ_TPIDR } from "./arm-timer.js";
import { GIC_SPECIAL_FIRST, GICD_INT_DEF_PRI_X4, RWP_POLLS, type Gicv3Driver } from "./gicv3-driver.js";
import { storeWords } from "../store-words.js";

/** DEFAULT_PMR_VALUE (irq-gic-v3.c): interrupts of priority 0xf0 and below are masked. */
export const DEFAULT_PMR_VALUE = 0xf0;
/** ICC_SRE_EL1.SRE: the system-register interface. */
export const ICC_SRE_EL1_SRE = 1 << 0;
/** ICC_CTLR_EL1.PRIbits, bits [10:8]: implemented priority bits − 1. */
export const ICC_CTLR_EL1_PRI_BITS_MASK = 0x7 << 8;
/** ICC_CTLR_EL1.RSS: SGIs can target Aff0 values 16..255. */
export const ICC_CTLR_EL1_RSS = 1 << 18;
/** ICC_SGI1R_EL1 fields (arm-gic-v3.h), as bit positions in the 64-bit value. */
export const ICC_SGI1R_AFFINITY_1_SHIFT = 16;
export const ICC_SGI1R_SGI_ID_SHIFT = 24;
export const ICC_SGI1R_AFFINITY_2_SHIFT = 32;
export const ICC_SGI1R_IRQ_ROUTING_MODE_BIT = 40;
export const ICC_SGI1R_RS_SHIFT = 44;
export const ICC_SGI1R_AFFINITY_3_SHIFT = 48;

/** The acknowledge, MRS ICC_IAR1_EL1: one op for every vector that reads it. */
export const READ_IAR1: SysRegReadOp = op.mrs(ICC_IAR1_EL1);

/**
 * gic_cpu_init() on logical CPU `cpu` (the CPU running this code). Returns
 * undefined, or the message Linux prints when it fails.
 */
export function* gicCpuInit(drv: Gicv3Driver, cpu: number): GuestCode<string | undefined> {
  const slot = yield* drv.findRedistributor(cpu);
  if (slot === undefined) {
    return `CPU${cpu}: mpidr ${drv.cpus[cpu]!.hwid.toString(16)} has no re-distributor!`;
  }
  // gic_enable_redist(true).
  const waker = slot.rdBase + GICR_WAKER;
  const w = (yield op.read(waker, 4)).value;
  yield op.write(waker, 4, w & ~GICR_WAKER_ProcessorSleep);
  let awake = false;
  for (let n = 0; n < RWP_POLLS && !awake; n++) {
    awake = ((yield op.read(waker, 4)).value & GICR_WAKER_ChildrenAsleep) === 0;
    if (!awake) yield cpuRelax();
  }
  if (!awake) return `redistributor failed to wakeup...`;
  const sgi = slot.sgiBase;
  yield op.write(sgi + GICR_IGROUPR0, 4, 0xffff_ffff);
  // gic_cpu_config(): deactivate and disable the 32 private interrupts, default priority.
  yield op.write(sgi + GICD_ICACTIVER, 4, 0xffff_ffff);
  yield op.write(sgi + GICD_ICENABLER, 4, 0xffff_ffff);
  yield* storeWords(sgi + GICD_IPRIORITYR, 8, GICD_INT_DEF_PRI_X4);
  if (!(yield* drv.redistWaitForRwp(cpu))) return "RWP timeout, gone fishing";
  return yield* gicCpuSysRegInit();
}

/** gic_cpu_sys_reg_init(): the CPU interface. Returns undefined or Linux's error message. */
export function* gicCpuSysRegInit(): GuestCode<string | undefined> {
  // gic_enable_sre().
  let sre = (yield op.mrs(ICC_SRE_EL1)).value;
  if ((sre & ICC_SRE_EL1_SRE) === 0) {
    yield op.msr(ICC_SRE_EL1, sre | ICC_SRE_EL1_SRE);
    sre = (yield op.mrs(ICC_SRE_EL1)).value;
    if ((sre & ICC_SRE_EL1_SRE) === 0) return "GIC: unable to set SRE (disabled at EL2), panic ahead";
  }
  const pribits = (((yield op.mrs(ICC_CTLR_EL1)).value & ICC_CTLR_EL1_PRI_BITS_MASK) >>> 8) + 1;
  // gic_has_group0(): the highest non-zero priority in PMR reads back unless EL3 owns Group 0.
  const oldPmr = (yield op.mrs(ICC_PMR_EL1)).value;
  yield op.msr(ICC_PMR_EL1, 1 << (8 - pribits));
  const group0 = (yield op.mrs(ICC_PMR_EL1)).value !== 0;
  yield op.msr(ICC_PMR_EL1, oldPmr);
  yield op.msr(ICC_PMR_EL1, DEFAULT_PMR_VALUE);
  yield op.msr(ICC_BPR1_EL1, 0);
  yield op.msr(ICC_CTLR_EL1, 0); // ICC_CTLR_EL1_EOImode_drop_dir
  // Clear the active priorities: AP*R0 for 4-5 bits, AP*R0..1 for 6, AP*R0..3 for 7-8 (Group 0 first).
  const aprs = pribits >= 7 ? 4 : pribits === 6 ? 2 : 1;
  if (group0) for (let n = aprs - 1; n >= 0; n--) yield op.msr(ICC_AP0Rn_EL1(n), 0);
  for (let n = aprs - 1; n >= 0; n--) yield op.msr(ICC_AP1Rn_EL1(n), 0);
  yield op.msr(ICC_IGRPEN1_EL1, 1);
  return undefined;
}

/**
 * gic_ipi_send_mask(): SGI `sgi` to the logical CPUs in `targets` (any
 * order; sent in ascending order), one ICC_SGI1R_EL1 write per cluster.
 */
export function* gicSendSgi(drv: Gicv3Driver, sgi: number, targets: readonly number[]): GuestCode {
  for (const w of gicSgiWrites(drv, sgi, targets)) yield w;
}

/**
 * The ICC_SGI1R_EL1 writes {@link gicSendSgi} makes, built once: a sender
 * that sends the same SGI to the same CPUs again and again (an IPI
 * benchmark) yields them without rebuilding.
 */
export function gicSgiWrites(drv: Gicv3Driver, sgi: number, targets: readonly number[]): SysRegWriteOp[] {
  const cpus = [...targets].sort((a, b) => a - b);
  const out: SysRegWriteOp[] = [];
  let i = 0;
  while (i < cpus.length) {
    const hwid = drv.cpus[cpus[i]!]!.hwid;
    const cluster = hwid - (hwid % 16); // MPIDR_TO_SGI_CLUSTER_ID: mpidr & ~0xf
    let tlist = 0;
    // gic_compute_target_list(): consecutive CPUs of the same cluster share one write.
    while (i < cpus.length) {
      const h = drv.cpus[cpus[i]!]!.hwid;
      if (h - (h % 16) !== cluster) break;
      tlist |= 1 << (h % 16);
      i++;
    }
    out.push(sgi1rWrite(sgi, tlist, cluster, false));
  }
  return out;
}

/**
 * SGI `sgi` to every CPU but this one: ICC_SGI1R_EL1 with
 * IRM = 1 (kvm-unit-tests gicv3_ipi_send_broadcast; Linux does not use it).
 */
export function* gicSendSgiBroadcast(sgi: number): GuestCode {
  yield sgi1rWrite(sgi, 0, 0, true);
}

/** gic_send_sgi(): the ICC_SGI1R_EL1 write for a cluster id (MPIDR with Aff0[3:0] = 0) and a target list. */
function sgi1rWrite(sgi: number, tlist: number, cluster: number, irm: boolean): SysRegWriteOp {
  const aff1 = (cluster >>> 8) & 0xff;
  const aff2 = (cluster >>> 16) & 0xff;
  const aff3 = Math.floor(cluster / 2 ** 32) & 0xff;
  const rs = (cluster >>> 4) & 0xf; // MPIDR_TO_SGI_RS
  const lo = (tlist & 0xffff) | (aff1 << ICC_SGI1R_AFFINITY_1_SHIFT) | ((sgi & 0xf) << ICC_SGI1R_SGI_ID_SHIFT);
  const hi = aff2 | ((irm ? 1 : 0) << (ICC_SGI1R_IRQ_ROUTING_MODE_BIT - 32)) | (rs << (ICC_SGI1R_RS_SHIFT - 32)) | (aff3 << (ICC_SGI1R_AFFINITY_3_SHIFT - 32));
  return op.msr(ICC_SGI1R_EL1, lo >>> 0, hi >>> 0);
}

/**
 * gic_handle_irq(): one interrupt per vector entry. Returns the INTID
 * acknowledged (1020..1023 for none).
 */
export function* gicHandleIrq(drv: Gicv3Driver): GuestCode<number> {
  const irqnr = (yield READ_IAR1).value & 0xff_ffff;
  // cpuId() and dispatch() written out: each is a generator of its own, created and resumed on every interrupt.
  const cpu = (yield READ_TPIDR).value;
  if (irqnr >= GIC_SPECIAL_FIRST && irqnr <= 1023) {
    if (cpu < drv.spurious.length) drv.spurious[cpu] = (drv.spurious[cpu] ?? 0) + 1;
    return irqnr;
  }
  // Handled or not ("Unexpected interrupt", gic_deactivate_unhandled), EOImode 0 completes it with EOIR.
  const handler = drv.irqs.take(irqnr);
  if (typeof handler === "function") yield* handler(irqnr, cpu);
  else if (handler !== undefined) yield handler;
  yield drv.eoir(irqnr);
  return irqnr;
}

/**
 * An interrupt vector that is gic_handle_irq() on the driver `driver()`
 * returns when the interrupt is taken, or nothing while that is undefined
 * (an interrupt before the GIC is up). Each entry yields the ops
 * {@link gicHandleIrq} yields, in its order, and resumes the handler as its
 * `yield*` would; it is a small state machine rather than a generator, its
 * records reused once an entry has returned, so taking an interrupt
 * allocates nothing on the vector's side.
 */
export function gicIrqVector(driver: () => Gicv3Driver | undefined): (cause: number) => GuestProgram {
  const free = new FreeEntries();
  return () => {
    const drv = driver();
    if (drv === undefined) return noIrq();
    return (free.take() ?? new GicIrqEntry(free)).start(drv);
  };
}

/**
 * The entries of one vector that have returned, kept for the next
 * interrupts: a stack in an array that only grows (to the deepest nesting
 * seen), with its depth beside it. Its push and pop are an indexed store and
 * load, where Array.prototype.push and pop were calls into V8's generic
 * builtins at every interrupt.
 */
class FreeEntries {
  readonly #entries: GicIrqEntry[] = [];
  #count = 0;

  /** An entry that returned, or undefined if every entry made is running. */
  take(): GicIrqEntry | undefined {
    return this.#count > 0 ? this.#entries[--this.#count] : undefined;
  }

  /** `e` returned: the next interrupt may reuse it. */
  give(e: GicIrqEntry): void {
    this.#entries[this.#count++] = e;
  }
}

/** A vector's program while there is nothing to handle with yet (an interrupt before the GIC is up): it returns at once. */
export function* noIrq(): GuestProgram {
  // Nothing to acknowledge: the entry returns at once.
}

// Where a GicIrqEntry resumes: the op it yielded last was ...
const AT_START = 0; // nothing yet
const AT_IAR = 1; // the ICC_IAR1_EL1 read
const AT_TPIDR = 2; // the TPIDR_EL1 read (the CPU number)
const IN_HANDLER = 3; // an op of the handler's program
const AT_ACTION_OP = 4; // the handler's one op (IrqAction)
const AT_EOIR = 5; // the ICC_EOIR1_EL1 write
const RETURNED = 6; // returned, back in the free list
const ENDED = 7; // ended by return() or throw(): not reused

/** One run of gic_handle_irq(), from the acknowledge to the EOI (see {@link gicIrqVector}). */
class GicIrqEntry extends StateMachineProgram {
  #at = RETURNED;
  #drv: Gicv3Driver | undefined;
  #irqnr = 0;
  #handler: GuestCode | undefined;

  constructor(readonly free: FreeEntries) {
    super(READ_IAR1);
  }

  start(drv: Gicv3Driver): this {
    this.#drv = drv;
    this.#at = AT_START;
    return this;
  }

  next(r: GuestResult): IteratorResult<GuestOp, void> {
    switch (this.#at) {
      case AT_START:
        return this.#yield(AT_IAR, READ_IAR1);
      case AT_IAR:
        this.#irqnr = r.value & 0xff_ffff;
        return this.#yield(AT_TPIDR, READ_TPIDR);
      case AT_TPIDR: {
        const cpu = r.value;
        const irqnr = this.#irqnr;
        const drv = this.#drv!;
        if (irqnr >= GIC_SPECIAL_FIRST && irqnr <= 1023) {
          if (cpu < drv.spurious.length) drv.spurious[cpu] = (drv.spurious[cpu] ?? 0) + 1;
          return this.#return();
        }
        // Handled or not ("Unexpected interrupt", gic_deactivate_unhandled), EOImode 0 completes it with EOIR.
        const handler = drv.irqs.take(irqnr);
        if (handler === undefined) return this.#yield(AT_EOIR, drv.eoir(irqnr));
        if (typeof handler !== "function") return this.#yield(AT_ACTION_OP, handler);
        this.#handler = handler(irqnr, cpu);
        // yield* passes undefined to the delegate's first next().
        return this.#resumeHandler(undefined as unknown as GuestResult);
      }
      case IN_HANDLER:
        return this.#resumeHandler(r);
      case AT_ACTION_OP:
        return this.#yield(AT_EOIR, this.#drv!.eoir(this.#irqnr));
      case AT_EOIR:
        return this.#return();
      default:
        return this.finish(undefined);
    }
  }

  /** After the EOI, the entry returns (gic_handle_irq's end, then the exception return): it reads nothing more. */
  override get returnsAfterOp(): boolean {
    return this.#at === AT_EOIR;
  }

  #resumeHandler(r: GuestResult): IteratorResult<GuestOp, void> {
    const it = this.#handler!.next(r);
    if (it.done !== true) return this.#yield(IN_HANDLER, it.value);
    this.#handler = undefined;
    return this.#yield(AT_EOIR, this.#drv!.eoir(this.#irqnr));
  }

  #yield(at: number, o: GuestOp): IteratorYieldResult<GuestOp> {
    this.#at = at;
    return this.yieldOp(o);
  }

  #return(): IteratorReturnResult<void> {
    this.#at = RETURNED;
    this.#drv = undefined;
    this.free.give(this);
    return this.finish(undefined);
  }

  // Ended from outside: done from now on, and never reused (whoever ended it may still hold it).
  protected ended(): void {
    this.#handler = undefined;
    this.#drv = undefined;
    this.#at = ENDED;
  }
}
