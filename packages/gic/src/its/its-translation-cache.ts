/**
 * The ITS translation cache: (DeviceID, EventID) → (redistributor, pINTID) for
 * physical LPIs, as KVM keeps since Linux 6.10 (a per-ITS xarray keyed by
 * DeviceID and EventID, unbounded; arch/arm64/kvm/vgic/vgic-its.c
 * vgic_its_cache_translation(), vgic_its_check_cache()).
 *
 * KVM invalidates it on DISCARD, MAPD, MAPC (unmap or retarget), MOVI, MOVALL,
 * ITS disable and GICR_CTLR.EnableLPIs 1 → 0 — never on INV, which only
 * changes configuration (Linux arch/arm64/kvm/vgic/vgic-its.c callers of
 * vgic_its_invalidate_cache; vgic-mmio-v3.c vgic_mmio_write_v3r_ctlr). A cached translation must never outlive
 * its ITE; {@link ItsTranslationCache.invalidateAll} is the big hammer used
 * wherever KVM calls vgic_its_invalidate_cache().
 *
 * Values pack the target as rd × 2^24 + pINTID in a per-device Float64Array
 * indexed by EventID: a hit on the last device is two compares and an array
 * load, and nothing allocates.
 * Virtual (GICv4) translations are never cached, as KVM does not cache
 * forwarded (irq->hw) LPIs.
 */

const INTID_SPAN = 2 ** 24;
const MIN_SLOTS = 32;

/** Plain snapshot of the cache statistics (entries are rebuilt, not saved). */
export interface ItsTranslationCacheStats {
  readonly entries: number;
  readonly hits: number;
  readonly misses: number;
  readonly invalidations: number;
}

/**
 * (DeviceID, EventID) → (RD, pINTID) cache: one Float64Array per DeviceID,
 * indexed by EventID (−1 = empty), grown by doubling to the largest EventID
 * cached, behind a one-entry memo of the last DeviceID looked up.
 */
export class ItsTranslationCache {
  readonly #devices = new Map<number, Float64Array>();
  #lastDevice = -1;
  #lastSlots: Float64Array | undefined;
  #entries = 0;
  /** Lookups that hit. */
  hits = 0;
  /** Lookups that missed. */
  misses = 0;
  /** Calls to an invalidation method. */
  invalidations = 0;

  /** Packed (rd × 2^24 + intid) of a cached translation, or −1; counted as a hit or a miss. */
  lookup(deviceId: number, eventId: number): number {
    const v = this.peek(deviceId, eventId);
    if (v >= 0) this.hits++;
    else this.misses++;
    return v;
  }

  /**
   * {@link lookup} without counting a hit or a miss: for an INT command, which
   * KVM executes by walking its tables (vgic_its_cmd_handle_int → find_ite)
   * and which finds there exactly what a cached translation says.
   */
  peek(deviceId: number, eventId: number): number {
    let slots = this.#lastSlots;
    if (deviceId !== this.#lastDevice) {
      slots = this.#devices.get(deviceId);
      if (slots === undefined) return -1;
      this.#lastDevice = deviceId;
      this.#lastSlots = slots;
    }
    return slots !== undefined && eventId < slots.length ? slots[eventId]! : -1;
  }

  /** Records a successful physical translation. */
  insert(deviceId: number, eventId: number, rd: number, intid: number): void {
    let slots = this.#devices.get(deviceId);
    if (slots === undefined || eventId >= slots.length) {
      let n = slots?.length ?? MIN_SLOTS;
      while (n <= eventId) n *= 2;
      const grown = new Float64Array(n).fill(-1);
      if (slots !== undefined) grown.set(slots);
      slots = grown;
      this.#devices.set(deviceId, slots);
      if (deviceId === this.#lastDevice) this.#lastSlots = slots;
    }
    if (slots[eventId]! < 0) this.#entries++;
    slots[eventId] = rd * INTID_SPAN + intid;
  }

  /** Drops every entry (vgic_its_invalidate_cache()). */
  invalidateAll(): void {
    this.invalidations++;
    this.#devices.clear();
    this.#lastDevice = -1;
    this.#lastSlots = undefined;
    this.#entries = 0;
  }

  /** Drops the entries whose target is `rd` (GICR_CTLR.EnableLPIs 1 → 0). */
  invalidateRedistributor(rd: number): void {
    this.invalidations++;
    for (const slots of this.#devices.values()) {
      for (let i = 0; i < slots.length; i++) {
        const v = slots[i]!;
        if (v >= 0 && cachedRd(v) === rd) {
          slots[i] = -1;
          this.#entries--;
        }
      }
    }
  }

  /** Number of cached translations. */
  get size(): number {
    return this.#entries;
  }

  /** Statistics, for reports. */
  stats(): ItsTranslationCacheStats {
    return { entries: this.#entries, hits: this.hits, misses: this.misses, invalidations: this.invalidations };
  }
}

/** Redistributor of a packed cache value. */
export function cachedRd(packed: number): number {
  return Math.floor(packed / INTID_SPAN);
}

/** pINTID of a packed cache value. */
export function cachedIntid(packed: number): number {
  return packed % INTID_SPAN;
}
