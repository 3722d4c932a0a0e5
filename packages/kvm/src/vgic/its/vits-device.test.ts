import { GITS_CREADR, GITS_CTLR, GITS_TYPER, itsCommand as cmd } from "@irqlab/gic";
import { describe, expect, it } from "vitest";
import { Kvm } from "../../kvm.js";
import { KVM_DEV_TYPE_ARM_VGIC_ITS } from "../../uapi/device-types.js";
import {
  KVM_DEV_ARM_ITS_CTRL_RESET,
  KVM_DEV_ARM_ITS_RESTORE_TABLES,
  KVM_DEV_ARM_ITS_SAVE_TABLES,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_ITS_REGS,
  KVM_VGIC_ITS_ADDR_TYPE,
  VGIC_ADDR_UNDEF,
} from "../vgic-uapi.js";
import type { Device } from "../../device.js";
import { VgicItsDevice } from "./vits-device.js";
import { vgicItsInjectMsi } from "./vits-msi.js";
import { CT, DT, ITS_BASE, ITT, msi, outcome, vmWithVits } from "./vits-rig.js";

const ADDR = KVM_DEV_ARM_VGIC_GRP_ADDR;
const CTRL = KVM_DEV_ARM_VGIC_GRP_CTRL;
const REGS = KVM_DEV_ARM_VGIC_GRP_ITS_REGS;

describe("KVM_DEV_TYPE_ARM_VGIC_ITS attributes (vgic-its.c vgic_its_set_attr / vgic_its_get_attr, arm-vgic-its.rst)", () => {
  it("GRP_ADDR: ENODEV for another type, EINVAL misaligned, E2BIG beyond the IPA, EEXIST when set twice", () => {
    const kvm = new Kvm({ arch: "arm64" });
    const vm = kvm.createVm(); // 40-bit IPA
    const fd = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    const set = (attr: number, value: unknown) => outcome(() => fd.setDeviceAttr({ group: ADDR, attr, value }));
    expect(fd.getDeviceAttr({ group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE })).toBe(VGIC_ADDR_UNDEF);
    expect(set(2, 0x0808_0000)).toBe("ENODEV"); // vgic_its_set_attr: type != KVM_VGIC_ITS_ADDR_TYPE
    expect(outcome(() => fd.getDeviceAttr({ group: ADDR, attr: 3 }))).toBe("ENODEV");
    expect(outcome(() => fd.hasDeviceAttr({ group: ADDR, attr: 3 }))).toBe("ENXIO"); // has_attr answers ENXIO
    expect(set(KVM_VGIC_ITS_ADDR_TYPE, undefined)).toBe("EFAULT");
    expect(set(KVM_VGIC_ITS_ADDR_TYPE, 0x0808_1000)).toBe("EINVAL"); // not 64 KiB aligned
    expect(set(KVM_VGIC_ITS_ADDR_TYPE, 2 ** 40 - 0x10000)).toBe("E2BIG"); // 128 KiB frame crosses the IPA limit
    expect(set(KVM_VGIC_ITS_ADDR_TYPE, 0x0808_0000n)).toBe("ok");
    expect(set(KVM_VGIC_ITS_ADDR_TYPE, 0x0900_0000)).toBe("EEXIST");
    expect(fd.getDeviceAttr({ group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE })).toBe(0x0808_0000n);
    // vgic_register_its_iodev(): mapped on the kernel MMIO bus right away, 128 KiB.
    expect(vm.kernelBus.find(0x0808_0000 + 0x1_fffc, 4)).toBeDefined();
    expect(vm.kernelBus.read(0x0808_0000 + GITS_TYPER, 4)).toBe(0x1ef71);
  });

  it("GRP_CTRL: INIT is a no-op, unknown attributes ENXIO, the group is not readable", () => {
    const { fd } = vmWithVits();
    expect(outcome(() => fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT }))).toBe("ok");
    expect(outcome(() => fd.setDeviceAttr({ group: CTRL, attr: 3 }))).toBe("ENXIO"); // SAVE_PENDING_TABLES is the vgic's
    expect(outcome(() => fd.getDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET }))).toBe("ENXIO");
    for (const a of [0, 1, 2, 4]) expect(outcome(() => fd.hasDeviceAttr({ group: CTRL, attr: a }))).toBe("ok");
    expect(outcome(() => fd.hasDeviceAttr({ group: CTRL, attr: 5 }))).toBe("ENXIO");
    expect(outcome(() => fd.setDeviceAttr({ group: 1, attr: 0 }))).toBe("ENXIO");
  });

  it("GRP_ITS_REGS: EINVAL misaligned before ENXIO; ENXIO without a base or a register; CREADR EBUSY/EINVAL", () => {
    const kvm = new Kvm({ arch: "arm64" });
    const fd = kvm.createVm().createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    const get = (attr: number) => outcome(() => fd.getDeviceAttr({ group: REGS, attr }));
    expect(get(GITS_TYPER + 4)).toBe("EINVAL"); // 64-bit registers need 8-byte alignment
    expect(get(GITS_CTLR)).toBe("ENXIO"); // base not set
    expect(outcome(() => fd.hasDeviceAttr({ group: REGS, attr: GITS_CTLR }))).toBe("ok"); // has_attr does not check the base
    expect(outcome(() => fd.hasDeviceAttr({ group: REGS, attr: 0x18 }))).toBe("ENXIO"); // GITS_MPIDR: no region in KVM
    expect(outcome(() => fd.hasDeviceAttr({ group: REGS, attr: 0x10040 }))).toBe("ENXIO"); // GITS_TRANSLATER
    const { fd: fd2, driver } = vmWithVits();
    const regs = (attr: number, value?: bigint) =>
      value === undefined ? fd2.getDeviceAttr({ group: REGS, attr }) : outcome(() => fd2.setDeviceAttr({ group: REGS, attr, value }));
    expect(regs(GITS_TYPER)).toBe(0x1ef71n); // vgic-its.c vgic_mmio_read_its_typer: Physical | ITT 8 B | IDbits 16 | Devbits 16
    expect(regs(0xffe8)).toBe(0x3bn); // GITS_PIDR2
    expect(regs(0x4, 0x1000n)).toBe("EINVAL"); // IIDR revision 1 ≥ NR_ITS_ABIS
    expect(regs(0x4, 0n)).toBe("ok");
    driver.enable();
    expect(regs(GITS_CREADR, 0x20n)).toBe("EBUSY"); // uaccess CREADR while enabled
    fd2.setDeviceAttr({ group: REGS, attr: GITS_CTLR, value: 0n });
    expect(regs(GITS_CREADR, 0x10000n)).toBe("EINVAL"); // beyond the 16-page (64 KiB) queue
    expect(regs(GITS_CREADR, 0x20n)).toBe("ok");
    expect(regs(GITS_CREADR)).toBe(0x20n);
  });
});

describe("KVM_SIGNAL_MSI through the vITS (vgic-its.c vgic_its_inject_msi, virt/kvm/irqchip.c kvm_send_userspace_msi)", () => {
  it("returns 1 delivered, 0 unmapped, and fails ENODEV / EINVAL / EBUSY as Linux", () => {
    const kvm = new Kvm({ arch: "arm64" });
    expect(outcome(() => vgicItsInjectMsi(kvm.createVm(), msi(1, 0)))).toBe("ENODEV"); // no ITS on the VM
    const { vm, gic, driver, fd } = vmWithVits();
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0, 0)))).toBe("EINVAL"); // no KVM_MSI_VALID_DEVID
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0, 1, 0x0900_0040)))).toBe("EINVAL"); // not an ITS doorbell
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0)))).toBe("EBUSY"); // ITS disabled
    driver.enable();
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0)))).toBe("0"); // unmapped: "blocked by the guest"
    driver.submit(cmd.mapd(1, ITT + 0x10000, 3), cmd.mapc(0, 1), cmd.mapti(1, 0, 8200, 0), cmd.mapc(1, 0), cmd.mapti(1, 1, 8201, 1));
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0)))).toBe("1");
    expect([gic.isLpiPending(1, 8200), gic.isLpiPending(0, 8200)]).toEqual([true, false]); // vCPU 1's redistributor
    gic.clearLpiPending(1, 8200);
    // The second MSI hits the translation cache (still 1). The cached path runs before
    // vgic_msi_to_its(), so it does not look at KVM_MSI_VALID_DEVID (vgic_its_inject_cached_translation).
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0)))).toBe("1");
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0, 0)))).toBe("1");
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 1, 0)))).toBe("EINVAL"); // not cached: the flag is checked
    // EnableLPIs = 0 on the target RD: the cache entry is dropped and the MSI is EBUSY.
    gic.redistributors.write(0 * gic.redistributors.stride, 4, 0, 0);
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 1)))).toBe("EBUSY");
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0)))).toBe("1"); // RD 1 still has LPIs
    // Any address inside the 128 KiB frame names the ITS (kvm_io_bus_get_dev).
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0, 1, ITS_BASE)))).toBe("1");
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0)))).toBe("EBUSY"); // reset disables the ITS
  });

  it("guest writes to GITS_TRANSLATER deliver nothing (KVM has no such region)", () => {
    const { vm, gic, driver } = vmWithVits();
    driver.enable();
    driver.submit(cmd.mapd(1, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapti(1, 0, 8200, 0));
    vm.kernelBus.write(ITS_BASE + 0x10040, 4, 0, 0);
    expect(gic.isLpiPending(0, 8200)).toBe(false);
    expect(vgicItsInjectMsi(vm, msi(1, 0))).toBe(1);
    expect(gic.isLpiPending(0, 8200)).toBe(true);
    expect(vm.tracer.counters.get("guest-error:its:translater")).toBe(1);
  });
});

/** The VgicItsDevice behind a KVM_DEV_TYPE_ARM_VGIC_ITS fd. */
function itsOf(fd: Device): VgicItsDevice {
  const d = fd.ops;
  if (!(d instanceof VgicItsDevice)) throw new Error("not a vITS fd");
  return d;
}

describe("two vITS devices at one base (vgic_its_set_attr → vgic_register_its_iodev → kvm_io_bus_register_dev)", () => {
  // arch/arm64/kvm/vgic/vgic-its.c: vgic_check_iorange() only looks at this ITS's own base (EEXIST
  // when already set), alignment and the IPA size; vgic_register_its_iodev() then calls
  // kvm_io_bus_register_dev() (virt/kvm/kvm_main.c), which checks no overlap and inserts the range
  // after the equal ones. So Linux accepts the second ITS at set_attr time, and both guest MMIO and
  // doorbell lookups (kvm_io_bus_get_first_dev, __vgic_doorbell_to_its) reach the first registered.
  it("the second KVM_VGIC_ITS_ADDR_TYPE at the same base succeeds; the first-registered ITS answers MMIO and MSIs", () => {
    const { vm, driver, dev: first } = vmWithVits();
    const fd2 = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    expect(outcome(() => fd2.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: ITS_BASE }))).toBe("ok");
    expect(fd2.getDeviceAttr({ group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE })).toBe(BigInt(ITS_BASE));
    expect(outcome(() => fd2.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: ITS_BASE }))).toBe("EEXIST"); // its own base is set
    const second = itsOf(fd2);
    driver.enable(); // through the kernel bus
    expect([first.its.enabled, second.its.enabled]).toEqual([true, false]);
    // The doorbell names the first ITS: enabled and unmapped → 0, not the second's EBUSY.
    expect(outcome(() => vgicItsInjectMsi(vm, msi(1, 0)))).toBe("0");
    // Registration order decides, not creation order.
    const { vm: vm2 } = vmWithVits();
    const a = vm2.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    const b = vm2.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    b.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: 0x0a00_0000 });
    a.setDeviceAttr({ group: ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: 0x0a00_0000 });
    vm2.kernelBus.write(0x0a00_0000 + 0x80, 8, 0x4000_000f, 0); // GITS_CBASER: Size 15 at 1 GiB
    const cbaser = (d: typeof a) => itsOf(d).its.read(0x80, 4, { hi: 0 }) & 0xffff_f0ff;
    expect([cbaser(a), cbaser(b)]).toEqual([0, 0x4000_000f]);
  });
});

describe("KVM_DEV_ARM_ITS_SAVE_TABLES / RESTORE_TABLES (ABI rev 0, Documentation/virt/kvm/devices/arm-vgic-its.rst)", () => {
  it("saves DTE/ITE/CTE in the documented layout and restores the same translations", () => {
    const { vm, fd, driver, dev } = vmWithVits();
    driver.enable();
    driver.submit(cmd.mapd(2, ITT + 0x20000, 3), cmd.mapd(5, ITT + 0x50000, 1), cmd.mapc(0, 1), cmd.mapc(7, 0), cmd.mapti(2, 3, 8300, 7), cmd.mapti(5, 1, 8301, 0));
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES });
    // DTE of DeviceID 2: V | next = 3 (to DeviceID 5) | ITT >> 8 in [48:5] | Size 3.
    const dte = vm.memory.readU64(DT + 2 * 8);
    expect(dte).toBe((1n << 63n) | (3n << 49n) | (BigInt((ITT + 0x20000) / 256) << 5n) | 3n);
    expect(vm.memory.readU64(DT + 5 * 8) >> 49n).toBe(1n << 14n); // V set, next = 0: the last device
    // ITE of (2, 3): next 0 | pINTID 8300 | ICID 7.
    expect(vm.memory.readU64(ITT + 0x20000 + 3 * 8)).toBe((8300n << 16n) | 7n);
    // CTEs packed, then an invalid terminator.
    expect(vm.memory.readU64(CT)).toBe((1n << 63n) | (1n << 16n) | 0n);
    expect(vm.memory.readU64(CT + 8)).toBe((1n << 63n) | 7n);
    expect(vm.memory.readU64(CT + 16)).toBe(0n);
    const before = dev.its.state().tables;
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    expect(dev.its.state().tables?.devices).toEqual([]);
    // Restore order (arm-vgic-its.rst): BASERs and CBASER first, then RESTORE_TABLES, then CTLR.
    driver.enable();
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES });
    const after = dev.its.state().tables;
    expect(new Set(after?.devices.map((d) => JSON.stringify(d)))).toEqual(new Set(before?.devices.map((d) => JSON.stringify(d))));
    expect(new Map(after?.collections)).toEqual(new Map(before?.collections));
    expect(vgicItsInjectMsi(vm, msi(2, 3))).toBe(1);
  });

  it("restore into a reset ITS fails EINVAL for a bad ITE and EEXIST for a duplicate ICID, leaving nothing behind", () => {
    const { vm, fd, driver, dev } = vmWithVits();
    driver.enable();
    driver.submit(cmd.mapd(2, ITT + 0x20000, 3), cmd.mapc(0, 1), cmd.mapti(2, 3, 8300, 0));
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES });
    vm.memory.writeU64(ITT + 0x20000 + 3 * 8, (100n << 16n) | 0n); // pINTID 100 < 8192
    // As a migration target: reset, the registers back, then the tables (arm-vgic-its.rst).
    const restore = () => {
      fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
      driver.enable();
      return outcome(() => fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES }));
    };
    expect(restore()).toBe("EINVAL"); // vgic_its_restore_ite: lpi_id < VGIC_MIN_LPI
    expect(dev.its.state().tables).toEqual({ devices: [], collections: [] });
    vm.memory.writeU64(CT + 8, vm.memory.readU64(CT)); // the same ICID twice
    expect(restore()).toBe("EEXIST");
    expect(dev.its.state().tables).toEqual({ devices: [], collections: [] });
    vm.memory.writeU64(CT + 8, 0n);
    vm.memory.writeU64(CT, (1n << 63n) | (9n << 16n)); // target vCPU 9 does not exist
    expect(restore()).toBe("EINVAL");
  });
});

describe("RESTORE_TABLES adds to what the ITS holds (vgic_its_restore_tables_v0)", () => {
  it("a CTE whose ICID the ITS holds is EEXIST (vgic_its_restore_cte → find_collection), and every collection is freed", () => {
    const { vm, fd, driver, dev } = vmWithVits();
    driver.enable();
    driver.submit(cmd.mapd(2, ITT + 0x20000, 3), cmd.mapc(0, 1), cmd.mapti(2, 3, 8300, 0));
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES });
    expect(outcome(() => fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES }))).toBe("EEXIST");
    // vgic_its_free_collection_list(): the device stays, its ITE has lost its collection for good.
    const tables = dev.its.state().tables!;
    expect(tables.collections).toEqual([]);
    expect(tables.devices.map((d) => [d.id, d.ites.map((i) => i[3])])).toEqual([[2, [-1]]]);
    driver.submit(cmd.mapc(0, 1));
    expect(vgicItsInjectMsi(vm, msi(2, 3))).toBe(0);
  });

  it("restored collections and devices join those held; a DTE of a DeviceID held already changes nothing", () => {
    const { vm, fd, driver, dev } = vmWithVits();
    driver.enable();
    driver.submit(cmd.mapd(2, ITT + 0x20000, 3), cmd.mapc(0, 1), cmd.mapti(2, 3, 8300, 0));
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES }); // CTE 0 → vCPU 1, DTE 2, ITE (2, 3)
    // Collection 0 freed (device 2's ITE orphaned); device 7 and collection 1 → vCPU 0 mapped.
    driver.submit(cmd.mapc(0, 0, false), cmd.mapc(1, 0), cmd.mapd(7, ITT + 0x70000, 3), cmd.mapti(7, 1, 8310, 1));
    expect(outcome(() => fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES }))).toBe("ok");
    expect(new Map(dev.its.state().tables!.collections)).toEqual(new Map([[1, 0], [0, 1]]));
    expect(vgicItsInjectMsi(vm, msi(7, 1))).toBe(1);
    // find_its_device() finds the device held first: its orphaned ITE, not the restored twin.
    expect(vgicItsInjectMsi(vm, msi(2, 3))).toBe(0);
  });

  it("an ICID the collection table cannot hold is EINVAL (vgic_its_check_id on the flat table)", () => {
    const { vm, fd, driver } = vmWithVits();
    driver.enable();
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    driver.enable();
    vm.memory.writeU64(CT, (1n << 63n) | 0xffffn); // one 64 KiB page holds ICIDs 0..8191
    vm.memory.writeU64(CT + 8, 0n);
    expect(outcome(() => fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES }))).toBe("EINVAL");
  });

  it.each([
    ["linux-6.16", "EINVAL"],
    ["linux-6.6", "ok"],
  ] as const)("%s: a DTE with more than 16 EventID bits restores %s (vgic_its_restore_dte)", (behaviour, expected) => {
    const { vm, fd, driver } = vmWithVits(2, true, behaviour);
    driver.enable();
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    driver.enable();
    vm.memory.writeU64(CT, 0n);
    // DTE of DeviceID 0: V, last, ITT at ITT, Size 16 (17 bits); its ITT is all zero (no ITE).
    vm.memory.writeU64(DT, (1n << 63n) | (BigInt(ITT / 256) << 5n) | 16n);
    expect(outcome(() => fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES }))).toBe(expected);
  });

  it("linux-6.16: an ITE whose collection MAPC V=0 freed is saved as a zero entry the chain skips (vgic_its_save_ite)", () => {
    const { vm, fd, driver } = vmWithVits();
    driver.enable();
    driver.submit(cmd.mapd(2, ITT + 0x20000, 3), cmd.mapc(0, 1), cmd.mapc(1, 0), cmd.mapti(2, 1, 8300, 1), cmd.mapti(2, 3, 8301, 0), cmd.mapti(2, 5, 8302, 1));
    driver.submit(cmd.mapc(0, 0, false));
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_SAVE_TABLES });
    // ITE 1 → next valid ITE is 5 (offset 4), ITE 3 zero, ITE 5 last.
    expect(vm.memory.readU64(ITT + 0x20000 + 8)).toBe((4n << 48n) | (8300n << 16n) | 1n);
    expect(vm.memory.readU64(ITT + 0x20000 + 3 * 8)).toBe(0n);
    expect(vm.memory.readU64(ITT + 0x20000 + 5 * 8)).toBe((8302n << 16n) | 1n);
    fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    driver.enable();
    expect(outcome(() => fd.setDeviceAttr({ group: CTRL, attr: KVM_DEV_ARM_ITS_RESTORE_TABLES }))).toBe("ok");
    expect([vgicItsInjectMsi(vm, msi(2, 1)), vgicItsInjectMsi(vm, msi(2, 3)), vgicItsInjectMsi(vm, msi(2, 5))]).toEqual([1, 0, 1]);
  });
});
