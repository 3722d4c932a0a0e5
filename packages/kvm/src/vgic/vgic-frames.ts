/**
 * The vgic-v3 frames on the VM's kernel MMIO bus (kvm_io_bus): the
 * distributor at its base and one redistributor (RD_base + SGI_base,
 * KVM_VGIC_V3_REDIST_SIZE) per vCPU at the place its region gives it
 * (vgic-mmio-v3.c vgic_register_redist_iodev; vgic-v3.c vgic_v3_map_resources).
 * Redistributor slots of a region that no vCPU uses are not claimed: an access
 * there exits to the VMM as KVM_EXIT_MMIO, as in Linux where only per-vCPU
 * iodevs are registered.
 *
 * GICR_TYPER.Last (bit 4, IHI 0069H §12.11.36) is what KVM computes for the
 * layout (vgic_mmio_vcpu_rdist_is_last), applied over the Gicv3 model's value
 * for guest and userspace reads alike.
 */

import { GICR_TYPER, GICR_TYPER_LAST, type Gicv3 } from "@irqlab/gic";
import type { AccessSize, MmioBus, MmioDevice, WideValue } from "@irqlab/sim";
import type { RedistSlot } from "./vgic-addr.js";
import { KVM_VGIC_V3_DIST_SIZE, KVM_VGIC_V3_REDIST_SIZE } from "./vgic-uapi.js";

const TYPER = GICR_TYPER;
const LAST = GICR_TYPER_LAST;

/** Redistributor `pe` as an MMIO device, with KVM's GICR_TYPER.Last. */
export class VgicRedistFrame implements MmioDevice {
  constructor(
    readonly gic: Gicv3,
    readonly pe: number,
    /** GICR_TYPER.Last for this redistributor. */
    readonly last: boolean,
  ) {}

  read(offset: number, size: AccessSize, wide: WideValue): number {
    const v = this.gic.redistributors.readRd(this.pe, offset, size, wide);
    return offset === TYPER ? patchLast(v, this.last) : v;
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    this.gic.redistributors.writeRd(this.pe, offset, size, value, hi);
  }

  /** KVM_DEV_ARM_VGIC_GRP_REDIST_REGS read (32-bit). */
  uaccessRead(offset: number, wide: WideValue): number {
    const v = this.gic.redistributors.uaccessRead(this.pe, offset, 4, wide);
    return offset === TYPER ? patchLast(v, this.last) : v;
  }

  /** KVM_DEV_ARM_VGIC_GRP_REDIST_REGS write (32-bit). */
  uaccessWrite(offset: number, value: number): void {
    this.gic.redistributors.uaccessWrite(this.pe, offset, 4, value, 0);
  }
}

function patchLast(v: number, last: boolean): number {
  return (last ? v | LAST : v & ~LAST) >>> 0;
}

/**
 * Maps the distributor and every vCPU's redistributor. Returns the
 * redistributor frames by PE.
 */
export function mapVgicFrames(bus: MmioBus, gic: Gicv3, distBase: number, slots: readonly RedistSlot[], name: string): VgicRedistFrame[] {
  bus.map(distBase, KVM_VGIC_V3_DIST_SIZE, gic.distributor, `${name}/gicd`);
  return slots.map((s, pe) => {
    const f = new VgicRedistFrame(gic, pe, s.last);
    bus.map(s.base, KVM_VGIC_V3_REDIST_SIZE, f, `${name}/gicr${pe}`);
    return f;
  });
}
