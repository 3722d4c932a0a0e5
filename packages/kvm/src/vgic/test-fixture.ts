/**
 * Test fixture of the vgic and irqfd tests: an arm64 VM with the vgic-v3
 * device, the QEMU virt memory map for the GIC frames (distributor at
 * 0x0800_0000, redistributors at 0x080a_0000: hw/arm/virt.c memmap), and a
 * guest running the minimal GICv3 driver of gic-guest.ts.
 */

import { EventQueue, Tracer } from "@irqlab/sim";
import type { Device } from "../device.js";
import { Kvm } from "../kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8, KVM_DEV_TYPE_ARM_VGIC_V3 } from "../uapi/device-types.js";
import type { Vcpu } from "../vcpu.js";
import type { Vm } from "../vm.js";
import { gicv3GuestImage, type GicGuestOptions } from "./gic-guest.js";
import {
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
} from "./vgic-uapi.js";
import { VgicV3, type VgicInitMode } from "./vgic-v3.js";

/** QEMU virt VIRT_GIC_DIST. */
export const DIST_BASE = 0x0800_0000;
/** QEMU virt VIRT_GIC_REDIST. */
export const REDIST_BASE = 0x080a_0000;

/** What {@link armVm} builds. */
export interface ArmVmRig {
  readonly kvm: Kvm;
  readonly vm: Vm;
  readonly vcpus: Vcpu[];
  readonly dev: Device;
  readonly vgic: VgicV3;
}

/** Options of {@link armVm}. */
export interface ArmVmOptions {
  readonly vcpus?: number;
  readonly initMode?: VgicInitMode;
  /** Set DIST and legacy REDIST bases (default true). */
  readonly addresses?: boolean;
  /** KVM_DEV_ARM_VGIC_CTRL_INIT (default true in explicit mode). */
  readonly init?: boolean;
  readonly trace?: boolean;
}

/** An arm64 VM with initialised vCPUs and a vgic-v3. */
export function armVm(o: ArmVmOptions = {}): ArmVmRig {
  const queue = new EventQueue();
  const initMode = o.initMode ?? "explicit";
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: o.trace ?? false }), vgicInitMode: initMode });
  const vm = kvm.createVm();
  const vcpus = Array.from({ length: o.vcpus ?? 1 }, (_, i) => {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    return v;
  });
  const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  if (o.addresses ?? true) {
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
    dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: REDIST_BASE });
  }
  if (o.init ?? initMode === "explicit") dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  return { kvm, vm, vcpus, dev, vgic: VgicV3.of(vm)! };
}

/** Loads the GICv3 guest driver on `vcpu` and returns the INTIDs it acknowledges and completes, with their times. */
export function loadDriver(vcpu: Vcpu, o: Omit<GicGuestOptions, "distBase" | "onAcknowledge" | "onComplete">): { acked: string[]; done: string[] } {
  const q = vcpu.vm.queue;
  const log = { acked: [] as string[], done: [] as string[] };
  vcpu.loadGuest(
    gicv3GuestImage({
      ...o,
      distBase: DIST_BASE,
      onAcknowledge: (i) => log.acked.push(`${i}@${q.now}`),
      onComplete: (i) => log.done.push(`${i}@${q.now}`),
    }),
  );
  return log;
}

/** INTIDs of a log, without times. */
export function ids(log: readonly string[]): number[] {
  return log.map((s) => Number(s.split("@")[0]));
}
