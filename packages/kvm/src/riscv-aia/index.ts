/**
 * Barrel of the RISC-V in-kernel AIA (KVM_DEV_TYPE_RISCV_AIA) and VS-file handling.
 * Filled by issues 6 and 7.
 */
export {};
