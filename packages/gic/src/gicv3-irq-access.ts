/**
 * Host-side access to per-interrupt state, for a hypervisor that keeps the
 * distributor and redistributors in software and presents interrupts to a
 * guest through list registers (what KVM's vgic does with `struct vgic_irq`
 * and the per-vCPU ap_list).
 *
 * Spec: IHI 0069H §4.1 (interrupt states), §6.2 (list registers carry the
 * pending/active state of virtual interrupts). Cross-check: Linux
 * arch/arm64/kvm/vgic/vgic.c `vgic_flush_lr_state()` (pending interrupts,
 * highest priority first, go to LRs; an edge interrupt's latch is consumed
 * when it is put in an LR) and vgic-v3.c `vgic_v3_fold_lr_state()` (the LR's
 * active state is copied back).
 */

import { ConfigError } from "@irqlab/sim";
import { GIC_FIRST_LPI, GIC_FIRST_SPI, GIC_MAX_SPI } from "./gicv3-constants.js";
import type { Gicv3Core } from "./gicv3-core.js";

/** The state of one SGI/PPI/SPI as seen by a PE. */
export interface IrqStatus {
  /** Pending: the latch, or a high level-sensitive line. */
  readonly pending: boolean;
  /** The software/edge pending latch alone. */
  readonly latch: boolean;
  /** Input line level. */
  readonly level: boolean;
  readonly active: boolean;
  readonly enabled: boolean;
  /** 0 or 1. */
  readonly group: number;
  readonly priority: number;
  /** Edge-triggered (true) or level-sensitive. */
  readonly edge: boolean;
  /** Target PE (private interrupts: the PE itself; SPIs: from IROUTER, -1 for none). */
  readonly target: number;
}

/** Per-interrupt state reads and the few writes a software vgic needs. */
export class Gicv3IrqAccess {
  constructor(readonly core: Gicv3Core) {}

  /** State of SGI/PPI/SPI `intid` as seen by `pe`. */
  status(pe: number, intid: number): IrqStatus {
    const i = this.#index(pe, intid);
    const s = this.core.irqs;
    const w = i >>> 5;
    const b = i & 31;
    const bit = (a: Uint32Array): boolean => ((a[w]! >>> b) & 1) === 1;
    return {
      pending: ((s.pendingWord(w) >>> b) & 1) === 1,
      latch: bit(s.latch),
      level: bit(s.level),
      active: bit(s.active),
      enabled: bit(s.enabled),
      group: (s.group[w]! >>> b) & 1,
      priority: s.priority[i]!,
      edge: bit(s.edge),
      target: intid < GIC_FIRST_SPI ? pe : s.target[i]!,
    };
  }

  /** Sets or clears the pending latch of `intid` (e.g. consumed into an LR, or folded back). */
  setPendingLatch(pe: number, intid: number, on: boolean): void {
    const i = this.#index(pe, intid);
    const a = this.core.irqs.latch;
    if (on) a[i >>> 5]! |= 1 << (i & 31);
    else a[i >>> 5]! &= ~(1 << (i & 31));
    this.core.refresh(pe, intid);
  }

  /** Sets or clears the active state of `intid` (e.g. from an LR's state on exit). */
  setActive(pe: number, intid: number, on: boolean): void {
    const i = this.#index(pe, intid);
    const a = this.core.irqs.active;
    if (on) a[i >>> 5]! |= 1 << (i & 31);
    else a[i >>> 5]! &= ~(1 << (i & 31));
    this.core.refresh(pe, intid);
  }

  /**
   * The interrupts `pe` could be given now — pending, enabled, inactive,
   * routed to it, in an enabled group, and pending LPIs — highest priority
   * first (ties: lowest INTID), at most `max` of them.
   */
  deliverable(pe: number, max = Infinity): number[] {
    const c = this.core;
    if (!Number.isInteger(pe) || pe < 0 || pe >= c.cpus) throw new ConfigError(`PE ${pe} is not in 0..${c.cpus - 1}`);
    const found: { intid: number; prio: number }[] = [];
    for (let intid = 0; intid < Math.min(c.nrIrqs, GIC_MAX_SPI + 1); intid++) {
      const st = this.status(pe, intid);
      if (st.target !== pe || !st.pending || !st.enabled || st.active || !c.groupEnabled(pe, st.group)) continue;
      found.push({ intid, prio: st.priority });
    }
    const l = c.lpis[pe]!;
    if (l.enabled && c.groupEnabled(pe, 1)) {
      for (let intid = GIC_FIRST_LPI; intid < l.limit; intid++) {
        if (l.isPending(intid) && (l.configByte(intid) & 1) === 1) found.push({ intid, prio: l.priority(intid) & c.prio.priMask });
      }
    }
    found.sort((a, b) => a.prio - b.prio || a.intid - b.intid);
    return found.slice(0, max).map((f) => f.intid);
  }

  #index(pe: number, intid: number): number {
    const c = this.core;
    if (!Number.isInteger(pe) || pe < 0 || pe >= c.cpus) throw new ConfigError(`PE ${pe} is not in 0..${c.cpus - 1}`);
    if (!Number.isInteger(intid) || intid < 0 || intid >= c.nrIrqs || intid > GIC_MAX_SPI) {
      throw new ConfigError(`INTID ${intid} is not an SGI, PPI or implemented SPI (0..${Math.min(c.nrIrqs, GIC_MAX_SPI + 1) - 1})`);
    }
    return c.irqs.index(pe, intid);
  }
}
