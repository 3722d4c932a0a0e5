/**
 * The in-kernel vgic-v3 of one VM (KVM_DEV_TYPE_ARM_VGIC_V3), the
 * {@link VmIrqChip} KVM's core calls: lifecycle and ordering rules
 * (arch/arm64/kvm/vgic/vgic-init.c kvm_vgic_create, vgic_init,
 * kvm_vgic_map_resources; arm.c kvm_arch_vcpu_precreate), KVM_IRQ_LINE for
 * SPIs and PPIs (arm.c kvm_vm_ioctl_irq_line, vgic.c kvm_vgic_inject_irq),
 * irqfd injection on irqchip routes (vgic-irqfd.c vgic_irqfd_set_irq), the
 * ack notifier that resamplefd follows, and the hand-off of MSIs and
 * forwarding to a vITS (vgic-its.c vgic_its_inject_msi, vgic-v4.c).
 *
 * The distributor/redistributor/CPU-interface state is a `Gicv3` from
 * @irqlab/gic, created at vgic init with one PE per vCPU (creation order,
 * affinities from the vCPUs' MPIDRs) and the VM's memory for the LPI tables;
 * its frames go on the VM's kernel MMIO bus at the first KVM_RUN.
 *
 * Initialisation behaviours ({@link VgicInitMode}):
 * - `"explicit"` (Linux's GICv3): KVM_DEV_ARM_VGIC_CTRL_INIT initialises;
 *   before it KVM_IRQ_LINE and KVM_RUN fail with EBUSY and KVM_IRQFD with
 *   EAGAIN (kvm_arch_intc_initialized); after it KVM_CREATE_VCPU fails EBUSY.
 * - `"lazy-init"` (the GICv2-era behaviour of seed 003, Eric Auger's "KVM:
 *   arm: add irqfd support" v4, Nov 2014): the vgic initialises itself at the
 *   first KVM_RUN (or KVM_IRQ_LINE: vgic_lazy_init); KVM_IRQFD is accepted
 *   before that, with the identity routing GSI n → SPI n + 32 from creation;
 *   an irqfd injection arriving earlier is dropped — the eventfd count was
 *   consumed by the wake-up — and, for a level injection with a resampler,
 *   acknowledged at once as if the guest had completed it
 *   (kvm_notify_acked_irq in that patch's kvm_set_irq).
 * - `"lazy-init-irqfd-eagain"`: lazy init as above, with the guard
 *   Christoffer Dall asked for in that thread and v5 of the series added
 *   (kvm_arch_intc_initialized() in kvm_irqfd_assign): KVM_IRQFD fails with
 *   EAGAIN until the first KVM_RUN has initialised the vgic, so a VMM must
 *   retry it later ("I need to use some timer", Eric Auger).
 */

import { Gicv3, GIC_FIRST_PPI, GIC_FIRST_SPI, type Gicv3Snapshot } from "@irqlab/gic";
import { ConfigError, type TrackId } from "@irqlab/sim";
import { fail } from "../errno.js";
import type { KvmMsi, VmIrqChip } from "../irqchip.js";
import { KVM_IRQCHIP_NUM_PINS_ARM64, KVM_IRQ_ROUTING_IRQCHIP, type RoutingEntry } from "../irqfd/gsi-routing.js";
import { KVM_ARM_IRQ_TYPE_PPI, KVM_ARM_IRQ_TYPE_SPI } from "../uapi/device-types.js";
import type { Vm } from "../vm.js";
import { VgicAddresses, type RedistRegion } from "./vgic-addr.js";
import { mapVgicFrames, VgicRedistFrame, type VgicFrameInfo } from "./vgic-frames.js";
import { KVM_VGIC_V3_ADDR_TYPE_DIST, VGIC_NR_IRQS_LEGACY, VGIC_NR_PRIVATE_IRQS, VGIC_V3_MAX_CPUS } from "./vgic-uapi.js";
import { VgicVcpu, type VgicV4Residency } from "./vgic-vcpu.js";

/** How the vgic gets initialised. */
export type VgicInitMode = "explicit" | "lazy-init" | "lazy-init-irqfd-eagain";

/** The GIC's interrupt state: SGIs, PPIs and SPIs by index (Gicv3's, not exported by name). */
type IrqState = Gicv3["irqs"]["core"]["irqs"];

/** The last SPI INTID (1020-1023 are special, LPIs start at 8192). */
const GIC_LAST_SPI = 1019;

/**
 * The owner of a line an in-kernel device drives (kvm_vgic_set_owner's
 * `owner`): arch timer `index`'s, on the vCPU whose PPI it is. 0 is no owner,
 * userspace's KVM_IRQ_LINE and irqfd.
 */
export function timerOwner(index: number): number {
  return 1 + index;
}

/** The owner of the vPMU's line of the vCPU with id `vcpuId` (a PPI of its own, or an SPI). */
export function pmuOwner(vcpuId: number): number {
  return 0x10 + vcpuId;
}

/** The vgic init behaviours. */
export const VGIC_INIT_MODES: readonly VgicInitMode[] = ["explicit", "lazy-init", "lazy-init-irqfd-eagain"];

/** What a vITS offers the vgic (part of KVM_SIGNAL_MSI, MSI routes and GICv4.1 forwarding). */
export interface VgicMsiController {
  /** vgic_its_inject_msi: 1 delivered, 0 blocked by the guest; throws KvmError (EINVAL, EBUSY). */
  injectMsi(msi: KvmMsi): number;
  /** kvm_vgic_v4_set_forwarding. */
  setForwarding?(hostIrq: number, route: KvmMsi): void;
  /** kvm_vgic_v4_unset_forwarding. */
  unsetForwarding?(hostIrq: number): void;
}

/** A plain, versioned copy of a vgic-v3 (see {@link VgicV3.state}). */
export interface VgicV3Snapshot {
  readonly version: 1;
  readonly initMode: VgicInitMode;
  /** GRP_NR_IRQS as set (0 = unset). */
  readonly nrIrqsSet: number;
  readonly distBase: number | null;
  readonly regions: readonly RedistRegion[];
  /** The GIC state, null before vgic init. */
  readonly gic: Gicv3Snapshot | null;
}

/** The vgic-v3 of a VM. */
export class VgicV3 implements VmIrqChip {
  readonly name = "vgic-v3";
  readonly irqchipNumPins = KVM_IRQCHIP_NUM_PINS_ARM64;
  /** GRP_ADDR state. */
  readonly addresses: VgicAddresses;
  /** Trace track of the vgic. */
  readonly track: TrackId;
  readonly #chips = new Map<number, VgicVcpu>();
  #byPe: VgicVcpu[] = [];
  #gic: Gicv3 | undefined;
  #nrIrqsSet = 0;
  #nassgicap = false;
  #implementationRev = 0;
  #frames: VgicRedistFrame[] | undefined;
  // kvm_vgic_set_owner's owners by interrupt index (the GIC's: SPIs, then 32 private ones per PE), made at the first.
  #owners: Int32Array | undefined;
  #ack: ((irqchip: number, pin: number) => void) | undefined;
  #msi: VgicMsiController | undefined;
  #v4: VgicV4Residency | undefined;
  readonly #initListeners: ((gic: Gicv3) => void)[] = [];
  // Trace only: the flow of the raise that asserted an SGI/PPI/SPI, by interrupt index, until a vCPU takes it.
  readonly #pendingFlows = new Map<number, number>();

  constructor(
    /** The VM. */
    readonly vm: Vm,
    /** Initialisation behaviour. */
    readonly initMode: VgicInitMode = "explicit",
  ) {
    if (!VGIC_INIT_MODES.includes(initMode)) throw new ConfigError(`unknown vgic init mode '${initMode}' (${VGIC_INIT_MODES.join(", ")})`);
    this.addresses = new VgicAddresses(vm.ipaBits);
    this.track = vm.tracer.track(vm.name, "vgic-v3", "device");
    if (initMode !== "explicit") vm.setGsiRouting(identityRouting(KVM_IRQCHIP_NUM_PINS_ARM64));
  }

  /** The vgic of `vm`, if its irqchip is one. */
  static of(vm: Vm): VgicV3 | undefined {
    const c = vm.irqchip;
    return c instanceof VgicV3 ? c : undefined;
  }

  /** The GIC state, from vgic init on. */
  get gic(): Gicv3 | undefined {
    return this.#gic;
  }

  /** vgic_initialized(). */
  get initialized(): boolean {
    return this.#gic !== undefined;
  }

  /** vgic_ready(): the frames are mapped (first KVM_RUN done). */
  get ready(): boolean {
    return this.#frames !== undefined;
  }

  /** INTIDs including the 32 private ones: GRP_NR_IRQS's value, or 256 once initialised without it. */
  get nrIrqs(): number {
    return this.#gic?.nrIrqs ?? this.#nrIrqsSet;
  }

  /**
   * kvm_vgic_set_owner: reserves `intid` (a PPI of the vCPU with id `vcpuId`,
   * or an SPI) for the in-kernel device `owner` ({@link timerOwner},
   * {@link pmuOwner}); from then on an injection by anyone else (userspace's
   * KVM_IRQ_LINE and irqfds included) leaves the line alone
   * (vgic_validate_injection). Returns undefined, or the errno Linux returns:
   * EAGAIN before vgic init, EINVAL for an INTID that is neither a PPI nor an
   * SPI below NR_IRQS (vgic_valid_spi), EEXIST for a line another owner holds.
   * Owners are not part of {@link state}: the devices claim them again.
   */
  setOwner(vcpuId: number, intid: number, owner: number): "EAGAIN" | "EINVAL" | "EEXIST" | undefined {
    const gic = this.#gic;
    if (gic === undefined) return "EAGAIN";
    const ppi = intid >= GIC_FIRST_PPI && intid < GIC_FIRST_SPI;
    if (!ppi && !(intid >= GIC_FIRST_SPI && intid < gic.nrIrqs)) return "EINVAL";
    const pe = ppi ? (this.#chips.get(vcpuId)?.pe ?? -1) : 0;
    if (pe < 0) return "EINVAL";
    const owners = (this.#owners ??= new Int32Array(gic.nrIrqs + VGIC_NR_PRIVATE_IRQS * this.#byPe.length));
    const i = gic.irqs.core.irqs.index(pe, intid);
    if (owners[i] !== 0 && owners[i] !== owner) return "EEXIST";
    owners[i] = owner;
    return undefined;
  }

  /** The CPU side of vCPU `vcpuId`. */
  vcpuChip(vcpuId: number): VgicVcpu | undefined {
    return this.#chips.get(vcpuId);
  }

  /**
   * Redistributor `pe` with the GICR_TYPER.Last of the current layout (the
   * mapped frame after the first KVM_RUN). Only after init.
   */
  redistFrame(gic: Gicv3, pe: number): VgicRedistFrame {
    const mapped = this.#frames?.[pe];
    if (mapped) return mapped;
    return new VgicRedistFrame(gic, pe, this.addresses.placement(this.vm.vcpus.length)[pe]?.last ?? false, this.#frameInfo);
  }

  /** What the redistributor frames show of the VM: the vcpu_id of a PE, vgic_has_its(). */
  readonly #frameInfo: VgicFrameInfo = {
    vcpuId: (pe) => this.vm.vcpus[pe]?.vcpuId ?? pe,
    // vgic_its_create sets has_its together with msis_require_devid.
    hasIts: () => this.vm.msisRequireDevid,
  };

  /**
   * GICD_TYPER2.nASSGIcap as userspace configured it (vgic_dist.nassgicap).
   * Its default and only accepted non-zero value follow
   * system_supports_direct_sgis(): GICv4.1 vSGIs, which this vgic does not
   * offer, so it stays clear.
   */
  get nassgicap(): boolean {
    return this.#nassgicap;
  }

  /** @internal Stores GICD_TYPER2.nASSGIcap (the device's uaccess checked it). */
  setNassgicap(v: boolean): void {
    this.#nassgicap = v;
  }

  /** Whether the host offers direct (GICv4.1) SGIs: system_supports_direct_sgis(). */
  readonly supportsDirectSgis: boolean = false;

  /**
   * GICD_IIDR.Revision (vgic_dist.implementation_rev): 0 until userspace sets
   * it or vgic_init picks KVM_VGIC_IMP_REV_LATEST (3); the Gicv3's after init.
   */
  get implementationRev(): number {
    return this.#gic?.distributor.iidrRevision ?? this.#implementationRev;
  }

  /** @internal GICD_IIDR.Revision written by userspace before init (2 or 3, checked by the device). */
  setImplementationRev(rev: number): void {
    if (this.#gic) this.#gic.distributor.iidrRevision = rev;
    else this.#implementationRev = rev;
  }

  /** Runs `cb` with the Gicv3 when the vgic is initialised (at once if it is). The vITS hooks in here. */
  onInit(cb: (gic: Gicv3) => void): void {
    if (this.#gic) cb(this.#gic);
    else this.#initListeners.push(cb);
  }

  /** Plugs in (or removes) the vITS that takes MSIs and forwarding. */
  setMsiController(c: VgicMsiController | undefined): void {
    this.#msi = c;
  }

  /** The GICv4.1 residency the vCPUs' CPU sides drive, when forwarding is enabled (vgic_supports_direct_irqs). */
  get v4(): VgicV4Residency | undefined {
    return this.#v4;
  }

  /** Plugs in (or removes) the VM's GICv4.1 forwarding: vPE residency and direct vLPIs for the vCPUs. */
  setGicv4(r: VgicV4Residency | undefined): void {
    this.#v4 = r;
  }

  /** The CPU side of PE `pe` (vCPU creation index), after vgic init. */
  chipOfPe(pe: number): VgicVcpu | undefined {
    return this.#byPe[pe];
  }

  /** @internal GRP_NR_IRQS set: EINVAL below 64, above 1023 or not a multiple of 32; EBUSY once set or initialised. */
  setNrIrqs(n: number): void {
    const io = "KVM_SET_DEVICE_ATTR";
    if (!Number.isInteger(n) || n < VGIC_NR_PRIVATE_IRQS + 32 || n > 1023 || n % 32 !== 0) fail("EINVAL", io, `NR_IRQS ${n} is not a multiple of 32 in 64..1023`);
    if (this.initialized || this.#nrIrqsSet !== 0) fail("EBUSY", io, "NR_IRQS is already set (or the vgic is initialised)");
    this.#nrIrqsSet = n;
  }

  /**
   * vgic_init (KVM_DEV_ARM_VGIC_CTRL_INIT): idempotent. Builds the GIC for the
   * vCPUs created so far and installs the default routing GSI n → SPI n + 32.
   * @throws KvmError EINVAL when the VM has no vCPU (a model limit: the Gicv3 needs a PE)
   */
  init(): void {
    if (this.#gic) return;
    const vcpus = this.vm.vcpus;
    if (vcpus.length === 0) fail("EINVAL", "KVM_SET_DEVICE_ATTR", "vgic init with no vCPU is not modelled");
    const nrIrqs = this.#nrIrqsSet !== 0 ? this.#nrIrqsSet : VGIC_NR_IRQS_LEGACY;
    const gic = new Gicv3({
      cpus: vcpus.length,
      nrIrqs,
      affinities: vcpus.map((v) => v.mpidr & 0xffffff),
      memory: this.vm.memory,
      tracer: this.vm.tracer,
      name: `${this.vm.name}/gic`,
    });
    // vgic_init: "If userspace didn't set the GIC implementation revision, default to the latest".
    if (this.#implementationRev !== 0) gic.distributor.iidrRevision = this.#implementationRev;
    this.#adopt(gic);
    this.vm.setGsiRouting(identityRouting(nrIrqs - VGIC_NR_PRIVATE_IRQS));
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.track, "vgic", "vgic-init", { nrIrqs, vcpus: vcpus.length, mode: this.initMode });
    for (const cb of this.#initListeners.splice(0)) cb(gic);
  }

  /** A plain, versioned copy: configuration, addresses and the GIC state. */
  state(): VgicV3Snapshot {
    return {
      version: 1,
      initMode: this.initMode,
      nrIrqsSet: this.#nrIrqsSet,
      distBase: this.addresses.distBase ?? null,
      regions: this.addresses.regions.map((r) => ({ ...r })),
      gic: this.#gic?.state() ?? null,
    };
  }

  /**
   * Restores a snapshot into this vgic, which must be fresh (not initialised,
   * no address set) on a VM with the snapshot's vCPUs; an initialised
   * snapshot initialises it (vgic-init listeners run, the default routing is
   * installed).
   * @throws ConfigError on a version, mode or vCPU-count mismatch, or a used vgic
   */
  loadState(s: VgicV3Snapshot): void {
    if ((s.version as number) !== 1) throw new ConfigError(`vgic-v3 snapshot version ${String(s.version)} is not 1`);
    if (s.initMode !== this.initMode) throw new ConfigError(`snapshot init mode '${s.initMode}' differs from '${this.initMode}'`);
    if (this.#gic || this.addresses.distBase !== undefined || this.addresses.regions.length > 0) throw new ConfigError("loadState needs a fresh vgic");
    const n = this.vm.vcpus.length;
    if (s.distBase !== null) this.addresses.set(KVM_VGIC_V3_ADDR_TYPE_DIST, s.distBase, n);
    for (const r of s.regions) this.addresses.restoreRegion(r, n);
    this.#nrIrqsSet = s.nrIrqsSet;
    if (s.gic === null) return;
    if (s.gic.config.cpus !== n) throw new ConfigError(`snapshot has ${s.gic.config.cpus} PEs, the VM ${n} vCPUs`);
    const gic = Gicv3.fromState(s.gic, { memory: this.vm.memory, tracer: this.vm.tracer, name: `${this.vm.name}/gic` });
    this.#adopt(gic);
    this.vm.setGsiRouting(identityRouting(gic.nrIrqs - VGIC_NR_PRIVATE_IRQS));
    for (const cb of this.#initListeners.splice(0)) cb(gic);
  }

  /** Makes `gic` the VM's GIC: PE numbers in vCPU creation order, IRQ/FIQ outputs kick the vCPUs. */
  #adopt(gic: Gicv3): void {
    this.#byPe = this.vm.vcpus.map((v, pe) => {
      const c = this.#chips.get(v.vcpuId)!;
      c.pe = pe;
      return c;
    });
    const raise = (pe: number, level: boolean): void => {
      if (level) this.#byPe[pe]?.raise();
    };
    gic.onIrq = raise;
    gic.onFiq = raise;
    this.#gic = gic;
  }

  // ---- VmIrqChip ------------------------------------------------------------------

  vcpuIrqChip(vcpuId: number): VgicVcpu {
    let c = this.#chips.get(vcpuId);
    if (!c) {
      c = new VgicVcpu(this, vcpuId);
      this.#chips.set(vcpuId, c);
    }
    return c;
  }

  vcpuPrecreate(vcpuId: number): void {
    const io = "KVM_CREATE_VCPU";
    if (this.initialized) fail("EBUSY", io, `vCPU ${vcpuId}: the vgic is already initialised`);
    if (this.vm.vcpus.length >= VGIC_V3_MAX_CPUS) fail("EINVAL", io, `a vgic-v3 VM has at most ${VGIC_V3_MAX_CPUS} vCPUs`);
    this.addresses.checkNewVcpu(this.vm.vcpus.length);
  }

  irqLine(irqType: number, vcpuIndex: number, irqId: number, level: boolean, owner = 0): void {
    const io = "KVM_IRQ_LINE";
    if (irqType === KVM_ARM_IRQ_TYPE_PPI) {
      const vcpu = this.vm.vcpuById(vcpuIndex);
      if (vcpu === undefined) fail("EINVAL", io, `no vCPU with id ${vcpuIndex}`);
      if (irqId < GIC_FIRST_PPI || irqId >= GIC_FIRST_SPI) fail("EINVAL", io, `PPI ${irqId} is not in 16..31`);
      const gic = this.#lazyInit(io);
      this.#inject(gic, this.#chips.get(vcpu.vcpuId)!.pe, irqId, level, owner);
    } else if (irqType === KVM_ARM_IRQ_TYPE_SPI) {
      if (irqId < GIC_FIRST_SPI) fail("EINVAL", io, `SPI ${irqId} is below 32`);
      const gic = this.#lazyInit(io);
      if (irqId >= gic.nrIrqs || irqId > 1019) fail("EINVAL", io, `SPI ${irqId} is not below NR_IRQS (${gic.nrIrqs})`);
      this.#inject(gic, 0, irqId, level, owner);
    } else {
      fail("EINVAL", io, `unknown irq_type ${irqType}`);
    }
    // trace_vgic_update_irq_pending(vcpu_id, irq, level) as kvm_vgic_inject_irq has it.
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.track, "irq", "vgic_update_irq_pending", { type: irqType, vcpu_id: vcpuIndex, irq: irqId, level: level ? 1 : 0 });
  }

  /**
   * kvm_vgic_map_resources at the first KVM_RUN. vgic_v3_map_resources checks
   * the layout before the initialisation: ENXIO (a vCPU without
   * redistributor, no distributor base), then EINVAL (vgic_v3_check_base),
   * then EBUSY (CTRL_INIT not done). The lazy modes initialise first, as the
   * GICv2-era vgic did. A failure marks the VM dead (kvm_vgic_map_resources:
   * kvm_vm_dead), so every later KVM_RUN fails with EIO.
   */
  firstRun(): void {
    if (this.#frames) return;
    try {
      if (this.initMode !== "explicit") this.init();
      const slots = this.addresses.checkForRun(this.vm.vcpus.length);
      const gic = this.#gic;
      if (gic === undefined) fail("EBUSY", "KVM_RUN", "the vgic is not initialised (KVM_DEV_ARM_VGIC_CTRL_INIT)");
      this.#frames = mapVgicFrames(this.vm.kernelBus, gic, this.addresses.distBase!, slots, this.vm.name, this.#frameInfo);
    } catch (e) {
      this.vm.dead = true;
      throw e;
    }
  }

  intcInitialized(): boolean {
    return this.initMode === "lazy-init" || this.initialized;
  }

  setIrqchipPin(irqchip: number, pin: number, level: boolean): void {
    const gic = this.#gic;
    const spi = pin + VGIC_NR_PRIVATE_IRQS;
    if (gic === undefined) {
      if (this.initMode === "explicit") fail("EBUSY", "KVM_IRQFD", "the vgic is not initialised");
      // Seed 003: dropped before the vgic is ready; a level injection is acknowledged at once.
      if (!level) return;
      if (this.vm.tracer.enabled) this.vm.tracer.instant(this.track, "irq", "irq-dropped-before-init", { intid: spi });
      this.vm.tracer.counters.add("vgic.dropped_before_init");
      this.#ack?.(irqchip, pin);
      return;
    }
    if (spi >= gic.nrIrqs || spi > 1019) fail("EINVAL", "KVM_IRQFD", `pin ${pin} (SPI ${spi}) is not below NR_IRQS (${gic.nrIrqs})`);
    this.#inject(gic, 0, spi, level);
  }

  injectMsi(msi: KvmMsi): number {
    if (this.#msi === undefined) fail("ENODEV", "KVM_SIGNAL_MSI", "no vITS (KVM_DEV_TYPE_ARM_VGIC_ITS) on this VM");
    return this.#msi.injectMsi(msi);
  }

  setAckNotifier(ack: (irqchip: number, pin: number) => void): void {
    this.#ack = ack;
  }

  setForwarding(hostIrq: number, route: KvmMsi): void {
    this.#msi?.setForwarding?.(hostIrq, route);
  }

  unsetForwarding(hostIrq: number): void {
    this.#msi?.unsetForwarding?.(hostIrq);
  }

  /** @internal The guest deactivated level SPI `intid` on PE `pe` (LR EOI maintenance → kvm_notify_acked_irq). */
  levelEoi(pe: number, intid: number): void {
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.track, "irq", "level-eoi", { pe, intid });
    this.#ack?.(0, intid - VGIC_NR_PRIVATE_IRQS);
  }

  /**
   * kvm_vgic_inject_irq for a PPI of PE `pe` or an SPI (`pe` 0) by `owner`
   * (0: userspace): the line's new level, and a kick when an active interrupt
   * is asserted again; nothing unless the line's owner is `owner`.
   */
  #inject(gic: Gicv3, pe: number, intid: number, level: boolean, owner = 0): void {
    const s = gic.irqs.core.irqs;
    const i = s.index(pe, intid);
    // vgic_validate_injection's `irq->owner != owner` first, and kvm_vgic_inject_irq then leaves the line alone:
    // userspace cannot drive a claimed line, nor a device one it has not claimed (no line is claimed before the first).
    const owners = this.#owners;
    if ((owners === undefined ? 0 : owners[i]) !== owner) return;
    const valid = validInjection(s, i, level);
    if (this.vm.tracer.enabled) this.#notePendingFlow(s, i, level);
    if (intid < GIC_FIRST_SPI) gic.setPpiLevel(pe, intid, level);
    else gic.setSpiLevel(intid, level);
    if (valid) this.#kickIfActive(gic, pe, intid);
  }

  /**
   * Trace only: remembers the raise (Tracer.cause) that asserts `intid`, so
   * that a vCPU taking it later — after the guest enabled it, unmasked it or
   * raised its priority — ends that raise's flow. An assertion outside any
   * raise, or the fall of a level interrupt's line, forgets it.
   */
  #notePendingFlow(s: IrqState, i: number, level: boolean): void {
    const cause = this.vm.tracer.cause;
    if (level && cause !== 0) this.#pendingFlows.set(i, cause);
    // An edge interrupt stays pending when its line falls; a level one does not.
    else if (level || ((s.edge[i >>> 5]! >>> (i & 31)) & 1) === 0) this.#pendingFlows.delete(i);
  }

  /** @internal Trace only: the flow recorded for `intid` of PE `pe` (0: none), forgotten. */
  takePendingFlow(pe: number, intid: number): number {
    const flows = this.#pendingFlows;
    if (flows.size === 0 || this.#gic === undefined || intid > GIC_LAST_SPI) return 0;
    const i = this.#gic.irqs.core.irqs.index(pe, intid);
    const f = flows.get(i) ?? 0;
    flows.delete(i);
    return f;
  }

  /**
   * vgic.c vgic_queue_irq_unlock for an interrupt that is active: it is
   * already on a vCPU's ap_list and is not queued again, but vgic_target_oracle
   * names that vCPU (irq->vcpu ?: irq->target_vcpu) and KVM still makes
   * KVM_REQ_IRQ_PENDING and kicks it — an edge interrupt re-asserted while
   * active gets no EOI maintenance interrupt, so without the kick the vCPU
   * would not see the new pending state until it exits for another reason.
   * The Gicv3's output does not rise for a pending-and-active interrupt, so
   * `raise()` does not cover this case.
   */
  #kickIfActive(gic: Gicv3, pe: number, intid: number): void {
    const s = gic.irqs.core.irqs;
    const i = s.index(pe, intid);
    if (((s.active[i >>> 5]! >>> (i & 31)) & 1) === 0) return;
    const target = intid < GIC_FIRST_SPI ? pe : s.target[i]!;
    if (target < 0) return;
    if (this.vm.tracer.enabled) this.vm.tracer.instant(this.track, "irq", "inject-while-active", { pe: target, intid });
    this.#byPe[target]?.raise();
  }

  #lazyInit(io: string): Gicv3 {
    if (this.#gic === undefined && this.initMode !== "explicit") this.init();
    if (this.#gic === undefined) fail("EBUSY", io, "the vgic is not initialised (KVM_DEV_ARM_VGIC_CTRL_INIT)");
    return this.#gic;
  }
}

/** GSI n → irqchip 0 pin n for n < `pins` (kvm_vgic_setup_default_irq_routing). */
function identityRouting(pins: number): RoutingEntry[] {
  const n = Math.min(pins, KVM_IRQCHIP_NUM_PINS_ARM64);
  const out: RoutingEntry[] = [];
  for (let gsi = 0; gsi < n; gsi++) out.push({ gsi, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: gsi });
  return out;
}

/**
 * vgic.c vgic_validate_injection past its owner check: whether
 * kvm_vgic_inject_irq goes on to vgic_queue_irq_unlock — any assertion of an
 * edge interrupt, a change of a level interrupt's line (`i`: the interrupt's
 * index in `s`).
 */
function validInjection(s: IrqState, i: number, level: boolean): boolean {
  const bit = 1 << (i & 31);
  if ((s.edge[i >>> 5]! & bit) !== 0) return level;
  return ((s.level[i >>> 5]! & bit) !== 0) !== level;
}
