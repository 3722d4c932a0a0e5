/**
 * QEMU's number and size parsers, with the C library semantics they rest on
 * (util/cutils.c: qemu_strtoi64, qemu_strtou64, parse_uint, do_strtosz;
 * glibc strtoll/strtoull/strtod in the "C" locale), and the small predicates
 * of qapi/qapi-util.c and include/qemu/help_option.h.
 *
 * Values are BigInt: QEMU parses 64-bit integers and sizes, and the
 * command line must be refused or accepted exactly where QEMU does, also at
 * 2^53 and 2^64. Return values follow QEMU's: 0, -EINVAL or -ERANGE.
 */

/** Linux errno values QEMU's parsers return (negated). */
export const EINVAL = 22;
export const ERANGE = 34;

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;
const I64_MIN = -(1n << 63n);

/** A parse result: `ret` is 0, -EINVAL or -ERANGE (as in QEMU); `end` indexes the first unparsed character. */
export interface StrtoResult {
  readonly ret: number;
  readonly value: bigint;
  readonly end: number;
}

/** C isspace() in the "C" locale. */
function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\v" || c === "\f" || c === "\r";
}

function digitValue(c: string | undefined): number {
  if (c === undefined) return 99;
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 99;
}

/** The scanning part of glibc strtoull/strtoll: sign, base prefix, digits (magnitude unbounded). */
function scanInteger(s: string, start: number, base: number): { neg: boolean; mag: bigint; end: number; any: boolean } {
  let i = start;
  while (isSpace(s[i])) i++;
  let neg = false;
  if (s[i] === "+" || s[i] === "-") {
    neg = s[i] === "-";
    i++;
  }
  // A "0x" prefix counts only when a hex digit follows; otherwise the "0" alone is the number.
  const hexPrefix = s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && digitValue(s[i + 2]) < 16;
  if (base === 0) base = hexPrefix ? 16 : s[i] === "0" ? 8 : 10;
  if (base === 16 && hexPrefix) i += 2;
  let mag = 0n;
  let any = false;
  while (digitValue(s[i]) < base) {
    mag = mag * BigInt(base) + BigInt(digitValue(s[i]));
    any = true;
    i++;
  }
  return { neg, mag, end: any ? i : start, any };
}

/** glibc strtoull(): negative input wraps modulo 2^64; overflow gives ULLONG_MAX with ERANGE. */
export function strtoull(s: string, base: number, start = 0): { value: bigint; end: number; erange: boolean } {
  const r = scanInteger(s, start, base);
  if (r.mag > U64_MAX) return { value: U64_MAX, end: r.end, erange: true };
  return { value: r.neg ? (-r.mag) & U64_MAX : r.mag, end: r.end, erange: false };
}

/** glibc strtoll(): overflow clamps to LLONG_MIN/LLONG_MAX with ERANGE. */
function strtoll(s: string, base: number): { value: bigint; end: number; erange: boolean } {
  const r = scanInteger(s, 0, base);
  const v = r.neg ? -r.mag : r.mag;
  if (v > I64_MAX) return { value: I64_MAX, end: r.end, erange: true };
  if (v < I64_MIN) return { value: I64_MIN, end: r.end, erange: true };
  return { value: v, end: r.end, erange: false };
}

/** util/cutils.c check_strtox_error(), for callers that pass no end pointer. */
function checkStrtox(s: string, end: number, erange: boolean, wantEnd: boolean): number {
  if (!erange && end === 0) return -EINVAL;
  if (!wantEnd && end < s.length) return -EINVAL;
  return erange ? -ERANGE : 0;
}

/** qemu_strtoi64(str, NULL, base, &v): the whole string must be an int64. */
export function qemuStrtoi64(s: string, base: number): StrtoResult {
  const r = strtoll(s, base);
  return { ret: checkStrtox(s, r.end, r.erange, false), value: r.value, end: r.end };
}

/** qemu_strtou64(str, NULL, base, &v): the whole string must be a uint64 (a leading "-" wraps, as in C). */
export function qemuStrtou64(s: string, base: number): StrtoResult {
  const r = strtoull(s, base);
  return { ret: checkStrtox(s, r.end, r.erange, false), value: r.value, end: r.end };
}

/** util/cutils.c parse_uint(): like strtoull, but a negative number is -ERANGE. */
export function parseUint(s: string, base: number, wantEnd: boolean): StrtoResult {
  const r = strtoull(s, base);
  let ret = 0;
  let value = r.value;
  if (r.erange) {
    ret = -ERANGE;
  } else if (r.end === 0) {
    ret = -EINVAL;
  } else {
    let i = 0;
    while (isSpace(s[i])) i++;
    if (s[i] === "-") {
      value = 0n;
      ret = -ERANGE;
    }
  }
  if (!wantEnd && r.end < s.length) return { ret: -EINVAL, value: 0n, end: r.end };
  return { ret, value, end: r.end };
}

/** parse_uint_full(): parse_uint without trailing characters. */
export function parseUintFull(s: string, base: number): StrtoResult {
  return parseUint(s, base, false);
}

/** glibc strtod() for the plain decimal forms do_strtosz hands it (no exponent, no hex floats). */
function strtodDecimal(s: string): { value: number; end: number; erange: boolean } {
  const m = /^[ \t\n\v\f\r]*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)/.exec(s);
  if (m === null) return { value: 0, end: 0, erange: false };
  const value = Number(m[0].trim());
  // Underflow to zero or to a subnormal number sets ERANGE in glibc.
  const nonzero = /[1-9]/.test(m[0]);
  const erange = nonzero && Math.abs(value) < 2.2250738585072014e-308;
  return { value, end: m[0].length, erange };
}

/** util/cutils.c suffix_mul(). */
function suffixMul(c: string | undefined, unit: bigint): bigint {
  switch ((c ?? "").toUpperCase()) {
    case "B": return 1n;
    case "K": return unit;
    case "M": return unit ** 2n;
    case "G": return unit ** 3n;
    case "T": return unit ** 4n;
    case "P": return unit ** 5n;
    case "E": return unit ** 6n;
    default: return -1n;
  }
}

/**
 * util/cutils.c do_strtosz() with no end pointer: decimal, a "0x" hex
 * integer (no fraction, no suffix), or a decimal fraction that must come
 * out as a whole number of bytes; optional suffix B/K/M/G/T/P/E in either
 * case, powers of `unit`; `defaultSuffix` applies without one.
 */
export function doStrtosz(s: string, defaultSuffix: string, unit: bigint): StrtoResult {
  // The "out:" label: with no end pointer, anything left over makes it -EINVAL.
  const out = (ret: number, end: number, value: bigint): StrtoResult => {
    const r = end < s.length ? -EINVAL : ret;
    return { ret: r, value: r === 0 ? value : 0n, end };
  };
  const p = parseUint(s, 10, true);
  if (p.ret === -ERANGE) return out(p.ret, p.end, 0n);
  let val = p.value;
  let valf = 0n;
  let end = p.end;
  let ret = p.ret;
  if (ret === 0 && val === 0n && (s[end] === "x" || s[end] === "X")) {
    const h = strtoull(s, 16);
    ret = checkStrtox(s, h.end, h.erange, true);
    end = h.end;
    if (ret !== 0) return out(ret, end, 0n);
    val = h.value;
    // Hex takes neither a fraction nor a suffix (the end pointer goes back to the start).
    if (s[end] === "." || suffixMul(s[end], unit) > 0n) return out(-EINVAL, 0, 0n);
  } else if (s[end] === "." || (end === 0 && s.includes("."))) {
    let fraction = 0;
    if (ret === 0 && s[end] === "." && !/[0-9]/.test(s[end + 1] ?? "")) {
      end++;
    } else {
      // strtod on a copy cut at the first 'e'/'E', so exponents are not parsed.
      const copy = s.slice(end).replace(/[eE].*$/, "");
      const d = strtodDecimal(copy);
      ret = d.end === 0 ? -EINVAL : d.erange ? -ERANGE : 0;
      end += d.end;
      fraction = d.value;
      if (Object.is(fraction, -0) || fraction < 0) return out(-ERANGE, end, 0n);
    }
    if (fraction === 1.0) {
      if (val === U64_MAX) return out(-ERANGE, end, 0n);
      val++;
    } else if (ret === -ERANGE) {
      valf = 1n;
      ret = 0;
    } else {
      valf = BigInt(Math.trunc(fraction * 2 ** 64));
      if (valf === 0n && fraction > 0) valf = 1n;
    }
  }
  if (ret !== 0) return out(ret, end, 0n);
  let mul = suffixMul(s[end], unit);
  if (mul > 0n) end++;
  else mul = suffixMul(defaultSuffix, unit);
  if (mul === 1n) {
    // A fraction of a byte.
    if (valf !== 0n) return out(-EINVAL, 0, 0n);
    return out(0, end, val);
  }
  const f = valf * mul;
  const total = val * mul + (f >> 64n) + ((f & U64_MAX) >> 63n);
  if (total > U64_MAX) return out(-ERANGE, end, 0n);
  return out(0, end, total);
}

/** qemu_strtosz(): bytes by default, binary suffixes. */
export function qemuStrtosz(s: string): StrtoResult {
  return doStrtosz(s, "B", 1024n);
}

/** qapi/qapi-util.c qapi_bool_parse() without its error: on/yes/true/y, off/no/false/n. */
export function qapiBoolParse(value: string): boolean | undefined {
  if (value === "on" || value === "yes" || value === "true" || value === "y") return true;
  if (value === "off" || value === "no" || value === "false" || value === "n") return false;
  return undefined;
}

const isAlpha = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z]$/.test(c);
const isAlnum = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9]$/.test(c);

/**
 * qapi/qapi-util.c parse_qapi_name(): the length of the QAPI name at the
 * start of `s` (letters, digits, '-', '_', starting with a letter; an
 * optional "__RFQDN_" prefix), or -1.
 */
export function parseQapiName(s: string, complete: boolean): number {
  let p = 0;
  if (s[p] === "_") {
    p++;
    if (s[p] !== "_") return -1;
    for (p++; p < s.length; p++) {
      if (!isAlnum(s[p]) && s[p] !== "-" && s[p] !== ".") break;
    }
    if (s[p] !== "_") return -1;
    p++;
  }
  if (!isAlpha(s[p])) return -1;
  for (p++; p < s.length; p++) {
    if (!isAlnum(s[p]) && s[p] !== "-" && s[p] !== "_") break;
  }
  if (complete && p < s.length) return -1;
  return p;
}

/** util/id.c id_wellformed(): letters, digits, '-', '.', '_', starting with a letter. */
export function idWellformed(id: string): boolean {
  return /^[A-Za-z][A-Za-z0-9._-]*$/.test(id);
}

/** include/qemu/help_option.h is_help_option(). */
export function isHelpOption(s: string): boolean {
  return s === "?" || s === "help";
}

/** include/qemu/help_option.h starts_with_help_option(): 1 for "?", 4 for "help", else 0. */
export function startsWithHelpOption(s: string): number {
  if (s.startsWith("?")) return 1;
  if (s.startsWith("help")) return 4;
  return 0;
}
