/**
 * A loop of stores of one value — a memset of the data CPUs share, or one
 * value into each register of a bank (GICD_IPRIORITYR, GICD_IROUTER) — as
 * one strided repeat.
 */

import { op } from "@irqlab/sim";
import type { GuestCode } from "./guest-image.js";

/**
 * `count` 32-bit stores of `value` at `addr`, `addr + stride`, ...: executed
 * as that loop of yields would be — the same costs, exits, interrupts taken
 * between two stores, and trace (sim's RepeatOp) — without resuming the guest
 * program between stores. Nothing for a count of 0.
 */
export function* storeWords(addr: number, count: number, value: number, stride = 4): GuestCode {
  if (count > 0) yield op.repeat(count, op.write(addr, 4, value), stride);
}

/**
 * `count` 64-bit stores of `lo` (bits 31:0) and `hi` (bits 63:32) at `addr`,
 * `addr + stride`, ...: as {@link storeWords}, for a bank of 8-byte registers.
 */
export function* storeDoublewords(addr: number, count: number, lo: number, hi: number, stride = 8): GuestCode {
  if (count > 0) yield op.repeat(count, op.write(addr, 8, lo, hi), stride);
}
