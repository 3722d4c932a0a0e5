/**
 * The CPU side of the in-kernel vgic-v3 for one vCPU (a {@link VcpuIrqChip}).
 *
 * Design: the guest's ICC_* system registers are served directly by the
 * Gicv3 model's CPU interface for this vCPU's PE, without a trap (REG_DIRECT,
 * what ICV_* under ICH_HCR_EL2.En gives a KVM guest: IAR/EOIR/DIR/PMR/CTLR
 * execute in hardware). KVM itself moves interrupts between its software
 * distributor and the list registers at each entry and exit
 * (kvm_vgic_flush_hwstate / kvm_vgic_sync_hwstate); here distributor,
 * redistributor and CPU interface share one state, which gives the guest the
 * same answers for what the model covers (no LR overflow, no GICv2 SGI
 * sources) without a scan of all INTIDs at every entry — what keeps irqfd
 * delivery at millions per second. The point KVM's LRs make visible is kept:
 * the deactivation of a level-sensitive SPI is the "EOI bit" maintenance that
 * calls kvm_notify_acked_irq (vgic-v3.c vgic_v3_fold_lr_state), so resamplefd
 * follows it exactly once per level EOI; an edge SPI never notifies.
 *
 * hasPendingIrq() is kvm_vgic_vcpu_pending_irq(): pending, enabled, inactive,
 * group enabled, priority under PMR — the running priority is not looked at
 * (Linux arch/arm64/kvm/vgic/vgic.c kvm_vgic_vcpu_pending_irq).
 *
 * GICv4.1 (when the VM's forwarding gives the vgic a {@link VgicV4Residency}):
 * the vPE of the vCPU is made resident at guest entry (flush: vgic_v4_load,
 * a no-op when already resident) and after a WFI block (unblocking), and
 * non-resident with the doorbell requested when the vCPU blocks in WFI
 * (blocking: vgic_v4_put with IN_WFI), keeping PendingLast as KVM's
 * `its_vpe.pending_last`; the doorbell sets it and kicks
 * (vgic_v4_doorbell_handler). The guest's ICC_IAR0/1 and ICC_HPPIR0/1 weigh
 * the resident vPE's highest pending vLPI (DirectVlpiSource) against the
 * emulated interrupts' best, by priority then INTID; acknowledging a vLPI
 * clears its pending bit and activates its priority in the same active
 * priority registers, so ICC_RPR_EL1 and ICC_EOIR1_EL1 (priority drop; LPIs
 * have no active state) need nothing else — what the ICV interface of a
 * GICv4.1 CPU does with list registers and the resident vPE together.
 */

import {
  ICC_DIR_EL1,
  ICC_EOIR0_EL1,
  ICC_EOIR1_EL1,
  ICC_HPPIR0_EL1,
  ICC_HPPIR1_EL1,
  ICC_IAR0_EL1,
  ICC_IAR1_EL1,
  ICC_ASGI1R_EL1,
  ICC_REGISTERS,
  ICC_SGI0R_EL1,
  ICC_SGI1R_EL1,
  INTID_SPURIOUS,
  type DirectVlpiSource,
  type Gicv3,
} from "@irqlab/gic";
import type { CsrOp, WideValue } from "@irqlab/sim";
import { REG_DIRECT, REG_NOT_HANDLED, REG_TRAP, type IrqChipVcpu, type VcpuIrqChip } from "../irqchip.js";
import type { VgicV3 } from "./vgic-v3.js";

/** ICC_* encodings by op2/CRm/CRn (bits [15:5] of sys_reg()), for op0 = 3, op1 = 0. */
const ICC_LUT = new Uint8Array(2048);
for (const r of ICC_REGISTERS) ICC_LUT[(r >>> 5) & 0x7ff] = 1;
const OP0_3_OP1_0 = 0x18; // sys_reg() >>> 16 for op0 = 3, op1 = 0
const EOIR0 = ICC_EOIR0_EL1;
const EOIR1 = ICC_EOIR1_EL1;
const DIR = ICC_DIR_EL1;
const IAR0 = ICC_IAR0_EL1;
const IAR1 = ICC_IAR1_EL1;
const HPPIR0 = ICC_HPPIR0_EL1;
const HPPIR1 = ICC_HPPIR1_EL1;
const SPURIOUS = INTID_SPURIOUS;
const SGI1R = ICC_SGI1R_EL1;
const ASGI1R = ICC_ASGI1R_EL1;
const SGI0R = ICC_SGI0R_EL1;
const FIRST_SPI = 32;
const LAST_SPI = 1019;

/**
 * What a VM's GICv4.1 forwarding offers the vgic's CPU side (vgic-v4.c):
 * residency of each vCPU's vPE and its directly injected vLPIs. `pe` is the
 * vCPU's PE number, which is also its vPEID.
 */
export interface VgicV4Residency {
  /** vgic_v4_load(): make the vPE resident (GICR_VPENDBASER.Valid = 1). */
  vcpuLoad(pe: number): void;
  /** vgic_v4_put(): make it non-resident, requesting the doorbell or not; returns PendingLast. */
  vcpuPut(pe: number, doorbell: boolean): boolean;
  /** Whether the vPE is resident (its_vpe.resident). */
  isResident(pe: number): boolean;
  /** The vLPIs of the vPE resident on the PE's redistributor. */
  directSource(pe: number): DirectVlpiSource;
}

/** The vgic's CPU side for one vCPU. */
export class VgicVcpu implements VcpuIrqChip {
  readonly name = "vgic-v3";
  readonly inKernel = true;
  /** The vCPU's PE number in the Gicv3 (its creation index), -1 before vgic init. */
  pe = -1;
  #vcpu: IrqChipVcpu | undefined;
  #inAccess = false;
  /** its_vpe.pending_last: PendingLast at the last put, or a doorbell since. */
  #pendingLast = false;
  /** Priority of the vLPI the last #directBest() returned. */
  #vprio = 0;

  constructor(
    /** The VM's vgic. */
    readonly vgic: VgicV3,
    /** The vCPU id. */
    readonly vcpuId: number,
  ) {}

  /** The vCPU, once attached. */
  get vcpu(): IrqChipVcpu | undefined {
    return this.#vcpu;
  }

  attach(vcpu: IrqChipVcpu): void {
    this.#vcpu = vcpu;
  }

  /** its_vpe.pending_last (GICv4.1): meaningful while the vPE is not resident. */
  get pendingLast(): boolean {
    return this.#pendingLast;
  }

  hasPendingIrq(): boolean {
    const g = this.vgic.gic;
    if (g === undefined || this.pe < 0) return false;
    if (g.hasPendingIrq(this.pe)) return true;
    const v4 = this.vgic.v4;
    return v4 !== undefined && this.#directPending(g, v4);
  }

  pendingCause(): number {
    const g = this.vgic.gic;
    if (g === undefined || this.pe < 0 || g.irqLevel(this.pe) || !g.fiqLevel(this.pe)) return 0;
    // A direct vLPI is group 1: an IRQ.
    const v4 = this.vgic.v4;
    return v4 !== undefined && this.#directPending(g, v4) ? 0 : 1;
  }

  /** Guest entry: vgic_v4_load() when the vPE is not resident (kvm_arch_vcpu_load → kvm_vgic_load). */
  flush(_hostCpu: number): number {
    const v4 = this.vgic.v4;
    if (v4 !== undefined && this.pe >= 0 && !v4.isResident(this.pe)) v4.vcpuLoad(this.pe);
    return 0;
  }

  /**
   * The vCPU blocks in WFI: vgic_v4_put() with the doorbell requested
   * (kvm_vcpu_wfi sets IN_WFI, then kvm_vgic_put); PendingLast becomes
   * pending_last (its_vpe_4_1_deschedule).
   */
  blocking(): void {
    const v4 = this.vgic.v4;
    if (v4 === undefined || this.pe < 0 || !v4.isResident(this.pe)) return;
    this.#pendingLast = v4.vcpuPut(this.pe, true);
  }

  /** The block ended: vgic_v4_load() again (kvm_vcpu_wfi clears IN_WFI, then kvm_vgic_load). */
  unblocking(): void {
    const v4 = this.vgic.v4;
    if (v4 !== undefined && this.pe >= 0 && !v4.isResident(this.pe)) v4.vcpuLoad(this.pe);
  }

  /** @internal The vPE's doorbell fired (vgic_v4_doorbell_handler): pending_last, KVM_REQ_IRQ_PENDING + kick. */
  doorbell(): void {
    this.#pendingLast = true;
    this.#vcpu?.irqPending();
  }

  /**
   * @internal A vLPI became pending on the resident vPE. The hardware signals
   * it to the running guest without an exit: the vCPU re-checks at its next
   * instruction boundary (irqSignalled), with no request and no kick.
   */
  directVlpiPending(): void {
    const g = this.vgic.gic;
    const v4 = this.vgic.v4;
    if (g === undefined || v4 === undefined || this.pe < 0 || !this.#directPending(g, v4)) return;
    const vcpu = this.#vcpu;
    if (vcpu?.irqSignalled) vcpu.irqSignalled();
    else vcpu?.irqPending();
  }

  takeFlow(): number {
    const g = this.vgic.gic;
    if (g === undefined || this.pe < 0) return 0;
    const intid = g.irqs.core.best(this.pe);
    return intid < 0 ? 0 : this.vgic.takePendingFlow(this.pe, intid);
  }

  setIrqLine(_line: number, _level: boolean): void {
    // KVM_ARM_IRQ_TYPE_CPU is refused with ENXIO by the VM once an in-kernel vgic exists.
  }

  handlesSysReg(reg: number): number {
    if (reg >>> 16 !== OP0_3_OP1_0 || ICC_LUT[(reg >>> 5) & 0x7ff] !== 1) return REG_NOT_HANDLED;
    // The SGI generation registers trap to EL2 under HCR_EL2.IMO/FMO (Arm ARM: ICC_SGI1R_EL1
    // "traps to EL2"); KVM emulates them (sys_regs.c access_gic_sgi → vgic_v3_dispatch_sgi).
    return reg === SGI1R || reg === ASGI1R || reg === SGI0R ? REG_TRAP : REG_DIRECT;
  }

  readSysReg(reg: number, wide: WideValue): number {
    const g = this.vgic.gic;
    if (g === undefined || this.pe < 0) {
      wide.hi = 0;
      return 0;
    }
    this.#inAccess = true;
    let v: number;
    const v4 = this.vgic.v4;
    if (v4 !== undefined && (reg === IAR1 || reg === HPPIR1 || reg === IAR0 || reg === HPPIR0)) {
      v = this.#readWithDirect(g, v4, reg, wide);
    } else v = g.readSysReg(this.pe, reg, wide);
    this.#inAccess = false;
    return v;
  }

  quietSysReg(reg: number, write: boolean, value: number): boolean {
    const g = this.vgic.gic;
    return g !== undefined && this.pe >= 0 && g.quietSysReg(reg, write, value);
  }

  writeSysReg(reg: number, value: number, hi: number): void {
    const g = this.vgic.gic;
    if (g === undefined || this.pe < 0) return;
    const pe = this.pe;
    const intid = value & 0xffffff;
    // Deactivation (EOIR with EOImode 0, DIR) of an active level SPI: the LR's EOI maintenance.
    let levelActive = -1;
    if ((reg === EOIR1 || reg === DIR || reg === EOIR0) && intid >= FIRST_SPI && intid <= LAST_SPI && intid < g.nrIrqs) {
      const s = g.irqs.core.irqs;
      const i = s.index(pe, intid);
      const w = i >>> 5;
      const bit = 1 << (i & 31);
      if ((s.active[w]! & bit) !== 0 && (s.edge[w]! & bit) === 0) levelActive = i;
    }
    this.#inAccess = true;
    const tr = this.vgic.vm.tracer;
    if (tr.enabled && (reg === SGI1R || reg === ASGI1R || reg === SGI0R)) {
      // vgic_v3_dispatch_sgi: the raise of the SGIs, where their flows to the targets' takes start.
      // ICC_SGI1R_EL1: TargetList [15:0], Aff1 [23:16], INTID [27:24], Aff2 [39:32], IRM [40].
      const args = { sgi: (value >>> 24) & 0xf, irm: (hi >>> 8) & 1, aff2: hi & 0xff, aff1: (value >>> 16) & 0xff, targets: `0x${(value & 0xffff).toString(16)}` };
      const prev = tr.beginCause(this.vgic.track, "irq", "vgic_v3_dispatch_sgi", args);
      try {
        g.writeSysReg(pe, reg, value, hi);
      } finally {
        tr.endCause(prev);
      }
    } else g.writeSysReg(pe, reg, value, hi);
    this.#inAccess = false;
    if (levelActive >= 0 && (g.irqs.core.irqs.active[levelActive >>> 5]! & (1 << (levelActive & 31))) === 0) this.vgic.levelEoi(pe, intid);
  }

  handlesCsr(_csr: number): number {
    return REG_NOT_HANDLED;
  }

  csr(_op: CsrOp["op"], _csr: number, _value: number, _hi: number, wide: WideValue): number {
    wide.hi = 0;
    return 0;
  }

  /** ICC_IAR/HPPIR with the resident vPE's vLPIs competing against the emulated interrupts. */
  #readWithDirect(g: Gicv3, v4: VgicV4Residency, reg: number, wide: WideValue): number {
    const pe = this.pe;
    const vintid = this.#directBest(g, v4);
    if (vintid < 0) return g.readSysReg(pe, reg, wide);
    wide.hi = 0;
    // The highest pending interrupt is a group-1 vLPI: group-0 views see none.
    if (reg === HPPIR1) return vintid;
    if (reg !== IAR1) return SPURIOUS;
    const c = g.irqs.core;
    const prio = this.#vprio;
    if (!c.canPreempt(pe, prio, 1)) return SPURIOUS;
    const gprio = prio & c.gmask[2 * pe + 1]!;
    c.prio.activate(c.apr, pe * 8, 1, gprio);
    c.rpr[pe] = gprio; // it preempted: now the highest active priority
    v4.directSource(pe).acknowledgeVlpi(vintid);
    c.update(pe);
    return vintid;
  }

  /**
   * The resident vPE's highest pending enabled vLPI if it beats the emulated
   * interrupts' best (lower priority value, then lower INTID) and group 1 is
   * enabled; -1 otherwise. Leaves its priority in #vprio.
   */
  #directBest(g: Gicv3, v4: VgicV4Residency): number {
    const pe = this.pe;
    const c = g.irqs.core;
    if (!v4.isResident(pe) || !c.groupEnabled(pe, 1)) return -1;
    const src = v4.directSource(pe);
    const v = src.highestPendingVlpi();
    if (v < 0) return -1;
    const prio = src.vlpiPriority(v) & c.prio.priMask;
    const b = c.best(pe);
    if (b >= 0) {
      const bp = c.bestPrio[pe]!;
      if (bp < prio || (bp === prio && b < v)) return -1;
    }
    this.#vprio = prio;
    return v;
  }

  /**
   * kvm_vgic_vcpu_pending_irq() for the direct vLPIs: nothing while the
   * distributor is disabled; pending_last while the vPE is not resident;
   * while it is, its highest pending vLPI with group 1 enabled and priority
   * under PMR (what the virtual CPU interface signals, running priority aside,
   * as for the emulated interrupts).
   */
  #directPending(g: Gicv3, v4: VgicV4Residency): boolean {
    const pe = this.pe;
    const c = g.irqs.core;
    if (!c.distG1) return false;
    if (!v4.isResident(pe)) return this.#pendingLast;
    if (c.igrpen1[pe] !== 1) return false;
    const src = v4.directSource(pe);
    const v = src.highestPendingVlpi();
    return v >= 0 && (src.vlpiPriority(v) & c.prio.priMask) < c.pmr[pe]!;
  }

  /**
   * @internal The PE's IRQ or FIQ output rose: KVM_REQ_IRQ_PENDING + kick
   * (vgic_queue_irq_unlock). Not while the vCPU's own ICC access caused it:
   * with list registers the guest sees that interrupt without an exit.
   */
  raise(): void {
    if (!this.#inAccess) this.#vcpu?.irqPending();
  }
}
