import { MmioBus, Tracer } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import * as C from "./aplic-constants.js";
import { Aplic } from "./aplic.js";
import type { AplicDomain } from "./aplic-domain.js";
import { ImsicFile } from "./imsic-file.js";
import { LINUX_KVM_PROFILE, type AiaProfile } from "./profiles.js";

const wide = { hi: 0 };
const SRC = (i: number) => C.APLIC_SOURCECFG_BASE + 4 * (i - 1);
const TGT = (i: number) => C.APLIC_TARGET_BASE + 4 * (i - 1);
const IDC = (h: number, reg: number) => C.APLIC_IDC_BASE + 32 * h + reg;
const rd = (d: AplicDomain, off: number) => d.read(off, 4, wide);
const wr = (d: AplicDomain, off: number, v: number) => {
  d.write(off, 4, v, 0);
};

/** A single direct-mode M domain with 2 harts; returns the lines' levels. */
function direct(iprioLen = 3) {
  const lines = [false, false];
  const tracer = new Tracer();
  const aplic = new Aplic({
    nrSources: 40,
    tracer,
    domains: [{ name: "m", level: "m", harts: 2, iprioLen, onIdcLine: (h, on) => (lines[h] = on) }],
  });
  return { aplic, d: aplic.domain("m"), lines, tracer };
}

/** A single MSI-mode M domain whose MSIs land in one IMSIC file at 0x1000_0000 (hart 0). */
function msi(profile?: AiaProfile) {
  const bus = new MmioBus();
  const file = new ImsicFile({ nrIds: 63 });
  bus.map(0x1000_0000, 0x1000, file, "imsic");
  const tracer = new Tracer();
  const aplic = new Aplic({
    nrSources: 40,
    tracer,
    ...(profile ? { profile } : {}),
    domains: [{ name: "m", level: "m", harts: 1, deliveryModes: "msi" }],
    msi: { bus, addrCfg: { mmsiaddrcfg: 0x10000, mmsiaddrcfgh: 2 << 12 /* LHXW = 2 */, smsiaddrcfg: 0, smsiaddrcfgh: 0 } },
  });
  const d = aplic.domain("m");
  wr(d, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_IE | C.APLIC_DOMAINCFG_DM);
  return { aplic, d, file, tracer };
}

describe("domaincfg (AdvPLIC.adoc §4.5.1)", () => {
  test("bits 31:24 read 0x80, IE and DM writable, BE read-only zero here, writable bits reset to 0", () => {
    const bus = new MmioBus();
    const aplic = new Aplic({ nrSources: 4, domains: [{ name: "m", level: "m", harts: 1 }], msi: { bus } });
    const d = aplic.domain("m");
    expect(rd(d, C.APLIC_DOMAINCFG)).toBe(0x80000000);
    wr(d, C.APLIC_DOMAINCFG, 0xffffffff);
    expect(rd(d, C.APLIC_DOMAINCFG)).toBe(0x80000104);
    // The (x << 24) | x trick writes x whatever the byte order.
    wr(d, C.APLIC_DOMAINCFG, 0);
    expect(rd(d, C.APLIC_DOMAINCFG)).toBe(0x80000000);
  });
  test("DM is WARL: a direct-only domain keeps 0, an MSI-only domain keeps 1", () => {
    const { d } = direct();
    wr(d, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_DM);
    expect(rd(d, C.APLIC_DOMAINCFG) & C.APLIC_DOMAINCFG_DM).toBe(0);
    const m = msi().d;
    wr(m, C.APLIC_DOMAINCFG, 0);
    expect(rd(m, C.APLIC_DOMAINCFG) & C.APLIC_DOMAINCFG_DM).toBe(C.APLIC_DOMAINCFG_DM);
  });
});

describe("sourcecfg (§4.5.2)", () => {
  test("SM values 0,1,4–7 are stored; reserved 2/3 become Inactive (strict) or are stored (linux-kvm)", () => {
    const { d } = direct();
    for (const sm of [0, 1, 4, 5, 6, 7]) {
      wr(d, SRC(3), sm);
      expect(rd(d, SRC(3))).toBe(sm);
    }
    wr(d, SRC(3), 2);
    expect(rd(d, SRC(3))).toBe(0);
    const k = msi(LINUX_KVM_PROFILE).d;
    wr(k, SRC(3), 3);
    expect(rd(k, SRC(3))).toBe(3);
  });
  test("a leaf domain written with D = 1 becomes 0", () => {
    const { d } = direct();
    wr(d, SRC(2), C.APLIC_SOURCECFG_D | 0);
    expect(rd(d, SRC(2))).toBe(0);
    wr(d, SRC(2), C.APLIC_SOURCECFG_D | C.APLIC_SM_EDGE_RISE);
    expect(rd(d, SRC(2))).toBe(0);
  });
  test("sources above nrSources read zero and are counted as reserved", () => {
    const { d, tracer } = direct();
    wr(d, SRC(41), 4);
    expect(rd(d, SRC(41))).toBe(0);
    expect(tracer.counters.get("guest-error:aplic-reserved")).toBe(2);
  });
  test("inactive sources: pending, enable and target are read-only zero", () => {
    const { d } = direct();
    wr(d, SRC(5), C.APLIC_SM_DETACHED);
    wr(d, C.APLIC_SETIENUM, 5);
    wr(d, C.APLIC_SETIPNUM, 5);
    wr(d, TGT(5), (1 << 18) | 2);
    expect(rd(d, C.APLIC_SETIP_BASE) >>> 5 & 1).toBe(1);
    wr(d, SRC(5), C.APLIC_SM_INACTIVE);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0);
    expect(rd(d, C.APLIC_SETIE_BASE)).toBe(0);
    expect(rd(d, TGT(5))).toBe(0);
    wr(d, C.APLIC_SETIENUM, 5);
    wr(d, TGT(5), 1 << 18);
    expect(rd(d, C.APLIC_SETIE_BASE)).toBe(0);
    expect(rd(d, TGT(5))).toBe(0);
  });
  test("linux-kvm profile: target and setie work on inactive sources, inactive keeps pending/enable (aia_aplic.c)", () => {
    const { d } = msi(LINUX_KVM_PROFILE);
    wr(d, C.APLIC_DOMAINCFG, 0);
    wr(d, TGT(6), 0x1234);
    wr(d, C.APLIC_SETIENUM, 6);
    expect(rd(d, TGT(6))).toBe(0x234); // M level: guest index read-only zero
    expect(rd(d, C.APLIC_SETIE_BASE)).toBe(1 << 6);
    wr(d, SRC(6), C.APLIC_SM_DETACHED);
    wr(d, C.APLIC_SETIPNUM, 6);
    wr(d, SRC(6), C.APLIC_SM_INACTIVE);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 6);
  });
  test("a sourcecfg write sets pending when the rectified input is high; never clears it unless made inactive", () => {
    const { aplic, d } = direct();
    aplic.setWire(7, 1);
    wr(d, SRC(7), C.APLIC_SM_EDGE_RISE);
    expect(rd(d, C.APLIC_SETIP_BASE) >>> 7 & 1).toBe(1);
    wr(d, SRC(7), C.APLIC_SM_DETACHED);
    expect(rd(d, C.APLIC_SETIP_BASE) >>> 7 & 1).toBe(1);
    wr(d, SRC(7), C.APLIC_SM_INACTIVE);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0);
  });
});

describe("precise effects on pending bits (§4.7), direct mode", () => {
  test("Detached: set only by setip/setipnum; cleared by in_clrip/clripnum and claim; wire ignored", () => {
    const { aplic, d } = direct();
    wr(d, SRC(1), C.APLIC_SM_DETACHED);
    aplic.setWire(1, 1);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0);
    expect(rd(d, C.APLIC_IN_CLRIP_BASE)).toBe(0); // rectified input of Detached is 0
    wr(d, C.APLIC_SETIP_BASE, 1 << 1);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(2);
    wr(d, C.APLIC_IN_CLRIP_BASE, 1 << 1);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0);
    wr(d, C.APLIC_SETIPNUM_LE, 1);
    wr(d, C.APLIC_CLRIPNUM, 1);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0);
  });
  test("Edge1/Edge0: set on the rectified rising edge only", () => {
    const { aplic, d } = direct();
    wr(d, SRC(2), C.APLIC_SM_EDGE_RISE);
    wr(d, SRC(3), C.APLIC_SM_EDGE_FALL);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 3); // Edge0 with the wire low: rectified input high at the write
    wr(d, C.APLIC_CLRIPNUM, 3);
    aplic.setWire(3, 1); // Edge0: rectified goes 1 -> 0
    aplic.setWire(2, 1);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 2);
    aplic.setWire(3, 0);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe((1 << 2) | (1 << 3));
    aplic.setWire(2, 0);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe((1 << 2) | (1 << 3));
    expect(rd(d, C.APLIC_IN_CLRIP_BASE)).toBe(1 << 3); // in_clrip reads rectified inputs
  });
  test("Level, direct: pending equals the rectified input; setip, in_clrip and claim change nothing", () => {
    const { aplic, d } = direct();
    wr(d, SRC(4), C.APLIC_SM_LEVEL_HIGH);
    wr(d, SRC(5), C.APLIC_SM_LEVEL_LOW);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 5); // Level0 with wire low is asserted
    wr(d, C.APLIC_SETIPNUM, 4);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 5);
    wr(d, C.APLIC_CLRIPNUM, 5);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 5);
    aplic.setWire(4, 1);
    aplic.setWire(5, 1);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 4);
    wr(d, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_IE);
    wr(d, C.APLIC_SETIENUM, 4);
    wr(d, IDC(0, C.APLIC_IDC_IDELIVERY), 1);
    expect(rd(d, IDC(0, C.APLIC_IDC_CLAIMI)) >>> 16).toBe(4);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 4); // a claim does not clear a level source
  });
});

describe("precise effects on pending bits (§4.7), MSI mode", () => {
  test("Level: set on the rising edge; setipnum only while the input is high; cleared when low or forwarded", () => {
    const { aplic, d, file } = msi();
    wr(d, SRC(8), C.APLIC_SM_LEVEL_HIGH);
    wr(d, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_DM); // IE = 0: hold MSIs
    wr(d, C.APLIC_SETIPNUM, 8);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0); // input low: ignored (fixed in KVM d8dd9f113e16)
    aplic.setWire(8, 1);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 8);
    wr(d, C.APLIC_CLRIPNUM, 8);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0); // in_clrip/clripnum clear a level source in MSI mode
    wr(d, C.APLIC_SETIPNUM, 8);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 8);
    aplic.setWire(8, 0);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0);
    aplic.setWire(8, 1);
    wr(d, TGT(8), 17);
    wr(d, C.APLIC_SETIENUM, 8);
    wr(d, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_DM | C.APLIC_DOMAINCFG_IE);
    expect(file.isPending(17)).toBe(true);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(0); // forwarded: cleared while the input stays high
  });
  test("an MSI is sent only when pending, enabled and IE; genmsi sends even with IE = 0", () => {
    const { aplic, d, file } = msi();
    wr(d, SRC(2), C.APLIC_SM_EDGE_RISE);
    wr(d, TGT(2), 9);
    aplic.setWire(2, 1);
    expect(file.isPending(9)).toBe(false);
    wr(d, C.APLIC_SETIENUM, 2);
    expect(file.isPending(9)).toBe(true);
    wr(d, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_DM);
    wr(d, C.APLIC_GENMSI, 33);
    expect(file.isPending(33)).toBe(true);
    expect(rd(d, C.APLIC_GENMSI) & C.APLIC_GENMSI_BUSY).toBe(0);
  });
  test("an MSI to an address with no device is a counted guest error", () => {
    const { d, tracer } = msi();
    wr(d, C.APLIC_GENMSI, (5 << 18) | 1); // hart 5: 0x1000_5000 is not mapped... with LHXS 0
    expect(tracer.counters.get("guest-error:aplic-msi-write-failed")).toBe(1);
  });
});

describe("target (§4.5.16)", () => {
  test("direct: hart index 31:18, IPRIO of IPRIOLEN bits, 0 stored as 1", () => {
    const { d } = direct(3);
    wr(d, SRC(1), C.APLIC_SM_DETACHED);
    wr(d, TGT(1), (1 << 18) | 0xff);
    expect(rd(d, TGT(1))).toBe((1 << 18) | 7);
    wr(d, TGT(1), 1 << 18);
    expect(rd(d, TGT(1))).toBe((1 << 18) | 1);
  });
  test("MSI, M level: guest index read-only zero, EIID 11 bits, bit 11 reserved", () => {
    const { d } = msi();
    wr(d, SRC(1), C.APLIC_SM_DETACHED);
    wr(d, TGT(1), 0xffffffff);
    expect(rd(d, TGT(1))).toBe(0xfffc07ff);
  });
});

describe("IDC and direct delivery (§4.8)", () => {
  test("topi picks the lowest priority number, ties to the lowest source; line = IE ∧ idelivery ∧ (iforce ∨ topi)", () => {
    const { aplic, d, lines } = direct(3);
    for (const i of [3, 4, 9]) {
      wr(d, SRC(i), C.APLIC_SM_EDGE_RISE);
      wr(d, C.APLIC_SETIENUM, i);
    }
    wr(d, TGT(3), 5);
    wr(d, TGT(4), 2);
    wr(d, TGT(9), 2);
    aplic.setWire(3, 1);
    aplic.setWire(9, 1);
    aplic.setWire(4, 1);
    expect(rd(d, IDC(0, C.APLIC_IDC_TOPI))).toBe((4 << 16) | 2);
    expect(lines[0]).toBe(false);
    wr(d, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_IE);
    expect(lines[0]).toBe(false);
    wr(d, IDC(0, C.APLIC_IDC_IDELIVERY), 1);
    expect(lines[0]).toBe(true);
    wr(d, IDC(0, C.APLIC_IDC_ITHRESHOLD), 2);
    expect(rd(d, IDC(0, C.APLIC_IDC_TOPI))).toBe(0);
    expect(lines[0]).toBe(false);
    wr(d, IDC(0, C.APLIC_IDC_ITHRESHOLD), 0);
    expect(rd(d, IDC(0, C.APLIC_IDC_CLAIMI))).toBe((4 << 16) | 2);
    expect(rd(d, IDC(0, C.APLIC_IDC_CLAIMI))).toBe((9 << 16) | 2);
    expect(rd(d, IDC(0, C.APLIC_IDC_CLAIMI))).toBe((3 << 16) | 5);
    expect(lines[0]).toBe(false);
  });
  test("iforce makes a spurious interrupt; a claimi read of 0 clears iforce; writes to topi/claimi are ignored", () => {
    const { d, lines, tracer } = direct();
    wr(d, C.APLIC_DOMAINCFG, C.APLIC_DOMAINCFG_IE);
    wr(d, IDC(1, C.APLIC_IDC_IDELIVERY), 1);
    wr(d, IDC(1, C.APLIC_IDC_IFORCE), 1);
    expect(lines[1]).toBe(true);
    expect(rd(d, IDC(1, C.APLIC_IDC_CLAIMI))).toBe(0);
    expect(rd(d, IDC(1, C.APLIC_IDC_IFORCE))).toBe(0);
    expect(lines[1]).toBe(false);
    wr(d, IDC(1, C.APLIC_IDC_TOPI), 1);
    wr(d, IDC(1, C.APLIC_IDC_CLAIMI), 1);
    expect(tracer.counters.get("guest-error:aplic-reserved")).toBe(2);
  });
  test("IDC registers are absent in MSI mode", () => {
    const { d, tracer } = msi();
    expect(rd(d, IDC(0, C.APLIC_IDC_IDELIVERY))).toBe(0);
    expect(tracer.counters.get("guest-error:aplic-reserved")).toBe(1);
  });
});

describe("control region accesses (§4.5)", () => {
  test("only naturally aligned 32-bit accesses; others are ignored and counted", () => {
    const { d, tracer } = direct();
    d.write(C.APLIC_DOMAINCFG, 2, C.APLIC_DOMAINCFG_IE, 0);
    d.write(C.APLIC_DOMAINCFG + 1, 4, C.APLIC_DOMAINCFG_IE, 0);
    expect(d.read(C.APLIC_DOMAINCFG, 8, wide)).toBe(0);
    expect(rd(d, C.APLIC_DOMAINCFG)).toBe(0x80000000);
    expect(tracer.counters.get("guest-error:aplic-mmio-access")).toBe(3);
  });
  test("the *num registers and clrie read zero; setipnum_be takes a byte-swapped number", () => {
    const { d } = direct();
    wr(d, SRC(3), C.APLIC_SM_DETACHED);
    wr(d, C.APLIC_SETIPNUM_BE, 0x03000000);
    expect(rd(d, C.APLIC_SETIP_BASE)).toBe(1 << 3);
    for (const off of [C.APLIC_SETIPNUM, C.APLIC_CLRIPNUM, C.APLIC_SETIENUM, C.APLIC_CLRIENUM, C.APLIC_CLRIE_BASE, C.APLIC_SETIPNUM_LE]) {
      expect(rd(d, off)).toBe(0);
    }
    wr(d, C.APLIC_SETIENUM, 3);
    wr(d, C.APLIC_CLRIE_BASE, 1 << 3);
    expect(rd(d, C.APLIC_SETIE_BASE)).toBe(0);
  });
});
