/**
 * A minimal GICv3 guest driver, written against architectural registers only
 * (IHI 0069H §12.9 GICD_*, §12.2 ICC_*), the way Linux's irq-gic-v3.c brings
 * up an SPI: GICD_CTLR.EnableGrp1, the SPI's trigger (GICD_ICFGR), priority
 * (GICD_IPRIORITYR) and enable (GICD_ISENABLER); then ICC_PMR_EL1,
 * ICC_CTLR_EL1.EOImode and ICC_IGRPEN1_EL1; then it waits in WFI with
 * interrupts unmasked. Its vector acknowledges one interrupt (ICC_IAR1_EL1),
 * completes it with ICC_EOIR1_EL1 and, with EOImode = 1, deactivates it with
 * ICC_DIR_EL1.
 *
 * Used by the vgic tests, the irqfd benchmark and the CLI's arm demo. It
 * touches no hypervisor object: only guest ops.
 */

import {
  GICD_CTLR,
  GICD_CTLR_ENABLE_SS_G1,
  GICD_ICFGR,
  GICD_IPRIORITYR,
  GICD_ISENABLER,
  ICC_CTLR_EL1,
  ICC_CTLR_EL1_EOImode_drop,
  ICC_DIR_EL1,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  INTID_SPURIOUS,
} from "@irqlab/gic";
import { op, type GuestProgram } from "@irqlab/sim";
import type { GuestImage } from "../vcpu-core.js";

/** One SPI the guest driver configures. */
export interface GicGuestSpi {
  readonly intid: number;
  /** Edge-triggered (GICD_ICFGR Int_config[1] = 1) or level-sensitive. */
  readonly edge: boolean;
  /** Priority byte (default 0xa0). */
  readonly priority?: number;
}

/** Options of {@link gicv3GuestImage}. */
export interface GicGuestOptions {
  /** Guest-physical base of the distributor. */
  readonly distBase: number;
  /** SPIs to configure and enable. */
  readonly spis: readonly GicGuestSpi[];
  /** ICC_CTLR_EL1.EOImode = 1: EOIR drops the priority, DIR deactivates. */
  readonly eoiModeSplit?: boolean;
  /**
   * Address of the device's "interrupt serviced" register: the handler writes
   * the INTID there before completing (a level device lowers its line then).
   */
  readonly deviceAckAddr?: number;
  /**
   * Instead of waiting in WFI, ring this device register in a loop (a device
   * the guest triggers itself, as interrupt micro-benchmarks do).
   */
  readonly doorbellAddr?: number;
  /** Nanoseconds of work in the handler between acknowledge and completion (default 0). */
  readonly handlerNs?: number;
  /** Called in the vector after ICC_IAR1_EL1 with the INTID read (1023 = spurious). */
  readonly onAcknowledge?: (intid: number) => void;
  /** Called after the interrupt is completed (EOIR, and DIR with EOImode = 1). */
  readonly onComplete?: (intid: number) => void;
}

/** The guest image: `main` configures and waits; `vector` handles one interrupt per entry. */
export function gicv3GuestImage(o: GicGuestOptions): GuestImage {
  const split = o.eoiModeSplit ?? false;
  const iar = op.mrs(ICC_IAR1_EL1);
  return {
    main: function* (): GuestProgram {
      yield op.write(o.distBase + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
      for (const s of o.spis) {
        const cfg = o.distBase + GICD_ICFGR + (s.intid >>> 4) * 4;
        const bit = 1 << (2 * (s.intid & 15) + 1);
        const old = (yield op.read(cfg, 4)).value;
        yield op.write(cfg, 4, (s.edge ? old | bit : old & ~bit) >>> 0);
        yield op.write(o.distBase + GICD_IPRIORITYR + s.intid, 1, s.priority ?? 0xa0);
        yield op.write(o.distBase + GICD_ISENABLER + (s.intid >>> 5) * 4, 4, (1 << (s.intid & 31)) >>> 0);
      }
      yield op.msr(ICC_PMR_EL1, 0xff);
      if (split) yield op.msr(ICC_CTLR_EL1, ICC_CTLR_EL1_EOImode_drop);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      yield op.unmask();
      if (o.doorbellAddr !== undefined) {
        const ring = op.write(o.doorbellAddr, 4, 1);
        for (;;) yield ring;
      }
      for (;;) yield op.wfi();
    },
    vector: function* (): GuestProgram {
      const intid = (yield iar).value & 0xffffff;
      o.onAcknowledge?.(intid);
      if (intid === INTID_SPURIOUS) return;
      if (o.handlerNs !== undefined && o.handlerNs > 0) yield op.compute(o.handlerNs);
      if (o.deviceAckAddr !== undefined) yield op.write(o.deviceAckAddr, 4, intid);
      yield op.msr(ICC_EOIR1_EL1, intid);
      if (split) yield op.msr(ICC_DIR_EL1, intid);
      o.onComplete?.(intid);
    },
  };
}
