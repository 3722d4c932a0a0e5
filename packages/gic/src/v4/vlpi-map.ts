/**
 * Host-side vLPI forwarding on a physical GICv4.1 ITS: the equivalent of
 * Linux's its_map_vlpi() / its_unmap_vlpi() (drivers/irqchip/irq-gic-v3-its.c
 * its_vlpi_map(), its_vlpi_unmap()), which turn a host LPI — a (DeviceID,
 * EventID) of a passthrough device — into a vLPI delivered straight to a vPE.
 *
 * Mapping: DISCARD the physical ITE, VMAPTI it to (vPE, vINTID), update the
 * vLPI's configuration (its_vlpi_prop_update). Mapping an already-forwarded
 * host interrupt again retargets it (VMOVI), as Linux does. Unmapping: DISCARD
 * the virtual ITE and MAPTI the physical LPI back on its collection.
 *
 * The 1:1 rule. GIC spec §5.2.10 ("Restrictions for INTID mapping rules")
 * forbids two (DeviceID, EventID) pairs mapped to the same (vPEID, vINTID);
 * Marc Zyngier, "[RFC PATCH] KVM: arm/arm64: GICv4: Support shared VLPI"
 * (Nov 2023): "a hard requirement that matches the architecture". Nothing in
 * the Linux ITS driver enforces it (KVM does since 6.16, fc4dafe87b93). Here
 * the "strict" profile refuses a second host interrupt with
 * {@link SharedVlpiError} (EBUSY); the named "permissive-shared-vlpi" profile
 * lets it through to reproduce the 2023 bug and records each violation.
 */

import { IrqlabError, ConfigError, type Tracer, type TrackId } from "@irqlab/sim";
import { CMD_OK } from "../its/its-commands.js";
import * as C from "../its/its-constants.js";
import type { Its } from "../its/its.js";
import type { VpeTable } from "./vpe.js";

/** How the 1:1 pINTID:vINTID rule is applied. */
export type VlpiMapProfile = "strict" | "permissive-shared-vlpi";

/** A host interrupt, named by what the physical ITS translates. */
export interface HostIrq {
  readonly deviceId: number;
  readonly eventId: number;
}

/** What to forward a host interrupt to (Linux struct its_vlpi_map). */
export interface VlpiMapInfo {
  readonly vpeId: number;
  readonly vintid: number;
  /** vLPI priority (default 0xa0, Linux's LPI_PROP_DEFAULT_PRIO). */
  readonly priority?: number;
  /** vLPI enabled (default true). */
  readonly enabled?: boolean;
  /** GICv4.0 per-vLPI doorbell pINTID (default 1023: none, as Linux passes for v4.1). */
  readonly doorbell?: number;
}

/** One recorded violation of the 1:1 rule (permissive profile). */
export interface SharedVlpiViolation {
  readonly vpeId: number;
  readonly vintid: number;
  /** Host interrupts already forwarded to (vpeId, vintid). */
  readonly existing: readonly HostIrq[];
  /** The host interrupt mapped anyway. */
  readonly added: HostIrq;
}

/** A host-API refusal, in Node's style: `code` is the errno name, `errno` its negative value. */
export class VlpiMapError extends IrqlabError {
  readonly errno: number;
  constructor(code: "EINVAL" | "EBUSY", message: string) {
    super(code, message);
    this.errno = code === "EINVAL" ? -22 : -16;
  }
}

/** A second host interrupt for a (vPE, vINTID) that already has one ("strict" profile). */
export class SharedVlpiError extends VlpiMapError {
  constructor(
    readonly vpeId: number,
    readonly vintid: number,
    readonly existing: HostIrq,
    readonly added: HostIrq,
  ) {
    super(
      "EBUSY",
      `vINTID ${vintid} of vPE ${vpeId} is already forwarded from host IRQ ${existing.deviceId}:${existing.eventId}; ` +
        `mapping ${added.deviceId}:${added.eventId} too would break the 1:1 pINTID:vINTID rule (GIC spec §5.2.10)`,
    );
  }
}

interface Forwarded {
  readonly host: HostIrq;
  vpeId: number;
  vintid: number;
  readonly pintid: number;
  readonly icid: number;
}

/** Options of {@link VlpiForwarding}. */
export interface VlpiForwardingOptions {
  /** The physical ITS (built with a VpeTable). */
  readonly its: Its;
  readonly vpes: VpeTable;
  /** Default "strict". */
  readonly profile?: VlpiMapProfile;
  /** Counts violations ("vlpi:shared-violation") and traces them; default: the ITS's tracer. */
  readonly tracer?: Tracer;
}

/** Plain snapshot of {@link VlpiForwarding}. */
export interface VlpiForwardingState {
  readonly version: 1;
  readonly profile: VlpiMapProfile;
  readonly forwarded: readonly { deviceId: number; eventId: number; vpeId: number; vintid: number; pintid: number; icid: number }[];
  readonly violations: readonly SharedVlpiViolation[];
}

const KEY_SPAN = 2 ** 32;

/** its_map_vlpi / its_unmap_vlpi over one physical ITS. */
export class VlpiForwarding {
  readonly profile: VlpiMapProfile;
  readonly #its: Its;
  readonly #vpes: VpeTable;
  readonly #byHost = new Map<number, Forwarded>();
  readonly #byVlpi = new Map<number, Forwarded[]>();
  readonly #violations: SharedVlpiViolation[] = [];
  readonly #w = new Uint32Array(8);
  readonly #tracer: Tracer;
  readonly #track: TrackId;

  /** @throws ConfigError for an unknown profile or an ITS without virtual LPIs. */
  constructor(options: VlpiForwardingOptions) {
    const profile = options.profile ?? "strict";
    if ((profile as string) !== "strict" && (profile as string) !== "permissive-shared-vlpi") {
      throw new ConfigError(`VlpiForwarding: profile '${profile as string}' is not "strict" or "permissive-shared-vlpi"`);
    }
    if (options.its.executor.ctx.vpes !== options.vpes) throw new ConfigError("VlpiForwarding: the ITS was not built with this VpeTable");
    this.profile = profile;
    this.#its = options.its;
    this.#vpes = options.vpes;
    this.#tracer = options.tracer ?? options.its.tracer;
    this.#track = this.#tracer.track("gic", "vlpi-forwarding", "host");
  }

  /**
   * its_map_vlpi(): forwards `host` to (map.vpeId, map.vintid).
   * @throws VlpiMapError EINVAL when the vPE is not mapped, the vINTID is outside
   *   its VPT, or `host` is not a mapped physical LPI; SharedVlpiError (EBUSY)
   *   for a second host interrupt on one vLPI under the "strict" profile.
   */
  mapVlpi(host: HostIrq, map: VlpiMapInfo): void {
    const vpe = this.#vpes.get(map.vpeId);
    if (vpe === undefined) throw new VlpiMapError("EINVAL", `vPE ${map.vpeId} is not mapped (VMAPP)`);
    if (!vpe.inRange(map.vintid)) throw new VlpiMapError("EINVAL", `vINTID ${map.vintid} is outside the VPT of vPE ${map.vpeId}`);
    const key = hostKey(host);
    const fwd = this.#byHost.get(key);
    if (fwd?.vintid === map.vintid) {
      // Already forwarded: "Already mapped, move it around" (VMOVI).
      if (fwd.vpeId !== map.vpeId) {
        this.#move(fwd, map.vpeId);
        this.#run([C.GITS_CMD_VMOVI, host.deviceId, host.eventId, map.vpeId, 0, 0, 0, 0]);
      }
      this.#vpes.setConfig(vpe, map.vintid, map.priority ?? 0xa0, map.enabled ?? true);
      return;
    }
    const others = (this.#byVlpi.get(vlpiKey(map.vpeId, map.vintid)) ?? []).filter((f) => f !== fwd);
    if (others.length > 0) {
      if (this.profile === "strict") throw new SharedVlpiError(map.vpeId, map.vintid, others[0]!.host, host);
      this.#violations.push({ vpeId: map.vpeId, vintid: map.vintid, existing: others.map((f) => f.host), added: host });
      this.#tracer.counters.add("vlpi:shared-violation");
      if (this.#tracer.enabled) {
        this.#tracer.instant(this.#track, "vlpi", "shared-vlpi-violation", {
          vpe: map.vpeId,
          vintid: map.vintid,
          host: `${host.deviceId}:${host.eventId}`,
          existing: others.length,
        });
      }
    }
    let pintid: number;
    let icid: number;
    if (fwd !== undefined) {
      pintid = fwd.pintid;
      icid = fwd.icid;
      this.#forget(fwd);
    } else {
      const ex = this.#its.executor;
      ex.lookup(host.deviceId, host.eventId);
      if (!ex.ite.valid || !ex.ite.physical) {
        throw new VlpiMapError("EINVAL", `host IRQ ${host.deviceId}:${host.eventId} is not a mapped physical LPI`);
      }
      pintid = ex.ite.intid;
      icid = ex.ite.icid;
    }
    this.#run([C.GITS_CMD_DISCARD, host.deviceId, host.eventId, 0, 0, 0, 0, 0]);
    this.#run([C.GITS_CMD_VMAPTI, host.deviceId, host.eventId, map.vpeId, map.vintid, map.doorbell ?? C.INTID_SPURIOUS, 0, 0]);
    this.#vpes.setConfig(vpe, map.vintid, map.priority ?? 0xa0, map.enabled ?? true);
    this.#remember({ host: { deviceId: host.deviceId, eventId: host.eventId }, vpeId: map.vpeId, vintid: map.vintid, pintid, icid });
  }

  /**
   * its_unmap_vlpi(): turns `host` back into a physical LPI.
   * @throws VlpiMapError EINVAL when `host` is not forwarded.
   */
  unmapVlpi(host: HostIrq): void {
    const fwd = this.#byHost.get(hostKey(host));
    if (fwd === undefined) throw new VlpiMapError("EINVAL", `host IRQ ${host.deviceId}:${host.eventId} is not forwarded`);
    this.#run([C.GITS_CMD_DISCARD, host.deviceId, host.eventId, 0, 0, 0, 0, 0]);
    this.#run([C.GITS_CMD_MAPTI, host.deviceId, host.eventId, fwd.pintid, fwd.icid, 0, 0, 0]);
    this.#forget(fwd);
  }

  /** Whether `host` is currently forwarded. */
  isForwarded(host: HostIrq): boolean {
    return this.#byHost.has(hostKey(host));
  }

  /** The host interrupts forwarded to (vpeId, vintid): at most one unless the permissive profile let more in. */
  hostIrqsOf(vpeId: number, vintid: number): HostIrq[] {
    return (this.#byVlpi.get(vlpiKey(vpeId, vintid)) ?? []).map((f) => f.host);
  }

  /** Every 1:1 violation let through by the permissive profile, in order. */
  violations(): readonly SharedVlpiViolation[] {
    return this.#violations;
  }

  #run(words: readonly number[]): void {
    this.#w.set(words);
    const r = this.#its.executor.execute(this.#w);
    if (r !== CMD_OK) {
      const last = this.#its.errors().at(-1);
      throw new VlpiMapError("EINVAL", `${C.itsCommandName(words[0]!)} failed: ${last?.detail ?? "unknown error"}`);
    }
  }

  #remember(f: Forwarded): void {
    this.#byHost.set(hostKey(f.host), f);
    const k = vlpiKey(f.vpeId, f.vintid);
    const list = this.#byVlpi.get(k);
    if (list === undefined) this.#byVlpi.set(k, [f]);
    else list.push(f);
  }

  #forget(f: Forwarded): void {
    this.#byHost.delete(hostKey(f.host));
    const k = vlpiKey(f.vpeId, f.vintid);
    const list = this.#byVlpi.get(k)?.filter((x) => x !== f) ?? [];
    if (list.length === 0) this.#byVlpi.delete(k);
    else this.#byVlpi.set(k, list);
  }

  #move(f: Forwarded, vpeId: number): void {
    this.#forget(f);
    f.vpeId = vpeId;
    this.#remember(f);
  }

  /** Snapshot of the forwarding bookkeeping (ITS and vPE state have their own). */
  state(): VlpiForwardingState {
    return {
      version: 1,
      profile: this.profile,
      forwarded: [...this.#byHost.values()].map((f) => ({ ...f.host, vpeId: f.vpeId, vintid: f.vintid, pintid: f.pintid, icid: f.icid })),
      violations: this.#violations.map((v) => ({ ...v, existing: [...v.existing] })),
    };
  }

  /** Restores a snapshot into a forwarding object with the same profile. */
  loadState(s: VlpiForwardingState): void {
    if ((s.version as number) !== 1) throw new ConfigError(`VlpiForwarding state version ${String(s.version)} is not 1`);
    if (s.profile !== this.profile) throw new ConfigError(`VlpiForwarding state profile '${s.profile}' differs from '${this.profile}'`);
    this.#byHost.clear();
    this.#byVlpi.clear();
    for (const f of s.forwarded) {
      this.#remember({ host: { deviceId: f.deviceId, eventId: f.eventId }, vpeId: f.vpeId, vintid: f.vintid, pintid: f.pintid, icid: f.icid });
    }
    this.#violations.length = 0;
    this.#violations.push(...s.violations);
  }
}

function hostKey(h: HostIrq): number {
  return h.deviceId * KEY_SPAN + h.eventId;
}

function vlpiKey(vpeId: number, vintid: number): number {
  return vpeId * KEY_SPAN + vintid;
}
