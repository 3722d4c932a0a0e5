/**
 * The cost model: how many virtual nanoseconds each guest operation and each
 * hypervisor path costs. One table of defaults, each entry citing the
 * published measurement it comes from (see DEFAULT_COSTS), overridable
 * per VM (`kvm.createVm(type, { costs: { ... } })`).
 *
 * Anchor: kvm-unit-tests arm/micro-bench.c on an Ampere Altra (Linux
 * v6.12-rc1), reported by R. R. Ananta in the thread "[PATCH v2] KVM: arm64:
 * Get rid of userspace_irqchip_in_use" (kvm list, 29 Oct 2024): hvc 306 ns,
 * mmio_read_user 1683 ns, mmio_read_vgic 451 ns, eoi 14 ns, ipi 1926 ns,
 * lpi 2179 ns, timer_10ms 902 ns. RISC-V KVM has no published per-exit
 * figures: its defaults are the arm64 ones, "assumed equal until
 * measured".
 *
 * A path's cost is charged once, when the path is taken: an exit to the VMM
 * is charged in full (exit, VMM round trip and re-entry, as mmio_read_user
 * measures it) before KVM_RUN returns; the VMM's own work is the VMM's time.
 */

import { ConfigError } from "@irqlab/sim";

/** Virtual nanoseconds per operation and path. */
export interface CostModel {
  /**
   * A hypercall handled in the kernel (HVC/SMC: PSCI, SMCCC; RISC-V ecall:
   * SBI BASE/TIME/IPI/HSM/RFENCE), guest → EL2 → guest. micro-bench `hvc`
   * (hyp_call), Altra: 306 ns.
   */
  readonly hypercall: number;
  /**
   * An MMIO access emulated by an in-kernel device (vgic, APLIC/IMSIC
   * emulation) on the kernel MMIO bus. micro-bench `mmio_read_vgic`, Altra: 451 ns.
   */
  readonly mmioInKernel: number;
  /**
   * An exit to the VMM and re-entry (KVM_EXIT_MMIO answered by the VMM).
   * micro-bench `mmio_read_user`, Altra: 1683 ns. Also charged for the other
   * exits to userspace (SBI, CSR, HYPERCALL, SYSTEM_EVENT, FAIL_ENTRY): no separate
   * figure is published for them.
   */
  readonly exitToUserspace: number;
  /**
   * A system register / CSR access that does not trap (GICv3 ICC_* with
   * system-register interface, VS-level CSRs). micro-bench `eoi`
   * (ICC_EOIR1_EL1 write of INTID 1023), Altra: 14 ns. Also the Generic
   * Timer's EL0 registers on the VHE host the figures come from: CNTV_* and
   * CNTP_* go to the hardware, as KVM maps both EL1 timers directly there
   * (arch/arm64/kvm/arch_timer.c get_timer_map: direct_vtimer, direct_ptimer)
   * and timer_set_traps() sets no trap while the VM's physical counter offset
   * is 0; CNTVCT_EL0/CNTPCT_EL0 reads likewise. A non-zero
   * KVM_ARM_SET_COUNTER_OFFSET on a host without FEAT_ECV (the Altra's
   * Neoverse N1) makes CNTP_* and CNTPCT_EL0 trap: `sysregTrap`. (On an nVHE
   * host the ptimer is emulated and CNTP_* would always trap.) RISC-V `time`
   * and, with Sstc, `vstimecmp` do not trap either.
   */
  readonly sysregNoTrap: number;
  /**
   * A system register / CSR access that traps and is emulated in the kernel.
   * No separate figure; assumed equal to `hvc` (a minimal trap handled at EL2).
   */
  readonly sysregTrap: number;
  /**
   * A world switch alone (entering the guest after KVM_RUN, or after a wake-up):
   * assumed equal to `hvc`, the minimal guest → EL2 → guest round trip.
   */
  readonly worldSwitch: number;
  /**
   * Taking a virtual interrupt: injection (list register / hvip), entry to the
   * guest's vector. Derived: micro-bench `ipi` (1926 ns) minus the sender's
   * trapped ICC_SGI1R_EL1 write (≈ hvc, 306 ns) = 1620 ns.
   */
  readonly interruptInjection: number;
  /**
   * A virtual IPI end to end (sender trap, injection, kick, receiver entry).
   * micro-bench `ipi`, Altra: 1926 ns.
   */
  readonly ipi: number;
  /**
   * A running vCPU's own EL1 timer firing with an in-kernel vgic, to its
   * vector: the host's timer interrupt takes the vCPU out on its own CPU
   * (kvm_arch_timer_handler → kvm_timer_update_irq → the vgic), the PPI goes
   * in a list register and the vCPU re-enters to take it — no kick from
   * another CPU, which `interruptInjection` (derived from `ipi`) includes.
   * Charged instead of `worldSwitch` + `interruptInjection` on that path.
   * Derived: micro-bench `timer_10ms` (timer_exec spins on `irq_received`
   * until the handler sets it), Altra: 902 ns from the expiry to the
   * counter read that ends the iteration, less what micro-bench.c's
   * gic_irq_handler and loop do on the way at this model's costs — IAR,
   * EOIR, CNTV_CTL_EL0 and the CNTPCT_EL0 read (4 × `sysregNoTrap`, 56 ns),
   * the two flag writes, irq_ready and the poll (4 × `instruction`) — 902 −
   * 60 = 842 ns.
   */
  readonly timerInterrupt: number;
  /**
   * Wake-up of a vCPU blocked in WFI (kick, reschedule, re-entry), before it
   * takes the interrupt that woke it (`interruptInjection`). No published
   * figure for this path: assumed equal to micro-bench `timer_10ms`'s 902 ns
   * (Altra), the nearest measured one, though that test spins rather than
   * waiting in WFI (its own path is `timerInterrupt`).
   */
  readonly wakeup: number;
  /**
   * One iteration of halt polling (kvm_vcpu_check_block in the poll loop).
   * Assumed: the cost of one non-trapping check, set equal to `eoi` (14 ns).
   */
  readonly haltPollCheck: number;
  /** A guest load/store to RAM or a PSTATE/sstatus mask change: no trap. Assumed 1 ns. */
  readonly instruction: number;
}

/** The default table (arm64 Ampere Altra anchors; RISC-V assumed equal). */
export const DEFAULT_COSTS: CostModel = Object.freeze({
  hypercall: 306,
  mmioInKernel: 451,
  exitToUserspace: 1683,
  sysregNoTrap: 14,
  sysregTrap: 306,
  worldSwitch: 306,
  interruptInjection: 1620,
  ipi: 1926,
  timerInterrupt: 842,
  wakeup: 902,
  haltPollCheck: 14,
  instruction: 1,
});

/** Builds a cost model from the defaults and overrides; each value must be a non-negative integer. */
export function makeCostModel(overrides: Partial<CostModel> = {}): CostModel {
  const model: Record<string, number> = { ...DEFAULT_COSTS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!(key in DEFAULT_COSTS)) {
      throw new ConfigError(`unknown cost '${key}'; known costs: ${Object.keys(DEFAULT_COSTS).join(", ")}`);
    }
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
      throw new ConfigError(`cost '${key}' must be a non-negative integer number of ns, got ${String(value)}`);
    }
    model[key] = value;
  }
  return Object.freeze(model) as unknown as CostModel;
}
