import { ConfigError, MmioBus, RegionOverlapError, Tracer } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import * as C from "./aplic-constants.js";
import { Aplic, type AplicState } from "./aplic.js";
import type { AplicDomain } from "./aplic-domain.js";
import { ImsicHart } from "./imsic-hart.js";
import { ImsicLayout } from "./imsic-layout.js";
import { ISELECT_EIDELIVERY, ISELECT_EIE0 } from "./imsic-constants.js";
import { LINUX_KVM_PROFILE, QEMU_PROFILE, type AiaProfile } from "./profiles.js";

const wide = { hi: 0 };
const SRC = (i: number) => C.APLIC_SOURCECFG_BASE + 4 * (i - 1);
const TGT = (i: number) => C.APLIC_TARGET_BASE + 4 * (i - 1);
const rd = (d: AplicDomain, off: number) => d.read(off, 4, wide);
const wr = (d: AplicDomain, off: number, v: number) => {
  d.write(off, 4, v, 0);
};

/** Two harts with GEILEN 3, IMSICs mapped per `layout`, an M and an S domain in MSI mode. */
function machine(lock = false, profile?: AiaProfile) {
  const bus = new MmioBus();
  const layout = new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 1, geilen: 3 });
  const harts = [0, 1].map((h) => new ImsicHart({ hartIndex: h, mIds: 63, sIds: 63, geilen: 3 }));
  harts.forEach((h, i) => {
    h.mapInto(bus, layout, 0, i);
    for (const f of [h.m, h.s!, ...h.guestFiles()]) {
      f.writeIreg(ISELECT_EIE0, 64, 0xfffffffe, 0xffffffff);
      f.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);
    }
  });
  const cfg = layout.toMsiAddrCfg();
  const aplic = new Aplic({
    nrSources: 64,
    ...(profile ? { profile } : {}),
    domains: [
      { name: "m", level: "m", harts: 2 },
      { name: "s", level: "s", parent: "m", harts: 2, geilen: 3 },
    ],
    msi: { bus, addrCfg: lock ? { ...cfg, mmsiaddrcfgh: cfg.mmsiaddrcfgh | C.APLIC_xMSICFGADDRH_L } : cfg },
  });
  const m = aplic.domain("m");
  const s = aplic.domain("s");
  wr(m, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_IE | C.APLIC_DOMAINCFG_DM);
  wr(s, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_IE | C.APLIC_DOMAINCFG_DM);
  return { bus, layout, harts, aplic, m, s };
}

describe("domain tree and delegation (AdvPLIC.adoc §4.3, §4.5.2)", () => {
  test("a delegated source is inactive in the parent and reads zero in the child until written", () => {
    const { aplic, m, s } = machine();
    wr(m, SRC(10), C.APLIC_SM_EDGE_RISE);
    expect(rd(s, SRC(10))).toBe(0);
    wr(s, SRC(10), C.APLIC_SM_EDGE_RISE);
    expect(rd(s, SRC(10))).toBe(0); // not delegated: read-only zero
    wr(m, SRC(10), C.APLIC_SOURCECFG_D | 0);
    expect(rd(m, SRC(10))).toBe(C.APLIC_SOURCECFG_D);
    expect(rd(s, SRC(10))).toBe(0);
    expect(aplic.ownerOf(10)).toBe(s);
    wr(s, SRC(10), C.APLIC_SM_LEVEL_HIGH);
    expect(rd(s, SRC(10))).toBe(C.APLIC_SM_LEVEL_HIGH);
    wr(m, SRC(10), C.APLIC_SM_DETACHED); // take it back
    expect(rd(s, SRC(10))).toBe(0);
    expect(aplic.ownerOf(10)).toBe(m);
    wr(m, SRC(10), C.APLIC_SOURCECFG_D | 0);
    expect(rd(s, SRC(10))).toBe(0); // re-delegated: zero again until written
  });
  test("a child index beyond the children is a counted WLRL violation and leaves the register alone", () => {
    const tracer = new Tracer();
    const a = new Aplic({ nrSources: 4, tracer, domains: [{ name: "m", level: "m", harts: 1 }, { name: "s", level: "s", parent: "m", harts: 1 }] });
    wr(a.root, SRC(1), C.APLIC_SM_DETACHED);
    wr(a.root, SRC(1), C.APLIC_SOURCECFG_D | 1);
    expect(rd(a.root, SRC(1))).toBe(C.APLIC_SM_DETACHED);
    expect(tracer.counters.get("guest-error:aplic-wlrl")).toBe(1);
  });
  test("the wire goes to the owning domain: an edge in the S domain becomes an MSI to a guest file", () => {
    const { aplic, harts, m, s } = machine();
    wr(m, SRC(3), C.APLIC_SOURCECFG_D | 0);
    wr(s, SRC(3), C.APLIC_SM_EDGE_RISE);
    wr(s, TGT(3), (1 << 18) | (2 << 12) | 40); // hart 1, guest 2, EIID 40
    wr(s, C.APLIC_SETIENUM, 3);
    aplic.setWire(3, 1);
    expect(harts[1]!.guestFile(2).isPending(40)).toBe(true);
    expect(harts[1]!.hgeip(2)).toBe(true);
    expect(harts[1]!.s!.isPending(40)).toBe(false);
  });
  test("an M-level MSI lands in the target hart's M file", () => {
    const { aplic, harts, m } = machine();
    wr(m, SRC(4), C.APLIC_SM_EDGE_FALL);
    wr(m, C.APLIC_CLRIPNUM, 4);
    wr(m, TGT(4), (1 << 18) | (3 << 12) | 7);
    wr(m, C.APLIC_SETIENUM, 4);
    aplic.setWire(4, 1);
    aplic.setWire(4, 0);
    expect(harts[1]!.m.isPending(7)).toBe(true);
  });
});

describe("MSI address configuration (§4.5.3–§4.5.4, §4.9.1)", () => {
  test("the address formula matches the IMSIC layout for every hart and guest", () => {
    const { aplic, layout } = machine();
    for (const h of [0, 1]) {
      expect(aplic.msi!.address("m", h, 0)).toBe(layout.mFileAddress(0, h));
      for (const g of [0, 1, 2, 3]) expect(aplic.msi!.address("s", h, g)).toBe(layout.sFileAddress(0, h, g));
    }
  });
  test("the root domain's registers are writable until L is set; L locks all four", () => {
    const { m } = machine();
    wr(m, C.APLIC_SMSIADDRCFG, 0x12345);
    expect(rd(m, C.APLIC_SMSIADDRCFG)).toBe(0x12345);
    wr(m, C.APLIC_MMSIADDRCFGH, C.APLIC_xMSICFGADDRH_L | 0x5);
    expect(rd(m, C.APLIC_MMSIADDRCFGH)).toBe((C.APLIC_xMSICFGADDRH_L | 0x5) >>> 0);
    wr(m, C.APLIC_SMSIADDRCFG, 0);
    wr(m, C.APLIC_MMSIADDRCFGH, 0);
    expect(rd(m, C.APLIC_SMSIADDRCFG)).toBe(0x12345);
    expect(rd(m, C.APLIC_MMSIADDRCFGH)).toBe((C.APLIC_xMSICFGADDRH_L | 0x5) >>> 0);
  });
  test("a platform-locked configuration still routes MSIs", () => {
    const { aplic, harts, m } = machine(true);
    wr(m, C.APLIC_MMSIADDRCFG, 0);
    wr(m, SRC(1), C.APLIC_SM_DETACHED);
    wr(m, TGT(1), 5);
    wr(m, C.APLIC_SETIENUM, 1);
    wr(m, C.APLIC_SETIPNUM, 1);
    expect(harts[0]!.m.isPending(5)).toBe(true);
    expect(aplic.msi!.locked).toBe(true);
  });
  test("an S-level domain has no msiaddrcfg registers (reserved, read zero)", () => {
    const { s } = machine();
    expect(rd(s, C.APLIC_MMSIADDRCFG)).toBe(0);
    expect(rd(s, C.APLIC_SMSIADDRCFGH)).toBe(0);
  });
  test("linux-kvm profile: the registers are absent, routing uses the host-given configuration", () => {
    const bus = new MmioBus();
    const hart = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63 });
    const layout = new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 0 });
    hart.mapInto(bus, layout, 0, 0);
    const a = new Aplic({
      nrSources: 8,
      profile: LINUX_KVM_PROFILE,
      domains: [{ name: "m", level: "m", harts: 1, deliveryModes: "msi" }],
      msi: { bus, addrCfg: layout.toMsiAddrCfg() },
    });
    expect(rd(a.root, C.APLIC_MMSIADDRCFG)).toBe(0);
    wr(a.root, C.APLIC_MMSIADDRCFG, 0);
    wr(a.root, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_IE);
    wr(a.root, C.APLIC_GENMSI, 9);
    expect(hart.m.isPending(9)).toBe(true);
  });
});

describe("construction errors", () => {
  test.each([
    [{ nrSources: 0, domains: [{ name: "m", level: "m" as const, harts: 1 }] }, /nrSources 0/],
    [{ nrSources: 1024, domains: [{ name: "m", level: "m" as const, harts: 1 }] }, /nrSources 1024/],
    [{ nrSources: 8, domains: [{ name: "s", level: "s" as const, harts: 1 }] }, /machine level/],
    [{ nrSources: 8, domains: [{ name: "m", level: "m" as const, harts: 0 }] }, /harts 0/],
    [{ nrSources: 8, domains: [{ name: "m", level: "m" as const, harts: 1, iprioLen: 9 }] }, /iprioLen 9/],
    [{ nrSources: 8, domains: [{ name: "m", level: "m" as const, harts: 1, deliveryModes: "msi" as const }] }, /needs an MSI bus/],
    [{ nrSources: 8, domains: [{ name: "m", level: "m" as const, harts: 1 }, { name: "x", level: "s" as const, parent: "nope", harts: 1 }] }, /unknown parent 'nope'/],
    [
      {
        nrSources: 8,
        domains: [
          { name: "m", level: "m" as const, harts: 1 },
          { name: "s", level: "s" as const, parent: "m", harts: 1 },
          { name: "t", level: "s" as const, parent: "s", harts: 1 },
        ],
      },
      /only a machine-level domain may have children/,
    ],
  ])("%# throws a ConfigError naming the bad value", (cfg, msg) => {
    expect(() => new Aplic(cfg)).toThrow(ConfigError);
    expect(() => new Aplic(cfg)).toThrow(msg);
  });
  test("overlapping regions on the bus throw a RegionOverlapError", () => {
    const bus = new MmioBus();
    const a = new Aplic({ nrSources: 8, domains: [{ name: "m", level: "m", harts: 1 }, { name: "s", level: "s", parent: "m", harts: 1 }] });
    a.mapDomain(bus, "m", 0x0c00_0000);
    expect(() => {
      a.mapDomain(bus, "s", 0x0c00_4000);
    }).toThrow(RegionOverlapError);
  });
  test("a wire outside 1..nrSources is host misuse", () => {
    const a = new Aplic({ nrSources: 8, domains: [{ name: "m", level: "m", harts: 1 }] });
    expect(() => {
      a.setWire(9, 1);
    }).toThrow(/wire 9/);
  });
});

type Op = [number, number, number];
const opArb = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.nat({ max: 0x4100 }), fc.integer());

function drive(a: Aplic, doms: AplicDomain[], [k, x, v]: Op): void {
  const d = doms[x % doms.length]!;
  const src = (x % a.nrSources) + 1;
  switch (k) {
    case 0:
      a.setWire(src, v & 1);
      break;
    case 1:
      d.write(SRC(src), 4, [0, 1, 4, 5, 6, 7, 0x400][v & 7] ?? 2, 0);
      break;
    case 2:
      d.write(x & ~3 & 0x7fff, 4, v >>> 0, 0);
      break;
    case 3:
      d.read(x & ~3 & 0x7fff, 4, wide);
      break;
    case 4:
      d.write(x, ([1, 2, 4, 8] as const)[v & 3]!, v >>> 0, 0);
      break;
    default:
      d.write([C.APLIC_SETIPNUM, C.APLIC_CLRIPNUM, C.APLIC_SETIENUM, C.APLIC_DOMAINCFG][v & 3]!, 4, v & 0x1ff ? src : v >>> 0, 0);
  }
}

describe("properties", () => {
  test("random register and wire traffic never throws, in every profile", () => {
    for (const profile of [undefined, LINUX_KVM_PROFILE, QEMU_PROFILE]) {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
          const { aplic, m, s } = machine(false, profile);
          for (const op of ops) drive(aplic, [m, s], op);
        }),
        { numRuns: 60 },
      );
    }
  });
  test("direct mode: a level source's pending bit always equals its rectified input", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const a = new Aplic({ nrSources: 16, domains: [{ name: "m", level: "m", harts: 2 }] });
        for (const op of ops) {
          drive(a, [a.root], op);
          for (let i = 1; i <= 16; i++) {
            const sm = a.root.sources.mode(i);
            if (C.isLevelMode(sm)) expect(a.root.sources.pending.get(i)).toBe(a.root.sources.rectified(i) === 1);
          }
        }
      }),
    );
  });
  test("MSI mode with IE = 1: no active source is ever left pending and enabled (it was forwarded)", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const { aplic, m, s } = machine();
        for (const op of ops) {
          drive(aplic, [m, s], op);
          for (const d of [m, s]) {
            if (!d.interruptEnable || !d.msiMode) continue;
            for (let i = 1; i <= 64; i++) {
              if (d.sources.active(i)) expect(d.sources.pending.get(i) && d.sources.enabled.get(i)).toBe(false);
            }
          }
        }
      }),
    );
  });
  test("snapshot round trip: a restored APLIC behaves identically", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.array(opArb, { maxLength: 40 }), (before, after) => {
        const a = new Aplic({ nrSources: 16, domains: [{ name: "m", level: "m", harts: 2 }, { name: "s", level: "s", parent: "m", harts: 2 }] });
        for (const op of before) drive(a, a.domains() as AplicDomain[], op);
        const b = new Aplic({ nrSources: 16, domains: [{ name: "m", level: "m", harts: 2 }, { name: "s", level: "s", parent: "m", harts: 2 }] });
        b.restore(JSON.parse(JSON.stringify(a.state())) as AplicState);
        expect(b.state()).toEqual(a.state());
        for (const op of after) {
          drive(a, a.domains() as AplicDomain[], op);
          drive(b, b.domains() as AplicDomain[], op);
        }
        expect(b.state()).toEqual(a.state());
        for (const name of ["m", "s"]) {
          for (const h of [0, 1]) expect(b.domain(name).idcs!.lineAsserted(h)).toBe(a.domain(name).idcs!.lineAsserted(h));
        }
      }),
    );
  });
});

describe("register map of a fresh domain (AdvPLIC.adoc §4.5 Table 4.2, §4.8.1)", () => {
  test.each([
    ["domaincfg", C.APLIC_DOMAINCFG, 0x80000000],
    ["sourcecfg[1]", SRC(1), 0],
    ["sourcecfg[64]", SRC(64), 0],
    ["mmsiaddrcfg (root, from the layout)", C.APLIC_MMSIADDRCFG, 0x24000],
    ["mmsiaddrcfgh", C.APLIC_MMSIADDRCFGH, 1 << 12],
    ["smsiaddrcfg", C.APLIC_SMSIADDRCFG, 0x28000],
    ["smsiaddrcfgh", C.APLIC_SMSIADDRCFGH, 2 << 20],
    ["setip[0]", C.APLIC_SETIP_BASE, 0],
    ["setipnum", C.APLIC_SETIPNUM, 0],
    ["in_clrip[1]", C.APLIC_IN_CLRIP_BASE + 4, 0],
    ["clripnum", C.APLIC_CLRIPNUM, 0],
    ["setie[1]", C.APLIC_SETIE_BASE + 4, 0],
    ["setienum", C.APLIC_SETIENUM, 0],
    ["clrie[0]", C.APLIC_CLRIE_BASE, 0],
    ["clrienum", C.APLIC_CLRIENUM, 0],
    ["setipnum_le", C.APLIC_SETIPNUM_LE, 0],
    ["setipnum_be", C.APLIC_SETIPNUM_BE, 0],
    ["genmsi (direct mode: read-only zero)", C.APLIC_GENMSI, 0],
    ["target[1] (inactive)", TGT(1), 0],
    ["idc[0].idelivery", C.APLIC_IDC_BASE + C.APLIC_IDC_IDELIVERY, 0],
    ["idc[1].ithreshold", C.APLIC_IDC_BASE + 32 + C.APLIC_IDC_ITHRESHOLD, 0],
    ["idc[1].topi", C.APLIC_IDC_BASE + 32 + C.APLIC_IDC_TOPI, 0],
  ])("%s at 0x%s reads %s", (_name, off, value) => {
    const bus = new MmioBus();
    const layout = new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 1, geilen: 3 });
    const a = new Aplic({
      nrSources: 64,
      domains: [{ name: "m", level: "m", harts: 2 }, { name: "s", level: "s", parent: "m", harts: 2 }],
      msi: { bus, addrCfg: layout.toMsiAddrCfg() },
    });
    expect(rd(a.root, off)).toBe(value);
  });
  test("genmsi in an S-level domain sends to the hart's S-level file (guest index 0)", () => {
    const { harts, s } = machine();
    wr(s, C.APLIC_GENMSI, (1 << 18) | 21);
    expect(harts[1]!.s!.isPending(21)).toBe(true);
    expect(rd(s, C.APLIC_GENMSI)).toBe((1 << 18) | 21);
  });
});
