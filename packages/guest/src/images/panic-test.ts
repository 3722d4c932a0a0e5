/**
 * The `panic-test` image: boot, print the banner, then panic, so that a
 * machine's handling of a guest crash can be tested. Output on riscv64:
 *
 *     Machine model: riscv-virtio,qemu
 *     irqlab panic-test on riscv64: 2 CPUs, 128 MiB RAM
 *     Kernel panic - not syncing: irqlab panic-test: deliberate panic
 *     ---[ end Kernel panic - not syncing: irqlab panic-test: deliberate panic ]---
 *
 * followed by PSCI SYSTEM_OFF (arm64) or SBI SRST shutdown with reason
 * "system failure" (riscv64); see boot/panic.ts.
 */

import { boot } from "../boot/boot.js";
import { panic } from "../boot/panic.js";
import type { GuestImage } from "../guest-image.js";
import { printBanner, type ImageOptions } from "./image-common.js";

/** The message panic-test panics with by default. */
export const PANIC_TEST_MESSAGE = "irqlab panic-test: deliberate panic";

/** Options of {@link panicTestImage}. */
export interface PanicTestOptions extends ImageOptions {
  /** The panic message (default {@link PANIC_TEST_MESSAGE}). */
  readonly message?: string;
}

/** Creates the `panic-test` image. */
export function panicTestImage(options: PanicTestOptions = {}): GuestImage {
  return {
    main: function* (bootRegs) {
      const sys = yield* boot(bootRegs, options);
      yield* printBanner(sys, "panic-test");
      yield* panic(sys, options.message ?? PANIC_TEST_MESSAGE);
    },
  };
}
