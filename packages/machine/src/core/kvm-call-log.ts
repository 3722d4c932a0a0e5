/**
 * A recording of the KVM ioctls a machine issues, with the init phase each
 * was issued in — what `strace -e ioctl` shows of QEMU, so that a test can
 * compare a machine's set-up with QEMU's, call for call.
 */

import type { MachineInitPhase } from "./init-phase.js";

/** One ioctl: its name, a short rendering of its argument, and when it was issued. */
export interface KvmCall {
  readonly phase: MachineInitPhase;
  readonly ioctl: string;
  readonly arg: string;
  /** The errno name if the call failed. */
  readonly error?: string;
}

/** The ioctls issued so far, in order. */
export class KvmCallLog {
  readonly #calls: KvmCall[] = [];

  constructor(private readonly phase: () => MachineInitPhase) {}

  /** Every call so far. */
  get calls(): readonly KvmCall[] {
    return this.#calls;
  }

  /** Runs `fn`, recording it as `ioctl(arg)`; a failure is recorded with its errno and rethrown. */
  call<T>(ioctl: string, arg: string, fn: () => T): T {
    try {
      const r = fn();
      this.#calls.push({ phase: this.phase(), ioctl, arg });
      return r;
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      this.#calls.push({ phase: this.phase(), ioctl, arg, error: typeof code === "string" ? code : "?" });
      throw e;
    }
  }

  /** The calls as `IOCTL arg` lines (failures as `IOCTL arg = -ERRNO`). */
  lines(): string[] {
    return this.#calls.map((c) => `${c.ioctl} ${c.arg}${c.error === undefined ? "" : ` = -${c.error}`}`.trimEnd());
  }
}
