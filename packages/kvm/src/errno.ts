/**
 * The errors KVM ioctls fail with. Each ioctl method throws a {@link KvmError}
 * in Node's convention: `code` is the errno name (`'EBUSY'`), `errno` its
 * negative number (-16), `syscall` is `'ioctl'` and `ioctl` names the call
 * (`'KVM_CREATE_VCPU'`). Numbers are Linux's (include/uapi/asm-generic/
 * errno-base.h and errno.h).
 */

import { IrqlabError } from "@irqlab/sim";

/** Linux errno numbers used by the KVM API (positive, as in the headers). */
export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
  EHWPOISON: 133,
} as const;

/** An errno name this package can fail with. */
export type ErrnoName = keyof typeof ERRNO;

/** A failed ioctl: `code` is the errno name, `errno` the negative errno. */
export class KvmError extends IrqlabError {
  /** Negative errno, as Node reports it (`-16` for EBUSY). */
  readonly errno: number;
  /** Always `'ioctl'`. */
  readonly syscall = "ioctl";
  /** The ioctl that failed, e.g. `'KVM_CREATE_VCPU'`. */
  readonly ioctl: string;

  constructor(code: ErrnoName, ioctl: string, detail: string) {
    super(code, `${ioctl} failed with ${code}: ${detail}`);
    this.errno = -ERRNO[code];
    this.ioctl = ioctl;
  }
}

/** Throws a {@link KvmError}; used as `fail('EINVAL', 'KVM_RUN', 'why')`. */
export function fail(code: ErrnoName, ioctl: string, detail: string): never {
  throw new KvmError(code, ioctl, detail);
}
