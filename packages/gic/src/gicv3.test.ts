// State-machine tests of the GICv3 model: edge and level interrupts under
// EOImode 0 and 1, active-and-pending, preemption by group priority, SGIs,
// the IRQ output, and the wire-input rules of KVM (kvm_vgic_inject_irq).
import { ConfigError, Tracer } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  GICD_CTLR,
  GICD_ICFGR,
  GICD_ICPENDR,
  GICD_IPRIORITYR,
  GICD_IROUTER,
  GICD_ISACTIVER,
  GICD_ISENABLER,
  GICD_ISPENDR,
  GICR_ISENABLER0,
  GICR_SGI_BASE,
  ICC_BPR0_EL1,
  ICC_BPR1_EL1,
  ICC_CTLR_EL1,
  ICC_EOIR0_EL1,
  ICC_IAR0_EL1,
  ICC_IGRPEN0_EL1,
  ICC_DIR_EL1,
  ICC_EOIR1_EL1,
  ICC_HPPIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICC_RPR_EL1,
  ICC_SGI1R_EL1,
  ICC_AP1Rn_EL1,
  INTID_SPURIOUS,
} from "./gicv3-constants.js";
import { Gicv3, defaultAffinity } from "./gicv3.js";

const wide = { hi: 0 };

/** A GIC set up the way Linux's driver leaves it: Grp1 on, PMR open, IGRPEN1 set. */
function setup(cpus = 2, opts: Partial<ConstructorParameters<typeof Gicv3>[0]> = {}) {
  const tracer = new Tracer();
  const gic = new Gicv3({ cpus, tracer, ...opts });
  const lines: string[] = [];
  gic.onIrq = (pe, level) => lines.push(`${pe}:${level ? 1 : 0}`);
  gic.distributor.write(GICD_CTLR, 4, 2, 0);
  for (let pe = 0; pe < cpus; pe++) {
    gic.writeSysReg(pe, ICC_PMR_EL1, 0xff);
    gic.writeSysReg(pe, ICC_IGRPEN1_EL1, 1);
  }
  const enableSpi = (intid: number, prio: number, level = false) => {
    gic.distributor.write(GICD_IPRIORITYR + intid, 1, prio, 0);
    if (level) {
      const reg = GICD_ICFGR + 4 * (intid >> 4);
      const cur = gic.distributor.read(reg, 4, wide);
      gic.distributor.write(reg, 4, cur & ~(2 << (2 * (intid & 15))), 0);
    }
    gic.distributor.write(GICD_ISENABLER + 4 * (intid >> 5), 4, 1 << (intid & 31), 0);
  };
  const iar = (pe = 0) => gic.readSysReg(pe, ICC_IAR1_EL1);
  const eoi = (intid: number, pe = 0) => gic.writeSysReg(pe, ICC_EOIR1_EL1, intid);
  const pending = (intid: number) => ((gic.distributor.read(GICD_ISPENDR + 4 * (intid >> 5), 4, wide) >>> (intid & 31)) & 1) === 1;
  const active = (intid: number) => ((gic.distributor.read(GICD_ISACTIVER + 4 * (intid >> 5), 4, wide) >>> (intid & 31)) & 1) === 1;
  return { gic, tracer, lines, enableSpi, iar, eoi, pending, active };
}

describe("edge-triggered SPI", () => {
  test("EOImode 0: pending → active → inactive, IRQ line follows", () => {
    const { gic, lines, enableSpi, iar, eoi, pending, active } = setup();
    enableSpi(40, 0xa0);
    gic.setSpiLevel(40, true);
    expect(pending(40)).toBe(true);
    expect(lines).toEqual(["0:1"]);
    expect(gic.readSysReg(0, ICC_HPPIR1_EL1)).toBe(40);
    expect(iar()).toBe(40);
    expect(pending(40)).toBe(false);
    expect(active(40)).toBe(true);
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0xa0);
    expect(lines).toEqual(["0:1", "0:0"]);
    eoi(40);
    expect(active(40)).toBe(false);
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0xff);
    expect(iar()).toBe(INTID_SPURIOUS);
  });

  test("a second edge while active gives active-and-pending, delivered after deactivation", () => {
    const { gic, enableSpi, iar, eoi, pending, active } = setup();
    enableSpi(40, 0x80);
    gic.setSpiLevel(40, true);
    expect(iar()).toBe(40);
    gic.setSpiLevel(40, false);
    gic.setSpiLevel(40, true);
    expect(pending(40) && active(40)).toBe(true);
    // Active-and-pending is not signalled again (IHI 0069H §4.1.1).
    expect(gic.irqLevel(0)).toBe(false);
    expect(iar()).toBe(INTID_SPURIOUS);
    eoi(40);
    expect(gic.irqLevel(0)).toBe(true);
    expect(iar()).toBe(40);
  });

  test("EOImode 1: EOIR drops priority only, DIR deactivates", () => {
    const { gic, tracer, enableSpi, iar, eoi, active } = setup();
    gic.writeSysReg(0, ICC_CTLR_EL1, 2);
    enableSpi(33, 0x40);
    gic.setSpiLevel(33, true);
    expect(iar()).toBe(33);
    eoi(33);
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0xff);
    expect(active(33)).toBe(true);
    gic.setSpiLevel(33, true);
    expect(iar()).toBe(INTID_SPURIOUS); // still active
    gic.writeSysReg(0, ICC_DIR_EL1, 33);
    expect(active(33)).toBe(false);
    expect(iar()).toBe(33);
    expect(tracer.guestErrors).toBe(0);
  });

  test("DIR with EOImode 0 is ignored and counted (QEMU icc_dir_write)", () => {
    const { gic, tracer, enableSpi, iar, active } = setup();
    enableSpi(33, 0x40);
    gic.setSpiLevel(33, true);
    iar();
    gic.writeSysReg(0, ICC_DIR_EL1, 33);
    expect(active(33)).toBe(true);
    expect(tracer.guestErrors).toBe(1);
  });
});

describe("level-sensitive SPI", () => {
  test("EOImode 0: stays pending while the line is high (active-and-pending after ack)", () => {
    const { gic, enableSpi, iar, eoi, pending, active } = setup();
    enableSpi(50, 0x20, true);
    gic.setSpiLevel(50, true);
    expect(iar()).toBe(50);
    expect(pending(50) && active(50)).toBe(true);
    eoi(50);
    expect(iar()).toBe(50); // line still high: pending again
    gic.setSpiLevel(50, false);
    eoi(50);
    expect(pending(50) || active(50)).toBe(false);
    expect(iar()).toBe(INTID_SPURIOUS);
  });

  test("EOImode 1: line lowered before DIR leaves it inactive", () => {
    const { gic, enableSpi, iar, eoi, pending, active } = setup();
    gic.writeSysReg(0, ICC_CTLR_EL1, 2);
    enableSpi(50, 0x20, true);
    gic.setSpiLevel(50, true);
    expect(iar()).toBe(50);
    eoi(50);
    gic.setSpiLevel(50, false);
    expect(pending(50)).toBe(false);
    gic.writeSysReg(0, ICC_DIR_EL1, 50);
    expect(active(50)).toBe(false);
  });

  test("ICPENDR cannot clear a level interrupt whose line is high; ISPENDR latch clears on ack", () => {
    const { gic, enableSpi, iar, eoi, pending } = setup();
    enableSpi(50, 0x20, true);
    gic.setSpiLevel(50, true);
    gic.distributor.write(GICD_ICPENDR + 4, 4, 1 << 18, 0);
    expect(pending(50)).toBe(true);
    gic.setSpiLevel(50, false);
    expect(pending(50)).toBe(false);
    gic.distributor.write(GICD_ISPENDR + 4, 4, 1 << 18, 0);
    expect(pending(50)).toBe(true);
    expect(iar()).toBe(50);
    expect(pending(50)).toBe(false);
    eoi(50);
    expect(iar()).toBe(INTID_SPURIOUS);
  });
});

describe("priorities and preemption", () => {
  test("only priorities strictly below PMR are signalled", () => {
    const { gic, enableSpi, iar } = setup();
    gic.writeSysReg(0, ICC_PMR_EL1, 0x80);
    enableSpi(40, 0x80);
    gic.setSpiLevel(40, true);
    expect(gic.irqLevel(0)).toBe(false);
    expect(iar()).toBe(INTID_SPURIOUS);
    gic.writeSysReg(0, ICC_PMR_EL1, 0x88);
    expect(gic.irqLevel(0)).toBe(true);
    expect(iar()).toBe(40);
  });

  test("preemption needs a higher group priority; BPR1 merges sub-priorities", () => {
    const { gic, enableSpi, iar, eoi } = setup();
    enableSpi(40, 0x90);
    enableSpi(41, 0x80);
    enableSpi(42, 0x60);
    // BPR1 = 3 (the minimum with 5 bits): group priority is bits [7:3] → 0x80 preempts 0x90.
    expect(gic.readSysReg(0, ICC_BPR1_EL1)).toBe(3);
    gic.setSpiLevel(40, true);
    expect(iar()).toBe(40);
    gic.setSpiLevel(41, true);
    expect(iar()).toBe(41);
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0x80);
    // One AP1R0 bit per active group priority: 0x90 >> 3 = 18, 0x80 >> 3 = 16.
    expect(gic.readSysReg(0, ICC_AP1Rn_EL1(0))).toBe((1 << 18) | (1 << 16));
    eoi(41);
    eoi(40);
    // BPR1 = 6: group priority is bits [7:6]; 0x90 and 0x80 are both group priority 0x80.
    gic.writeSysReg(0, ICC_BPR1_EL1, 6);
    gic.setSpiLevel(40, true);
    expect(iar()).toBe(40);
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0x80);
    gic.setSpiLevel(41, true);
    expect(gic.irqLevel(0)).toBe(false);
    expect(iar()).toBe(INTID_SPURIOUS);
    gic.setSpiLevel(42, true); // group priority 0x40 < 0x80: preempts
    expect(gic.irqLevel(0)).toBe(true);
    expect(iar()).toBe(42);
    eoi(42);
    expect(iar()).toBe(INTID_SPURIOUS);
    eoi(40);
    expect(iar()).toBe(41);
    eoi(41);
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0xff);
  });

  test("priority is masked to 5 implemented bits and ties go to the lowest INTID", () => {
    const { gic, enableSpi, iar } = setup();
    enableSpi(45, 0x47);
    enableSpi(44, 0x40);
    expect(gic.distributor.read(GICD_IPRIORITYR + 45, 1, wide)).toBe(0x40);
    gic.setSpiLevel(45, true);
    gic.setSpiLevel(44, true);
    expect(iar()).toBe(44);
  });
});

describe("routing and SGIs", () => {
  test("IROUTER selects the target PE by affinity; an unknown affinity targets none", () => {
    const { gic, enableSpi, iar } = setup(2);
    enableSpi(40, 0x10);
    gic.distributor.write(GICD_IROUTER + 8 * 40, 8, defaultAffinity(1), 0);
    gic.setSpiLevel(40, true);
    expect(gic.irqLevel(0)).toBe(false);
    expect(gic.irqLevel(1)).toBe(true);
    gic.distributor.write(GICD_IROUTER + 8 * 40, 4, 0x0505, 0);
    expect(gic.irqLevel(1)).toBe(false);
    gic.distributor.write(GICD_IROUTER + 8 * 40, 4, 0, 0);
    expect(iar(0)).toBe(40);
  });

  test("SGI1R targets Aff0 bits; IRM = 1 targets everyone but the sender", () => {
    const { gic, iar, eoi } = setup(3);
    gic.writeSysReg(0, ICC_SGI1R_EL1, (5 << 24) | 0b110, 0);
    expect([gic.irqLevel(0), gic.irqLevel(1), gic.irqLevel(2)]).toEqual([false, true, true]);
    expect(iar(1)).toBe(5);
    eoi(5, 1);
    gic.writeSysReg(2, ICC_SGI1R_EL1, 3 << 24, 1 << 8);
    expect(iar(0)).toBe(3);
    expect(iar(1)).toBe(3);
    expect(iar(2)).toBe(5); // from the first SGI1R write
    expect(iar(2)).toBe(INTID_SPURIOUS); // the IRM broadcast skipped its sender
  });

  test("PPIs are banked per PE and level-sensitive by default", () => {
    const { gic } = setup(2);
    gic.redistributors.write(1 * gic.redistributors.stride + GICR_SGI_BASE + GICR_ISENABLER0, 4, 1 << 27, 0);
    gic.setPpiLevel(1, 27, true);
    expect(gic.irqLevel(0)).toBe(false);
    expect(gic.readSysReg(1, ICC_IAR1_EL1)).toBe(27);
    gic.writeSysReg(1, ICC_EOIR1_EL1, 27);
    expect(gic.readSysReg(1, ICC_IAR1_EL1)).toBe(27); // line still high
  });

  test("group enables gate delivery at the distributor and the CPU interface", () => {
    const { gic, enableSpi } = setup();
    enableSpi(40, 0x10);
    gic.setSpiLevel(40, true);
    expect(gic.irqLevel(0)).toBe(true);
    gic.distributor.write(GICD_CTLR, 4, 0, 0);
    expect(gic.irqLevel(0)).toBe(false);
    gic.distributor.write(GICD_CTLR, 4, 2, 0);
    gic.writeSysReg(0, ICC_IGRPEN1_EL1, 0);
    expect(gic.irqLevel(0)).toBe(false);
    expect(gic.hasPendingIrq(0)).toBe(false);
  });
});

describe("host API misuse throws a typed error naming the value", () => {
  test("constructor and wire inputs", () => {
    expect(() => new Gicv3({ cpus: 0 })).toThrow(ConfigError);
    expect(() => new Gicv3({ cpus: 1, nrIrqs: 100 })).toThrow(/nrIrqs 100/);
    expect(() => new Gicv3({ cpus: 1, priBits: 3 })).toThrow(/priority bits 3/);
    expect(() => new Gicv3({ cpus: 1, lpis: true })).toThrow(/memory/);
    expect(() => new Gicv3({ cpus: 2, affinities: [1, 1] })).toThrow(/not unique/);
    const gic = new Gicv3({ cpus: 1 });
    expect(() => gic.setSpiLevel(256, true)).toThrow(/SPI INTID 256/);
    expect(() => gic.setPpiLevel(0, 5, true)).toThrow(/PPI INTID 5/);
    expect(() => gic.setPpiLevel(3, 20, true)).toThrow(/PE 3/);
  });

  test("SGIs are enabled at reset in the KVM profile (ISENABLER0 reads 0xFFFF)", () => {
    const gic = new Gicv3({ cpus: 1 });
    expect(gic.redistributors.read(GICR_SGI_BASE + GICR_ISENABLER0, 4, wide)).toBe(0xffff);
    const q = new Gicv3({ cpus: 1, profile: "qemu" });
    expect(q.redistributors.read(GICR_SGI_BASE + GICR_ISENABLER0, 4, wide)).toBe(0);
  });
});

describe("group 0 and CBPR", () => {
  test("a group-0 interrupt drives FIQ and is acknowledged through IAR0 only (QEMU profile)", () => {
    const gic = new Gicv3({ cpus: 1, profile: "qemu" });
    const fiq: boolean[] = [];
    gic.onFiq = (_pe, level) => fiq.push(level);
    gic.distributor.write(GICD_CTLR, 4, 1, 0); // EnableGrp0
    gic.writeSysReg(0, ICC_PMR_EL1, 0xff);
    gic.writeSysReg(0, ICC_IGRPEN0_EL1, 1);
    gic.distributor.write(GICD_ISENABLER + 4, 4, 1, 0);
    gic.setSpiLevel(32, true);
    expect(fiq).toEqual([true]);
    expect(gic.irqLevel(0)).toBe(false);
    expect(gic.readSysReg(0, ICC_IAR1_EL1)).toBe(INTID_SPURIOUS);
    expect(gic.readSysReg(0, ICC_IAR0_EL1)).toBe(32);
    gic.writeSysReg(0, ICC_EOIR1_EL1, 32); // wrong group: ignored and counted
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0);
    gic.writeSysReg(0, ICC_EOIR0_EL1, 32);
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0xff);
    expect(gic.tracer.guestErrors).toBe(1);
  });

  test("CBPR: BPR1 reads BPR0 + 1 and group 1 uses BPR0's split", () => {
    const gic = new Gicv3({ cpus: 1 });
    gic.writeSysReg(0, ICC_BPR0_EL1, 4);
    gic.writeSysReg(0, ICC_CTLR_EL1, 1);
    expect(gic.readSysReg(0, ICC_BPR1_EL1)).toBe(5);
    gic.writeSysReg(0, ICC_BPR1_EL1, 1); // ignored while CBPR = 1
    gic.writeSysReg(0, ICC_CTLR_EL1, 0);
    expect(gic.readSysReg(0, ICC_BPR1_EL1)).toBe(3);
    gic.writeSysReg(0, ICC_BPR0_EL1, 0); // clamped to the minimum, 7 − 5 = 2
    expect(gic.readSysReg(0, ICC_BPR0_EL1)).toBe(2);
  });
});
