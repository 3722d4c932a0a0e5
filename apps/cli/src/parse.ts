/**
 * Parsers for command-line values. Each throws commander's
 * InvalidArgumentError with a message that names what was expected, so the
 * CLI can print one line and exit 2.
 */
import { InvalidArgumentError } from "commander";

const UNITS: Record<string, number> = { ns: 1, us: 1_000, ms: 1_000_000, s: 1_000_000_000 };

/** A duration such as `500ns`, `20us`, `1.5ms`, `2s`, or a plain number of nanoseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|ms|s)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError("expected a duration such as 500ns, 20us, 1.5ms or 2s.");
  const ns = Math.round(Number(m[1]) * UNITS[m[2] ?? "ns"]!);
  if (ns <= 0 || !Number.isSafeInteger(ns)) throw new InvalidArgumentError("expected a positive duration below 104 days.");
  return ns;
}

/** A seed: a non-negative integer. */
export function parseSeed(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError("expected a non-negative integer.");
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("expected an integer below 2^53.");
  return n;
}
