/**
 * The `idle` image: CPUs that idle the way Linux's idle loop does
 * (default_idle_call → arch_cpu_idle: interrupts off, WFI, interrupts on),
 * the console UART's interrupt waking the boot CPU while a line goes out by
 * interrupt-driven transmission, and IPIs waking the other CPUs; every CPU's
 * counts are printed, then the machine powers off. The common part is in
 * idle-common.ts; the interrupt controllers and UART drivers are the
 * architecture's: GICv3 and PL011 on arm64 (idle-arm.ts), APLIC, IMSIC and
 * NS16550A on riscv64 (idle-riscv.ts).
 */

import type { GuestImage } from "../guest-image.js";
import { idleArmImage } from "./idle-arm.js";
import { idleRiscvImage } from "./idle-riscv.js";
import { perArchImage, type ImageOptions } from "./image-common.js";

export { IDLE_TX_LINE } from "./idle-common.js";

/** Creates the `idle` image (the architecture comes from the boot registers, or `options.arch`). */
export function idleImage(options: ImageOptions = {}): GuestImage {
  return perArchImage(options, { aarch64: () => idleArmImage(), riscv64: () => idleRiscvImage(options) });
}
