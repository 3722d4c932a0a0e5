/**
 * MSI-X (PCI Local Bus Specification 3.0 §6.8.2): the capability (Message
 * Control with Table Size, Function Mask and MSI-X Enable; Table Offset/BIR;
 * PBA Offset/BIR), the vector table (Message Address, Upper Address, Data,
 * Vector Control; every entry masked at reset) and the Pending Bit Array,
 * as QEMU hw/pci/msix.c implements them: msix_init, msix_write_config,
 * msix_table_mmio_read/write, msix_pba_mmio_read/write, msix_is_masked,
 * msix_handle_mask_update, msix_notify, msix_vector_use/unuse, msix_reset,
 * msix_set_vector_notifiers / msix_unset_vector_notifiers.
 *
 * The delivery rule: a vector's message is sent only while MSI-X is enabled,
 * the function is not masked and the entry is not masked. A notify of a
 * masked vector (disabled or function-masked counts as masked) sets its PBA
 * bit instead, and the message is sent once, when the vector becomes
 * unmasked (msix_handle_mask_update) — several notifies while masked are one
 * message. A notify of a vector the device has not declared in use
 * (msix_vector_use) is dropped. Sending goes through the function's bus
 * master address space (pci_msi_trigger): with COMMAND.MASTER clear the
 * write is lost and, as QEMU logs the unassigned access, a guest error.
 *
 * Table and PBA accesses follow QEMU's ops (valid 4..8 bytes, impl 4): an
 * 8-byte access is two 4-byte ones, a 1- or 2-byte access is a guest error
 * that reads 0 and writes nothing; PBA writes are ignored without a log.
 * Changing an unmasked entry's address or data is stored and nothing else
 * happens (a vector notifier keeps the old message, as in QEMU; the
 * specification leaves the result undefined). Also as in QEMU, a reset
 * clears Enable and Function Mask without re-evaluating the cached function
 * mask (msix_reset does not call msix_update_function_masked).
 */

import { ConfigError } from "@irqlab/sim";
import type { MsiMessage, MsiSink } from "../interrupt.js";
import { qemuAccessRules, qemuInvalidMessage, type QemuInvalidReason, type QemuRegionOps } from "../qemu-memory.js";
import { PciBarRegion } from "./pci-bar.js";
import { rangeCoversByte, type PciFunction } from "./pci-function.js";
import * as R from "./pci-regs.js";

/** Where the capability, table and PBA are, and where messages go. */
export interface MsixOptions {
  /** Number of vectors, 1..2048. */
  readonly vectors: number;
  /** BAR (BIR) holding the table; the BAR's device must be a {@link PciBarRegion}. */
  readonly tableBar: number;
  /** Offset of the table in its BAR (8-byte aligned). */
  readonly tableOffset: number;
  /** BAR (BIR) holding the PBA. */
  readonly pbaBar: number;
  /** Offset of the PBA in its BAR (8-byte aligned). */
  readonly pbaOffset: number;
  /** Capability offset in config space (0: first free space). */
  readonly capOffset?: number;
  /** Where sent messages go (KVM_SIGNAL_MSI in the machine). */
  readonly sink: MsiSink;
}

/**
 * QEMU's MSI-X vector notifiers (msix_set_vector_notifiers), the hooks
 * VFIO and vhost use to keep a KVM MSI route and irqfd per unmasked vector.
 */
export interface MsixVectorNotifiers {
  /** The vector became unmasked (MSIVectorUseNotifier); `msg` is its message (reused object). */
  use(vector: number, msg: MsiMessage): void;
  /** The vector became masked (MSIVectorReleaseNotifier). */
  release(vector: number): void;
  /** The guest reads PBA bits of vectors [start, end) (MSIVectorPollNotifier). */
  poll?(start: number, end: number): void;
}

/** Plain snapshot of an MSI-X table and PBA (QEMU msix_save). */
export interface MsixState {
  readonly version: 1;
  readonly table: readonly number[];
  readonly pba: readonly number[];
}

const MSIX_CONTROL_OFFSET = R.PCI_MSIX_FLAGS + 1;
const MSIX_ENABLE_MASK = R.PCI_MSIX_FLAGS_ENABLE >>> 8;
const MSIX_MASKALL_MASK = R.PCI_MSIX_FLAGS_MASKALL >>> 8;
const TABLE_RULES = qemuAccessRules({ validMin: 4, validMax: 8, implMax: 4 });

/** The MSI-X capability, table and PBA of one function. */
export class Msix {
  readonly fn: PciFunction;
  /** Offset of the capability in config space. */
  readonly cap: number;
  /** Number of vectors (Table Size + 1). */
  readonly vectors: number;
  /** Table bytes: vectors × 16. */
  readonly tableSize: number;
  /** PBA bytes: QEMU_ALIGN_UP(vectors, 64) / 8. */
  readonly pbaSize: number;
  /** The table as a QEMU region (a subregion of the table BAR). */
  readonly tableOps: QemuRegionOps;
  /** The PBA as a QEMU region (a subregion of the PBA BAR). */
  readonly pbaOps: QemuRegionOps;
  /** Messages sent. */
  sent = 0;
  readonly #table: Uint32Array;
  readonly #pba: Uint32Array;
  readonly #used: Uint32Array;
  readonly #sink: MsiSink;
  readonly #msg: MsiMessage = { addressLo: 0, addressHi: 0, data: 0 };
  #functionMasked = true;
  #notifiers: MsixVectorNotifiers | undefined;

  /** msix_init(). @throws ConfigError for a bad layout (QEMU: -EINVAL). */
  constructor(fn: PciFunction, options: MsixOptions) {
    const n = options.vectors;
    if (!Number.isInteger(n) || n < 1 || n > R.PCI_MSIX_FLAGS_QSIZE + 1) throw new ConfigError(`MSI-X: ${n} vectors is not in 1..2048`);
    this.fn = fn;
    this.vectors = n;
    this.tableSize = n * R.PCI_MSIX_ENTRY_SIZE;
    this.pbaSize = (Math.ceil(n / 64) * 64) / 8;
    const { tableBar, tableOffset, pbaBar, pbaOffset } = options;
    const tableRegion = fn.barDevice(tableBar);
    const pbaRegion = fn.barDevice(pbaBar);
    if (!(tableRegion instanceof PciBarRegion) || !(pbaRegion instanceof PciBarRegion)) {
      throw new ConfigError(`MSI-X: BAR${tableBar}/BAR${pbaBar} must be registered with a PciBarRegion first`);
    }
    const overlap = tableBar === pbaBar && tableOffset < pbaOffset + this.pbaSize && pbaOffset < tableOffset + this.tableSize;
    if (overlap || tableOffset + this.tableSize > tableRegion.size || pbaOffset + this.pbaSize > pbaRegion.size || ((tableOffset | pbaOffset) & R.PCI_MSIX_FLAGS_BIRMASK) !== 0) {
      throw new ConfigError("MSI-X: table & pba overlap, or they don't fit in BARs, or don't align");
    }
    this.cap = fn.addCapability(R.PCI_CAP_ID_MSIX, options.capOffset ?? 0, R.MSIX_CAP_LENGTH);
    fn.setWord(this.cap + R.PCI_MSIX_FLAGS, n - 1);
    fn.setLong(this.cap + R.PCI_MSIX_TABLE, tableOffset | tableBar);
    fn.setLong(this.cap + R.PCI_MSIX_PBA, pbaOffset | pbaBar);
    fn.setWritableByte(this.cap + MSIX_CONTROL_OFFSET, MSIX_ENABLE_MASK | MSIX_MASKALL_MASK);
    this.#table = new Uint32Array(n * 4);
    this.#pba = new Uint32Array(this.pbaSize / 4);
    this.#used = new Uint32Array(n);
    this.#sink = options.sink;
    fn.attachMsix(this);
    this.#maskAll();
    this.tableOps = new MsixTableOps(this);
    this.pbaOps = new MsixPbaOps(this);
    tableRegion.addSubregion(tableOffset, this.tableSize, this.tableOps);
    pbaRegion.addSubregion(pbaOffset, this.pbaSize, this.pbaOps);
  }

  /** msix_enabled(): Message Control.Enable. */
  get enabled(): boolean {
    return (this.#control() & MSIX_ENABLE_MASK) !== 0;
  }

  /** Message Control.Function Mask. */
  get maskAll(): boolean {
    return (this.#control() & MSIX_MASKALL_MASK) !== 0;
  }

  /** msix_function_masked: not enabled, or function-masked (as last evaluated). */
  get functionMasked(): boolean {
    return this.#functionMasked;
  }

  /** msix_is_masked(): the function or the entry is masked. */
  isMasked(vector: number): boolean {
    return this.#vectorMasked(vector, this.#functionMasked);
  }

  /** The entry's Vector Control Mask Bit. */
  entryMasked(vector: number): boolean {
    return (this.#table[vector * 4 + 3]! & R.PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  /** msix_is_pending(): the vector's PBA bit. */
  isPending(vector: number): boolean {
    return ((this.#pba[vector >>> 5]! >>> (vector & 31)) & 1) !== 0;
  }

  /** Whether the device declared the vector in use (msix_entry_used). */
  isUsed(vector: number): boolean {
    return this.#used[vector] !== 0;
  }

  /**
   * msix_get_message(): the entry's message in a reused object, valid until
   * the next call.
   */
  message(vector: number): MsiMessage {
    const t = this.#table;
    const m = this.#msg;
    m.addressLo = t[vector * 4]!;
    m.addressHi = t[vector * 4 + 1]!;
    m.data = t[vector * 4 + 2]!;
    return m;
  }

  /** msix_notify(): the device signals `vector`. */
  notify(vector: number): void {
    this.#checkVector(vector);
    if (this.#used[vector] === 0) return;
    if (this.isMasked(vector)) {
      this.#setPending(vector);
      return;
    }
    this.send(vector);
  }

  /** msi_send_message(): sends `vector`'s message now, whatever its mask (through bus mastering). */
  send(vector: number): void {
    const t = this.#table;
    const fn = this.fn;
    if (!fn.busMasterEnabled) {
      fn.guestError("msix", `MSI-X vector ${vector} message to 0x${t[vector * 4 + 1]!.toString(16)}_${t[vector * 4]!.toString(16)} dropped: bus mastering is disabled`);
      return;
    }
    this.sent++;
    this.#sink(t[vector * 4]!, t[vector * 4 + 1]!, t[vector * 4 + 2]!, fn.requesterId);
  }

  /** msix_vector_use(): the device will signal `vector`. */
  vectorUse(vector: number): void {
    this.#checkVector(vector);
    this.#used[vector] = this.#used[vector]! + 1;
  }

  /** msix_vector_unuse(): drops one use; the last one also clears the PBA bit. */
  vectorUnuse(vector: number): void {
    this.#checkVector(vector);
    const uses = this.#used[vector]!;
    if (uses === 0) return;
    this.#used[vector] = uses - 1;
    if (uses !== 1) return;
    this.#clearPending(vector);
  }

  /** msix_unuse_all_vectors(). */
  unuseAll(): void {
    this.#used.fill(0);
    this.#pba.fill(0);
  }

  /** msix_set_mask(): sets or clears the entry's mask bit as the device. */
  setMask(vector: number, mask: boolean): void {
    this.#checkVector(vector);
    const was = this.isMasked(vector);
    const i = vector * 4 + 3;
    this.#table[i] = mask ? this.#table[i]! | R.PCI_MSIX_ENTRY_CTRL_MASKBIT : this.#table[i]! & ~R.PCI_MSIX_ENTRY_CTRL_MASKBIT;
    this.#handleMaskUpdate(vector, was);
  }

  /**
   * msix_set_vector_notifiers(): installs the hooks and calls `use` for every
   * unmasked vector if MSI-X is enabled and not function-masked, then `poll`.
   */
  setVectorNotifiers(notifiers: MsixVectorNotifiers): void {
    this.#notifiers = notifiers;
    if ((this.#control() & (MSIX_ENABLE_MASK | MSIX_MASKALL_MASK)) === MSIX_ENABLE_MASK) {
      for (let v = 0; v < this.vectors; v++) if (!this.isMasked(v)) notifiers.use(v, this.message(v));
    }
    notifiers.poll?.(0, this.vectors);
  }

  /** msix_unset_vector_notifiers(): calls `release` for every unmasked vector if enabled, then removes the hooks. */
  unsetVectorNotifiers(): void {
    const n = this.#notifiers;
    if (n === undefined) throw new ConfigError("MSI-X: no vector notifiers to unset");
    if ((this.#control() & (MSIX_ENABLE_MASK | MSIX_MASKALL_MASK)) === MSIX_ENABLE_MASK) {
      for (let v = 0; v < this.vectors; v++) if (!this.isMasked(v)) n.release(v);
    }
    this.#notifiers = undefined;
  }

  /** msix_write_config(): after a config write; reacts to the Message Control byte. */
  writeConfig(addr: number, len: number): void {
    if (!rangeCoversByte(addr, len, this.cap + MSIX_CONTROL_OFFSET)) return;
    const wasMasked = this.#functionMasked;
    this.#updateFunctionMasked();
    if (!this.enabled) return;
    this.fn.deassertIntx();
    if (this.#functionMasked === wasMasked) return;
    for (let v = 0; v < this.vectors; v++) this.#handleMaskUpdate(v, this.#vectorMasked(v, wasMasked));
  }

  /** msix_reset(): PBA and table cleared, Enable and Function Mask cleared, every entry masked. */
  reset(): void {
    this.#pba.fill(0);
    const at = this.cap + MSIX_CONTROL_OFFSET;
    this.fn.config[at] = this.fn.config[at]! & ~(MSIX_ENABLE_MASK | MSIX_MASKALL_MASK);
    this.#table.fill(0);
    this.#maskAll();
  }

  // ---- MMIO callbacks (impl 4 bytes) ----

  /** msix_table_mmio_read(). */
  tableRead(offset: number): number {
    return this.#table[offset >>> 2]!;
  }

  /** msix_table_mmio_write(). */
  tableWrite(offset: number, value: number): void {
    const vector = Math.floor(offset / R.PCI_MSIX_ENTRY_SIZE);
    const was = this.isMasked(vector);
    this.#table[offset >>> 2] = value >>> 0;
    this.#handleMaskUpdate(vector, was);
  }

  /** msix_pba_mmio_read(): the poll notifier first, then the bits. */
  pbaRead(offset: number, size: number): number {
    this.#notifiers?.poll?.(offset * 8, Math.min((offset + size) * 8, this.vectors));
    return this.#pba[offset >>> 2]!;
  }

  // ---- snapshot ----

  /** Plain copy of the table and PBA. */
  state(): MsixState {
    return { version: 1, table: [...this.#table], pba: [...this.#pba] };
  }

  /** msix_load(): table and PBA restored, then every vector re-evaluated as if it had been masked. */
  loadState(s: MsixState): void {
    if ((s.version as number) !== 1 || s.table.length !== this.#table.length || s.pba.length !== this.#pba.length) throw new ConfigError("MSI-X state does not fit");
    this.#pba.fill(0);
    this.#table.set(s.table);
    this.#pba.set(s.pba);
    this.#updateFunctionMasked();
    for (let v = 0; v < this.vectors; v++) this.#handleMaskUpdate(v, true);
  }

  // ---- helpers ----

  #control(): number {
    return this.fn.config[this.cap + MSIX_CONTROL_OFFSET]!;
  }

  #updateFunctionMasked(): void {
    this.#functionMasked = !this.enabled || this.maskAll;
  }

  #vectorMasked(vector: number, fmask: boolean): boolean {
    return fmask || this.entryMasked(vector);
  }

  #setPending(vector: number): void {
    this.#pba[vector >>> 5] = this.#pba[vector >>> 5]! | (1 << (vector & 31));
  }

  #clearPending(vector: number): void {
    this.#pba[vector >>> 5] = this.#pba[vector >>> 5]! & ~(1 << (vector & 31));
  }

  #handleMaskUpdate(vector: number, wasMasked: boolean): void {
    const isMasked = this.isMasked(vector);
    if (isMasked === wasMasked) return;
    const n = this.#notifiers;
    if (n !== undefined) {
      if (isMasked) n.release(vector);
      else n.use(vector, this.message(vector));
    }
    // Unmasking with the PBA bit set sends the message once and clears the bit.
    if (!isMasked && this.isPending(vector)) {
      this.#clearPending(vector);
      this.notify(vector);
    }
  }

  #maskAll(): void {
    for (let v = 0; v < this.vectors; v++) {
      const was = this.isMasked(v);
      this.#table[v * 4 + 3] = this.#table[v * 4 + 3]! | R.PCI_MSIX_ENTRY_CTRL_MASKBIT;
      this.#handleMaskUpdate(v, was);
    }
  }

  #checkVector(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector >= this.vectors) throw new ConfigError(`MSI-X: vector ${vector} is not in 0..${this.vectors - 1}`);
  }
}

class MsixTableOps implements QemuRegionOps {
  readonly rules = TABLE_RULES;
  constructor(readonly msix: Msix) {}
  opsRead(offset: number): number {
    return this.msix.tableRead(offset);
  }
  opsWrite(offset: number, _size: number, value: number): void {
    this.msix.tableWrite(offset, value);
  }
  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    this.msix.fn.guestError("msix-table", qemuInvalidMessage("msix-table", offset, size, write, reason, TABLE_RULES));
  }
}

class MsixPbaOps implements QemuRegionOps {
  readonly rules = TABLE_RULES;
  constructor(readonly msix: Msix) {}
  opsRead(offset: number, size: number): number {
    return this.msix.pbaRead(offset, size);
  }
  opsWrite(): void {
    // msix_pba_mmio_write: ignored, not logged
  }
  opsInvalid(offset: number, size: number, write: boolean, reason: QemuInvalidReason): void {
    this.msix.fn.guestError("msix-pba", qemuInvalidMessage("msix-pba", offset, size, write, reason, TABLE_RULES));
  }
}
