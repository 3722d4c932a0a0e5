/**
 * The hypervisor interface of one PE (ICH_*_EL2) and the virtual CPU
 * interface (ICV_*) that a guest uses while it runs under it: list registers,
 * ICH_HCR/VMCR/MISR/EISR/ELRSR/VTR, virtual active priorities, maintenance
 * conditions, and the GICv4.1 directly injected vLPIs of the resident vPE.
 *
 * Spec: IHI 0069H §6 (virtual interrupt handling and prioritization), §6.4.4
 * (maintenance interrupts), §12.4 (ICH_* register descriptions: ICH_LR<n>_EL2
 * §12.4.6, ICH_HCR_EL2 §12.4.5, ICH_MISR_EL2 §12.4.7), §12.3 (ICV_*).
 * Cross-check: QEMU hw/intc/arm_gicv3_cpuif.c (`hppvi_index()`,
 * `icv_iar_read()`, `icv_eoir_write()`, `icv_dir_write()`,
 * `icv_deactivate_irq()`, `maintenance_interrupt_state()`); Linux
 * arch/arm64/kvm/vgic/vgic-v3.c (`vgic_v3_populate_lr()`, `vgic_v3_fold_lr_state()`:
 * an LR with EOI set, HW clear and state invalid is the EOI of a level
 * interrupt that drives irqfd resampling).
 *
 * LRs are held as two 32-bit words (lo = vINTID, hi = bits [63:32]) and change
 * only through this class, which rescans them into an LrSummary after each
 * change: MISR, EISR, ELRSR and the ICV accesses then need no LR scan. ICV
 * accesses use the ICC_* encodings, as the hardware redirects them.
 */

import { ConfigError, type Tracer, type TrackId, type WideValue } from "@irqlab/sim";
import {
  ICH_HCR_EL2_En, ICH_HCR_EL2_EOIcount_SHIFT, ICH_LR_EOI_HI, ICH_LR_GROUP_HI, ICH_LR_HW_HI, ICH_LR_PINTID_HI_MASK,
  ICH_LR_PRIORITY_HI_SHIFT, ICH_LR_STATE_ACTIVE, ICH_LR_STATE_HI_SHIFT, ICH_VMCR_EL2_VBPR0_SHIFT,
  ICH_VMCR_EL2_VBPR1_SHIFT, ICH_VMCR_EL2_VCBPR, ICH_VMCR_EL2_VENG0, ICH_VMCR_EL2_VENG1, ICH_VMCR_EL2_VPMR_SHIFT,
} from "./gicv3-constants.js";
import { PriorityModel } from "./gicv3-priority.js";
import type { DirectVlpiSource } from "./direct-vlpi.js";
import { HPPVI_VLPI, icvHandles, icvRead, icvWrite } from "./gicv3-icv.js";
import { LrSummary } from "./gicv3-list-register.js";

/** Writable bits of ICH_HCR_EL2: En..VGrp1DIE, TC, TALL0, TALL1, TSEI, TDIR, EOIcount. */
const HCR_MASK = 0xf8007cff;
/** Writable bits of ICH_VMCR_EL2: VENG0, VENG1, VFIQEn, VCBPR, VEOIM, VBPR1, VBPR0, VPMR. */
const VMCR_MASK = 0xfffc021b;

/** Construction parameters of a {@link Gicv3HypInterface}. */
export interface HypInterfaceOptions {
  /** Number of list registers, 1..16 (ICH_VTR_EL2.ListRegs + 1). */
  readonly listRegisters: number;
  /** Virtual priority bits (ICH_VTR_EL2.PRIbits + 1; KVM hardware: 5). */
  readonly priBits: number;
  /** GICv4 direct injection available (clears ICH_VTR_EL2.nV4). */
  readonly v4: boolean;
  readonly tracer: Tracer;
  readonly track: TrackId;
  /** Deactivates a physical INTID when an LR with HW = 1 is deactivated. */
  readonly deactivatePhysical?: (pintid: number) => void;
}

/** Callbacks of a hypervisor interface; all optional, settable at any time. */
export interface HypInterfaceOutputs {
  /** Virtual IRQ (group 1) line to the vCPU changed. */
  onVirq?: ((level: boolean) => void) | undefined;
  /** Virtual FIQ (group 0) line changed. */
  onVfiq?: ((level: boolean) => void) | undefined;
  /** Maintenance interrupt (ICH_HCR.En && ICH_MISR ≠ 0) changed. */
  onMaintenance?: ((level: boolean) => void) | undefined;
  /**
   * An LR with EOI = 1 and HW = 0 became invalid by deactivation: the guest
   * EOIed a level interrupt (what drives irqfd resampling in KVM).
   */
  onLevelEoi?: ((vintid: number, lr: number) => void) | undefined;
}

/** Snapshot of a hypervisor interface. */
export interface HypInterfaceSnapshot {
  readonly lrLo: number[];
  readonly lrHi: number[];
  readonly hcr: number;
  readonly vmcr: number;
  readonly apr: number[];
}

/** ICH_*_EL2 and the ICV_* view of one PE. */
export class Gicv3HypInterface {
  /** ICH_LR<n>_EL2 low words; read-only outside this class (write with {@link writeLr}). */
  readonly lrLo: Uint32Array;
  /** ICH_LR<n>_EL2 high words; read-only outside this class (write with {@link writeLr}). */
  readonly lrHi: Uint32Array;
  /** ICH_HCR_EL2. */
  hcr = 0;
  /** ICH_VMCR_EL2. */
  vmcr = 0;
  /** ICH_AP0R0..3_EL2 then ICH_AP1R0..3_EL2. */
  readonly apr = new Uint32Array(8);
  readonly prio: PriorityModel;
  readonly outputs: HypInterfaceOutputs = {};
  /** Directly injected vLPIs of the resident vPE (GICv4.1), if any. */
  directVlpi: DirectVlpiSource | undefined;
  #virq = false;
  #vfiq = false;
  #maint = false;
  /** The direct vLPI found by the last hppvi() (-1 when none). */
  hppvlpi = -1;
  readonly #opts: HypInterfaceOptions;
  /** Summary of the LRs behind EISR, ELRSR, MISR, hppvi() and findActive(), rescanned on every LR change. */
  readonly #lrs = new LrSummary();

  constructor(opts: HypInterfaceOptions) {
    const n = opts.listRegisters;
    if (!Number.isInteger(n) || n < 1 || n > 16) throw new ConfigError(`listRegisters ${n} is not in 1..16`);
    this.#opts = opts;
    this.prio = new PriorityModel(opts.priBits);
    this.lrLo = new Uint32Array(n);
    this.lrHi = new Uint32Array(n);
    this.reset();
  }

  /** Reset: LRs invalid, interface disabled, binary points at their minimum. */
  reset(): void {
    this.lrLo.fill(0);
    this.lrHi.fill(0);
    this.apr.fill(0);
    this.hcr = 0;
    this.vmcr = (this.prio.minBpr0 << ICH_VMCR_EL2_VBPR0_SHIFT) | ((this.prio.minBpr0 + 1) << ICH_VMCR_EL2_VBPR1_SHIFT);
    this.#scanLrs();
    this.update();
  }

  /** Number of list registers. */
  get listRegisters(): number {
    return this.lrLo.length;
  }

  /** ICH_VTR_EL2: ListRegs, nV4, A3V, IDbits (16), PREbits, PRIbits. */
  get vtr(): number {
    const p = this.prio;
    return (
      ((this.lrLo.length - 1) |
        (this.#opts.v4 ? 0 : 1 << 20) |
        (1 << 21) |
        ((p.preBits - 1) << 26) |
        ((p.priBits - 1) << 29)) >>>
      0
    );
  }

  /** Writes ICH_LR<n>_EL2 and re-evaluates the outputs. */
  writeLr(n: number, lo: number, hi: number): void {
    this.lrLo[n] = lo >>> 0;
    this.lrHi[n] = hi >>> 0;
    this.#scanLrs();
    this.update();
  }

  /** Writes ICH_HCR_EL2. */
  writeHcr(value: number): void {
    this.hcr = (value & HCR_MASK) >>> 0;
    this.update();
  }

  /** Writes ICH_VMCR_EL2 (binary points clamped, VPMR masked to the implemented bits). */
  writeVmcr(value: number): void {
    const p = this.prio;
    let v = value & VMCR_MASK;
    const b0 = p.clampBpr(0, (v >>> ICH_VMCR_EL2_VBPR0_SHIFT) & 7);
    const b1 = p.clampBpr(1, (v >>> ICH_VMCR_EL2_VBPR1_SHIFT) & 7);
    const pmr = (v >>> ICH_VMCR_EL2_VPMR_SHIFT) & p.priMask;
    v = (v & 0x3ffff) | (b1 << ICH_VMCR_EL2_VBPR1_SHIFT) | (b0 << ICH_VMCR_EL2_VBPR0_SHIFT) | (pmr << ICH_VMCR_EL2_VPMR_SHIFT);
    this.vmcr = v >>> 0;
    this.update();
  }

  /** Writes ICH_AP<g>R<n>_EL2. */
  writeApr(group: number, n: number, value: number): void {
    this.apr[group * 4 + n] = value & this.prio.aprWritableMask(n);
    this.update();
  }

  /** ICH_EISR_EL2: LRs with EOI = 1, HW = 0 and state invalid. */
  get eisr(): number {
    return this.#lrs.eisr;
  }

  /** ICH_ELRSR_EL2: LRs that hold no interrupt (state invalid and no pending EOI maintenance). */
  get elrsr(): number {
    return this.#lrs.elrsr;
  }

  /** ICH_MISR_EL2: the maintenance conditions that hold now. */
  get misr(): number {
    return this.#lrs.misr(this.hcr, this.vmcr);
  }

  #scanLrs(): void {
    this.#lrs.scan(this.lrHi, this.prio.priMask);
  }

  /** Current virtual IRQ, virtual FIQ and maintenance levels. */
  get virqLevel(): boolean {
    return this.#virq;
  }
  get vfiqLevel(): boolean {
    return this.#vfiq;
  }
  get maintenanceLevel(): boolean {
    return this.#maint;
  }

  /**
   * Re-evaluates the virtual IRQ/FIQ and maintenance outputs. Call after the
   * direct vLPI source's state changed (a vLPI became pending).
   */
  update(): void {
    const idx = this.hppvi();
    let irq = false;
    let fiq = false;
    if (idx !== -1) {
      const g = idx === HPPVI_VLPI ? 1 : this.lrGroup(idx);
      if (this.canPreempt(this.hppviPrio(idx), g)) {
        if (g === 1) irq = true;
        else fiq = true;
      }
    }
    const maint = (this.hcr & ICH_HCR_EL2_En) !== 0 && this.misr !== 0;
    const o = this.outputs;
    if (irq !== this.#virq) {
      this.#virq = irq;
      o.onVirq?.(irq);
    }
    if (fiq !== this.#vfiq) {
      this.#vfiq = fiq;
      o.onVfiq?.(fiq);
    }
    if (maint !== this.#maint) {
      this.#maint = maint;
      o.onMaintenance?.(maint);
    }
  }

  // ---- ICV_* (the guest's view, gicv3-icv.ts) ----------------------------------

  /** Whether `reg` is an ICC encoding served by the virtual CPU interface. */
  handlesIcv(reg: number): boolean {
    return icvHandles(this, reg);
  }

  /** A guest MRS of ICC/ICV register `reg` while running under this interface. */
  readIcv(reg: number, wide?: WideValue): number {
    return icvRead(this, reg, wide);
  }

  /** A guest MSR of ICC/ICV register `reg` while running under this interface. */
  writeIcv(reg: number, value: number, _hi = 0): void {
    icvWrite(this, reg, value);
  }

  // ---- helpers shared with the ICV view (not part of the package API) ------------

  /** Group (0/1) of LR `i`. */
  lrGroup(i: number): number {
    return (this.lrHi[i]! & ICH_LR_GROUP_HI) !== 0 ? 1 : 0;
  }

  /** Priority of LR `i`, masked to the implemented bits. */
  lrPrio(i: number): number {
    return (this.lrHi[i]! >>> ICH_LR_PRIORITY_HI_SHIFT) & this.prio.priMask;
  }

  /** Priority of an hppvi() result. */
  hppviPrio(idx: number): number {
    return idx === HPPVI_VLPI ? this.directVlpi!.vlpiPriority(this.hppvlpi) & this.prio.priMask : this.lrPrio(idx);
  }

  /** Highest-priority pending LR (lowest index on ties), the direct vLPI, or -1. */
  hppvi(): number {
    if ((this.hcr & ICH_HCR_EL2_En) === 0) return -1;
    const eng0 = (this.vmcr & ICH_VMCR_EL2_VENG0) !== 0;
    const eng1 = (this.vmcr & ICH_VMCR_EL2_VENG1) !== 0;
    const lrs = this.#lrs;
    let best = -1;
    let bp = 0x100;
    if (eng0 && lrs.pend0 >= 0) {
      best = lrs.pend0;
      bp = lrs.prio0;
    }
    if (eng1 && lrs.pend1 >= 0 && (lrs.prio1 < bp || (lrs.prio1 === bp && lrs.pend1 < best))) {
      best = lrs.pend1;
      bp = lrs.prio1;
    }
    const src = this.directVlpi;
    this.hppvlpi = -1;
    if (src !== undefined && eng1) {
      const v = src.highestPendingVlpi();
      if (v >= 0 && (src.vlpiPriority(v) & this.prio.priMask) < bp) {
        this.hppvlpi = v;
        best = HPPVI_VLPI;
      }
    }
    return best;
  }

  /** Virtual running priority (ICV_RPR_EL1). */
  runningPriority(): number {
    return this.prio.runningPriority(this.apr, 0);
  }

  /** Virtual group-priority mask of group `g` (from ICH_VMCR_EL2 VBPR0/VBPR1/VCBPR). */
  gprioMask(g: number): number {
    const v = this.vmcr;
    return this.prio.gprioMask(
      g,
      (v >>> ICH_VMCR_EL2_VBPR0_SHIFT) & 7,
      (v >>> ICH_VMCR_EL2_VBPR1_SHIFT) & 7,
      (v & ICH_VMCR_EL2_VCBPR) !== 0,
    );
  }

  /** Whether a virtual interrupt of `prio`/`g` beats VPMR and the virtual running priority. */
  canPreempt(prio: number, g: number): boolean {
    if (prio >= this.vmcr >>> ICH_VMCR_EL2_VPMR_SHIFT) return false;
    const rp = this.runningPriority();
    return rp === 0xff || (prio & this.gprioMask(g)) < rp;
  }

  /** Index of the LR holding active vINTID `intid`, or -1. */
  findActive(intid: number): number {
    let m = this.#lrs.active;
    while (m !== 0) {
      const i = 31 - Math.clz32(m & -m);
      if (this.lrLo[i] === intid) return i;
      m &= m - 1;
    }
    return -1;
  }

  /** Acknowledge of LR `idx`: pending → active (the LR now holds the active interrupt). */
  activateLr(idx: number): void {
    this.lrHi[idx] = ((this.lrHi[idx]! & 0x3fffffff) | (ICH_LR_STATE_ACTIVE << ICH_LR_STATE_HI_SHIFT)) >>> 0;
    this.#scanLrs();
  }

  /** Deactivates LR `idx`: HW → deactivate the pINTID; EOI → the level-EOI notification. */
  deactivateLr(idx: number): void {
    const hi = this.lrHi[idx]! & ~(ICH_LR_STATE_ACTIVE << ICH_LR_STATE_HI_SHIFT);
    this.lrHi[idx] = hi >>> 0;
    this.#scanLrs();
    if ((hi & ICH_LR_HW_HI) !== 0) {
      const p = hi & ICH_LR_PINTID_HI_MASK;
      if (p < 1020) this.#opts.deactivatePhysical?.(p);
    } else if ((hi & ICH_LR_EOI_HI) !== 0 && hi >>> ICH_LR_STATE_HI_SHIFT === 0) {
      this.outputs.onLevelEoi?.(this.lrLo[idx]!, idx);
    }
  }

  /** ICH_HCR_EL2.EOIcount++ (an EOI/DIR found no LR). */
  incrementEoiCount(): void {
    const count = ((this.hcr >>> ICH_HCR_EL2_EOIcount_SHIFT) + 1) & 0x1f;
    this.hcr = ((this.hcr & 0x07ffffff) | (count << ICH_HCR_EL2_EOIcount_SHIFT)) >>> 0;
  }

  /** Counts a guest error of the virtual CPU interface. */
  guestError(message: string): void {
    this.#opts.tracer.guestError(this.#opts.track, "gicv3-icv", message);
  }

  /** Plain copy for snapshots. */
  state(): HypInterfaceSnapshot {
    return { lrLo: Array.from(this.lrLo), lrHi: Array.from(this.lrHi), hcr: this.hcr, vmcr: this.vmcr, apr: Array.from(this.apr) };
  }

  /** Restores a snapshot. */
  load(s: HypInterfaceSnapshot): void {
    if (s.lrLo.length !== this.lrLo.length) {
      throw new ConfigError(`snapshot has ${s.lrLo.length} list registers, expected ${this.lrLo.length}`);
    }
    this.lrLo.set(s.lrLo);
    this.lrHi.set(s.lrHi);
    this.hcr = s.hcr >>> 0;
    this.vmcr = s.vmcr >>> 0;
    this.apr.set(s.apr);
    this.#scanLrs();
    this.update();
  }
}
