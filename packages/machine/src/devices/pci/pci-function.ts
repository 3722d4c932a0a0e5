/**
 * One PCI function with a type 0 configuration header (PCI Local Bus
 * Specification 3.0 §6.1-§6.2), as QEMU's PCI core models it in
 * hw/pci/pci.c: do_pci_register_device (identity, default subsystem IDs),
 * pci_init_wmask / pci_init_w1cmask (which bits are read/write and
 * write-1-to-clear), pci_default_read_config / pci_default_write_config,
 * pci_register_bar, pci_bar_address and pci_update_mappings (when a memory
 * BAR is decoded, and where), pci_add_capability, pci_irq_handler (INTx),
 * and pci_do_device_reset.
 *
 * QEMU's rules kept here:
 * - COMMAND: IO, MEMORY, MASTER, SERR and INTX_DISABLE are writable, the rest
 *   reads 0; STATUS: PARITY, SIG/REC_TARGET_ABORT, REC_MASTER_ABORT,
 *   SIG_SYSTEM_ERROR and DETECTED_PARITY are write-1-to-clear, INTERRUPT and
 *   CAP_LIST are read-only; CACHE_LINE_SIZE and INTERRUPT_LINE are writable;
 *   the rest of the header is read-only. Bytes after the header that belong
 *   to no capability are plain read/write storage in an emulated device
 *   (QEMU's wmask is 0xff there); a capability's bytes are read-only unless
 *   its owner makes bits writable.
 * - A memory BAR register reads its type bits and the bits above its size
 *   that were written; writing all-ones reads back ~(size − 1) | type. It is
 *   decoded only while COMMAND.MEMORY is set, at the written address aligned
 *   down to its size, and not at all if that range wraps or a 32-bit BAR
 *   reaches 0xFFFFFFFF (so a BAR being sized is never mapped), or if the
 *   address is 0 and the machine does not allow it (both `virt` machines
 *   set pci_allow_0_address). Every change of the decoded range is reported
 *   to the {@link PciBarListener} as an unmap of the old and a map of the new.
 * - I/O BARs and the expansion ROM BAR are not modelled (the ROM register
 *   reads 0, as in QEMU without a romfile). A 64-bit BAR whose address is at
 *   or above 2^53 is treated as not decoded (the MMIO bus works in safe
 *   integers; QEMU would map it there).
 */

import { ConfigError, type MmioDevice } from "@irqlab/sim";
import { DeviceLog, type DeviceTraceOptions } from "../device-io.js";
import type { Msix } from "./msix.js";
import * as R from "./pci-regs.js";

/** A function's identity, as QEMU's PCIDeviceClass fields or a passed-through device's header. */
export interface PciFunctionIdentity {
  /** PCI_VENDOR_ID. */
  readonly vendorId: number;
  /** PCI_DEVICE_ID. */
  readonly deviceId: number;
  /** PCI_REVISION_ID (default 0). */
  readonly revision?: number;
  /** 24-bit class code: base class << 16 | subclass << 8 | programming interface. */
  readonly classCode: number;
  /** PCI_SUBSYSTEM_VENDOR_ID (default 0x1af4, QEMU's pci_set_default_subsystem_id). */
  readonly subsystemVendorId?: number;
  /** PCI_SUBSYSTEM_ID (default 0x1100). */
  readonly subsystemId?: number;
  /** PCI_INTERRUPT_PIN: 0 none, 1..4 INTA..INTD (default 0). */
  readonly interruptPin?: number;
  /** PCI_HEADER_TYPE bit 7 (default false). */
  readonly multifunction?: boolean;
}

/** Construction options of a {@link PciFunction}. */
export interface PciFunctionOptions extends PciFunctionIdentity, DeviceTraceOptions {
  /** A PCI Express function: 4 KiB of configuration space instead of 256 bytes. */
  readonly express?: boolean;
  /**
   * Bytes after the header outside capabilities are read/write (QEMU
   * pci_init_wmask; default true). False for a passed-through device, whose
   * device-specific registers are not modelled and read 0.
   */
  readonly deviceSpecificWritable?: boolean;
}

/** The two kinds of memory BAR. */
export type PciBarKind = "mem32" | "mem64";

/**
 * Receives BAR decode changes (pci_update_mappings): the machine maps
 * `device` on its MMIO bus at [address, address + size) and unmaps it again.
 */
export interface PciBarListener {
  /** BAR `bar` of `fn` is now decoded at [address, address + size). */
  barMapped(fn: PciFunction, bar: number, address: number, size: number, device: MmioDevice): void;
  /** BAR `bar` of `fn`, decoded at [address, address + size), is no longer decoded. */
  barUnmapped(fn: PciFunction, bar: number, address: number, size: number, device: MmioDevice): void;
}

/** What a function sees of the bus it is plugged into (a {@link PcieHost} provides it). */
export interface PciBusLink {
  /** Bus number (0 for the root bus). */
  readonly busNumber: number;
  /** MachineClass.pci_allow_0_address. */
  readonly allowZeroAddress: boolean;
  /** Where BAR decode changes go. */
  readonly barListener: PciBarListener | undefined;
  /** pci_change_irq_level(): INTx pin (0 = INTA) of `fn` changed by +1 or −1. */
  intxChange(fn: PciFunction, pin: number, change: number): void;
}

/** Plain snapshot of a function's configuration space. */
export interface PciFunctionState {
  readonly version: 1;
  readonly config: readonly number[];
  readonly irqState: number;
}

const TWO_32 = 0x1_0000_0000;

class BarSlot {
  size = 0;
  type = 0;
  addr = -1;
  device: MmioDevice | undefined;
}

/** True if [a, a + la) and [b, b + lb) overlap (QEMU ranges_overlap). */
export function rangesOverlap(a: number, la: number, b: number, lb: number): boolean {
  return a < b + lb && b < a + la;
}

/** True if [a, a + la) covers byte `b` (QEMU range_covers_byte). */
export function rangeCoversByte(a: number, la: number, b: number): boolean {
  return b >= a && b < a + la;
}

/** A PCI function: its configuration space, BARs, capability list and INTx pin. */
export class PciFunction {
  /** Configuration space bytes (256 or 4096). */
  readonly config: Uint8Array;
  /** pci_config_size(). */
  readonly configSize: number;
  readonly express: boolean;
  protected readonly log: DeviceLog;
  readonly #wmask: Uint8Array;
  readonly #w1cmask: Uint8Array;
  readonly #used: Uint8Array;
  readonly #bars: BarSlot[] = Array.from({ length: R.PCI_NUM_BARS }, () => new BarSlot());
  #link: PciBusLink | undefined;
  #devfn = 0;
  #msix: Msix | undefined;
  #irqState = 0;

  /** @throws ConfigError for an identity field out of range. */
  constructor(options: PciFunctionOptions) {
    this.log = new DeviceLog(options, "pci-function");
    this.express = options.express ?? false;
    this.configSize = this.express ? R.PCI_CFG_SPACE_EXP_SIZE : R.PCI_CFG_SPACE_SIZE;
    this.config = new Uint8Array(this.configSize);
    this.#wmask = new Uint8Array(this.configSize);
    this.#w1cmask = new Uint8Array(this.configSize);
    this.#used = new Uint8Array(this.configSize);
    check("vendorId", options.vendorId, 0xffff);
    check("deviceId", options.deviceId, 0xffff);
    check("classCode", options.classCode, 0xffffff);
    const pin = options.interruptPin ?? 0;
    check("interruptPin", pin, 4);
    this.setWord(R.PCI_VENDOR_ID, options.vendorId);
    this.setWord(R.PCI_DEVICE_ID, options.deviceId);
    this.config[R.PCI_REVISION_ID] = check("revision", options.revision ?? 0, 0xff);
    this.config[R.PCI_CLASS_PROG] = options.classCode & 0xff;
    this.setWord(R.PCI_CLASS_DEVICE, options.classCode >>> 8);
    this.config[R.PCI_HEADER_TYPE] = options.multifunction === true ? R.PCI_HEADER_TYPE_MFD : 0;
    this.setWord(R.PCI_SUBSYSTEM_VENDOR_ID, check("subsystemVendorId", options.subsystemVendorId ?? R.PCI_SUBVENDOR_ID_REDHAT_QUMRANET, 0xffff));
    this.setWord(R.PCI_SUBSYSTEM_ID, check("subsystemId", options.subsystemId ?? R.PCI_SUBDEVICE_ID_QEMU, 0xffff));
    this.config[R.PCI_INTERRUPT_PIN] = pin;
    // pci_init_wmask(), pci_init_w1cmask()
    this.#wmask[R.PCI_CACHE_LINE_SIZE] = 0xff;
    this.#wmask[R.PCI_INTERRUPT_LINE] = 0xff;
    this.#setMaskWord(this.#wmask, R.PCI_COMMAND, R.PCI_COMMAND_IO | R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER | R.PCI_COMMAND_INTX_DISABLE | R.PCI_COMMAND_SERR);
    if (options.deviceSpecificWritable ?? true) this.#wmask.fill(0xff, R.PCI_CONFIG_HEADER_SIZE);
    this.#setMaskWord(
      this.#w1cmask,
      R.PCI_STATUS,
      R.PCI_STATUS_PARITY | R.PCI_STATUS_SIG_TARGET_ABORT | R.PCI_STATUS_REC_TARGET_ABORT | R.PCI_STATUS_REC_MASTER_ABORT | R.PCI_STATUS_SIG_SYSTEM_ERROR | R.PCI_STATUS_DETECTED_PARITY,
    );
  }

  /** Device/function number on its bus (PCI_DEVFN). */
  get devfn(): number {
    return this.#devfn;
  }

  /** Bus number, 0 until plugged. */
  get busNumber(): number {
    return this.#link?.busNumber ?? 0;
  }

  /** pci_requester_id(): bus << 8 | devfn, the DeviceID of its MSIs on the ITS. */
  get requesterId(): number {
    return (this.busNumber << 8) | this.#devfn;
  }

  /** The MSI-X capability, if the function has one. */
  get msix(): Msix | undefined {
    return this.#msix;
  }

  /** The COMMAND register. */
  get command(): number {
    return this.configWord(R.PCI_COMMAND);
  }

  /** COMMAND.MASTER: the function may write memory, MSIs included. */
  get busMasterEnabled(): boolean {
    return (this.command & R.PCI_COMMAND_MASTER) !== 0;
  }

  /** Instance name (trace track and guest-error prefix). */
  get name(): string {
    return this.log.name;
  }

  /** Counts a guest error against this function (QEMU LOG_GUEST_ERROR). */
  guestError(what: string, message: string): void {
    this.log.guestError(what, message);
  }

  /** Called by the host bridge when the function is plugged at `devfn`. */
  plugged(link: PciBusLink, devfn: number): void {
    if (this.#link !== undefined) throw new ConfigError(`${this.log.name}: already plugged`);
    this.#link = link;
    this.#devfn = devfn;
  }

  /** Called by an {@link Msix} being set up on this function (msix_init). */
  attachMsix(msix: Msix): void {
    if (this.#msix !== undefined) throw new ConfigError(`${this.log.name}: already has MSI-X`);
    this.#msix = msix;
  }

  // ---- setup (QEMU realize) ----

  /**
   * pci_register_bar(): memory BAR `index` of `size` bytes (a power of two,
   * at least 16) backed by `device`. A 64-bit BAR also takes register
   * `index + 1`. @throws ConfigError for a bad index, size or overlap.
   */
  registerBar(index: number, size: number, kind: PciBarKind, device: MmioDevice, prefetchable = false): void {
    const is64 = kind === "mem64";
    if (!Number.isInteger(index) || index < 0 || index >= R.PCI_NUM_BARS - (is64 ? 1 : 0)) {
      throw new ConfigError(`${this.log.name}: BAR index ${index} is not valid for a ${kind} BAR`);
    }
    const max = is64 ? 2 ** 52 : 2 ** 31;
    if (!Number.isSafeInteger(size) || size < 16 || size > max || !Number.isInteger(Math.log2(size))) {
      throw new ConfigError(`${this.log.name}: BAR${index} size ${size} is not a power of two in 16..${max}`);
    }
    const slot = this.#bars[index]!;
    const prevIs64 = index > 0 && (this.#bars[index - 1]!.type & R.PCI_BASE_ADDRESS_MEM_TYPE_64) !== 0;
    if (slot.size !== 0 || prevIs64 || (is64 && this.#bars[index + 1]!.size !== 0)) {
      throw new ConfigError(`${this.log.name}: BAR${index} overlaps a registered BAR`);
    }
    slot.size = size;
    slot.type = (is64 ? R.PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (prefetchable ? R.PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
    slot.addr = -1;
    slot.device = device;
    const off = R.PCI_BASE_ADDRESS_0 + 4 * index;
    this.setLong(off, slot.type);
    const lowMask = size >= TWO_32 ? 0 : (~(size - 1)) >>> 0;
    this.#setMaskLong(this.#wmask, off, lowMask);
    if (is64) {
      this.setLong(off + 4, 0);
      const highMask = size > TWO_32 ? (~(size / TWO_32 - 1)) >>> 0 : 0xffffffff;
      this.#setMaskLong(this.#wmask, off + 4, highMask);
    }
  }

  /**
   * pci_add_capability(): links a capability of `size` bytes with ID `capId`
   * at `offset` (0: the first free space after the header, pci_find_space)
   * at the head of the list and makes its bytes read-only. Returns the offset.
   * @throws ConfigError if it overlaps another capability or does not fit.
   */
  addCapability(capId: number, offset: number, size: number): number {
    let at = offset;
    if (at === 0) {
      at = this.#findSpace(size);
      if (at === 0) throw new ConfigError(`${this.log.name}: no room for a ${size}-byte capability`);
    } else {
      if (at < R.PCI_CONFIG_HEADER_SIZE || at + size > R.PCI_CFG_SPACE_SIZE || (at & 3) !== 0) {
        throw new ConfigError(`${this.log.name}: capability 0x${capId.toString(16)} at 0x${at.toString(16)} is outside 0x40..0xff or unaligned`);
      }
      for (let i = at; i < at + size; i++) {
        if (this.#used[i] !== 0) throw new ConfigError(`${this.log.name}: capability 0x${capId.toString(16)} at 0x${at.toString(16)} overlaps another`);
      }
    }
    this.config[at + R.PCI_CAP_LIST_ID] = capId;
    this.config[at + R.PCI_CAP_LIST_NEXT] = this.config[R.PCI_CAPABILITY_LIST]!;
    this.config[R.PCI_CAPABILITY_LIST] = at;
    this.config[R.PCI_STATUS] = this.config[R.PCI_STATUS]! | R.PCI_STATUS_CAP_LIST;
    this.#used.fill(0xff, at, Math.min(R.PCI_CFG_SPACE_SIZE, at + ((size + 3) & ~3)));
    this.#wmask.fill(0, at, at + size);
    return at;
  }

  /** Makes `bits` of the config word at `offset` writable (a capability owner's wmask setup). */
  setWritableWord(offset: number, bits: number): void {
    this.#setMaskWord(this.#wmask, offset, this.#wmask[offset]! | (this.#wmask[offset + 1]! << 8) | bits);
  }

  /** Makes `bits` of the config byte at `offset` writable. */
  setWritableByte(offset: number, bits: number): void {
    this.#wmask[offset] = this.#wmask[offset]! | bits;
  }

  /** Makes `bits` of the config word at `offset` write-1-to-clear. */
  setW1cWord(offset: number, bits: number): void {
    this.#setMaskWord(this.#w1cmask, offset, this.#w1cmask[offset]! | (this.#w1cmask[offset + 1]! << 8) | bits);
  }

  /** Makes config bytes [from, to) read-only (e.g. extended space a device does not implement). */
  setReadOnly(from: number, to: number): void {
    this.#wmask.fill(0, from, to);
  }

  // ---- config space access (the ECAM's pci_host_config_read/write_common) ----

  /** pci_default_read_config(): `len` (1, 2 or 4) little-endian bytes at `addr`. */
  configRead(addr: number, len: number): number {
    let v = 0;
    for (let i = len - 1; i >= 0; i--) v = (v << 8) | this.config[addr + i]!;
    return v >>> 0;
  }

  /** The function's config_write: pci_default_write_config() unless the device overrides it. */
  configWrite(addr: number, value: number, len: number): void {
    this.defaultConfigWrite(addr, value, len);
  }

  /** pci_default_write_config(): masked byte writes, then BAR, INTx and MSI-X side effects. */
  protected defaultConfigWrite(addr: number, value: number, len: number): void {
    const wasIrqDisabled = this.#irqDisabled();
    let val = value >>> 0;
    for (let i = 0; i < len; i++, val >>>= 8) {
      const a = addr + i;
      const b = val & 0xff;
      const wm = this.#wmask[a]!;
      this.config[a] = ((this.config[a]! & ~wm) | (b & wm)) & ~(b & this.#w1cmask[a]!);
    }
    if (rangesOverlap(addr, len, R.PCI_BASE_ADDRESS_0, 24) || rangesOverlap(addr, len, R.PCI_ROM_ADDRESS, 4) || rangeCoversByte(addr, len, R.PCI_COMMAND)) {
      this.updateMappings();
    }
    if (rangesOverlap(addr, len, R.PCI_COMMAND, 2)) this.#updateIrqDisabled(wasIrqDisabled);
    this.#msix?.writeConfig(addr, len);
  }

  /** Little-endian 16-bit config value at `offset`. */
  configWord(offset: number): number {
    return this.config[offset]! | (this.config[offset + 1]! << 8);
  }

  /** Little-endian 32-bit config value at `offset`. */
  configLong(offset: number): number {
    return this.configRead(offset, 4);
  }

  /** Sets a config word without masks (device setup). */
  setWord(offset: number, v: number): void {
    this.config[offset] = v & 0xff;
    this.config[offset + 1] = (v >>> 8) & 0xff;
  }

  /** Sets a config long without masks (device setup). */
  setLong(offset: number, v: number): void {
    this.setWord(offset, v & 0xffff);
    this.setWord(offset + 2, v >>> 16);
  }

  // ---- BARs ----

  /** pci_bar_address(): where BAR `index` is decoded now, or −1. */
  barAddress(index: number): number {
    const slot = this.#bars[index];
    if (slot === undefined || slot.size === 0) return -1;
    if ((this.command & R.PCI_COMMAND_MEMORY) === 0) return -1;
    const off = R.PCI_BASE_ADDRESS_0 + 4 * index;
    const is64 = (slot.type & R.PCI_BASE_ADDRESS_MEM_TYPE_64) !== 0;
    let lo = this.configLong(off);
    let hi = is64 ? this.configLong(off + 4) : 0;
    if (slot.size < TWO_32) {
      lo = (lo & ~(slot.size - 1)) >>> 0;
    } else {
      lo = 0;
      hi = (hi & ~(slot.size / TWO_32 - 1)) >>> 0;
    }
    if (hi >= 0x200000) return -1; // ≥ 2^53: beyond the model's address space
    const addr = hi * TWO_32 + lo;
    const last = addr + slot.size - 1;
    if (addr === 0 && !(this.#link?.allowZeroAddress ?? true)) return -1;
    if (!is64 && last >= 0xffffffff) return -1;
    return addr;
  }

  /** Size of BAR `index` (0 if none). */
  barSize(index: number): number {
    return this.#bars[index]?.size ?? 0;
  }

  /** The device behind BAR `index`. */
  barDevice(index: number): MmioDevice | undefined {
    return this.#bars[index]?.device;
  }

  /** pci_update_mappings(): reports every BAR whose decoded range changed. */
  updateMappings(): void {
    const listener = this.#link?.barListener;
    for (let i = 0; i < R.PCI_NUM_BARS; i++) {
      const slot = this.#bars[i]!;
      if (slot.size === 0) continue;
      const addr = this.barAddress(i);
      if (addr === slot.addr) continue;
      const old = slot.addr;
      slot.addr = addr;
      if (old !== -1) listener?.barUnmapped(this, i, old, slot.size, slot.device!);
      if (addr !== -1) listener?.barMapped(this, i, addr, slot.size, slot.device!);
    }
  }

  // ---- INTx ----

  /** pci_set_irq(): drives the function's INTx pin. @throws ConfigError if it has none. */
  setIrq(level: boolean): void {
    const pin = this.config[R.PCI_INTERRUPT_PIN]! - 1;
    if (pin < 0 || pin > 3) throw new ConfigError(`${this.log.name}: setIrq on a function without an interrupt pin`);
    this.#irqHandler(pin, level ? 1 : 0);
  }

  /** pci_device_deassert_intx(). */
  deassertIntx(): void {
    for (let pin = 0; pin < 4; pin++) this.#irqHandler(pin, 0);
  }

  /** INTx pin state bits (irq_state). */
  get intxState(): number {
    return this.#irqState;
  }

  #irqHandler(pin: number, level: number): void {
    const change = level - ((this.#irqState >>> pin) & 1);
    if (change === 0) return;
    this.#irqState = (this.#irqState & ~(1 << pin)) | (level << pin);
    this.#updateIrqStatus();
    if (this.#irqDisabled()) return;
    this.#link?.intxChange(this, pin, change);
  }

  #irqDisabled(): boolean {
    return (this.command & R.PCI_COMMAND_INTX_DISABLE) !== 0;
  }

  #updateIrqStatus(): void {
    const s = this.config[R.PCI_STATUS]!;
    this.config[R.PCI_STATUS] = this.#irqState !== 0 ? s | R.PCI_STATUS_INTERRUPT : s & ~R.PCI_STATUS_INTERRUPT;
  }

  #updateIrqDisabled(was: boolean): void {
    const disabled = this.#irqDisabled();
    if (disabled === was) return;
    for (let pin = 0; pin < 4; pin++) {
      if (((this.#irqState >>> pin) & 1) !== 0) this.#link?.intxChange(this, pin, disabled ? -1 : 1);
    }
  }

  // ---- reset ----

  /** The device's own reset (its DeviceClass reset); nothing for a plain function. */
  deviceReset(): void {
    // overridden by devices with reset-time behaviour (vfio-pci)
  }

  /** pci_do_device_reset(): what the PCI core resets on RST# for every function. */
  busReset(): void {
    this.deassertIntx();
    const cmdMask = this.#maskWord(this.#wmask, R.PCI_COMMAND) | this.#maskWord(this.#w1cmask, R.PCI_COMMAND);
    this.setWord(R.PCI_COMMAND, this.command & ~cmdMask);
    const stMask = this.#maskWord(this.#wmask, R.PCI_STATUS) | this.#maskWord(this.#w1cmask, R.PCI_STATUS);
    this.setWord(R.PCI_STATUS, this.configWord(R.PCI_STATUS) & ~stMask);
    this.config[R.PCI_INTERRUPT_LINE] = this.config[R.PCI_INTERRUPT_LINE]! & ~(this.#wmask[R.PCI_INTERRUPT_LINE]! | this.#w1cmask[R.PCI_INTERRUPT_LINE]!);
    this.config[R.PCI_CACHE_LINE_SIZE] = 0;
    for (let i = 0; i < R.PCI_NUM_BARS; i++) {
      const slot = this.#bars[i]!;
      if (slot.size === 0) continue;
      const off = R.PCI_BASE_ADDRESS_0 + 4 * i;
      this.setLong(off, slot.type);
      if ((slot.type & R.PCI_BASE_ADDRESS_MEM_TYPE_64) !== 0) this.setLong(off + 4, 0);
    }
    this.updateMappings();
    this.#msix?.reset();
  }

  /** System reset of this function: {@link deviceReset} then {@link busReset}, QEMU's order. */
  reset(): void {
    this.deviceReset();
    this.busReset();
  }

  // ---- snapshot ----

  /** Plain copy of the configuration space and INTx state. */
  state(): PciFunctionState {
    return { version: 1, config: [...this.config], irqState: this.#irqState };
  }

  /**
   * Loads a {@link state} copy (QEMU get_pci_config_device: read-only bits
   * must match), then re-evaluates the BAR mappings.
   * @throws ConfigError if the snapshot is for another function.
   */
  loadState(s: PciFunctionState): void {
    if ((s.version as number) !== 1 || s.config.length !== this.configSize) throw new ConfigError(`${this.log.name}: config snapshot does not fit`);
    for (let i = 0; i < R.PCI_CONFIG_HEADER_SIZE; i++) {
      if (i === R.PCI_STATUS || i === R.PCI_STATUS + 1) continue; // INTERRUPT follows irq_state
      const fixed = ~(this.#wmask[i]! | this.#w1cmask[i]!) & 0xff;
      if (((s.config[i]! ^ this.config[i]!) & fixed) !== 0) {
        throw new ConfigError(`${this.log.name}: config snapshot differs at read-only byte 0x${i.toString(16)}`);
      }
    }
    this.config.set(s.config);
    this.#irqState = s.irqState & 0xf;
    this.#updateIrqStatus();
    this.updateMappings();
  }

  // ---- helpers ----

  #findSpace(size: number): number {
    // pci_find_space(): the first run of `size` unused bytes after the header.
    let offset = R.PCI_CONFIG_HEADER_SIZE;
    for (let i = R.PCI_CONFIG_HEADER_SIZE; i < R.PCI_CFG_SPACE_SIZE; i++) {
      if (this.#used[i] !== 0) offset = i + 1;
      else if (i - offset + 1 === size) return offset;
    }
    return 0;
  }

  #setMaskWord(mask: Uint8Array, offset: number, v: number): void {
    mask[offset] = v & 0xff;
    mask[offset + 1] = (v >>> 8) & 0xff;
  }

  #setMaskLong(mask: Uint8Array, offset: number, v: number): void {
    this.#setMaskWord(mask, offset, v & 0xffff);
    this.#setMaskWord(mask, offset + 2, v >>> 16);
  }

  #maskWord(mask: Uint8Array, offset: number): number {
    return mask[offset]! | (mask[offset + 1]! << 8);
  }
}

function check(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new ConfigError(`PCI function: ${name} ${v} is not in 0..0x${max.toString(16)}`);
  return v;
}
