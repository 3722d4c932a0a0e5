/**
 * The `hello` image: boot from the device tree, print a banner with the
 * architecture, the number of CPUs and the RAM size the tree describes, then
 * "Hello from irqlab", and power off.
 *
 * arm64 under irqlab's virt board prints:
 *
 *     Machine model: linux,dummy-virt
 *     irqlab hello on aarch64: 4 CPUs, 128 MiB RAM
 *     Hello from irqlab
 *     reboot: Power down
 */

import { boot } from "../boot/boot.js";
import { putLine } from "../console/console.js";
import type { GuestImage } from "../guest-image.js";
import { powerOff } from "../power/power.js";
import { printBanner, type ImageOptions } from "./image-common.js";

/** The greeting line. */
export const HELLO_LINE = "Hello from irqlab";

/** Creates the `hello` image. */
export function helloImage(options: ImageOptions = {}): GuestImage {
  return {
    main: function* (bootRegs) {
      const sys = yield* boot(bootRegs, options);
      yield* printBanner(sys, "hello");
      yield* putLine(sys.console, HELLO_LINE);
      yield* powerOff(sys);
    },
  };
}
