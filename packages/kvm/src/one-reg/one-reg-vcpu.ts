import type { ErrnoName } from "../errno.js";

/**
 * What a register bank sees of its vCPU. Each architecture's bank extends
 * what it needs through this interface rather than reaching into the vCPU's
 * fields.
 */
export interface OneRegVcpu {
  /** Throws KvmError with Linux's errno, naming the VM. */
  fail(code: ErrnoName, ioctl: string, detail: string): never;
}
