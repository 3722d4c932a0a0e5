import { KvmError } from "../src/errno.js";

/**
 * The errno name a KVM call fails with (KvmError.code), or undefined when it
 * succeeds; anything else it throws is rethrown.
 */
export function errnoOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof KvmError) return e.code;
    throw e;
  }
}
