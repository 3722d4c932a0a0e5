/**
 * GICv4.1 forwarding of host interrupts to vLPIs: KVM's
 * kvm_vgic_v4_set_forwarding() / kvm_vgic_v4_unset_forwarding()
 * (arch/arm64/kvm/vgic/vgic-v4.c) and the vITS paths that act on a forwarded
 * LPI (irq->hw: vgic-its.c vgic_its_trigger_msi, its_free_ite,
 * update_affinity, update_lpi_config, CLEAR); drivers/irqchip/irq-gic-v3-its.c
 * its_vlpi_map / its_vlpi_unmap; commits fc4dafe87b93 and 05b9405f2fa1; and seed 001 ("GICv4: Support shared VLPI", Nov 2023).
 *
 * Three behaviours, chosen per VM:
 * - `linux-6.16` (fc4dafe87b93, 05b9405f2fa1): set_forwarding returns
 *   silently when the vLPI is already `hw`, so a second host interrupt for it
 *   stays an ordinary host LPI (VFIO handler → irqfd → software injection of
 *   the same vLPI); unset finds the vLPI by `hw && host_irq == irq` without
 *   going through the vITS.
 * - `linux-6.6` (the code of the seed): every set_forwarding maps
 *   (its_map_vlpi) and overwrites `host_irq` with the latest; unset re-translates
 *   the route through the vITS, WARNs unless `hw && host_irq == irq`, and when
 *   `hw` clears it and unmaps the host irq it was given — so after one unset the
 *   others stay mapped and keep firing into the vPE.
 * - `rfc-shared-vlpi` (Kunkun Jiang's RFC, not merged): a list of host irqs per
 *   vLPI; each is mapped (every mapping after the first is recorded as a
 *   violation of GIC spec §5.2.10, the 1:1 pINTID:vINTID rule); unset removes
 *   and unmaps that one, `hw` drops with the last; INT goes to the first,
 *   CLEAR / INV / MOVI / DISCARD to all.
 * Pending state moves into the host at set (pending_latch → INT); it is not
 * moved back at unset (vgic-v4.c kvm_vgic_v4_unset_forwarding only clears irq->hw
 * and calls its_unmap_vlpi).
 */

import {
  GICR_VPENDBASER,
  GICR_VPENDBASER_HI_DB,
  GICR_VPENDBASER_HI_PENDING_LAST,
  GICR_VPENDBASER_HI_VALID,
  GICR_VPENDBASER_HI_VGRP1EN,
  type DirectVlpiSource,
  type HostIrq,
} from "@irqlab/gic";
import { ConfigError } from "@irqlab/sim";
import { fail, KvmError } from "../../errno.js";
import type { KvmMsi } from "../../irqchip.js";
import type { Vm } from "../../vm.js";
import { VgicV3 } from "../vgic-v3.js";
import type { VgicV4Residency } from "../vgic-vcpu.js";
import type { HostGicv4 } from "./host-gicv4.js";
import { resolveLpi } from "./vits-msi.js";
import { vitsContext, type VitsDeviceLike, type VitsForwardingHooks, type VitsVmContext } from "./vits-vm.js";

/** The named forwarding behaviours. */
export type Gicv4Behaviour = "linux-6.16" | "linux-6.6" | "rfc-shared-vlpi";
/** All behaviours, for option validation and reports. */
export const GICV4_BEHAVIOURS: readonly Gicv4Behaviour[] = ["linux-6.16", "linux-6.6", "rfc-shared-vlpi"];

/** Counters of one VM's forwarding, for reports. */
export interface VgicV4Stats {
  /** its_map_vlpi calls that succeeded. */
  mapCalls: number;
  /** its_unmap_vlpi calls (including failed ones). */
  unmapCalls: number;
  /** its_unmap_vlpi calls that failed (the host irq was not forwarded). */
  unmapErrors: number;
  /** WARN_ON hits (linux-6.6 unset; its_free_ite on a failed unmap). */
  warns: number;
  /** set_forwarding refused because the vLPI was already hw (linux-6.16). */
  refused: number;
  /** Mappings that gave a vLPI a second (or further) host irq: 1:1 rule violations. */
  violations: number;
}

/** A forwarded-capable LPI of the VM: the fields of struct vgic_irq that matter here. */
interface VgicLpi {
  readonly intid: number;
  /** Target vCPU (redistributor) = vPEID. */
  rd: number;
  hw: boolean;
  /** host_irq (linux-6.16 / 6.6). */
  hostIrq: number;
  /** The RFC's list of host irqs. */
  readonly hostIrqs: number[];
  /** The guest ITE that holds the LPI (for its_free_ite / update_affinity). */
  readonly dev: VitsDeviceLike;
  readonly devId: number;
  readonly eventId: number;
}

/** Options of {@link VgicV4Forwarding}. */
export interface VgicV4Options {
  readonly host: HostGicv4;
  /** Default "linux-6.16". */
  readonly behaviour?: Gicv4Behaviour;
}

const IOCTL = "KVM_IRQFD";

/** The GICv4.1 forwarding of one VM. */
export class VgicV4Forwarding implements VitsForwardingHooks, VgicV4Residency {
  readonly behaviour: Gicv4Behaviour;
  readonly host: HostGicv4;
  readonly stats: VgicV4Stats = { mapCalls: 0, unmapCalls: 0, unmapErrors: 0, warns: 0, refused: 0, violations: 0 };
  readonly #ctx: VitsVmContext;
  readonly #lpis = new Map<number, VgicLpi>();
  /** The irqfd routing entry each forwarded host irq came with (irqfd->irq_entry). */
  readonly #routes = new Map<number, KvmMsi>();
  /**
   * Instrumentation point: the host ITS now maps `hostIrq` onto `vintid` of vPE
   * `vpeId` (its_map_vlpi, or an update of a mapped one), or no longer maps it
   * (its_unmap_vlpi succeeded: `target` undefined). Scenarios log the vLPI ↔
   * host irq mapping over time with it.
   */
  mapHook: ((hostIrq: number, target: { readonly vpeId: number; readonly vintid: number } | undefined) => void) | undefined;

  constructor(
    readonly vm: Vm,
    options: VgicV4Options,
  ) {
    const b = options.behaviour ?? "linux-6.16";
    if (!GICV4_BEHAVIOURS.includes(b)) throw new KvmError("EINVAL", "vgic_v4_init", `unknown GICv4 behaviour '${b}' (${GICV4_BEHAVIOURS.join(", ")})`);
    this.behaviour = b;
    this.host = options.host;
    this.#ctx = vitsContext(vm);
    const gic = this.#ctx.gic;
    if (gic === undefined) throw new ConfigError(`${vm.name}: GICv4 forwarding needs the vgic-v3 Gicv3 (attachVgicV3ForIts) first`);
    if (this.host.frames.length < gic.redistributorCount) throw new ConfigError(`${vm.name}: the host has ${this.host.frames.length} vPEs for ${gic.redistributorCount} vCPUs`);
    for (let pe = 0; pe < gic.redistributorCount; pe++) gic.setDirectVlpiSource(pe, this.host.directSource(pe));
    // The vgic-v3 device's vCPUs drive residency and see the direct vLPIs (VgicVcpu); a bare Gicv3 only has ICV_*.
    const vgic = VgicV3.of(vm);
    const own = vgic?.gic === gic ? vgic : undefined;
    own?.setGicv4(this);
    this.host.onResidentVlpi = (rd) => {
      // A new pending vLPI can only raise the virtual IRQ output: nothing to re-evaluate when it is high.
      const h = gic.hyp[rd];
      if (h !== undefined && !h.virqLevel) h.update();
      own?.chipOfPe(rd)?.directVlpiPending();
    };
    // vgic_v4_doorbell_handler: pending_last = true, KVM_REQ_IRQ_PENDING, kick.
    this.host.onDoorbell = (vpeId) => {
      const chip = own?.chipOfPe(vpeId);
      if (chip !== undefined) chip.doorbell();
      else vm.vcpus[vpeId]?.irqPending();
    };
    this.#ctx.hooks = this;
  }

  /** Whether vCPU `index`'s vPE is resident (its_vpe.resident). */
  isResident(index: number): boolean {
    return this.host.frames[index]?.resident !== undefined;
  }

  /** The direct vLPIs of the vPE resident on host redistributor `index`. */
  directSource(index: number): DirectVlpiSource {
    return this.host.directSource(index);
  }

  /** vgic_v4_load(): vCPU `index` is loaded, its vPE becomes resident (GICR_VPENDBASER.Valid = 1, vGrp1En). */
  vcpuLoad(index: number): void {
    this.host.frames[index]?.write(GICR_VPENDBASER, 8, index, (GICR_VPENDBASER_HI_VALID | GICR_VPENDBASER_HI_VGRP1EN) >>> 0);
  }

  /**
   * vgic_v4_put(): vCPU `index` is put, its vPE made non-resident; with `doorbell`
   * (the vCPU blocks in WFI) a vLPI arriving meanwhile rings the default doorbell.
   * Returns GICR_VPENDBASER.PendingLast.
   */
  vcpuPut(index: number, doorbell: boolean): boolean {
    const f = this.host.frames[index];
    if (f?.resident === undefined) return false;
    f.write(GICR_VPENDBASER, 8, 0, doorbell ? GICR_VPENDBASER_HI_DB : 0);
    const w = { hi: 0 };
    f.read(GICR_VPENDBASER, 8, w);
    return (w.hi & GICR_VPENDBASER_HI_PENDING_LAST) !== 0;
  }

  /** kvm_vgic_v4_set_forwarding(kvm, hostIrq, route). */
  setForwarding(hostIrq: number, route: KvmMsi): void {
    const ctx = this.#ctx;
    const dev = ctx.deviceAt(route.addressHi * 2 ** 32 + (route.addressLo >>> 0));
    if (dev === undefined) return; // not a doorbell of any vITS: "escape early"
    const r = this.#resolve(dev, route);
    if (r === undefined) return;
    const [rd, intid] = r;
    let irq = this.#lpis.get(intid);
    if (irq === undefined) {
      irq = { intid, rd, hw: false, hostIrq: -1, hostIrqs: [], dev, devId: route.devid >>> 0, eventId: route.data >>> 0 };
      this.#lpis.set(intid, irq);
    }
    if (irq.hw && this.behaviour === "linux-6.16") {
      this.stats.refused++; // "if (irq->hw) goto out_unlock_irq;"
      return;
    }
    this.#map(hostIrq, irq);
    if (this.behaviour === "rfc-shared-vlpi") irq.hostIrqs.push(hostIrq);
    irq.hw = true;
    irq.hostIrq = hostIrq;
    this.#routes.set(hostIrq, route);
    // Transfer the pending latch into the host.
    const gic = ctx.gic;
    if (gic?.isLpiPending(rd, intid) === true) {
      gic.clearLpiPending(rd, intid);
      this.host.setPending(hostIrq);
    }
  }

  /** kvm_vgic_v4_unset_forwarding(kvm, hostIrq). */
  unsetForwarding(hostIrq: number): void {
    const route = this.#routes.get(hostIrq);
    this.#routes.delete(hostIrq);
    if (this.behaviour === "linux-6.16") {
      // __vgic_host_irq_get_vlpi(): by host irq, no vITS lookup.
      for (const irq of this.#lpis.values()) {
        if (irq.hw && irq.hostIrq === hostIrq) {
          irq.hw = false;
          this.#unmap(hostIrq);
          return;
        }
      }
      return;
    }
    if (route === undefined) return;
    const dev = this.#ctx.deviceAt(route.addressHi * 2 ** 32 + (route.addressLo >>> 0));
    if (dev === undefined) return;
    const r = resolveLpi(dev, route.devid >>> 0, route.data >>> 0);
    if (r === undefined || !dev.its.enabled || !this.#ctx.lpisEnabled(r[0])) return;
    const irq = this.#lpis.get(r[1]);
    if (this.behaviour === "linux-6.6") {
      if (!(irq?.hw === true && irq.hostIrq === hostIrq)) this.stats.warns++; // WARN_ON(!(irq->hw && irq->host_irq == virq))
      if (irq?.hw === true) {
        irq.hw = false;
        this.#unmap(hostIrq);
      }
      return;
    }
    if (irq?.hw !== true) {
      this.stats.warns++; // WARN_ON(!(irq->hw))
      return;
    }
    const i = irq.hostIrqs.indexOf(hostIrq);
    if (i >= 0) irq.hostIrqs.splice(i, 1);
    if (irq.hostIrqs.length === 0) irq.hw = false;
    this.#unmap(hostIrq);
  }

  /** The host irqs that currently own vLPI `intid` in KVM's view (irq->host_irq or the RFC's list). */
  hostIrqsOf(intid: number): readonly number[] {
    const irq = this.#lpis.get(intid);
    if (irq?.hw !== true) return [];
    return this.behaviour === "rfc-shared-vlpi" ? [...irq.hostIrqs] : [irq.hostIrq];
  }

  /** Whether LPI `intid` is hardware-backed (irq->hw). */
  isHw(intid: number): boolean {
    return this.#lpis.get(intid)?.hw === true;
  }

  // ---- VitsForwardingHooks: the vITS acting on a forwarded LPI ----

  pendHw(_rd: number, intid: number): boolean {
    if (this.#lpis.size === 0) return false;
    const irq = this.#lpis.get(intid);
    if (irq?.hw !== true) return false;
    // irq_set_irqchip_state(host_irq, PENDING, true); the RFC uses the first of its list.
    this.host.setPending(this.behaviour === "rfc-shared-vlpi" ? irq.hostIrqs[0]! : irq.hostIrq);
    return true;
  }

  clearHw(rd: number, intid: number): boolean {
    if (this.#lpis.size === 0) return false;
    const irq = this.#lpis.get(intid);
    if (irq?.hw !== true) return false;
    this.#ctx.gic?.clearLpiPending(rd, intid);
    for (const h of this.#owners(irq)) this.host.clearPending(h);
    return true;
  }

  configChanged(rd: number, intid: number): void {
    for (const irq of this.#lpis.values()) {
      if (!irq.hw || irq.rd !== rd || (intid >= 0 && irq.intid !== intid)) continue;
      // its_prop_update_vlpi(): the vLPI takes the guest's new priority / enable.
      for (const h of this.#owners(irq)) this.#mapInfo(h, irq, false);
    }
  }

  tablesChanged(): void {
    for (const irq of [...this.#lpis.values()]) {
      const ex = irq.dev.its.executor;
      ex.lookup(irq.devId, irq.eventId);
      if (!ex.ite.valid || !ex.ite.physical || ex.ite.intid !== irq.intid) {
        // its_free_ite(): "if (ite->irq->hw) WARN_ON(its_unmap_vlpi(ite->irq->host_irq));" then the LPI is freed.
        if (irq.hw) for (const h of this.#owners(irq)) if (!this.#unmap(h)) this.stats.warns++;
        this.#lpis.delete(irq.intid);
        continue;
      }
      const r = resolveLpi(irq.dev, irq.devId, irq.eventId);
      if (r !== undefined && r[0] !== irq.rd) {
        // update_affinity(): a forwarded vLPI follows its collection (VMOVI on the host).
        irq.rd = r[0];
        if (irq.hw) for (const h of this.#owners(irq)) this.#mapInfo(h, irq, false);
      }
    }
  }

  // ---- helpers ----

  /** vgic_its_resolve_lpi(): [rd, intid] or undefined; linux-6.6 and the RFC return -EBUSY as an error. */
  #resolve(dev: VitsDeviceLike, route: KvmMsi): readonly [number, number] | undefined {
    const r = resolveLpi(dev, route.devid >>> 0, route.data >>> 0);
    const busy = !dev.its.enabled || (r !== undefined && !this.#ctx.lpisEnabled(r[0]));
    if (busy && this.behaviour !== "linux-6.16") fail("EBUSY", IOCTL, `${this.vm.name}: vgic_its_resolve_lpi: ITS disabled or LPIs off`);
    return busy ? undefined : r;
  }

  #owners(irq: VgicLpi): readonly number[] {
    return this.behaviour === "rfc-shared-vlpi" ? [...irq.hostIrqs] : [irq.hostIrq];
  }

  #map(hostIrq: number, irq: VgicLpi): void {
    const before = this.host.forwarding.hostIrqsOf(irq.rd, irq.intid);
    const self = this.host.hostIrq(hostIrq);
    this.#mapInfo(hostIrq, irq, true);
    if (before.some((h) => !sameHost(h, self))) this.stats.violations++;
  }

  #mapInfo(hostIrq: number, irq: VgicLpi, count: boolean): void {
    const cfg = this.#ctx.lpiConfig(irq.rd, irq.intid);
    try {
      this.host.mapVlpi(hostIrq, { vpeId: irq.rd, vintid: irq.intid, priority: cfg & 0xfc, enabled: (cfg & 1) === 1 });
    } catch (e) {
      if (e instanceof Error && "errno" in e) fail("EINVAL", IOCTL, `${this.vm.name}: its_map_vlpi(${hostIrq}) failed: ${e.message}`);
      throw e;
    }
    if (count) this.stats.mapCalls++;
    this.mapHook?.(hostIrq, { vpeId: irq.rd, vintid: irq.intid });
  }

  /** its_unmap_vlpi(): false when it failed (host irq not forwarded). */
  #unmap(hostIrq: number): boolean {
    this.stats.unmapCalls++;
    try {
      this.host.unmapVlpi(hostIrq);
      this.mapHook?.(hostIrq, undefined);
      return true;
    } catch (e) {
      if (!(e instanceof Error && "errno" in e)) throw e;
      this.stats.unmapErrors++;
      return false;
    }
  }
}

function sameHost(a: HostIrq, b: HostIrq): boolean {
  return a.deviceId === b.deviceId && a.eventId === b.eventId;
}

const forwardings = new WeakMap<Vm, VgicV4Forwarding>();

/**
 * Enables GICv4.1 direct injection on `vm` (kvm-arm.vgic_v4_enable=1 on a
 * GICv4.1 host) with the chosen behaviour. Needs the VM's Gicv3 attached
 * ({@link attachVgicV3ForIts}). @throws ConfigError when enabled twice.
 */
export function enableVgicV4(vm: Vm, options: VgicV4Options): VgicV4Forwarding {
  if (forwardings.has(vm)) throw new ConfigError(`${vm.name}: GICv4 forwarding is already enabled`);
  const f = new VgicV4Forwarding(vm, options);
  forwardings.set(vm, f);
  return f;
}

/** The forwarding of `vm`, if GICv4 is enabled (vgic_supports_direct_msis). */
export function vgicV4Forwarding(vm: Vm): VgicV4Forwarding | undefined {
  return forwardings.get(vm);
}

/** What VmIrqChip.setForwarding delegates to: a no-op without GICv4, as kvm_vgic_v4_set_forwarding returns 0. */
export function vgicV4SetForwarding(vm: Vm, hostIrq: number, route: KvmMsi): void {
  forwardings.get(vm)?.setForwarding(hostIrq, route);
}

/** What VmIrqChip.unsetForwarding delegates to. */
export function vgicV4UnsetForwarding(vm: Vm, hostIrq: number): void {
  forwardings.get(vm)?.unsetForwarding(hostIrq);
}
