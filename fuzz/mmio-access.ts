/**
 * Random guest loads and stores on one MMIO register frame, and the invariants
 * every device model owes them (DESIGN.md, "Errors"): no exception, a load
 * returns an unsigned integer of the access width (an 8-byte load also a
 * 32-bit high word), and a misaligned access is counted as a guest error
 * (every GIC and AIA register is naturally aligned: IHI 0069H §12.1.3,
 * AdvPLIC.adoc §4.5, IMSIC.adoc §3.2).
 */

import type { AccessSize, MmioDevice, Rng, Tracer, WideValue } from "@irqlab/sim";
import { check, fitsWidth } from "./target.js";

/** One load (w = 0) or store (w = 1); `hi` is the high word of an 8-byte store. */
export interface MmioOp {
  readonly w: 0 | 1;
  readonly off: number;
  readonly size: AccessSize;
  readonly lo: number;
  readonly hi: number;
}

const SIZES: readonly AccessSize[] = [1, 2, 4, 8];

/**
 * A value biased to what breaks decoders: 0, all ones, single bits, small
 * numbers, and uniform words.
 */
export function drawWord(rng: Rng): number {
  switch (rng.int(0, 5)) {
    case 0:
      return 0;
    case 1:
      return 0xffff_ffff;
    case 2:
      return (1 << rng.int(0, 31)) >>> 0;
    case 3:
      return rng.int(0, 1100);
    default:
      return rng.nextU32();
  }
}

/**
 * An access inside a frame of `frameSize` bytes: at an interesting offset
 * (a register, a reserved hole, an edge) with a small skew, or anywhere; mostly
 * naturally aligned, sometimes not. Never crosses the end of the frame (the
 * bus only hands a device accesses wholly inside its region).
 */
export function drawAccess(rng: Rng, frameSize: number, interesting: readonly number[]): MmioOp {
  const size = rng.pick(SIZES);
  let off: number;
  const r = rng.int(0, 9);
  if (r < 6 && interesting.length > 0) off = rng.pick(interesting) + (rng.chance(0.8) ? 0 : rng.int(-8, 8));
  else if (r < 8) off = rng.int(0, 0x1000);
  else off = rng.int(0, frameSize - 1);
  if (rng.chance(0.85)) off -= off % size;
  off = Math.max(0, Math.min(off, frameSize - size));
  return { w: rng.chance(0.5) ? 1 : 0, off, size, lo: drawWord(rng), hi: drawWord(rng) };
}

const wide: WideValue = { hi: 0 };

/**
 * Performs `o` on `dev` (at `base` inside the device's region) and checks the
 * invariants. `exempt(off, size)` names accesses a model legitimately accepts
 * unaligned or 2 bytes wide (GITS_TRANSLATER takes 16-bit MSIs).
 */
export function checkedAccess(
  dev: MmioDevice,
  tracer: Tracer,
  base: number,
  o: MmioOp,
  what: string,
  exempt?: (off: number, size: AccessSize) => boolean,
): number {
  const before = tracer.guestErrors;
  let v = 0;
  if (o.w === 1) dev.write(base + o.off, o.size, o.size === 8 ? o.lo : o.lo & mask(o.size), o.size === 8 ? o.hi : 0);
  else {
    wide.hi = -1;
    v = dev.read(base + o.off, o.size, wide);
    check(fitsWidth(v, o.size), "read-width", () => `${what}: ${o.size}-byte read at 0x${o.off.toString(16)} returned ${String(v)}`);
    if (o.size === 8) {
      check(fitsWidth(wide.hi, 4), "read-width", () => `${what}: 8-byte read at 0x${o.off.toString(16)} left high word ${String(wide.hi)}`);
    }
  }
  const bad = o.off % o.size !== 0 || o.size === 2;
  if (bad && !(exempt?.(o.off, o.size) ?? false)) {
    check(
      tracer.guestErrors > before,
      "uncounted-bad-access",
      () => `${what}: ${o.size}-byte ${o.w ? "write" : "read"} at 0x${o.off.toString(16)} was not counted as a guest error`,
    );
  }
  return v;
}

function mask(size: AccessSize): number {
  return size === 4 ? 0xffff_ffff : size === 2 ? 0xffff : 0xff;
}
