import { ConfigError, MmioBus, RegionOverlapError, Tracer } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ISELECT_EIDELIVERY } from "./imsic-constants.js";
import { ImsicHart } from "./imsic-hart.js";
import { ImsicLayout, minSHartShift } from "./imsic-layout.js";

function armed(h: ImsicHart, g: number, id: number): void {
  const f = h.guestFile(g);
  f.setEnabled(id, true);
  f.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);
}

describe("per-hart IMSIC (IMSIC.adoc §3.1, §3.11; VSLevel.adoc hgeip/hgeie)", () => {
  test("GEILEN is at most 63 on RV64 and 31 on RV32; a bad value throws naming it", () => {
    expect(new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 63 }).geilen).toBe(63);
    expect(() => new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 64 })).toThrow(/GEILEN 64/);
    expect(() => new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 32, xlen: 32 })).toThrow(ConfigError);
    expect(() => new ImsicHart({ hartIndex: 0, mIds: 63, geilen: 1 })).toThrow(/needs an S-level file/);
  });
  test("guest file g drives hgeip bit g; hip.SGEIP = OR(hgeip & hgeie)", () => {
    const log: string[] = [];
    const h = new ImsicHart({
      hartIndex: 0,
      mIds: 63,
      sIds: 127,
      guestIds: 63,
      geilen: 40,
      lines: { hgeip: (g, on) => log.push(`hgeip${g}=${on}`), sgeip: (on) => log.push(`sgeip=${on}`) },
    });
    armed(h, 33, 5);
    h.guestFile(33).setPending(5);
    expect(h.hgeip(33)).toBe(true);
    expect([h.hgeipLo, h.hgeipHi]).toEqual([0, 2]);
    expect(h.sgeipAsserted).toBe(false);
    h.writeHgeie(0, 2);
    expect(h.sgeipAsserted).toBe(true);
    h.guestFile(33).writeTopei();
    expect(log).toEqual(["hgeip33=true", "sgeip=true", "hgeip33=false", "sgeip=false"]);
  });
  test("hgeie bit 0 and bits above GEILEN are read-only zero", () => {
    const h = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 5 });
    h.writeHgeie(0xffffffff, 0xffffffff);
    expect([h.hgeieLo, h.hgeieHi]).toEqual([0x3e, 0]);
  });
  test("hgeie's writable bits for GEILEN 30, 31, 40 and 63, up to bit 31 of each word", () => {
    const masks = [30, 31, 40, 63].map((geilen) => {
      const h = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen });
      h.writeHgeie(0xffffffff, 0xffffffff);
      const all = [h.hgeieLo, h.hgeieHi];
      h.writeHgeie(0x8000_0000, 0x8000_0000);
      return [...all, h.hgeieLo, h.hgeieHi];
    });
    expect(masks).toEqual([
      [0x7fff_fffe, 0, 0, 0],
      [0xffff_fffe, 0, 0x8000_0000, 0],
      [0xffff_fffe, 0x1ff, 0x8000_0000, 0],
      [0xffff_fffe, 0xffff_ffff, 0x8000_0000, 0x8000_0000],
    ]);
  });
  test("M and S files drive MEIP and SEIP", () => {
    const lines: string[] = [];
    const h = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, lines: { meip: (on) => lines.push(`m${on}`), seip: (on) => lines.push(`s${on}`) } });
    for (const f of [h.m, h.s!]) {
      f.setEnabled(1, true);
      f.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);
      f.setPending(1);
    }
    expect(lines).toEqual(["mtrue", "strue"]);
  });
  test("vsFile follows hstatus.VGEIN: 0 and values above GEILEN select no file", () => {
    const h = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 2 });
    expect(h.vsFile(0)).toBeUndefined();
    expect(h.vsFile(3)).toBeUndefined();
    expect(h.vsFile(2)).toBe(h.guestFile(2));
    expect(() => h.guestFile(0)).toThrow(/guest file 0/);
  });
  test("the hart snapshot restores every file and the lines", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 63 })), { maxLength: 20 }), (msis) => {
        const a = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 3 });
        for (let g = 1; g <= 3; g++) for (let id = 1; id < 64; id += 2) armed(a, g, id);
        a.writeHgeie(0b1010);
        for (const [g, id] of msis) a.guestFile(g).setPending(id);
        const b = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 3 });
        b.restore(a.state());
        expect([b.hgeipLo, b.hgeieLo, b.sgeipAsserted]).toEqual([a.hgeipLo, a.hgeieLo, a.sgeipAsserted]);
        expect(b.state()).toEqual(a.state());
      }),
    );
  });
  test("mapInto places M, S and guest pages where the layout says; a second mapping overlaps", () => {
    const bus = new MmioBus();
    const layout = new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 2, geilen: 3 });
    const h = new ImsicHart({ hartIndex: 2, mIds: 63, sIds: 63, geilen: 3 });
    h.mapInto(bus, layout, 0, 2);
    bus.write(0x2800_0000 + 2 * 0x4000 + 3 * 0x1000, 4, 12);
    expect(h.guestFile(3).isPending(12)).toBe(true);
    bus.write(0x2400_2000, 4, 13);
    expect(h.m.isPending(13)).toBe(true);
    expect(() => {
      h.mapInto(bus, layout, 0, 2, "again/");
    }).toThrow(RegionOverlapError);
  });
});

describe("IMSIC layout (IMSIC.adoc §3.6)", () => {
  test("D defaults to ⌈log2(GEILEN+1)⌉ + 12 and S/guest pages are contiguous", () => {
    expect(minSHartShift(0)).toBe(12);
    expect(minSHartShift(3)).toBe(14);
    expect(minSHartShift(4)).toBe(15);
    const l = new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 3, groupBits: 2, geilen: 7, groupShift: 30 });
    expect(l.sHartShift).toBe(15);
    expect(l.sFileAddress(1, 5, 7)).toBe(0x2800_0000 + 2 ** 30 + 5 * 0x8000 + 7 * 0x1000);
    expect(l.mFileAddress(3, 7)).toBe(0x2400_0000 + 3 * 2 ** 30 + 7 * 0x1000);
    expect(l.decodeS(l.sFileAddress(1, 5, 7) + 4)).toEqual({ group: 1, hart: 5, guest: 7 });
    expect(l.decodeM(l.mFileAddress(2, 6))).toEqual({ group: 2, hart: 6, guest: 0 });
    expect(l.decodeM(0x2800_0000)).toBeUndefined();
    expect(l.hartIndex(2, 5)).toBe(21);
    expect(l.splitHartIndex(21)).toEqual({ group: 2, hart: 5 });
  });
  test("toMsiAddrCfg encodes HHXW = j, LHXW = k, HHXS = E − 24, LHXS = C − 12 / D − 12, PPN = base >> 12", () => {
    const l = new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 3, groupBits: 2, geilen: 7, groupShift: 30 });
    expect(l.toMsiAddrCfg()).toEqual({
      mmsiaddrcfg: 0x24000,
      mmsiaddrcfgh: (6 << 24) | (0 << 20) | (2 << 16) | (3 << 12),
      smsiaddrcfg: 0x28000,
      smsiaddrcfgh: 3 << 20,
    });
  });
  test("a base with bits in the group field is rejected", () => {
    expect(() => new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 3, groupBits: 2, groupShift: 26 })).toThrow(/has bits in the group field/);
  });
  test.each([
    [{ mBase: 0x2400_1000, sBase: 0x2800_0000, hartBits: 2 }, /mBase \(A\) 0x24001000 is not aligned/],
    [{ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 2, geilen: 3, sHartShift: 13 }, /sHartShift \(D\) 13/],
    [{ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 2, geilen: 64 }, /geilen 64/],
    [{ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 16 }, /hartBits \(k\) 16/],
    [{ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 13, groupBits: 1, groupShift: 24 }, /groupShift \(E\) 24 is below/],
  ])("%# a bad layout throws a ConfigError naming the field", (cfg, msg) => {
    expect(() => new ImsicLayout(cfg)).toThrow(ConfigError);
    expect(() => new ImsicLayout(cfg)).toThrow(msg);
  });
  test("overlapping M and S ranges throw a RegionOverlapError", () => {
    expect(() => new ImsicLayout({ mBase: 0x2800_0000, sBase: 0x2800_0000, hartBits: 2 })).toThrow(RegionOverlapError);
  });
});

describe("guest files made at first use", () => {
  test("a hart makes no guest file up front; the first use of one makes that one only", () => {
    const tracer = new Tracer(undefined, { enabled: true });
    const h = new ImsicHart({ hartIndex: 7, mIds: 63, sIds: 63, geilen: 63, tracer });
    // One track per file that exists (an ImsicFile registers its own when the tracer records): M and S only.
    expect(tracer.tracks().map((t) => t.name)).toEqual(["imsic7/m", "imsic7/s"]);
    const f = h.guestFile(5);
    expect(h.guestFile(5)).toBe(f);
    expect(h.vsFile(5)).toBe(f);
    expect(tracer.tracks().map((t) => t.name)).toEqual(["imsic7/m", "imsic7/s", "imsic7/g5"]);
    expect(h.guestFiles()).toHaveLength(63);
    expect(h.guestFiles()[4]).toBe(f);
    expect(tracer.tracks()).toHaveLength(2 + 63);
  });

  test("a file made late is in its reset state, and its line reaches hgeip as an early one's does", () => {
    const h = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 63 });
    expect([h.hgeipLo, h.hgeipHi]).toEqual([0, 0]);
    const f = h.vsFile(40)!;
    expect(f.readTopei()).toBe(0);
    expect(f.isPending(1) || f.isEnabled(1)).toBe(false);
    armed(h, 40, 9);
    f.setPending(9);
    expect(h.hgeip(40)).toBe(true);
    expect([h.hgeipLo, h.hgeipHi]).toEqual([0, 1 << 8]);
  });

  test("a bad guest identity count still throws when the hart is made, and a bad index before any file is made", () => {
    expect(() => new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, guestIds: 100, geilen: 2 })).toThrow(/nrIds 100/);
    expect(new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, guestIds: 100, geilen: 0 }).geilen).toBe(0);
    const tracer = new Tracer(undefined, { enabled: true });
    const h = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 4, tracer });
    expect(() => h.guestFile(0)).toThrow(/guest file 0 is not within 1..4/);
    expect(() => h.guestFile(5)).toThrow(ConfigError);
    expect(() => h.guestFile(1.5)).toThrow(ConfigError);
    expect(h.vsFile(0)).toBeUndefined();
    expect(h.vsFile(2.5)).toBeUndefined();
    expect(tracer.tracks()).toHaveLength(2);
  });

  test("a snapshot of a hart whose files were never used restores onto one whose files were", () => {
    const fresh = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 8 });
    const used = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 8 });
    armed(used, 3, 4);
    used.guestFile(3).setPending(4);
    expect(used.hgeip(3)).toBe(true);
    const s = fresh.state();
    expect(s.guests).toHaveLength(8);
    used.restore(s);
    expect(used.hgeip(3)).toBe(false);
    expect(used.state()).toEqual(s);
  });
});
