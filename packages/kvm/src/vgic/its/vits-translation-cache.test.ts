/**
 * The vITS translation cache seen from KVM_SIGNAL_MSI (vgic_its_inject_msi):
 * a cached translation is injected before vgic_msi_to_its() runs, so after
 * each guest command or device control that changes a translation the next
 * MSI must land where the new tables say, never where the cache last sent it
 * (Linux arch/arm64/kvm/vgic/vgic-its.c vgic_its_inject_cached_translation and
 * the callers of vgic_its_invalidate_cache). Each test warms the cache first
 * and checks the warm MSI was a hit.
 */
import { itsCommand as cmd } from "@irqlab/gic";
import { describe, expect, it } from "vitest";
import { KVM_DEV_ARM_ITS_CTRL_RESET, KVM_DEV_ARM_ITS_RESTORE_TABLES, KVM_DEV_ARM_ITS_SAVE_TABLES, KVM_DEV_ARM_VGIC_GRP_CTRL } from "../vgic-uapi.js";
import { vgicItsInjectMsi } from "./vits-msi.js";
import { ITT, msi, vmWithVits } from "./vits-rig.js";

const DEV = 1;

/** Two vCPUs; collection 0 → vCPU 0, collection 1 → vCPU 1; event 0 → LPI 8200 in collection 0; the cache warm. */
function warm() {
  const t = vmWithVits(2);
  t.driver.enable();
  t.driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapc(1, 1), cmd.mapti(DEV, 0, 8200, 0));
  expect(vgicItsInjectMsi(t.vm, msi(DEV, 0))).toBe(1);
  const hits = t.dev.its.cache!.hits;
  expect(vgicItsInjectMsi(t.vm, msi(DEV, 0))).toBe(1);
  expect(t.dev.its.cache!.hits).toBe(hits + 1);
  t.gic.clearLpiPending(0, 8200);
  return t;
}

describe("vITS translation cache invalidation through KVM_SIGNAL_MSI", () => {
  it("MOVI: the next MSI pends the LPI on the new vCPU", () => {
    const { vm, gic, driver } = warm();
    driver.submit(cmd.movi(DEV, 0, 1));
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(1);
    expect([gic.isLpiPending(0, 8200), gic.isLpiPending(1, 8200)]).toEqual([false, true]);
  });

  it("MAPC retargeting the collection: the next MSI pends on the new vCPU", () => {
    const { vm, gic, driver } = warm();
    driver.submit(cmd.mapc(0, 1));
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(1);
    expect([gic.isLpiPending(0, 8200), gic.isLpiPending(1, 8200)]).toEqual([false, true]);
  });

  it("DISCARD: the next MSI is blocked by the guest (0)", () => {
    const { vm, gic, driver } = warm();
    driver.submit(cmd.discard(DEV, 0));
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(0);
    expect(gic.isLpiPending(0, 8200)).toBe(false);
  });

  it("MAPD V=0: the next MSI is blocked by the guest (0)", () => {
    const { vm, driver } = warm();
    driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3, false));
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(0);
  });

  it("ITS_CTRL_RESET then re-enabling: the device is gone (0)", () => {
    const { vm, fd, driver } = warm();
    fd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    driver.enable();
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(0);
  });

  it("RESET, then RESTORE_TABLES: the restored ITE's collection decides", () => {
    const { vm, gic, fd, driver } = warm();
    driver.submit(cmd.movi(DEV, 0, 1));
    fd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES }); // event 0 → collection 1
    driver.submit(cmd.movi(DEV, 0, 0));
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(1);
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(1); // cached: collection 0, vCPU 0
    gic.clearLpiPending(0, 8200);
    // The ITS holds collections 0 and 1: a restore over it would be EEXIST (vgic_its_restore_cte).
    fd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    driver.enable();
    fd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES });
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(1);
    expect([gic.isLpiPending(0, 8200), gic.isLpiPending(1, 8200)]).toEqual([false, true]);
  });

  it("RESTORE_TABLES failing EEXIST frees the collections but not the cache (vgic_its_free_collection_list)", () => {
    const { vm, gic, fd } = warm();
    fd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES });
    expect(() => fd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES })).toThrow(/EEXIST/);
    // Nothing invalidated the warm translation of event 0, so it is still injected; an MSI the
    // cache never saw walks the tables and finds an ITE without a collection.
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(1);
    expect(gic.isLpiPending(0, 8200)).toBe(true);
  });

  it("MOVALL: the next MSI pends the LPI on the second vCPU, though its collection still names the first", () => {
    const { vm, gic, driver } = warm();
    driver.submit(cmd.movall(0, 1));
    expect(vgicItsInjectMsi(vm, msi(DEV, 0))).toBe(1);
    expect([gic.isLpiPending(0, 8200), gic.isLpiPending(1, 8200)]).toEqual([false, true]);
  });

  it("a cold MSI is one cache miss and fills the cache; the next is a hit", () => {
    const t = vmWithVits(1);
    t.driver.enable();
    t.driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapti(DEV, 0, 8200, 0));
    const cache = t.dev.its.cache!;
    const [hits, misses] = [cache.hits, cache.misses];
    expect(vgicItsInjectMsi(t.vm, msi(DEV, 0))).toBe(1);
    // vgic_its_inject_msi asks the cache once; vgic_its_trigger_msi then walks the tables, not the cache again.
    expect([cache.hits - hits, cache.misses - misses]).toEqual([0, 1]);
    expect(vgicItsInjectMsi(t.vm, msi(DEV, 0))).toBe(1);
    expect([cache.hits - hits, cache.misses - misses]).toEqual([1, 1]);
  });
});
