/**
 * The two growing blocks FdtWriter fills before it lays out the blob: the
 * structure block as raw big-endian bytes (ByteSink), and the strings block
 * of property names (StringsBlock, Devicetree Specification v0.4 §5.5: names
 * as NUL-terminated strings, concatenated, referred to by byte offset from
 * FDT_PROP).
 *
 * De-duplication follows libfdt's `fdt_find_add_string_()` (fdt_sw.c, with
 * `fdt_find_string_len_()` in fdt.c) and dtc's `stringtable_insert()`: a name is
 * looked up as "name\0" anywhere in the block, so it reuses an earlier equal
 * name *or the tail of a longer one* ("cells" is found inside "#address-cells"),
 * and the first such position wins. Only a name found nowhere is appended.
 * Unlike libfdt's sequential writer, which grows the table downwards from the
 * end of its buffer, names are appended in order of first use, as dtc lays them
 * out; either order is valid, and this one makes the block easy to read.
 */

/** A growing strings block with libfdt's find-or-add de-duplication. */
export class StringsBlock {
  // The block as a JavaScript string with one char per byte. Names reaching
  // here are checked ASCII, so the two are the same bytes, and indexOf is the
  // byte search fdt_find_string_len_() does.
  #table = "";
  // Offsets already handed out, so that repeated names skip the search.
  readonly #known = new Map<string, number>();

  /** Offset of `name` in the block, appending "name\0" only if no "name\0" is there yet. */
  offsetOf(name: string): number {
    const known = this.#known.get(name);
    if (known !== undefined) return known;
    let offset = this.#table.indexOf(`${name}\0`);
    if (offset < 0) {
      offset = this.#table.length;
      this.#table += `${name}\0`;
    }
    this.#known.set(name, offset);
    return offset;
  }

  /** Size of the block in bytes (`size_dt_strings`). */
  get size(): number {
    return this.#table.length;
  }

  /** Copies the block into `out` at `at`. */
  writeTo(out: Uint8Array, at: number): void {
    for (let i = 0; i < this.#table.length; i++) out[at + i] = this.#table.charCodeAt(i);
  }
}

/**
 * Appends big-endian words, bytes and zero padding to a buffer that grows as
 * needed (doubling, so writing a large tree stays linear in its size).
 */
export class ByteSink {
  #buf = new Uint8Array(256);
  #view = new DataView(this.#buf.buffer);
  #length = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Appends one byte. */
  u8(value: number): void {
    this.#reserve(1);
    this.#buf[this.#length++] = value;
  }

  /** Appends a big-endian 32-bit word. */
  u32(value: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value);
    this.#length += 4;
  }

  /** Appends bytes. */
  bytes(value: Uint8Array): void {
    this.#reserve(value.length);
    this.#buf.set(value, this.#length);
    this.#length += value.length;
  }

  /** Appends a string whose characters are all below 0x80 (names, already checked), one byte each. */
  ascii(value: string): void {
    this.#reserve(value.length);
    for (let i = 0; i < value.length; i++) this.#buf[this.#length++] = value.charCodeAt(i);
  }

  /** Appends zero bytes up to the next multiple of 4, where the next token must start. */
  align4(): void {
    const pad = (4 - (this.#length % 4)) % 4;
    this.#reserve(pad);
    this.#length += pad; // the buffer is zeroed beyond length, so padding is 0 as §5.4.1 asks
  }

  /** The bytes written so far (a view, not a copy). */
  view(): Uint8Array {
    return this.#buf.subarray(0, this.#length);
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}
