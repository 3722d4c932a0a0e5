/**
 * The vgic-v3 frames on the VM's kernel MMIO bus (kvm_io_bus): the
 * distributor at its base and one redistributor (RD_base + SGI_base,
 * KVM_VGIC_V3_REDIST_SIZE) per vCPU at the place its region gives it
 * (vgic-mmio-v3.c vgic_register_redist_iodev; vgic-v3.c vgic_v3_map_resources).
 * Redistributor slots of a region that no vCPU uses are not claimed: an access
 * there exits to the VMM as KVM_EXIT_MMIO, as in Linux where only per-vCPU
 * iodevs are registered.
 *
 * The low word of GICR_TYPER (IHI 0069H §12.11.36) is what KVM builds
 * (vgic-mmio-v3.c vgic_mmio_read_v3r_typer), applied over the Gicv3 model's
 * value for guest and userspace reads alike: Processor_Number [23:8] is the
 * vcpu_id (not the creation order the Gicv3 numbers its PEs in), Last [4] is
 * vgic_mmio_vcpu_rdist_is_last() for the layout, PLPIS [0] is set only when
 * the VM has a vITS (vgic_has_its).
 *
 * A userspace read of GICR_ICPENDR0 is zero: its uaccess_read is
 * vgic_mmio_read_raz in vgic_v3_rd_registers (the pending latch is read
 * through GICR_ISPENDR0).
 */

import { GICR_ICPENDR0, GICR_SGI_BASE, GICR_TYPER, GICR_TYPER_LAST, GICR_TYPER_PLPIS, type Gicv3 } from "@irqlab/gic";
import type { AccessSize, MmioBus, MmioDevice, WideValue } from "@irqlab/sim";
import type { RedistSlot } from "./vgic-addr.js";
import { KVM_VGIC_V3_DIST_SIZE, KVM_VGIC_V3_REDIST_SIZE } from "./vgic-uapi.js";

const TYPER = GICR_TYPER;
const LAST = GICR_TYPER_LAST;
const PLPIS = GICR_TYPER_PLPIS;
const PROCESSOR_NUMBER = 0xffff << 8;
const ICPENDR0 = GICR_SGI_BASE + GICR_ICPENDR0;

/** What a redistributor frame shows of its VM. */
export interface VgicFrameInfo {
  /** The vcpu_id of PE `pe` (GICR_TYPER.Processor_Number). */
  vcpuId(pe: number): number;
  /** vgic_has_its(): a vITS was created on the VM (GICR_TYPER.PLPIS). */
  hasIts(): boolean;
}

/** Redistributor `pe` as an MMIO device, with KVM's GICR_TYPER. */
export class VgicRedistFrame implements MmioDevice {
  /** Gicv3Redistributors.quietReads: no GICR register has a read side effect. */
  readonly quietReads = true;
  constructor(
    readonly gic: Gicv3,
    readonly pe: number,
    /** GICR_TYPER.Last for this redistributor. */
    readonly last: boolean,
    readonly info: VgicFrameInfo,
  ) {}

  read(offset: number, size: AccessSize, wide: WideValue): number {
    const v = this.gic.redistributors.readRd(this.pe, offset, size, wide);
    return offset === TYPER ? this.#typer(v) : v;
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    this.gic.redistributors.writeRd(this.pe, offset, size, value, hi);
  }

  /** KVM_DEV_ARM_VGIC_GRP_REDIST_REGS read (32-bit). */
  uaccessRead(offset: number, wide: WideValue): number {
    if (offset === ICPENDR0) return 0;
    const v = this.gic.redistributors.uaccessRead(this.pe, offset, 4, wide);
    return offset === TYPER ? this.#typer(v) : v;
  }

  /** KVM_DEV_ARM_VGIC_GRP_REDIST_REGS write (32-bit). */
  uaccessWrite(offset: number, value: number): void {
    this.gic.redistributors.uaccessWrite(this.pe, offset, 4, value, 0);
  }

  /** vgic_mmio_read_v3r_typer's low word over the model's. */
  #typer(v: number): number {
    let lo = (v & ~(PROCESSOR_NUMBER | LAST | PLPIS)) | ((this.info.vcpuId(this.pe) & 0xffff) << 8);
    if (this.last) lo |= LAST;
    if (this.info.hasIts()) lo |= PLPIS;
    return lo >>> 0;
  }
}

/**
 * Maps the distributor and every vCPU's redistributor. Returns the
 * redistributor frames by PE.
 */
export function mapVgicFrames(bus: MmioBus, gic: Gicv3, distBase: number, slots: readonly RedistSlot[], name: string, info: VgicFrameInfo): VgicRedistFrame[] {
  bus.map(distBase, KVM_VGIC_V3_DIST_SIZE, gic.distributor, `${name}/gicd`);
  return slots.map((s, pe) => {
    const f = new VgicRedistFrame(gic, pe, s.last, info);
    bus.map(s.base, KVM_VGIC_V3_REDIST_SIZE, f, `${name}/gicr${pe}`);
    return f;
  });
}
