/**
 * The VMs of the conservation target, built through the KVM API the way QEMU
 * does: an arm64 VM with the in-kernel vgic-v3 (QEMU virt memory map,
 * KVM_DEV_ARM_VGIC_CTRL_INIT) running the GICv3 guest driver, and a riscv64
 * VM with the in-kernel AIA (QEMU kvm_riscv_aia_create order) running a guest
 * that enables identities in its IMSIC file and claims them through stopei.
 * Each VM reports what its guest acknowledged, and how to ask the model
 * whether an interrupt is pending (to tell a coalesced edge from a new one).
 */

import {
  EventFd,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_RISCV_AIA_ADDR_IMSIC,
  KVM_DEV_RISCV_AIA_CONFIG_HART_BITS,
  KVM_DEV_RISCV_AIA_CONFIG_MODE,
  KVM_DEV_RISCV_AIA_CONFIG_SRCS,
  KVM_DEV_RISCV_AIA_CTRL_INIT,
  KVM_DEV_RISCV_AIA_GRP_ADDR,
  KVM_DEV_RISCV_AIA_GRP_CONFIG,
  KVM_DEV_RISCV_AIA_GRP_CTRL,
  KVM_DEV_RISCV_AIA_MODE_AUTO,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_DEV_TYPE_RISCV_AIA,
  KVM_IRQ_ROUTING_IRQCHIP,
  KVM_IRQ_ROUTING_MSI,
  KVM_MP_STATE_RUNNABLE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  VgicV3,
  gicv3GuestImage,
  type Kvm,
  type RiscvAiaDevice,
  type RoutingEntry,
  type Vcpu,
  type Vm,
} from "@irqlab/kvm";
import { claimingGuest } from "../../packages/kvm/test/aia-test-kit.js";

/** QEMU virt: VIRT_GIC_DIST, VIRT_GIC_REDIST, VIRT_IMSIC_S. */
const DIST = 0x0800_0000;
const REDIST = 0x080a_0000;
const IMSIC = 0x2800_0000;

/** Interrupts each VM uses: SPIs 40.. on Arm, identities 1.. on RISC-V. */
export const SOURCES_PER_VM = 8;

/** How an interrupt is raised. */
export type Injection = "line" | "irqfd" | "route" | "msi";

/** One VM under test. */
export interface ConservedVm {
  readonly vm: Vm;
  readonly vcpus: Vcpu[];
  /** Interrupt numbers the guest enables and acknowledges. */
  readonly ids: readonly number[];
  /** Injections this architecture offers. */
  readonly injections: readonly Injection[];
  /** What the guest acknowledged, in order. */
  readonly taken: number[];
  /** Raises `id` by `how`. */
  raise(id: number, how: Injection): void;
  /** Whether `id` is pending (not yet acknowledged) in the model. */
  pending(id: number): boolean;
}

/** An arm64 VM with a vgic-v3 and edge SPIs 40..47, routed to vCPU 0. */
export function armVm(kvm: Kvm, vcpuCount: number): ConservedVm {
  const vm = kvm.createVm();
  const vcpus = Array.from({ length: vcpuCount }, (_, i) => {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    return v;
  });
  const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: REDIST });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const ids = Array.from({ length: SOURCES_PER_VM }, (_, i) => 40 + i);
  const taken: number[] = [];
  // GSI g → pin g → SPI 32 + g on the default routing (vgic-irqfd.c); GSIs 100.. by explicit irqchip routes.
  const routes: RoutingEntry[] = [
    ...ids.map((id): RoutingEntry => ({ gsi: id - 32, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: id - 32 })),
    ...ids.map((id): RoutingEntry => ({ gsi: 100 + id, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: id - 32 })),
  ];
  vm.setGsiRouting(routes);
  const fds = new Map<string, EventFd>();
  for (const id of ids) {
    for (const gsi of [id - 32, 100 + id]) {
      const fd = new EventFd();
      vm.irqfd({ fd, gsi });
      fds.set(`${gsi}`, fd);
    }
  }
  for (const v of vcpus) {
    v.loadGuest(gicv3GuestImage({ distBase: DIST, spis: ids.map((intid) => ({ intid, edge: true })), onAcknowledge: (i) => i < 1020 && taken.push(i) }));
  }
  const gic = VgicV3.of(vm)!.gic!;
  return {
    vm,
    vcpus,
    ids,
    injections: ["line", "irqfd", "route"],
    taken,
    raise(id, how) {
      if (how === "line") {
        // KVM_ARM_IRQ_TYPE_SPI << 24 | intid: an edge is a pulse.
        vm.irqLine((1 << 24) | id, 1);
        vm.irqLine((1 << 24) | id, 0);
      } else fds.get(`${how === "irqfd" ? id - 32 : 100 + id}`)!.signal();
    },
    pending: (id) => gic.irqs.status(0, id).pending,
  };
}

/** A riscv64 VM with the in-kernel AIA (auto mode: VS-file when free, else SW-file); identities 1..8 go to vCPU id % n. */
export function riscvVm(kvm: Kvm, vcpuCount: number): ConservedVm {
  const vm = kvm.createVm();
  const vcpus = Array.from({ length: vcpuCount }, (_, i) => vm.createVcpu(i));
  const dev = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
  const set = (group: number, attr: number, value: number): void => {
    dev.setDeviceAttr({ group, attr, value });
  };
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_MODE, KVM_DEV_RISCV_AIA_MODE_AUTO);
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_SRCS, 0);
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, 1);
  for (let i = 0; i < vcpuCount; i++) set(KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_IMSIC(i), IMSIC + i * 0x1000);
  set(KVM_DEV_RISCV_AIA_GRP_CTRL, KVM_DEV_RISCV_AIA_CTRL_INIT, 0);
  const aia = vm.irqchip as RiscvAiaDevice;
  const ids = Array.from({ length: SOURCES_PER_VM }, (_, i) => 1 + i);
  const hartOf = (id: number): number => id % vcpuCount;
  const taken: number[] = [];
  const routes: RoutingEntry[] = ids.map((id): RoutingEntry => ({ gsi: id, type: KVM_IRQ_ROUTING_MSI, addressLo: IMSIC + hartOf(id) * 0x1000, addressHi: 0, data: id }));
  vm.setGsiRouting(routes);
  const fds = ids.map((id) => {
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: id });
    return fd;
  });
  for (const v of vcpus) {
    v.loadGuest(claimingGuest(ids.filter((id) => hartOf(id) === v.vcpuId), taken));
    // Secondary harts start stopped; the boot hart would start them with SBI HSM hart_start.
    v.setMpState(KVM_MP_STATE_RUNNABLE);
  }
  return {
    vm,
    vcpus,
    ids,
    injections: ["msi", "irqfd"],
    taken,
    raise(id, how) {
      if (how === "msi") vm.signalMsi({ addressLo: IMSIC + hartOf(id) * 0x1000, addressHi: 0, data: id, flags: 0, devid: 0 });
      else fds[id - 1]!.signal();
    },
    pending: (id) => aia.chip(hartOf(id))?.currentFile?.isPending(id) ?? false,
  };
}
