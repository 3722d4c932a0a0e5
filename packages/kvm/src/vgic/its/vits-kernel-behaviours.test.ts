/**
 * The vITS as mainline Linux has it ("linux-6.16", the default) next to Linux
 * v6.6 ("linux-6.6", registerVgicItsDevice(kvm, { behaviour })): how a
 * collection's RDbase finds its vCPU (arch/arm64/kvm/vgic/vgic-its.c
 * collection_to_vcpu → kvm_get_vcpu_by_id, d455d366c451), and what MAPD V=0
 * leaves in guest memory for the next KVM_DEV_ARM_ITS_SAVE/RESTORE_TABLES
 * (vgic_its_cmd_handle_mapd → vgic_its_write_entry_lock, e9649129d33d); plus
 * what SAVE_TABLES does with a device whose level-1 entry is invalid (mainline
 * skips it, 6.6 failed EINVAL: vgic_its_save_device_tables → vgic_its_check_id);
 * both skip invalid level-1 entries on RESTORE (handle_l1_dte).
 */

import {
  GICR_CTLR,
  GICR_PENDBASER,
  GICR_PROPBASER,
  GITS_BASER,
  GITS_BASER_HI_VALID,
  GITS_CBASER,
  GITS_CBASER_HI_VALID,
  GITS_CTLR,
  GITS_CTLR_ENABLE,
  itsCommand as cmd,
} from "@irqlab/gic";
import { describe, expect, it } from "vitest";
import { KVM_MSI_VALID_DEVID } from "../../irqfd/gsi-routing.js";
import { Kvm } from "../../kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8, KVM_DEV_TYPE_ARM_VGIC_ITS, KVM_DEV_TYPE_ARM_VGIC_V3 } from "../../uapi/device-types.js";
import {
  KVM_DEV_ARM_ITS_CTRL_RESET,
  KVM_DEV_ARM_ITS_RESTORE_TABLES,
  KVM_DEV_ARM_ITS_SAVE_TABLES,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  vgicRegAttr,
} from "../vgic-uapi.js";
import { VgicV3 } from "../vgic-v3.js";
import { VgicItsDevice, registerVgicItsDevice } from "./vits-device.js";
import { vgicItsInjectMsi } from "./vits-msi.js";
import type { VitsBehaviour } from "./vits-vm.js";
import { DT, GuestItsDriver, ITS_BASE, ITT, PEND, PROP, RAM, RAM_SIZE, msi, outcome, vmWithVits } from "./vits-rig.js";

const CTRL = KVM_DEV_ARM_VGIC_GRP_CTRL;
const GICR_TYPER = 0x0008;
const REDIST_BASE = 0x080a_0000;

/** A VM whose vCPUs have ids 5 and 0 (created in that order), the vgic-v3 device initialised, LPIs on, and a vITS. */
function idsOutOfOrder(behaviour?: VitsBehaviour) {
  const kvm = new Kvm({ arch: "arm64" });
  if (behaviour !== undefined) registerVgicItsDevice(kvm, { behaviour });
  const vm = kvm.createVm();
  for (const id of [5, 0]) vm.createVcpu(id).armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: RAM_SIZE });
  const vgic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  vgic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: 0x0800_0000 });
  vgic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: REDIST_BASE });
  const its = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: ITS_BASE });
  vgic.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const gic = VgicV3.of(vm)!.gic!;
  for (let i = 0; i < 64; i++) vm.memory.writeU8(PROP + i, 0xa0 | 3);
  const stride = gic.redistributors.stride;
  for (let pe = 0; pe < 2; pe++) {
    gic.redistributors.write(pe * stride + GICR_PROPBASER, 8, PROP | 15, 0);
    gic.redistributors.write(pe * stride + GICR_PENDBASER, 8, PEND + pe * 0x10000, 0);
    gic.redistributors.write(pe * stride + GICR_CTLR, 4, 1, 0);
  }
  const driver = new GuestItsDriver(vm.kernelBus, vm.memory);
  driver.enable();
  const dev = its.ops;
  if (!(dev instanceof VgicItsDevice)) throw new Error("KVM_CREATE_DEVICE did not make a VgicItsDevice");
  /** GICR_TYPER of the vCPU created `index`-th, as userspace reads it (GRP_REDIST_REGS). */
  const typer = (index: number) => Number(vgic.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, attr: vgicRegAttr(vm.vcpus[index]!.mpidr, GICR_TYPER) }));
  return { vm, gic, driver, dev, typer };
}

describe("a collection's RDbase names a vCPU by its vcpu_id (GITS_TYPER.PTA = 0)", () => {
  it("the guest reads Processor_Number 5 from the first redistributor and targets it with RDbase 5", () => {
    const { vm, gic, driver, dev, typer } = idsOutOfOrder();
    expect((typer(0) >>> 8) & 0xffff).toBe(5);
    expect((typer(1) >>> 8) & 0xffff).toBe(0);
    driver.submit(cmd.mapd(1, ITT + 0x10000, 3), cmd.mapc(0, 5), cmd.mapc(1, 0), cmd.mapti(1, 0, 8192, 0), cmd.mapti(1, 1, 8193, 1));
    expect(dev.its.commandErrors).toBe(0);
    expect(vgicItsInjectMsi(vm, msi(1, 0))).toBe(1);
    expect(vgicItsInjectMsi(vm, msi(1, 1))).toBe(1);
    // vCPU 5 was created first (PE 0), vCPU 0 second (PE 1).
    expect([gic.isLpiPending(0, 8192), gic.isLpiPending(1, 8193)]).toEqual([true, true]);
    expect([gic.isLpiPending(1, 8192), gic.isLpiPending(0, 8193)]).toEqual([false, false]);
  });

  it("RDbase 1 names no vCPU: MAPC fails E_ITS_MAPC_PROCNUM_OOR though two vCPUs exist; MOVALL too", () => {
    const { dev, driver } = idsOutOfOrder();
    driver.submit(cmd.mapc(0, 1), cmd.movall(5, 1), cmd.movall(5, 0));
    expect(dev.its.errors().map((e) => e.name)).toEqual(["E_ITS_MAPC_PROCNUM_OOR", "E_ITS_MOVALL_PROCNUM_OOR"]);
  });

  it("MOVALL between vcpu_ids moves the pending LPIs to the second vCPU's redistributor", () => {
    const { vm, gic, driver } = idsOutOfOrder();
    driver.submit(cmd.mapd(1, ITT + 0x10000, 3), cmd.mapc(0, 5), cmd.mapti(1, 0, 8192, 0), cmd.int(1, 0), cmd.movall(5, 0));
    expect([gic.isLpiPending(0, 8192), gic.isLpiPending(1, 8192)]).toEqual([false, true]);
    expect(vm.vcpus[1]!.vcpuId).toBe(0);
  });

  it("linux-6.6: RDbase was the creation index (kvm_get_vcpu, `target_addr >= online_vcpus`)", () => {
    const { vm, gic, driver, dev } = idsOutOfOrder("linux-6.6");
    driver.submit(cmd.mapd(1, ITT + 0x10000, 3), cmd.mapc(0, 5), cmd.mapc(1, 1), cmd.mapti(1, 1, 8193, 1));
    expect(dev.its.errors().map((e) => e.name)).toEqual(["E_ITS_MAPC_PROCNUM_OOR"]);
    expect(vgicItsInjectMsi(vm, msi(1, 1))).toBe(1);
    expect(gic.isLpiPending(1, 8193)).toBe(true); // index 1: vcpu_id 0, although the guest asked for "1"
  });

  it("SAVE_TABLES writes the vcpu_id as RDbase and RESTORE_TABLES accepts only a vcpu_id", () => {
    const { vm, driver, dev } = idsOutOfOrder();
    const fd = { set: (attr: number) => outcome(() => dev.setAttr({ group: CTRL, attr })) };
    driver.submit(cmd.mapc(3, 5));
    expect(fd.set(KVM_DEV_ARM_ITS_SAVE_TABLES)).toBe("ok");
    const ct = RAM + 0x20_0000;
    expect(vm.memory.readU64(ct)).toBe((1n << 63n) | (5n << 16n) | 3n);
    vm.memory.writeU64(ct, (1n << 63n) | (1n << 16n) | 3n); // RDbase 1: no such vcpu_id
    expect(fd.set(KVM_DEV_ARM_ITS_CTRL_RESET)).toBe("ok");
    driver.enable();
    expect(fd.set(KVM_DEV_ARM_ITS_RESTORE_TABLES)).toBe("EINVAL");
  });
});

describe("MAPD V=0 and the next save/restore (e9649129d33d)", () => {
  // Devices 2 and 5 mapped and saved; device 2 unmapped and the tables saved again; a reset
  // and a restore, as on a migration destination: does device 2 come back from its stale DTE?
  it.each([
    ["linux-6.16", 0],
    ["linux-6.6", 1],
  ] as const)("%s: an MSI to the unmapped device after the restore returns %i", (behaviour, expected) => {
    const { vm, fd, driver } = vmWithVits(2, true, behaviour);
    driver.enable();
    driver.submit(cmd.mapd(2, ITT + 0x20000, 3), cmd.mapd(5, ITT + 0x50000, 3), cmd.mapc(0, 1), cmd.mapti(2, 3, 8300, 0), cmd.mapti(5, 1, 8301, 0));
    const ctrl = (attr: number) => fd.setDeviceAttr({ group: CTRL, attr });
    ctrl(KVM_DEV_ARM_ITS_SAVE_TABLES);
    driver.submit(cmd.mapd(2, 0, 0, false));
    expect(vgicItsInjectMsi(vm, msi(2, 3))).toBe(0);
    ctrl(KVM_DEV_ARM_ITS_SAVE_TABLES);
    expect(vm.memory.readU64(DT + 2 * 8) >> 63n).toBe(BigInt(expected)); // the stale DTE, or the zero one
    ctrl(KVM_DEV_ARM_ITS_CTRL_RESET);
    driver.enable();
    ctrl(KVM_DEV_ARM_ITS_RESTORE_TABLES);
    expect(vgicItsInjectMsi(vm, msi(2, 3))).toBe(expected);
    expect(vgicItsInjectMsi(vm, msi(5, 1))).toBe(1);
  });
});

describe("two-level device table and SAVE/RESTORE (vgic_its_save_device_tables, handle_l1_dte)", () => {
  const L2 = RAM + 0x40_0000;
  /** BASER0 two-level (Indirect), one L1 page at DT; L1[0] → L2, L1[1] → L2 + 64 KiB. */
  function indirect(behaviour?: VitsBehaviour) {
    const t = vmWithVits(2, true, behaviour);
    t.driver.enable();
    const bus = t.vm.kernelBus;
    bus.write(ITS_BASE + 0x0000, 4, 0, 0); // disable to write BASER0
    const lo = bus.read(ITS_BASE + GITS_BASER, 4);
    const hi = bus.read(ITS_BASE + GITS_BASER + 4, 4);
    bus.write(ITS_BASE + GITS_BASER, 8, lo, (hi | GITS_BASER_HI_VALID | (1 << 30)) >>> 0);
    t.vm.memory.writeU64(DT, (1n << 63n) | BigInt(L2));
    t.vm.memory.writeU64(DT + 8, (1n << 63n) | BigInt(L2 + 0x10000));
    t.driver.enable();
    t.driver.submit(cmd.mapd(3, ITT + 0x30000, 3), cmd.mapd(8195, ITT + 0x40000, 3), cmd.mapc(0, 1), cmd.mapti(3, 0, 8200, 0), cmd.mapti(8195, 0, 8201, 0));
    expect(t.dev.its.commandErrors).toBe(0);
    return t;
  }

  it("linux-6.16: SAVE skips a mapped device behind a level-1 entry the guest cleared; linux-6.6 failed EINVAL", () => {
    const main = indirect();
    const old = indirect("linux-6.6");
    for (const t of [main, old]) t.vm.memory.writeU64(DT, 0n);
    const save = (t: typeof main) => outcome(() => t.fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES }));
    expect(save(old)).toBe("EINVAL");
    // vgic_its_save_device_tables(): "Don't fail a save that userspace must be able to issue."
    expect(save(main)).toBe("ok");
    expect(main.vm.memory.readU64(L2 + 3 * 8)).toBe(0n); // DeviceID 3's entry is not written
    expect(main.vm.memory.readU64(L2 + 0x10000 + 3 * 8) >> 63n).toBe(1n); // DeviceID 8195's is
  });

  it("RESTORE skips an invalid level-1 entry and restores the devices behind the valid ones", () => {
    const { vm, fd, driver } = indirect();
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES });
    expect(vm.memory.readU64(L2 + 3 * 8) >> 63n).toBe(1n);
    expect(vm.memory.readU64(L2 + 0x10000 + 3 * 8) >> 63n).toBe(1n);
    vm.memory.writeU64(DT, 0n); // L1[0] invalid now: DeviceID 3 cannot be found
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    const bus = vm.kernelBus;
    const lo = bus.read(ITS_BASE + GITS_BASER, 4);
    const hi = bus.read(ITS_BASE + GITS_BASER + 4, 4);
    bus.write(ITS_BASE + GITS_BASER, 8, ((lo & 0xf00) | DT) >>> 0, (hi | GITS_BASER_HI_VALID | (1 << 30)) >>> 0);
    driver.enable();
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES });
    expect(vgicItsInjectMsi(vm, msi(8195, 0))).toBe(1);
    expect(vgicItsInjectMsi(vm, msi(3, 0))).toBe(0);
  });
});

describe("MOVALL acts on every LPI of the VM (vgic_its_cmd_handle_movall walks dist->lpi_xa)", () => {
  it("a MOVALL on one vITS retargets an LPI another vITS maps, past that vITS's cached translation", () => {
    const { vm, gic, driver } = vmWithVits(2);
    driver.enable();
    const fd2 = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    const base2 = ITS_BASE + 0x2_0000;
    fd2.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: base2 });
    const dev2 = fd2.ops;
    if (!(dev2 instanceof VgicItsDevice)) throw new Error("KVM_CREATE_DEVICE did not make a VgicItsDevice");
    const its2 = dev2.its;
    // The second vITS's queue and tables, programmed as the guest driver does for the first.
    its2.write(GITS_CBASER, 8, RAM + 0x30_0000 + 15, GITS_CBASER_HI_VALID);
    for (const [n, base] of [RAM + 0x31_0000, RAM + 0x32_0000].entries()) {
      const lo = its2.read(GITS_BASER + 8 * n, 4, { hi: 0 });
      const hi = its2.read(GITS_BASER + 8 * n + 4, 4, { hi: 0 });
      its2.write(GITS_BASER + 8 * n, 8, ((lo & 0xf00) | base) >>> 0, (hi | GITS_BASER_HI_VALID) >>> 0);
    }
    its2.write(GITS_CTLR, 4, GITS_CTLR_ENABLE, 0);
    for (const c of [cmd.mapd(3, ITT + 0x30000, 3), cmd.mapc(0, 0), cmd.mapti(3, 0, 8300, 0)]) its2.executeCommand(c);
    expect(its2.commandErrors).toBe(0);
    const viaSecond = msi(3, 0, KVM_MSI_VALID_DEVID, base2 + 0x10040);
    expect(vgicItsInjectMsi(vm, viaSecond)).toBe(1);
    expect(vgicItsInjectMsi(vm, viaSecond)).toBe(1); // now a cache hit
    gic.clearLpiPending(0, 8300);
    driver.submit(cmd.movall(0, 1)); // on the first vITS, which maps no LPI at all
    expect(vgicItsInjectMsi(vm, viaSecond)).toBe(1);
    expect([gic.isLpiPending(0, 8300), gic.isLpiPending(1, 8300)]).toEqual([false, true]);
  });
});
