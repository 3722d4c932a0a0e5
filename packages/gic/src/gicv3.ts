/**
 * A GICv3 (optionally with GICv4.1 redistributor frames): the distributor, one
 * redistributor and CPU interface per PE, the LPI state, and one hypervisor
 * interface per PE, wired together, with the wire inputs of SPIs and PPIs, an
 * IRQ/FIQ output per PE, and snapshots.
 *
 * Spec: IHI 0069H §2 (GIC partitioning), §3.1 (affinity routing, the only mode
 * KVM offers), §5.1 (LPIs). Cross-check: Linux arch/arm64/kvm/vgic/vgic-init.c
 * (`kvm_vgic_dist_init()`, defaults), arch/arm64/kvm/sys_regs.c
 * `reset_mpidr()` (default MPIDR: Aff0 = id & 0xF, Aff1 = id >> 4, Aff2 =
 * id >> 12); QEMU hw/intc/arm_gicv3_common.c.
 *
 * Wire inputs follow KVM's injection rules (`kvm_vgic_inject_irq()`): a high
 * level on an edge-triggered interrupt latches it pending every time; a
 * level-sensitive one is pending while the line is high. The class implements
 * {@link LpiTarget} so an ITS can drive the redistributors.
 */

import { ConfigError, Tracer, type GuestMemory, type MmioDevice, type WideValue } from "@irqlab/sim";
import type { DirectVlpiSource } from "./direct-vlpi.js";
import { GIC_FIRST_LPI, GIC_FIRST_PPI, GIC_FIRST_SPI, GIC_MAX_SPI } from "./gicv3-constants.js";
import { Gicv3Core, type PeLineCallback } from "./gicv3-core.js";
import { Gicv3CpuInterface } from "./gicv3-cpu-interface.js";
import { Gicv3Distributor, type DistributorSnapshot } from "./gicv3-distributor.js";
import { Gicv3HypInterface, type HypInterfaceSnapshot } from "./gicv3-hyp-interface.js";
import { Gicv3IrqAccess } from "./gicv3-irq-access.js";
import type { Gicv3Profile, IrqStateSnapshot } from "./gicv3-irq-state.js";
import { isIchRegister, readIch, writeIch } from "./gicv3-list-register.js";
import type { LpiSnapshot } from "./gicv3-lpi.js";
import { Gicv3Redistributors, type RedistributorSnapshot } from "./gicv3-redistributor.js";
import type { LpiTarget } from "./lpi-target.js";

/** Most PEs a GICv3 vgic supports in KVM (VGIC_V3_MAX_CPUS). */
export const GICV3_MAX_CPUS = 512;

/** Construction options of {@link Gicv3}. */
export interface Gicv3Options {
  /** Number of PEs (1..512). */
  readonly cpus: number;
  /** Number of INTIDs including the 32 private ones: a multiple of 32 in 64..1024 (default 256, KVM's default). */
  readonly nrIrqs?: number;
  /** Implemented priority bits, 4..8 (default 5, as KVM: ICH_VTR_EL2.PRIbits). */
  readonly priBits?: number;
  /** Whose choices to follow where KVM and QEMU differ (default "kvm"). */
  readonly profile?: Gicv3Profile;
  /** Affinity of each PE packed Aff3<<24|Aff2<<16|Aff1<<8|Aff0 (default: KVM's reset_mpidr layout). */
  readonly affinities?: readonly number[];
  /** Guest memory holding the LPI configuration and pending tables. */
  readonly memory?: GuestMemory;
  /** LPI support (GICD_TYPER.LPIS, GICR_TYPER.PLPIS); default: true when `memory` is given. */
  readonly lpis?: boolean;
  /** GICv4.1: 4×64 KiB redistributors with a VLPI_base frame, GICR_TYPER.VLPIS/RVPEID (default false). */
  readonly v41?: boolean;
  /**
   * Redistributors per redistributor region, summing to `cpus` (default: one
   * region). Sets GICR_TYPER.Last per region; see `redistributors.regionView()`.
   */
  readonly redistributorRegions?: readonly number[];
  /** List registers per hypervisor interface, 1..16 (default 4). */
  readonly listRegisters?: number;
  /** Tracer for guest errors and events (default: a private, disabled one). */
  readonly tracer?: Tracer;
  /** Trace group name (default "gic"). */
  readonly name?: string;
}

/** Versioned plain-data snapshot of a {@link Gicv3}. */
export interface Gicv3Snapshot {
  readonly version: 1;
  readonly config: {
    readonly cpus: number;
    readonly nrIrqs: number;
    readonly priBits: number;
    readonly profile: Gicv3Profile;
    readonly affinities: number[];
    readonly lpis: boolean;
    readonly v41: boolean;
    readonly listRegisters: number;
    readonly redistributorRegions: number[];
  };
  readonly irqs: IrqStateSnapshot;
  readonly cpu: {
    readonly pmr: number[];
    readonly bpr0: number[];
    readonly bpr1: number[];
    readonly ctlr: number[];
    readonly igrpen0: number[];
    readonly igrpen1: number[];
    readonly apr: number[];
  };
  readonly distributor: DistributorSnapshot;
  readonly redistributors: RedistributorSnapshot;
  readonly lpis: LpiSnapshot[];
  readonly hyp: HypInterfaceSnapshot[];
}

/** Default affinity of vCPU `id` (Linux arch/arm64/kvm/sys_regs.c reset_mpidr()). */
export function defaultAffinity(id: number): number {
  return (((id >>> 12) & 0xff) << 16) | (((id >>> 4) & 0xff) << 8) | (id & 0xf);
}

/** A complete GICv3: distributor, redistributors, CPU and hypervisor interfaces. */
export class Gicv3 implements LpiTarget {
  /** The GICD frame (64 KiB). Map it on an MmioBus. */
  readonly distributor: Gicv3Distributor;
  /** The redistributor region (`redistributors.size` bytes). Map it on an MmioBus. */
  readonly redistributors: Gicv3Redistributors;
  /** ICC_* system registers of every PE. */
  readonly cpuInterface: Gicv3CpuInterface;
  /** ICH_*_EL2 and the ICV_* view, per PE. */
  readonly hyp: readonly Gicv3HypInterface[];
  /** Per-interrupt state for a software vgic (status, latch/active updates, deliverable list). */
  readonly irqs: Gicv3IrqAccess;
  readonly tracer: Tracer;
  readonly #core: Gicv3Core;
  readonly #opts: Gicv3Snapshot["config"];
  readonly #wide: WideValue = { hi: 0 };

  constructor(options: Gicv3Options) {
    const cpus = options.cpus;
    if (!Number.isInteger(cpus) || cpus < 1 || cpus > GICV3_MAX_CPUS) {
      throw new ConfigError(`cpus ${cpus} is not in 1..${GICV3_MAX_CPUS}`);
    }
    const affinities = options.affinities ?? Array.from({ length: cpus }, (_, i) => defaultAffinity(i));
    if (affinities.length !== cpus) throw new ConfigError(`affinities has ${affinities.length} entries for ${cpus} cpus`);
    if (new Set(affinities).size !== cpus) throw new ConfigError(`affinities [${affinities.join(", ")}] are not unique`);
    const lpis = options.lpis ?? options.memory !== undefined;
    if (lpis && options.memory === undefined) throw new ConfigError("lpis: true needs a guest memory for the LPI tables");
    this.tracer = options.tracer ?? new Tracer();
    const track = this.tracer.track(options.name ?? "gic", "gicv3", "device");
    const cfg: Gicv3Snapshot["config"] = {
      cpus,
      nrIrqs: options.nrIrqs ?? 256,
      priBits: options.priBits ?? 5,
      profile: options.profile ?? "kvm",
      affinities: affinities.map((a) => a >>> 0),
      lpis,
      v41: options.v41 ?? false,
      listRegisters: options.listRegisters ?? 4,
      redistributorRegions: [...(options.redistributorRegions ?? [cpus])],
    };
    const regions = cfg.redistributorRegions;
    if (regions.some((n) => !Number.isInteger(n) || n < 1) || regions.reduce((a, b) => a + b, 0) !== cpus) {
      throw new ConfigError(`redistributorRegions [${regions.join(", ")}] are not positive counts summing to ${cpus}`);
    }
    if ((cfg.profile as string) !== "kvm" && (cfg.profile as string) !== "qemu") throw new ConfigError(`profile '${cfg.profile}' is not "kvm" or "qemu"`);
    this.#opts = cfg;
    const core = new Gicv3Core({
      cpus,
      nrIrqs: cfg.nrIrqs,
      priBits: cfg.priBits,
      profile: cfg.profile,
      affinity: cfg.affinities,
      memory: options.memory,
      tracer: this.tracer,
      track,
    });
    this.#core = core;
    this.distributor = new Gicv3Distributor(core, lpis, cfg.v41);
    this.redistributors = new Gicv3Redistributors(core, lpis, cfg.v41, regions);
    this.cpuInterface = new Gicv3CpuInterface(core);
    this.irqs = new Gicv3IrqAccess(core);
    this.hyp = Array.from(
      { length: cpus },
      (_, pe) =>
        new Gicv3HypInterface({
          listRegisters: cfg.listRegisters,
          priBits: cfg.priBits,
          v4: cfg.v41,
          tracer: this.tracer,
          track,
          deactivatePhysical: (pintid) => {
            this.cpuInterface.deactivate(pe, pintid);
          },
        }),
    );
  }

  /** Number of PEs. */
  get cpus(): number {
    return this.#core.cpus;
  }

  /** Number of INTIDs including the private ones (GICD_TYPER.ITLinesNumber). */
  get nrIrqs(): number {
    return this.#core.nrIrqs;
  }

  /** Called with (pe, level) when a PE's IRQ line (group 1) changes. */
  set onIrq(cb: PeLineCallback | undefined) {
    this.#core.onIrq = cb;
  }

  /** Called with (pe, level) when a PE's FIQ line (group 0) changes. */
  set onFiq(cb: PeLineCallback | undefined) {
    this.#core.onFiq = cb;
  }

  /** The IRQ line of `pe`: a group-1 interrupt can be acknowledged now. */
  irqLevel(pe: number): boolean {
    return this.#core.irqLine[this.#pe(pe)] === 1;
  }

  /** The FIQ line of `pe`. */
  fiqLevel(pe: number): boolean {
    return this.#core.fiqLine[this.#pe(pe)] === 1;
  }

  /** Whether `pe` has a deliverable interrupt ignoring the running priority (KVM's vcpu_pending_irq). */
  hasPendingIrq(pe: number): boolean {
    return this.#core.hasDeliverable(this.#pe(pe));
  }

  /** Drives the input line of SPI `intid` (32..nrIrqs−1, ≤ 1019). */
  setSpiLevel(intid: number, level: boolean): void {
    if (!Number.isInteger(intid) || intid < GIC_FIRST_SPI || intid >= this.#core.nrIrqs || intid > GIC_MAX_SPI) {
      throw new ConfigError(`SPI INTID ${intid} is not in ${GIC_FIRST_SPI}..${Math.min(this.#core.nrIrqs - 1, GIC_MAX_SPI)}`);
    }
    this.#core.setLevel(0, intid, level);
  }

  /** Drives the input line of PPI `intid` (16..31) of `pe`. */
  setPpiLevel(pe: number, intid: number, level: boolean): void {
    if (!Number.isInteger(intid) || intid < GIC_FIRST_PPI || intid >= GIC_FIRST_SPI) {
      throw new ConfigError(`PPI INTID ${intid} is not in ${GIC_FIRST_PPI}..${GIC_FIRST_SPI - 1}`);
    }
    this.#core.setLevel(this.#pe(pe), intid, level);
  }

  /** The input line level of SGI/PPI/SPI `intid` as seen by `pe` (LEVEL_INFO). */
  lineLevel(pe: number, intid: number): boolean {
    const s = this.#core.irqs;
    const i = s.index(this.#pe(pe), intid);
    return ((s.level[i >>> 5]! >>> (i & 31)) & 1) === 1;
  }

  /**
   * A system-register access from PE `pe` by Linux sys_reg encoding: ICC_*
   * (physical CPU interface) or ICH_*_EL2. Unknown encodings read as 0 and
   * count as guest errors.
   */
  readSysReg(pe: number, reg: number, wide?: WideValue): number {
    const p = this.#pe(pe);
    // ICH_*_EL2 encodings are the ones with op1 = 4.
    if (((reg >>> 16) & 7) === 4) {
      const h = this.hyp[p]!;
      if (isIchRegister(h, reg)) return readIch(h, reg, wide ?? this.#wide);
    }
    return this.cpuInterface.read(p, reg, wide);
  }

  /**
   * Whether a system-register access from a PE changes nothing but, at most,
   * the guest-error count (Gicv3CpuInterface.quiet); ICH_*_EL2 accesses are
   * not counted as quiet.
   */
  quietSysReg(reg: number, write: boolean, value: number): boolean {
    return ((reg >>> 16) & 7) !== 4 && this.cpuInterface.quiet(reg, write, value);
  }

  /** A system-register write from PE `pe` (ICC_* or ICH_*_EL2). */
  writeSysReg(pe: number, reg: number, value: number, hi = 0): void {
    const p = this.#pe(pe);
    if (((reg >>> 16) & 7) === 4 && writeIch(this.hyp[p]!, reg, value, hi)) return;
    this.cpuInterface.write(p, reg, value, hi);
  }

  /** Installs (or removes) the resident vPE's direct vLPI source of `pe` (GICv4.1). */
  setDirectVlpiSource(pe: number, source: DirectVlpiSource | undefined): void {
    const h = this.hyp[this.#pe(pe)]!;
    h.directVlpi = source;
    h.update();
  }

  /** Installs the VLPI_base frame device of redistributor `rd` (GICv4.1 only). */
  setVlpiFrame(rd: number, device: MmioDevice | undefined): void {
    if (!this.#opts.v41) throw new ConfigError("setVlpiFrame needs a GICv4.1 (v41: true) redistributor layout");
    this.redistributors.setVlpiFrame(this.#pe(rd), device);
  }

  // ---- LpiTarget ---------------------------------------------------------------

  /** Number of redistributors (one per PE). */
  get redistributorCount(): number {
    return this.#core.cpus;
  }

  /** Makes LPI `intid` pending on `rd` (lost when LPIs are disabled there). */
  setLpiPending(rd: number, intid: number): void {
    this.#core.setLpiPending(this.#pe(rd), intid, true);
  }

  /** Clears the pending state of LPI `intid` on `rd`. */
  clearLpiPending(rd: number, intid: number): void {
    const r = this.#pe(rd);
    if (this.#core.lpis[r]!.inRange(intid)) this.#core.setLpiPending(r, intid, false);
  }

  /** Whether LPI `intid` is pending on `rd`. */
  isLpiPending(rd: number, intid: number): boolean {
    return this.#core.lpis[this.#pe(rd)]!.isPending(intid);
  }

  /** INV: reloads the configuration of LPI `intid` on `rd`. */
  invalidateLpi(rd: number, intid: number): void {
    const r = this.#pe(rd);
    const l = this.#core.lpis[r]!;
    if (intid < GIC_FIRST_LPI || !l.enabled) return;
    this.#core.lpiConfigChanged(r, intid, l.invalidate(intid, this.#core.memory, this.#fault(r)));
  }

  /** INVALL: reloads the configuration of every LPI on `rd`. */
  invalidateAllLpis(rd: number): void {
    const r = this.#pe(rd);
    const l = this.#core.lpis[r]!;
    if (!l.enabled) return;
    l.invalidateAll(this.#core.memory, this.#fault(r));
    this.#core.lpiConfigChanged(r, -1, true);
  }

  /** Writes every redistributor's LPI pending bits to its pending table (SAVE_PENDING_TABLES). */
  savePendingTables(): void {
    const mem = this.#core.memory;
    if (!mem) return;
    for (const l of this.#core.lpis) if (l.enabled) l.savePendingTable(mem);
  }

  // ---- snapshot ------------------------------------------------------------------

  /** A plain, versioned copy of the whole GIC state. */
  state(): Gicv3Snapshot {
    const c = this.#core;
    return {
      version: 1,
      config: {
        ...this.#opts,
        affinities: [...this.#opts.affinities],
        redistributorRegions: [...this.#opts.redistributorRegions],
      },
      irqs: c.irqs.state(),
      cpu: {
        pmr: Array.from(c.pmr),
        bpr0: Array.from(c.bpr0),
        bpr1: Array.from(c.bpr1),
        ctlr: Array.from(c.ctlr),
        igrpen0: Array.from(c.igrpen0),
        igrpen1: Array.from(c.igrpen1),
        apr: Array.from(c.apr),
      },
      distributor: this.distributor.state(),
      redistributors: this.redistributors.state(),
      lpis: c.lpis.map((l) => l.state()),
      hyp: this.hyp.map((h) => h.state()),
    };
  }

  /**
   * Rebuilds a GIC from a snapshot. `deps` supplies what a snapshot cannot
   * hold: the guest memory and the tracer.
   */
  static fromState(s: Gicv3Snapshot, deps: { memory?: GuestMemory; tracer?: Tracer; name?: string } = {}): Gicv3 {
    if ((s.version as number) !== 1) throw new ConfigError(`GICv3 snapshot version ${String(s.version)} is not 1`);
    const gic = new Gicv3({ ...s.config, ...deps });
    const c = gic.#core;
    c.irqs.load(s.irqs);
    c.pmr.set(s.cpu.pmr);
    c.bpr0.set(s.cpu.bpr0);
    c.bpr1.set(s.cpu.bpr1);
    c.ctlr.set(s.cpu.ctlr);
    c.igrpen0.set(s.cpu.igrpen0);
    c.igrpen1.set(s.cpu.igrpen1);
    c.apr.set(s.cpu.apr);
    gic.distributor.load(s.distributor);
    gic.redistributors.load(s.redistributors);
    s.lpis.forEach((l, i) => {
      c.lpis[i]!.load(l);
    });
    s.hyp.forEach((h, i) => {
      gic.hyp[i]!.load(h);
    });
    c.rebuild();
    return gic;
  }

  #pe(pe: number): number {
    if (!Number.isInteger(pe) || pe < 0 || pe >= this.#core.cpus) {
      throw new ConfigError(`PE ${pe} is not in 0..${this.#core.cpus - 1}`);
    }
    return pe;
  }

  #fault(rd: number): (what: string) => void {
    return (what) => {
      this.#core.guestError("gicv3-lpi", `RD ${rd}: ${what}`);
    };
  }
}
