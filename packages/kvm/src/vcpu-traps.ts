/**
 * The traps a vCPU's run loop handles besides loads and stores: HVC/SMC
 * (PSCI/SMCCC, arch/arm64/kvm/hypercalls.c), SBI ecalls (arch/riscv/kvm/
 * vcpu_sbi.c), CSR accesses (arch/riscv/kvm/vcpu_insn.c: `seed` goes to
 * userspace with KVM_EXIT_RISCV_CSR), taking an interrupt into the guest's
 * vector and returning from it, and filling the kvm_run exit union. The
 * guest-program state (generator stack, interrupt mask, saved results) lives
 * here too; vcpu-run-loop.ts drives it.
 */

import { newGuestResult, op, type GuestOp, type GuestProgram, type PollOp, type RepeatOp, type SeqOp, type WideValue } from "@irqlab/sim";
import {
  FW_DONE,
  FW_EXIT_USER,
  FW_STOPPED,
  FW_SYSTEM_EVENT,
  FW_SYSTEM_SUSPEND,
  FW_WFI,
  type FirmwareOutcome,
  type FirmwareVcpu,
} from "./firmware.js";
import { CSR_EXIT_TO_USER, REG_DIRECT, REG_NOT_HANDLED } from "./irqchip.js";
import { KVM_DEBUG_ARCH_HSR_HIGH_VALID, type IntrCause, type VcpuExit } from "./kvm-run.js";
import { handleSmccc } from "./psci.js";
import { handleSbi } from "./sbi.js";
import {
  KVM_HYPERCALL_EXIT_16BIT,
  KVM_HYPERCALL_EXIT_SMC,
  KVM_SMCCC_FILTER_DENY,
  KVM_SMCCC_FILTER_FWD_TO_USER,
} from "./uapi/device-types.js";
import { KVM_EXIT_INTR, KVM_INTERNAL_ERROR_EMULATION, exitReasonName } from "./uapi/exit-reasons.js";
import { SMCCC_RET_NOT_SUPPORTED } from "./uapi/psci.js";
import { KVM_SYSTEM_EVENT_SUSPEND } from "./uapi/system-event.js";
import { CSR_SCAUSE, CSR_SEED, CSR_SEPC, CSR_SSTATUS, CSR_STVAL, SR_SIE } from "./uapi/sbi.js";
import { CSR_STIMECMP, CSR_TIME, readTimeCsr } from "./riscv-time.js";
import { EXC_BREAKPOINT } from "./uapi/guest-debug.js";
import { VcpuCore, type GuestImage } from "./vcpu-core.js";
import { PENDING_CSR, PENDING_HYPERCALL, PENDING_NONE, PENDING_SBI, PENDING_SMCCC_REGS, type ExitCompletion } from "./exit-completion.js";
import { gprBig, gprNumber, newGprFile, setGprBig, setGprNumber, syncHypercallRegs, type GprFile } from "./gpr-file.js";


/**
 * A saved guest context: the interrupted program while a vector runs. The
 * records are kept and reused (the outermost made with the vCPU, nested ones
 * at first use), so taking an interrupt allocates none once the vCPU has
 * nested as deep before. An interrupt is taken only while the program runs
 * unmasked, so that is what returning restores; the parts of a context that
 * are seldom in use (callers below the interrupted program, its op's result
 * when not 0, a computation, an op to execute again, a sequence, a poll, an
 * HVC's registers) are written only when they hold something, and come after
 * the rest: at thousands of vCPUs, each line of the record taking an
 * interrupt writes is a cache miss.
 */
interface Frame {
  gen: GuestProgram | undefined;
  /** A repeat under way (RepeatOp) and how many of its executions are done. */
  repeat: RepeatOp | undefined;
  repeatDone: number;
  /** Which of the parts below hold state (SAVED_*). */
  saved: number;
  /** The call depth below which the interrupted program's callers lie (VcpuTraps.callFloor before the interrupt), when not 0. */
  callFloor: number;
  /** The interrupted op's result, when any of it is not 0. */
  value: number;
  hi: number;
  error: number;
  computeLeft: number;
  /** An op to re-execute on return (never a WFI: taking the interrupt retires it). */
  replay: GuestOp | undefined;
  /** A sequence under way (SeqOp) and the index of its next op. */
  seq: SeqOp | undefined;
  seqNext: number;
  /** A poll under way (PollOp): its loads left, and whether the last load's value is still to be looked at. */
  pollOp: PollOp | undefined;
  pollLeft: number;
  pollCheck: boolean;
  /** The interrupted op's x0..x3 (an HVC's), copied into this record's own array. */
  readonly regsCopy: number[];
}

// Frame.saved: the seldom-used parts of a context that hold state.
const SAVED_COMPUTE = 1;
const SAVED_REPLAY = 2;
const SAVED_SEQ = 4;
const SAVED_POLL = 8;
const SAVED_REGS = 16;
const SAVED_FLOOR = 32;
const SAVED_RESULT = 64;

function newFrame(): Frame {
  return {
    gen: undefined,
    repeat: undefined,
    repeatDone: 0,
    saved: 0,
    callFloor: 0,
    value: 0,
    hi: 0,
    error: 0,
    computeLeft: 0,
    replay: undefined,
    seq: undefined,
    seqNext: 0,
    pollOp: undefined,
    pollLeft: 0,
    pollCheck: false,
    regsCopy: [],
  };
}

/** The WFI op the run loop executes for a guest with no program left (an idle loop). */
export const WFI_OP: GuestOp = op.wfi();
/** `result.regs` for ops that return no registers. */
export const NO_REGS: number[] = [];
const WFI = WFI_OP;
const EMPTY = NO_REGS;
/** RISC-V a0 is x10. */
const RISCV_A0 = 10;
/** The last legacy SBI extension id (SBI_EXT_0_1_SHUTDOWN): their calls leave a1 alone. */
const SBI_EXT_0_1_LAST = 8;
/** SMCCC 1.2 passes arguments in x0..x17. */
const SMCCC_ARG_REGS = 18;

/** Guest-program state and trap handling of a vCPU. */
export abstract class VcpuTraps extends VcpuCore implements ExitCompletion {
  // The records a KVM_RUN that takes an interrupt writes come first, in this order: V8's scavenger
  // copies them in the order of these fields, one after another and after the vCPU's kvm_run (and
  // the guest's image with them, when it is loaded before the vCPU's first collection), so that at
  // thousands of vCPUs a delivery fetches their lines together rather than one by one.
  /**
   * Where a 64-bit value's high half goes when it is not the guest's result
   * (which takes it directly: one object fewer for an op to reach).
   */
  protected readonly wide: WideValue = { hi: 0 };
  /** The result the guest program is resumed with (reused). */
  readonly result = newGuestResult();
  protected image: GuestImage | undefined;
  protected gen: GuestProgram | undefined;
  protected masked = true;
  // The saved contexts of the interrupts being handled, `frameDepth` of them: the outermost in a record
  // made with the vCPU (beside its other state, where taking an interrupt finds it), nested ones in
  // `nestedFrames` (below), innermost last.
  readonly #outerFrame: Frame = newFrame();
  #frameDepth = 0;
  // The programs waiting for the one running to return (CallOp), innermost last: the first `callDepth`
  // entries of `callers` (below). Those from `callFloor` up were called by the program the innermost
  // interrupt is running.
  #callDepth = 0;
  #callFloor = 0;
  /** The map of {@link #sysregs}, made at first use. */
  protected get sysregs(): Map<number, number> {
    return (this.#sysregs ??= new Map<number, number>());
  }
  /** Every register the map keeps reads 0 again (a vCPU reset). */
  protected clearSysregs(): void {
    this.#sysregs?.clear();
  }
  #deferredCause = 0;
  #causeDeferred = false;
  // The cause of the interrupt being taken, for its trace once the injection is paid (interruptTaken).
  #takenCause = 0;
  /** {@link sysregs} for a RISC-V CSR's key: every access to one goes through here. */
  protected get csrs(): Map<number, number> {
    if (this.#causeDeferred) this.#storeCause();
    return this.sysregs;
  }
  /** RISC-V scause as taking the interrupt left it: the cause with the interrupt bit (bit 63, the high half's bit 31). */
  #storeCause(): void {
    this.sysregs.set(-CSR_SCAUSE * 2, this.#deferredCause);
    this.sysregs.set(-CSR_SCAUSE * 2 + 1, 0x8000_0000);
    this.#causeDeferred = false;
  }
  /** What the last exit left to complete (PENDING_*). */
  pending = PENDING_NONE;
  /** An op to execute again instead of resuming the program (idle WFI, internal error, CPU_SUSPEND). */
  protected replay: GuestOp | undefined;
  /**
   * A repeat under way (RepeatOp): its op has executed `repeatDone` of its
   * `count` times; the program resumes after the last. Counted up, not down:
   * a count past 2^31 (an idle loop's `for (;;)`) would make a count of
   * those left a heap number, in every vCPU (the field's representation is
   * shared), and at thousands of vCPUs each is a cache miss of its own.
   */
  protected repeat: RepeatOp | undefined;
  protected repeatDone = 0;
  /** A sequence under way (SeqOp): `seqNext` is the index of its next op. */
  protected seq: SeqOp | undefined;
  protected seqNext = 0;
  /** A poll under way (PollOp): `pollLeft` more loads at most before the program resumes. */
  protected pollOp: PollOp | undefined;
  protected pollLeft = 0;
  /** The poll's last load has executed and its value is still to be compared. */
  protected pollCheck = false;
  /**
   * The event queue's dispatch count (EventQueue.dispatched) when the last
   * load of the poll or execution of the repeat under way began, or -1 when
   * the program's flow has been left since (an interrupt frame pushed or
   * popped, a re-entry, another op). The run loop takes turns of a poll or
   * repeat in bulk only while it still holds: no handler has run since that
   * op began, so its result is what executing it again would give.
   */
  protected loopMark = -1;
  /** Nanoseconds of a compute op still to run. */
  protected computeLeft = 0;
  /** The compute op under way is a spin the first interrupt taken ends (ComputeOp.untilInterrupt). */
  protected computeUntilIrq = false;
  /**
   * The vCPU's own timer fired while it ran in the guest (with an in-kernel
   * vgic): the interrupt taken at re-entry is that one, its exit, injection
   * and re-entry costing `timerInterrupt` (cost-model.ts). Cleared at that
   * re-entry's interrupt check.
   */
  protected timerExit = false;
  /** Something may have changed that makes an interrupt takeable. */
  protected irqCheck = true;
  // The fields above are those a KVM_RUN that takes an interrupt reads or writes; those below, after
  // them so that a run touches fewer of the vCPU's cache lines (at thousands of vCPUs each is a miss).
  /** The registers the boot program starts with (GuestImage.main). */
  protected bootRegs: readonly number[] = [];
  protected booted = false;
  protected resetTarget: { entry: number; context: number } | undefined;
  readonly #nestedFrames: Frame[] = [];
  readonly #callers: (GuestProgram | undefined)[] = [];
  // The system registers and CSRs the run loop keeps itself, by key: reg * 2 and reg * 2 + 1 for the
  // halves of an arm64 system register, -csr * 2 and -csr * 2 + 1 for a RISC-V CSR, which are reached
  // through `csrs`: it first stores the trap cause an interrupt left in `deferredCause`. Taking an
  // interrupt is the hot path, and the map (an object and its table) is two more fetches from memory
  // for a vCPU whose state has left the cache. The map is made at first use: an empty one takes about
  // 200 bytes, and a vCPU whose guest touches none of these registers (the irqchip's and the arm64
  // timers' are kept elsewhere) never needs it.
  #sysregs: Map<number, number> | undefined;
  /** The register width of a pending sign-extending MMIO read (ExitCompletion.mmioSignExtend). */
  mmioSignExtend = 0;
  /** vcpu->guest_debug: KVM_SET_GUEST_DEBUG's control bits, 0 when off. */
  protected guestDebug = 0;
  /**
   * PC as KVM_GET/SET_ONE_REG see it (arm64 `regs.pc`, RISC-V `regs.pc`).
   * Guests have no instruction stream, so it holds what KVM knows: the entry
   * of the last PSCI CPU_ON / SBI hart_start reset, the address of the
   * breakpoint a debug exit stopped at, or what the VMM last wrote. It does
   * not advance as the guest's ops execute.
   */
  protected pc = 0n;
  /**
   * The general-purpose registers (gpr-file.ts; arm64 x0..x30 and SP, RISC-V
   * x0..x31). The model's guests keep their values in JS variables, so only
   * what crosses KVM lives here: an HVC/SMC's x0..x17 arguments and x0..x3
   * results, the context id of a PSCI CPU_ON reset, and the VMM's writes.
   */
  readonly #gprs = newGprFile();
  // The last ecall's registers, written into #gprs only when something reads or writes them
  // (ONE_REG, exit completion): copying eight registers on every ecall cost more than the ecall.
  #ecallPending = false;
  #ecallResults = false;
  #a0 = 0;
  #a1 = 0;
  #a2 = 0;
  #a3 = 0;
  #a4 = 0;
  #a5 = 0;
  #a6 = 0;
  #a7 = 0;
  #ret0 = 0;
  #ret1 = 0;

  /** @internal The register file, with the last ecall's registers in place. */
  get gprs(): GprFile {
    if (this.#ecallPending) this.#syncEcall();
    return this.#gprs;
  }

  /**
   * kvm_riscv_vcpu_sbi_ecall's effect on the registers: a0..a5 the
   * arguments, a6 the function, a7 the extension (x10..x17), then a0 = the
   * error and, except for legacy calls, a1 = the value (not when the call
   * exited, SRST's system event included).
   */
  #syncEcall(): void {
    this.#ecallPending = false;
    const g = this.#gprs;
    const num = g.num;
    num[RISCV_A0] = this.#ecallResults ? this.#ret0 : this.#a0;
    num[RISCV_A0 + 1] = this.#ecallResults && this.#a7 > SBI_EXT_0_1_LAST ? this.#ret1 : this.#a1;
    num[RISCV_A0 + 2] = this.#a2;
    num[RISCV_A0 + 3] = this.#a3;
    num[RISCV_A0 + 4] = this.#a4;
    num[RISCV_A0 + 5] = this.#a5;
    num[RISCV_A0 + 6] = this.#a6;
    num[RISCV_A0 + 7] = this.#a7;
    if (g.exactMask !== 0) g.exactMask &= ~(0xff << RISCV_A0);
  }
  /** The breakpoint op a debug exit stopped at: executed again at re-entry unless the VMM moved PC. */
  #debugOp: GuestOp | undefined;
  readonly #hvcRegs: number[] = [0, 0, 0, 0];
  readonly #fw: FirmwareOutcome = { type: 0, data0: 0 };

  /**
   * VcpuCore.prefetch, and the span from `result` to `irqCheck` with the
   * guest result, the outer interrupt frame and the image that taking an
   * interrupt reads.
   */
  override prefetch(): number {
    let n = super.prefetch();
    if (this.result.value !== 0) n++;
    if (this.#outerFrame.saved !== 0) n++;
    if (this.#deferredCause !== 0) n++;
    if (this.seqNext !== 0) n++;
    if (this.irqCheck) n++;
    if (this.image?.vector === undefined) n++;
    return n;
  }

  /**
   * Takes the pending interrupt: saves the running context, enters the
   * vector masked and charges the injection. Returns false if the guest has
   * no vector (nothing is taken). The run loop calls {@link interruptTaken}
   * once the injection is paid.
   */
  protected takeInterrupt(): boolean {
    const image = this.image;
    if (image?.vector === undefined) {
      this.tracer.guestError(this.track, "no-vector", "interrupt pending and unmasked, but the guest has no vector");
      return false;
    }
    const r = this.result;
    const d = this.#frameDepth++;
    const f = d === 0 ? this.#outerFrame : (this.#nestedFrames[d - 1] ??= newFrame());
    f.gen = this.gen;
    f.repeat = this.repeat;
    f.repeatDone = this.repeatDone;
    let saved = 0;
    if (this.#callFloor !== 0) {
      f.callFloor = this.#callFloor;
      saved |= SAVED_FLOOR;
    }
    this.#callFloor = this.#callDepth;
    if (r.value !== 0 || r.hi !== 0 || r.error !== 0) {
      f.value = r.value;
      f.hi = r.hi;
      f.error = r.error;
      saved |= SAVED_RESULT;
    }
    // A spin ends with the interrupt: the handler's return finds it done.
    if (this.computeLeft > 0 && !this.computeUntilIrq) {
      f.computeLeft = this.computeLeft;
      saved |= SAVED_COMPUTE;
    }
    if (this.replay !== undefined && this.replay.kind !== "wfi") {
      f.replay = this.replay;
      saved |= SAVED_REPLAY;
    }
    if (this.seq !== undefined) {
      f.seq = this.seq;
      f.seqNext = this.seqNext;
      saved |= SAVED_SEQ;
    }
    if (this.pollOp !== undefined) {
      f.pollOp = this.pollOp;
      f.pollLeft = this.pollLeft;
      f.pollCheck = this.pollCheck;
      saved |= SAVED_POLL;
    }
    if (r.regs !== EMPTY) {
      // The handler's own HVCs reuse the run loop's result array: keep the interrupted op's copy here.
      const copy = f.regsCopy;
      copy.length = r.regs.length;
      for (let i = 0; i < copy.length; i++) copy[i] = r.regs[i]!;
      saved |= SAVED_REGS;
    }
    f.saved = saved;
    const cause = this.chip.pendingCause();
    this.#takenCause = cause;
    if (this.vm.arch === "riscv64") {
      this.#deferredCause = cause;
      this.#causeDeferred = true;
    }
    this.masked = true;
    this.computeLeft = 0;
    this.computeUntilIrq = false;
    this.replay = undefined;
    this.clearLoops();
    this.gen = image.vector(cause);
    this.spend(this.timerExit ? this.costs.timerInterrupt : this.costs.interruptInjection);
    return true;
  }

  /** The end of taking an interrupt, at the end of its injection: the host timer's exit is spent, and it is traced. */
  protected interruptTaken(): void {
    this.timerExit = false;
    if (this.tracer.enabled) {
      const cause = this.#takenCause;
      // The raise that signalled the vCPU, else the one that latched the interrupt pending before it could be signalled.
      const chipFlow = this.chip.takeFlow?.() ?? 0;
      const raised = this.takeRaise();
      const flow = raised !== 0 ? raised : chipFlow;
      if (flow !== 0) this.tracer.endFlow(this.track, "irq", "irq-taken", flow, { cause, chip: this.chip.name });
      else this.tracer.instant(this.track, "irq", "irq-taken", { cause, chip: this.chip.name });
    }
  }

  /** Drops a repeat, sequence or poll under way (the program they belong to is gone or saved). */
  protected clearLoops(): void {
    this.repeat = undefined;
    this.repeatDone = 0;
    this.seq = undefined;
    this.seqNext = 0;
    this.pollOp = undefined;
    this.pollLeft = 0;
    this.pollCheck = false;
    this.loopMark = -1;
  }

  /** Drops every saved context (a reset or power-off of the program). */
  protected dropFrames(): void {
    while (this.#frameDepth > 0) this.#release(this.#frameAt(--this.#frameDepth));
    while (this.#callDepth > 0) this.#callers[--this.#callDepth] = undefined;
    this.#callFloor = 0;
  }

  /** A CallOp: `program` runs now, its caller (the running program) waits for it to return. */
  protected callProgram(program: GuestProgram): void {
    this.#callers[this.#callDepth++] = this.gen;
    this.gen = program;
  }

  /**
   * The running program returned `value`: its caller goes on, resumed with
   * the result of the program's last op and `returned` = `value`, if a
   * CallOp ran it; else the interrupted program, if an interrupt's vector
   * ran it; else the guest has no program left.
   */
  protected returnFromProgram(value: unknown): void {
    if (this.#callDepth > this.#callFloor) {
      const i = --this.#callDepth;
      this.gen = this.#callers[i];
      this.#callers[i] = undefined;
      this.result.returned = value;
      return;
    }
    this.returnFromFrame();
  }

  /**
   * Whether the running program's return would go back to an interrupted
   * computation with more than `past[0]` ns left, and to nothing else (no
   * repeat, sequence, poll or replayed op around it): an interrupt's vector
   * returning to an idle spin. False when the program returns to a caller.
   * (The time in an array and a yes or no back, not the time left: a time
   * past 2^31 ns, such as an idle spin's, passed to or returned from a call
   * TurboFan does not inline is boxed.)
   */
  protected returnsToComputationPast(past: Float64Array): boolean {
    if (this.#callDepth > this.#callFloor || this.#frameDepth === 0) return false;
    const f = this.#frameAt(this.#frameDepth - 1);
    return (f.saved & (SAVED_REPLAY | SAVED_SEQ | SAVED_POLL | SAVED_COMPUTE)) === SAVED_COMPUTE && f.repeat === undefined && f.computeLeft > past[0]!;
  }

  /** The saved context at depth `d` (0: the outermost), which exists. */
  #frameAt(d: number): Frame {
    return d === 0 ? this.#outerFrame : this.#nestedFrames[d - 1]!;
  }

  /** Lets a record that is no longer in use hold nothing the collector should keep. */
  #release(f: Frame): void {
    f.gen = undefined;
    f.repeat = undefined;
    const saved = f.saved;
    if (saved === 0) return;
    if ((saved & SAVED_REPLAY) !== 0) f.replay = undefined;
    if ((saved & SAVED_SEQ) !== 0) f.seq = undefined;
    if ((saved & SAVED_POLL) !== 0) f.pollOp = undefined;
    f.saved = 0;
  }

  protected returnFromFrame(): void {
    if (this.#frameDepth === 0) {
      this.gen = undefined;
      return;
    }
    const f = this.#frameAt(--this.#frameDepth);
    const saved = f.saved;
    this.gen = f.gen;
    this.#callFloor = (saved & SAVED_FLOOR) !== 0 ? f.callFloor : 0;
    // The interrupt was taken unmasked (the run loop's only call of takeInterrupt checks).
    this.masked = false;
    this.repeat = f.repeat;
    this.repeatDone = f.repeatDone;
    this.computeLeft = (saved & SAVED_COMPUTE) !== 0 ? f.computeLeft : 0;
    this.replay = (saved & SAVED_REPLAY) !== 0 ? f.replay : undefined;
    if ((saved & SAVED_SEQ) !== 0) {
      this.seq = f.seq;
      this.seqNext = f.seqNext;
    } else {
      this.seq = undefined;
      this.seqNext = 0;
    }
    if ((saved & SAVED_POLL) !== 0) {
      this.pollOp = f.pollOp;
      this.pollLeft = f.pollLeft;
      this.pollCheck = f.pollCheck;
    } else {
      this.pollOp = undefined;
      this.pollLeft = 0;
      this.pollCheck = false;
    }
    this.loopMark = -1;
    const r = this.result;
    if ((saved & SAVED_RESULT) !== 0) {
      r.value = f.value;
      r.hi = f.hi;
      r.error = f.error;
    } else {
      r.value = 0;
      r.hi = 0;
      r.error = 0;
    }
    r.regs = (saved & SAVED_REGS) !== 0 ? f.regsCopy : EMPTY;
    this.#release(f);
    this.irqCheck = true;
  }

  /** See {@link IrqChipVcpu.irqSignalled}: re-check for an interrupt at the next op boundary. */
  irqSignalled(): void {
    if (this.tracer.enabled) this.noteRaise();
    this.irqCheck = true;
    this.interruptSpend();
  }

  protected smccc(smc: boolean, imm: number, args: readonly number[]): VcpuExit | undefined {
    const r = this.result;
    const regs = this.#hvcRegs;
    const fid = (args[0] ?? 0) >>> 0;
    const g = this.#gprs;
    const n = Math.min(args.length, SMCCC_ARG_REGS);
    for (let i = 0; i < n; i++) g.num[i] = args[i]!;
    if (g.exactMask !== 0) g.exactMask &= ~((1 << n) - 1);
    const action = this.vm.smcccFilterCount === 0 ? 0 : this.vm.smcccFilterAction(fid);
    if (action === KVM_SMCCC_FILTER_FWD_TO_USER) {
      const h = this.kvmRun.hypercall;
      h.nr = fid;
      for (let i = 0; i < 6; i++) h.args[i] = args[i + 1] ?? 0;
      for (let i = 0; i < 4; i++) h.regs[i] = args[i] ?? 0;
      h.flags = (smc ? KVM_HYPERCALL_EXIT_SMC : 0) | (imm !== 0 ? KVM_HYPERCALL_EXIT_16BIT : 0);
      this.pending = PENDING_HYPERCALL;
      return this.exit(h, this.costs.exitToUserspace);
    }
    let out = FW_DONE;
    if (action === KVM_SMCCC_FILTER_DENY) {
      // kvm_smccc_call_handler: DENY goes to `out` with val[4] = {SMCCC_RET_NOT_SUPPORTED}, so x1..x3 read 0.
      regs[0] = SMCCC_RET_NOT_SUPPORTED;
      for (let i = 1; i < 4; i++) regs[i] = 0;
    } else {
      out = handleSmccc(this.firmwareSelf, this.vm, args, regs, this.#fw);
    }
    this.spend(this.costs.hypercall);
    // x0..x3 := the results (setGprNumber, unrolled: this runs on every HVC/SMC).
    const num = g.num;
    num[0] = regs[0]!;
    num[1] = regs[1]!;
    num[2] = regs[2]!;
    num[3] = regs[3]!;
    if (g.exactMask !== 0) g.exactMask &= ~0xf;
    r.regs = regs;
    r.value = regs[0]! >>> 0;
    r.hi = regs[0]! < 0 ? 0xffff_ffff : Math.floor(regs[0]! / 2 ** 32) >>> 0;
    r.error = 0;
    if (out === FW_DONE) return undefined;
    // A call that exits (SYSTEM_SUSPEND, SYSTEM_OFF/RESET...) returns what x0..x3 hold when the
    // vCPU runs again: the VMM may answer with KVM_SET_ONE_REG (QEMU: x0 = DENIED for SYSTEM_SUSPEND).
    if (out === FW_SYSTEM_SUSPEND || out === FW_SYSTEM_EVENT) this.pending = PENDING_SMCCC_REGS;
    return this.firmwareOutcome(out);
  }

  protected sbi(ext: number, fid: number, args: readonly number[]): VcpuExit | undefined {
    const r = this.result;
    const ret = this.#hvcRegs;
    // The ecall's registers, kept aside until something looks at them (#syncEcall). Without
    // reads past the end of `args`: this runs on every ecall.
    const n = args.length;
    this.#a0 = n > 0 ? args[0]! : 0;
    this.#a1 = n > 1 ? args[1]! : 0;
    this.#a2 = n > 2 ? args[2]! : 0;
    this.#a3 = n > 3 ? args[3]! : 0;
    this.#a4 = n > 4 ? args[4]! : 0;
    this.#a5 = n > 5 ? args[5]! : 0;
    this.#a6 = fid >>> 0;
    this.#a7 = ext >>> 0;
    this.#ecallResults = false;
    this.#ecallPending = true;
    const out = handleSbi(this.firmwareSelf, this.vm, ext >>> 0, fid >>> 0, args, ret, this.#fw);
    if (out === FW_EXIT_USER) {
      const s = this.kvmRun.riscvSbi;
      s.extensionId = ext >>> 0;
      s.functionId = fid >>> 0;
      for (let i = 0; i < 6; i++) s.args[i] = args[i] ?? 0;
      s.ret[0] = -2; // SBI_ERR_NOT_SUPPORTED, as kvm_riscv_vcpu_sbi_forward pre-sets it
      s.ret[1] = 0;
      this.pending = PENDING_SBI;
      return this.exit(s, this.costs.exitToUserspace);
    }
    this.spend(this.costs.hypercall);
    r.regs = EMPTY;
    r.error = ret[0]!;
    r.value = ret[1]!;
    r.hi = 0;
    // kvm_riscv_vcpu_sbi_ecall: a0 = error and, except for legacy calls, a1 = value; SRST's exit leaves both.
    if (out !== FW_SYSTEM_EVENT) {
      this.#ret0 = ret[0]!;
      this.#ret1 = ret[1]!;
      this.#ecallResults = true;
    }
    return out === FW_DONE ? undefined : this.firmwareOutcome(out);
  }

  protected firmwareOutcome(out: number): VcpuExit | undefined {
    switch (out) {
      case FW_WFI:
        this.replay = WFI;
        return undefined;
      case FW_STOPPED:
        return undefined;
      case FW_SYSTEM_SUSPEND: {
        // kvm_psci_system_suspend: no vCPU is powered off and no data.
        const s = this.kvmRun.systemEvent;
        s.type = KVM_SYSTEM_EVENT_SUSPEND;
        s.ndata = 0;
        s.data[0] = 0;
        return this.exit(s, this.costs.exitToUserspace);
      }
      case FW_SYSTEM_EVENT: {
        this.vm.prepareSystemEvent();
        const s = this.kvmRun.systemEvent;
        s.type = this.#fw.type;
        s.ndata = 1;
        s.data[0] = this.#fw.data0;
        return this.exit(s, this.costs.exitToUserspace);
      }
      default:
        return undefined;
    }
  }

  /**
   * KVM_EXIT_RISCV_CSR as csr_insn (arch/riscv/kvm/vcpu_insn.c) fills it:
   * csrrw writes rs1 under an all-ones mask, csrrs sets and csrrc clears the
   * bits of rs1; ret_value comes back to rd on the next KVM_RUN
   * (kvm_riscv_vcpu_csr_return).
   */
  #csrExit(op: "csrrw" | "csrrs" | "csrrc", csr: number, value: number, hi: number): VcpuExit {
    const c = this.kvmRun.riscvCsr;
    const v = (BigInt(hi >>> 0) << 32n) | BigInt(value >>> 0);
    const all = 0xffff_ffff_ffff_ffffn;
    c.csrNum = csr;
    c.newValue = op === "csrrw" ? v : op === "csrrs" ? all : 0n;
    c.writeMask = op === "csrrw" ? all : v;
    c.retValue = 0n;
    this.pending = PENDING_CSR;
    return this.exit(c, this.costs.exitToUserspace);
  }

  protected csr(op: "csrrw" | "csrrs" | "csrrc", csr: number, value: number, hi: number): VcpuExit | undefined {
    const r = this.result;
    r.regs = EMPTY;
    r.error = 0;
    if (csr === CSR_TIME) {
      // rdtime: no trap; host time + htimedelta (riscv-time.ts). A write is illegal: counted, ignored.
      if (op === "csrrw" || value !== 0 || hi !== 0) this.tracer.guestError(this.track, "csr-time-write", "write to the read-only time CSR");
      r.value = readTimeCsr(this.queue.now, this.vm.counterEpoch, this.vm.timebaseHz, r);
      this.spend(this.costs.sysregNoTrap);
      return undefined;
    }
    if (csr === CSR_STIMECMP) {
      // Sstc: the deadline in guest time; a write re-arms the timer as SBI set_timer does (riscv-time.ts).
      // Reset value all ones (kvm_riscv_vcpu_timer_reset: next_cycles = -1, restored into vstimecmp).
      const key = -csr * 2;
      const s = this.csrs;
      const lo = s.get(key) ?? 0xffff_ffff;
      const oldHi = s.get(key + 1) ?? 0xffff_ffff;
      r.value = lo >>> 0;
      r.hi = oldHi >>> 0;
      const nlo = (op === "csrrw" ? value : op === "csrrs" ? lo | value : lo & ~value) >>> 0;
      const nhi = (op === "csrrw" ? hi : op === "csrrs" ? oldHi | hi : oldHi & ~hi) >>> 0;
      s.set(key, nlo);
      s.set(key + 1, nhi);
      if (op === "csrrw" || value !== 0 || hi !== 0) this.firmwareSelf.setTimer(nhi * 2 ** 32 + nlo);
      this.spend(this.costs.sysregNoTrap);
      return undefined;
    }
    if (csr === CSR_SEED) return this.#csrExit(op, csr, value, hi);
    const how = this.chip.handlesCsr(csr);
    if (how !== REG_NOT_HANDLED) {
      const old = this.chip.csr(op, csr, value, hi, r);
      if (old === CSR_EXIT_TO_USER) return this.#csrExit(op, csr, value, hi);
      r.value = old >>> 0;
      r.hi >>>= 0;
      this.irqCheck = true;
      // A trapped CSR (the SW-file's siselect/sireg/stopei): no Linux tracepoint, irqlab's own.
      if (how !== REG_DIRECT && this.tracer.enabled) this.tracer.instant(this.track, "trap", "csr_trap", { csr: `0x${csr.toString(16)}`, op, value: `0x${(value >>> 0).toString(16)}` });
      this.spend(how === REG_DIRECT ? this.costs.sysregNoTrap : this.costs.sysregTrap);
      return undefined;
    }
    // A VS-level CSR accessed directly (no trap). sstatus.SIE is the guest's interrupt mask.
    const key = -csr * 2;
    const s = this.csrs;
    let lo = s.get(key) ?? 0;
    const oldHi = s.get(key + 1) ?? 0;
    if (csr === CSR_SSTATUS) lo = this.masked ? lo & ~SR_SIE : lo | SR_SIE;
    r.value = lo >>> 0;
    r.hi = oldHi >>> 0;
    const nlo = op === "csrrw" ? value : op === "csrrs" ? lo | value : lo & ~value;
    const nhi = op === "csrrw" ? hi : op === "csrrs" ? oldHi | hi : oldHi & ~hi;
    s.set(key, nlo >>> 0);
    s.set(key + 1, nhi >>> 0);
    if (csr === CSR_SSTATUS) {
      this.masked = (nlo & SR_SIE) === 0;
      if (!this.masked) this.irqCheck = true;
    }
    this.spend(this.costs.sysregNoTrap);
    return undefined;
  }

  /**
   * General-purpose register `i` as KVM_GET_ONE_REG reads it. While a
   * forwarded hypercall waits for its answer, x0..x3 are also
   * kvm_run.hypercall.regs: whichever the VMM wrote last counts.
   */
  protected readGpr(i: number): bigint {
    if (i < 4 && this.pending === PENDING_HYPERCALL) syncHypercallRegs(this.gprs, this.kvmRun.hypercall.regs);
    return gprBig(this.gprs, i);
  }

  /** KVM_SET_ONE_REG of general-purpose register `i` (kept in step with a pending hypercall's `regs`). */
  protected writeGpr(i: number, v: bigint): void {
    setGprBig(this.gprs, i, v);
    if (i < 4 && this.pending === PENDING_HYPERCALL) this.kvmRun.hypercall.regs[i] = gprNumber(this.gprs, i);
  }

  /**
   * The core-register part of kvm_reset_vcpu (arch/arm64/kvm/reset.c;
   * RISC-V kvm_riscv_vcpu_reset): general-purpose registers zeroed, PC =
   * `entry`, x0 / a0.. as the reset's caller gave them (PSCI CPU_ON's context
   * id).
   */
  protected resetGprs(entry: number, firstRegs: readonly number[]): void {
    this.#ecallPending = false;
    this.#gprs.clear();
    this.pc = BigInt.asUintN(64, BigInt(entry));
    for (let i = 0; i < firstRegs.length; i++) setGprNumber(this.gprs, i, firstRegs[i]!);
    this.resetArchRegs();
  }

  /** The rest of the reset: the architecture's other ONE_REG state (arm64 PSTATE, SPSRs...). */
  protected resetArchRegs(): void {
    // Nothing beyond the general-purpose registers unless the architecture's bank keeps more.
  }

  /**
   * A software breakpoint at guest address `pc` (arm64 BRK, RISC-V EBREAK).
   * While guest debugging is on (KVM_GUESTDBG_ENABLE, whatever the other
   * bits) the exception goes to the host — arm64: kvm_arm_setup_mdcr_el2
   * sets MDCR_EL2.TDE whenever vcpu->guest_debug is non-zero ("Route all
   * software debug exceptions to EL2"), then handle_exit.c
   * kvm_handle_guest_debug; RISC-V: EXC_BREAKPOINT is no longer delegated
   * (vcpu.c kvm_arch_vcpu_ioctl_set_guest_debug) — and KVM_RUN returns
   * KVM_EXIT_DEBUG with PC = `pc` and, on arm64,
   * ESR_EL2 = `hsr` in `debug.hsr`/`hsrHigh`. At the next KVM_RUN the
   * breakpoint executes again if PC still holds `pc` (the debugger resumes
   * without stepping over it); any other PC resumes the guest after it (the
   * model's guests cannot branch: PC + 4 and any other address both go on
   * with the next op). Without guest debugging the guest takes its own
   * exception and handles it: the op returns `guestValue` (the ESR its
   * handler reads) and the program goes on.
   */
  protected softwareBreakpoint(op: GuestOp, pc: number, hsr: number, guestValue: number): VcpuExit | undefined {
    const r = this.result;
    r.regs = EMPTY;
    r.hi = 0;
    r.error = 0;
    if (this.#debugOp === op) {
      this.#debugOp = undefined;
      if (this.pc !== BigInt(pc)) {
        // Stepped over by the debugger: the guest never saw the breakpoint.
        r.value = 0;
        return undefined;
      }
    }
    const arm = this.vm.arch === "arm64";
    // guestDebug is 0 unless KVM_GUESTDBG_ENABLE is set; on both architectures that alone routes the breakpoint to the host.
    if (this.guestDebug !== 0) {
      this.pc = BigInt(pc);
      const d = this.kvmRun.debug;
      d.hsr = arm ? hsr >>> 0 : 0;
      d.hsrHigh = 0;
      d.far = 0;
      d.flags = arm ? KVM_DEBUG_ARCH_HSR_HIGH_VALID : 0;
      this.#debugOp = op;
      this.replay = op;
      return this.exit(d, this.costs.exitToUserspace);
    }
    if (!arm) this.#delegatedBreakpoint(pc);
    r.value = guestValue >>> 0;
    this.spend(this.costs.instruction);
    return undefined;
  }

  /**
   * RISC-V: EBREAK delegated to the guest (hedeleg.EXC_BREAKPOINT) sets its
   * trap CSRs as the hart does: scause = 3, sepc = the address, stval = the
   * address (QEMU's choice; the privileged spec also allows 0). The model's
   * guest handles it within the op and goes on after it (its handler's
   * sepc += 4).
   */
  #delegatedBreakpoint(pc: number): void {
    const s = this.csrs;
    const lo = pc >>> 0;
    const hi = Math.floor(pc / 2 ** 32) >>> 0;
    s.set(-CSR_SCAUSE * 2, EXC_BREAKPOINT);
    s.set(-CSR_SCAUSE * 2 + 1, 0);
    s.set(-CSR_SEPC * 2, lo);
    s.set(-CSR_SEPC * 2 + 1, hi);
    s.set(-CSR_STVAL * 2, lo);
    s.set(-CSR_STVAL * 2 + 1, hi);
  }

  /** The vCPU as the firmware handlers see it. */
  protected abstract get firmwareSelf(): FirmwareVcpu;

  protected internal(op: GuestOp, detail: string): VcpuExit {
    this.tracer.guestError(this.track, "unhandled-op", detail);
    const e = this.kvmRun.internal;
    e.suberror = KVM_INTERNAL_ERROR_EMULATION;
    e.ndata = 0;
    e.detail = detail;
    this.replay = op;
    return this.exit(e, 0);
  }

  protected intr(cause: IntrCause, cost = 0): VcpuExit {
    const e = this.intrExit;
    e.cause = cause;
    return this.exit(e, cost);
  }

  /** Counts `n` exits of `reason` (the kvm.exit.* counters). */
  protected countExits(reason: number, n: number): void {
    const counters = this.vm.exitCounters;
    let c = counters[reason];
    if (c === undefined) {
      c = this.tracer.counters.counter(`kvm.exit.${exitReasonName(reason)}`);
      counters[reason] = c;
    }
    c.value += n;
  }

  protected exit(e: VcpuExit, cost: number): VcpuExit {
    this.kvmRun.exitReason = e.reason;
    this.countExits(e.reason, 1);
    // The exit-to-VMM state starts with the round trip's cost; a vCPU that returns still blocked stays "blocked".
    const tracing = this.tracer.enabled;
    if (tracing && !(e.reason === KVM_EXIT_INTR && e.cause === "blocked")) this.vcpuState.enter(exitReasonName(e.reason), exitArgs(e));
    if (cost > 0) {
      this.spend(cost);
      // Cut short by the queue's limit: KVM_RUN returns once the round trip is paid (a continued run).
      if (this.debt > 0) {
        const stopped = this.owe(e);
        if (stopped !== undefined) return stopped;
      }
    }
    this.traceExit(e);
    return e;
  }

  /** trace_kvm_userspace_exit(run->exit_reason, r) as kvm_vcpu_ioctl has it at KVM_RUN's return. */
  protected traceExit(e: VcpuExit): void {
    if (this.tracer.enabled) this.tracer.instant(this.track, "exit", "kvm_userspace_exit", { reason: exitReasonName(e.reason), ...exitArgs(e) });
  }

  /**
   * An exit whose round trip the queue's limit cut short: the run loop may
   * stop the run there (a continued KVM_RUN) and return `e` once the rest is
   * paid, as it would have been without the limit. Returns the stop, or
   * undefined to return `e` now.
   */
  protected abstract owe(e: VcpuExit): VcpuExit | undefined;
}

function exitArgs(e: VcpuExit): Record<string, string | number | boolean> {
  switch (e.reason) {
    case 6:
      return { addr: `0x${e.physAddr.toString(16)}`, len: e.len, write: e.isWrite };
    case 3:
      return { nr: `0x${e.nr.toString(16)}`, flags: e.flags };
    case 4:
      return { hsr: `0x${e.hsr.toString(16)}` };
    case 24:
      return { type: e.type, data0: e.data[0] ?? 0 };
    case 9:
      return { hardware_entry_failure_reason: e.hardwareEntryFailureReason, cpu: e.cpu };
    case 35:
      return { ext: `0x${e.extensionId.toString(16)}`, fid: e.functionId };
    case 36:
      return { csr: `0x${e.csrNum.toString(16)}` };
    case 10:
      return { cause: e.cause };
    case 17:
      return { suberror: e.suberror, detail: e.detail };
  }
}
