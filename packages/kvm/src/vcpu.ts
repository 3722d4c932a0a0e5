/**
 * The vCPU fd: its ioctls as methods (KVM_RUN → {@link Vcpu.run},
 * KVM_GET/SET_MP_STATE, KVM_ARM_VCPU_INIT, KVM_INTERRUPT, KVM_SET/GET/
 * HAS_DEVICE_ATTR on the vCPU), plus the model's stand-ins for what a VMM does
 * outside ioctls: loading a guest image, kicking the vCPU thread, pinning it.
 * Errnos per Documentation/virt/kvm/api.rst and arch/arm64/kvm/arm.c,
 * arch/arm64/kvm/pmu-emul.c, arch/riscv/kvm/vcpu.c.
 */

import type { DeviceAttr } from "./device.js";
import type { FirmwareVcpu } from "./firmware.js";
import { mpidrOf } from "./firmware.js";
import { KVM_REQ_SLEEP, KVM_REQ_SUSPEND, KVM_REQ_VCPU_RESET } from "./requests.js";
import {
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_ARM_VCPU_PMU_V3,
  KVM_ARM_VCPU_PMU_V3_CTRL,
  KVM_ARM_VCPU_POWER_OFF,
  KVM_ARM_VCPU_PSCI_0_2,
  KVM_ARM_VCPU_TIMER_CTRL,
  KVM_INTERRUPT_SET,
  KVM_INTERRUPT_UNSET,
} from "./uapi/device-types.js";
import {
  KVM_MP_STATE_RUNNABLE,
  KVM_MP_STATE_STOPPED,
  KVM_MP_STATE_SUSPENDED,
  MP_STATES_ARM64,
  MP_STATES_RISCV,
} from "./uapi/mp-state.js";
import { CSR_SIP, CSR_SSTATUS, IRQ_S_EXT, IRQ_S_TIMER, SR_SIE } from "./uapi/sbi.js";
import type { GuestImage } from "./vcpu-core.js";
import { VcpuRunLoop } from "./vcpu-run-loop.js";
import { CSR_STIMECMP, readTimeCsr, timeDeadlineNs } from "./riscv-time.js";
import { createRiscvRegs, type RiscvOneRegVcpu } from "./one-reg/riscv-regs.js";
import { RISCV_SBI_EXT_OFF_AT_RESET } from "./one-reg/riscv-sbi-ext.js";
import { REG_NOT_HANDLED } from "./irqchip.js";
import { createArm64Regs, type Arm64RegVcpu, type Arm64Regs } from "./one-reg/arm64-regs.js";
import type { OneRegBank } from "./one-reg/one-reg-bank.js";
import { KVM_REG_ARCH_MASK, KVM_REG_ARM64, formatRegId, kvmRegMax } from "./one-reg/one-reg-id.js";
import { VcpuArchTimer } from "./arch-timer/vcpu-arch-timer.js";
import { VgicV3, timerOwner } from "./vgic/vgic-v3.js";
import { KVM_GUESTDBG_ENABLE, KVM_GUESTDBG_VALID_MASK_ARM64 } from "./uapi/guest-debug.js";

/** struct kvm_vcpu_init: the target and the feature bitmap. */
export interface KvmVcpuInit {
  /** KVM_ARM_TARGET_* (KVM_ARM_PREFERRED_TARGET's answer). */
  readonly target: number;
  /**
   * The feature bitmap: either `features[0]` alone, or the UAPI's `__u32
   * features[7]` array (bit i of word 0 = feature i: KVM_ARM_VCPU_POWER_OFF,
   * _PSCI_0_2, _PMU_V3, ...; no feature lives in words 1-6).
   */
  readonly features?: number | readonly number[];
}

/** Words of struct kvm_vcpu_init's features array. */
const FEATURE_WORDS = 7;

/** Feature bits KVM_ARM_VCPU_INIT knows (POWER_OFF..HAS_EL2, bits 0-7). */
const KNOWN_FEATURES = 0xff;
/** Feature bits the modelled host supports. */
const SUPPORTED_FEATURES = (1 << KVM_ARM_VCPU_POWER_OFF) | (1 << KVM_ARM_VCPU_PSCI_0_2) | (1 << KVM_ARM_VCPU_PMU_V3);

/** A vCPU fd. */
export class Vcpu extends VcpuRunLoop implements FirmwareVcpu {
  #init: { readonly target: number; readonly features: number } | undefined;
  #timerEvent = -1;
  #sbiExtOff = RISCV_SBI_EXT_OFF_AT_RESET;
  /** RISC-V mvendorid, marchid, mimpid: the host's (0 in the model) until the VMM sets them; made at first use. */
  #machineIds: bigint[] | undefined;
  #regs: OneRegBank | undefined;
  #arm64Regs: Arm64Regs | undefined;
  /** arm64 MPIDR_EL1 of this vCPU (Linux's reset_mpidr). */
  get mpidr(): number {
    return mpidrOf(this.vcpuId);
  }

  protected get initialized(): boolean {
    return this.vm.arch === "riscv64" || this.#init !== undefined;
  }

  protected get firmwareSelf(): FirmwareVcpu {
    return this;
  }

  /**
   * Places a guest on the vCPU: its boot program, interrupt vector and
   * secondary entry (what a VMM does by loading an image and setting PC, the
   * vector base and the boot registers with KVM_SET_ONE_REG). `bootRegs` are
   * x0.. (arm64) or a0.. (RISC-V) as the boot program sees them. Restarts the
   * vCPU's program at its next entry.
   */
  loadGuest(image: GuestImage, bootRegs: readonly number[] = []): void {
    this.image = image;
    this.bootRegs = Object.freeze([...bootRegs]);
    // RISC-V: the VMM's KVM_SET_ONE_REG of a0.. (x10..), which KVM_GET_ONE_REG then reads back.
    if (this.vm.arch === "riscv64") bootRegs.forEach((v, i) => { this.writeGpr(10 + i, BigInt.asUintN(64, BigInt(v))); });
    this.#resetProgram();
  }

  #resetProgram(): void {
    this.gen = undefined;
    this.booted = false;
    this.dropFrames();
    this.masked = true;
    this.replay = undefined;
    this.clearLoops();
    this.computeLeft = 0;
    this.computeUntilIrq = false;
    this.timerExit = false;
    this.resetTarget = undefined;
  }

  /** KVM_GET_MP_STATE. */
  getMpState(): number {
    return this.mpState;
  }

  /**
   * KVM_SET_MP_STATE. arm64: RUNNABLE, STOPPED, SUSPENDED; RISC-V: RUNNABLE,
   * STOPPED; anything else EINVAL.
   */
  setMpState(state: number): void {
    const ok = this.vm.arch === "arm64" ? MP_STATES_ARM64 : MP_STATES_RISCV;
    if (!ok.includes(state)) this.vm.fail("EINVAL", "KVM_SET_MP_STATE", `mp_state ${state} is not supported on ${this.vm.arch}`);
    switch (state) {
      case KVM_MP_STATE_STOPPED:
        this.powerOff();
        break;
      case KVM_MP_STATE_SUSPENDED:
        this.mpState = KVM_MP_STATE_SUSPENDED;
        this.makeRequest(KVM_REQ_SUSPEND);
        break;
      default:
        this.mpState = KVM_MP_STATE_RUNNABLE;
        this.requests &= ~(1 << (KVM_REQ_SUSPEND & 0xff));
        this.kvmVcpuWakeUp();
    }
  }

  /**
   * KVM_ARM_VCPU_INIT (arm64). EINVAL for a target other than
   * KVM_ARM_PREFERRED_TARGET's or a feature the host lacks, ENOENT for an
   * unknown feature bit, EINVAL for a re-init with a different target or
   * features; the same init again resets the vCPU.
   */
  armVcpuInit(init: KvmVcpuInit): void {
    const io = "KVM_ARM_VCPU_INIT";
    if (this.vm.arch !== "arm64") this.vm.fail("ENOTTY", io, "KVM_ARM_VCPU_INIT is an arm64 ioctl");
    if (init.target !== KVM_ARM_TARGET_GENERIC_V8) this.vm.fail("EINVAL", io, `target ${init.target} is not the preferred target ${KVM_ARM_TARGET_GENERIC_V8}`);
    const features = this.#featureWord0(init.features ?? 0);
    if ((features & ~SUPPORTED_FEATURES) !== 0) this.vm.fail("EINVAL", io, `features 0x${(features & ~SUPPORTED_FEATURES).toString(16)} are not supported by the host`);
    const prev = this.#init;
    if (prev !== undefined && (prev.target !== init.target || prev.features !== features)) {
      this.vm.fail("EINVAL", io, "re-initialisation with a different target or features");
    }
    this.#init = { target: init.target, features };
    // kvm_reset_vcpu(): architectural reset; the guest restarts from its image.
    this.#resetProgram();
    this.clearSysregs();
    this.resetGprs(0, []);
    this.archTimer?.reset();
    this.requests = 0;
    this.pending = 0;
    if ((features & (1 << KVM_ARM_VCPU_POWER_OFF)) !== 0) this.powerOff();
    else this.mpState = KVM_MP_STATE_RUNNABLE;
  }

  /**
   * Word 0 of the feature bitmap, checked as kvm_vcpu_init_check_features()
   * checks it (arch/arm64/kvm/arm.c): a bit set in words 1-6, or a bit of
   * word 0 beyond the features KVM knows, is ENOENT; the error names the
   * offending bits in hex.
   */
  #featureWord0(f: number | readonly number[]): number {
    const io = "KVM_ARM_VCPU_INIT";
    const words = typeof f === "number" ? [f] : f;
    if (words.length > FEATURE_WORDS) this.vm.fail("EINVAL", io, `features has ${words.length} words; struct kvm_vcpu_init has ${FEATURE_WORDS}`);
    words.forEach((w, i) => {
      if (!Number.isInteger(w) || w < 0 || w > 0xffff_ffff) this.vm.fail("EINVAL", io, `features[${i}] = ${String(w)} is not a 32-bit word`);
      const unknown = i === 0 ? w & ~KNOWN_FEATURES : w;
      if (unknown !== 0) this.vm.fail("ENOENT", io, `unknown feature bits 0x${(unknown >>> 0).toString(16)} in features[${i}]`);
    });
    return words[0] ?? 0;
  }

  // ---- KVM_GET/SET_ONE_REG, KVM_GET_REG_LIST, KVM_SET_GUEST_DEBUG -----------

  /**
   * KVM_GET_ONE_REG: the register `id` names (ids: one-reg/one-reg-id.ts and
   * the architecture's bank). ENOEXEC on an arm64 vCPU before
   * KVM_ARM_VCPU_INIT, EINVAL for an id of another architecture, then the
   * bank's errnos (ENOENT for a register it does not have).
   */
  getOneReg(id: bigint): bigint {
    return this.#oneRegs("KVM_GET_ONE_REG", id).get(id);
  }

  /** KVM_SET_ONE_REG: as {@link Vcpu.getOneReg}; EINVAL for a value wider than the id's size. */
  setOneReg(id: bigint, value: bigint): void {
    const bank = this.#oneRegs("KVM_SET_ONE_REG", id);
    if (value < 0n || value > kvmRegMax(id)) this.vm.fail("EINVAL", "KVM_SET_ONE_REG", `value 0x${value.toString(16)} does not fit ${formatRegId(id)}`);
    bank.set(id, value);
  }

  /**
   * KVM_GET_REG_LIST: the ids of every register, in Linux's order. `n` is
   * struct kvm_reg_list's n: fewer than the registers is E2BIG (Linux then
   * reports the count in n; here the error names it). ENOEXEC on an arm64
   * vCPU before KVM_ARM_VCPU_INIT.
   */
  getRegList(n?: number): bigint[] {
    const io = "KVM_GET_REG_LIST";
    if (!this.initialized) this.vm.fail("ENOEXEC", io, `vCPU ${this.vcpuId} was not initialised with KVM_ARM_VCPU_INIT`);
    const ids = this.#bank().list();
    if (n !== undefined && n < ids.length) this.vm.fail("E2BIG", io, `n = ${n}, but the vCPU has ${ids.length} registers`);
    return [...ids];
  }

  /**
   * KVM_SET_GUEST_DEBUG with `control` (KVM_GUESTDBG_*). Without
   * KVM_GUESTDBG_ENABLE debugging is off and the other bits are dropped.
   * arm64 (guest.c kvm_arch_vcpu_ioctl_set_guest_debug): a bit outside
   * KVM_GUESTDBG_VALID_MASK is EINVAL. RISC-V (vcpu.c) checks no bits.
   * While debugging is on, a software breakpoint (BrkOp) stops the vCPU with
   * KVM_EXIT_DEBUG (VcpuTraps.softwareBreakpoint). SINGLESTEP and USE_HW
   * are accepted as Linux accepts them but have no effect: the model's
   * guests have no instruction addresses to step through or to match
   * against `kvm_guest_debug.arch`'s hardware breakpoints.
   */
  setGuestDebug(control: number): void {
    const io = "KVM_SET_GUEST_DEBUG";
    if (!Number.isInteger(control) || control < 0 || control > 0xffff_ffff) this.vm.fail("EINVAL", io, `control ${control} is not a u32`);
    if (this.vm.arch === "arm64" && (control & ~KVM_GUESTDBG_VALID_MASK_ARM64) !== 0) {
      this.vm.fail("EINVAL", io, `control bits 0x${((control & ~KVM_GUESTDBG_VALID_MASK_ARM64) >>> 0).toString(16)} are not valid on arm64`);
    }
    this.guestDebug = (control & KVM_GUESTDBG_ENABLE) !== 0 ? control >>> 0 : 0;
  }

  /** The bank for a ONE_REG access to `id`, after the ioctl's own checks (arm.c / vcpu.c kvm_arch_vcpu_ioctl). */
  #oneRegs(io: string, id: bigint): OneRegBank {
    const arm = this.vm.arch === "arm64";
    if (!this.initialized) this.vm.fail("ENOEXEC", io, `vCPU ${this.vcpuId} was not initialised with KVM_ARM_VCPU_INIT`);
    // arm64 kvm_arm_get_reg checks the architecture; RISC-V's handlers only look at the type (an alien id is ENOENT).
    if (arm && (id & KVM_REG_ARCH_MASK) !== KVM_REG_ARM64) this.vm.fail("EINVAL", io, `${formatRegId(id)} is not a ${this.vm.arch} register id`);
    if (arm) this.resetIfPending();
    return this.#bank();
  }

  #bank(): OneRegBank {
    if (this.#regs !== undefined) return this.#regs;
    if (this.vm.arch === "riscv64") {
      this.#regs = this.#riscvBank();
      return this.#regs;
    }
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the view's PC accessors forward to this vCPU
    const self = this;
    const view: Arm64RegVcpu = {
      vm: this.vm,
      get pc() {
        return self.pc;
      },
      set pc(v: bigint) {
        self.pc = v;
      },
      readGpr: (i) => this.readGpr(i),
      writeGpr: (i, v) => { this.writeGpr(i, v); },
      archTimers: () => (this.archTimer ??= new VcpuArchTimer(this)),
      fail: (code, io, detail) => this.vm.fail(code, io, detail),
    };
    this.#arm64Regs = createArm64Regs(view);
    this.#regs = this.#arm64Regs;
    return this.#regs;
  }

  /** The RISC-V bank (one-reg/riscv-regs.ts) with its view of this vCPU's vcpu->arch state. */
  #riscvBank(): OneRegBank {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the view's accessors forward to this vCPU
    const self = this;
    const view: RiscvOneRegVcpu = {
      fail: (code, io, detail) => this.vm.fail(code, io, detail),
      get ranAtLeastOnce() {
        return self.hasRunOnce;
      },
      get pc() {
        return self.pc;
      },
      set pc(v: bigint) {
        self.pc = v;
      },
      readGpr: (i) => this.readGpr(i),
      writeGpr: (i, v) => {
        this.writeGpr(i, v);
      },
      readCsr: (csr) => this.#readVsCsr(csr),
      writeCsr: (csr, v) => {
        this.#writeVsCsr(csr, v);
      },
      // hvip: what KVM injected — not VSTIP, which Sstc's vstimecmp drives.
      get injectedIrqs() {
        return Number(self.#readVsCsr(CSR_SIP)) & ~(1 << IRQ_S_TIMER);
      },
      setInjectedIrq: (cause, level) => {
        this.chip.setIrqLine(cause, level);
      },
      timebaseHz: this.vm.timebaseHz,
      get guestTime() {
        const lo = readTimeCsr(self.queue.now, self.vm.counterEpoch, self.vm.timebaseHz, self.wide);
        return (BigInt(self.wide.hi) << 32n) | BigInt(lo);
      },
      setGuestTime: (t) => {
        this.vm.setRiscvGuestTime(t);
      },
      get timerCompare() {
        const key = -CSR_STIMECMP * 2;
        const s = self.csrs;
        return (BigInt(s.get(key + 1) ?? 0xffff_ffff) << 32n) | BigInt(s.get(key) ?? 0xffff_ffff);
      },
      setTimerCompare: (v) => {
        const lo = Number(v & 0xffff_ffffn);
        const hi = Number(v >> 32n);
        const s = this.csrs;
        s.set(-CSR_STIMECMP * 2, lo);
        s.set(-CSR_STIMECMP * 2 + 1, hi);
        this.setTimer(hi * 2 ** 32 + lo);
      },
      get sbiExtOff() {
        return self.#sbiExtOff;
      },
      set sbiExtOff(v: number) {
        self.#sbiExtOff = v;
      },
      get machineIds() {
        return (self.#machineIds ??= [0n, 0n, 0n]);
      },
    };
    return createRiscvRegs(view);
  }

  /** A VS-level CSR as the guest's csrr reads it: the irqchip's (sie, sip, siselect...) or the vCPU's own. */
  #readVsCsr(csr: number): bigint {
    const c = this.chip;
    let lo: number;
    let hi: number;
    if (c.handlesCsr(csr) !== REG_NOT_HANDLED) {
      lo = c.csr("csrrs", csr, 0, 0, this.wide);
      hi = this.wide.hi;
    } else {
      const s = this.csrs;
      lo = s.get(-csr * 2) ?? 0;
      hi = s.get(-csr * 2 + 1) ?? 0;
      if (csr === CSR_SSTATUS) lo = this.masked ? lo & ~SR_SIE : lo | SR_SIE;
    }
    return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  /** A VS-level CSR written as the guest's csrw would (KVM loads guest_csr at the next entry). */
  #writeVsCsr(csr: number, v: bigint): void {
    const lo = Number(v & 0xffff_ffffn);
    const hi = Number(v >> 32n);
    if (this.chip.handlesCsr(csr) !== REG_NOT_HANDLED) {
      this.chip.csr("csrrw", csr, lo, hi, this.wide);
      return;
    }
    const s = this.csrs;
    s.set(-csr * 2, lo);
    s.set(-csr * 2 + 1, hi);
    if (csr === CSR_SSTATUS) {
      this.masked = (lo & SR_SIE) === 0;
      if (!this.masked) this.irqCheck = true;
    }
  }

  /** FirmwareVcpu: the SBI extensions the guest may not call (KVM_REG_RISCV_SBI_EXT writes change it). */
  get sbiExtOff(): number {
    return this.#sbiExtOff;
  }

  /** @internal FirmwareVcpu: SBI BASE get_mvendorid (0), get_marchid (1), get_mimpid (2): the CONFIG registers' values. */
  sbiMachineId(which: number): number {
    return Number(this.#machineIds?.[which] ?? 0n);
  }

  protected override resetArchRegs(): void {
    this.#arm64Regs?.reset();
  }

  /**
   * KVM_INTERRUPT (RISC-V, userspace irqchip): KVM_INTERRUPT_SET / _UNSET
   * assert / deassert the VS-level external interrupt; anything else EINVAL.
   */
  interrupt(irq: number): void {
    if (this.vm.arch !== "riscv64") this.vm.fail("ENOTTY", "KVM_INTERRUPT", "KVM_INTERRUPT is not an arm64 ioctl");
    if (irq === KVM_INTERRUPT_SET) this.chip.setIrqLine(IRQ_S_EXT, true);
    else if (irq === KVM_INTERRUPT_UNSET) this.chip.setIrqLine(IRQ_S_EXT, false);
    else this.vm.fail("EINVAL", "KVM_INTERRUPT", `irq 0x${(irq >>> 0).toString(16)} is neither KVM_INTERRUPT_SET nor KVM_INTERRUPT_UNSET`);
  }

  /** KVM_SET_DEVICE_ATTR on the vCPU (arm64 PMUv3 and timer controls; vm-pmu.ts has the PMU's errnos). */
  setDeviceAttr(a: DeviceAttr): void {
    if (this.#timerAttr(a)) {
      this.vm.timerData.setAttr(a, this.vm.irqchip !== undefined);
      return;
    }
    this.#checkPmuGroup(a, "KVM_SET_DEVICE_ATTR");
    this.vm.pmu.setAttr(this, a);
  }

  /** KVM_GET_DEVICE_ATTR on the vCPU: a timer's PPI or the PMU's interrupt. */
  getDeviceAttr(a: DeviceAttr): unknown {
    if (this.#timerAttr(a)) return this.vm.timerData.getAttr(a);
    this.#checkPmuGroup(a, "KVM_GET_DEVICE_ATTR");
    return this.vm.pmu.getAttr(this, a);
  }

  /** KVM_HAS_DEVICE_ATTR on the vCPU. */
  hasDeviceAttr(a: DeviceAttr): void {
    if (this.#timerAttr(a)) {
      this.vm.timerData.hasAttr(a);
      return;
    }
    this.#checkPmuGroup(a, "KVM_HAS_DEVICE_ATTR");
    this.vm.pmu.hasAttr(this, a);
  }

  /** kvm_vcpu_has_pmu: KVM_ARM_VCPU_INIT set KVM_ARM_VCPU_PMU_V3. */
  get hasPmu(): boolean {
    return ((this.#init?.features ?? 0) & (1 << KVM_ARM_VCPU_PMU_V3)) !== 0;
  }

  /** Whether `a` is in group KVM_ARM_VCPU_TIMER_CTRL of an arm64 vCPU (kvm_arm_vcpu_arch_set_attr). */
  #timerAttr(a: DeviceAttr): boolean {
    return this.vm.arch === "arm64" && a.group === KVM_ARM_VCPU_TIMER_CTRL;
  }

  /** ENXIO unless `a` is in group KVM_ARM_VCPU_PMU_V3_CTRL of an arm64 vCPU (the groups left after the timer's). */
  #checkPmuGroup(a: DeviceAttr, io: string): void {
    if (this.vm.arch !== "arm64" || a.group !== KVM_ARM_VCPU_PMU_V3_CTRL) this.vm.fail("ENXIO", io, `unknown vCPU attribute group ${a.group}`);
  }

  /**
   * arm64 kvm_arch_vcpu_run_pid_change after the vgic's resources: the
   * timers claim their PPIs on this vCPU (kvm_timer_enable), then the vPMU
   * must have been created (kvm_arm_pmu_v3_enable).
   */
  protected enableAtFirstRun(): void {
    const vm = this.vm;
    if (vm.arch !== "arm64") return;
    const vgic = VgicV3.of(vm);
    if (vgic !== undefined) vm.timerData.enable((ppi, timer) => vgic.setOwner(this.vcpuId, ppi, timerOwner(timer)) === undefined);
    if (this.hasPmu) vm.pmu.enable(this);
  }

  // ---- FirmwareVcpu ---------------------------------------------------------

  /** Powered off. */
  get stopped(): boolean {
    return this.mpState === KVM_MP_STATE_STOPPED;
  }

  /** A CPU_ON / hart_start awaits processing. */
  get resetPending(): boolean {
    return this.resetTarget !== undefined;
  }

  /** @internal PSCI CPU_ON / SBI hart_start on this vCPU. */
  startAt(entry: number, context: number): void {
    this.resetTarget = { entry, context };
    this.requests &= ~(1 << (KVM_REQ_SLEEP & 0xff));
    this.mpState = KVM_MP_STATE_RUNNABLE;
    this.makeRequest(KVM_REQ_VCPU_RESET);
  }

  /** @internal PSCI CPU_OFF / SBI hart_stop by this vCPU. */
  stopSelf(): void {
    this.gen = undefined;
    this.clearLoops();
    this.dropFrames();
    this.booted = true;
    this.powerOff();
  }

  /**
   * @internal The VM's counter offset changed (KVM_ARM_SET_COUNTER_OFFSET, RISC-V TIMER `time`):
   * re-evaluate the timers. RISC-V: vstimecmp now compares against the new time.
   */
  countersChanged(): void {
    this.archTimer?.countersChanged();
    const key = -CSR_STIMECMP * 2;
    const s = this.csrs;
    const lo = s.get(key);
    if (this.vm.arch === "riscv64" && lo !== undefined) this.setTimer((s.get(key + 1) ?? 0) * 2 ** 32 + lo);
  }

  /** @internal Asserts a line of this vCPU's irqchip (SBI IPI). */
  raiseLine(line: number): void {
    this.chip.setIrqLine(line, true);
  }

  /**
   * The SBI timer's deadline came: the vCPU's timer line rises. A static
   * event handler given the vCPU it was scheduled for, not a closure made
   * with each vCPU.
   */
  static #timerFire(v: Vcpu): void {
    v.#timerEvent = -1;
    const tr = v.tracer;
    if (!tr.enabled) {
      v.chip.setIrqLine(IRQ_S_TIMER, true);
      return;
    }
    // kvm_riscv_vcpu_hrtimer_expired → kvm_riscv_vcpu_set_interrupt(IRQ_VS_TIMER): the raise its flow starts at.
    const prev = tr.beginCause(v.track, "timer", "timer-level", { timer: "sbi", line: IRQ_S_TIMER, level: 1 });
    try {
      v.chip.setIrqLine(IRQ_S_TIMER, true);
    } finally {
      tr.endCause(prev);
    }
  }

  /**
   * @internal SBI set_timer: clears the pending timer interrupt and programs
   * the next one at `ticks` of the VM's timebase (kvm_riscv_vcpu_timer_next_event).
   */
  setTimer(ticks: number): void {
    // Sstc host: SBI set_timer writes vstimecmp too (kvm_riscv_vcpu_update_vstimecmp), which the
    // guest's stimecmp and ONE_REG's TIMER compare read. A stimecmp write stored its exact value already.
    const key = -CSR_STIMECMP * 2;
    const s = this.csrs;
    if ((s.get(key + 1) ?? -1) * 2 ** 32 + (s.get(key) ?? -1) !== ticks) {
      s.set(key, ticks >>> 0);
      s.set(key + 1, Math.floor(ticks / 2 ** 32) >>> 0);
    }
    const q = this.queue;
    if (this.#timerEvent >= 0) q.cancel(this.#timerEvent);
    this.#timerEvent = -1;
    this.chip.setIrqLine(IRQ_S_TIMER, false);
    // The deadline is in guest time, which starts at the VM's creation (riscv-time.ts) unless TIMER
    // `time` moved it; measured from the epoch, as that can lie before 0 and give a deadline in the past.
    const t = timeDeadlineNs(ticks, 0, this.vm.timebaseHz) + this.vm.counterEpoch;
    if (ticks < 0 || !Number.isSafeInteger(t)) return;
    this.#timerEvent = q.schedule(Math.max(q.now, t), Vcpu.#timerFire, this);
  }
}
