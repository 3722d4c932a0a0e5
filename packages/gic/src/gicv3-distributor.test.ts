// GICD register table: reset values as KVM and QEMU report them, RAZ/WI regions
// with affinity routing, access-size rules, and guest-error accounting.
import { Tracer, type AccessSize } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  GICD_CTLR,
  GICD_ICFGR,
  GICD_IGROUPR,
  GICD_IGRPMODR,
  GICD_IIDR,
  GICD_IPRIORITYR,
  GICD_IROUTER,
  GICD_ISENABLER,
  GICD_ITARGETSR,
  GICD_PIDR2,
  GICD_SGIR,
  GICD_TYPER,
  GICD_TYPER2,
} from "./gicv3-constants.js";
import { Gicv3 } from "./gicv3.js";
import { GuestMemory } from "@irqlab/sim";

const wide = { hi: 0 };

function dist(opts: Partial<ConstructorParameters<typeof Gicv3>[0]> = {}) {
  const tracer = new Tracer();
  const gic = new Gicv3({ cpus: 2, tracer, ...opts });
  const d = gic.distributor;
  const rd = (off: number, size: AccessSize = 4) => d.read(off, size, wide);
  const wr = (off: number, v: number, size: AccessSize = 4, hi = 0) => {
    d.write(off, size, v, hi);
  };
  return { gic, tracer, rd, wr };
}

describe("GICD reset values", () => {
  // Linux vgic-mmio-v3.c vgic_mmio_read_v3_misc(): CTLR = ARE | DS (+ EnableGrp1 once set),
  // TYPER = ITLinesNumber | (IDbits − 1) << 19 [| LPIS], IIDR = 0x4B << 24 | rev << 12 | 0x43B.
  test.each([
    ["GICD_CTLR", GICD_CTLR, 0x50],
    ["GICD_TYPER (256 INTIDs, no LPIs)", GICD_TYPER, (9 << 19) | 7],
    ["GICD_IIDR (KVM, revision 3)", GICD_IIDR, 0x4b00343b],
    ["GICD_TYPER2", GICD_TYPER2, 0],
    ["GICD_PIDR2 (ArchRev 3)", GICD_PIDR2, 0x3b],
    ["GICD_IGROUPR1 (KVM: group 1)", GICD_IGROUPR + 4, 0xffffffff],
    ["GICD_ISENABLER1 (SPIs disabled)", GICD_ISENABLER + 4, 0],
    ["GICD_ICFGR2 (KVM: SPIs edge)", GICD_ICFGR + 8, 0xaaaaaaaa],
    ["GICD_IROUTER32", GICD_IROUTER + 8 * 32, 0],
  ])("%s", (_name, off, value) => {
    expect(dist().rd(off)).toBe(value);
  });

  test("QEMU profile: Arm r0p0 IIDR, No1N|A3V and IDbits 16 in TYPER, group 0 and level SPIs at reset", () => {
    const { rd } = dist({ profile: "qemu" });
    expect(rd(GICD_IIDR)).toBe(0x43b);
    expect(rd(GICD_TYPER)).toBe(((1 << 25) | (1 << 24) | (15 << 19) | 7) >>> 0);
    expect(rd(GICD_IGROUPR + 4)).toBe(0);
    expect(rd(GICD_ICFGR + 8)).toBe(0);
  });

  test("with LPIs: IDbits = 15 and GICD_TYPER.LPIS; with v4.1: TYPER2.nASSGIcap (KVM)", () => {
    const memory = new GuestMemory();
    memory.addRam(0, 0x10000);
    const { rd } = dist({ memory, v41: true, nrIrqs: 992 });
    expect(rd(GICD_TYPER)).toBe((1 << 17) | (15 << 19) | 30);
    expect(rd(GICD_TYPER2)).toBe(1 << 8);
  });
});

describe("GICD accesses", () => {
  test("GICD_CTLR: only EnableGrp1 is stored in KVM, both enables in QEMU; ARE/DS RAO/WI", () => {
    const k = dist();
    k.wr(GICD_CTLR, 0xffffffff);
    expect(k.rd(GICD_CTLR)).toBe(0x52);
    const q = dist({ profile: "qemu" });
    q.wr(GICD_CTLR, 1);
    expect(q.rd(GICD_CTLR)).toBe(0x51);
  });

  test("the SGI/PPI words of the arrays, ITARGETSR, SGIR and IGRPMODR are RAZ/WI with ARE = 1", () => {
    const { rd, wr, tracer } = dist();
    wr(GICD_ISENABLER, 0xffffffff);
    expect(rd(GICD_ISENABLER)).toBe(0);
    wr(GICD_IPRIORITYR, 0xffffffff);
    expect(rd(GICD_IPRIORITYR)).toBe(0);
    wr(GICD_ITARGETSR + 40, 0xff, 1);
    expect(rd(GICD_ITARGETSR + 40, 1)).toBe(0);
    wr(GICD_SGIR, 0x10001);
    wr(GICD_IGRPMODR + 4, 0xffffffff);
    expect(rd(GICD_IGRPMODR + 4)).toBe(0);
    expect(tracer.guestErrors).toBe(0);
  });

  test("IPRIORITYR: byte and word access, masked to 5 bits; 16-bit access is RAZ/WI and counted", () => {
    const { rd, wr, tracer } = dist();
    wr(GICD_IPRIORITYR + 40, 0xffffffff);
    expect(rd(GICD_IPRIORITYR + 40)).toBe(0xf8f8f8f8);
    wr(GICD_IPRIORITYR + 45, 0x17, 1);
    expect(rd(GICD_IPRIORITYR + 45, 1)).toBe(0x10);
    wr(GICD_IPRIORITYR + 48, 0xffff, 2);
    expect(rd(GICD_IPRIORITYR + 48, 2)).toBe(0);
    expect(rd(GICD_IPRIORITYR + 48)).toBe(0);
    expect(tracer.guestErrors).toBe(2);
  });

  test("IROUTER: 64-bit and 32-bit access; Aff3 and IRM are RAZ/WI (KVM)", () => {
    const { rd, wr } = dist();
    wr(GICD_IROUTER + 8 * 40, 0x80000001, 8, 0xff);
    expect(rd(GICD_IROUTER + 8 * 40, 8)).toBe(1);
    expect(wide.hi).toBe(0);
    wr(GICD_IROUTER + 8 * 40 + 4, 0x12);
    expect(rd(GICD_IROUTER + 8 * 40 + 4)).toBe(0);
    // INTIDs beyond ITLinesNumber are RAZ/WI.
    wr(GICD_IROUTER + 8 * 300, 1, 8);
    expect(rd(GICD_IROUTER + 8 * 300, 8)).toBe(0);
  });

  test("ICFGR: SPI trigger is writable, SGI/PPI words are RAZ/WI in the distributor", () => {
    const { rd, wr } = dist();
    wr(GICD_ICFGR + 8, 0);
    expect(rd(GICD_ICFGR + 8)).toBe(0);
    wr(GICD_ICFGR + 8, 0x2);
    expect(rd(GICD_ICFGR + 8)).toBe(0x2);
    wr(GICD_ICFGR + 4, 0xffffffff);
    expect(rd(GICD_ICFGR + 4)).toBe(0);
  });

  test("misaligned, wrongly sized, unknown and read-only accesses are RAZ/WI guest errors", () => {
    const { rd, wr, tracer } = dist();
    expect(rd(GICD_ISENABLER + 6)).toBe(0);
    expect(rd(GICD_CTLR, 8)).toBe(0);
    expect(rd(0x5000)).toBe(0);
    wr(GICD_TYPER, 0);
    wr(GICD_IIDR, 0);
    wr(GICD_PIDR2, 0);
    expect(tracer.guestErrors).toBe(6);
    expect(tracer.counters.get("guest-error:gicv3-dist")).toBe(6);
    expect(rd(GICD_TYPER)).toBe((9 << 19) | 7);
  });
});

describe("userspace access (KVM_DEV_ARM_VGIC_GRP_DIST_REGS / REDIST_REGS)", () => {
  // Documentation/virt/kvm/devices/arm-vgic-v3.rst: ISPENDR reads and writes only the latch,
  // ICPENDR is ignored; IIDR may only change its Revision (2 or 3).
  test("ISPENDR/ICPENDR see only the pending latch; a level line does not show", () => {
    const { gic } = dist();
    const d = gic.distributor;
    gic.distributor.write(GICD_ICFGR + 8, 4, 0, 0); // SPIs 32..47 level
    gic.setSpiLevel(33, true);
    expect(d.read(0x200 + 4, 4, wide)).toBe(2);
    expect(d.uaccessRead(0x200 + 4, 4, wide)).toBe(0);
    d.uaccessWrite(0x200 + 4, 4, 1 << 4, 0);
    expect(d.uaccessRead(0x280 + 4, 4, wide)).toBe(1 << 4);
    d.uaccessWrite(0x280 + 4, 4, 0xffffffff, 0); // ICPENDR: ignored
    expect(d.uaccessRead(0x200 + 4, 4, wide)).toBe(1 << 4);
    d.uaccessWrite(0x200 + 4, 4, 0, 0); // writing 0 clears the latch
    expect(d.read(0x200 + 4, 4, wide)).toBe(2);
    const r = gic.redistributors;
    r.uaccessWrite(1, 0x10200, 4, 1 << 3, 0);
    expect(r.uaccessRead(1, 0x10280, 4, wide)).toBe(1 << 3);
    expect(r.uaccessRead(0, 0x10200, 4, wide)).toBe(0);
  });

  test("IIDR: only the revision may change, to 2 or 3", () => {
    const d = dist().gic.distributor;
    d.uaccessWrite(GICD_IIDR, 4, 0x4b00243b, 0);
    expect(d.read(GICD_IIDR, 4, wide)).toBe(0x4b00243b);
    expect(() => {
      d.uaccessWrite(GICD_IIDR, 4, 0x4b00443b, 0);
    }).toThrow(/Revision to 2 or 3/);
    expect(() => {
      d.uaccessWrite(GICD_IIDR, 4, 0x4c00343b, 0);
    }).toThrow(/0x4c00343b/);
  });
});
