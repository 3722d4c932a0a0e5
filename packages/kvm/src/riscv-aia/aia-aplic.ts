/**
 * KVM's in-kernel APLIC: one MSI-mode interrupt domain on the kernel MMIO bus
 * (guest accesses are emulated in the kernel), wired sources driven by
 * KVM_IRQ_LINE / irqchip routes, MSIs routed by hart index to the vCPU whose
 * IMSIC page sits at that index. Linux arch/riscv/kvm/aia_aplic.c
 * (aplic_mmio_read_offset, aplic_mmio_write_offset, kvm_riscv_aia_aplic_inject,
 * aplic_update_irq_range → kvm_riscv_aia_inject_msi_by_id);
 * aia_device.c (KVM_DEV_RISCV_AIA_GRP_APLIC: kvm_riscv_aia_aplic_get_attr /
 * set_attr); the AIA specification, riscv/riscv-aia src/AdvPLIC.adoc.
 *
 * Built from @irqlab/aia's Aplic with the linux-kvm profile: DM reads 1, no
 * msiaddrcfg registers, no IDCs. The MSI address configuration given at
 * construction reproduces the IMSIC arrangement of the device's CONFIG
 * (base PPN, guest/hart/group bits), so an MSI for hart index i lands on the
 * page of the vCPU whose IMSIC address decodes to i — the same vCPU KVM's
 * lookup by hart_index picks.
 */

import { Aplic, LINUX_KVM_PROFILE, type MsiAddrCfg } from "@irqlab/aia";
import { MmioBus, type AccessSize, type MmioDevice, type Tracer, type WideValue } from "@irqlab/sim";
import { KVM_DEV_RISCV_APLIC_MAX_HARTS } from "./aia-uapi.js";

/** APLIC register offsets used by KVM's attribute check (AdvPLIC.adoc §4.5). */
const DOMAINCFG = 0x0000;
const SOURCECFG_BASE = 0x0004;
const SETIP_BASE = 0x1c00;
const SETIPNUM = 0x1cdc;
const CLRIP_BASE = 0x1d00;
const CLRIPNUM = 0x1ddc;
const SETIE_BASE = 0x1e00;
const SETIENUM = 0x1edc;
const CLRIE_BASE = 0x1f00;
const CLRIENUM = 0x1fdc;
const SETIPNUM_LE = 0x2000;
const SETIPNUM_BE = 0x2004;
const GENMSI = 0x3000;
const TARGET_BASE = 0x3004;

/** The IMSIC arrangement the MSIs follow (the device's CONFIG). */
export interface KvmAplicLayout {
  /** Base PPN of the IMSIC pages (the address bits outside group/hart/guest fields, >> 12). */
  readonly basePpn: number;
  readonly groupBits: number;
  readonly groupShift: number;
  readonly hartBits: number;
  readonly guestBits: number;
}

/** The in-kernel APLIC of one VM. */
export class KvmAplic {
  /** The APLIC model (one MSI-mode domain named "kvm"). */
  readonly aplic: Aplic;
  /** The bus its MSIs are written to: each vCPU's MSI target is mapped at its IMSIC address. */
  readonly msiBus = new MmioBus();
  /** nr_irqs = sources + 1. */
  readonly nrIrqs: number;

  constructor(nrSources: number, layout: KvmAplicLayout, tracer: Tracer) {
    this.nrIrqs = nrSources + 1;
    this.aplic = new Aplic({
      nrSources,
      domains: [{ name: "kvm", level: "m", harts: KVM_DEV_RISCV_APLIC_MAX_HARTS, deliveryModes: "msi" }],
      msi: { bus: this.msiBus, addrCfg: msiAddrCfg(layout) },
      profile: LINUX_KVM_PROFILE,
      tracer,
    });
  }

  /** The domain as an MMIO device (for the kernel bus and GRP_APLIC). */
  get domain(): MmioDevice & { readonly regionSize: number } {
    return this.aplic.root;
  }

  /** Maps a vCPU's MSI target at its IMSIC address; a duplicate address keeps the first (KVM's first match). */
  mapTarget(address: number, target: (offset: number, data: number) => void, name: string): void {
    const dev: MmioDevice = {
      read: (_o: number, _s: AccessSize, wide: WideValue) => {
        wide.hi = 0;
        return 0;
      },
      write: (o: number, _s: AccessSize, v: number) => {
        target(o, v);
      },
    };
    try {
      this.msiBus.map(address, 0x1000, dev, name);
    } catch {
      // Two vCPUs with one IMSIC address: MSIs go to the first, as kvm_riscv_aia_inject_msi's loop does.
    }
  }

  /** Whether `off` is a register aplic_mmio_read_offset()/write_offset() knows. */
  knows(off: number): boolean {
    const words = Math.ceil(this.nrIrqs / 32) * 4;
    const srcs = (this.nrIrqs - 1) * 4;
    return (
      off === DOMAINCFG ||
      (off >= SOURCECFG_BASE && off < SOURCECFG_BASE + srcs) ||
      (off >= SETIP_BASE && off < SETIP_BASE + words) ||
      off === SETIPNUM ||
      (off >= CLRIP_BASE && off < CLRIP_BASE + words) ||
      off === CLRIPNUM ||
      (off >= SETIE_BASE && off < SETIE_BASE + words) ||
      off === SETIENUM ||
      (off >= CLRIE_BASE && off < CLRIE_BASE + words) ||
      off === CLRIENUM ||
      off === SETIPNUM_LE ||
      off === SETIPNUM_BE ||
      off === GENMSI ||
      (off >= TARGET_BASE && off < TARGET_BASE + srcs)
    );
  }
}

/** The root-domain MSI address registers that put hart index i at the IMSIC page of hart i. */
export function msiAddrCfg(l: KvmAplicLayout): MsiAddrCfg {
  const lo = l.basePpn % 2 ** 32 >>> 0;
  const hiPpn = Math.floor(l.basePpn / 2 ** 32) & 0xfff;
  const h = (((l.groupShift - 24) << 24) | (l.guestBits << 20) | (l.groupBits << 16) | (l.hartBits << 12) | hiPpn) >>> 0;
  return { mmsiaddrcfg: lo, mmsiaddrcfgh: h, smsiaddrcfg: lo, smsiaddrcfgh: ((l.guestBits << 20) | hiPpn) >>> 0 };
}
