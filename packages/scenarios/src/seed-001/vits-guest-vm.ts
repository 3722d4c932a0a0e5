/**
 * The arm64 VM seed 001 runs on: RAM, one vCPU, a GICv3 standing in for the
 * vgic-v3 device (attached to the vITS with attachVgicV3ForIts), guest LPIs
 * configured and enabled, the virtual CPU interface enabled, and a vITS
 * (KVM_DEV_TYPE_ARM_VGIC_ITS) at the virt board's ITS address, programmed by
 * a small guest ITS driver through the kernel MMIO bus as Linux's
 * drivers/irqchip/irq-gic-v3-its.c does (CBASER, BASERn, GITS_CTLR.Enabled,
 * then commands at CWRITER).
 *
 * Register layouts: Arm IHI 0069 (GICv3/v4 architecture specification)
 * §12.19 (GITS_*), §12.11 (GICR_PROPBASER/PENDBASER), §5.1.1 (LPI
 * configuration table: priority in bits [7:2], bit 0 enable).
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
import {
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_TYPE_ARM_VGIC_ITS,
  KVM_VGIC_ITS_ADDR_TYPE,
  Kvm,
  attachVgicV3ForIts,
  type Device,
  type Vm,
} from "@irqlab/kvm";
import type { EventQueue, GuestMemory, MmioBus, Tracer } from "@irqlab/sim";

/** Guest RAM base (hw/arm/virt.c VIRT_MEM). */
export const GUEST_RAM = 0x4000_0000;
const GUEST_RAM_SIZE = 0x0400_0000;
/** The vITS frame (hw/arm/virt.c VIRT_GIC_ITS). */
export const GUEST_ITS_BASE = 0x0808_0000;
/** GITS_TRANSLATER: the doorbell MSIs are written to (ITS_base + 0x10040, IHI 0069 §12.19.18). */
export const GUEST_ITS_TRANSLATER = GUEST_ITS_BASE + 0x1_0040;
const CMDQ = GUEST_RAM;
const DEVICE_TABLE = GUEST_RAM + 0x10_0000;
const COLLECTION_TABLE = GUEST_RAM + 0x20_0000;
/** The ITT of the guest's one device. */
export const GUEST_ITT = GUEST_RAM + 0x100_0000;
const PROP_TABLE = GUEST_RAM + 0x200_0000;
const PEND_TABLE = GUEST_RAM + 0x210_0000;
/** LPI configuration byte: priority 0xa0, Group-1 enable (IHI 0069 §5.1.1). */
const LPI_CONFIG = 0xa0 | 1;
/** GICD_CTLR.EnableGrp1NS (ARE is implied by the model's affinity routing). */
const GICD_CTLR_ENABLE_GRP1 = 2;
/** ICH_VMCR_EL2: VPMR = 0xff (bits [31:24]), VENG1 (bit 1). */
const VMCR_OPEN = ((0xff << 24) | 2) >>> 0;

/** The VM, its GIC, the vITS device fd, and the guest's ITS driver. */
export interface VitsGuestVm {
  readonly vm: Vm;
  readonly gic: Gicv3;
  readonly its: Device;
  readonly driver: GuestItsDriver;
}

/** Builds a one-vCPU arm64 VM with a vITS at {@link GUEST_ITS_BASE}, its LPIs enabled, on `queue` / `tracer` if given. */
export function vitsGuestVm(clock: { readonly queue?: EventQueue; readonly tracer?: Tracer | undefined } = {}): VitsGuestVm {
  const kvm = new Kvm({
    arch: "arm64",
    ...(clock.queue === undefined ? {} : { queue: clock.queue }),
    ...(clock.tracer === undefined ? {} : { tracer: clock.tracer }),
  });
  const vm = kvm.createVm();
  vm.createVcpu(0);
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: GUEST_RAM, memorySize: GUEST_RAM_SIZE });
  const gic = new Gicv3({ cpus: 1, memory: vm.memory, v41: true });
  attachVgicV3ForIts(vm, gic);
  gic.distributor.write(GICD_CTLR, 4, GICD_CTLR_ENABLE_GRP1, 0);
  for (let i = 0; i < 1024; i++) vm.memory.writeU8(PROP_TABLE + i, LPI_CONFIG);
  // GICR_PROPBASER.IDbits = 15 (16 bits of INTID); EnableLPIs last, as the Linux driver does.
  gic.redistributors.write(GICR_PROPBASER, 8, PROP_TABLE | 15, 0);
  gic.redistributors.write(GICR_PENDBASER, 8, PEND_TABLE, 0);
  gic.redistributors.write(GICR_CTLR, 4, 1, 0);
  gic.writeSysReg(0, ICH_HCR_EL2, 1); // ICH_HCR_EL2.En
  gic.writeSysReg(0, ICH_VMCR_EL2, VMCR_OPEN);
  const its = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: GUEST_ITS_BASE });
  return { vm, gic, its, driver: new GuestItsDriver(vm.kernelBus, vm.memory) };
}

/** The guest side of the ITS: what irq-gic-v3-its.c writes, through the MMIO bus. */
export class GuestItsDriver {
  #cwriter = 0;

  constructor(
    readonly bus: MmioBus,
    readonly memory: GuestMemory,
  ) {}

  /** GITS_CBASER (16 pages), GITS_BASER0/1 (one 64 KiB page each, type kept), then GITS_CTLR.Enabled. */
  enable(): void {
    this.#cwriter = 0;
    this.bus.write(GUEST_ITS_BASE + GITS_CBASER, 8, CMDQ + 15, GITS_CBASER_HI_VALID);
    for (const [n, base] of [DEVICE_TABLE, COLLECTION_TABLE].entries()) {
      const at = GUEST_ITS_BASE + GITS_BASER + 8 * n;
      const lo = this.bus.read(at, 4);
      const hi = this.bus.read(at + 4, 4);
      // Keep Entry_Size/Type (read-only), set the base and Valid.
      this.bus.write(at, 8, ((lo & 0xf00) | base) >>> 0, (hi | GITS_BASER_HI_VALID) >>> 0);
    }
    this.bus.write(GUEST_ITS_BASE + GITS_CTLR, 4, GITS_CTLR_ENABLE, 0);
  }

  /** Writes commands into the queue and advances GITS_CWRITER once. */
  submit(...cmds: readonly (readonly number[])[]): void {
    for (const c of cmds) {
      writeItsCommand(this.memory, CMDQ + this.#cwriter, c);
      this.#cwriter = (this.#cwriter + 32) % 0x1_0000;
    }
    this.bus.write(GUEST_ITS_BASE + GITS_CWRITER, 8, this.#cwriter, 0);
  }
}
