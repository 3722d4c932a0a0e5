/**
 * An APLIC: its tree of interrupt domains, its wire inputs and the MSI path
 * they share.
 *
 * Spec: RISC-V AIA 1.0, riscv/riscv-aia src/AdvPLIC.adoc §4.1–§4.3 (interrupt
 * sources 1..1023, domains form a tree whose root is at machine level; a
 * supervisor-level domain's parent is machine level; a source is delegated
 * from parent to child with `sourcecfg.D`), §4.4 (hart index numbers), §4.9
 * (MSI forwarding). Cross-check: QEMU hw/intc/riscv_aplic.c
 * (riscv_aplic_create, riscv_aplic_add_child, riscv_aplic_request);
 * Linux arch/riscv/kvm/aia_aplic.c (a single MSI-mode domain).
 *
 * A wire change goes to the one domain that currently owns the source (the
 * domain reached by following D bits down from the root), cached per source.
 */

import { ConfigError, Tracer, type MmioBus } from "@irqlab/sim";
import { APLIC_MAX_HARTS, APLIC_MAX_SOURCES } from "./aplic-constants.js";
import { AplicDomain } from "./aplic-domain.js";
import type { AplicIdcState, IdcLine } from "./aplic-idc.js";
import type { AplicSourcesState } from "./aplic-source.js";
import { AplicMsi, type AplicLevel } from "./aplic-msi.js";
import { GEILEN_MAX_RV64 } from "./imsic-constants.js";
import type { MsiAddrCfg } from "./imsic-layout.js";
import { STRICT_PROFILE, type AiaProfile } from "./profiles.js";

/** Which delivery modes a domain implements (DM is WARL). */
export type AplicDeliveryModes = "direct" | "msi" | "both";

/** Snapshot of a domain. */
export interface AplicDomainState {
  readonly name: string;
  readonly ie: boolean;
  readonly dm: boolean;
  readonly sources: AplicSourcesState;
  readonly idc: AplicIdcState | null;
  readonly genmsi: number;
}

/** What a domain is built from (the tree is wired by {@link Aplic}). */
export interface AplicDomainInit {
  readonly name: string;
  readonly level: AplicLevel;
  readonly parent: AplicDomain | undefined;
  readonly nrSources: number;
  readonly wires: Uint8Array;
  readonly harts: number;
  readonly modes: AplicDeliveryModes;
  readonly iprioLen: number;
  readonly geilen: number;
  readonly msi: AplicMsi | undefined;
  readonly hasSDomains: boolean;
  readonly profile: AiaProfile;
  readonly tracer: Tracer;
  readonly onIdcLine: IdcLine | undefined;
  /** Called when source `i`'s delegation in this domain changed. */
  readonly onDelegation: (i: number) => void;
}

/** One domain of an {@link AplicConfig}. */
export interface AplicDomainConfig {
  /** Unique name, e.g. "m" or "s". */
  readonly name: string;
  /** Privilege level. The root must be "m"; an "s" domain's parent must be "m". */
  readonly level: AplicLevel;
  /** Parent's name; omitted for the root (exactly one domain). Child indices follow config order. */
  readonly parent?: string;
  /** Number of hart indices (IDC structures in direct mode), 1..16384. */
  readonly harts: number;
  /** Delivery modes implemented (default "both" with an MSI bus, else "direct"). */
  readonly deliveryModes?: AplicDeliveryModes;
  /** IPRIOLEN, 1..8 (default 8). */
  readonly iprioLen?: number;
  /** S level with the H extension: guest index range 0..GEILEN of `target` (default 0). */
  readonly geilen?: number;
  /** The external interrupt line of each hart index (direct mode). */
  readonly onIdcLine?: IdcLine;
}

/** Construction options of an {@link Aplic}. */
export interface AplicConfig {
  /** Number of interrupt sources, 1..1023. */
  readonly nrSources: number;
  /** The domains; the first without a parent is the root. */
  readonly domains: readonly AplicDomainConfig[];
  /** MSI delivery: the bus MSIs are written to and the reset MSI address configuration. */
  readonly msi?: { readonly bus: MmioBus; readonly addrCfg?: MsiAddrCfg };
  readonly profile?: AiaProfile;
  readonly tracer?: Tracer;
}

/** Plain, versioned snapshot of an APLIC. */
export interface AplicState {
  readonly version: 1;
  readonly wires: readonly number[];
  readonly msiAddrCfg: MsiAddrCfg | null;
  readonly domains: readonly AplicDomainState[];
}

/** An APLIC with its domains. Map each domain's control region with {@link Aplic.mapDomain}. */
export class Aplic {
  readonly nrSources: number;
  /** The root (machine-level) domain. */
  readonly root: AplicDomain;
  /** The MSI path, if configured. */
  readonly msi: AplicMsi | undefined;
  readonly #domains = new Map<string, AplicDomain>();
  readonly #wires: Uint8Array;
  readonly #owner: (AplicDomain | undefined)[];

  /** @throws ConfigError naming the bad value (source count, tree shape, harts, IPRIOLEN, GEILEN). */
  constructor(cfg: AplicConfig) {
    const n = cfg.nrSources;
    if (!Number.isInteger(n) || n < 1 || n > APLIC_MAX_SOURCES) {
      throw new ConfigError(`APLIC: nrSources ${n} is not within 1..${APLIC_MAX_SOURCES}`);
    }
    this.nrSources = n;
    this.#wires = new Uint8Array(n + 1);
    this.#owner = new Array<AplicDomain | undefined>(n + 1).fill(undefined);
    this.msi = cfg.msi ? new AplicMsi(cfg.msi.bus, cfg.msi.addrCfg) : undefined;
    const profile = cfg.profile ?? STRICT_PROFILE;
    const tracer = cfg.tracer ?? new Tracer();
    const roots = cfg.domains.filter((d) => d.parent === undefined);
    if (roots.length !== 1) throw new ConfigError(`APLIC: ${roots.length} root domains (domains without parent); exactly one is required`);
    const hasS = cfg.domains.some((d) => d.level === "s");
    const pending = [...cfg.domains];
    // Create parents before children, keeping config order among siblings.
    while (pending.length > 0) {
      const idx = pending.findIndex((d) => d.parent === undefined || this.#domains.has(d.parent));
      if (idx < 0) throw new ConfigError(`APLIC: domain '${pending[0]!.name}' has unknown parent '${String(pending[0]!.parent)}'`);
      const d = pending.splice(idx, 1)[0]!;
      this.#domains.set(d.name, this.#build(d, n, profile, tracer, hasS));
    }
    this.root = this.#domains.get(roots[0]!.name)!;
    for (let i = 1; i <= n; i++) this.#owner[i] = this.root;
  }

  /** The domain called `name`. @throws ConfigError if there is none. */
  domain(name: string): AplicDomain {
    const d = this.#domains.get(name);
    if (d === undefined) throw new ConfigError(`APLIC: no domain '${name}'`);
    return d;
  }

  /** All domains, parents before children. */
  domains(): readonly AplicDomain[] {
    return [...this.#domains.values()];
  }

  /** Maps domain `name`'s control region on `bus` at `base` (region named `aplic-<name>`). */
  mapDomain(bus: MmioBus, name: string, base: number): void {
    const d = this.domain(name);
    bus.map(base, d.regionSize, d, `aplic-${name}`);
  }

  /**
   * Drives the wire of source `source` (true or nonzero = high). Host API.
   * @throws ConfigError for a source outside 1..nrSources.
   */
  setWire(source: number, level: boolean | number): void {
    const w = this.#wires;
    if (!(source >= 1 && source <= this.nrSources)) throw new ConfigError(`APLIC: wire ${source} is not within 1..${this.nrSources}`);
    const v = level === false || level === 0 ? 0 : 1;
    const old = w[source]!;
    if (old === v) return;
    w[source] = v;
    this.#owner[source]!.inputChanged(source, old);
  }

  /** Current level of the wire of `source` (0 or 1). */
  wire(source: number): number {
    return this.#wires[source] ?? 0;
  }

  /** The domain that currently owns `source` (delegation followed from the root). */
  ownerOf(source: number): AplicDomain | undefined {
    return this.#owner[source];
  }

  /** A plain, versioned copy of every domain, the wires and the MSI address configuration. */
  state(): AplicState {
    return {
      version: 1,
      wires: Array.from(this.#wires),
      msiAddrCfg: this.msi?.config() ?? null,
      domains: this.domains().map((d) => d.state()),
    };
  }

  /**
   * Restores a {@link state} copy into this APLIC (same configuration), then
   * delivers what is deliverable.
   * @throws ConfigError when the snapshot does not match the configuration.
   */
  restore(st: AplicState): void {
    if ((st.version as number) !== 1) throw new ConfigError(`APLIC snapshot version ${String(st.version)} is not 1`);
    if (st.wires.length !== this.nrSources + 1) throw new ConfigError(`APLIC snapshot has ${st.wires.length - 1} sources, APLIC has ${this.nrSources}`);
    for (const ds of st.domains) if (!this.#domains.has(ds.name)) throw new ConfigError(`APLIC snapshot names unknown domain '${ds.name}'`);
    st.wires.forEach((v, i) => (this.#wires[i] = v & 1));
    if (this.msi && st.msiAddrCfg) this.msi.restoreConfig(st.msiAddrCfg);
    for (const ds of st.domains) this.domain(ds.name).restore(ds);
    for (let i = 1; i <= this.nrSources; i++) this.#owner[i] = this.root.owner(i);
    for (const d of this.#domains.values()) d.deliverAll();
  }

  #build(d: AplicDomainConfig, n: number, profile: AiaProfile, tracer: Tracer, hasS: boolean): AplicDomain {
    const bad = (what: string): never => {
      throw new ConfigError(`APLIC domain '${d.name}': ${what}`);
    };
    if (this.#domains.has(d.name)) bad("duplicate name");
    const parent = d.parent === undefined ? undefined : this.#domains.get(d.parent);
    if (parent === undefined && d.level !== "m") bad(`the root domain must be machine level, not '${d.level}'`);
    if (parent !== undefined && parent.level !== "m") bad(`parent '${parent.name}' is level '${parent.level}'; only a machine-level domain may have children`);
    if (!Number.isInteger(d.harts) || d.harts < 1 || d.harts > APLIC_MAX_HARTS) bad(`harts ${d.harts} is not within 1..${APLIC_MAX_HARTS}`);
    const iprioLen = d.iprioLen ?? 8;
    if (!Number.isInteger(iprioLen) || iprioLen < 1 || iprioLen > 8) bad(`iprioLen ${iprioLen} is not within 1..8`);
    const geilen = d.geilen ?? 0;
    if (!Number.isInteger(geilen) || geilen < 0 || geilen > GEILEN_MAX_RV64) bad(`geilen ${geilen} is not within 0..${GEILEN_MAX_RV64}`);
    if (geilen > 0 && d.level !== "s") bad(`geilen ${geilen} needs a supervisor-level domain (guest index is read-only zero at M level)`);
    const modes = d.deliveryModes ?? (this.msi ? "both" : "direct");
    if (modes !== "direct" && this.msi === undefined) bad(`deliveryModes '${modes}' needs an MSI bus (config.msi)`);
    return new AplicDomain({
      name: d.name,
      level: d.level,
      parent,
      nrSources: n,
      wires: this.#wires,
      harts: d.harts,
      modes,
      iprioLen,
      geilen,
      msi: this.msi,
      hasSDomains: hasS,
      profile,
      tracer,
      onIdcLine: d.onIdcLine,
      onDelegation: (i) => {
        this.#owner[i] = this.root.owner(i);
      },
    });
  }
}
