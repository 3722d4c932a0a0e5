/**
 * What the images share: their options, the banner they print after boot, a
 * wait for a word another CPU sets, and the dispatch of an image that boots
 * on both architectures.
 */

import { op } from "@irqlab/sim";
import { bootProtocol, type BootedGuest } from "../boot/boot.js";
import { halt } from "../boot/panic.js";
import { putLine } from "../console/console.js";
import type { GuestArch, GuestCode, GuestImage } from "../guest-image.js";

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

/** The pause between two polls of a word another CPU sets. */
export const WORD_POLL_STEP_NS = 1_000;
/** How long a CPU waits for another to set a word before it gives up on it. */
export const WORD_WAIT_NS = 100_000_000;

/** Polls the 32-bit word at `addr` until it is non-zero or {@link WORD_WAIT_NS} pass; returns whether it was set. */
export function* waitForWord(addr: number): GuestCode<boolean> {
  const step = op.compute(WORD_POLL_STEP_NS);
  for (let t = 0; t < WORD_WAIT_NS; t += WORD_POLL_STEP_NS) {
    if ((yield op.read(addr, 4)).value !== 0) return true;
    yield step;
  }
  return false;
}

/**
 * One image for both architectures: the boot registers say which protocol
 * the VMM used (`bootProtocol`, as `boot` reads them), and the image built
 * for that architecture runs; its vector and secondary entry are the ones of
 * that image. A kernel built for one architecture is a different binary from
 * the other's; this is the `-kernel irqlab:NAME` that picks the right one.
 */
export function perArchImage(options: ImageOptions, images: Readonly<Record<GuestArch, () => GuestImage>>): GuestImage {
  let active: GuestImage | undefined;
  return {
    main: function* (bootRegs) {
      const arch = bootProtocol(bootRegs, options.arch)?.arch ?? options.arch ?? "aarch64";
      active = images[arch]();
      return yield* active.main(bootRegs);
    },
    // The active image's entries called as its methods, as a vCPU calls an image's.
    vector: function* (cause) {
      if (active?.vector !== undefined) yield* active.vector(cause);
    },
    secondary: function* (entry, context) {
      if (active?.secondary !== undefined) yield* active.secondary(entry, context);
      else yield* halt();
    },
  };
}
