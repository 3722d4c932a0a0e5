/**
 * QMP values as QEMU holds them (include/qobject/: QNull, QBool, QNum,
 * QString, QList, QDict) and their JSON text exactly as QEMU writes it
 * (qobject/json-writer.c, compact form).
 *
 * A JSON integer is a `bigint` (QNUM_I64/QNUM_U64), any other number a
 * `number` (QNUM_DOUBLE), so that the input visitor can tell `1` from `1.0`
 * as QEMU does. {@link QDict} keeps QEMU's member order: qobject/qdict.c
 * hashes a key with tdb_hash() into one of QDICT_BUCKET_MAX (512) buckets
 * and inserts at the head of the bucket's list; qdict_first()/qdict_next()
 * walk the buckets in order. That order is the order of members in every
 * QMP message QEMU sends (hence `{"micro": 0, "minor": 1, "major": 11}`)
 * and the order in which qmp_dispatch_check_obj() looks at a request.
 */

/** A value received from a client: what the JSON parser produces. */
export type QObject = null | boolean | bigint | number | string | QObject[] | QDict;

/**
 * A value a command returns: a QObject, or a plain object whose members are
 * written in QEMU's QDict order (members that are `undefined` are absent,
 * as an optional QAPI member that is not set). A `number` that is an
 * integer is written as an integer. Elements and members are QmpValues too
 * (typed `unknown` so that the type is not recursive).
 */
export type QmpValue = null | boolean | bigint | number | string | readonly unknown[] | QDict | Readonly<Record<string, unknown>>;

/** qdict.h QDICT_BUCKET_MAX. */
const QDICT_BUCKET_MAX = 512;
const encoder = new TextEncoder();
const bucketCache = new Map<string, number>();

/** tdb_hash(key) % QDICT_BUCKET_MAX (qobject/qdict.c), over the key's UTF-8 bytes. */
export function qdictBucket(key: string): number {
  let b = bucketCache.get(key);
  if (b !== undefined) return b;
  const bytes = encoder.encode(key);
  let value = Math.imul(0x238f13af, bytes.length) >>> 0;
  for (let i = 0; i < bytes.length; i++) value = (value + ((bytes[i]! << ((i * 5) % 24)) >>> 0)) >>> 0;
  const hash = (Math.imul(1103515243, value) + 12345) >>> 0;
  b = hash % QDICT_BUCKET_MAX;
  if (bucketCache.size < 4096) bucketCache.set(key, b);
  return b;
}

/** Keys inserted in `keys` order, in the order qdict_first()/qdict_next() visit them. */
export function qdictOrder(keys: readonly string[]): string[] {
  // Stable sort by bucket; within a bucket the last inserted comes first (QLIST_INSERT_HEAD).
  return keys
    .map((k, i) => ({ k, i, b: qdictBucket(k) }))
    .sort((x, y) => x.b - y.b || y.i - x.i)
    .map((e) => e.k);
}

/** A QDict: string keys, QObject values, iterated in QEMU's order. */
export class QDict {
  readonly #map = new Map<string, QObject>();

  /** qdict_put_obj(): a new key is inserted; an existing key keeps its place and gets the new value. */
  set(key: string, value: QObject): this {
    this.#map.set(key, value);
    return this;
  }
  /** qdict_get(): the value, or undefined when absent. */
  get(key: string): QObject | undefined {
    return this.#map.get(key);
  }
  /** qdict_haskey(). */
  has(key: string): boolean {
    return this.#map.has(key);
  }
  /** qdict_del(). */
  delete(key: string): boolean {
    return this.#map.delete(key);
  }
  /** qdict_size(). */
  get size(): number {
    return this.#map.size;
  }
  /** The keys in QEMU's iteration order (qdict_first / qdict_next). */
  keys(): string[] {
    return qdictOrder([...this.#map.keys()]);
  }
  /** [key, value] pairs in QEMU's iteration order. */
  entries(): [string, QObject][] {
    return this.keys().map((k) => [k, this.#map.get(k)!]);
  }
  /** A plain object (members in insertion order), integers as bigint. */
  toObject(): Record<string, QObject> {
    return Object.fromEntries(this.#map);
  }
}

/** A JS value as a QObject: plain objects become QDicts, integral numbers stay numbers. */
export function isQDict(v: unknown): v is QDict {
  return v instanceof QDict;
}

/** The QObject type name qobject_type() would report, for messages. */
export function qtypeOf(v: QObject): "null" | "bool" | "int" | "number" | "string" | "list" | "dict" {
  if (v === null) return "null";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "bigint") return "int";
  if (typeof v === "number") return "number";
  if (typeof v === "string") return "string";
  if (Array.isArray(v)) return "list";
  return "dict";
}

/** printf("%.17g", d), as qnum_to_string() formats a QNUM_DOUBLE. */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return "nan";
  if (!Number.isFinite(d)) return d > 0 ? "inf" : "-inf";
  if (d === 0) return Object.is(d, -0) ? "-0" : "0";
  const [mant, expText] = d.toExponential(16).split("e") as [string, string];
  const exp = Number(expText);
  const strip = (s: string): string => (s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s);
  if (exp < -4 || exp >= 17) return `${strip(mant)}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  return strip(d.toFixed(16 - exp));
}

/** quoted_str() of json-writer.c: `"`, `\`, \b \f \n \r \t escaped; other code points below 0x20 or from 0x7F on as \uXXXX (upper-case hex, surrogate pairs above the BMP). */
export function quoteString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    switch (cp) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += "\\\\";
        break;
      case 0x08:
        out += "\\b";
        break;
      case 0x0c:
        out += "\\f";
        break;
      case 0x0a:
        out += "\\n";
        break;
      case 0x0d:
        out += "\\r";
        break;
      case 0x09:
        out += "\\t";
        break;
      default:
        if (cp > 0xffff) out += `\\u${hex4(0xd800 + ((cp - 0x10000) >> 10))}\\u${hex4(0xdc00 + ((cp - 0x10000) & 0x3ff))}`;
        else if (cp < 0x20 || cp >= 0x7f) out += `\\u${hex4(cp)}`;
        else out += ch;
    }
  }
  return out + '"';
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, "0");
}

/**
 * qobject_to_json() / qobject_to_json_pretty(): QEMU's JSON text of a
 * value. Compact: ", " and ": " separators. Pretty (json-writer.c
 * pretty_newline): every member or element on its own line indented by 4
 * per level, the closing bracket on a line of its own — so an empty object
 * is "{", newline, "}".
 */
export function toQmpJson(v: QmpValue, pretty = false): string {
  return write(v, pretty, 0);
}

function container(open: string, close: string, items: string[], pretty: boolean, depth: number): string {
  if (!pretty) return `${open}${items.join(", ")}${close}`;
  const inner = `\n${" ".repeat((depth + 1) * 4)}`;
  return `${open}${items.map((x) => inner + x).join(",")}\n${" ".repeat(depth * 4)}${close}`;
}

function write(v: QmpValue, pretty: boolean, depth: number): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? BigInt(v).toString() : formatDouble(v);
    case "string":
      return quoteString(v);
    case "object":
    case "undefined":
    case "function":
    case "symbol":
      break;
  }
  if (Array.isArray(v)) return container("[", "]", (v as readonly QmpValue[]).map((x) => write(x, pretty, depth + 1)), pretty, depth);
  if (v instanceof QDict) return container("{", "}", v.entries().map(([k, x]) => `${quoteString(k)}: ${write(x, pretty, depth + 1)}`), pretty, depth);
  const obj = v as Readonly<Record<string, QmpValue | undefined>>;
  const keys = qdictOrder(Object.keys(obj).filter((k) => obj[k] !== undefined));
  return container("{", "}", keys.map((k) => `${quoteString(k)}: ${write(obj[k]!, pretty, depth + 1)}`), pretty, depth);
}

/** A QObject as plain JavaScript (QDicts as objects, integers as numbers when exact, else bigint). */
export function qobjectToJs(v: QObject): unknown {
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) return v.map(qobjectToJs);
  if (v instanceof QDict) return Object.fromEntries([...v.entries()].map(([k, x]) => [k, qobjectToJs(x)]));
  return v;
}

/** Plain JavaScript as a QObject (integral numbers become integers). */
export function jsToQObject(v: unknown): QObject {
  if (v === null || v === undefined) return null;
  if (typeof v === "boolean" || typeof v === "string" || typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(jsToQObject);
  if (v instanceof QDict) return v;
  const d = new QDict();
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) d.set(k, jsToQObject(x));
  return d;
}
