/**
 * MSI-X from the driver side (PCI Local Bus Specification 3.0 §6.8.2;
 * Linux drivers/pci/msi/msi.c msix_capability_init, msix_mask_all,
 * pci_msix_write_vector_ctrl, __pci_write_msi_msg, pci_msix_clear_and_set_ctrl):
 * the capability's Message Control (table size, Function Mask, Enable),
 * the table and PBA located by BIR and offset in a BAR, and the 16-byte
 * table entries (address low/high, data, vector control with the per-vector
 * mask bit). Linux's enable sequence is {@link MsixCapability.setup}.
 */

import { op } from "@irqlab/sim";
import type { GuestCode } from "../guest-image.js";
import { PCI_CAP_ID_MSIX } from "./pci-config.js";
import { barAddress, type PciFunctionInfo } from "./pci-enumerate.js";

export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_PBA = 8;
export const PCI_MSIX_TABLE_BIR = 0x7;
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0x0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 0x4;
export const PCI_MSIX_ENTRY_DATA = 0x8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 0xc;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

/** The message of one table entry. */
export interface MsiMessage {
  readonly addressLo: number;
  readonly addressHi: number;
  readonly data: number;
}

/** A function's MSI-X capability with its table mapped. */
export class MsixCapability {
  private constructor(
    readonly fn: PciFunctionInfo,
    /** Capability offset in configuration space. */
    readonly cap: number,
    /** Table Size + 1. */
    readonly vectors: number,
    /** CPU address of the table. */
    readonly table: number,
    /** CPU address of the PBA. */
    readonly pba: number,
  ) {}

  /**
   * Finds the capability and the table and PBA in their BARs (which must be
   * assigned); undefined when the function has no MSI-X or its BAR is unassigned.
   */
  static *find(fn: PciFunctionInfo): GuestCode<MsixCapability | undefined> {
    const cap = yield* fn.config.findCapability(PCI_CAP_ID_MSIX);
    if (cap === 0) return undefined;
    const flags = yield* fn.config.read16(cap + PCI_MSIX_FLAGS);
    const t = yield* fn.config.read32(cap + PCI_MSIX_TABLE);
    const p = yield* fn.config.read32(cap + PCI_MSIX_PBA);
    const tbar = barAddress(fn, t & PCI_MSIX_TABLE_BIR);
    const pbar = barAddress(fn, p & PCI_MSIX_TABLE_BIR);
    if (tbar === undefined || pbar === undefined) return undefined;
    return new MsixCapability(fn, cap, (flags & PCI_MSIX_FLAGS_QSIZE) + 1, tbar + (t & ~PCI_MSIX_TABLE_BIR), pbar + (p & ~PCI_MSIX_TABLE_BIR));
  }

  /** pci_msix_clear_and_set_ctrl(): Message Control = (old & ~clear) | set. */
  *control(clear: number, set: number): GuestCode<number> {
    const reg = this.cap + PCI_MSIX_FLAGS;
    const old = yield* this.fn.config.read16(reg);
    const v = (old & ~clear) | set;
    yield* this.fn.config.write16(reg, v);
    return v;
  }

  /** Address of entry `i`'s field at `offset`. */
  entry(i: number, offset = 0): number {
    return this.table + i * PCI_MSIX_ENTRY_SIZE + offset;
  }

  /** __pci_write_msi_msg() for an MSI-X entry: address low, high, data (the entry should be masked). */
  *writeMessage(i: number, m: MsiMessage): GuestCode {
    yield op.write(this.entry(i, PCI_MSIX_ENTRY_LOWER_ADDR), 4, m.addressLo);
    yield op.write(this.entry(i, PCI_MSIX_ENTRY_UPPER_ADDR), 4, m.addressHi);
    yield op.write(this.entry(i, PCI_MSIX_ENTRY_DATA), 4, m.data);
  }

  /** Reads entry `i`'s message back. */
  *readMessage(i: number): GuestCode<MsiMessage> {
    const addressLo = (yield op.read(this.entry(i, PCI_MSIX_ENTRY_LOWER_ADDR), 4)).value;
    const addressHi = (yield op.read(this.entry(i, PCI_MSIX_ENTRY_UPPER_ADDR), 4)).value;
    const data = (yield op.read(this.entry(i, PCI_MSIX_ENTRY_DATA), 4)).value;
    return { addressLo, addressHi, data };
  }

  /** pci_msix_write_vector_ctrl(): sets or clears entry `i`'s mask bit. */
  *mask(i: number, masked: boolean): GuestCode {
    const at = this.entry(i, PCI_MSIX_ENTRY_VECTOR_CTRL);
    const ctrl = (yield op.read(at, 4)).value;
    yield op.write(at, 4, masked ? ctrl | PCI_MSIX_ENTRY_CTRL_MASKBIT : ctrl & ~PCI_MSIX_ENTRY_CTRL_MASKBIT);
  }

  /** Whether entry `i`'s Pending Bit is set in the PBA. */
  *pending(i: number): GuestCode<boolean> {
    const w = (yield op.read(this.pba + 4 * Math.floor(i / 32), 4)).value;
    return ((w >>> (i % 32)) & 1) === 1;
  }

  /**
   * msix_capability_init(): Enable with the Function Mask set, every entry
   * masked (msix_mask_all), the first `messages.length` entries written,
   * then the Function Mask cleared. Entries stay masked: a driver unmasks
   * each when it requests its interrupt ({@link mask}).
   */
  *setup(messages: readonly MsiMessage[]): GuestCode {
    yield* this.control(0, PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE);
    for (let i = 0; i < this.vectors; i++) yield op.write(this.entry(i, PCI_MSIX_ENTRY_VECTOR_CTRL), 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
    for (let i = 0; i < messages.length && i < this.vectors; i++) yield* this.writeMessage(i, messages[i]!);
    yield* this.control(PCI_MSIX_FLAGS_MASKALL, 0);
  }

  /** pci_msix_shutdown(): every entry masked, MSI-X disabled. */
  *shutdown(): GuestCode {
    for (let i = 0; i < this.vectors; i++) yield* this.mask(i, true);
    yield* this.control(PCI_MSIX_FLAGS_ENABLE, 0);
  }
}
