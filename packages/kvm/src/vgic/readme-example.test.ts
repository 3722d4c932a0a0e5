/** src/vgic/README.md's example, executed as written (imports adapted to the package's own source). */
import { expect, test } from "vitest";
import {
  EventFd, KVM_ARM_TARGET_GENERIC_V8, KVM_DEV_ARM_VGIC_CTRL_INIT, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_TYPE_ARM_VGIC_V3, KVM_EXIT_INTR, KVM_VGIC_V3_ADDR_TYPE_DIST, KVM_VGIC_V3_ADDR_TYPE_REDIST, Kvm, gicv3GuestImage,
} from "../index.js";

test("vgic README example: eventfd → irqfd → SPI 40 → the guest acknowledges it", () => {
  const kvm = new Kvm({ arch: "arm64" }); // registers KVM_DEV_TYPE_ARM_VGIC_V3 (default: explicit CTRL_INIT) and the ITS
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: 0x0800_0000 });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: 0x080a_0000 });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const fd = new EventFd();
  vm.irqfd({ fd, gsi: 8 }); // default routing: GSI 8 → SPI 40
  const seen: number[] = [];
  vcpu.loadGuest(gicv3GuestImage({ distBase: 0x0800_0000, spis: [{ intid: 40, edge: true }], onAcknowledge: (i) => seen.push(i) }));
  kvm.queue.schedule(10_000, () => fd.signal()); // the device fires at t = 10 us
  const exit = vcpu.run(); // boots, waits in WFI, takes SPI 40 (IAR1, EOIR1), goes idle: KVM_EXIT_INTR
  console.log(seen); // [ 40 ]

  expect(seen).toEqual([40]);
  expect(exit.reason).toBe(KVM_EXIT_INTR);
});
