/**
 * What a guest image is, as the vCPU that runs it sees it (DESIGN.md, "Guest
 * execution"): a boot program, an optional interrupt vector and an optional
 * secondary entry, each a generator of guest operations.
 *
 * The type is declared here, structurally identical to the one the KVM layer
 * runs, because guest code never imports @irqlab/kvm (DESIGN.md, layering).
 */

import { loopForm, type GuestOp, type GuestProgram, type GuestResult } from "@irqlab/sim";

/** The architectures irqlab guests run on, named as QEMU names its system emulators. */
export type GuestArch = "aarch64" | "riscv64";

/**
 * A bootable guest image. A vCPU calls its entries as methods of the image:
 * an instance of a class can be one.
 */
export interface GuestImage {
  /**
   * The boot program, started on the boot CPU with the registers the VMM set
   * (arm64 Linux boot protocol: x0 = device tree address, x1..x3 = 0;
   * RISC-V: a0 = hart id, a1 = device tree address).
   */
  readonly main: (bootRegs: readonly number[]) => GuestProgram;
  /** The interrupt vector, entered with the cause when an interrupt is taken. */
  readonly vector?: (cause: number) => GuestProgram;
  /**
   * The secondary entry: a CPU started by PSCI CPU_ON (x0 = context) or SBI
   * HSM hart_start (a0 = hart id, a1 = opaque = context) begins here.
   */
  readonly secondary?: (entry: number, context: number) => GuestProgram;
}

/**
 * A piece of guest code that returns a `T`: a generator of guest operations,
 * run with `yield*` from a GuestProgram.
 */
export type GuestCode<T = void> = Generator<GuestOp, T, GuestResult>;

/**
 * `image` with every repeat, sequence and poll its programs yield executed
 * as the loop of yields it stands for (sim's loopForm): the same guest for
 * an executor that runs one op at a time, and the reference its fast form
 * is compared against.
 */
export function loopFormImage(image: GuestImage): GuestImage {
  const { vector, secondary } = image;
  // Each entry called as a method of `image`, as a vCPU calls it.
  return {
    main: (bootRegs) => loopForm(image.main(bootRegs)),
    ...(vector !== undefined ? { vector: (cause: number) => loopForm(vector.call(image, cause)) } : {}),
    ...(secondary !== undefined ? { secondary: (entry: number, context: number) => loopForm(secondary.call(image, entry, context)) } : {}),
  };
}
