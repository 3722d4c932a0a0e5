/**
 * Integration with the vgic-v3 device and the VM-level irqfd / routing /
 * KVM_SIGNAL_MSI plumbing: the vITS plugs into VgicV3 (onInit, setMsiController),
 * so vm.signalMsi, MSI routes behind irqfds and irq bypass reach it.
 */
import { GICR_CTLR, GICR_PENDBASER, GICR_PROPBASER, ICC_IAR1_EL1, ICH_HCR_EL2, ICH_VMCR_EL2, ITS_MSI_DELIVERED_VIRTUAL, itsCommand as cmd } from "@irqlab/gic";
import { describe, expect, it } from "vitest";
import { EventFd } from "../../irqfd/eventfd.js";
import { KVM_IRQ_ROUTING_MSI, KVM_MSI_VALID_DEVID } from "../../irqfd/gsi-routing.js";
import { KVM_IRQFD_FLAG_DEASSIGN } from "../../irqfd/vm-irqfds.js";
import { Kvm } from "../../kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8, KVM_DEV_TYPE_ARM_VGIC_ITS, KVM_DEV_TYPE_ARM_VGIC_V3 } from "../../uapi/device-types.js";
import {
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
} from "../vgic-uapi.js";
import { VgicV3 } from "../vgic-v3.js";
import { HostGicv4 } from "./host-gicv4.js";
import { enableVgicV4 } from "./vgic-v4-forwarding.js";
import { GuestItsDriver, ITS_BASE, ITT, PEND, PROP, RAM, RAM_SIZE, msi, outcome } from "./vits-rig.js";

const DEV = 0x10;

function rig() {
  const kvm = new Kvm({ arch: "arm64" }); // the vgic-v3 and the ITS are registered by default
  const vm = kvm.createVm();
  vm.createVcpu(0).armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: RAM_SIZE });
  const vgicFd = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  vgicFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: 0x0800_0000 });
  vgicFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: 0x080a_0000 });
  const itsFd = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
  itsFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: ITS_BASE });
  return { kvm, vm, vgicFd, itsFd, driver: new GuestItsDriver(vm.kernelBus, vm.memory) };
}

describe("vITS with the vgic-v3 device and VM-level MSI plumbing", () => {
  it("KVM_SIGNAL_MSI and an irqfd with an MSI route reach the vgic's LPIs once CTRL_INIT ran", () => {
    const { vm, vgicFd, driver } = rig();
    expect(outcome(() => vm.signalMsi(msi(DEV, 0)))).toBe("EBUSY"); // the vITS is not enabled yet
    vgicFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
    const gic = VgicV3.of(vm)!.gic!;
    for (let i = 0; i < 64; i++) vm.memory.writeU8(PROP + i, 0xa0 | 3);
    gic.redistributors.write(GICR_PROPBASER, 8, PROP | 15, 0);
    gic.redistributors.write(GICR_PENDBASER, 8, PEND, 0);
    gic.redistributors.write(GICR_CTLR, 4, 1, 0);
    driver.enable();
    driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapti(DEV, 0, 8192, 0), cmd.mapti(DEV, 1, 8193, 0));
    expect(vm.signalMsi(msi(DEV, 0))).toBe(1);
    expect(gic.isLpiPending(0, 8192)).toBe(true);
    expect(vm.signalMsi(msi(DEV, 5))).toBe(0); // unmapped EventID
    vm.setGsiRouting([{ gsi: 10, type: KVM_IRQ_ROUTING_MSI, flags: KVM_MSI_VALID_DEVID, addressLo: ITS_BASE + 0x10040, addressHi: 0, data: 1, devid: DEV }]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 10 });
    fd.signal();
    expect(gic.isLpiPending(0, 8193)).toBe(true);
  });

  it("an irq bypass producer meeting the irqfd forwards the host interrupt (GICv4.1) and deassign unforwards it", () => {
    const { kvm, vm, vgicFd, driver } = rig();
    vgicFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
    const gic = VgicV3.of(vm)!.gic!;
    for (let i = 0; i < 64; i++) vm.memory.writeU8(PROP + i, 0xa0 | 3);
    gic.redistributors.write(GICR_PROPBASER, 8, PROP | 15, 0);
    gic.redistributors.write(GICR_PENDBASER, 8, PEND, 0);
    gic.redistributors.write(GICR_CTLR, 4, 1, 0);
    gic.writeSysReg(0, ICH_HCR_EL2, 1);
    gic.writeSysReg(0, ICH_VMCR_EL2, ((0xff << 24) | 2) >>> 0);
    driver.enable();
    driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapti(DEV, 1, 8193, 0));
    const host = new HostGicv4({ vpes: 1 });
    const hv = host.addDevice(3, 1)[0]!;
    const fwd = enableVgicV4(vm, { host });
    fwd.vcpuLoad(0);
    vm.setGsiRouting([{ gsi: 10, type: KVM_IRQ_ROUTING_MSI, flags: KVM_MSI_VALID_DEVID, addressLo: ITS_BASE + 0x10040, addressHi: 0, data: 1, devid: DEV }]);
    const fd = new EventFd();
    host.requestIrq(hv.irq, () => fd.signal()); // vfio_msihandler
    vm.irqfd({ fd, gsi: 10 });
    kvm.irqBypass.registerProducer({ irq: hv.irq }, fd); // VFIO registers its producer: add_producer → set_forwarding
    expect(host.isForwarded(hv.irq)).toBe(true);
    expect(host.fire(hv.irq)).toBe(ITS_MSI_DELIVERED_VIRTUAL);
    expect(gic.hyp[0]!.readIcv(ICC_IAR1_EL1)).toBe(8193);
    vm.irqfd({ fd, gsi: 10, flags: KVM_IRQFD_FLAG_DEASSIGN }); // del_producer → unset_forwarding
    expect(host.isForwarded(hv.irq)).toBe(false);
  });
});
