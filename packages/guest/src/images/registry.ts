/**
 * The images a command line can name as `-kernel irqlab:NAME`.
 */

import type { GuestArch, GuestImage } from "../guest-image.js";
import { helloImage } from "./hello.js";
import { panicTestImage } from "./panic-test.js";
import { smpHelloImage } from "./smp-hello.js";

/** One entry of {@link guestImages}. */
export interface GuestImageEntry {
  /** One line for `-kernel help` style listings. */
  description: string;
  /** The architectures the image boots on. */
  arch: GuestArch[];
  /** A fresh image (each VM needs its own: images keep per-boot state). */
  create(): GuestImage;
}

/** The bootable images by name. */
export const guestImages: Record<string, GuestImageEntry> = Object.freeze({
  hello: {
    description: 'boot from the device tree, print the architecture, CPU count and RAM size and "Hello from irqlab", power off',
    arch: ["aarch64", "riscv64"],
    create: () => helloImage(),
  },
  "smp-hello": {
    description: "bring every CPU of /cpus online (PSCI CPU_ON / SBI HSM hart_start), each prints under a spinlock in guest RAM, power off",
    arch: ["aarch64", "riscv64"],
    create: () => smpHelloImage(),
  },
  "panic-test": {
    description: 'boot, then panic: print "Kernel panic - not syncing: ..." and power off (SBI reason "system failure" on riscv64)',
    arch: ["aarch64", "riscv64"],
    create: () => panicTestImage(),
  },
});

/** The prefix of an image name on a command line. */
export const GUEST_IMAGE_PREFIX = "irqlab:";

/** The outcome of {@link lookupGuestImage}. */
export type GuestImageLookup =
  | { readonly ok: true; readonly name: string; readonly entry: GuestImageEntry }
  | { readonly ok: false; readonly message: string };

/**
 * Finds the image a `-kernel` value names: "irqlab:NAME" (or a bare NAME),
 * optionally for one architecture. The failure message names the bad part
 * and lists what exists.
 */
export function lookupGuestImage(spec: string, arch?: GuestArch): GuestImageLookup {
  const name = spec.startsWith(GUEST_IMAGE_PREFIX) ? spec.slice(GUEST_IMAGE_PREFIX.length) : spec;
  const known = Object.keys(guestImages).sort();
  const entry = Object.hasOwn(guestImages, name) ? guestImages[name] : undefined;
  if (entry === undefined) {
    return { ok: false, message: `unknown guest image '${name}' (known: ${known.map((k) => GUEST_IMAGE_PREFIX + k).join(", ")})` };
  }
  if (arch !== undefined && !entry.arch.includes(arch)) {
    return { ok: false, message: `guest image '${name}' does not boot on ${arch} (it boots on ${entry.arch.join(", ")})` };
  }
  return { ok: true, name, entry };
}
