/**
 * The delivery core shared by the distributor, the redistributors and the CPU
 * interfaces: which interrupt is the highest-priority pending one of each PE,
 * whether it may be signalled (PMR, running priority, group enables), the
 * IRQ/FIQ outputs. The CPU interface (gicv3-cpu-interface.ts) drives the
 * transitions acknowledge → priority drop → deactivate on top of it.
 *
 * Spec: IHI 0069H §4.1 (lifecycle), §4.7 (highest priority pending
 * interrupt), §4.8 (priority, preemption), §12.2.10 / .12 / .13 / .14
 * (ICC_DIR, ICC_EOIR1, ICC_HPPIR1, ICC_IAR1). Cross-check: QEMU
 * hw/intc/arm_gicv3_cpuif.c `icc_hppi_can_preempt()`, `icc_activate_irq()`,
 * `icc_eoir_write()`, `icc_dir_write()`; Linux arch/arm64/kvm/vgic/vgic.c
 * `kvm_vgic_vcpu_pending_irq()`.
 *
 * Speed: each PE keeps a bitmap of its eligible INTIDs (pending, enabled, not
 * active, routed to it) with a one-word summary, and a cached best that a new
 * candidate can only improve; only removing the cached best forces a rescan,
 * and a rescan visits set bits only.
 */

import type { GuestMemory, Tracer, TrackId } from "@irqlab/sim";
import { GIC_FIRST_LPI, GIC_FIRST_SPI } from "./gicv3-constants.js";
import { IrqState, type Gicv3Profile } from "./gicv3-irq-state.js";
import { LpiRedistributor } from "./gicv3-lpi.js";
import { PriorityModel } from "./gicv3-priority.js";

/** Called when the IRQ (group 1) or FIQ (group 0) output of a PE changes. */
export type PeLineCallback = (pe: number, level: boolean) => void;

/** Construction parameters of {@link Gicv3Core}. */
export interface Gicv3CoreConfig {
  readonly cpus: number;
  readonly nrIrqs: number;
  readonly priBits: number;
  readonly profile: Gicv3Profile;
  /** Affinity of each PE, packed Aff3<<24 | Aff2<<16 | Aff1<<8 | Aff0. */
  readonly affinity: readonly number[];
  readonly memory: GuestMemory | undefined;
  readonly tracer: Tracer;
  readonly track: TrackId;
}

/** ICC_CTLR_EL1 bits kept per PE. */
const CTLR_CBPR = 1;

/** Distributor, redistributor and CPU-interface state with the delivery logic. */
export class Gicv3Core {
  readonly cpus: number;
  readonly nrIrqs: number;
  readonly profile: Gicv3Profile;
  readonly irqs: IrqState;
  readonly prio: PriorityModel;
  readonly lpis: LpiRedistributor[];
  readonly affinity: Uint32Array;
  readonly memory: GuestMemory | undefined;
  readonly tracer: Tracer;
  readonly track: TrackId;
  /** GICD_CTLR.EnableGrp0 / EnableGrp1. */
  distG0 = false;
  distG1 = false;
  /** Per-PE CPU interface registers. */
  readonly pmr: Uint8Array;
  readonly bpr0: Uint8Array;
  readonly bpr1: Uint8Array;
  /** ICC_CTLR_EL1 writable bits: CBPR (bit 0) and EOImode (bit 1). */
  readonly ctlr: Uint8Array;
  readonly igrpen0: Uint8Array;
  readonly igrpen1: Uint8Array;
  /** AP0R0..3 then AP1R0..3 of PE p at 8p..8p+7. */
  readonly apr: Uint32Array;
  /** Current IRQ and FIQ output levels. */
  readonly irqLine: Uint8Array;
  readonly fiqLine: Uint8Array;
  onIrq: PeLineCallback | undefined;
  onFiq: PeLineCallback | undefined;

  readonly #elig: Uint32Array;
  readonly #summary: Uint32Array;
  readonly #bestId: Int32Array;
  /** Priority of each PE's cached best (0x100 = none). Internal to the CPU interface. */
  readonly bestPrio: Uint16Array;
  readonly #bestValid: Uint8Array;
  /** Group of each PE's cached best. Internal to the CPU interface. */
  readonly bestGroup: Uint8Array;
  /** Cached running priority of each PE (0xFF idle). Kept by the CPU interface. */
  readonly rpr: Uint16Array;
  /** Cached group-priority masks: group 0 at 2p, group 1 at 2p+1. */
  readonly gmask: Uint8Array;

  constructor(c: Gicv3CoreConfig) {
    this.cpus = c.cpus;
    this.nrIrqs = c.nrIrqs;
    this.profile = c.profile;
    this.irqs = new IrqState(c.cpus, c.nrIrqs, c.profile);
    this.prio = new PriorityModel(c.priBits);
    this.lpis = Array.from({ length: c.cpus }, () => new LpiRedistributor());
    this.affinity = Uint32Array.from(c.affinity);
    this.memory = c.memory;
    this.tracer = c.tracer;
    this.track = c.track;
    const n = c.cpus;
    this.pmr = new Uint8Array(n);
    this.bpr0 = new Uint8Array(n);
    this.bpr1 = new Uint8Array(n);
    this.ctlr = new Uint8Array(n);
    this.igrpen0 = new Uint8Array(n);
    this.igrpen1 = new Uint8Array(n);
    this.apr = new Uint32Array(n * 8);
    this.irqLine = new Uint8Array(n);
    this.fiqLine = new Uint8Array(n);
    this.#elig = new Uint32Array(n * 32);
    this.#summary = new Uint32Array(n);
    this.#bestId = new Int32Array(n).fill(-1);
    this.bestPrio = new Uint16Array(n).fill(0x100);
    this.#bestValid = new Uint8Array(n);
    this.bestGroup = new Uint8Array(n);
    this.rpr = new Uint16Array(n).fill(0xff);
    this.gmask = new Uint8Array(n * 2);
    this.resetCpuInterfaces();
    this.reroute();
  }

  /** CPU interface reset values (QEMU icc_reset: BPRs at their minimum, PMR 0). */
  resetCpuInterfaces(): void {
    this.pmr.fill(0);
    this.bpr0.fill(this.prio.minBpr0);
    this.bpr1.fill(this.prio.minBpr0 + 1);
    this.ctlr.fill(0);
    this.igrpen0.fill(0);
    this.igrpen1.fill(0);
    this.apr.fill(0);
    for (let pe = 0; pe < this.cpus; pe++) this.cpuChanged(pe);
  }

  /**
   * Recomputes what is derived from PE `pe`'s BPRs, CTLR and active
   * priorities (call after writing them) and updates its outputs.
   */
  cpuChanged(pe: number): void {
    const cbpr = (this.ctlr[pe]! & CTLR_CBPR) !== 0;
    this.gmask[2 * pe] = this.prio.gprioMask(0, this.bpr0[pe]!, this.bpr1[pe]!, cbpr);
    this.gmask[2 * pe + 1] = this.prio.gprioMask(1, this.bpr0[pe]!, this.bpr1[pe]!, cbpr);
    this.rpr[pe] = this.prio.runningPriority(this.apr, pe * 8);
    this.update(pe);
  }

  /** Records a guest error against this GIC. */
  guestError(source: string, message: string): void {
    this.tracer.guestError(this.track, source, message);
  }

  /** The PE whose affinity matches an IROUTER/SGI affinity value, or -1. */
  peByAffinity(aff: number): number {
    const a = this.affinity;
    for (let pe = 0; pe < a.length; pe++) if (a[pe] === aff) return pe;
    return -1;
  }

  // ---- eligibility ---------------------------------------------------------

  /**
   * Re-evaluates SGI/PPI/SPI `intid` (as seen by `pe`) and returns its target
   * PE (-1 for an SPI routed nowhere). The target's outputs are updated when
   * its eligible set changed or its cached best was invalidated; a caller that
   * changed anything else (running priority) updates the PE itself.
   */
  refresh(pe: number, intid: number): number {
    const s = this.irqs;
    const i = intid < GIC_FIRST_SPI ? this.nrIrqs + pe * 32 + intid : intid;
    const t = intid < GIC_FIRST_SPI ? pe : s.target[i]!;
    if (t < 0) return t;
    const w = i >>> 5;
    const sh = i & 31;
    const on = (((s.enabled[w]! & ~s.active[w]! & (s.latch[w]! | (s.level[w]! & ~s.edge[w]!))) >>> sh) & 1) === 1;
    if (this.setEligible(t, intid, on, s.priority[i]!, (s.group[w]! >>> sh) & 1) || this.#bestValid[t] === 0) this.update(t);
    return t;
  }

  /** Sets or clears `intid` in `pe`'s eligible set; returns whether it changed. */
  setEligible(pe: number, intid: number, on: boolean, prio: number, group: number): boolean {
    const w = pe * 32 + (intid >>> 5);
    const bit = 1 << (intid & 31);
    const word = this.#elig[w]!;
    if (on) {
      if ((word & bit) !== 0) return false;
      this.#elig[w] = word | bit;
      this.#summary[pe]! |= 1 << (intid >>> 5);
      this.#offer(pe, intid, prio, group);
    } else {
      if ((word & bit) === 0) return false;
      const nw = word & ~bit;
      this.#elig[w] = nw;
      if (nw === 0) this.#summary[pe]! &= ~(1 << (intid >>> 5));
      if (this.#bestId[pe] === intid) {
        // Nothing else eligible: the best is known without a rescan.
        if (this.#summary[pe] === 0 && this.lpis[pe]!.eligibleCount === 0) {
          this.#bestId[pe] = -1;
          this.bestPrio[pe] = 0x100;
        } else this.#bestValid[pe] = 0;
      }
    }
    return true;
  }

  /** A new candidate can only improve a valid cached best. */
  #offer(pe: number, intid: number, prio: number, group: number): void {
    if (this.#bestValid[pe] === 0 || !this.groupEnabled(pe, group)) return;
    const bp = this.bestPrio[pe]!;
    if (prio < bp || (prio === bp && intid < this.#bestId[pe]!)) {
      this.#bestId[pe] = intid;
      this.bestPrio[pe] = prio;
      this.bestGroup[pe] = group;
    }
  }

  /** Forgets the cached best of `pe` (priority, group or enable changes). */
  invalidate(pe: number): void {
    this.#bestValid[pe] = 0;
  }

  /** Whether group `g` is enabled at both the distributor and PE `pe`'s CPU interface. */
  groupEnabled(pe: number, g: number): boolean {
    return g === 0 ? this.distG0 && this.igrpen0[pe] === 1 : this.distG1 && this.igrpen1[pe] === 1;
  }

  /** Highest-priority pending, enabled, inactive interrupt of `pe` in an enabled group, or -1. */
  best(pe: number): number {
    if (this.#bestValid[pe] === 1) return this.#bestId[pe]!;
    const s = this.irqs;
    let best = -1;
    let bp = 0x100;
    const g0 = this.groupEnabled(pe, 0);
    const g1 = this.groupEnabled(pe, 1);
    if (g0 || g1) {
      let sum = this.#summary[pe]!;
      while (sum !== 0) {
        const wi = 31 - Math.clz32(sum & -sum);
        sum &= sum - 1;
        let word = this.#elig[pe * 32 + wi]!;
        while (word !== 0) {
          const intid = (wi << 5) + 31 - Math.clz32(word & -word);
          word &= word - 1;
          const i = s.index(pe, intid);
          const pr = s.priority[i]!;
          if (pr < bp && (((s.group[i >>> 5]! >>> (i & 31)) & 1) === 0 ? g0 : g1)) {
            bp = pr;
            best = intid;
          }
        }
      }
      const lpi = this.lpis[pe]!;
      if (g1 && lpi.eligibleCount > 0) {
        const l = lpi.highest(this.prio.priMask, bp);
        if (l >= 0) {
          best = l;
          bp = lpi.priority(l) & this.prio.priMask;
        }
      }
    }
    this.#bestId[pe] = best;
    this.bestPrio[pe] = bp;
    this.bestGroup[pe] = best >= 0 ? this.groupOf(pe, best) : 0;
    this.#bestValid[pe] = 1;
    return best;
  }

  /** Group of `intid` as seen by `pe` (LPIs are group 1). */
  groupOf(pe: number, intid: number): number {
    if (intid >= GIC_FIRST_LPI) return 1;
    const i = this.irqs.index(pe, intid);
    return (this.irqs.group[i >>> 5]! >>> (i & 31)) & 1;
  }


  /** Whether an interrupt of priority `prio` and group `g` may be signalled to `pe` now. */
  canPreempt(pe: number, prio: number, g: number): boolean {
    if (prio >= this.pmr[pe]!) return false;
    const rp = this.rpr[pe]!;
    return rp === 0xff || (prio & this.gmask[2 * pe + g]!) < rp;
  }

  /** Recomputes the IRQ/FIQ outputs of `pe` and reports changes. */
  update(pe: number): void {
    const b = this.#bestValid[pe] === 1 ? this.#bestId[pe]! : this.best(pe);
    let irq = 0;
    let fiq = 0;
    if (b >= 0) {
      const g = this.bestGroup[pe]!;
      if (this.canPreempt(pe, this.bestPrio[pe]!, g)) {
        if (g === 1) irq = 1;
        else fiq = 1;
      }
    }
    if (irq !== this.irqLine[pe]) {
      this.irqLine[pe] = irq;
      this.onIrq?.(pe, irq === 1);
    }
    if (fiq !== this.fiqLine[pe]) {
      this.fiqLine[pe] = fiq;
      this.onFiq?.(pe, fiq === 1);
    }
  }

  /** Invalidates every PE's cached best and updates all outputs. */
  updateAll(): void {
    for (let pe = 0; pe < this.cpus; pe++) {
      this.#bestValid[pe] = 0;
      this.update(pe);
    }
  }

  /**
   * Whether `pe` has an interrupt that is deliverable ignoring the running
   * priority: pending, enabled, inactive, group enabled and below PMR (the
   * condition of KVM's kvm_vgic_vcpu_pending_irq()).
   */
  hasDeliverable(pe: number): boolean {
    const b = this.best(pe);
    return b >= 0 && this.bestPrio[pe]! < this.pmr[pe]!;
  }

  // ---- state mutators used by wires and register banks ----------------------

  /** Sets the input level of SGI/PPI/SPI `intid` (edge: a high level latches pending). */
  setLevel(pe: number, intid: number, level: boolean): void {
    const s = this.irqs;
    const i = intid < GIC_FIRST_SPI ? this.nrIrqs + pe * 32 + intid : intid;
    const w = i >>> 5;
    const bit = 1 << (i & 31);
    if (level) {
      s.level[w]! |= bit;
      if ((s.edge[w]! & bit) !== 0) s.latch[w]! |= bit;
    } else s.level[w]! &= ~bit;
    this.refresh(pe, intid);
  }

  /** Retargets SPI `intid` from its IROUTER value. */
  route(intid: number): void {
    const s = this.irqs;
    const old = s.target[intid]!;
    const t = this.peByAffinity(s.irouter[intid]! & 0xffffff);
    if (t === old) return;
    if (old >= 0) {
      this.setEligible(old, intid, false, 0, 0);
      this.update(old);
    }
    s.target[intid] = t;
    this.refresh(0, intid);
  }

  /** Recomputes every SPI target (after a reset or snapshot load). */
  reroute(): void {
    for (let intid = GIC_FIRST_SPI; intid < this.nrIrqs; intid++) this.route(intid);
  }

  /** Rebuilds the eligibility bitmaps from the state arrays. */
  rebuild(): void {
    this.#elig.fill(0);
    this.#summary.fill(0);
    for (let pe = 0; pe < this.cpus; pe++) for (let intid = 0; intid < GIC_FIRST_SPI; intid++) this.refresh(pe, intid);
    this.irqs.target.fill(-1);
    this.reroute();
    for (let pe = 0; pe < this.cpus; pe++) {
      this.#bestValid[pe] = 0;
      this.cpuChanged(pe);
    }
  }

  /** Sets or clears the pending bit of LPI `intid` on redistributor `rd`. */
  setLpiPending(rd: number, intid: number, on: boolean): void {
    const l = this.lpis[rd]!;
    if (!l.inRange(intid)) {
      if (on) this.guestError("gicv3-lpi", `LPI ${intid} made pending on RD ${rd} with LPIs off or out of range`);
      return;
    }
    const elig = l.setPending(intid, on);
    if (elig) this.#offerLpi(rd, intid);
    else if (this.#bestId[rd] === intid) this.#bestValid[rd] = 0;
    this.update(rd);
  }

  /** After a configuration reload of LPI `intid`. */
  lpiConfigChanged(rd: number, intid: number, eligible: boolean): void {
    if (eligible) this.#bestValid[rd] = 0;
    else if (this.#bestId[rd] === intid) this.#bestValid[rd] = 0;
    this.update(rd);
  }

  #offerLpi(rd: number, intid: number): void {
    this.#offer(rd, intid, this.lpis[rd]!.priority(intid) & this.prio.priMask, 1);
  }
}
