/**
 * What a guest's boot adds to the device tree of either virt board: the
 * random seeds QEMU puts in /chosen, `-append` and `-initrd`
 * (hw/arm/boot.c arm_load_dtb, hw/arm/virt.c create_randomness;
 * hw/riscv/boot.c riscv_load_kernel, hw/riscv/virt.c create_fdt).
 */

/** What the guest's boot adds to the tree; all optional. */
export interface VirtFdtOptions {
  /**
   * Source of the seed bytes QEMU puts in /chosen (arm: `kaslr-seed`, 8 bytes,
   * and `rng-seed`, 32 bytes, with dtb-randomness=on, the default; riscv:
   * `rng-seed`, always). QEMU draws them from qemu_guest_getrandom(); irqlab
   * must stay deterministic, so without a source the properties are left out,
   * and with one (say, bytes from the machine's seeded Rng) they are written
   * as QEMU writes them.
   */
  readonly randomBytes?: (length: number) => Uint8Array;
  /** `-append`: /chosen/bootargs. */
  readonly bootargs?: string;
  /** `-initrd` placement: /chosen/linux,initrd-start and linux,initrd-end. */
  readonly initrd?: { readonly start: number; readonly end: number };
}
