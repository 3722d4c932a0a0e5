/**
 * KVM_DEV_TYPE_RISCV_AIA: the in-kernel AIA device of a RISC-V VM — its
 * attribute groups (CONFIG, ADDR, CTRL, APLIC, IMSIC) with Linux's defaults,
 * limits and errnos, CTRL_INIT, and the VM-wide irqchip hooks (KVM_IRQ_LINE
 * and irqchip routes into the APLIC, KVM_SIGNAL_MSI / MSI routes into a
 * vCPU's IMSIC by address). Linux arch/riscv/kvm/aia_device.c (aia_create,
 * aia_config, aia_aplic_addr, aia_imsic_addr, aia_init, aia_imsic_ppn,
 * aia_imsic_hart_index, kvm_riscv_aia_inject_msi, kvm_riscv_aia_inject_irq),
 * aia_imsic.c (kvm_riscv_aia_imsic_rw_attr); arch/riscv/include/uapi/asm/kvm.h;
 * QEMU target/riscv/kvm/kvm-cpu.c kvm_riscv_aia_create (the VMM's sequence).
 */

import { IREG_EXIT_TO_USER, IREG_OK, type IregValue } from "@irqlab/aia";
import { ConfigError, type AccessSize, type MmioDevice, type Tracer, type WideValue } from "@irqlab/sim";
import type { DeviceAttr, KvmDeviceOps } from "../device.js";
import { fail } from "../errno.js";
import type { KvmMsi, VcpuIrqChip, VmIrqChip } from "../irqchip.js";
import type { Vm } from "../vm.js";
import { KvmAplic } from "./aia-aplic.js";
import type { RiscvAiaHost } from "./aia-host.js";
import * as U from "./aia-uapi.js";
import { AiaVcpuChip, type AiaVmView } from "./aia-vcpu.js";
import { PageIndex } from "./page-index.js";

const PAGE = 12n;

/** The AIA device of one VM (device ops and VM irqchip). */
export class RiscvAiaDevice implements KvmDeviceOps, VmIrqChip, AiaVmView {
  readonly name = "riscv-aia";
  readonly irqchipNumPins = U.RISCV_IRQCHIP_NUM_PINS;
  /** CONFIG MODE. */
  mode: number;
  /** CONFIG IDS. */
  nrIds: number;
  /** CONFIG SRCS. */
  nrSources = 0;
  nrGroupBits = 0;
  nrGroupShift = U.KVM_DEV_RISCV_AIA_GROUP_SHIFT_MIN;
  nrHartBits = 0;
  nrGuestBits = 0;
  /** APLIC guest-physical address (KVM_RISCV_AIA_UNDEF_ADDR = -1 when unset). */
  aplicAddr = U.KVM_RISCV_AIA_UNDEF_ADDR;
  #initialized = false;
  #aplic: KvmAplic | undefined;
  readonly #chips = new Map<number, AiaVcpuChip>();
  /** The chips with IMSIC state by the PPN of their IMSIC page, made at CTRL_INIT (addresses are fixed from then on). */
  #chipByPpn = new PageIndex<AiaVcpuChip>([]);
  readonly #out: IregValue = { lo: 0, hi: 0 };

  constructor(
    readonly vm: Vm,
    readonly host: RiscvAiaHost,
  ) {
    // kvm_riscv_aia_init_vm defaults.
    this.mode = host.nrHgei > 0 ? U.KVM_DEV_RISCV_AIA_MODE_AUTO : U.KVM_DEV_RISCV_AIA_MODE_EMUL;
    this.nrIds = host.maxIds - 1;
  }

  get vmName(): string {
    return this.vm.name;
  }
  get vmIndex(): number {
    return this.vm.index;
  }
  get tracer(): Tracer {
    return this.vm.tracer;
  }
  get now(): number {
    return this.vm.queue.now;
  }
  /** True after CTRL_INIT. */
  get initialized(): boolean {
    return this.#initialized;
  }
  /** The in-kernel APLIC (after CTRL_INIT with SRCS > 0). */
  get aplic(): KvmAplic | undefined {
    return this.#aplic;
  }

  /** The AIA chip of vCPU `vcpuId`. */
  chip(vcpuId: number): AiaVcpuChip | undefined {
    return this.#chips.get(vcpuId);
  }

  // ---- VmIrqChip --------------------------------------------------------------

  vcpuIrqChip(vcpuId: number): VcpuIrqChip {
    let c = this.#chips.get(vcpuId);
    if (c === undefined) {
      c = new AiaVcpuChip(this, this.host, vcpuId);
      this.#chips.set(vcpuId, c);
    }
    return c;
  }

  /** KVM_IRQ_LINE (kvm_riscv_aia_inject_irq): EBUSY before CTRL_INIT, ENODEV without an APLIC or for a bad source. */
  irqLine(_irqType: number, _vcpuIndex: number, irqId: number, level: boolean): void {
    this.#wire("KVM_IRQ_LINE", irqId, level);
  }

  setIrqchipPin(_irqchip: number, pin: number, level: boolean): void {
    this.#wire("KVM_IRQFD", pin, level);
  }

  /**
   * kvm_riscv_aia_inject_msi: the vCPU whose IMSIC page matches the address (guest-index bits
   * cleared) gets identity `data`. Returns 1 when delivered, 0 when no page matches (dropped).
   */
  injectMsi(msi: KvmMsi): number {
    const io = "KVM_SIGNAL_MSI";
    if (!this.#initialized) fail("EBUSY", io, `${this.vm.name}: the AIA is not initialised (KVM_DEV_RISCV_AIA_CTRL_INIT)`);
    // Every IMSIC page is below 2^53 (checked at CTRL_INIT): a higher address matches none, and
    // below it plain numbers are exact, so the hot path needs no BigInt.
    const hi = msi.addressHi >>> 0;
    if (hi >= 2 ** 21) return 0;
    const lo = msi.addressLo >>> 0;
    const ppn = hi * 2 ** 20 + (lo >>> 12);
    // The guest index, ppn's low GUEST_BITS: fewer than KVM_DEV_RISCV_AIA_GUEST_BITS_MAX (8), so they are
    // bits of lo's page number, taken in integer operations (a remainder by a power of two is a float one in V8).
    const g = (lo >>> 12) & ((1 << this.nrGuestBits) - 1);
    const c = this.#chipByPpn.get(ppn - g);
    if (c?.swfile === undefined) return 0;
    const off = lo & 0xfff;
    const r = c.injectMsi(g, off, msi.data);
    if (r === -19) fail("ENODEV", io, `${this.vm.name}: MSI data ${msi.data} / guest index ${g} / offset 0x${off.toString(16)} not deliverable`);
    if (r === -22) fail("EINVAL", io, `${this.vm.name}: MSI identity ${msi.data} > IDS ${this.nrIds}`);
    return 1;
  }

  // ---- KvmDeviceOps ---------------------------------------------------------

  setAttr(a: DeviceAttr): void {
    const io = "KVM_SET_DEVICE_ATTR";
    const attr = Number(a.attr);
    switch (a.group) {
      case U.KVM_DEV_RISCV_AIA_GRP_CONFIG:
        this.#config(io, attr, a.value, true);
        return;
      case U.KVM_DEV_RISCV_AIA_GRP_ADDR:
        this.#addr(io, attr, a.value, true);
        return;
      case U.KVM_DEV_RISCV_AIA_GRP_CTRL:
        if (attr !== U.KVM_DEV_RISCV_AIA_CTRL_INIT) this.#fail("ENXIO", io, `unknown CTRL attribute ${attr}`);
        this.#init();
        return;
      case U.KVM_DEV_RISCV_AIA_GRP_APLIC: {
        const d = this.#aplicReg(io, attr);
        d.write(attr, 4, u32(a.value, io, this), 0);
        return;
      }
      case U.KVM_DEV_RISCV_AIA_GRP_IMSIC:
        this.#imsic(io, a.attr, a.value, true);
        return;
      default:
        this.#fail("ENXIO", io, `unknown attribute group ${a.group}`);
    }
  }

  getAttr(a: DeviceAttr): unknown {
    const io = "KVM_GET_DEVICE_ATTR";
    const attr = Number(a.attr);
    switch (a.group) {
      case U.KVM_DEV_RISCV_AIA_GRP_CONFIG:
        return this.#config(io, attr, undefined, false);
      case U.KVM_DEV_RISCV_AIA_GRP_ADDR:
        return this.#addr(io, attr, undefined, false);
      case U.KVM_DEV_RISCV_AIA_GRP_APLIC: {
        const d = this.#aplicReg(io, attr);
        return d.read(attr, 4, { hi: 0 }) >>> 0;
      }
      case U.KVM_DEV_RISCV_AIA_GRP_IMSIC:
        return this.#imsic(io, a.attr, undefined, false);
      default:
        return this.#fail("ENXIO", io, `attribute group ${a.group} cannot be read`);
    }
  }

  hasAttr(a: DeviceAttr): void {
    const io = "KVM_HAS_DEVICE_ATTR";
    const attr = Number(a.attr);
    switch (a.group) {
      case U.KVM_DEV_RISCV_AIA_GRP_CONFIG:
        if (attr < U.KVM_DEV_RISCV_AIA_CONFIG_MODE || attr > U.KVM_DEV_RISCV_AIA_CONFIG_GUEST_BITS || !Number.isInteger(attr)) this.#fail("ENXIO", io, `unknown CONFIG attribute ${attr}`);
        return;
      case U.KVM_DEV_RISCV_AIA_GRP_ADDR:
        if (!(attr === U.KVM_DEV_RISCV_AIA_ADDR_APLIC || (attr >= 1 && attr < 1 + this.vm.vcpus.length))) this.#fail("ENXIO", io, `unknown ADDR attribute ${attr}`);
        return;
      case U.KVM_DEV_RISCV_AIA_GRP_CTRL:
        if (attr !== U.KVM_DEV_RISCV_AIA_CTRL_INIT) this.#fail("ENXIO", io, `unknown CTRL attribute ${attr}`);
        return;
      case U.KVM_DEV_RISCV_AIA_GRP_APLIC:
        this.#aplicReg(io, attr);
        return;
      case U.KVM_DEV_RISCV_AIA_GRP_IMSIC:
        this.#imsic(io, a.attr, undefined, false);
        return;
      default:
        this.#fail("ENXIO", io, `unknown attribute group ${a.group}`);
    }
  }

  // ---- groups -------------------------------------------------------------

  /** aia_config(). */
  #config(io: string, attr: number, value: unknown, write: boolean): number {
    if (write && this.#initialized) this.#fail("EBUSY", io, "CONFIG cannot change after KVM_DEV_RISCV_AIA_CTRL_INIT");
    const v = write ? u32(value, io, this) : 0;
    const bad = (why: string): never => this.#fail("EINVAL", io, why);
    switch (attr) {
      case U.KVM_DEV_RISCV_AIA_CONFIG_MODE:
        if (write) {
          if (v !== U.KVM_DEV_RISCV_AIA_MODE_EMUL && v !== U.KVM_DEV_RISCV_AIA_MODE_HWACCEL && v !== U.KVM_DEV_RISCV_AIA_MODE_AUTO) bad(`MODE ${v}`);
          if (v !== U.KVM_DEV_RISCV_AIA_MODE_EMUL && this.host.nrHgei === 0) bad(`MODE ${U.AIA_MODE_NAMES[v]} needs guest interrupt files (host nr_hgei is 0)`);
          this.mode = v;
        }
        return this.mode;
      case U.KVM_DEV_RISCV_AIA_CONFIG_IDS:
        if (write) {
          if (v < U.KVM_DEV_RISCV_AIA_IDS_MIN || (v & U.KVM_DEV_RISCV_AIA_IDS_MIN) !== U.KVM_DEV_RISCV_AIA_IDS_MIN || v >= U.KVM_DEV_RISCV_AIA_IDS_MAX || v >= this.host.maxIds) {
            bad(`IDS ${v} (must be 64k-1 in 63..${Math.min(U.KVM_DEV_RISCV_AIA_IDS_MAX, this.host.maxIds) - 1})`);
          }
          this.nrIds = v;
        }
        return this.nrIds;
      case U.KVM_DEV_RISCV_AIA_CONFIG_SRCS:
        if (write) {
          if (v >= U.KVM_DEV_RISCV_AIA_SRCS_MAX || v >= this.host.maxIds) bad(`SRCS ${v}`);
          this.nrSources = v;
        }
        return this.nrSources;
      case U.KVM_DEV_RISCV_AIA_CONFIG_GROUP_BITS:
        if (write) this.nrGroupBits = v < U.KVM_DEV_RISCV_AIA_GROUP_BITS_MAX ? v : bad(`GROUP_BITS ${v}`);
        return this.nrGroupBits;
      case U.KVM_DEV_RISCV_AIA_CONFIG_GROUP_SHIFT:
        if (write) this.nrGroupShift = v >= U.KVM_DEV_RISCV_AIA_GROUP_SHIFT_MIN && v < U.KVM_DEV_RISCV_AIA_GROUP_SHIFT_MAX ? v : bad(`GROUP_SHIFT ${v}`);
        return this.nrGroupShift;
      case U.KVM_DEV_RISCV_AIA_CONFIG_HART_BITS:
        if (write) this.nrHartBits = v < U.KVM_DEV_RISCV_AIA_HART_BITS_MAX ? v : bad(`HART_BITS ${v}`);
        return this.nrHartBits;
      case U.KVM_DEV_RISCV_AIA_CONFIG_GUEST_BITS:
        if (write) this.nrGuestBits = v < U.KVM_DEV_RISCV_AIA_GUEST_BITS_MAX ? v : bad(`GUEST_BITS ${v}`);
        return this.nrGuestBits;
      default:
        return this.#fail("ENXIO", io, `unknown CONFIG attribute ${attr}`);
    }
  }

  /** aia_aplic_addr() / aia_imsic_addr(). Values are u64 (bigint on read). */
  #addr(io: string, attr: number, value: unknown, write: boolean): bigint {
    let chip: AiaVcpuChip | undefined;
    if (attr !== U.KVM_DEV_RISCV_AIA_ADDR_APLIC) {
      if (!Number.isInteger(attr) || attr < 1 || attr >= 1 + this.vm.vcpus.length) this.#fail("ENXIO", io, `ADDR attribute ${attr} (KVM_DEV_RISCV_AIA_ADDR_IMSIC of a vCPU index ≥ ${this.vm.vcpus.length})`);
      const vcpu = this.vm.vcpus[attr - 1];
      chip = vcpu === undefined ? undefined : this.#chips.get(vcpu.vcpuId);
      if (chip === undefined) this.#fail("EINVAL", io, `no vCPU at index ${attr - 1}`);
    }
    if (write) {
      if (this.#initialized) this.#fail("EBUSY", io, "addresses cannot change after KVM_DEV_RISCV_AIA_CTRL_INIT");
      const v = u64(value, io, this);
      if ((v & BigInt(U.KVM_DEV_RISCV_APLIC_ALIGN - 1)) !== 0n) this.#fail("EINVAL", io, `address 0x${v.toString(16)} is not 4 KiB aligned`);
      if (chip === undefined) this.aplicAddr = v;
      else chip.imsicAddr = v;
    }
    return chip === undefined ? this.aplicAddr : chip.imsicAddr;
  }

  #aplicReg(io: string, off: number): KvmAplic["domain"] {
    const a = this.#aplic;
    if (a === undefined) return this.#fail("ENODEV", io, "no in-kernel APLIC (not initialised, or SRCS is 0)");
    if (!Number.isInteger(off) || off < 0) this.#fail("ENODEV", io, `APLIC offset ${off}`);
    if ((off & 3) !== 0) this.#fail("EOPNOTSUPP", io, `APLIC offset 0x${off.toString(16)} is not 4-byte aligned`);
    if (!a.knows(off)) this.#fail("ENODEV", io, `APLIC offset 0x${off.toString(16)} is not a register`);
    return a.domain;
  }

  /** kvm_riscv_aia_imsic_rw_attr / _has_attr: attr = vcpu_id << 12 | isel; unsigned long values (bigint on read). */
  #imsic(io: string, attrRaw: number | bigint, value: unknown, write: boolean): bigint {
    if (!this.#initialized) this.#fail("ENODEV", io, "the AIA is not initialised");
    const attr = BigInt(attrRaw);
    const vcpuId = Number(attr >> BigInt(U.KVM_DEV_RISCV_AIA_IMSIC_ISEL_BITS));
    const isel = Number(attr & BigInt(U.KVM_DEV_RISCV_AIA_IMSIC_ISEL_MASK));
    const chip = this.vm.vcpuById(vcpuId) === undefined ? undefined : this.#chips.get(vcpuId);
    const file = chip?.currentFile;
    if (file === undefined) return this.#fail("ENODEV", io, `vCPU ${vcpuId} has no IMSIC state`);
    if (isel < 0x70 || isel > 0xff) this.#fail("ENOENT", io, `isel 0x${isel.toString(16)} is not an IMSIC register`);
    const out = this.#out;
    let st: number;
    if (write) {
      const v = u64(value, io, this);
      st = file.rmwIreg(isel, 64, Number(v & 0xffffffffn), Number(v >> 32n), 0xffffffff, 0xffffffff, out);
      if (st === IREG_OK && chip !== undefined && chip.vsFileCpu < 0 && file.deliveryAsserted) this.vm.vcpuById(vcpuId)?.irqPending();
    } else st = file.rmwIreg(isel, 64, 0, 0, 0, 0, out);
    if (st === IREG_EXIT_TO_USER) this.#fail("ENOENT", io, `isel 0x${isel.toString(16)} is reserved`);
    if (st !== IREG_OK) this.#fail("EINVAL", io, `isel 0x${isel.toString(16)} does not exist on RV64 with IDS ${this.nrIds}`);
    return (BigInt(out.hi >>> 0) << 32n) | BigInt(out.lo >>> 0);
  }

  /** aia_init() (KVM_DEV_RISCV_AIA_CTRL_INIT). */
  #init(): void {
    const io = "KVM_SET_DEVICE_ATTR";
    if (this.#initialized) this.#fail("EBUSY", io, "the AIA is already initialised");
    if (this.nrIds < this.nrSources) this.#fail("EINVAL", io, `IDS ${this.nrIds} < SRCS ${this.nrSources}`);
    if (this.nrSources > 0 && this.aplicAddr === U.KVM_RISCV_AIA_UNDEF_ADDR) this.#fail("EINVAL", io, "SRCS > 0 but the APLIC address is not set");
    const tooHigh = (a: bigint): boolean => a >= 1n << 53n;
    if (this.nrSources > 0 && tooHigh(this.aplicAddr)) throw new ConfigError(`${this.vm.name}: APLIC address 0x${this.aplicAddr.toString(16)} is above the model's 2^53 limit`);
    let base: bigint | undefined;
    const chips: AiaVcpuChip[] = [];
    for (const v of this.vm.vcpus) {
      const c = this.#chips.get(v.vcpuId)!;
      if (c.imsicAddr === U.KVM_RISCV_AIA_UNDEF_ADDR) this.#fail("EINVAL", io, `vCPU ${v.vcpuId}: IMSIC address not set`);
      if (tooHigh(c.imsicAddr)) throw new ConfigError(`${this.vm.name}: vCPU ${v.vcpuId} IMSIC address 0x${c.imsicAddr.toString(16)} is above the model's 2^53 limit`);
      const ppn = this.#imsicPpn(c.imsicAddr);
      base ??= ppn;
      if (ppn !== base) this.#fail("EINVAL", io, `vCPU ${v.vcpuId}: IMSIC base PPN 0x${ppn.toString(16)} differs from 0x${base.toString(16)}`);
      chips.push(c);
    }
    const tracer = this.vm.tracer;
    if (this.nrSources > 0) {
      const a = new KvmAplic(
        this.nrSources,
        { basePpn: Number(base ?? 0n), groupBits: this.nrGroupBits, groupShift: this.nrGroupShift, hartBits: this.nrHartBits, guestBits: this.nrGuestBits },
        tracer,
      );
      a.aplic.mapDomain(this.vm.kernelBus, "kvm", Number(this.aplicAddr));
      this.#aplic = a;
    }
    // Of two vCPUs on one page the first created answers, as the scan over the vCPUs does.
    this.#chipByPpn = new PageIndex(chips.map((c) => [Number(c.imsicAddr) / 4096, c] as const));
    for (const c of chips) {
      c.hartIndex = this.#hartIndex(c.imsicAddr);
      c.initImsic(this.nrIds);
      const addr = Number(c.imsicAddr);
      // The guest's IMSIC page: trapped to imsic_mmio_write in SW-file mode; the VS-file itself (G-stage mapped) otherwise.
      this.vm.kernelBus.map(addr, U.KVM_DEV_RISCV_IMSIC_SIZE, new ImsicPage(this, addr), `${this.vm.name}/imsic${c.vcpuId}`);
      this.#aplic?.mapTarget(addr, (off, data) => {
        this.#aplicMsi(c, off, data);
      }, `msi${c.vcpuId}`);
    }
    this.#initialized = true;
  }

  /** An APLIC MSI for vCPU `c` (kvm_riscv_aia_inject_msi_by_id): errors drop it, as in Linux. */
  #aplicMsi(c: AiaVcpuChip, off: number, data: number): void {
    if (c.injectMsi(0, off, data) !== 0) this.vm.tracer.guestError(this.vm.tracer.track(this.vm.name, "aplic", "device"), "aplic-msi-dropped", `EIID ${data}`);
  }

  /** A guest store to an IMSIC page (imsic_mmio_write → kvm_riscv_aia_inject_msi). */
  guestImsicWrite(pageAddr: number, offset: number, size: number, value: number): void {
    if (size !== 4 || (offset & 3) !== 0) {
      this.vm.tracer.guestError(this.vm.tracer.track(this.vm.name, "imsic", "device"), "imsic-mmio-access", `${size}-byte write at +0x${offset.toString(16)}`);
      return;
    }
    try {
      this.injectMsi({ addressLo: (pageAddr + offset) % 2 ** 32, addressHi: Math.floor((pageAddr + offset) / 2 ** 32), data: value >>> 0, flags: 0, devid: 0 });
    } catch {
      // -ENODEV / -EINVAL: the write is dropped.
    }
  }

  #imsicPpn(addr: bigint): bigint {
    let mask = (1n << BigInt(this.nrHartBits + this.nrGuestBits + 12)) - 1n;
    if (this.nrGroupBits > 0) mask |= ((1n << BigInt(this.nrGroupBits)) - 1n) << BigInt(this.nrGroupShift);
    return (addr & ~mask) >> PAGE;
  }

  #hartIndex(addr: bigint): number {
    let hart = 0n;
    let group = 0n;
    if (this.nrHartBits > 0) hart = (addr >> BigInt(this.nrGuestBits + 12)) & ((1n << BigInt(this.nrHartBits)) - 1n);
    if (this.nrGroupBits > 0) group = (addr >> BigInt(this.nrGroupShift)) & ((1n << BigInt(this.nrGroupBits)) - 1n);
    return Number((group << BigInt(this.nrHartBits)) | hart);
  }

  #wire(io: string, source: number, level: boolean): void {
    if (!this.#initialized) this.#fail("EBUSY", io, "the AIA is not initialised");
    const a = this.#aplic;
    if (a === undefined || source === 0 || source >= a.nrIrqs) this.#fail("ENODEV", io, `APLIC source ${source} (SRCS ${this.nrSources})`);
    a.aplic.setWire(source, level);
  }

  #fail(code: Parameters<typeof fail>[0], io: string, detail: string): never {
    return fail(code, io, `${this.vm.name}: riscv-aia: ${detail}`);
  }
}

/**
 * A vCPU's IMSIC page on the VM's kernel bus: loads read 0, stores inject the
 * MSI they write. An object with methods rather than closures over the
 * device and address: one per vCPU, it is the smaller.
 */
class ImsicPage implements MmioDevice {
  constructor(
    private readonly dev: RiscvAiaDevice,
    private readonly addr: number,
  ) {}

  read(_offset: number, _size: AccessSize, wide: WideValue): number {
    wide.hi = 0;
    return 0;
  }

  write(offset: number, size: AccessSize, value: number): void {
    this.dev.guestImsicWrite(this.addr, offset, size, value);
  }
}

function u32(value: unknown, io: string, dev: RiscvAiaDevice): number {
  const v = typeof value === "bigint" ? Number(value) : value;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) return fail("EFAULT", io, `${dev.vm.name}: value ${String(value)} is not a u32`);
  return v;
}

function u64(value: unknown, io: string, dev: RiscvAiaDevice): bigint {
  if (typeof value === "bigint") return BigInt.asUintN(64, value);
  if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt.asUintN(64, BigInt(value));
  return fail("EFAULT", io, `${dev.vm.name}: value ${String(value)} is not a u64`);
}
