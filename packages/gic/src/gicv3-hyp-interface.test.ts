// Hypervisor interface: list registers through the ICV view, EOI maintenance
// of level interrupts (irqfd resampling), EOIcount, underflow/NP maintenance,
// HW-linked deactivation, and GICv4.1 direct vLPIs beside the LRs.
import { Tracer } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  GICD_CTLR,
  ICC_CTLR_EL1,
  ICC_DIR_EL1,
  ICC_EOIR1_EL1,
  ICC_HPPIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICC_RPR_EL1,
  ICH_ELRSR_EL2,
  ICH_HCR_EL2,
  ICH_HCR_EL2_En,
  ICH_HCR_EL2_NPIE,
  ICH_HCR_EL2_UIE,
  ICH_LRn_EL2,
  ICH_MISR_EL2,
  ICH_MISR_EL2_EOI,
  ICH_MISR_EL2_NP,
  ICH_MISR_EL2_U,
  ICH_VMCR_EL2,
  ICH_VTR_EL2,
  ICH_LR_STATE_ACTIVE,
  ICH_LR_STATE_INVALID,
  ICH_LR_STATE_PENDING,
  INTID_SPURIOUS,
} from "./gicv3-constants.js";
import { Gicv3HypInterface } from "./gicv3-hyp-interface.js";
import { decodeLr, encodeLr, readIch, type ListRegister } from "./gicv3-list-register.js";
import { Gicv3 } from "./gicv3.js";
import type { DirectVlpiSource } from "./direct-vlpi.js";

const wide = { hi: 0 };

function lr(fields: Partial<ListRegister> & { vintid: number }): [number, number] {
  const lo = encodeLr({ state: ICH_LR_STATE_PENDING, priority: 0xa0, group: 1, hw: false, pintid: 0, eoi: false, ...fields }, wide);
  return [lo, wide.hi];
}

function setup(listRegisters = 4) {
  const tracer = new Tracer();
  const h = new Gicv3HypInterface({ listRegisters, priBits: 5, v4: false, tracer, track: 0 });
  const log: string[] = [];
  h.outputs.onVirq = (l) => log.push(`virq=${l ? 1 : 0}`);
  h.outputs.onMaintenance = (l) => log.push(`maint=${l ? 1 : 0}`);
  h.outputs.onLevelEoi = (v, n) => log.push(`eoi ${v} lr${n}`);
  h.writeHcr(ICH_HCR_EL2_En);
  // The guest's view: ICV_PMR = 0xFF, ICV_IGRPEN1 = 1 (ICH_VMCR_EL2 VPMR/VENG1).
  h.writeIcv(ICC_PMR_EL1, 0xff);
  h.writeIcv(ICC_IGRPEN1_EL1, 1);
  return { h, log, tracer };
}

describe("list registers and the ICV view", () => {
  test("LR encoding round-trips and follows ICH_LR<n>_EL2 bit positions", () => {
    const [lo, hi] = lr({ vintid: 27, priority: 0x80, hw: true, pintid: 27, state: 3 });
    expect(lo).toBe(27);
    // State [63:62] = 3, HW [61], Group [60], Priority [55:48], pINTID [41:32].
    expect(hi).toBe(((3 << 30) | (1 << 29) | (1 << 28) | (0x80 << 16) | 27) >>> 0);
    expect(decodeLr(lo, hi)).toEqual({ vintid: 27, state: 3, priority: 0x80, group: 1, hw: true, pintid: 27, eoi: false });
  });

  test("ICV_IAR1 takes the highest-priority pending LR (lowest index on ties), EOIR deactivates it", () => {
    const { h, log } = setup();
    h.writeLr(0, ...lr({ vintid: 40, priority: 0x80 }));
    h.writeLr(1, ...lr({ vintid: 41, priority: 0x40 }));
    h.writeLr(2, ...lr({ vintid: 42, priority: 0x40 }));
    expect(h.readIcv(ICC_HPPIR1_EL1)).toBe(41);
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(41);
    expect(decodeLr(h.lrLo[1]!, h.lrHi[1]!).state).toBe(ICH_LR_STATE_ACTIVE);
    expect(h.readIcv(ICC_RPR_EL1)).toBe(0x40);
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(INTID_SPURIOUS); // 0x40 cannot preempt 0x40
    h.writeIcv(ICC_EOIR1_EL1, 41);
    expect(decodeLr(h.lrLo[1]!, h.lrHi[1]!).state).toBe(ICH_LR_STATE_INVALID);
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(42);
    expect(log[0]).toBe("virq=1");
  });

  test("VPMR masks and ICH_HCR.En = 0 disables the virtual interface", () => {
    const { h } = setup();
    h.writeLr(0, ...lr({ vintid: 40, priority: 0xa0 }));
    h.writeIcv(ICC_PMR_EL1, 0xa0);
    expect(h.virqLevel).toBe(false);
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(INTID_SPURIOUS);
    expect(readIch(h, ICH_VMCR_EL2, wide) >>> 24).toBe(0xa0);
    h.writeIcv(ICC_PMR_EL1, 0xff);
    expect(h.virqLevel).toBe(true);
    h.writeHcr(0);
    expect(h.virqLevel).toBe(false);
    expect(h.readIcv(ICC_HPPIR1_EL1)).toBe(INTID_SPURIOUS);
  });

  test("EOI of a level interrupt (LR EOI bit): EISR/MISR.EOI, maintenance, and the resample notification", () => {
    const { h, log } = setup();
    h.writeLr(0, ...lr({ vintid: 48, eoi: true }));
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(48);
    h.writeIcv(ICC_EOIR1_EL1, 48);
    expect(h.eisr).toBe(1);
    expect(h.elrsr & 1).toBe(0); // not free until the hypervisor consumes it
    expect(readIch(h, ICH_MISR_EL2, wide)).toBe(ICH_MISR_EL2_EOI);
    expect(log).toEqual(["virq=1", "virq=0", "eoi 48 lr0", "maint=1"]);
    h.writeLr(0, 0, 0); // KVM folds the LR state back and clears it
    expect(h.maintenanceLevel).toBe(false);
  });

  test("EOImode 1: EOIR drops priority, DIR deactivates; EOI without a matching LR increments EOIcount", () => {
    const { h } = setup();
    h.writeIcv(ICC_CTLR_EL1, 2);
    h.writeLr(0, ...lr({ vintid: 33 }));
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(33);
    h.writeIcv(ICC_EOIR1_EL1, 33);
    expect(h.readIcv(ICC_RPR_EL1)).toBe(0xff);
    expect(decodeLr(h.lrLo[0]!, h.lrHi[0]!).state).toBe(ICH_LR_STATE_ACTIVE);
    h.writeIcv(ICC_DIR_EL1, 33);
    expect(decodeLr(h.lrLo[0]!, h.lrHi[0]!).state).toBe(ICH_LR_STATE_INVALID);
    h.writeIcv(ICC_DIR_EL1, 77); // not in any LR
    expect(readIch(h, ICH_HCR_EL2, wide) >>> 27).toBe(1);
  });

  test("with VEOIM = 1 an LR holding a vLPI is still deactivated by EOIR (LPIs have no active state)", () => {
    const { h } = setup();
    h.writeIcv(ICC_CTLR_EL1, 2);
    h.writeLr(0, ...lr({ vintid: 8200 }));
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(8200);
    h.writeIcv(ICC_EOIR1_EL1, 8200);
    expect(decodeLr(h.lrLo[0]!, h.lrHi[0]!).state).toBe(ICH_LR_STATE_INVALID);
    h.writeIcv(ICC_EOIR1_EL1, 8300); // no active priority left: ignored, counted
    expect(readIch(h, ICH_HCR_EL2, wide) >>> 27).toBe(0);
  });

  test("underflow (UIE) and no-pending (NPIE) maintenance", () => {
    const { h } = setup();
    h.writeHcr(ICH_HCR_EL2_En | ICH_HCR_EL2_UIE | ICH_HCR_EL2_NPIE);
    expect(h.misr).toBe(ICH_MISR_EL2_U | ICH_MISR_EL2_NP);
    h.writeLr(0, ...lr({ vintid: 40 }));
    h.writeLr(1, ...lr({ vintid: 41 }));
    expect(h.misr).toBe(0);
    expect(h.maintenanceLevel).toBe(false);
    expect(readIch(h, ICH_ELRSR_EL2, wide)).toBe(0b1100);
    expect(readIch(h, ICH_VTR_EL2, wide)).toBe(((4 << 29) | (4 << 26) | (1 << 21) | (1 << 20) | 3) >>> 0);
  });
});

describe("integration with the physical GIC", () => {
  test("deactivating an HW = 1 LR deactivates the physical INTID (Gicv3 wiring)", () => {
    const gic = new Gicv3({ cpus: 1 });
    gic.distributor.write(GICD_CTLR, 4, 2, 0);
    gic.writeSysReg(0, ICC_PMR_EL1, 0xff);
    gic.writeSysReg(0, ICC_IGRPEN1_EL1, 1);
    gic.writeSysReg(0, ICC_CTLR_EL1, 2); // host runs with EOImode 1, as Linux does with KVM
    gic.redistributors.write(0x10100, 4, 1 << 27, 0);
    gic.setPpiLevel(0, 27, true);
    expect(gic.readSysReg(0, ICC_IAR1_EL1)).toBe(27);
    gic.writeSysReg(0, ICC_EOIR1_EL1, 27);
    gic.setPpiLevel(0, 27, false);
    const h = gic.hyp[0]!;
    gic.writeSysReg(0, ICH_HCR_EL2, ICH_HCR_EL2_En);
    h.writeIcv(ICC_PMR_EL1, 0xff);
    h.writeIcv(ICC_IGRPEN1_EL1, 1);
    gic.writeSysReg(0, ICH_LRn_EL2(2), ...lr({ vintid: 27, hw: true, pintid: 27 }));
    expect(gic.readSysReg(0, ICH_LRn_EL2(2), wide)).toBe(27);
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(27);
    expect(gic.redistributors.read(0x10300, 4, wide)).toBe(1 << 27); // physically active
    h.writeIcv(ICC_EOIR1_EL1, 27);
    expect(gic.redistributors.read(0x10300, 4, wide)).toBe(0);
  });

  test("a resident vPE's direct vLPI competes with the LRs by priority", () => {
    const pending = new Map<number, number>([[8300, 0x20]]);
    const src: DirectVlpiSource = {
      highestPendingVlpi: () => {
        let best = -1;
        for (const [v, p] of pending) if (best < 0 || p < pending.get(best)!) best = v;
        return best;
      },
      vlpiPriority: (v) => pending.get(v) ?? 0xff,
      acknowledgeVlpi: (v) => {
        pending.delete(v);
      },
    };
    const gic = new Gicv3({ cpus: 1, v41: true });
    const h = gic.hyp[0]!;
    h.writeHcr(ICH_HCR_EL2_En);
    h.writeIcv(ICC_PMR_EL1, 0xff);
    h.writeIcv(ICC_IGRPEN1_EL1, 1);
    h.writeLr(0, ...lr({ vintid: 40, priority: 0x40 }));
    gic.setDirectVlpiSource(0, src);
    expect(h.readIcv(ICC_HPPIR1_EL1)).toBe(8300);
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(8300);
    expect(pending.size).toBe(0);
    expect(h.readIcv(ICC_RPR_EL1)).toBe(0x20);
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(INTID_SPURIOUS);
    h.writeIcv(ICC_EOIR1_EL1, 8300);
    expect(readIch(h, ICH_HCR_EL2, wide) >>> 27).toBe(0); // vLPIs do not count as EOIcount
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(40);
  });
});

describe("software vgic flow (KVM vgic_flush_lr_state / vgic_v3_fold_lr_state)", () => {
  test("deliverable interrupts go to LRs; a level EOI notifies the resampler; state folds back", () => {
    const gic = new Gicv3({ cpus: 1 });
    gic.distributor.write(GICD_CTLR, 4, 2, 0);
    gic.writeSysReg(0, ICC_PMR_EL1, 0xff);
    gic.writeSysReg(0, ICC_IGRPEN1_EL1, 1);
    gic.distributor.write(0x100 + 4, 4, 0b111, 0); // enable SPIs 32..34
    gic.distributor.write(0xc00 + 8, 4, 0b1010, 0); // SPI 32, 33 edge; SPI 34 level
    gic.distributor.write(0x400 + 32, 4, 0x00204080, 0); // priorities 0x80, 0x40, 0x20
    gic.setSpiLevel(32, true);
    gic.setSpiLevel(34, true);
    expect(gic.irqs.deliverable(0)).toEqual([34, 32]);
    const h = gic.hyp[0]!;
    h.writeHcr(ICH_HCR_EL2_En);
    h.writeIcv(ICC_PMR_EL1, 0xff);
    h.writeIcv(ICC_IGRPEN1_EL1, 1);
    const resampled: number[] = [];
    h.outputs.onLevelEoi = (v) => resampled.push(v);
    gic.irqs.deliverable(0).forEach((intid, n) => {
      const st = gic.irqs.status(0, intid);
      h.writeLr(n, ...lr({ vintid: intid, priority: st.priority, eoi: !st.edge }));
      if (st.edge) gic.irqs.setPendingLatch(0, intid, false); // consumed into the LR
    });
    expect(gic.irqs.deliverable(0)).toEqual([34]); // the level line is still high in the model
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(34);
    gic.setSpiLevel(34, false); // the device deasserts before the guest EOIs
    h.writeIcv(ICC_EOIR1_EL1, 34);
    expect(resampled).toEqual([34]);
    expect(h.readIcv(ICC_IAR1_EL1)).toBe(32);
    gic.irqs.setActive(0, 32, true); // fold: LR 1 is active
    expect(gic.irqs.status(0, 32)).toMatchObject({ active: true, pending: false, edge: true, target: 0 });
    expect(() => gic.irqs.status(0, 1020)).toThrow(/INTID 1020/);
  });
});
