/**
 * Guest-to-host calls of Linux's selftests (tools/testing/selftests/kvm/lib/ucall_common.c,
 * lib/arm64/ucall.c) as the ported selftests make them: GUEST_SYNC, GUEST_DONE
 * and a failed GUEST_ASSERT are 8-byte stores to the ucall address, which no
 * device claims, so the vCPU exits with KVM_EXIT_MMIO there (ucall_arch_do_ucall).
 * The assertion text travels in a host object instead of a guest page.
 */
import { op, type GuestOp, type GuestResult } from "@irqlab/sim";

/** A guest code generator returning T. */
export type Guest<T = void> = Generator<GuestOp, T, GuestResult>;

/** The MMIO address ucalls store to. */
export const UCALL_ADDR = 0x2000_0000;
/** include/ucall_common.h: the calls the host tells apart. */
export const UCALL_SYNC = 0x5c;
export const UCALL_DONE = 0xd0e;
export const UCALL_ABORT = 0xab0;

/** Where failed GUEST_ASSERTs are recorded. */
export interface GuestAsserts {
  readonly failures: string[];
}

/** GUEST_ASSERT: the failure is recorded and the host sees UCALL_ABORT. */
export function* guestAssert(t: GuestAsserts, ok: boolean, what: string): Guest {
  if (ok) return;
  t.failures.push(what);
  yield op.write(UCALL_ADDR, 8, UCALL_ABORT, 0);
}

/** GUEST_SYNC or GUEST_DONE. */
export function* ucall(what: typeof UCALL_SYNC | typeof UCALL_DONE): Guest {
  yield op.write(UCALL_ADDR, 8, what, 0);
}
