import { ConfigError, GuestMemory } from "@irqlab/sim";
import { describe, expect, it } from "vitest";
import { VpeTable } from "../v4/vpe.js";
import { Its } from "./its.js";
import * as C from "./its-constants.js";
import { CMDQ_BASE, DT_BASE, FakeLpiTarget, ItsHarness } from "./its-test-kit.js";

const W = { hi: 0 };

describe("ITS identification registers", () => {
  it("GITS_TYPER under linux-kvm is 0x1EF71 (vgic-its.c: Physical, ITT 8 B, IDbits 16, Devbits 16, CIL 0)", () => {
    const h = new ItsHarness({ profile: "linux-kvm", enable: false });
    expect(h.read64(C.GITS_TYPER)).toEqual([0x1ef71, 0]);
    expect(h.its.read(C.GITS_IIDR, 4, W)).toBe(0x4b00_043b);
    expect(h.its.read(C.GITS_PIDR2, 4, W)).toBe(0x3b);
  });

  it("GITS_TYPER under qemu: ITT entries of 12 bytes, CIL with 16-bit ICIDs", () => {
    const h = new ItsHarness({ profile: "qemu", enable: false });
    expect(h.read64(C.GITS_TYPER)).toEqual([1 | (11 << 4) | (15 << 8) | (15 << 13), 0x1f]);
  });

  it("a vPE table makes it a GICv4.1 ITS: Virtual, VMOVP, VMAPP, ArchRev 4, a vPE BASER2", () => {
    const h = new ItsHarness({ profile: "qemu", enable: false, vpes: new VpeTable() });
    const [lo, hi] = h.read64(C.GITS_TYPER);
    expect(lo & C.GITS_TYPER_VLPIS).toBe(C.GITS_TYPER_VLPIS);
    expect(hi).toBe(0x1f | C.GITS_TYPER_HI_VMOVP | C.GITS_TYPER_HI_VMAPP); // bits 37 and 40: Linux is_v4_1()
    expect(h.its.read(C.GITS_PIDR2, 4, W)).toBe(0x4b);
    expect((h.read64(C.GITS_BASER + 16)[1] >>> 24) & 7).toBe(C.GITS_BASER_TYPE_VCPU);
  });

  it("CIDR0..3 read 0x0D, 0xF0, 0x05, 0xB1", () => {
    const h = new ItsHarness({ profile: "linux-kvm", enable: false });
    expect([0, 4, 8, 12].map((o) => h.its.read(C.GITS_CIDR0 + o, 4, W))).toEqual([0x0d, 0xf0, 0x05, 0xb1]);
  });
});

describe("GITS_BASER<n>", () => {
  it("resets to Device / Collection tables with 8-byte entries and 64 KiB pages", () => {
    const h = new ItsHarness({ profile: "linux-kvm", enable: false });
    const [lo0, hi0] = h.read64(C.GITS_BASER);
    expect((hi0 >>> 24) & 7).toBe(C.GITS_BASER_TYPE_DEVICE);
    expect(((hi0 >>> 16) & 0x1f) + 1).toBe(8);
    expect((lo0 >>> 8) & 3).toBe(2);
    expect((h.read64(C.GITS_BASER + 8)[1] >>> 24) & 7).toBe(C.GITS_BASER_TYPE_COLLECTION);
    expect(h.read64(C.GITS_BASER + 24)).toEqual([0, 0]);
  });

  it("keeps Type and Entry_Size read-only; BASER3 is RAZ/WI", () => {
    const h = new ItsHarness({ profile: "qemu", enable: false });
    h.write64(C.GITS_BASER, 0x100, 0x0700_0000 | 0x001f_0000);
    const hi = h.read64(C.GITS_BASER)[1];
    expect((hi >>> 24) & 7).toBe(C.GITS_BASER_TYPE_DEVICE);
    expect((hi >>> 16) & 0x1f).toBe(7);
    expect(h.read64(C.GITS_BASER)[0]).toBe(0x100); // QEMU keeps a 16 KiB page size
    h.write64(C.GITS_BASER + 24, 0xffff_ffff, 0xffff_ffff);
    expect(h.read64(C.GITS_BASER + 24)).toEqual([0, 0]);
  });

  it("KVM forces 64 KiB pages, a flat collection table and sanitised attributes", () => {
    const h = new ItsHarness({ profile: "linux-kvm", enable: false });
    // Page_Size 4K, Outer Shareable, inner nC, outer RaWb, Indirect.
    h.write64(C.GITS_BASER + 8, (2 << 10) | (0 << 8), (1 << 27) | (3 << 21) | C.GITS_BASER_HI_INDIRECT);
    const [lo, hi] = h.read64(C.GITS_BASER + 8);
    expect((lo >>> 8) & 3).toBe(2);
    expect((lo >>> 10) & 3).toBe(1); // Inner Shareable
    expect((hi >>> 27) & 7).toBe(3); // RaWb
    expect((hi >>> 21) & 7).toBe(1); // nC
    expect(hi & C.GITS_BASER_HI_INDIRECT).toBe(0);
  });

  it("ignores BASER and CBASER writes while enabled", () => {
    const h = new ItsHarness({ profile: "qemu" });
    const before = h.read64(C.GITS_BASER);
    h.write64(C.GITS_BASER, 0, 0);
    h.write64(C.GITS_CBASER, 0, 0);
    expect(h.read64(C.GITS_BASER)).toEqual(before);
    expect(h.its.queue.valid).toBe(true);
    expect(h.errorCount("its:baser") + h.errorCount("its:cbaser")).toBe(2);
  });
});

describe("GITS_CTLR, CBASER, CWRITER, CREADR", () => {
  it("KVM refuses to enable without valid CBASER and BASER0/1; QEMU enables anyway", () => {
    for (const profile of ["linux-kvm", "qemu"] as const) {
      const h = new ItsHarness({ profile, enable: false });
      h.its.write(C.GITS_CTLR, 4, 1, 0);
      expect(h.its.enabled).toBe(profile === "qemu");
      expect(h.errorCount("its:ctlr")).toBe(profile === "qemu" ? 0 : 1);
    }
  });

  it("reads Quiescent when CREADR = CWRITER", () => {
    const h = new ItsHarness({ profile: "linux-kvm" });
    expect(h.its.read(C.GITS_CTLR, 4, W)).toBe((C.GITS_CTLR_ENABLE | C.GITS_CTLR_QUIESCENT) >>> 0);
  });

  it("a CBASER write resets CREADR, and under KVM CWRITER too; KVM aligns CBASER to 64 KiB", () => {
    for (const profile of ["linux-kvm", "qemu"] as const) {
      const h = new ItsHarness({ profile });
      h.submit([C.GITS_CMD_SYNC, 0, 0, 0, 0, 0, 0, 0]);
      h.its.write(C.GITS_CTLR, 4, 0, 0);
      h.write64(C.GITS_CBASER, CMDQ_BASE + 0x3000 + 1, C.GITS_CBASER_HI_VALID);
      expect(h.its.read(C.GITS_CREADR, 4, W)).toBe(0);
      expect(h.its.read(C.GITS_CWRITER, 4, W)).toBe(profile === "linux-kvm" ? 0 : 32);
      expect(h.its.read(C.GITS_CBASER, 4, W)).toBe(profile === "linux-kvm" ? CMDQ_BASE + 1 : CMDQ_BASE + 0x3001);
    }
  });

  it("a CWRITER beyond the queue: KVM ignores the write, QEMU stores it and processes nothing", () => {
    for (const profile of ["linux-kvm", "qemu"] as const) {
      const h = new ItsHarness({ profile });
      h.its.write(C.GITS_CWRITER, 4, 0x10000, 0);
      expect(h.its.read(C.GITS_CWRITER, 4, W)).toBe(profile === "linux-kvm" ? 0 : 0x10000);
      expect(h.its.read(C.GITS_CREADR, 4, W)).toBe(0);
      expect(h.errorCount("its:cwriter")).toBe(1);
    }
  });

  it("accepts 32-bit halves of 64-bit registers", () => {
    const h = new ItsHarness({ profile: "qemu", enable: false });
    h.its.write(C.GITS_BASER + 4, 4, (0x0100_0000 | C.GITS_BASER_HI_VALID) >>> 0, 0);
    h.its.write(C.GITS_BASER, 4, DT_BASE | 0x200, 0);
    expect(h.read64(C.GITS_BASER)).toEqual([DT_BASE | 0x200, (C.GITS_BASER_HI_VALID | 0x0107_0000) >>> 0]);
    expect(h.its.read(C.GITS_BASER + 4, 4, W)).toBe((C.GITS_BASER_HI_VALID | 0x0107_0000) >>> 0);
  });

  it("bad sizes, misaligned and unknown offsets are RAZ/WI and counted, never thrown", () => {
    const h = new ItsHarness({ profile: "linux-kvm" });
    expect(h.its.read(C.GITS_CTLR, 2, W)).toBe(0);
    expect(h.its.read(C.GITS_CTLR + 1, 4, W)).toBe(0);
    expect(h.its.read(C.GITS_CTLR, 8, W)).toBe(0);
    expect(h.its.read(0x4000, 4, W)).toBe(0);
    h.its.write(C.GITS_TYPER, 4, 0, 0);
    h.its.write(C.GITS_CTLR, 1, 0, 0);
    expect(h.its.enabled).toBe(true);
    expect(h.errorCount("its:access")).toBe(5);
    expect(h.errorCount("its:register")).toBe(1);
  });

  it("GITS_TRANSLATER takes 16- and 32-bit writes; it is dropped while the ITS is disabled", () => {
    const h = new ItsHarness({ profile: "linux-kvm" });
    h.submit([C.GITS_CMD_MAPD, 7, 3, 0, 0x4100_0000, 0x8000_0000, 0, 0], [C.GITS_CMD_MAPC, 0, 0, 0, 0, 0x8000_0000, 0, 0]);
    h.submit([C.GITS_CMD_MAPTI, 7, 2, 8200, 0, 0, 0, 0]);
    h.its.requesterId = 7;
    h.its.write(C.GITS_TRANSLATER, 2, 2, 0);
    expect(h.target.pendingList()).toEqual(["0:8200"]);
    h.target.clearLpiPending(0, 8200);
    h.its.write(C.GITS_CTLR, 4, 0, 0);
    h.its.write(C.GITS_TRANSLATER, 4, 2, 0);
    expect(h.target.pendingList()).toEqual([]);
  });
});

describe("tracing and reset", () => {
  it("traces each executed command when the tracer is enabled", () => {
    const h = new ItsHarness({ profile: "qemu" });
    h.tracer.enabled = true;
    h.submit([C.GITS_CMD_MAPD, 1, 3, 0, 0x4100_0000, 0x8000_0000, 0, 0], [C.GITS_CMD_SYNC, 0, 0, 0, 0, 0, 0, 0]);
    expect(h.tracer.toText()).toBe("0 gic/its its MAPD offset=0\n0 gic/its its SYNC offset=32\n");
  });

  it("reset() returns to the KVM_DEV_ARM_ITS_CTRL_RESET state", () => {
    const h = new ItsHarness({ profile: "linux-kvm" });
    h.submit([C.GITS_CMD_SYNC, 0, 0, 0, 0, 0, 0, 0]);
    h.its.reset();
    expect(h.its.enabled).toBe(false);
    expect(h.read64(C.GITS_CBASER)).toEqual([0, 0]);
    expect(h.its.read(C.GITS_CWRITER, 4, W)).toBe(0);
    expect(h.read64(C.GITS_BASER)[1] & C.GITS_BASER_HI_VALID).toBe(0);
  });
});

describe("construction", () => {
  it("throws a ConfigError naming a bad value", () => {
    const memory = new GuestMemory();
    const target = new FakeLpiTarget(2);
    expect(() => new Its({ profile: "bogus" as "qemu", target, memory })).toThrow(/'bogus'/);
    expect(() => new Its({ profile: "qemu", target, memory, devBits: 40 })).toThrow(ConfigError);
    expect(() => new Its({ profile: "qemu", target, memory, lpiIdBits: 13 })).toThrow(/lpiIdBits 13/);
    expect(() => new Its({ profile: "qemu", target: new FakeLpiTarget(0), memory })).toThrow(/redistributorCount 0/);
    expect(() => new Its({ profile: "qemu", target, memory }).executeCommand([1, 2])).toThrow(/2 words/);
  });
});
