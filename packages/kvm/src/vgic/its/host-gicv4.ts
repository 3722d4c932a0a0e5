/**
 * The host side of GICv4.1 direct injection: a physical ITS with vPE support
 * (IHI 0069H §5.4, §9), the vPE table shared with the redistributors, one
 * VLPI_base frame per host redistributor, and the host's interrupt handlers.
 * A passthrough PCI function's MSI-X vectors are host LPIs on this ITS; VFIO
 * requests every one of them (vfio_msihandler signals the vector's trigger
 * eventfd). Linux forwards one to a guest with its_map_vlpi() (DISCARD +
 * VMAPTI on this ITS, `@irqlab/gic` VlpiForwarding) — from then on the
 * device's MSI is made pending by the ITS straight in the vPE's pending table
 * and the guest takes it through ICV_IAR1 while its vPE is resident, or the
 * vPE's doorbell fires when it is not.
 * Cross-check: Linux drivers/irqchip/irq-gic-v3-its.c (its_vlpi_map,
 * its_vlpi_unmap, its_irq_set_irqchip_state → INT/CLEAR), drivers/vfio/pci/vfio_pci_intrs.c.
 *
 * Model choices (documented in the package README): the physical ITS is the
 * gic package's ITS with the "linux-kvm" profile (tables in the model, never
 * stalls) standing in for hardware; a host LPI is handled at once by its
 * handler (the host CPU interface is not modelled); host redistributor n is
 * where vCPU n's vPE lives (vPEID = vCPU index), so residency follows the vCPU,
 * not a host CPU number. The Linux driver does not enforce the 1:1 rule; KVM
 * does (or does not), so the host forwarding runs the permissive profile and
 * the vgic-v4 behaviours decide.
 */

import {
  GITS_BASER,
  GITS_BASER_HI_VALID,
  GITS_CBASER,
  GITS_CBASER_HI_VALID,
  GITS_CTLR,
  GITS_CTLR_ENABLE,
  GicrVlpiFrame,
  Its,
  ITS_CMD_OK,
  itsCommand,
  VlpiForwarding,
  VpeTable,
  type DirectVlpiSource,
  type HostIrq,
  type LpiTarget,
  type VlpiMapInfo,
} from "@irqlab/gic";
import { ConfigError, GuestMemory, Tracer } from "@irqlab/sim";

/** Host RAM holding the physical ITS's command queue and ITTs. */
const HOST_RAM = 0x8000_0000;
const HOST_RAM_SIZE = 0x100_0000;
const HOST_DT = HOST_RAM + 0x10_0000;
const HOST_CT = HOST_RAM + 0x20_0000;
const HOST_ITT = HOST_RAM + 0x40_0000;
const HOST_VPT = HOST_RAM + 0x80_0000;
/** First host LPI handed out; vPE doorbells come from the top of the 16-bit range. */
const FIRST_HOST_LPI = 8192;
const DOORBELL_BASE = 0xf000;
/** First Linux irq number handed to a vector. */
const FIRST_HOST_IRQ = 64;

/** One MSI-X vector of a passthrough function: a host LPI with its Linux irq number. */
export interface HostMsiVector {
  /** Linux irq number (what irqbypass producers carry). */
  readonly irq: number;
  readonly deviceId: number;
  readonly eventId: number;
  /** Physical LPI INTID. */
  readonly pintid: number;
}

/** Options of {@link HostGicv4}. */
export interface HostGicv4Options {
  /** Number of host redistributors = vPEs (one per vCPU). */
  readonly vpes: number;
  readonly tracer?: Tracer;
}

/** A host with a GICv4.1 ITS. */
export class HostGicv4 {
  readonly memory = new GuestMemory();
  readonly vpes: VpeTable;
  /** The physical ITS. */
  readonly its: Its;
  /** its_map_vlpi / its_unmap_vlpi on the physical ITS (1:1 not enforced, as in the driver). */
  readonly forwarding: VlpiForwarding;
  /** VLPI_base frame of host redistributor n (vPE n resides there). */
  readonly frames: readonly GicrVlpiFrame[];
  /** Called when a vLPI becomes pending for a resident vPE (wire to the VM's Gicv3 hyp[rd].update()). */
  onResidentVlpi: ((rd: number, vpeId: number, vintid: number) => void) | undefined;
  /** Called when a non-resident vPE's default doorbell fires (vgic_v4_doorbell_handler). */
  onDoorbell: ((vpeId: number) => void) | undefined;
  /** Host interrupts taken by the host (not forwarded) since construction. */
  hostInterrupts = 0;
  /** Doorbells rung since construction. */
  doorbells = 0;
  readonly #handlers = new Map<number, () => void>();
  /** Vectors by Linux irq number − FIRST_HOST_IRQ. */
  readonly #vectors: HostMsiVector[] = [];
  readonly #tracer: Tracer;
  #nextLpi = FIRST_HOST_LPI;
  #nextIrq = FIRST_HOST_IRQ;

  constructor(options: HostGicv4Options) {
    const n = options.vpes;
    if (!Number.isInteger(n) || n < 1 || n > 4096) throw new ConfigError(`HostGicv4: vpes ${n} is not in 1..4096`);
    this.memory.addRam(HOST_RAM, HOST_RAM_SIZE, "host");
    const tracer = options.tracer ?? new Tracer();
    this.#tracer = tracer;
    this.vpes = new VpeTable({
      memory: this.memory,
      doorbell: (vpeId) => {
        this.doorbells++;
        this.onDoorbell?.(vpeId);
      },
      onResidentVlpi: (rd, vpeId, vintid) => this.onResidentVlpi?.(rd, vpeId, vintid),
    });
    const handlers = this.#handlers;
    const dispatcher: LpiTarget = {
      redistributorCount: n,
      setLpiPending: (_rd, intid) => {
        this.hostInterrupts++;
        handlers.get(intid)?.();
      },
      clearLpiPending: () => undefined,
      isLpiPending: () => false,
      invalidateLpi: () => undefined,
      invalidateAllLpis: () => undefined,
    };
    this.its = new Its({ profile: "linux-kvm", target: dispatcher, memory: this.memory, vpes: this.vpes, tracer, name: "host-its" });
    const w = { hi: 0 };
    this.its.write(GITS_CBASER, 8, HOST_RAM + 15, GITS_CBASER_HI_VALID);
    for (const [i, base] of [HOST_DT, HOST_CT].entries()) {
      const lo = this.its.read(GITS_BASER + 8 * i, 8, w);
      this.its.write(GITS_BASER + 8 * i, 8, ((lo & 0xf00) | base) >>> 0, (w.hi | GITS_BASER_HI_VALID) >>> 0);
    }
    this.its.write(GITS_CTLR, 4, GITS_CTLR_ENABLE, 0);
    this.#run(itsCommand.mapc(0, 0));
    this.forwarding = new VlpiForwarding({ its: this.its, vpes: this.vpes, profile: "permissive-shared-vlpi", tracer });
    const frames: GicrVlpiFrame[] = [];
    for (let vpe = 0; vpe < n; vpe++) {
      this.#run(itsCommand.vmapp({ vpeId: vpe, rd: vpe, vptAddr: HOST_VPT + vpe * 0x2000, vptIdBits: 16, vconfAddr: 0, doorbell: DOORBELL_BASE + vpe, alloc: true, ptz: true }));
      frames.push(new GicrVlpiFrame({ vpes: this.vpes, rd: vpe, tracer }));
    }
    this.frames = frames;
  }

  /**
   * The DirectVlpiSource of host redistributor `rd` for the virtual CPU
   * interface (Gicv3.setDirectVlpiSource): the VLPI_base frame itself (the
   * vPE table keeps an index of each vPE's pending vLPIs, so no search is needed here).
   */
  directSource(rd: number): DirectVlpiSource {
    const s = this.frames[rd];
    if (s === undefined) throw new ConfigError(`HostGicv4: no redistributor ${rd}`);
    return s;
  }

  /** its_map_vlpi() for Linux irq `irq` (VlpiForwarding.mapVlpi). */
  mapVlpi(irq: number, info: VlpiMapInfo): void {
    this.forwarding.mapVlpi(this.vector(irq), info);
  }

  /** its_unmap_vlpi() for Linux irq `irq`. @throws VlpiMapError EINVAL when it is not forwarded. */
  unmapVlpi(irq: number): void {
    this.forwarding.unmapVlpi(this.vector(irq));
  }

  /**
   * A passthrough function appears: MAPD with room for `nvec` events and one
   * host LPI per vector (VFIO requests all of them). Returns the vectors.
   */
  addDevice(deviceId: number, nvec: number): HostMsiVector[] {
    if (!Number.isInteger(nvec) || nvec < 1 || nvec > 2048) throw new ConfigError(`HostGicv4: ${nvec} vectors is not in 1..2048`);
    if (!Number.isInteger(deviceId) || deviceId < 0 || deviceId >= 64) throw new ConfigError(`HostGicv4: DeviceID ${deviceId} is not in 0..63`);
    const bits = Math.max(1, Math.ceil(Math.log2(nvec)));
    this.#run(itsCommand.mapd(deviceId, HOST_ITT + deviceId * 0x4000, bits - 1));
    const out: HostMsiVector[] = [];
    for (let ev = 0; ev < nvec; ev++) {
      const v: HostMsiVector = { irq: this.#nextIrq++, deviceId, eventId: ev, pintid: this.#nextLpi++ };
      this.#run(itsCommand.mapti(deviceId, ev, v.pintid, 0));
      this.#vectors.push(v);
      out.push(v);
    }
    return out;
  }

  /** request_irq(): `handler` runs when host irq `irq` is taken by the host. */
  requestIrq(irq: number, handler: () => void): void {
    const v = this.vector(irq);
    this.#handlers.set(v.pintid, handler);
  }

  /** The vector behind Linux irq `irq`. @throws ConfigError for an unknown irq. */
  vector(irq: number): HostMsiVector {
    const v = this.#vectors[irq - FIRST_HOST_IRQ];
    if (v === undefined) throw new ConfigError(`HostGicv4: host irq ${irq} is not an MSI vector of a passthrough function`);
    return v;
  }

  /** What the physical ITS translates for Linux irq `irq`. */
  hostIrq(irq: number): HostIrq {
    return this.vector(irq);
  }

  /** Whether Linux irq `irq` is forwarded to a vLPI right now. */
  isForwarded(irq: number): boolean {
    return this.forwarding.isForwarded(this.vector(irq));
  }

  /** The device raises vector `irq`: its MSI write reaches the ITS. Returns the ITS_MSI_* outcome. */
  fire(irq: number): number {
    const v = this.vector(irq);
    const tr = this.#tracer;
    if (!tr.enabled) return this.its.translate(v.deviceId, v.eventId);
    // The raise of the flow that ends where a vCPU takes the vLPI (directly injected or through the host handler).
    const prev = tr.beginCause(this.its.track, "irq", "msi-write", { irq, devid: v.deviceId, eventid: v.eventId });
    try {
      return this.its.translate(v.deviceId, v.eventId);
    } finally {
      tr.endCause(prev);
    }
  }

  /** irq_set_irqchip_state(irq, PENDING, true): an INT on the physical ITS. */
  setPending(irq: number): void {
    const v = this.vector(irq);
    this.#run(itsCommand.int(v.deviceId, v.eventId));
  }

  /** irq_set_irqchip_state(irq, PENDING, false): a CLEAR on the physical ITS. */
  clearPending(irq: number): void {
    const v = this.vector(irq);
    this.#run(itsCommand.clear(v.deviceId, v.eventId));
  }

  #run(words: ArrayLike<number>): void {
    if (this.its.executeCommand(words) !== ITS_CMD_OK) {
      const last = this.its.errors().at(-1);
      throw new ConfigError(`HostGicv4: host ITS command failed: ${last?.detail ?? "unknown"}`);
    }
  }
}
