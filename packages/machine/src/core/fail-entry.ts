/**
 * What a VMM does with KVM_EXIT_FAIL_ENTRY.
 *
 * Stock QEMU has no case for it: kvm_cpu_exec hands it to
 * kvm_arch_handle_exit, which on arm64 and RISC-V logs "un-handled exit
 * reason" and returns -1, so the VM stops in RUN_STATE_INTERNAL_ERROR.
 *
 * The patch of the VS-file exhaustion thread (seed 000, never merged) adds
 * a RISC-V case: when the entry failed with hardware_entry_failure_reason
 * CSR_HSTATUS (0x600, what KVM reported for a missing VS-file before
 * KVM_EXIT_FAIL_ENTRY_NO_VSFILE), pin the vCPU thread to host CPU
 * (cpu + 1) % N with sched_setaffinity and re-enter. With the newer reason
 * code (NO_VSFILE = 1) the patch no longer recognises the exit.
 */

import { RISCV_FAIL_ENTRY_REASON_CSR_HSTATUS, type FailEntryExit } from "@irqlab/kvm";

/** The host CPU the seed's pin-next handler pins to, or -1 when it does not handle the exit. */
export function pinNextHostCpu(exit: FailEntryExit, hostCpus: number): number {
  if (exit.hardwareEntryFailureReason !== RISCV_FAIL_ENTRY_REASON_CSR_HSTATUS) return -1;
  return (exit.cpu + 1) % hostCpus;
}
