/**
 * Where KVM's emulated ITS changed between Linux v6.6 ("linux-kvm-6.6") and
 * mainline ("linux-kvm"), and what both keep: Linux
 * arch/arm64/kvm/vgic/vgic-its.c vgic_its_cmd_handle_mapd,
 * vgic_its_cmd_handle_discard (vgic_its_write_entry_lock, e9649129d33d and
 * 7602ffd1d5e8), vgic_its_check_id, vgic_mmio_write_its_baser,
 * vgic_its_free_collection_list and vgic_its_cmd_handle_movall.
 */

import { describe, expect, it } from "vitest";
import { itsCommand as cmd } from "./its-command-encoding.js";
import { ITS_MSI_DELIVERED, ITS_MSI_UNMAPPED } from "./its-commands.js";
import * as C from "./its-constants.js";
import type { ItsProfileName } from "./its-profiles.js";
import { CT_BASE, DT_BASE, FakeLpiTarget, ItsHarness, ittOf } from "./its-test-kit.js";

const JUNK = 0xdead_beef;

/** DeviceID 1 (2^4 events), collection 0 → RD 1, event 5 → LPI 8197; the guest's DTE/ITE slots hold junk. */
function mapped(profile: ItsProfileName): ItsHarness {
  const h = new ItsHarness({ profile });
  for (const addr of [DT_BASE + 8, ittOf(1) + 5 * 8]) {
    h.memory.writeU32(addr, JUNK);
    h.memory.writeU32(addr + 4, JUNK);
  }
  h.submit(cmd.mapd(1, ittOf(1), 3), cmd.mapc(0, 1), cmd.mapti(1, 5, 8197, 0));
  expect(h.its.commandErrors).toBe(0);
  return h;
}

function entry(h: ItsHarness, addr: number): [number, number] {
  return [h.memory.readU32(addr), h.memory.readU32(addr + 4)];
}

describe("KVM vITS: what mainline writes into the guest's tables", () => {
  it("MAPD V=0 zeroes the device's DTE (mainline); Linux 6.6 left it", () => {
    const main = mapped("linux-kvm");
    const old = mapped("linux-kvm-6.6");
    for (const h of [main, old]) h.submit(cmd.mapd(1, 0, 0, false));
    expect(entry(main, DT_BASE + 8)).toEqual([0, 0]);
    expect(entry(old, DT_BASE + 8)).toEqual([JUNK, JUNK]);
    for (const h of [main, old]) expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
  });

  it("MAPD V=0 of a DeviceID never mapped still zeroes its slot (\"we are done in any case\")", () => {
    const h = mapped("linux-kvm");
    h.memory.writeU32(DT_BASE + 7 * 8, JUNK);
    h.submit(cmd.mapd(7, 0, 0, false));
    expect(entry(h, DT_BASE + 7 * 8)).toEqual([0, 0]);
    expect(h.its.commandErrors).toBe(0);
  });

  it("MAPD V=1 over a mapped device writes nothing to guest memory", () => {
    const h = mapped("linux-kvm");
    h.submit(cmd.mapd(1, ittOf(1), 3));
    expect(entry(h, DT_BASE + 8)).toEqual([JUNK, JUNK]);
    expect(entry(h, ittOf(1) + 5 * 8)).toEqual([JUNK, JUNK]);
  });

  it("DISCARD zeroes the ITE at itt_addr + EventID × 8 (mainline); Linux 6.6 left it", () => {
    const main = mapped("linux-kvm");
    const old = mapped("linux-kvm-6.6");
    for (const h of [main, old]) h.submit(cmd.discard(1, 5));
    expect(entry(main, ittOf(1) + 5 * 8)).toEqual([0, 0]);
    expect(entry(old, ittOf(1) + 5 * 8)).toEqual([JUNK, JUNK]);
  });

  it("a DISCARD that fails (no ITE) writes nothing", () => {
    const h = mapped("linux-kvm");
    h.memory.writeU32(ittOf(1) + 6 * 8, JUNK);
    h.submit(cmd.discard(1, 6));
    expect(h.its.errors().map((e) => e.name)).toEqual(["E_ITS_DISCARD_UNMAPPED_INTERRUPT"]);
    expect(h.memory.readU32(ittOf(1) + 6 * 8)).toBe(JUNK);
  });

  it("a DTE slot that is not RAM is out of range (vgic_its_check_id → kvm_is_visible_gfn)", () => {
    for (const profile of ["linux-kvm", "linux-kvm-6.6"] as const) {
      const h = new ItsHarness({ profile, enable: false });
      // Device table of 512 pages: DeviceIDs from 2^17 / 8 ... lie past the 64 MiB of RAM.
      h.write64(C.GITS_CBASER, 0x4000_0000 + 15, C.GITS_CBASER_HI_VALID);
      h.writeBaser(0, 0x43ff_0000, 16);
      h.writeBaser(1, CT_BASE);
      h.its.write(C.GITS_CTLR, 4, C.GITS_CTLR_ENABLE, 0);
      h.submit(cmd.mapd(0x1fff, ittOf(1), 3), cmd.mapd(0x2000, ittOf(2), 3));
      expect(h.its.errors().map((e) => e.name)).toEqual(["E_ITS_MAPD_DEVICE_OOR"]);
    }
  });
});

describe("KVM vITS: GITS_BASER writes (vgic_mmio_write_its_baser)", () => {
  function disable(h: ItsHarness): void {
    h.its.write(C.GITS_CTLR, 4, 0, 0);
  }
  function enable(h: ItsHarness): void {
    h.its.write(C.GITS_CTLR, 4, C.GITS_CTLR_ENABLE, 0);
  }

  it("moving a table with Valid = 1 frees it in mainline (`reg != old`); Linux 6.6 freed nothing then", () => {
    const main = mapped("linux-kvm");
    const old = mapped("linux-kvm-6.6");
    for (const h of [main, old]) {
      disable(h);
      h.writeBaser(1, CT_BASE + 0x1_0000);
      enable(h);
    }
    expect(main.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
    expect(old.its.translate(1, 5)).toBe(ITS_MSI_DELIVERED);
  });

  it("mainline: rewriting an unchanged GITS_BASER<n> frees nothing (the ITS driver does so on resume)", () => {
    const h = mapped("linux-kvm");
    disable(h);
    for (const n of [0, 1]) {
      const [lo, hi] = h.read64(C.GITS_BASER + 8 * n);
      h.write64(C.GITS_BASER + 8 * n, lo, hi);
    }
    enable(h);
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_DELIVERED);
  });

  it("mainline: a change frees the devices and drops their cached translations", () => {
    const h = mapped("linux-kvm");
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_DELIVERED);
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_DELIVERED); // now cached
    disable(h);
    h.writeBaser(0, DT_BASE, 2);
    enable(h);
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
  });

  it("BASER1 written with Valid = 0 frees the collections and orphans their ITEs for good", () => {
    // vgic_its_free_collection(): ite->collection = NULL, so mapping ICID 0 again does not bring them back.
    const h = mapped("linux-kvm");
    disable(h);
    const [lo, hi] = h.read64(C.GITS_BASER + 8);
    h.write64(C.GITS_BASER + 8, lo, hi & ~C.GITS_BASER_HI_VALID);
    h.writeBaser(1, CT_BASE);
    enable(h);
    h.submit(cmd.mapc(0, 1));
    expect(h.its.commandErrors).toBe(0);
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
    // A new ITE in the same device does reach the collection.
    h.submit(cmd.mapti(1, 6, 8198, 0));
    expect(h.its.translate(1, 6)).toBe(ITS_MSI_DELIVERED);
  });

  it("BASER0 written with Valid = 0 frees the devices; the collections stay", () => {
    const h = mapped("linux-kvm");
    disable(h);
    const [lo, hi] = h.read64(C.GITS_BASER);
    h.write64(C.GITS_BASER, lo, hi & ~C.GITS_BASER_HI_VALID);
    h.writeBaser(0, DT_BASE);
    enable(h);
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
    h.submit(cmd.mapd(1, ittOf(1), 3), cmd.mapti(1, 5, 8197, 0));
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_DELIVERED);
    expect(h.target.pendingList()).toEqual(["1:8197"]);
  });
});

describe("LpiTarget.hasRedistributor: processor numbers that are not 0 .. n − 1", () => {
  it("MAPC, MOVALL and translation accept exactly the numbers the target names", () => {
    // Two redistributors answering to processor numbers 4 and 9 (KVM: vCPU ids, kvm_get_vcpu_by_id).
    const target = Object.assign(new FakeLpiTarget(2), { hasRedistributor: (rd: number) => rd === 4 || rd === 9 });
    const h = new ItsHarness({ profile: "linux-kvm", target });
    h.submit(cmd.mapd(1, ittOf(1), 3), cmd.mapc(0, 1), cmd.mapc(1, 9), cmd.mapti(1, 5, 8197, 1), cmd.movall(0, 4), cmd.movall(4, 9));
    expect(h.its.errors().map((e) => e.name)).toEqual(["E_ITS_MAPC_PROCNUM_OOR", "E_ITS_MOVALL_PROCNUM_OOR"]);
    h.msi(1, 5);
    expect(target.pendingList()).toEqual(["9:8197"]);
  });
});

describe("KVM vITS: MOVALL retargets LPIs, not just their pending state (vgic_its_cmd_handle_movall → update_affinity)", () => {
  /** Collections 0 → RD 1 and 1 → RD 3; events 5 (LPI 8197) in collection 0 and 6 (LPI 8198) in collection 1. */
  function twoCollections(profile: ItsProfileName): ItsHarness {
    const h = mapped(profile);
    h.submit(cmd.mapc(1, 3), cmd.mapti(1, 6, 8198, 1));
    expect(h.its.commandErrors).toBe(0);
    return h;
  }

  it("mainline: every LPI of the VM now targets RDbase2, also one that targeted neither RDbase", () => {
    const h = twoCollections("linux-kvm");
    h.msi(1, 5);
    h.msi(1, 6);
    h.submit(cmd.movall(1, 2));
    // xa_for_each(&dist->lpi_xa, ...) update_affinity(irq, vcpu2): no check of the source vCPU.
    expect(h.target.pendingList()).toEqual(["2:8197", "2:8198"]);
    h.target.clearAll();
    h.msi(1, 5);
    h.msi(1, 6);
    expect(h.target.pendingList()).toEqual(["2:8197", "2:8198"]);
  });

  it("Linux 6.6: only the LPIs targeting RDbase1 move (vgic_copy_lpi_list(kvm, vcpu1)), and they stay moved", () => {
    const h = twoCollections("linux-kvm-6.6");
    h.msi(1, 5);
    h.submit(cmd.movall(1, 2));
    expect(h.target.pendingList()).toEqual(["2:8197"]);
    h.target.clearAll();
    h.msi(1, 5);
    h.msi(1, 6);
    expect(h.target.pendingList()).toEqual(["2:8197", "3:8198"]);
  });

  it("the translation cache forgets the old RDbase (vgic_its_invalidate_cache)", () => {
    const h = mapped("linux-kvm");
    h.msi(1, 5);
    h.msi(1, 5);
    const hits = h.its.cache!.hits;
    expect(hits).toBeGreaterThan(0);
    h.target.clearAll();
    h.submit(cmd.movall(1, 2));
    h.msi(1, 5);
    expect(h.target.pendingList()).toEqual(["2:8197"]);
    expect(h.its.cache!.hits).toBe(hits);
  });

  it("INT, INV and CLEAR act on the LPI where MOVALL put it", () => {
    const h = mapped("linux-kvm");
    h.submit(cmd.movall(1, 2), cmd.int(1, 5));
    expect(h.target.pendingList()).toEqual(["2:8197"]);
    h.submit(cmd.inv(1, 5));
    expect(h.target.invalidated.at(-1)).toEqual([2, 8197]);
    h.submit(cmd.clear(1, 5));
    expect(h.target.pendingList()).toEqual([]);
  });

  it("MAPC of the collection, even to the same RDbase, brings its LPIs back with their pending state (update_affinity_collection)", () => {
    const h = mapped("linux-kvm");
    h.submit(cmd.movall(1, 2));
    h.msi(1, 5);
    h.submit(cmd.mapc(0, 1));
    expect(h.target.pendingList()).toEqual(["1:8197"]);
    h.target.clearAll();
    h.msi(1, 5);
    expect(h.target.pendingList()).toEqual(["1:8197"]);
  });

  it("MOVI sets the target from the new collection again (update_affinity)", () => {
    const h = twoCollections("linux-kvm");
    h.submit(cmd.movall(1, 2));
    h.msi(1, 5);
    h.submit(cmd.movi(1, 5, 1));
    expect(h.target.pendingList()).toEqual(["3:8197"]);
  });

  it("QEMU moves the pending state only: later MSIs follow the collection (gicv3_redist_movall_lpis)", () => {
    const h = mapped("qemu");
    h.msi(1, 5);
    h.submit(cmd.movall(1, 2));
    expect(h.target.pendingList()).toEqual(["2:8197"]);
    h.target.clearAll();
    h.msi(1, 5);
    expect(h.target.pendingList()).toEqual(["1:8197"]);
  });
});
