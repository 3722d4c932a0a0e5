// Redistributors: GICR_TYPER (affinity, processor number, Last), WAKER per
// profile, PROPBASER/PENDBASER rules, the SGI_base frame, GICv4.1 frames, and
// LPIs (tables in guest memory, EnableLPIs, INV/INVALL caching).
import { GuestMemory, Tracer, type AccessSize, type MmioDevice } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  GICD_CTLR,
  GICR_CTLR,
  GICR_ICFGR0,
  GICR_ICFGR1,
  GICR_IIDR,
  GICR_INVALLR,
  GICR_INVLPIR,
  GICR_IPRIORITYR0,
  GICR_PENDBASER,
  GICR_PROPBASER,
  GICR_SGI_BASE,
  GICR_TYPER,
  GICR_VLPI_BASE,
  GICR_WAKER,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  INTID_SPURIOUS,
} from "./gicv3-constants.js";
import { Gicv3, defaultAffinity } from "./gicv3.js";

const wide = { hi: 0 };
const PROP = 0x10000; // LPI configuration table
const PEND = 0x20000; // pending tables, 64 KiB each

function setup(opts: Partial<ConstructorParameters<typeof Gicv3>[0]> = {}) {
  const memory = new GuestMemory();
  memory.addRam(0, 0x100000);
  const tracer = new Tracer();
  const gic = new Gicv3({ cpus: 3, memory, tracer, ...opts });
  const r = gic.redistributors;
  const rd = (pe: number, off: number, size: AccessSize = 4) => r.read(pe * r.stride + off, size, wide);
  const wr = (pe: number, off: number, v: number, size: AccessSize = 4, hi = 0) => {
    r.write(pe * r.stride + off, size, v, hi);
  };
  gic.distributor.write(GICD_CTLR, 4, 2, 0);
  for (let pe = 0; pe < 3; pe++) {
    gic.writeSysReg(pe, ICC_PMR_EL1, 0xff);
    gic.writeSysReg(pe, ICC_IGRPEN1_EL1, 1);
  }
  return { gic, memory, tracer, rd, wr };
}

/** Programs the LPI tables as Linux's its_cpu_init_lpis() does (IDbits = 13 → 16384 INTIDs). */
function enableLpis(s: ReturnType<typeof setup>, pe: number): void {
  s.wr(pe, GICR_PROPBASER, PROP | 13, 8, 0);
  s.wr(pe, GICR_PENDBASER, PEND + pe * 0x10000, 8, 0);
  s.wr(pe, GICR_CTLR, 1);
}

describe("RD_base registers", () => {
  test("GICR_TYPER: affinity, processor number, Last on the final RD, PLPIS with LPIs", () => {
    const { rd } = setup();
    expect(rd(1, GICR_TYPER, 8)).toBe((1 << 8) | 1);
    expect(wide.hi).toBe(defaultAffinity(1));
    expect(rd(2, GICR_TYPER)).toBe((2 << 8) | (1 << 4) | 1);
    expect(rd(2, GICR_TYPER + 4)).toBe(2);
  });

  test("redistributor regions: Last on the final RD of each region; a region view starts at its first RD", () => {
    const s = setup({ redistributorRegions: [2, 1] });
    expect([0, 1, 2].map((pe) => (s.rd(pe, GICR_TYPER) >>> 4) & 1)).toEqual([0, 1, 1]);
    const view = s.gic.redistributors.regionView(1);
    expect(view.size).toBe(0x20000);
    expect(view.read(GICR_TYPER, 4, wide)).toBe((2 << 8) | (1 << 4) | 1);
    expect(() => s.gic.redistributors.regionView(2)).toThrow(/region 2/);
    expect(() => setup({ redistributorRegions: [2, 2] })).toThrow(/summing to 3/);
  });

  test("GICv4.1: 256 KiB stride, VLPIS|RVPEID, frame 2 delegated, frame 3 RAZ/WI", () => {
    const s = setup({ v41: true, affinities: [0x100, 0x101, 0x10000] });
    expect(s.gic.redistributors.stride).toBe(0x40000);
    expect(s.rd(2, GICR_TYPER)).toBe((2 << 8) | (1 << 7) | (1 << 4) | 2 | 1);
    expect(s.rd(2, GICR_TYPER + 4)).toBe(0x10000);
    const seen: string[] = [];
    const frame: MmioDevice = {
      read: (off, size) => {
        seen.push(`r${off.toString(16)}/${size}`);
        return 0x1234;
      },
      write: (off, size, v) => {
        seen.push(`w${off.toString(16)}/${size}=${v.toString(16)}`);
      },
    };
    s.gic.setVlpiFrame(1, frame);
    expect(s.rd(1, GICR_VLPI_BASE + 0x78)).toBe(0x1234);
    s.wr(1, GICR_VLPI_BASE + 0x70, 0xab);
    expect(s.rd(0, GICR_VLPI_BASE + 0x78)).toBe(0); // no frame installed on RD 0
    s.wr(1, 0x30000 + 4, 1);
    expect(s.rd(1, 0x30000 + 4)).toBe(0);
    expect(seen).toEqual(["r78/4", "w70/4=ab"]);
    expect(() => setup().gic.setVlpiFrame(0, frame)).toThrow(/v41/);
  });

  test("GICR_CTLR/IIDR/WAKER: KVM reads IR|CES, WAKER RAZ/WI; QEMU WAKER resets to 6 (seL4 #1170)", () => {
    const k = setup();
    expect(k.rd(0, GICR_CTLR)).toBe(0x6);
    expect(k.rd(0, GICR_IIDR)).toBe(0x4b00043b);
    k.wr(0, GICR_WAKER, 2);
    expect(k.rd(0, GICR_WAKER)).toBe(0);
    const q = setup({ profile: "qemu" });
    expect(q.rd(0, GICR_WAKER)).toBe(0x6);
    q.wr(0, GICR_WAKER, 0);
    expect(q.rd(0, GICR_WAKER)).toBe(0);
    expect(q.rd(0, GICR_CTLR)).toBe(0x2);
  });

  test("PROPBASER is one per VM in KVM; both are ignored (and counted) while EnableLPIs = 1", () => {
    const s = setup();
    s.wr(0, GICR_PROPBASER, PROP | 13, 8, 0);
    expect(s.rd(2, GICR_PROPBASER)).toBe(PROP | 13);
    s.wr(1, GICR_PENDBASER, PEND, 8, 1 << 30); // PTZ reads back as 0
    expect(s.rd(1, GICR_PENDBASER, 8)).toBe(PEND);
    expect(wide.hi).toBe(0);
    expect(s.rd(0, GICR_PENDBASER)).toBe(0);
    s.wr(1, GICR_CTLR, 1);
    s.wr(1, GICR_PROPBASER, 0x30000 | 13, 8, 0);
    expect(s.rd(1, GICR_PROPBASER)).toBe(PROP | 13);
    expect(s.tracer.guestErrors).toBe(1);
    const q = setup({ profile: "qemu" });
    q.wr(0, GICR_PROPBASER, PROP | 13, 8, 0);
    expect(q.rd(2, GICR_PROPBASER)).toBe(0);
  });

  test("EnableLPIs is ignored without LPI support", () => {
    const memory = new GuestMemory();
    memory.addRam(0, 0x10000);
    const gic = new Gicv3({ cpus: 1, memory, lpis: false });
    gic.redistributors.write(GICR_CTLR, 4, 1, 0);
    expect(gic.redistributors.read(GICR_CTLR, 4, wide) & 1).toBe(0);
    expect(gic.redistributors.read(GICR_TYPER, 4, wide) & 1).toBe(0);
  });
});

describe("SGI_base frame", () => {
  test("banked priorities; ICFGR0 (SGIs) read-only edge; ICFGR1 (PPIs) read-only in KVM, writable in QEMU", () => {
    const s = setup();
    s.wr(1, GICR_SGI_BASE + GICR_IPRIORITYR0 + 20, 0x80, 1);
    expect(s.rd(1, GICR_SGI_BASE + GICR_IPRIORITYR0 + 20, 1)).toBe(0x80);
    expect(s.rd(0, GICR_SGI_BASE + GICR_IPRIORITYR0 + 20, 1)).toBe(0);
    s.wr(0, GICR_SGI_BASE + GICR_ICFGR0, 0);
    expect(s.rd(0, GICR_SGI_BASE + GICR_ICFGR0)).toBe(0xaaaaaaaa);
    s.wr(0, GICR_SGI_BASE + GICR_ICFGR1, 0xaaaaaaaa);
    expect(s.rd(0, GICR_SGI_BASE + GICR_ICFGR1)).toBe(0);
    const q = setup({ profile: "qemu" });
    q.wr(0, GICR_SGI_BASE + GICR_ICFGR1, 0x8);
    expect(q.rd(0, GICR_SGI_BASE + GICR_ICFGR1)).toBe(0x8);
  });
});

describe("LPIs", () => {
  test("enabling LPIs loads the pending table; config comes from the table; IAR/EOIR without active state", () => {
    const s = setup();
    const { gic, memory } = s;
    memory.writeU8(PROP + (8200 - 8192), 0xa0 | 0b11); // priority 0xA0, group 1, enabled
    memory.writeU8(PROP + (8201 - 8192), 0x40 | 0b10); // disabled
    memory.writeU8(PEND + 8200 / 8, 1 << (8200 % 8));
    enableLpis(s, 0);
    expect(gic.isLpiPending(0, 8200)).toBe(true);
    expect(gic.irqLevel(0)).toBe(true);
    expect(gic.readSysReg(0, ICC_IAR1_EL1)).toBe(8200);
    expect(gic.isLpiPending(0, 8200)).toBe(false);
    gic.setLpiPending(0, 8201);
    expect(gic.readSysReg(0, ICC_IAR1_EL1)).toBe(INTID_SPURIOUS); // disabled in the cached config
    gic.writeSysReg(0, ICC_EOIR1_EL1, 8200);
    expect(gic.irqLevel(0)).toBe(false);
  });

  test("config changes in memory are invisible until INV/INVALL (GICR_INVLPIR / INVALLR or the ITS)", () => {
    const s = setup();
    const { gic, memory } = s;
    enableLpis(s, 1);
    gic.setLpiPending(1, 8300);
    expect(gic.irqLevel(1)).toBe(false);
    memory.writeU8(PROP + 108, 0x20 | 0b11);
    expect(gic.irqLevel(1)).toBe(false);
    s.wr(1, GICR_INVLPIR, 8300, 8, 0);
    expect(gic.irqLevel(1)).toBe(true);
    memory.writeU8(PROP + 108, 0x20 | 0b10);
    gic.invalidateAllLpis(1);
    expect(gic.irqLevel(1)).toBe(false);
    memory.writeU8(PROP + 108, 0x20 | 0b11);
    s.wr(1, GICR_INVALLR, 0);
    expect(gic.readSysReg(1, ICC_IAR1_EL1)).toBe(8300);
  });

  test("LPIs pending while EnableLPIs = 0 are lost and counted; PTZ skips the pending table", () => {
    const s = setup();
    const { gic, memory, tracer } = s;
    gic.setLpiPending(2, 8192);
    expect(tracer.guestErrors).toBe(1);
    memory.writeU8(PEND + 2 * 0x10000 + 1024, 1);
    s.wr(2, GICR_PROPBASER, PROP | 13, 8, 0);
    s.wr(2, GICR_PENDBASER, PEND + 2 * 0x10000, 8, 1 << 30);
    s.wr(2, GICR_CTLR, 1);
    expect(gic.isLpiPending(2, 8192)).toBe(false);
  });

  test("a pending table that runs past the end of RAM: the words before it are loaded, one guest error at the first word that faults", () => {
    // IDbits = 15 (65536 INTIDs): the bits of INTIDs 8192.. are bytes 1024..8191 of the table, two pages.
    // RAM ends after the first page, so the read faults at the second.
    const memory = new GuestMemory();
    memory.addRam(0, PEND + 0x1000);
    const tracer = new Tracer(undefined, { enabled: true });
    const gic = new Gicv3({ cpus: 1, memory, tracer });
    const r = gic.redistributors;
    memory.writeU8(PEND + 1024, 1); // INTID 8192
    memory.writeU8(PEND + 4095, 0x80); // INTID 8192 + 8 * 3071 + 7, the last bit in RAM
    r.write(GICR_PROPBASER, 8, PROP | 15, 0);
    r.write(GICR_PENDBASER, 8, PEND, 0);
    r.write(GICR_CTLR, 4, 1, 0);
    expect(gic.isLpiPending(0, 8192)).toBe(true);
    expect(gic.isLpiPending(0, 8192 + 8 * 3071 + 7)).toBe(true);
    expect(tracer.guestErrors).toBe(1);
    expect(tracer.toText()).toContain(`RD 0: pending table read at 0x${(PEND + 0x1000).toString(16)} faulted`);
  });

  test("LPI priority orders against SPIs; savePendingTables writes the pending bits back", () => {
    const s = setup();
    const { gic, memory } = s;
    memory.writeU8(PROP + 1, 0x10 | 0b11);
    enableLpis(s, 0);
    gic.distributor.write(0x100 + 4, 4, 1 << 8, 0); // enable SPI 40
    gic.distributor.write(0x400 + 40, 1, 0x20, 0);
    gic.setSpiLevel(40, true);
    gic.setLpiPending(0, 8193);
    expect(gic.readSysReg(0, ICC_IAR1_EL1)).toBe(8193);
    gic.setLpiPending(0, 8193);
    gic.savePendingTables();
    expect(memory.readU8(PEND + 1024) & 2).toBe(2);
  });
});
