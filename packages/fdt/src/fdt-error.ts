/**
 * The one error this package throws on purpose, and the small formatting
 * helpers its messages share.
 *
 * Every message starts with "fdt: " and names what is wrong and where: the node
 * path and property name for writer misuse and accessor mismatches, the byte
 * offset from the start of the blob for a malformed blob (the offset a hex dump
 * shows, not libfdt's structure-block-relative one). A reader that meets bad
 * input throws FdtError and nothing else: no RangeError from a DataView, no
 * loop that never ends, no half-parsed tree.
 */

// The marker every irqlab error carries (see @irqlab/sim's IrqlabError), so
// that `IrqlabError.isInstance(e)` holds for an FdtError too, although this
// package imports nothing from sim.
const IRQLAB_MARKER = Symbol.for("irqlab.error");
const FDT_MARKER = Symbol.for("irqlab.fdt.error");

/** A malformed blob, a misused FdtWriter, or a property read as the wrong type. */
export class FdtError extends Error {
  readonly [IRQLAB_MARKER] = true;
  readonly [FDT_MARKER] = true;
  /** A stable machine-readable code, like Node's `err.code`. */
  readonly code = "ERR_IRQLAB_FDT";
  /** Byte offset in the blob where parsing failed, when the error comes from parseFdt. */
  readonly offset: number | undefined;

  constructor(message: string, offset?: number) {
    super(message);
    this.name = "FdtError";
    this.offset = offset;
  }

  /** True for an FdtError, even one thrown by a second copy of this package. */
  static isInstance(e: unknown): e is FdtError {
    return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[FDT_MARKER] === true;
  }
}

/** `0x` and lowercase hex, no padding: how messages show offsets and sizes. */
export function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}

/** `0x` and eight lowercase hex digits: how messages show a 32-bit word. */
export function hex32(value: number): string {
  return `0x${value.toString(16).padStart(8, "0")}`;
}

/** A user-supplied value as it would be written in source, for "value X is not a u32". */
export function showValue(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

/** One character of a rejected name: quoted when printable ASCII, as U+XXXX otherwise. */
export function showChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  if (code >= 0x21 && code <= 0x7e) return `'${ch}'`;
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
}
