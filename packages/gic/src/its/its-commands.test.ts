import { describe, expect, it } from "vitest";
import { itsCommand as cmd } from "./its-command-encoding.js";
import { ITS_MSI_DELIVERED, ITS_MSI_UNMAPPED } from "./its-commands.js";
import * as C from "./its-constants.js";
import { ItsHarness, ittOf } from "./its-test-kit.js";
import type { ItsProfileName } from "./its-profiles.js";

const PROFILES: ItsProfileName[] = ["linux-kvm", "linux-kvm-6.6", "qemu"];

/** DeviceID 1 with 2^4 events, collection 0 → RD 1, event e → LPI 8192 + e. */
function mapped(profile: ItsProfileName): ItsHarness {
  const h = new ItsHarness({ profile });
  h.submit(cmd.mapd(1, ittOf(1), 3), cmd.mapc(0, 1), cmd.mapti(1, 0, 8192, 0), cmd.mapti(1, 5, 8197, 0));
  return h;
}

describe.each(PROFILES)("ITS commands under %s", (profile) => {
  it("translates a mapped (DeviceID, EventID) into the collection's redistributor", () => {
    const h = mapped(profile);
    expect(h.its.commandErrors).toBe(0);
    h.msi(1, 5);
    expect(h.target.pendingList()).toEqual(["1:8197"]);
    expect(h.its.translate(1, 0)).toBe(ITS_MSI_DELIVERED);
    expect(h.target.pendingList()).toEqual(["1:8192", "1:8197"]);
  });

  it("drops an MSI for an unmapped event and counts it as a guest error", () => {
    const h = mapped(profile);
    expect(h.its.translate(1, 6)).toBe(ITS_MSI_UNMAPPED);
    expect(h.its.translate(2, 0)).toBe(ITS_MSI_UNMAPPED);
    expect(h.target.pendingList()).toEqual([]);
    expect(h.errorCount("its:translate")).toBe(2);
  });

  it("INT sets, CLEAR clears, INV and INVALL reach the redistributor", () => {
    const h = mapped(profile);
    h.submit(cmd.int(1, 0));
    expect(h.target.pendingList()).toEqual(["1:8192"]);
    h.submit(cmd.clear(1, 0));
    expect(h.target.pendingList()).toEqual([]);
    h.submit(cmd.inv(1, 5), cmd.invall(0));
    expect(h.target.invalidated.at(-1)).toEqual([1, 8197]);
    expect(h.target.invalidatedAll).toEqual([1]);
  });

  it("MAPI maps EventID as the pINTID", () => {
    const h = mapped(profile);
    h.submit(cmd.mapd(2, ittOf(2), 15), cmd.mapi(2, 9000, 0));
    h.msi(2, 9000);
    expect(h.target.pendingList()).toEqual(["1:9000"]);
  });

  it("DISCARD clears the pending state and unmaps the event", () => {
    const h = mapped(profile);
    h.msi(1, 5);
    h.submit(cmd.discard(1, 5));
    expect(h.target.pendingList()).toEqual([]);
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
  });

  it("MOVI moves the pending state and later MSIs to the new collection", () => {
    const h = mapped(profile);
    h.submit(cmd.mapc(1, 3));
    h.msi(1, 5);
    h.submit(cmd.movi(1, 5, 1));
    expect(h.target.pendingList()).toEqual(["3:8197"]);
    h.msi(1, 0);
    h.msi(1, 5);
    expect(h.target.pendingList()).toEqual(["1:8192", "3:8197"]);
  });

  it("MOVALL moves every pending LPI of RD1 to RD2", () => {
    const h = mapped(profile);
    h.msi(1, 0);
    h.msi(1, 5);
    h.submit(cmd.movall(1, 2));
    expect(h.target.pendingList()).toEqual(["2:8192", "2:8197"]);
    h.submit(cmd.movall(0, 9));
    expect(h.errorCount("its:E_ITS_MOVALL_PROCNUM_OOR")).toBe(1);
  });

  it("MAPD V=0 unmaps the device", () => {
    const h = mapped(profile);
    h.submit(cmd.mapd(1, 0, 0, false));
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
  });

  it("reports each range check with its Linux error code and keeps processing", () => {
    const h = mapped(profile);
    // One 64 KiB page of 8-byte DTEs holds DeviceIDs 0..8191.
    h.submit(
      cmd.mapd(8192, ittOf(3), 3),
      cmd.mapd(3, ittOf(3), 16),
      cmd.mapc(2, 4),
      cmd.mapti(4, 0, 8300, 0),
      cmd.mapti(1, 16, 8300, 0),
      cmd.mapti(1, 2, 100, 0),
      cmd.int(1, 7),
      cmd.clear(1, 7),
      cmd.inv(1, 7),
      cmd.discard(1, 7),
      cmd.movi(1, 7, 0),
      cmd.movi(1, 0, 9),
      cmd.invall(7),
      cmd.int(1, 0),
    );
    const codes = h.its.errors().map((e) => e.name);
    expect(codes).toEqual([
      "E_ITS_MAPD_DEVICE_OOR",
      "E_ITS_MAPD_ITTSIZE_OOR",
      "E_ITS_MAPC_PROCNUM_OOR",
      "E_ITS_MAPTI_UNMAPPED_DEVICE",
      "E_ITS_MAPTI_ID_OOR",
      "E_ITS_MAPTI_PHYSICALID_OOR",
      "E_ITS_INT_UNMAPPED_INTERRUPT",
      "E_ITS_CLEAR_UNMAPPED_INTERRUPT",
      "E_ITS_INV_UNMAPPED_INTERRUPT",
      "E_ITS_DISCARD_UNMAPPED_INTERRUPT",
      "E_ITS_MOVI_UNMAPPED_INTERRUPT",
      "E_ITS_MOVI_UNMAPPED_COLLECTION",
      "E_ITS_INVALL_UNMAPPED_COLLECTION",
    ]);
    expect(h.its.errors()[0]!.code).toBe(0x010801);
    // The last command ran: the queue never stopped on the errors.
    expect(h.target.pendingList()).toEqual(["1:8192"]);
    expect(h.its.queue.stalled).toBe(false);
    expect(h.tracer.guestErrors).toBe(13);
  });

  it("skips an unknown command and continues", () => {
    const h = mapped(profile);
    h.submit([0x42, 0, 0, 0, 0, 0, 0, 0], cmd.int(1, 0));
    expect(h.its.commandErrors).toBe(1);
    expect(h.target.pendingList()).toEqual(["1:8192"]);
  });

  it("ignores the GICv4 commands when the ITS has no vPE table", () => {
    const h = mapped(profile);
    h.submit(cmd.vmapti(1, 1, 0, 8192), cmd.vsync(0));
    expect(h.its.errors().map((e) => e.cmd)).toEqual([C.GITS_CMD_VMAPTI, C.GITS_CMD_VSYNC]);
  });
});

describe("where the profiles differ", () => {
  it("MAPTI onto an existing ITE: KVM keeps the old one, QEMU overwrites it", () => {
    const kvm = mapped("linux-kvm");
    const qemu = mapped("qemu");
    for (const h of [kvm, qemu]) {
      h.submit(cmd.mapti(1, 5, 9999, 0));
      h.msi(1, 5);
    }
    expect(kvm.target.pendingList()).toEqual(["1:8197"]); // vgic-its.c: "silently ignore"
    expect(qemu.target.pendingList()).toEqual(["1:9999"]);
    expect(kvm.its.commandErrors + qemu.its.commandErrors).toBe(0);
  });

  it("MAPTI with an ICID never mapped: accepted (unmapped collection) in range, errors differ beyond it", () => {
    const kvm = mapped("linux-kvm");
    const qemu = mapped("qemu");
    for (const h of [kvm, qemu]) {
      h.submit(cmd.mapti(1, 1, 8193, 100));
      expect(h.its.commandErrors).toBe(0);
      expect(h.its.translate(1, 1)).toBe(ITS_MSI_UNMAPPED);
      h.submit(cmd.mapc(100, 2));
      h.msi(1, 1);
      expect(h.target.pendingList()).toEqual(["2:8193"]);
      // One 64 KiB page of 8-byte collection entries holds ICIDs 0..8191.
      h.submit(cmd.mapti(1, 2, 8194, 9000));
    }
    // KVM: vgic_its_alloc_collection() fails its table check; QEMU: process_mapti() "invalid ICID" (cause 3).
    expect(kvm.its.errors().map((e) => e.code)).toEqual([C.E_ITS_MAPC_COLLECTION_OOR]);
    expect(qemu.its.errors().map((e) => e.code)).toEqual([0x010a03]);
  });

  it("MAPC V=0 with a bad RDbase: Linux 6.6 still range-checks it; mainline KVM and QEMU do not", () => {
    // vgic_its_cmd_handle_mapc(): d455d366c451 (6.7) moved the vCPU lookup into the V=1 branch.
    const kvm66 = mapped("linux-kvm-6.6");
    const kvm = mapped("linux-kvm");
    const qemu = mapped("qemu");
    for (const h of [kvm66, kvm, qemu]) h.submit(cmd.mapc(0, 99, false));
    expect(kvm66.its.errors().map((e) => e.name)).toEqual(["E_ITS_MAPC_PROCNUM_OOR"]);
    expect(kvm66.its.translate(1, 5)).toBe(ITS_MSI_DELIVERED);
    for (const h of [kvm, qemu]) {
      expect(h.its.commandErrors).toBe(0);
      expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
    }
  });

  it("MAPC RDbase 0x10001: KVM compares all 32 bits (PROCNUM_OOR), QEMU keeps the low 16 (RD 1)", () => {
    const kvm = mapped("linux-kvm");
    const qemu = mapped("qemu");
    for (const h of [kvm, qemu]) h.submit(cmd.mapc(0, 0x10001));
    expect(kvm.its.errors().map((e) => e.name)).toEqual(["E_ITS_MAPC_PROCNUM_OOR"]);
    expect(qemu.its.commandErrors).toBe(0);
    qemu.msi(1, 5);
    expect(qemu.target.pendingList()).toEqual(["1:8197"]);
  });

  it("KVM: ITEs orphaned by MAPC V=0 stay unreachable after the collection is mapped again", () => {
    // vgic_its_free_collection() sets ite->collection = NULL; update_affinity_collection() skips them.
    const kvm = mapped("linux-kvm");
    const qemu = mapped("qemu");
    for (const h of [kvm, qemu]) h.submit(cmd.mapc(0, 1, false), cmd.mapc(0, 2));
    expect(kvm.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
    qemu.msi(1, 5);
    expect(qemu.target.pendingList()).toEqual(["2:8197"]);
  });

  it("MAPD of a mapped device: KVM frees the ITEs, QEMU keeps the old ITT contents", () => {
    const kvm = mapped("linux-kvm");
    const qemu = mapped("qemu");
    for (const h of [kvm, qemu]) {
      h.msi(1, 5);
      h.submit(cmd.mapd(1, ittOf(1), 3));
    }
    expect(kvm.target.pendingList()).toEqual([]);
    expect(kvm.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
    expect(qemu.its.translate(1, 5)).toBe(ITS_MSI_DELIVERED);
  });

  it("a command queue outside RAM: KVM skips the commands, QEMU stalls", () => {
    for (const profile of PROFILES) {
      const h = new ItsHarness({ profile, enable: false });
      h.write64(C.GITS_CBASER, 0x1000_0000, C.GITS_CBASER_HI_VALID);
      h.writeBaser(0, 0x4010_0000);
      h.writeBaser(1, 0x4020_0000);
      h.its.write(C.GITS_CTLR, 4, 1, 0);
      h.its.write(C.GITS_CWRITER, 4, 0x40, 0);
      const creadr = h.its.read(C.GITS_CREADR, 4, { hi: 0 });
      if (profile === "qemu") {
        expect(creadr).toBe(C.GITS_CREADR_STALLED);
        expect(h.its.read(C.GITS_CTLR, 4, { hi: 0 }) & C.GITS_CTLR_QUIESCENT).toBe(0);
      } else {
        expect(creadr).toBe(0x40);
      }
      expect(h.errorCount("its:cmdq")).toBe(profile === "qemu" ? 1 : 2);
    }
  });

  it("QEMU stalls on a device table outside RAM; a CBASER write restarts the queue", () => {
    const h = new ItsHarness({ profile: "qemu", enable: false });
    h.write64(C.GITS_CBASER, 0x4000_0000 + 15, C.GITS_CBASER_HI_VALID);
    h.writeBaser(0, 0x2000_0000);
    h.writeBaser(1, 0x4020_0000);
    h.its.write(C.GITS_CTLR, 4, 1, 0);
    h.submit(cmd.mapd(1, ittOf(1), 3), cmd.mapc(0, 1));
    expect(h.its.queue.stalled).toBe(true);
    expect(h.its.queue.creadr).toBe(0);
    expect(h.its.read(C.GITS_CTLR, 4, { hi: 0 }) & C.GITS_CTLR_QUIESCENT).toBe(0);
  });

  it("QEMU reads translations from the guest's tables: scribbling over an ITE changes the result", () => {
    const h = mapped("qemu");
    // 12-byte ITE of event 5: Valid[0], IntType[1], IntID[25:2], ICID[47:32].
    const ite = ittOf(1) + 5 * 12;
    expect(h.memory.readU32(ite)).toBe((1 | 2 | (8197 << 2)) >>> 0);
    h.memory.writeU32(ite, (1 | 2 | (8300 << 2)) >>> 0);
    h.msi(1, 5);
    expect(h.target.pendingList()).toEqual(["1:8300"]);
    h.memory.writeU32(ite, 0);
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
  });

  it("KVM caches translations and drops the cache on DISCARD but not on INV", () => {
    const h = mapped("linux-kvm");
    const cache = h.its.cache!;
    h.msi(1, 5);
    h.msi(1, 5);
    expect([cache.misses, cache.hits, cache.size]).toEqual([1, 1, 1]);
    h.submit(cmd.inv(1, 5));
    expect(cache.size).toBe(1);
    h.submit(cmd.discard(1, 5));
    expect(cache.size).toBe(0);
    expect(h.its.translate(1, 5)).toBe(ITS_MSI_UNMAPPED);
    expect(mapped("qemu").its.cache).toBeUndefined();
  });

  it("KVM keeps its tables out of guest memory", () => {
    const h = mapped("linux-kvm");
    expect(h.memory.readU32(ittOf(1) + 5 * 8)).toBe(0);
    expect(h.memory.readU32(0x4010_0000 + 8)).toBe(0);
  });
});
