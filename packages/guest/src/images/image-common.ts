/**
 * What the images share: their options and the banner they print after boot.
 */

import type { BootedGuest } from "../boot/boot.js";
import { putLine } from "../console/console.js";
import type { GuestArch, GuestCode } from "../guest-image.js";

/** Options every image factory takes. */
export interface ImageOptions {
  /** Boot with this architecture's protocol instead of telling it from the boot registers. */
  readonly arch?: GuestArch;
}

/** A byte count the way a person reads it: "128 MiB", "1 GiB", "1536 KiB". */
export function formatSize(bytes: number): string {
  const KiB = 1024;
  const MiB = KiB * 1024;
  const GiB = MiB * 1024;
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB) return `${Math.floor(bytes / KiB)} KiB`;
  return `${bytes} B`;
}

/** "4 CPUs", "1 CPU". */
export function cpuCount(n: number): string {
  return `${n} CPU${n === 1 ? "" : "s"}`;
}

/** The banner line of image `name`: architecture, CPUs and RAM as the device tree gives them. */
export function bannerLine(sys: BootedGuest, name: string): string {
  return `irqlab ${name} on ${sys.arch}: ${cpuCount(sys.platform.cpus.length)}, ${formatSize(sys.platform.memorySize)} RAM`;
}

/** Prints "Machine model: …" (when the tree has a model, as Linux's setup_machine_fdt does) and the banner line. */
export function* printBanner(sys: BootedGuest, name: string): GuestCode {
  if (sys.platform.model !== undefined) yield* putLine(sys.console, `Machine model: ${sys.platform.model}`);
  yield* putLine(sys.console, bannerLine(sys, name));
}
