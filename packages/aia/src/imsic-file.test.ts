import { ConfigError, Tracer } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  EIDELIVERY_APLIC,
  IREG_EXIT_TO_USER,
  IREG_ILLEGAL,
  IREG_OK,
  ISELECT_EIDELIVERY,
  ISELECT_EIE0,
  ISELECT_EIP0,
  ISELECT_EITHRESHOLD,
  swab32,
} from "./imsic-constants.js";
import { ImsicFile } from "./imsic-file.js";
import type { IregValue } from "./imsic-access.js";
import { LINUX_KVM_PROFILE, QEMU_PROFILE } from "./profiles.js";

const out: IregValue = { lo: 0, hi: 0 };
const wide = { hi: 0 };

function on(file: ImsicFile, ...ids: number[]): void {
  for (const id of ids) file.setEnabled(id, true);
}

describe("construction (IMSIC.adoc §3.1: N = 64k − 1, 63 ≤ N ≤ 2047)", () => {
  test.each([63, 127, 255, 2047])("N = %i is accepted", (n) => {
    expect(new ImsicFile({ nrIds: n }).nrIds).toBe(n);
  });
  test.each([0, 62, 64, 100, 2048, 4095, 63.5])("N = %s throws a ConfigError naming it", (n) => {
    expect(() => new ImsicFile({ nrIds: n })).toThrow(ConfigError);
    expect(() => new ImsicFile({ nrIds: n })).toThrow(String(n));
  });
});

describe("MMIO page (IMSIC.adoc §3.2)", () => {
  test("seteipnum_le sets the pending bit of an implemented identity", () => {
    const f = new ImsicFile({ nrIds: 63 });
    f.write(0x000, 4, 5, 0);
    expect(f.isPending(5)).toBe(true);
  });
  test("identity 0 and identities above N are ignored and counted", () => {
    const t = new Tracer();
    const f = new ImsicFile({ nrIds: 63, tracer: t });
    f.write(0x000, 4, 0, 0);
    f.write(0x000, 4, 64, 0);
    expect(f.isPending(0)).toBe(false);
    expect(f.state().eip.every((w) => w === 0)).toBe(true);
    expect(t.guestErrors).toBe(2);
    expect(t.counters.get("guest-error:imsic-identity")).toBe(2);
  });
  test("seteipnum_be takes a big-endian identity (strict, linux-kvm)", () => {
    for (const profile of [undefined, LINUX_KVM_PROFILE]) {
      const f = new ImsicFile({ nrIds: 255, ...(profile ? { profile } : {}) });
      f.write(0x004, 4, swab32(200), 0);
      expect(f.isPending(200)).toBe(true);
    }
  });
  test("qemu profile: seteipnum_be writes are ignored without a guest error", () => {
    const t = new Tracer();
    const f = new ImsicFile({ nrIds: 255, profile: QEMU_PROFILE, tracer: t });
    f.write(0x004, 4, swab32(200), 0);
    expect(f.isPending(200)).toBe(false);
    expect(t.guestErrors).toBe(0);
  });
  test("every read returns zero, including the two write ports", () => {
    const f = new ImsicFile({ nrIds: 63 });
    f.write(0, 4, 3, 0);
    for (const off of [0x000, 0x004, 0x008, 0xffc]) expect(f.read(off, 4, wide)).toBe(0);
  });
  test("non-32-bit or misaligned accesses are ignored and counted, never thrown", () => {
    const t = new Tracer();
    const f = new ImsicFile({ nrIds: 63, tracer: t });
    f.write(0x000, 2, 5, 0);
    f.write(0x001, 4, 5, 0);
    f.write(0x000, 8, 5, 0);
    expect(f.read(0x002, 4, wide)).toBe(0);
    expect(f.isPending(5)).toBe(false);
    expect(t.counters.get("guest-error:imsic-mmio-access")).toBe(4);
  });
  test("a file registers its trace track when made if the tracer records, else at its first guest error", () => {
    const recording = new Tracer(undefined, { enabled: true });
    new ImsicFile({ nrIds: 63, name: "early", tracer: recording });
    expect(recording.tracks().map((tr) => tr.name)).toEqual(["early"]);
    const t = new Tracer();
    const f = new ImsicFile({ nrIds: 63, name: "late", tracer: t });
    expect(t.tracks()).toEqual([]);
    f.write(0x000, 2, 5, 0);
    f.write(0x000, 2, 5, 0);
    expect(t.tracks().map((tr) => tr.name)).toEqual(["late"]);
    expect(t.counters.get("guest-error:imsic-mmio-access")).toBe(2);
  });
  test("files take their words from shared buffers, each file its own words", () => {
    // 700 files of 24 words: more than one 64 KiB buffer's worth. File i enables word i mod 8 and makes one identity in it pending.
    const idOf = (i: number): number => (i & 7) * 32 + 1 + (i % 31);
    const files = Array.from({ length: 700 }, () => new ImsicFile({ nrIds: 255 }));
    for (const [i, f] of files.entries()) {
      f.writeEix(true, i & 7, 0xffff_ffff);
      f.setPending(idOf(i));
    }
    for (const [i, f] of files.entries()) {
      expect(f.readTopei() >>> 16).toBe(idOf(i));
      for (let w = 0; w < 8; w++) {
        expect(f.readEix(true, w)).toBe(w === (i & 7) ? (w === 0 ? 0xffff_fffe : 0xffff_ffff) : 0);
        expect(f.readEix(false, w)).toBe(w === idOf(i) >>> 5 ? (1 << (idOf(i) & 31)) >>> 0 : 0);
      }
    }
  });
  test("writes to reserved offsets are ignored", () => {
    const f = new ImsicFile({ nrIds: 63 });
    f.write(0x008, 4, 5, 0);
    expect(f.isPending(5)).toBe(false);
  });
});

describe("indirect registers (IMSIC.adoc §3.8–§3.9)", () => {
  test("eidelivery is WARL 0/1; 0x40000000 only where supported, never in guest files", () => {
    const g = new ImsicFile({ nrIds: 63 });
    g.writeIreg(ISELECT_EIDELIVERY, 32, EIDELIVERY_APLIC, 0);
    g.readIreg(ISELECT_EIDELIVERY, 32, out);
    expect(out.lo).toBe(0);
    g.writeIreg(ISELECT_EIDELIVERY, 32, 3, 0);
    expect(g.eidelivery).toBe(1);
    const m = new ImsicFile({ nrIds: 63, eideliveryAplic: true });
    expect(m.eidelivery).toBe(EIDELIVERY_APLIC); // reset value when supported
    m.writeIreg(ISELECT_EIDELIVERY, 64, 0, 0);
    m.writeIreg(ISELECT_EIDELIVERY, 64, EIDELIVERY_APLIC, 0);
    expect(m.eidelivery).toBe(EIDELIVERY_APLIC);
  });
  test("eithreshold holds 0..N; a value above N is counted as a WLRL violation", () => {
    const t = new Tracer();
    const f = new ImsicFile({ nrIds: 63, tracer: t });
    f.writeIreg(ISELECT_EITHRESHOLD, 32, 40, 0);
    f.readIreg(ISELECT_EITHRESHOLD, 32, out);
    expect(out.lo).toBe(40);
    f.writeIreg(ISELECT_EITHRESHOLD, 32, 100, 0);
    expect(t.counters.get("guest-error:imsic-wlrl")).toBe(1);
  });
  test("RV32: eipK covers identities 32K..32K+31; bit 0 of eip0 is read-only zero", () => {
    const f = new ImsicFile({ nrIds: 127 });
    expect(f.writeIreg(ISELECT_EIP0, 32, 0xffffffff, 0)).toBe(IREG_OK);
    expect(f.isPending(0)).toBe(false);
    expect(f.isPending(31)).toBe(true);
    f.readIreg(ISELECT_EIP0, 32, out);
    expect(out.lo).toBe(0xfffffffe);
    expect(f.writeIreg(ISELECT_EIP0 + 3, 32, 1 << 31, 0)).toBe(IREG_OK);
    expect(f.isPending(127)).toBe(true);
    expect(f.writeIreg(ISELECT_EIE0 + 1, 32, 1, 0)).toBe(IREG_OK);
    expect(f.isEnabled(32)).toBe(true);
  });
  test("RV64: even eipK covers 64 identities as lo/hi halves; odd K is illegal", () => {
    const t = new Tracer();
    const f = new ImsicFile({ nrIds: 127, tracer: t });
    expect(f.writeIreg(ISELECT_EIP0 + 2, 64, 1, 0x80000000)).toBe(IREG_OK);
    expect(f.isPending(64)).toBe(true);
    expect(f.isPending(127)).toBe(true);
    expect(f.readIreg(ISELECT_EIP0 + 2, 64, out)).toBe(IREG_OK);
    expect([out.lo, out.hi]).toEqual([1, 0x80000000]);
    expect(f.readIreg(ISELECT_EIP0 + 1, 64, out)).toBe(IREG_ILLEGAL);
    expect(f.writeIreg(ISELECT_EIE0 + 3, 64, 1, 1)).toBe(IREG_ILLEGAL);
    expect(t.counters.get("guest-error:imsic-ireg")).toBe(2);
  });
  test("numbers beyond N read zero (strict) or are illegal (linux-kvm, qemu)", () => {
    const f = new ImsicFile({ nrIds: 63 });
    expect(f.writeIreg(ISELECT_EIP0 + 4, 32, 0xffffffff, 0)).toBe(IREG_OK);
    expect(f.readIreg(ISELECT_EIP0 + 4, 32, out)).toBe(IREG_OK);
    expect(out.lo).toBe(0);
    for (const profile of [LINUX_KVM_PROFILE, QEMU_PROFILE]) {
      const g = new ImsicFile({ nrIds: 63, profile });
      expect(g.readIreg(ISELECT_EIP0 + 2, 64, out)).toBe(IREG_ILLEGAL);
      expect(g.readIreg(ISELECT_EIP0, 64, out)).toBe(IREG_OK);
    }
  });
  test("reserved numbers 0x71, 0x73–0x7F: read 0 / ignore (strict), exit to user (linux-kvm), illegal (qemu)", () => {
    for (const isel of [0x71, 0x73, 0x7f]) {
      const tracer = new Tracer();
      const f = new ImsicFile({ nrIds: 63, tracer });
      expect(f.writeIreg(isel, 64, 0xffffffff, 0xffffffff)).toBe(IREG_OK);
      expect(f.readIreg(isel, 64, out)).toBe(IREG_OK);
      expect([out.lo, out.hi]).toEqual([0, 0]);
      // RAZ/WI, and each access counted as a guest error (DESIGN.md "Errors"; QEMU
      // hw/intc/riscv_imsic.c riscv_imsic_rmw logs LOG_GUEST_ERROR for them).
      expect(tracer.counters.get("guest-error:imsic-reserved")).toBe(2);
      expect(new ImsicFile({ nrIds: 63, profile: LINUX_KVM_PROFILE }).readIreg(isel, 64, out)).toBe(IREG_EXIT_TO_USER);
      expect(new ImsicFile({ nrIds: 63, profile: QEMU_PROFILE }).readIreg(isel, 64, out)).toBe(IREG_ILLEGAL);
    }
  });
  test("numbers outside 0x70–0xFF are not the file's", () => {
    const f = new ImsicFile({ nrIds: 63 });
    expect(f.readIreg(0x30, 64, out)).toBe(IREG_ILLEGAL);
    expect(f.readIreg(0x100, 64, out)).toBe(IREG_ILLEGAL);
  });
  test("rmwIreg behaves as csrrs/csrrc: returns the old value, changes only masked bits", () => {
    const f = new ImsicFile({ nrIds: 63 });
    f.writeIreg(ISELECT_EIE0, 64, 0b1010, 0);
    expect(f.rmwIreg(ISELECT_EIE0, 64, 0xffffffff, 0, 0b0100, 0, out)).toBe(IREG_OK);
    expect(out.lo).toBe(0b1010);
    f.readIreg(ISELECT_EIE0, 64, out);
    expect(out.lo).toBe(0b1110);
    f.rmwIreg(ISELECT_EIE0, 64, 0, 0, 0b0010, 0, out);
    f.readIreg(ISELECT_EIE0, 64, out);
    expect(out.lo).toBe(0b1100);
  });
});

describe("*topei and delivery (IMSIC.adoc §3.10–§3.11)", () => {
  test("topei reports the lowest pending-and-enabled identity as (id << 16) | id", () => {
    const f = new ImsicFile({ nrIds: 63 });
    f.setPending(9);
    f.setPending(4);
    expect(f.readTopei()).toBe(0);
    on(f, 9);
    expect(f.readTopei()).toBe((9 << 16) | 9);
    on(f, 4);
    expect(f.readTopei()).toBe((4 << 16) | 4);
  });
  test("a nonzero eithreshold P hides identities ≥ P", () => {
    const f = new ImsicFile({ nrIds: 63 });
    on(f, 7);
    f.setPending(7);
    f.writeIreg(ISELECT_EITHRESHOLD, 32, 7, 0);
    expect(f.readTopei()).toBe(0);
    f.writeIreg(ISELECT_EITHRESHOLD, 32, 8, 0);
    expect(f.readTopei()).toBe((7 << 16) | 7);
  });
  test("a topei write claims what is reported at the time of the write, not what was read before", () => {
    const f = new ImsicFile({ nrIds: 63 });
    on(f, 3, 10);
    f.setPending(10);
    const read = f.readTopei();
    expect(read >>> 16).toBe(10);
    f.setPending(3); // arrives between the read and the write
    expect(f.writeTopei()).toBe(3);
    expect(f.isPending(3)).toBe(false);
    expect(f.isPending(10)).toBe(true);
  });
  test("swapTopei is the atomic csrrw read-and-claim", () => {
    const f = new ImsicFile({ nrIds: 63 });
    on(f, 5);
    f.setPending(5);
    expect(f.swapTopei()).toBe((5 << 16) | 5);
    expect(f.isPending(5)).toBe(false);
    expect(f.swapTopei()).toBe(0);
  });
  test("topei is not affected by eidelivery; the delivery line is", () => {
    const levels: boolean[] = [];
    const f = new ImsicFile({ nrIds: 63, onDelivery: (l) => levels.push(l) });
    on(f, 2);
    f.setPending(2);
    expect(f.readTopei()).toBe((2 << 16) | 2);
    expect(f.deliveryAsserted).toBe(false);
    f.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);
    expect(f.deliveryAsserted).toBe(true);
    f.writeTopei();
    expect(levels).toEqual([true, false]);
  });
  test("a target connected with an input number hears that number with each change; connect() replaces it, undefined disconnects", () => {
    const heard: string[] = [];
    const target = { deliveryChanged: (input: number, asserted: boolean) => heard.push(`${input}:${asserted}`) };
    const f = new ImsicFile({ nrIds: 63 });
    on(f, 2);
    f.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);
    f.connectTarget(target, 7);
    f.setPending(2);
    f.writeTopei();
    f.connect((l) => heard.push(`line:${l}`));
    f.setPending(2);
    f.connectTarget(undefined, 0);
    f.writeTopei();
    f.setPending(2);
    expect(heard).toEqual(["7:true", "7:false", "line:true"]);
    // Connecting calls nothing: the output is still asserted, as the file says.
    f.connectTarget(target, 3);
    expect(heard).toHaveLength(3);
    expect(f.deliveryAsserted).toBe(true);
  });
});

/** Reference model straight from the definitions, for the properties. */
function refTop(f: ImsicFile): number {
  const th = f.eithreshold;
  for (let i = 1; i <= f.nrIds; i++) if (f.isPending(i) && f.isEnabled(i) && (th === 0 || i < th)) return i;
  return 0;
}

type Op = [number, number, number, number];
const opArb: fc.Arbitrary<Op> = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: -2, max: 300 }), fc.nat(), fc.nat());

function apply(f: ImsicFile, [kind, a, b, c]: Op): void {
  const xlen = (b & 1) === 0 ? 64 : 32;
  switch (kind) {
    case 0:
      f.write(0, 4, a, 0);
      break;
    case 1:
      f.write((a & 0xfff) >>> 0, ([1, 2, 4, 8] as const)[b & 3]!, c, 0);
      break;
    case 2:
      f.writeIreg(0x70 + (a & 0x8f), xlen, c, b);
      break;
    case 3:
      f.writeIreg(ISELECT_EITHRESHOLD, xlen, a & 0xff, 0);
      break;
    case 4:
      f.writeTopei();
      break;
    case 5:
      f.setEnabled(a, (b & 1) === 1);
      break;
    case 6:
      f.writeIreg(ISELECT_EIDELIVERY, xlen, b & 3, 0);
      break;
    case 7:
      f.readIreg(a, xlen, out);
      break;
    case 8:
      f.clearPending(a);
      break;
    default:
      f.read(a & 0xfff, 4, wide);
  }
}

describe("properties", () => {
  test("topei always equals the lowest pending-and-enabled identity under the threshold", () => {
    fc.assert(
      fc.property(fc.constantFrom(63, 255), fc.array(opArb, { maxLength: 80 }), (n, ops) => {
        const f = new ImsicFile({ nrIds: n });
        for (const op of ops) {
          apply(f, op);
          const t = refTop(f);
          expect(f.readTopei()).toBe(((t << 16) | t) >>> 0);
        }
      }),
    );
  });
  test("the delivery line always matches its definition and every change is reported", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        let line = false;
        const f = new ImsicFile({ nrIds: 255, onDelivery: (l) => (line = l) });
        for (const op of ops) {
          apply(f, op);
          const def = f.eidelivery === 1 && refTop(f) !== 0;
          expect(f.deliveryAsserted).toBe(def);
          expect(line).toBe(def);
        }
      }),
    );
  });
  test("a restored snapshot behaves identically to the original", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), fc.array(opArb, { maxLength: 40 }), (before, after) => {
        const a = new ImsicFile({ nrIds: 255 });
        for (const op of before) apply(a, op);
        const b = ImsicFile.fromState(JSON.parse(JSON.stringify(a.state())) as ReturnType<ImsicFile["state"]>);
        expect(b.deliveryAsserted).toBe(a.deliveryAsserted);
        for (const op of after) {
          apply(a, op);
          apply(b, op);
          expect(b.readTopei()).toBe(a.readTopei());
          expect(b.deliveryAsserted).toBe(a.deliveryAsserted);
        }
        expect(b.state()).toEqual(a.state());
      }),
    );
  });
  test("random register traffic never throws", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer(), fc.integer(), fc.integer(), fc.integer()), { maxLength: 60 }), (ops) => {
        const f = new ImsicFile({ nrIds: 63, profile: QEMU_PROFILE });
        for (const [a, b, c, d] of ops) {
          f.write(a & 0xfff, ([1, 2, 4, 8] as const)[b & 3]!, c >>> 0, d >>> 0);
          f.read(b & 0xfff, ([1, 2, 4, 8] as const)[a & 3]!, wide);
          f.writeIreg(a & 0x1ff, (c & 1) === 0 ? 64 : 32, b, d);
          f.readIreg(c & 0x1ff, 64, out);
          f.swapTopei();
        }
      }),
    );
  });
});

describe("snapshot and the OR-merge of a guest-file move (Linux aia_imsic.c)", () => {
  test("mergeFrom ORs eip/eie, so an MSI that reached the new file first survives; threshold and delivery are overwritten", () => {
    const old = new ImsicFile({ nrIds: 63 });
    on(old, 5, 6);
    old.setPending(5);
    old.writeIreg(ISELECT_EITHRESHOLD, 64, 30, 0);
    old.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);
    const moved = old.readAndClear();
    expect(old.state().eip.every((w) => w === 0)).toBe(true);
    expect(old.eidelivery).toBe(0);
    const fresh = new ImsicFile({ nrIds: 63 });
    fresh.setPending(6); // device MSI after the remap, before the copy
    fresh.writeIreg(ISELECT_EITHRESHOLD, 64, 2, 0);
    fresh.mergeFrom(moved);
    expect([fresh.isPending(5), fresh.isPending(6), fresh.isEnabled(5), fresh.isEnabled(6)]).toEqual([true, true, true, true]);
    expect(fresh.eithreshold).toBe(30);
    expect(fresh.eidelivery).toBe(1);
    expect(fresh.readTopei() >>> 16).toBe(5);
    expect(fresh.deliveryAsserted).toBe(true);
  });
  test("restore or merge of a snapshot of another size throws a ConfigError", () => {
    const s = new ImsicFile({ nrIds: 63 }).state();
    expect(() => new ImsicFile({ nrIds: 127 }).restore(s)).toThrow(ConfigError);
    expect(() => new ImsicFile({ nrIds: 127 }).mergeFrom(s)).toThrow(/nrIds 63/);
  });
});

describe("prefetch", () => {
  test("reads the file and changes nothing: state, delivery line, topei and guest errors stay as they were", () => {
    const tracer = new Tracer();
    const lines: boolean[] = [];
    const f = new ImsicFile({ nrIds: 255, tracer, onDelivery: (on) => lines.push(on) });
    f.writeIreg(ISELECT_EIDELIVERY, 32, 1, 0);
    on(f, 5, 40, 200);
    f.setPending(40);
    f.setPending(201);
    const before = JSON.stringify([f.state(), f.deliveryAsserted, f.readTopei(), tracer.guestErrors, lines]);
    for (let i = 0; i < 3; i++) expect(Number.isInteger(f.prefetch())).toBe(true);
    expect(JSON.stringify([f.state(), f.deliveryAsserted, f.readTopei(), tracer.guestErrors, lines])).toBe(before);
  });
});

describe("profiles", () => {
  test("aiaProfile finds every named profile and rejects others naming the value", async () => {
    const { aiaProfile, aiaProfiles } = await import("./profiles.js");
    for (const p of aiaProfiles()) expect(aiaProfile(p.name)).toBe(p);
    expect(() => aiaProfile("kvm")).toThrow(/unknown AIA profile 'kvm'/);
  });
});
