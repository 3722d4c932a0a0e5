/**
 * The memory region behind a memory BAR: a QEMU container region of the BAR's
 * size with subregions (system/memory.c memory_region_init +
 * memory_region_add_subregion, as hw/pci/msix.c msix_init puts the MSI-X
 * table and PBA into a BAR) over a background: the device's own registers,
 * the passed-through device's BAR (vfio), or nothing. An access is cut at
 * subregion boundaries (flatview_translate) and each part goes through
 * QEMU's memory core with the rules of the region it falls in
 * (qemu-memory.ts). A part that falls in no subregion and no background is
 * an unassigned access: it reads 0, is dropped, and is a guest error
 * ("reason: rejected"). A subregion can be switched off and on
 * (memory_region_set_enabled), uncovering the background, as vfio-pci does
 * with the emulated PBA.
 */

import { ConfigError, type AccessSize, type MmioDevice, type WideValue } from "@irqlab/sim";
import { UNASSIGNED_RULES, qemuAccessRules, qemuInvalidMessage, qemuRead, qemuWrite, type QemuInvalidReason, type QemuRegionOps } from "../qemu-memory.js";

/** Where a BAR region reports guest errors (its function). */
export interface GuestErrorSink {
  guestError(what: string, message: string): void;
}

class Overlay {
  enabled = true;
  constructor(
    readonly offset: number,
    readonly size: number,
    readonly ops: QemuRegionOps,
  ) {}
}

/** Reads as zero and ignores writes, silently: the not-modelled registers of a passed-through BAR. */
export const RAZ_WI_REGION: QemuRegionOps = {
  rules: qemuAccessRules({ validMax: 8, implMax: 8 }),
  opsRead: () => 0,
  opsWrite: () => undefined,
  opsInvalid: () => undefined,
};

const DEVICE_RULES = qemuAccessRules({ validMax: 8, implMax: 4 });

/** Adapts an MmioDevice as a background region: called with aligned accesses of 1, 2 or 4 bytes. */
class DeviceRegion implements QemuRegionOps {
  readonly rules = DEVICE_RULES;
  readonly #wide: WideValue = { hi: 0 };
  constructor(readonly device: MmioDevice) {}
  opsRead(offset: number, size: number): number {
    return this.device.read(offset, size as AccessSize, this.#wide);
  }
  opsWrite(offset: number, size: number, value: number): void {
    this.device.write(offset, size as AccessSize, value, 0);
  }
  opsInvalid(): void {
    // DEVICE_RULES accept every piece
  }
}

/** A BAR's memory region: subregions over a background. Map it on the bus where the BAR is decoded. */
export class PciBarRegion implements MmioDevice, QemuRegionOps {
  /** BAR size in bytes. */
  readonly size: number;
  /** Region name used in guest-error messages. */
  readonly name: string;
  readonly rules = UNASSIGNED_RULES;
  readonly #overlays: Overlay[] = [];
  readonly #background: QemuRegionOps;
  readonly #errors: GuestErrorSink;
  readonly #wide: WideValue = { hi: 0 };

  /**
   * @param background the registers under the subregions: an MmioDevice, a
   *   QEMU-style region ({@link RAZ_WI_REGION}), or undefined for nothing.
   */
  constructor(size: number, name: string, errors: GuestErrorSink, background?: MmioDevice | QemuRegionOps) {
    this.size = size;
    this.name = name;
    this.#errors = errors;
    if (background === undefined) this.#background = this;
    else if ("rules" in background) this.#background = background;
    else this.#background = new DeviceRegion(background);
  }

  /** memory_region_add_subregion(): `ops` covers [offset, offset + size). @throws ConfigError on overlap. */
  addSubregion(offset: number, size: number, ops: QemuRegionOps): void {
    if (offset < 0 || size <= 0 || offset + size > this.size) {
      throw new ConfigError(`${this.name}: subregion [0x${offset.toString(16)}, +0x${size.toString(16)}) is outside the BAR`);
    }
    for (const o of this.#overlays) {
      if (offset < o.offset + o.size && o.offset < offset + size) throw new ConfigError(`${this.name}: subregion at 0x${offset.toString(16)} overlaps another`);
    }
    this.#overlays.push(new Overlay(offset, size, ops));
    this.#overlays.sort((a, b) => a.offset - b.offset);
  }

  /** memory_region_set_enabled() on the subregion `ops`. */
  setSubregionEnabled(ops: QemuRegionOps, enabled: boolean): void {
    for (const o of this.#overlays) if (o.ops === ops) o.enabled = enabled;
  }

  /** Whether the subregion `ops` is enabled. */
  subregionEnabled(ops: QemuRegionOps): boolean {
    for (const o of this.#overlays) if (o.ops === ops) return o.enabled;
    return false;
  }

  read(offset: number, size: AccessSize, wide: WideValue): number {
    let lo = 0;
    let hi = 0;
    let pos = 0;
    while (pos < size) {
      const at = offset + pos;
      const o = this.#at(at);
      const end = o !== undefined ? o.offset + o.size : this.#nextStart(at);
      const len = Math.min(size - pos, end - at);
      const vlo = o !== undefined ? qemuRead(o.ops, at - o.offset, len, this.#wide) : qemuRead(this.#background, at, len, this.#wide);
      const vhi = this.#wide.hi;
      if (pos === 0) {
        lo = vlo;
        hi = vhi;
      } else if (pos >= 4) {
        hi |= vlo << (8 * (pos - 4));
      } else {
        lo |= vlo << (8 * pos);
        hi |= (vlo >>> (32 - 8 * pos)) | (vhi << (8 * pos));
      }
      pos += len;
    }
    wide.hi = size === 8 ? hi >>> 0 : 0;
    return lo >>> 0;
  }

  write(offset: number, size: AccessSize, value: number, hi: number): void {
    let pos = 0;
    while (pos < size) {
      const at = offset + pos;
      const o = this.#at(at);
      const end = o !== undefined ? o.offset + o.size : this.#nextStart(at);
      const len = Math.min(size - pos, end - at);
      let vlo = value;
      let vhi = hi;
      if (pos >= 4) {
        vlo = hi >>> (8 * (pos - 4));
        vhi = 0;
      } else if (pos > 0) {
        vlo = (value >>> (8 * pos)) | (hi << (32 - 8 * pos));
        vhi = hi >>> (8 * pos);
      }
      if (o !== undefined) qemuWrite(o.ops, at - o.offset, len, vlo >>> 0, vhi >>> 0);
      else qemuWrite(this.#background, at, len, vlo >>> 0, vhi >>> 0);
      pos += len;
    }
  }

  // The container itself is the unassigned region.
  opsRead(): number {
    return 0;
  }

  opsWrite(): void {
    // unassigned: dropped
  }

  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    this.#errors.guestError("bar", qemuInvalidMessage(this.name, offset, size, write, reason, UNASSIGNED_RULES));
  }

  #at(offset: number): Overlay | undefined {
    for (const o of this.#overlays) if (o.enabled && offset >= o.offset && offset < o.offset + o.size) return o;
    return undefined;
  }

  #nextStart(offset: number): number {
    for (const o of this.#overlays) if (o.enabled && o.offset > offset) return o.offset;
    return this.size;
  }
}
