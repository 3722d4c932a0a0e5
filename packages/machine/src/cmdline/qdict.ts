/**
 * The QObject values keyval parsing produces (qobject/qdict.c, qlist.c):
 * strings, dictionaries and lists.
 *
 * A QDict iterates in QEMU's order, not insertion order: 512 hash buckets
 * (QDICT_BUCKET_MAX), the tdb_hash of the key's bytes picks the bucket, a new
 * key goes to the head of its bucket's list, and qdict_first/qdict_next walk
 * the buckets in index order. The order is visible to users: QEMU sets
 * machine properties in it (object_set_properties_from_qdict), so when two
 * properties are wrong it is the first in this order that QEMU reports.
 *
 * A second order lives here too: the GHashTable of unvisited keys that the
 * QObject input visitor builds per struct (qapi/qobject-input-visitor.c
 * qobject_input_push) and that qobject_input_check_struct reports the first
 * unexpected key of. {@link GHashKeyOrder} reproduces glib 2.74's table
 * (g_str_hash, index = hash * 11 % prime, quadratic probing, tombstones,
 * in-place resize).
 */

/** A keyval value: a string leaf, a dictionary or a list. */
export type QObject = string | QDict | QList;

const QDICT_BUCKET_MAX = 512;

/** qobject/qdict.c tdb_hash() over the key's UTF-8 bytes, as a uint32. */
export function tdbHash(name: string): number {
  const bytes = new TextEncoder().encode(name);
  let value = Math.imul(0x238f13af, bytes.length) >>> 0;
  for (const [i, b] of bytes.entries()) {
    value = (value + ((b << ((i * 5) % 24)) >>> 0)) >>> 0;
  }
  return (Math.imul(1103515243, value) + 12345) >>> 0;
}

interface Entry {
  readonly key: string;
  value: QObject;
}

/** A QEMU QDict: string keys, QObject values, QEMU's iteration order. */
export class QDict {
  readonly #buckets = new Map<number, Entry[]>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  #find(key: string): Entry | undefined {
    return this.#buckets.get(tdbHash(key) % QDICT_BUCKET_MAX)?.find((e) => e.key === key);
  }

  /** qdict_put_obj(): replaces the value in place, or inserts at the head of the bucket. */
  put(key: string, value: QObject): void {
    const found = this.#find(key);
    if (found !== undefined) {
      found.value = value;
      return;
    }
    const bucket = tdbHash(key) % QDICT_BUCKET_MAX;
    const list = this.#buckets.get(bucket) ?? [];
    list.unshift({ key, value });
    this.#buckets.set(bucket, list);
    this.#size++;
  }

  get(key: string): QObject | undefined {
    return this.#find(key)?.value;
  }

  has(key: string): boolean {
    return this.#find(key) !== undefined;
  }

  /** qdict_get_try_str(): the value if it is a string. */
  getStr(key: string): string | undefined {
    const v = this.get(key);
    return typeof v === "string" ? v : undefined;
  }

  delete(key: string): void {
    const bucket = tdbHash(key) % QDICT_BUCKET_MAX;
    const list = this.#buckets.get(bucket);
    const i = list?.findIndex((e) => e.key === key) ?? -1;
    if (list !== undefined && i >= 0) {
      list.splice(i, 1);
      this.#size--;
    }
  }

  /** The entries in qdict_first/qdict_next order (a snapshot). */
  entries(): [string, QObject][] {
    const out: [string, QObject][] = [];
    for (const bucket of [...this.#buckets.keys()].sort((a, b) => a - b)) {
      for (const e of this.#buckets.get(bucket) ?? []) out.push([e.key, e.value]);
    }
    return out;
  }

  keys(): string[] {
    return this.entries().map(([k]) => k);
  }
}

/** A QEMU QList. */
export class QList {
  readonly items: QObject[];

  constructor(items: QObject[] = []) {
    this.items = items;
  }
}

/** The QObject type name, for type comparisons (qobject_type). */
export function qtype(v: QObject): "string" | "dict" | "list" {
  return typeof v === "string" ? "string" : v instanceof QDict ? "dict" : "list";
}

/** glib g_str_hash(): djb2 over the bytes as signed char. */
function gStrHash(s: string): number {
  let h = 5381;
  for (const b of new TextEncoder().encode(s)) {
    h = (Math.imul(h, 33) + (b >= 128 ? b - 256 : b)) >>> 0;
  }
  return h;
}

/** glib's prime_mod[] for table shifts 0..; the index is (hash * 11) % mod. */
const PRIME_MOD = [1, 2, 3, 7, 13, 31, 61, 127, 251, 509, 1021, 2039, 4093];
const UNUSED = 0;
const TOMBSTONE = 1;

/**
 * The iteration order of a glib 2.74 GHashTable of string keys: insert the
 * keys, remove the visited ones, read {@link GHashKeyOrder.keys}.
 */
export class GHashKeyOrder {
  #shift = 3;
  #hashes: number[] = new Array<number>(8).fill(UNUSED);
  #keys: (string | undefined)[] = new Array<string | undefined>(8).fill(undefined);
  #nnodes = 0;
  #noccupied = 0;

  #index(hash: number): number {
    // guint arithmetic: the product wraps at 2^32 before the modulo.
    return (Math.imul(hash, 11) >>> 0) % (PRIME_MOD[this.#shift] ?? 1);
  }

  #lookup(key: string, hash: number): number {
    const mask = (1 << this.#shift) - 1;
    let i = this.#index(hash);
    let step = 0;
    let tomb = -1;
    while (this.#hashes[i] !== UNUSED) {
      if (this.#hashes[i] === hash && this.#keys[i] === key) return i;
      if (this.#hashes[i] === TOMBSTONE && tomb < 0) tomb = i;
      step++;
      i = (i + step) & mask;
    }
    return tomb >= 0 ? tomb : i;
  }

  insert(key: string): void {
    const raw = gStrHash(key);
    const hash = raw < 2 ? 2 : raw;
    const i = this.#lookup(key, hash);
    if (this.#keys[i] === key) return;
    const wasUnused = this.#hashes[i] === UNUSED;
    this.#hashes[i] = hash;
    this.#keys[i] = key;
    this.#nnodes++;
    if (wasUnused) {
      this.#noccupied++;
      this.#maybeResize();
    }
  }

  remove(key: string): void {
    const raw = gStrHash(key);
    const hash = raw < 2 ? 2 : raw;
    const i = this.#lookup(key, hash);
    if (this.#keys[i] !== key) return;
    this.#hashes[i] = TOMBSTONE;
    this.#keys[i] = undefined;
    this.#nnodes--;
    this.#maybeResize();
  }

  /** Keys in g_hash_table_iter_next order. */
  keys(): string[] {
    return this.#keys.filter((k, i): k is string => k !== undefined && (this.#hashes[i] ?? 0) >= 2);
  }

  #maybeResize(): void {
    const size = 1 << this.#shift;
    if ((size > this.#nnodes * 4 && size > 8) || size <= this.#noccupied + Math.trunc(this.#noccupied / 16)) {
      this.#resize();
    }
  }

  /** g_hash_table_resize(): new shift from nnodes * 1.333, then the in-place relocation of resize_map. */
  #resize(): void {
    const oldSize = 1 << this.#shift;
    let n = Math.trunc(this.#nnodes * 1.333);
    let shift = 0;
    while (n) {
      n >>= 1;
      shift++;
    }
    this.#shift = Math.max(shift, 3);
    const size = 1 << this.#shift;
    const mask = size - 1;
    const len = Math.max(size, oldSize);
    while (this.#hashes.length < len) {
      this.#hashes.push(UNUSED);
      this.#keys.push(undefined);
    }
    const placed = new Set<number>();
    for (let i = 0; i < oldSize; i++) {
      let hash = this.#hashes[i] ?? UNUSED;
      let key = this.#keys[i];
      if (hash < 2) {
        this.#hashes[i] = UNUSED;
        this.#keys[i] = undefined;
        continue;
      }
      if (placed.has(i)) continue;
      this.#hashes[i] = UNUSED;
      this.#keys[i] = undefined;
      for (;;) {
        let j = this.#index(hash);
        let step = 0;
        while (placed.has(j)) {
          step++;
          j = (j + step) & mask;
        }
        placed.add(j);
        const evictedHash = this.#hashes[j] ?? UNUSED;
        const evictedKey = this.#keys[j];
        this.#hashes[j] = hash;
        this.#keys[j] = key;
        if (evictedHash < 2) break;
        hash = evictedHash;
        key = evictedKey;
      }
    }
    this.#hashes.length = size;
    this.#keys.length = size;
    this.#noccupied = this.#nnodes;
  }
}
