/**
 * What the vITS devices of one VM share (Linux keeps it in struct vgic_dist:
 * `has_its`, `msis_require_devid`, the LPI list with each vgic_irq's `hw` /
 * `host_irq`): the VM's Gicv3 (given by the vgic-v3 device), the list of ITS
 * devices for doorbell lookups (vgic_msi_to_its), and the GICv4 forwarding
 * hooks, reached by every vITS through {@link VitsLpiTarget}.
 *
 * The contract with the vgic-v3 device: once its Gicv3
 * exists it calls {@link attachVgicV3ForIts}(vm, gic). ITS devices created
 * before that have nowhere to deliver LPIs (setLpiPending is dropped, as an
 * LPI to a redistributor with EnableLPIs = 0 is) and see `vm.vcpus.length`
 * redistributors. Cross-check: Linux arch/arm64/kvm/vgic/vgic-its.c
 * (vgic_its_create sets has_its and msis_require_devid), vgic-mmio-v3.c
 * (vgic_flush_pending_lpis / vgic_its_invalidate_all_caches on EnableLPIs 1 → 0).
 */

import type { Gicv3, LpiTarget } from "@irqlab/gic";
import type { Vm } from "../../vm.js";

/** GICR_CTLR offset and its EnableLPIs bit (IHI 0069H §12.11.2). */
const GICR_CTLR = 0x0000;
const GICR_CTLR_ENABLE_LPIS = 1;
/** GICR_PROPBASER offset (IHI 0069H §12.11.19). */
const GICR_PROPBASER = 0x0070;
const LPI_BASE = 8192;

/**
 * What a forwarding model (vgic-v4) wants to hear from the vITS: the guest
 * made a hardware-backed LPI pending (INT, a translated MSI), cleared it
 * (CLEAR), changed its configuration (INV/INVALL), or reprogrammed its tables
 * (after which ITEs may be gone or retargeted). Returns true from the first
 * three when it handled the LPI itself.
 */
export interface VitsForwardingHooks {
  /** The LPI `intid` is forwarded (irq->hw): pend it through the host ITS instead. */
  pendHw(rd: number, intid: number): boolean;
  /** CLEAR of a forwarded LPI: clear it on the host. */
  clearHw(rd: number, intid: number): boolean;
  /** INV / INVALL reached `intid` on `rd` (its_prop_update_vlpi for a forwarded one). */
  configChanged(rd: number, intid: number): void;
  /** The guest's ITS tables changed (commands ran, reset, restore): re-check every forwarded vLPI. */
  tablesChanged(): void;
}

/**
 * The vITS of which kernel, per VM (fixed by the first vITS device):
 * - `linux-6.16` (default, mainline): a collection's RDbase is a vcpu_id,
 *   resolved with kvm_get_vcpu_by_id() (d455d366c451, 6.7); MAPD V=0 and
 *   DISCARD zero the guest's DTE / ITE (e9649129d33d, 7602ffd1d5e8, 6.13).
 * - `linux-6.6`: Linux v6.6 as released: RDbase is the vCPU's creation index
 *   (kvm_get_vcpu, `target_addr >= online_vcpus`) while GICR_TYPER.Processor_Number
 *   shows the vcpu_id, and unmapping leaves the guest's tables alone.
 */
export type VitsBehaviour = "linux-6.16" | "linux-6.6";
/** Every vITS behaviour, for option validation. */
export const VITS_BEHAVIOURS: readonly VitsBehaviour[] = ["linux-6.16", "linux-6.6"];

/** Per-VM state shared by the vITS devices. */
export class VitsVmContext {
  #gic: Gicv3 | undefined;
  /** The kernel whose vITS this VM has (set by the first vITS device). */
  behaviour: VitsBehaviour = "linux-6.16";
  /** vcpu_id → creation index (−1: none), extended when a vCPU was added since (vCPUs are never removed). */
  readonly #indexOfId: number[] = [];
  #indexedVcpus = 0;
  /** The ITS devices of the VM, by creation order (an element is a VgicItsDevice). */
  readonly devices: VitsDeviceLike[] = [];
  /** The devices whose base is set, in kvm_io_bus_register_dev order (see {@link deviceAt}). */
  readonly #busOrder: VitsDeviceLike[] = [];
  /** The GICv4 forwarding of this VM, when one is enabled. */
  hooks: VitsForwardingHooks | undefined;
  /** One target per VM: every vITS delivers through it. */
  readonly target: VitsLpiTarget;

  constructor(readonly vm: Vm) {
    this.target = new VitsLpiTarget(this);
  }

  /** The VM's Gicv3, once the vgic-v3 device attached it. */
  get gic(): Gicv3 | undefined {
    return this.#gic;
  }

  /** @internal See {@link attachVgicV3ForIts}. */
  attach(gic: Gicv3): void {
    this.#gic = gic;
    const previous = gic.redistributors.onLpisDisabled;
    // vgic-mmio-v3.c: clearing EnableLPIs invalidates the translation caches of every ITS.
    gic.redistributors.onLpisDisabled = (pe) => {
      previous?.(pe);
      const rd = this.rdbaseOfPe(pe);
      for (const d of this.devices) d.its.invalidateRedistributor(rd);
    };
  }

  /**
   * The redistributor (vCPU creation index, the Gicv3 PE) a collection's RDbase
   * names, or −1 when no vCPU answers to it. With GITS_TYPER.PTA = 0 the RDbase
   * is a processor number: mainline resolves it with kvm_get_vcpu_by_id()
   * (vgic-its.c collection_to_vcpu, vgic_its_cmd_handle_mapc), Linux 6.6 with
   * kvm_get_vcpu() after `target_addr >= online_vcpus`.
   */
  peOfRdbase(rd: number): number {
    const vcpus = this.vm.vcpus;
    if (this.behaviour === "linux-6.6") return rd >= 0 && rd < vcpus.length ? rd : -1;
    if (this.#indexedVcpus !== vcpus.length) this.#indexVcpus(vcpus);
    // An array, not a Map: this runs for every LPI the vITS delivers (hot path).
    const pe = rd >= 0 && rd < this.#indexOfId.length ? this.#indexOfId[rd]! : -1;
    return pe;
  }

  #indexVcpus(vcpus: Vm["vcpus"]): void {
    for (let i = this.#indexedVcpus; i < vcpus.length; i++) {
      const id = vcpus[i]!.vcpuId;
      while (this.#indexOfId.length <= id) this.#indexOfId.push(-1);
      this.#indexOfId[id] = i;
    }
    this.#indexedVcpus = vcpus.length;
  }

  /** The RDbase that names PE `pe` (its vcpu_id; its index under linux-6.6). */
  rdbaseOfPe(pe: number): number {
    return this.behaviour === "linux-6.6" ? pe : (this.vm.vcpus[pe]?.vcpuId ?? -1);
  }

  /** Whether redistributor `rd` has GICR_CTLR.EnableLPIs set (vgic_lpis_enabled). */
  lpisEnabled(rd: number): boolean {
    const gic = this.#gic;
    if (gic === undefined || rd < 0 || rd >= gic.redistributorCount) return false;
    return (gic.redistributors.readRd(rd, GICR_CTLR, 4, { hi: 0 }) & GICR_CTLR_ENABLE_LPIS) !== 0;
  }

  /**
   * The guest's configuration byte of LPI `intid` (priority [7:2], enable [0]) from the LPI
   * configuration table that GICR_PROPBASER of `rd` points to (update_lpi_config); 0 when unreadable.
   */
  lpiConfig(rd: number, intid: number): number {
    const gic = this.#gic;
    if (gic === undefined || rd < 0 || rd >= gic.redistributorCount) return 0;
    const w = { hi: 0 };
    const lo = gic.redistributors.readRd(rd, GICR_PROPBASER, 8, w);
    const addr = ((lo & 0xffff_f000) >>> 0) + (w.hi & 0xfffff) * 2 ** 32 + intid - LPI_BASE;
    return this.vm.memory.isRam(addr) ? this.vm.memory.readU8(addr) : 0;
  }

  /** @internal `dev`'s frame was registered on the kernel bus (vgic_register_its_iodev). */
  registered(dev: VitsDeviceLike): void {
    if (!this.#busOrder.includes(dev)) this.#busOrder.push(dev);
  }

  /**
   * The ITS device whose 128 KiB frame contains guest-physical `addr`, if any:
   * kvm_io_bus_get_dev → kvm_io_bus_get_first_dev, i.e. of several ITSes at one
   * base the one registered first (kvm_io_bus_register_dev inserts a range
   * after the equal ones already there). __vgic_doorbell_to_its resolves MSI
   * doorbells this way too (virt/kvm/kvm_main.c, arch/arm64/kvm/vgic/vgic-its.c).
   */
  deviceAt(addr: number): VitsDeviceLike | undefined {
    // Every MSI comes through here: two plain loops, nothing allocated.
    for (const d of this.#busOrder) if (frameContains(d, addr)) return d;
    for (const d of this.devices) if (frameContains(d, addr)) return d;
    return undefined;
  }
}

/** KVM_VGIC_V3_ITS_SIZE: 128 KiB. */
export const VITS_FRAME_SIZE = 0x20000;

function frameContains(d: VitsDeviceLike, addr: number): boolean {
  const base = d.baseAddress;
  return base >= 0 && addr >= base && addr < base + VITS_FRAME_SIZE;
}

/** The parts of a vITS device the VM context and MSI injection use. */
export interface VitsDeviceLike {
  /** The wrapped ITS. */
  readonly its: import("@irqlab/gic").Its;
  /** The ITS base address, or −1 before KVM_VGIC_ITS_ADDR_TYPE was set. */
  readonly baseAddress: number;
  /** Runs the guest-table reconciliation (its_free_ite for forwarded vLPIs). */
  notifyTablesChanged(): void;
}

/**
 * The LpiTarget every vITS of a VM delivers to: the VM's Gicv3, except for
 * LPIs the GICv4 forwarding owns (irq->hw), which go to the host ITS
 * (vgic_its_trigger_msi → irq_set_irqchip_state(host_irq, PENDING)).
 */
export class VitsLpiTarget implements LpiTarget {
  constructor(readonly ctx: VitsVmContext) {}

  get redistributorCount(): number {
    return this.ctx.gic?.redistributorCount ?? Math.max(1, this.ctx.vm.vcpus.length);
  }

  /** The ITS's RDbase values are resolved to vCPUs ({@link VitsVmContext.peOfRdbase}). */
  hasRedistributor(rd: number): boolean {
    return this.ctx.peOfRdbase(rd) >= 0;
  }

  // Every method below gets an RDbase from the ITS and hands the Gicv3 and the forwarding its PE.

  setLpiPending(rd: number, intid: number): void {
    const pe = this.ctx.peOfRdbase(rd);
    if (pe < 0 || this.ctx.hooks?.pendHw(pe, intid) === true) return;
    this.ctx.gic?.setLpiPending(pe, intid);
  }

  clearLpiPending(rd: number, intid: number): void {
    const pe = this.ctx.peOfRdbase(rd);
    if (pe < 0 || this.ctx.hooks?.clearHw(pe, intid) === true) return;
    this.ctx.gic?.clearLpiPending(pe, intid);
  }

  isLpiPending(rd: number, intid: number): boolean {
    const pe = this.ctx.peOfRdbase(rd);
    return pe >= 0 && (this.ctx.gic?.isLpiPending(pe, intid) ?? false);
  }

  invalidateLpi(rd: number, intid: number): void {
    const pe = this.ctx.peOfRdbase(rd);
    if (pe < 0) return;
    this.ctx.gic?.invalidateLpi(pe, intid);
    this.ctx.hooks?.configChanged(pe, intid);
  }

  invalidateAllLpis(rd: number): void {
    const pe = this.ctx.peOfRdbase(rd);
    if (pe < 0) return;
    this.ctx.gic?.invalidateAllLpis(pe);
    this.ctx.hooks?.configChanged(pe, -1);
  }
}

const contexts = new WeakMap<Vm, VitsVmContext>();

/** The vITS context of `vm` (created on first use). */
export function vitsContext(vm: Vm): VitsVmContext {
  let c = contexts.get(vm);
  if (c === undefined) {
    c = new VitsVmContext(vm);
    contexts.set(vm, c);
  }
  return c;
}

/** Whether any vITS device was created on `vm` (vgic_has_its). */
export function vmHasIts(vm: Vm): boolean {
  return (contexts.get(vm)?.devices.length ?? 0) > 0;
}

/**
 * Called by the vgic-v3 device once the VM's Gicv3 exists: the vITS devices
 * deliver LPIs to it, and clearing GICR_CTLR.EnableLPIs invalidates their
 * translation caches (the previous `onLpisDisabled` callback is kept and called first).
 */
export function attachVgicV3ForIts(vm: Vm, gic: Gicv3): void {
  vitsContext(vm).attach(gic);
}
