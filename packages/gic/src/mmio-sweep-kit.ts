/**
 * Test kit for the every-offset sweeps (tests only; not exported from the
 * package): loads and stores of every width (1, 2, 4, 8 bytes) at every
 * offset of one register frame, aligned or not, checked against the MmioDevice
 * contract of @irqlab/sim and the "Errors" rule of DESIGN.md.
 *
 * A load returns a 32-bit unsigned number (an 8-byte load its low word, with
 * the high word in `wide.hi`, also a 32-bit unsigned number); a narrower load
 * fits its width. An access the caller calls reserved (an offset the
 * specification's register map does not define for this configuration, or a
 * width or alignment it does not allow) reads 0 and is counted as exactly one
 * guest error, loads and stores alike. Any other access is counted at most once
 * when it is a load (a load of a write-only register may count); a store may
 * count any number (it can start a table walk that faults).
 */

import { Rng, type AccessSize, type MmioDevice, type Tracer, type WideValue } from "@irqlab/sim";

/** The widths a guest can use. */
export const SWEEP_SIZES: readonly AccessSize[] = [1, 2, 4, 8];

/** One frame to sweep. */
export interface SweepFrame {
  /** Names the frame in failure messages. */
  readonly label: string;
  readonly device: MmioDevice;
  /** Offset of the frame inside the device's region. */
  readonly base: number;
  /** Bytes in the frame. */
  readonly size: number;
  /** Whether an access of `size` bytes at `off` (frame-relative) is reserved or refused. */
  reserved(off: number, size: AccessSize): boolean;
}

/** What a sweep saw. */
export interface SweepResult {
  readonly loads: number;
  readonly stores: number;
  /** Broken expectations, one line each. */
  readonly bad: string[];
}

/** Whether `v` is an unsigned integer of `bytes` bytes (at most 4: wider values come in 32-bit halves). */
function fits(v: unknown, bytes: number): boolean {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 2 ** (8 * Math.min(bytes, 4));
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Loads every offset and width of `f`, stores seeded random values at each, then loads the aligned ones again. */
export function sweepFrame(f: SweepFrame, tracer: Tracer, seed = 1): SweepResult {
  const bad: string[] = [];
  let loads = loadPass(f, tracer, bad, "load");
  const rng = new Rng(seed);
  let stores = 0;
  for (let off = 0; off < f.size; off++) {
    for (const size of SWEEP_SIZES) {
      if (off + size > f.size) continue;
      const lo = size === 8 ? rng.nextU32() : rng.nextU32() % 2 ** (8 * size);
      const hi = size === 8 ? rng.nextU32() : 0;
      const before = tracer.guestErrors;
      f.device.write(f.base + off, size, lo, hi);
      stores++;
      if (f.reserved(off, size) && tracer.guestErrors - before !== 1) {
        bad.push(`${f.label} store ${hex(off)}/${size} = ${hex(lo)}: ${tracer.guestErrors - before} guest error(s), reserved`);
      }
    }
  }
  // The registers again, with the state the random stores left (enables, priorities, bases).
  loads += loadPass(f, tracer, bad, "reload", true);
  return { loads, stores, bad };
}

function loadPass(f: SweepFrame, tracer: Tracer, bad: string[], what: string, alignedOnly = false): number {
  const wide: WideValue = { hi: 0 };
  let loads = 0;
  for (let off = 0; off < f.size; off++) {
    for (const size of SWEEP_SIZES) {
      if (off + size > f.size || (alignedOnly && off % size !== 0)) continue;
      const before = tracer.guestErrors;
      wide.hi = -1;
      const v: unknown = f.device.read(f.base + off, size, wide);
      loads++;
      const counted = tracer.guestErrors - before;
      const reserved = f.reserved(off, size);
      const width = fits(v, size) && (size !== 8 || fits(wide.hi, 4));
      const ok = width && (reserved ? v === 0 && (size !== 8 || wide.hi === 0) && counted === 1 : counted <= 1);
      if (!ok) bad.push(`${f.label} ${what} ${hex(off)}/${size}: ${String(v)}:${String(wide.hi)}, ${counted} guest error(s), ${reserved ? "reserved" : "defined"}`);
    }
  }
  return loads;
}
