/** Shared test helpers: parse a blob the way boot() does, without running a guest. */

import { expect } from "vitest";
import { checkFdt, parsePlatformInfo, type GuestArch, type PlatformInfo, type PlatformParseResult } from "../src/index.js";

/** parsePlatformInfo of `blob` as if it lay at `address` and CPU `bootHwid` booted. */
export function parseBlob(blob: Uint8Array, arch: GuestArch, bootHwid = 0, address = 0x4000_0000): PlatformParseResult {
  const loaded = checkFdt(blob, address);
  if (!loaded.ok) throw new Error(loaded.message);
  return parsePlatformInfo(loaded.fdt, arch, { fdt: { base: address, size: blob.length }, bootHwid });
}

/** The PlatformInfo of `blob`; fails the test with the panic message if there is none. */
export function platformOf(blob: Uint8Array, arch: GuestArch, bootHwid = 0, address = 0x4000_0000): PlatformInfo {
  const r = parseBlob(blob, arch, bootHwid, address);
  if (!r.ok) expect.fail(`expected a platform, got the panic "${r.message}"`);
  return r.platform;
}

/** The panic message parsing `blob` gives; fails the test if it parses. */
export function panicOf(blob: Uint8Array, arch: GuestArch, bootHwid = 0): string {
  const r = parseBlob(blob, arch, bootHwid);
  if (r.ok) expect.fail("expected a panic, the tree parsed");
  return r.message;
}
