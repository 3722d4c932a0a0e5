/**
 * The vITS rig shared by the tests and the benchmark (not exported from the
 * package): an arm64 VM
 * with RAM, N vCPUs, a Gicv3 standing in for the vgic-v3 device (attached with
 * attachVgicV3ForIts), guest LPIs configured and enabled, the virtual CPU
 * interface enabled, and a vITS device at ITS_BASE driven by a little guest
 * ITS driver that writes registers and commands through the kernel MMIO bus.
 */

import {
  GICD_CTLR,
  GICR_CTLR,
  GICR_PENDBASER,
  GICR_PROPBASER,
  GITS_BASER,
  GITS_BASER_HI_VALID,
  GITS_CBASER,
  GITS_CBASER_HI_VALID,
  GITS_CTLR,
  GITS_CTLR_ENABLE,
  GITS_CWRITER,
  Gicv3,
  ICH_HCR_EL2,
  ICH_VMCR_EL2,
  writeItsCommand,
} from "@irqlab/gic";
import type { GuestMemory, MmioBus } from "@irqlab/sim";
import { Kvm } from "../../kvm.js";
import type { KvmMsi } from "../../irqchip.js";
import { KVM_MSI_VALID_DEVID } from "../../irqfd/gsi-routing.js";
import { KVM_DEV_TYPE_ARM_VGIC_ITS } from "../../uapi/device-types.js";
import { KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE } from "../vgic-uapi.js";
import { registerVgicItsDevice, VgicItsDevice } from "./vits-device.js";
import { attachVgicV3ForIts, type VitsBehaviour } from "./vits-vm.js";

/** Guest RAM. */
export const RAM = 0x4000_0000;
/** Guest RAM size. */
export const RAM_SIZE = 0x0400_0000;
/** The vITS frame. */
export const ITS_BASE = 0x0808_0000;
/** Guest command queue (64 KiB). */
export const CMDQ = RAM;
/** Device and collection tables. */
export const DT = RAM + 0x10_0000;
export const CT = RAM + 0x20_0000;
/** ITT of DeviceID d: ITT + d × 64 KiB. */
export const ITT = RAM + 0x100_0000;
/** LPI configuration and pending tables. */
export const PROP = RAM + 0x200_0000;
export const PEND = RAM + 0x210_0000;

/**
 * Builds the VM. `enableLpis` = false leaves GICR_CTLR.EnableLPIs clear;
 * `behaviour` picks the kernel's vITS (default: the registration's, mainline).
 */
export function vmWithVits(vcpus = 2, enableLpis = true, behaviour?: VitsBehaviour) {
  const kvm = new Kvm({ arch: "arm64" }); // the ITS device type is registered by default
  if (behaviour !== undefined) registerVgicItsDevice(kvm, { behaviour });
  const vm = kvm.createVm();
  for (let i = 0; i < vcpus; i++) vm.createVcpu(i);
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: RAM_SIZE });
  const gic = new Gicv3({ cpus: vcpus, memory: vm.memory, v41: true });
  attachVgicV3ForIts(vm, gic);
  gic.distributor.write(GICD_CTLR, 4, 2, 0);
  for (let i = 0; i < 1024; i++) vm.memory.writeU8(PROP + i, 0xa0 | 3);
  const stride = gic.redistributors.stride;
  for (let pe = 0; pe < vcpus; pe++) {
    gic.redistributors.write(pe * stride + GICR_PROPBASER, 8, PROP | 15, 0);
    gic.redistributors.write(pe * stride + GICR_PENDBASER, 8, PEND + pe * 0x10000, 0);
    if (enableLpis) gic.redistributors.write(pe * stride + GICR_CTLR, 4, 1, 0);
    gic.writeSysReg(pe, ICH_HCR_EL2, 1); // En
    gic.writeSysReg(pe, ICH_VMCR_EL2, ((0xff << 24) | 2) >>> 0); // VPMR = 0xff, VENG1
  }
  const fd = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
  fd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: ITS_BASE });
  const dev = fd.ops;
  if (!(dev instanceof VgicItsDevice)) throw new Error("KVM_CREATE_DEVICE did not make a VgicItsDevice");
  return { kvm, vm, gic, fd, dev, driver: new GuestItsDriver(vm.kernelBus, vm.memory) };
}

/** What a guest ITS driver does, through the MMIO bus. */
export class GuestItsDriver {
  #cwriter = 0;
  constructor(
    readonly bus: MmioBus,
    readonly memory: GuestMemory,
  ) {}

  /** CBASER (16 pages), BASER0/1 (one 64 KiB page each), then GITS_CTLR.Enabled. */
  enable(): void {
    this.#cwriter = 0;
    this.bus.write(ITS_BASE + GITS_CBASER, 8, CMDQ + 15, GITS_CBASER_HI_VALID);
    for (const [n, base] of [DT, CT].entries()) {
      const lo = this.bus.read(ITS_BASE + GITS_BASER + 8 * n, 4);
      const hi = this.bus.read(ITS_BASE + GITS_BASER + 8 * n + 4, 4);
      this.bus.write(ITS_BASE + GITS_BASER + 8 * n, 8, ((lo & 0xf00) | base) >>> 0, (hi | GITS_BASER_HI_VALID) >>> 0);
    }
    this.bus.write(ITS_BASE + GITS_CTLR, 4, GITS_CTLR_ENABLE, 0);
  }

  /** Queues commands and advances CWRITER once. */
  submit(...cmds: readonly (readonly number[])[]): void {
    for (const c of cmds) {
      writeItsCommand(this.memory, CMDQ + this.#cwriter, c);
      this.#cwriter = (this.#cwriter + 32) % 0x10000;
    }
    this.bus.write(ITS_BASE + GITS_CWRITER, 8, this.#cwriter, 0);
  }
}

/** An MSI to the vITS doorbell with a DeviceID. */
export function msi(devid: number, data: number, flags = KVM_MSI_VALID_DEVID, address = ITS_BASE + 0x10040): KvmMsi {
  return { addressLo: address % 2 ** 32, addressHi: Math.floor(address / 2 ** 32), data, flags, devid };
}

/** The errno name a call fails with, or "ok" / its return value. */
export function outcome(f: () => unknown): string {
  try {
    const r = f();
    return typeof r === "number" ? String(r) : "ok";
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}
