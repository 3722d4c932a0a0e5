/**
 * The seam between a vCPU and the CPU side of its interrupt controller.
 *
 * KVM's run loop asks the interrupt controller a few things about each vCPU:
 * is an interrupt pending that would be signalled (kvm_vgic_vcpu_pending_irq,
 * kvm_riscv_vcpu_has_interrupts), what must be done before entering the
 * guest (kvm_vgic_flush_hwstate, kvm_riscv_vcpu_aia_update — which can fail
 * entry with KVM_EXIT_FAIL_ENTRY_NO_VSFILE), which system registers / CSRs
 * it owns (ICC_* through ICH_*, AIA's siselect/sireg/stopei), and what to do
 * when the vCPU blocks (GICv4 doorbell, HGEIE). Injection goes the other way:
 * the controller tells the vCPU that an interrupt may be pending, which the
 * vCPU turns into KVM_REQ_IRQ_PENDING plus a kick.
 *
 * {@link VcpuIrqChip} is that seam; the vgic (@irqlab/gic) and AIA
 * (@irqlab/aia) plug in through it. {@link BasicIrqChip} is the built-in
 * implementation: Linux's `irq_lines` — the level lines a VMM drives with
 * KVM_IRQ_LINE (arm64 IRQ/FIQ: HCR_EL2.VI/VF) or KVM_INTERRUPT (RISC-V VSEIP),
 * plus RISC-V's software and timer lines — and {@link FlushedIrqSource}, a
 * device output whose level reaches the controller only at guest entry, as the
 * vPMU's overflow does (kvm_pmu_update_state from kvm_pmu_flush_hwstate).
 */

import type { CsrOp, WideValue } from "@irqlab/sim";
import { CSR_SIE, CSR_SIP, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER } from "./uapi/sbi.js";

/** handlesSysReg/handlesCsr: not this controller's register. */
export const REG_NOT_HANDLED = 0;
/** handlesSysReg/handlesCsr: handled without a trap (hardware-backed, e.g. ICC_* via ICH_*). */
export const REG_DIRECT = 1;
/** handlesSysReg/handlesCsr: traps and is emulated in the kernel. */
export const REG_TRAP = 2;
/**
 * What {@link VcpuIrqChip.csr} returns instead of the old value when KVM cannot
 * emulate a trapped CSR access in the kernel (KVM_INSN_EXIT_TO_USER_SPACE,
 * arch/riscv/kvm/vcpu_insn.c csr_insn): the vCPU exits with KVM_EXIT_RISCV_CSR.
 */
export const CSR_EXIT_TO_USER = -1;

/** What a vCPU offers its interrupt controller. */
export interface IrqChipVcpu {
  /** The vCPU id. */
  readonly vcpuId: number;
  /** The host CPU the vCPU last ran on, or -1. */
  readonly hostCpu: number;
  /**
   * An interrupt may have become pending: the vCPU makes KVM_REQ_IRQ_PENDING
   * and kicks itself (kvm_make_request + kvm_vcpu_kick).
   */
  irqPending(): void;
  /**
   * A level line was lowered. Under the "irq-lines" runnable policy this is
   * KVM_REQ_IRQ_PENDING + kick, as Linux's vcpu_interrupt_line() does for any
   * change; under "irq-pending-request" it is a KVM_REQUEST_NO_WAKEUP request.
   */
  irqLowered(): void;
  /**
   * Hardware signalled an interrupt to the running vCPU without KVM (a GICv4.1
   * vLPI made pending on its resident vPE): the guest sees it at its next
   * instruction boundary, with no request, no kick and no world switch.
   */
  irqSignalled?(): void;
  /**
   * An in-kernel source private to the vCPU (the PMU's overflow) raised its
   * output: as {@link irqPending}, and in a trace the raise where the flow
   * to the taken interrupt starts.
   */
  irqRaisedBy?(source: string, line: number): void;
  /**
   * kvm_vcpu_kick() without a request: a blocked vCPU re-checks whether it may
   * run, one in guest mode exits (RISC-V hgei_interrupt, kvm_riscv_aia_disable).
   */
  kvmVcpuKick?(): void;
  /**
   * Loads, one after another without waiting, the cache lines of the vCPU's
   * state that taking an interrupt and the KVM_RUN after it read (see
   * VcpuCore.prefetch). Returns a number of no meaning that the caller keeps,
   * so that the compiler cannot drop the loads.
   */
  prefetch?(): number;
}

/** The CPU side of a vCPU's interrupt controller. */
export interface VcpuIrqChip {
  /** Short name for traces ("basic", "vgic-v3", "aia-imsic"). */
  readonly name: string;
  /** True for an in-kernel irqchip (vgic, AIA); false for Linux's userspace-irqchip mode. */
  readonly inKernel: boolean;
  /** Called once when the chip is given to a vCPU. */
  attach(vcpu: IrqChipVcpu): void;
  /**
   * An interrupt is pending and enabled and would be signalled to the vCPU,
   * regardless of the guest's own mask (PSTATE.I / sstatus.SIE): what WFI and
   * kvm_arch_vcpu_runnable() look at.
   */
  hasPendingIrq(): boolean;
  /**
   * The exception the vCPU takes for the pending interrupt: arm64 0 = IRQ,
   * 1 = FIQ; RISC-V the interrupt cause (scause without the interrupt bit).
   */
  pendingCause(): number;
  /**
   * Before entering the guest on `hostCpu` (flush_hwstate; RISC-V VS-file
   * update). Returns 0, or a KVM_EXIT_FAIL_ENTRY hardware reason to refuse entry.
   */
  flush(hostCpu: number): number;
  /** Sets a level input line (KVM_IRQ_LINE to a CPU line, KVM_INTERRUPT). */
  setIrqLine(line: number, level: boolean): void;
  /** Whether `reg` (Linux sys_reg encoding) is this controller's: REG_NOT_HANDLED, REG_DIRECT or REG_TRAP. */
  handlesSysReg(reg: number): number;
  /** MRS of an owned register: its low word, and its high word into `wide.hi` (0 for a 32-bit register). */
  readSysReg(reg: number, wide: WideValue): number;
  /** MSR of an owned register. */
  writeSysReg(reg: number, value: number, hi: number): void;
  /**
   * Whether an MRS (`write` false) or MSR of `value` to the owned register
   * `reg` changes nothing but, at most, the guest-error count: the same
   * access again, with nothing else happening between, has the same result.
   * The run loop then lets a repeat of it pass in bulk. Absent: never.
   */
  quietSysReg?(reg: number, write: boolean, value: number): boolean;
  /** Whether CSR `csr` is this controller's: REG_NOT_HANDLED, REG_DIRECT or REG_TRAP. */
  handlesCsr(csr: number): number;
  /**
   * A CSR instruction on an owned CSR; returns the old value (its high word
   * into `wide.hi`, 0 where it has none), or {@link CSR_EXIT_TO_USER} for a
   * trapped access KVM leaves to the VMM.
   */
  csr(op: CsrOp["op"], csr: number, value: number, hi: number, wide: WideValue): number;
  /**
   * Trace only: the flow (Tracer.beginCause id) of the raise behind the
   * interrupt the vCPU takes now — its highest pending one — when the
   * interrupt was latched pending by that raise and signalled later (an SPI
   * enabled after it was raised). Forgets it; 0 when none was recorded.
   */
  takeFlow?(): number;
  /** The vCPU is about to block in WFI (kvm_arch_vcpu_blocking). */
  blocking?(): void;
  /** The vCPU stopped blocking (kvm_arch_vcpu_unblocking). */
  unblocking?(): void;
}

/**
 * The VM-wide side of an in-kernel interrupt controller (the vgic, the AIA
 * device), as KVM's core calls it. Installed with `vm.installIrqChip()` by
 * the device model when it is created; from then on every vCPU's CPU side
 * comes from it.
 */
export interface VmIrqChip {
  /** Short name for traces and messages. */
  readonly name: string;
  /** The CPU side for vCPU `vcpuId` (existing vCPUs when installed, new ones at KVM_CREATE_VCPU). */
  vcpuIrqChip(vcpuId: number): VcpuIrqChip;
  /**
   * kvm_arch_vcpu_precreate(): throw a KvmError to refuse KVM_CREATE_VCPU
   * (arm64: EBUSY once the vgic is initialised, EINVAL beyond its vCPU limit).
   */
  vcpuPrecreate?(vcpuId: number): void;
  /**
   * KVM_IRQ_LINE for an in-kernel line: arm64 SPI (irqType 1) / PPI (2) with
   * the vCPU index; RISC-V irqType 0, vcpuIndex 0, irqId = the APLIC source
   * (kvm_riscv_aia_inject_irq). Throw a KvmError as the device would (EBUSY
   * before init, EINVAL for a bad number). `owner` is the in-kernel device
   * driving the line (arm64 kvm_vgic_inject_irq's owner: VgicV3's timerOwner),
   * absent for userspace's KVM_IRQ_LINE.
   */
  irqLine?(irqType: number, vcpuIndex: number, irqId: number, level: boolean, owner?: number): void;
  /** The VM's first KVM_RUN (kvm_arch_vcpu_run_pid_change: map resources); throw to fail it. */
  firstRun?(): void;

  // ---- What irqfd, GSI routing, KVM_SIGNAL_MSI and irq bypass need (kvm_arch_* hooks) ----

  /** kvm_arch_intc_initialized(): until true, KVM_IRQFD fails with EAGAIN (arm64: vgic_initialized()). Absent means true. */
  intcInitialized?(): boolean;
  /** KVM_IRQCHIP_NUM_PINS of the architecture, for KVM_SET_GSI_ROUTING validation (arm64 988, RISC-V 1024). */
  readonly irqchipNumPins?: number;
  /**
   * kvm_set_irq() on an IRQCHIP route: arm64 vgic_irqfd_set_irq (pin p is SPI p + 32), RISC-V
   * kvm_riscv_set_irq (pin = APLIC source). Throw a KvmError as the device would.
   */
  setIrqchipPin?(irqchip: number, pin: number, level: boolean): void;
  /**
   * kvm_set_msi() / KVM_SIGNAL_MSI: returns 1 when delivered, 0 when the guest blocked it (unmapped
   * DeviceID/EventID); throws a KvmError for ENODEV (no ITS), EINVAL, EBUSY as Linux does.
   */
  injectMsi?(msi: KvmMsi): number;
  /**
   * Gives the chip the VM's ack notifier: the chip calls `ack(irqchip, pin)` when the guest
   * completes a level interrupt of that pin (kvm_notify_acked_irq), which resamplefd follows.
   */
  setAckNotifier?(ack: (irqchip: number, pin: number) => void): void;
  /**
   * kvm_arch_irq_bypass_add_producer → forwarding of host IRQ `hostIrq` for an MSI route (GICv4.1:
   * map the host LPI onto the vLPI). Return silently when the route cannot be forwarded, as
   * vgic-v4 does; throw a KvmError to refuse.
   */
  setForwarding?(hostIrq: number, route: KvmMsi): void;
  /** kvm_arch_irq_bypass_del_producer, a routing change, or VM reset: stop forwarding `hostIrq`. */
  unsetForwarding?(hostIrq: number): void;
}

/** An MSI as struct kvm_msi and KVM_IRQ_ROUTING_MSI entries carry it. */
export interface KvmMsi {
  readonly addressLo: number;
  readonly addressHi: number;
  readonly data: number;
  /** KVM_MSI_VALID_DEVID (1) when `devid` is meaningful. */
  readonly flags: number;
  readonly devid: number;
}

/**
 * A device output (the vPMU overflow, a timer) whose level the interrupt
 * controller sees only when the vCPU enters the guest. `raise()` latches the
 * level and kicks the vCPU with KVM_REQ_IRQ_PENDING, as kvm_pmu_perf_overflow()
 * does; the next flush copies the level onto the controller's line.
 */
export class FlushedIrqSource {
  #level = false;
  #chip: BasicIrqChip | undefined;

  constructor(
    /** Name for traces ("pmu"). */
    readonly name: string,
    /** The controller line the level is copied to at flush. */
    readonly line: number,
  ) {}

  /** The latched output level. */
  get level(): boolean {
    return this.#level;
  }

  /** Raises the output and kicks the vCPU (KVM_REQ_IRQ_PENDING). */
  raise(): void {
    if (this.#level) return;
    this.#level = true;
    this.#chip?.sourceChanged(this);
  }

  /** Lowers the output; the controller line follows at the next flush. */
  lower(): void {
    this.#level = false;
  }

  /** @internal Connects the source to its controller. */
  connect(chip: BasicIrqChip): void {
    this.#chip = chip;
  }
}

/** Architecture of a {@link BasicIrqChip}. */
export type IrqChipArch = "arm64" | "riscv64";

/**
 * Linux's irq_lines: level lines without an in-kernel interrupt controller.
 * arm64: line 0 = IRQ (HCR_EL2.VI), line 1 = FIQ (HCR_EL2.VF), always enabled.
 * RISC-V: lines are interrupt causes (1 software, 5 timer, 9 external: the
 * guest's view of hvip VSSIP/VSTIP/VSEIP), enabled by the guest's `sie`; the
 * chip owns `sie` and `sip` (VS-mode accesses do not trap). Pending = some
 * line asserted and enabled.
 */
export class BasicIrqChip implements VcpuIrqChip {
  readonly name = "basic";
  readonly inKernel = false;
  #lines = 0;
  #sie = 0;
  #vcpu: IrqChipVcpu | undefined;
  readonly #sources: FlushedIrqSource[] = [];

  constructor(readonly arch: IrqChipArch) {}

  /** The asserted lines, one bit per line number. */
  get lines(): number {
    return this.#lines;
  }

  attach(vcpu: IrqChipVcpu): void {
    this.#vcpu = vcpu;
  }

  /** Adds a device output whose level joins `source.line` at each flush. */
  addSource(source: FlushedIrqSource): FlushedIrqSource {
    source.connect(this);
    this.#sources.push(source);
    return source;
  }

  hasPendingIrq(): boolean {
    return (this.#lines & this.#enabled()) !== 0;
  }

  pendingCause(): number {
    const p = this.#lines & this.#enabled();
    if (this.arch === "arm64") return (p & 1) !== 0 ? 0 : 1;
    // Privileged spec §3.1.9 priority order among S-level interrupts: SEI, SSI, STI.
    if ((p & (1 << IRQ_S_EXT)) !== 0) return IRQ_S_EXT;
    if ((p & (1 << IRQ_S_SOFT)) !== 0) return IRQ_S_SOFT;
    if ((p & (1 << IRQ_S_TIMER)) !== 0) return IRQ_S_TIMER;
    return 31 - Math.clz32(p);
  }

  flush(_hostCpu: number): number {
    for (const s of this.#sources) {
      const bit = 1 << s.line;
      this.#lines = s.level ? this.#lines | bit : this.#lines & ~bit;
    }
    return 0;
  }

  setIrqLine(line: number, level: boolean): void {
    const bit = 1 << line;
    if (((this.#lines & bit) !== 0) === level) return;
    this.#lines = level ? this.#lines | bit : this.#lines & ~bit;
    if (level) this.#vcpu?.irqPending();
    else this.#vcpu?.irqLowered();
  }

  handlesSysReg(_reg: number): number {
    return REG_NOT_HANDLED;
  }

  readSysReg(_reg: number, wide: WideValue): number {
    wide.hi = 0;
    return 0;
  }

  writeSysReg(_reg: number, _value: number, _hi: number): void {
    // Owns no system register.
  }

  handlesCsr(csr: number): number {
    return this.arch === "riscv64" && (csr === CSR_SIE || csr === CSR_SIP) ? REG_DIRECT : REG_NOT_HANDLED;
  }

  csr(op: CsrOp["op"], csr: number, value: number, _hi: number, wide: WideValue): number {
    wide.hi = 0;
    if (csr === CSR_SIE) {
      const old = this.#sie;
      this.#sie = apply(op, old, value) & LINE_MASK_RISCV;
      if ((this.#sie & ~old & this.#lines) !== 0) this.#vcpu?.irqPending();
      return old >>> 0;
    }
    // sip: only SSIP is writable from S/VS mode (privileged spec §4.1.3).
    const old = this.#lines;
    const next = apply(op, old, value);
    const ssip = 1 << IRQ_S_SOFT;
    if ((next & ssip) !== (old & ssip)) this.setIrqLine(IRQ_S_SOFT, (next & ssip) !== 0);
    return old >>> 0;
  }

  /** @internal A {@link FlushedIrqSource} was raised. */
  sourceChanged(source: FlushedIrqSource): void {
    const v = this.#vcpu;
    if (v?.irqRaisedBy !== undefined) v.irqRaisedBy(source.name, source.line);
    else v?.irqPending();
  }

  #enabled(): number {
    return this.arch === "arm64" ? 3 : this.#sie;
  }
}

const LINE_MASK_RISCV = (1 << IRQ_S_SOFT) | (1 << IRQ_S_TIMER) | (1 << IRQ_S_EXT);

function apply(op: CsrOp["op"], old: number, value: number): number {
  switch (op) {
    case "csrrw":
      return value;
    case "csrrs":
      return old | value;
    case "csrrc":
      return old & ~value;
  }
}
