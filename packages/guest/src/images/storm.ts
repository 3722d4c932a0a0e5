/**
 * The `storm` image: every MSI-X vector of every `x-irqlab-msix-test`
 * function fires, round after round, and the guest counts each interrupt
 * per CPU. It exercises the whole MSI path at volume: PCI enumeration, the
 * messages of the architecture's MSI controller, the vectors spread over
 * the CPUs (vector v of a function on CPU v mod N), MSI-X set up as Linux
 * does and every entry unmasked. It prints, e.g. with `-smp 2` and two
 * 8-vector functions:
 *
 *     storm: 2 functions, 16 vectors, 4 rounds: 64 MSIs
 *     storm: 64 interrupts taken (CPU0 32, CPU1 32), 0 missing, in 173 us
 *
 * then powers off. The common part is in storm-common.ts; the MSI
 * controller is the ITS on arm64 (storm-its.ts) and the IMSIC on riscv64
 * (storm-imsic.ts).
 */

import type { GuestImage } from "../guest-image.js";
import { perArchImage, type ImageOptions } from "./image-common.js";
import { stormImsicImage } from "./storm-imsic.js";
import { stormItsImage } from "./storm-its.js";

export { MSIX_TEST_DEVICE, MSIX_TEST_DOORBELL, MSIX_TEST_VENDOR, STORM_ROUND_POLLS, STORM_ROUNDS } from "./storm-common.js";

/** Creates the `storm` image (the architecture comes from the boot registers, or `options.arch`). */
export function stormImage(options: ImageOptions = {}): GuestImage {
  return perArchImage(options, { aarch64: () => stormItsImage(), riscv64: () => stormImsicImage() });
}
