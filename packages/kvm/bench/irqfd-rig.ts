/**
 * The VM both irqfd benchmarks run: an arm64 vCPU, an explicitly initialised
 * vgic-v3 (NR_IRQS 128), an eventfd as a KVM_IRQFD on SPI 40 (with a
 * resamplefd for a level SPI), and the package's GICv3 guest driver, which
 * acknowledges and completes each interrupt.
 */
import {
  EventFd,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_IRQFD_FLAG_RESAMPLE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  Kvm,
  gicv3GuestImage,
  type Vcpu,
} from "../src/index.js";

/** Interrupts per bench call. */
export const N = 1000;
/** The SPI the irqfd injects. */
export const SPI = 40;

/** A booted arm64 VM: vgic-v3 initialised, an irqfd on SPI 40, a GICv3 guest driver. */
export interface Rig {
  vcpu: Vcpu;
  fd: EventFd;
  resamplefd: EventFd;
  completed: () => number;
}

/** Builds the VM; `doorbellAddr` lets the guest ring a device register after each interrupt. */
export function rig(edge: boolean, doorbellAddr?: number): Rig {
  const kvm = new Kvm(); // arm64: the vgic-v3 is registered by default
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 128 });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: 0x0800_0000 });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: 0x080a_0000 });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const fd = new EventFd();
  const resamplefd = new EventFd();
  vm.irqfd(edge ? { fd, gsi: SPI - 32 } : { fd, gsi: SPI - 32, flags: KVM_IRQFD_FLAG_RESAMPLE, resamplefd });
  let completed = 0;
  vcpu.loadGuest(
    gicv3GuestImage({
      distBase: 0x0800_0000,
      spis: [{ intid: SPI, edge }],
      onComplete: () => completed++,
      ...(doorbellAddr === undefined ? {} : { doorbellAddr }),
    }),
  );
  return { vcpu, fd, resamplefd, completed: () => completed };
}
