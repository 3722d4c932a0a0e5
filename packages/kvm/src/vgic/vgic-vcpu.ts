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
 * (gic.md §3.12).
 */

import { ICC_DIR_EL1, ICC_EOIR0_EL1, ICC_EOIR1_EL1, ICC_REGISTERS } from "@irqlab/gic";
import type { CsrOp, WideValue } from "@irqlab/sim";
import { REG_DIRECT, REG_NOT_HANDLED, type IrqChipVcpu, type VcpuIrqChip } from "../irqchip.js";
import type { VgicV3 } from "./vgic-v3.js";

/** ICC_* encodings by op2/CRm/CRn (bits [15:5] of sys_reg()), for op0 = 3, op1 = 0. */
const ICC_LUT = new Uint8Array(2048);
for (const r of ICC_REGISTERS) ICC_LUT[(r >>> 5) & 0x7ff] = 1;
const OP0_3_OP1_0 = 0x18; // sys_reg() >>> 16 for op0 = 3, op1 = 0
const EOIR0 = ICC_EOIR0_EL1;
const EOIR1 = ICC_EOIR1_EL1;
const DIR = ICC_DIR_EL1;
const FIRST_SPI = 32;
const LAST_SPI = 1019;

/** The vgic's CPU side for one vCPU. */
export class VgicVcpu implements VcpuIrqChip {
  readonly name = "vgic-v3";
  readonly inKernel = true;
  /** The vCPU's PE number in the Gicv3 (its creation index), -1 before vgic init. */
  pe = -1;
  #vcpu: IrqChipVcpu | undefined;
  #inAccess = false;

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

  hasPendingIrq(): boolean {
    const g = this.vgic.gic;
    return g !== undefined && this.pe >= 0 && g.hasPendingIrq(this.pe);
  }

  pendingCause(): number {
    const g = this.vgic.gic;
    return g !== undefined && this.pe >= 0 && !g.irqLevel(this.pe) && g.fiqLevel(this.pe) ? 1 : 0;
  }

  flush(_hostCpu: number): number {
    return 0;
  }

  setIrqLine(_line: number, _level: boolean): void {
    // KVM_ARM_IRQ_TYPE_CPU is refused with ENXIO by the VM once an in-kernel vgic exists.
  }

  handlesSysReg(reg: number): number {
    return reg >>> 16 === OP0_3_OP1_0 && ICC_LUT[(reg >>> 5) & 0x7ff] === 1 ? REG_DIRECT : REG_NOT_HANDLED;
  }

  readSysReg(reg: number, wide: WideValue): number {
    const g = this.vgic.gic;
    if (g === undefined || this.pe < 0) {
      wide.hi = 0;
      return 0;
    }
    this.#inAccess = true;
    const v = g.readSysReg(this.pe, reg, wide);
    this.#inAccess = false;
    return v;
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
    g.writeSysReg(pe, reg, value, hi);
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

  /**
   * @internal The PE's IRQ or FIQ output rose: KVM_REQ_IRQ_PENDING + kick
   * (vgic_queue_irq_unlock). Not while the vCPU's own ICC access caused it:
   * with list registers the guest sees that interrupt without an exit.
   */
  raise(): void {
    if (!this.#inAccess) this.#vcpu?.irqPending();
  }
}
