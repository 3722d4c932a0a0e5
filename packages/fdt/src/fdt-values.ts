/**
 * Property value encodings of the Devicetree Specification v0.4 §2.2.4.2
 * (Table 2.3 "Property values"): <u32> and <u64> big-endian, <string> as UTF-8
 * bytes ending in one NUL, <stringlist> as strings concatenated. Encoders check
 * their input and throw FdtError naming the property; they never wrap, round or
 * truncate a value silently.
 */

import { FdtError, showValue } from "./fdt-error.js";

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Throws unless `value` is an integer from 0 to 0xffffffff; returns it. `what` names it. */
export function checkU32(value: number, what: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > U32_MAX) {
    throw new FdtError(`fdt: ${what} is ${showValue(value)}, not a u32 (an integer from 0 to 0xffffffff)`);
  }
  return value;
}

/**
 * Throws unless `value` is a u64: a bigint from 0 to 2^64-1, or a number that
 * is a non-negative safe integer (a larger number has already lost bits, so it
 * is refused with a hint to pass a bigint). Returns it as a bigint.
 */
export function checkU64(value: number | bigint, what: string): bigint {
  if (typeof value === "bigint") {
    if (value >= 0n && value <= U64_MAX) return value;
    throw new FdtError(`fdt: ${what} is ${showValue(value)}, not a u64 (an integer from 0 to 2^64-1)`);
  }
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === "number" && Number.isInteger(value) && value > 0) {
    throw new FdtError(
      `fdt: ${what} is ${showValue(value)}, above 2^53-1 where a number loses bits; pass a bigint for a u64 this large`,
    );
  }
  throw new FdtError(`fdt: ${what} is ${showValue(value)}, not a u64 (an integer from 0 to 2^64-1)`);
}

/** Big-endian bytes of u32 cells, each checked; `what` names the property for errors. */
export function encodeU32Array(values: readonly number[], what: string): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setUint32(i * 4, checkU32(v, values.length === 1 ? what : `element ${i} of ${what}`));
  });
  return out;
}

/** Big-endian bytes of u64 values (two cells each, high cell first), each checked. */
export function encodeU64Array(values: readonly (number | bigint)[], what: string): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    view.setBigUint64(i * 8, checkU64(v, values.length === 1 ? what : `element ${i} of ${what}`));
  });
  return out;
}

/**
 * UTF-8 bytes of `value` without a terminator. Refuses a NUL inside (it would
 * end the string early for every reader) and a lone UTF-16 surrogate (which
 * has no UTF-8 form; TextEncoder would replace it with U+FFFD silently).
 */
export function encodeStringBody(value: string, what: string): Uint8Array {
  if (typeof value !== "string") throw new FdtError(`fdt: ${what} is ${showValue(value)}, not a string`);
  const nul = value.indexOf("\0");
  if (nul >= 0) throw new FdtError(`fdt: ${what} contains a NUL character at index ${nul}; a string ends at its NUL`);
  const bytes = utf8Encoder.encode(value);
  if (utf8Decoder.decode(bytes) !== value) {
    throw new FdtError(`fdt: ${what} is not well-formed Unicode (it has a lone surrogate)`);
  }
  return bytes;
}

/** A <stringlist>: each string's UTF-8 bytes followed by NUL, concatenated (one string is a <string>). */
export function encodeStringList(values: readonly string[], what: string): Uint8Array {
  const parts = values.map((v, i) => encodeStringBody(v, values.length === 1 ? what : `string ${i} of ${what}`));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length + 1; // the NUL is already there: a new Uint8Array is zeroed
  }
  return out;
}

/**
 * Decodes a <stringlist> value: NUL-terminated UTF-8 strings, in order. An
 * empty value is the empty list. Throws with `what` in the message when the
 * value does not end with NUL or is not UTF-8.
 */
export function decodeStringList(value: Uint8Array, what: string): string[] {
  if (value.length === 0) return [];
  if (value[value.length - 1] !== 0) throw new FdtError(`fdt: ${what} is not a string list: it does not end with NUL`);
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== 0) continue;
    out.push(decodeUtf8(value.subarray(start, i), what));
    start = i + 1;
  }
  return out;
}

/** UTF-8 bytes to a string; invalid UTF-8 is an FdtError naming `what`, not U+FFFD. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch {
    throw new FdtError(`fdt: ${what} is not valid UTF-8`);
  }
}
