/**
 * The GICv3 CPU interface: the ICC_* system registers of each PE, accessed by
 * their Linux sys_reg encoding, with a single security state (group 0 → FIQ,
 * group 1 → IRQ).
 *
 * Spec: IHI 0069H §12.2 (ICC_* register descriptions), §4.8 (priority,
 * preemption, binary point), §12.2.21 (ICC_SGI1R_EL1 fields). Cross-check:
 * QEMU hw/intc/arm_gicv3_cpuif.c (`icc_*_read/write`, `icc_generate_sgi()`);
 * Linux arch/arm64/kvm/sys_regs.c `access_gic_sgi()` (SGI1R may raise SGIs of
 * either group, SGI0R and ASGI1R only group-0 SGIs, because the guest sees a
 * single security state); QEMU's rule differs for SGI1R (see
 * {@link Gicv3CpuInterface.sendSgi}); and arch/arm64/kvm/vgic/vgic-mmio-v3.c
 * `vgic_v3_dispatch_sgi()` (Aff3..Aff1 match exactly, Aff0 = RS·16 + bit;
 * IRM = 1 targets every PE but the sender).
 *
 * Accesses to an encoding this interface does not implement, reads of
 * write-only and writes of read-only registers are RAZ/WI guest errors (the
 * hardware would UNDEF; the KVM layer may choose to inject that instead, see
 * {@link Gicv3CpuInterface.handles}).
 */

import type { WideValue } from "@irqlab/sim";
import {
  ICC_AP0Rn_EL1, ICC_AP1Rn_EL1, ICC_ASGI1R_EL1, ICC_BPR0_EL1, ICC_BPR1_EL1, ICC_CTLR_EL1, ICC_CTLR_EL1_A3V,
  ICC_CTLR_EL1_PRI_BITS_SHIFT, ICC_DIR_EL1, ICC_EOIR0_EL1, ICC_EOIR1_EL1, ICC_HPPIR0_EL1, ICC_HPPIR1_EL1,
  ICC_IAR0_EL1, ICC_IAR1_EL1, ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1, ICC_RPR_EL1, ICC_SGI0R_EL1,
  ICC_SGI1R_EL1, ICC_SRE_EL1, ICC_SRE_EL1_RAO, INTID_SPURIOUS, GIC_FIRST_LPI, GIC_FIRST_SPI, GIC_MAX_SPI,
  ICC_CTLR_EL1_EOImode_drop,
} from "./gicv3-constants.js";
import type { Gicv3Core } from "./gicv3-core.js";

const AP0R0 = ICC_AP0Rn_EL1(0);
const AP0R3 = ICC_AP0Rn_EL1(3);
const AP1R0 = ICC_AP1Rn_EL1(0);
const AP1R3 = ICC_AP1Rn_EL1(3);
/** Distance between consecutive APR encodings (op2 steps of 1 << 5). */
const APR_STEP = 1 << 5;

/** Every ICC_* encoding this interface implements. */
export const ICC_REGISTERS: readonly number[] = [
  ICC_PMR_EL1,
  ICC_IAR0_EL1,
  ICC_EOIR0_EL1,
  ICC_HPPIR0_EL1,
  ICC_BPR0_EL1,
  AP0R0,
  AP0R0 + APR_STEP,
  AP0R0 + 2 * APR_STEP,
  AP0R3,
  AP1R0,
  AP1R0 + APR_STEP,
  AP1R0 + 2 * APR_STEP,
  AP1R3,
  ICC_DIR_EL1,
  ICC_RPR_EL1,
  ICC_SGI1R_EL1,
  ICC_ASGI1R_EL1,
  ICC_SGI0R_EL1,
  ICC_IAR1_EL1,
  ICC_EOIR1_EL1,
  ICC_HPPIR1_EL1,
  ICC_BPR1_EL1,
  ICC_CTLR_EL1,
  ICC_SRE_EL1,
  ICC_IGRPEN0_EL1,
  ICC_IGRPEN1_EL1,
];
const ICC_SET = new Set(ICC_REGISTERS);

/** The ICC_* system registers of every PE. */
export class Gicv3CpuInterface {
  constructor(readonly core: Gicv3Core) {}

  /** Whether `reg` is an ICC_* encoding handled here. */
  handles(reg: number): boolean {
    return ICC_SET.has(reg);
  }

  /** MRS of `reg` on PE `pe`. All ICC registers read have a zero high word. */
  read(pe: number, reg: number, wide?: WideValue): number {
    const c = this.core;
    if (wide) wide.hi = 0;
    switch (reg) {
      case ICC_IAR1_EL1:
        return this.acknowledge(pe, 1);
      case ICC_HPPIR1_EL1:
        return this.hppir(pe, 1);
      case ICC_IAR0_EL1:
        return this.acknowledge(pe, 0);
      case ICC_HPPIR0_EL1:
        return this.hppir(pe, 0);
      case ICC_RPR_EL1:
        return c.rpr[pe]!;
      case ICC_PMR_EL1:
        return c.pmr[pe]!;
      case ICC_BPR0_EL1:
        return c.bpr0[pe]!;
      case ICC_BPR1_EL1:
        // With CBPR, BPR1 reads as BPR0 + 1 (saturated) (QEMU icc_bpr_read).
        return (c.ctlr[pe]! & 1) !== 0 ? Math.min(c.bpr0[pe]! + 1, 7) : c.bpr1[pe]!;
      case ICC_CTLR_EL1:
        return (
          (c.ctlr[pe]! | ((c.prio.priBits - 1) << ICC_CTLR_EL1_PRI_BITS_SHIFT) | ICC_CTLR_EL1_A3V) >>> 0
        );
      case ICC_SRE_EL1:
        return ICC_SRE_EL1_RAO;
      case ICC_IGRPEN0_EL1:
        return c.igrpen0[pe]!;
      case ICC_IGRPEN1_EL1:
        return c.igrpen1[pe]!;
      default:
        break;
    }
    const apr = this.#aprIndex(reg);
    if (apr >= 0) {
      if ((apr & 3) < c.prio.aprCount) return c.apr[pe * 8 + apr]!;
      c.guestError("gicv3-cpuif", `read of unimplemented active-priority register (AP${apr >> 2}R${apr & 3})`);
      return 0;
    }
    c.guestError("gicv3-cpuif", `read of ${ICC_SET.has(reg) ? "write-only" : "unknown"} ICC register 0x${reg.toString(16)}`);
    return 0;
  }

  /**
   * Whether an MRS of `reg` (`write` false) or an MSR of `value` changes
   * nothing but, at most, the guest-error count: every read but the
   * acknowledges (ICC_IAR0/1_EL1), and an EOIR of an INTID the GIC ignores
   * (the special INTIDs 1020..1023, unimplemented ones).
   */
  quiet(reg: number, write: boolean, value: number): boolean {
    if (write) return (reg === ICC_EOIR1_EL1 || reg === ICC_EOIR0_EL1) && this.#eoiIgnored(value & 0xffffff);
    return reg !== ICC_IAR1_EL1 && reg !== ICC_IAR0_EL1;
  }

  /** MSR of `reg` on PE `pe`; `hi` is the upper word (ICC_SGI*R). */
  write(pe: number, reg: number, value: number, hi = 0): void {
    const c = this.core;
    switch (reg) {
      case ICC_EOIR1_EL1:
        this.eoi(pe, 1, value);
        return;
      case ICC_EOIR0_EL1:
        this.eoi(pe, 0, value);
        return;
      case ICC_DIR_EL1:
        this.dir(pe, value);
        return;
      case ICC_PMR_EL1:
        c.pmr[pe] = value & c.prio.priMask;
        c.update(pe);
        return;
      case ICC_BPR0_EL1:
        c.bpr0[pe] = c.prio.clampBpr(0, value);
        c.cpuChanged(pe);
        return;
      case ICC_BPR1_EL1:
        if ((c.ctlr[pe]! & 1) === 0) c.bpr1[pe] = c.prio.clampBpr(1, value);
        c.cpuChanged(pe);
        return;
      case ICC_CTLR_EL1:
        c.ctlr[pe] = value & 3; // CBPR, EOImode; PRIbits/IDbits/A3V are read-only
        c.cpuChanged(pe);
        return;
      case ICC_IGRPEN0_EL1:
      case ICC_IGRPEN1_EL1: {
        const arr = reg === ICC_IGRPEN0_EL1 ? c.igrpen0 : c.igrpen1;
        arr[pe] = value & 1;
        c.invalidate(pe);
        c.update(pe);
        return;
      }
      case ICC_SGI1R_EL1:
        this.sendSgi(pe, value, hi, true);
        return;
      case ICC_SGI0R_EL1:
      case ICC_ASGI1R_EL1:
        this.sendSgi(pe, value, hi, false);
        return;
      case ICC_SRE_EL1:
        return;
      default:
        break;
    }
    const apr = this.#aprIndex(reg);
    if (apr >= 0) {
      const n = apr & 3;
      if (n < c.prio.aprCount) {
        c.apr[pe * 8 + apr] = value & c.prio.aprWritableMask(n);
        c.cpuChanged(pe);
      } else c.guestError("gicv3-cpuif", `write of unimplemented active-priority register (AP${apr >> 2}R${n})`);
      return;
    }
    c.guestError("gicv3-cpuif", `write to ${ICC_SET.has(reg) ? "read-only" : "unknown"} ICC register 0x${reg.toString(16)}`);
  }

  // ---- transitions ----------------------------------------------------------------

  /** ICC_HPPIR<g>: the highest pending interrupt if it is of group `g`, else 1023. */
  hppir(pe: number, g: number): number {
    const c = this.core;
    const b = c.best(pe);
    return b >= 0 && c.bestGroup[pe] === g ? b : INTID_SPURIOUS;
  }

  /** ICC_IAR<g>: acknowledges the highest pending interrupt if it is of group `g` and may preempt. */
  acknowledge(pe: number, g: number): number {
    const c = this.core;
    const b = c.best(pe);
    if (b < 0 || c.bestGroup[pe] !== g) return INTID_SPURIOUS;
    const prio = c.bestPrio[pe]!;
    if (!c.canPreempt(pe, prio, g)) return INTID_SPURIOUS;
    const gprio = prio & c.gmask[2 * pe + g]!;
    c.prio.activate(c.apr, pe * 8, g, gprio);
    c.rpr[pe] = gprio; // it preempted, so it is now the highest active priority
    if (b >= GIC_FIRST_LPI) {
      c.setLpiPending(pe, b, false);
      return b;
    }
    const s = c.irqs;
    const i = b < GIC_FIRST_SPI ? c.nrIrqs + pe * 32 + b : b;
    s.active[i >>> 5]! |= 1 << (i & 31);
    s.latch[i >>> 5]! &= ~(1 << (i & 31));
    // Active now, so no longer eligible (it was in this PE's set, being its best).
    c.setEligible(pe, b, false, 0, 0);
    c.update(pe);
    return b;
  }

  /** ICC_EOIR<g>: priority drop, and deactivation unless EOImode is 1. */
  eoi(pe: number, g: number, value: number): void {
    const c = this.core;
    const intid = value & 0xffffff;
    if (this.#eoiIgnored(intid)) return;
    const rpr = c.prio.dropHighest(c.apr, pe * 8, g);
    if (rpr < 0) {
      c.guestError("gicv3-cpuif", `EOIR${g} of INTID ${intid} with no active group-${g} priority`);
      return;
    }
    c.rpr[pe] = rpr;
    if ((c.ctlr[pe]! & ICC_CTLR_EL1_EOImode_drop) === 0) this.deactivate(pe, intid);
    else c.update(pe);
  }

  /** Special INTIDs (1020..1023) and INTIDs the GIC does not implement: an EOIR of them is ignored (QEMU icc_eoir_write). */
  #eoiIgnored(intid: number): boolean {
    const c = this.core;
    return intid < GIC_FIRST_LPI && (intid >= c.nrIrqs || intid > GIC_MAX_SPI);
  }

  /** ICC_DIR_EL1: deactivation, effective only with EOImode = 1. */
  dir(pe: number, value: number): void {
    const c = this.core;
    const intid = value & 0xffffff;
    if ((c.ctlr[pe]! & ICC_CTLR_EL1_EOImode_drop) === 0) {
      c.guestError("gicv3-cpuif", `DIR of INTID ${intid} with EOImode 0 ignored`);
      return;
    }
    this.deactivate(pe, intid);
  }

  /** Clears the active state of `intid` (LPIs have none). */
  deactivate(pe: number, intid: number): void {
    const c = this.core;
    if (intid >= c.nrIrqs || intid > GIC_MAX_SPI) {
      c.update(pe);
      return;
    }
    const i = intid < GIC_FIRST_SPI ? c.nrIrqs + pe * 32 + intid : intid;
    c.irqs.active[i >>> 5]! &= ~(1 << (i & 31));
    c.refresh(pe, intid);
    c.update(pe);
  }

  /**
   * Generates SGIs from PE `sender` as an ICC_SGI1R (`sgi1r` true) or
   * ICC_SGI0R/ASGI1R (`sgi1r` false) write with `lo`/`hi` words would. Which
   * targeted SGIs become pending depends on their group and the profile:
   *
   * | write | "kvm" (`vgic_v3_queue_sgi`: `!irq->group \|\| allow_group1`) | "qemu" (DS = 1, a Non-secure PE) |
   * |---|---|---|
   * | SGI1R | group 0 and group 1 | group 1 only: `icc_sgi1r_write` asks for G1NS, `gicv3_redist_send_sgi` drops it when the SGI is group 0 (`grp != irqgrp`) |
   * | SGI0R | group 0 only | group 0 only (G0) |
   * | ASGI1R | group 0 only | group 0 only: Secure G1, turned into G0 by `icc_generate_sgi` because DS = 1 |
   *
   * GICR_NSACR plays no part: with DS = 1 QEMU skips its check and the
   * register is RAZ/WI (both profiles model a single security state).
   */
  sendSgi(sender: number, lo: number, hi: number, sgi1r: boolean): void {
    const c = this.core;
    const intid = (lo >>> 24) & 0xf;
    if (((hi >>> 8) & 1) === 1) {
      for (let pe = 0; pe < c.cpus; pe++) if (pe !== sender) this.#raiseSgi(pe, intid, sgi1r);
      return;
    }
    const list = lo & 0xffff;
    const upper = (((hi >>> 16) & 0xff) << 24) | ((hi & 0xff) << 16) | (((lo >>> 16) & 0xff) << 8);
    const rs = (hi >>> 12) & 0xf;
    // The targets in TargetList order, lowest bit first, visiting only the bits that are set.
    for (let l = list; l !== 0; l &= l - 1) {
      const b = 31 - Math.clz32(l & -l);
      const pe = c.peByAffinity((upper | (rs * 16 + b)) >>> 0);
      if (pe >= 0) this.#raiseSgi(pe, intid, sgi1r);
    }
  }

  #raiseSgi(pe: number, intid: number, sgi1r: boolean): void {
    const s = this.core.irqs;
    const i = s.index(pe, intid);
    const group1 = ((s.group[i >>> 5]! >>> (i & 31)) & 1) === 1;
    // See sendSgi: only SGI1R reaches group 1; under QEMU it reaches nothing else.
    if (sgi1r ? !group1 && this.core.profile === "qemu" : group1) return;
    s.latch[i >>> 5]! |= 1 << (i & 31);
    this.core.refresh(pe, intid);
  }

  /** 0..3 for AP0R0..3, 4..7 for AP1R0..3, -1 otherwise. */
  #aprIndex(reg: number): number {
    if (reg >= AP0R0 && reg <= AP0R3 && (reg - AP0R0) % APR_STEP === 0) return (reg - AP0R0) / APR_STEP;
    if (reg >= AP1R0 && reg <= AP1R3 && (reg - AP1R0) % APR_STEP === 0) return 4 + (reg - AP1R0) / APR_STEP;
    return -1;
  }
}
