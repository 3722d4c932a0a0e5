/**
 * Configuration space access through a generic ECAM host bridge (PCI
 * Express Base Specification §7.2.2: offset = bus << 20 | device << 15 |
 * function << 12 | register), as Linux's pci-host-common / pci_generic_
 * config_read/write use it, and the register offsets and bits the guest
 * reads (include/uapi/linux/pci_regs.h names and values).
 */

import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";

export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_INTX_DISABLE = 0x400;
export const PCI_STATUS = 0x06;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_CLASS_REVISION = 0x08;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_HEADER_TYPE_MASK = 0x7f;
export const PCI_HEADER_TYPE_NORMAL = 0;
export const PCI_HEADER_TYPE_MFD = 0x80;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BASE_ADDRESS_SPACE_IO = 0x01;
export const PCI_BASE_ADDRESS_MEM_TYPE_MASK = 0x06;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x04;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x08;
export const PCI_BASE_ADDRESS_MEM_MASK = 0xffff_fff0;
export const PCI_BASE_ADDRESS_IO_MASK = 0xffff_fffc;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_CAP_LIST_ID = 0;
export const PCI_CAP_LIST_NEXT = 1;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;
/** PCI_FIND_CAP_TTL: at most 48 capabilities are followed (a loop in the list ends there). */
export const PCI_FIND_CAP_TTL = 48;

/** A function's address on its bus. */
export interface PciAddress {
  readonly bus: number;
  /** device << 3 | function. */
  readonly devfn: number;
}

/** PCI_DEVFN(slot, func). */
export function pciDevfn(slot: number, func: number): number {
  return ((slot & 0x1f) << 3) | (func & 7);
}

/** The requester ID of a function: bus << 8 | devfn (PCI_DEVID). */
export function requesterId(a: PciAddress): number {
  return ((a.bus & 0xff) << 8) | (a.devfn & 0xff);
}

/** "0000:00:01.0" (pci_name), with `domain` as given. */
export function pciName(a: PciAddress, domain = 0): string {
  const h = (v: number, n: number): string => v.toString(16).padStart(n, "0");
  return `${h(domain, 4)}:${h(a.bus, 2)}:${h(a.devfn >>> 3, 2)}.${a.devfn & 7}`;
}

/** Accessors of one function's configuration space through the ECAM window at `ecam`. */
export class PciConfig {
  readonly base: number;

  constructor(ecam: number, readonly address: PciAddress) {
    this.base = ecam + address.bus * 0x10_0000 + address.devfn * 0x1000;
  }

  *read8(reg: number): GuestCode<number> {
    return (yield op.read(this.base + reg, 1)).value;
  }

  *read16(reg: number): GuestCode<number> {
    return (yield op.read(this.base + reg, 2)).value;
  }

  *read32(reg: number): GuestCode<number> {
    return (yield op.read(this.base + reg, 4)).value;
  }

  *write16(reg: number, value: number): GuestCode {
    yield op.write(this.base + reg, 2, value & 0xffff);
  }

  *write32(reg: number, value: number): GuestCode {
    yield op.write(this.base + reg, 4, value);
  }

  /**
   * pci_find_capability(): the offset of the first capability `id` in the
   * list, or 0. Follows at most PCI_FIND_CAP_TTL entries; pointers below
   * 0x40 end the walk.
   */
  *findCapability(id: number): GuestCode<number> {
    const status = yield* this.read16(PCI_STATUS);
    if ((status & PCI_STATUS_CAP_LIST) === 0) return 0;
    let pos = yield* this.read8(PCI_CAPABILITY_LIST);
    for (let ttl = PCI_FIND_CAP_TTL; ttl > 0; ttl--) {
      if (pos < 0x40) return 0;
      pos &= ~3;
      const ent = yield* this.read16(pos);
      const cid = ent & 0xff;
      if (cid === 0xff) return 0;
      if (cid === id) return pos;
      pos = ent >>> 8;
    }
    return 0;
  }

  /** Every capability ID in list order (for listings; same walk as {@link findCapability}). */
  *capabilities(): GuestCode<number[]> {
    const out: number[] = [];
    if (((yield* this.read16(PCI_STATUS)) & PCI_STATUS_CAP_LIST) === 0) return out;
    let pos = yield* this.read8(PCI_CAPABILITY_LIST);
    for (let ttl = PCI_FIND_CAP_TTL; ttl > 0 && pos >= 0x40; ttl--) {
      pos &= ~3;
      const ent = yield* this.read16(pos);
      if ((ent & 0xff) === 0xff) break;
      out.push(ent & 0xff);
      pos = ent >>> 8;
    }
    return out;
  }
}
