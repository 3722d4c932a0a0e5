/**
 * KVM_RUN: the vCPU run loop (arch/arm64/kvm/arm.c kvm_arch_vcpu_ioctl_run,
 * arch/riscv/kvm/vcpu.c kvm_arch_vcpu_ioctl_run; virt/kvm/kvm_main.c
 * kvm_vcpu_ioctl case KVM_RUN) executing a
 * guest program op by op on the VM's virtual clock.
 *
 * One KVM_RUN: complete the previous exit (MMIO read data, SBI/CSR/hypercall
 * results) → honour immediate_exit → vcpu_load (placement) → loop { signals →
 * requests → entry checks and irqchip flush → guest ops } until an exit. Each
 * op costs virtual time from the cost model and advances the VM's event queue
 * by that much, so timers and injections happen between instructions. RAM
 * accesses go to the memslots, other loads and stores to the kernel MMIO bus,
 * and what no in-kernel device claims exits with KVM_EXIT_MMIO. An interrupt
 * is taken (the guest's vector runs, masked) when the irqchip has one pending
 * and the guest has interrupts unmasked; the run loop re-checks only when
 * something may have changed (entry, unmask, vector return, an in-kernel
 * device or irqchip register access), so the hot path is a switch on op.kind.
 */

import { ConfigError, MMIO_UNHANDLED, guestOpProblem, largestHolding, op, pollGoesOn, returnsAfterOp, type AccessSize, type GuestMemory, type GuestOp, type GuestProgram, type MmioReadOp, type MmioWriteOp, type PollOp, type RepeatOp, type RepeatableOp, type SeqOp } from "@irqlab/sim";
import { REG_DIRECT, REG_NOT_HANDLED } from "./irqchip.js";
import type { IntrCause, MmioExit, QuietUserLoads, RunOptions, VcpuExit } from "./kvm-run.js";
import { KVM_REQ_SLEEP, KVM_REQ_SUSPEND, KVM_REQ_VCPU_RESET, requestBit } from "./requests.js";
import { KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED, KVM_EXIT_INTR, KVM_EXIT_MMIO, exitReasonName } from "./uapi/exit-reasons.js";
import { KVM_MP_STATE_STOPPED } from "./uapi/mp-state.js";
import { KVM_SYSTEM_EVENT_WAKEUP } from "./uapi/system-event.js";
import { EXITING_GUEST_MODE, IN_GUEST_MODE, INTERRUPTIBLE_END, OUTSIDE_GUEST_MODE, PARKED_OVER, PARKED_WAKING, WAIT_BLOCKED, WAIT_BUDGET, WAIT_IDLE, WAIT_OK, WAIT_POLLING, type GuestImage } from "./vcpu-core.js";
import { completeExit, PENDING_MMIO_READ, signExtendLoad } from "./exit-completion.js";
import { CNTPCT_EL0, CNTVCT_EL0, isArchCounterReg, readArchCounterReg } from "./arch-counter.js";
import { NO_REGS, VcpuTraps, WFI_OP } from "./vcpu-traps.js";
import { isArchTimerReg, TIMER_PTIMER, TIMER_VTIMER } from "./arch-timer/timer-uapi.js";
import { VcpuArchTimer } from "./arch-timer/vcpu-arch-timer.js";
import { brkEsr, EXC_BREAKPOINT } from "./uapi/guest-debug.js";
import { smcccQuery } from "./psci.js";
import { PollWindow } from "./poll-window.js";
import { sbiQuery } from "./sbi.js";

/** A store the run loop fills in again for each execution of a strided repeat. */
type StrideStore = { -readonly [K in keyof MmioWriteOp]: MmioWriteOp[K] };
/** The same for a load: `signExtend` is set or cleared each time. */
type StrideLoad = { -readonly [K in keyof Omit<MmioReadOp, "signExtend">]: MmioReadOp[K] } & { signExtend: 32 | 64 | undefined };

/** The byte every byte of store `w` is (its value repeated), or -1 if they differ. */
function uniformByte(w: MmioWriteOp): number {
  const b = w.value & 0xff;
  const word = (b * 0x0101_0101) >>> 0;
  if (w.size === 1) return b;
  if (w.size === 2) return (w.value & 0xffff) === (word & 0xffff) ? b : -1;
  if (w.size === 4) return w.value >>> 0 === word ? b : -1;
  return w.value >>> 0 === word && w.hi >>> 0 === word ? b : -1;
}

const BIT_SLEEP = requestBit(KVM_REQ_SLEEP);
const BIT_RESET = requestBit(KVM_REQ_VCPU_RESET);
const BIT_SUSPEND = requestBit(KVM_REQ_SUSPEND);

// How far KVM_RUN has got on a vCPU: never called; past its argument checks (RISC-V's ran_atleast_once);
// past kvm_arch_vcpu_run_pid_change's first-run part, which later runs skip.
const RAN_NEVER = 0;
const RAN_ENTERED = 1;
const RAN_ENABLED = 2;

// Where a run the queue's limit stopped goes on when it is continued: what the vCPU would have done
// next had the limit not cut its charge short, so that its time is the same whichever vCPU runs the clock.
/** The kernel's run loop: signals, requests, the entry checks and the irqchip flush, then the guest. */
const RESUME_ENTRY = 0;
/** The guest's next op, from the checks between ops (requests, a pending interrupt). */
const RESUME_GUEST = 1;
/** The end of taking an interrupt (VcpuTraps.interruptTaken), then the guest. */
const RESUME_INJECTED = 2;
/** Out of guest mode after a world switch out (a request, a signal), then the kernel's run loop. */
const RESUME_LEFT = 3;
/** The end of a wait the vCPU was woken from (VcpuCore.endWaking), then the kernel's run loop. */
const RESUME_WOKEN = 4;
/** A WFI's halt poll, to the end of its window (VcpuCore.resumeHalt), then the rest of the halt. */
const RESUME_HALT_POLL = 5;
/** The same for the halt of a suspended vCPU (KVM_REQ_SUSPEND), then the run loop after its requests. */
const RESUME_SUSPEND_POLL = 6;
/** The kernel's run loop past its signal and request checks: the entry checks and the flush, then the guest. */
const RESUME_REQUESTED = 7;
/** A suspended vCPU woken, once its wake-up is paid: KVM_SYSTEM_EVENT_WAKEUP. */
const RESUME_SUSPEND_WOKEN = 8;
/** An exit whose round trip was cut short, once it is paid: KVM_RUN returns it (owe). */
const RESUME_EXIT = 9;
/** A WFI whose world switch was cut short, once it is paid: the next op if the vCPU may run, else the halt. */
const RESUME_WFI = 10;

/** The time idleUntil was asked about, handed on to #idlePastOwedEnd. */
const ASKED_PAST_OWED = new Float64Array(1);
/**
 * How far past the end of what it owes #idlePastOwedEnd was asked about, handed on to
 * returnsToComputationPast: passed as an argument to a call TurboFan left out of line, that time
 * (past 2^31 ns when the asking run's end is an idle spin's or a poll window's) was boxed at every
 * such call, about 1.3 an ipi round trip, in the processes that compiled it so.
 */
const PAST_OWED_END = new Float64Array(1);

/** The run loop of a vCPU. */
export abstract class VcpuRunLoop extends VcpuTraps {
  // The fields every KVM_RUN reads or writes come first, in as few cache lines as they fit: at thousands of
  // vCPUs each line of a vCPU a run touches is a cache miss (the RISC-V scale bench).
  #runTraced = false;
  // The program the run loop last resumed, and its `next` (see #guest).
  #resumed: GuestProgram | undefined;
  #resumeNext: GuestProgram["next"] | undefined;
  // The current run has RunOptions.until: its budget is the VMM's deadline, not another vCPU's.
  #bounded = false;
  // The current run's RunOptions.quietLoads.
  #quietLoads: QuietUserLoads | undefined;
  // The last run() returned "running": the next one continues the same KVM_RUN.
  #inRun = false;
  // How far KVM_RUN got: RAN_NEVER, RAN_ENTERED, RAN_ENABLED. One field for both: a field more in every vCPU
  // object costs the scale bench about a line from memory a delivery.
  #ran = RAN_NEVER;
  // Where the stopped run goes on once it has paid what it owes (RESUME_*).
  #resumeAt = RESUME_ENTRY;
  // The exit a stop owes (RESUME_EXIT): KVM_RUN returns it when the run continues and has paid its round trip.
  #owedExit: VcpuExit | undefined;
  // The tracer's guest-error count when the repeat's last execution began (with loopMark).
  #loopErrors = 0;
  // The repeat whose op #quietCost found not quiet: not asked again at each of its executions.
  #notQuiet: GuestOp | undefined;
  /** arm64: the vCPU's vtimer and ptimer, made at the guest's first timer access (arch-timer/). */
  protected archTimer: VcpuArchTimer | undefined;
  // When the current KVM_RUN entered (run() calls that continue it keep it), for its trace span: written
  // only when the run began traced (runTraced). A time is a double, which a field holds in a box of its
  // own: an untraced run of a vCPU whose state has left the cache would fetch that box for nothing.
  #runStart = 0;
  // At the last "running" return: when, and when the operation it was in (a cost owed, a computation) ends.
  #stoppedAt = 0;
  #owedEnd = 0;
  // How far the VMM let the clock pass since then without continuing (idleUntil): that time was run.
  #ranTo = 0;
  // The op of one execution of a repeated load or store with a stride (RepeatOp.stride), made at first use and reused.
  // (Made by the op builders, so that they have the shape of every other op.)
  #strideStore: StrideStore | undefined;
  #strideLoad: StrideLoad | undefined;
  #owedCause: IntrCause = "kick"; // the cause of an owed KVM_EXIT_INTR (its record is also the stop's)
  // The WFI a stop interrupted (RESUME_WFI, RESUME_HALT_POLL): re-executed if its halt returns blocked.
  #wfiOp: GuestOp | undefined;
  // A poll's turns charged as one (made at the first): see #pollWindow. #pollSkip arms it for the relax it
  // returns with the memory the poll reads.
  #window: PollWindow | undefined;
  #windowMem: GuestMemory | undefined;
  // The repeat, sequence and poll this vCPU last found well formed: a loop that yields the same one again
  // is not checked again (ops are immutable once made, as their readonly fields say).
  #checkedRepeat: GuestOp | undefined;
  #checkedSeq: GuestOp | undefined;
  #checkedPoll: GuestOp | undefined;
  /**
   * Whether KVM_RUN was called with a 0 argument on a live VM (RISC-V's
   * vcpu->arch.ran_atleast_once, set by kvm_arch_vcpu_ioctl_run, which
   * freezes the vCPU's ISA and SBI extensions and machine ids).
   */
  protected get hasRunOnce(): boolean {
    return this.#ran !== RAN_NEVER;
  }

  /**
   * KVM_RUN's checks until one passes them: the vCPU is initialised, then
   * kvm_arch_vcpu_run_pid_change's first-run part (the VM's irqchip, this
   * vCPU's devices).
   */
  #firstRun(): void {
    this.#ran = RAN_ENTERED;
    if (!this.initialized) this.vm.fail("ENOEXEC", "KVM_RUN", `vCPU ${this.vcpuId} was not initialised with KVM_ARM_VCPU_INIT`);
    this.vm.firstRun(() => {
      this.enableAtFirstRun();
    });
    this.#ran = RAN_ENABLED;
  }

  /** Whether the vCPU may run yet (arm64: KVM_ARM_VCPU_INIT done). */
  protected abstract get initialized(): boolean;

  /**
   * The vCPU's own part of its first KVM_RUN, after the irqchip's resources
   * (arm64: kvm_timer_enable, kvm_arm_pmu_v3_enable); throw to fail the
   * KVM_RUN, which the next one then tries again.
   */
  protected abstract enableAtFirstRun(): void;

  /** kvm_timer_should_notify_user (the model has no vPMU output in device_irq_level). */
  protected override shouldNotifyUser(): boolean {
    return this.archTimer?.shouldNotifyUser(this.kvmRun) === true;
  }

  /**
   * @internal ArchTimerVcpu: the vCPU's own timer rose with an in-kernel vgic.
   * If the vCPU is in the guest, the host's timer interrupt takes it out
   * (kvm_arch_timer_handler) on its own CPU: no kick from elsewhere.
   */
  hostTimerInterrupt(): void {
    if (this.mode === IN_GUEST_MODE) this.timerExit = true;
  }

  /**
   * KVM_RUN. Returns the exit (the vCPU's kvm_run member, valid until the
   * next run). `arg` must be 0. Throws KvmError as the ioctl fails: EINVAL
   * (arg), ENOEXEC (arm64 without KVM_ARM_VCPU_INIT), EIO (VM dead).
   *
   * Without options a run ends only with an exit, a kick or an empty event
   * queue (KVM_EXIT_INTR "idle"); a guest that never exits nor blocks keeps
   * it going for ever, as KVM_RUN on Linux until a signal. `options.until`
   * bounds it in virtual time (KVM_EXIT_INTR "budget"); `options.onWakeup`
   * makes it return when the vCPU blocks (KVM_EXIT_INTR "blocked"), and when
   * the limit of an enclosing event-queue run stops it ("running": not an
   * exit, the next run() continues the same KVM_RUN).
   */
  run(arg = 0, options?: RunOptions): VcpuExit {
    // kvm_vcpu_ioctl refuses any ioctl of a dead VM before KVM_RUN looks at its argument.
    if (this.vm.dead) this.vm.fail("EIO", "KVM_RUN", "the VM is dead (KVM_REQ_VM_DEAD)");
    if (arg !== 0) this.vm.fail("EINVAL", "KVM_RUN", `arg ${arg} must be 0`);
    if (this.#ran !== RAN_ENABLED) this.#firstRun();
    const q = this.queue;
    // After "running" this call continues the same KVM_RUN (its span, its count) where it stopped (#entry).
    const continued = this.#inRun;
    this.#inRun = false;
    // An exit on its way out (only ever in a continued run) has nothing to complete yet: the VMM has not seen it.
    if (this.#owedExit === undefined) completeExit(this, this.kvmRun);
    if (!continued) {
      this.#runTraced = this.tracer.enabled;
      if (this.#runTraced) this.#runStart = q.now;
    }
    else if (this.#ranTo > this.#stoppedAt) {
      const ran = this.#ranTo - this.#stoppedAt;
      if (this.debt > 0) this.debt -= ran;
      else if (!this.haltPolling) this.computeLeft -= ran;
    }
    if (this.kvmRun.immediateExit !== 0 && this.#owedExit === undefined) {
      this.signalPending = false;
      const e = this.intr("immediate-exit");
      if (continued) this.#endRun(e);
      return e;
    }
    const until = options?.until;
    // A budget narrows the queue's limit until this call returns (without one the limit is not
    // touched, nor read). The queue keeps the limit to give back: held here, it would be boxed.
    const bounded = until !== undefined;
    if (bounded) q.pushLimit(until);
    this.wakeHook = options?.onWakeup;
    this.#quietLoads = options?.quietLoads;
    this.#bounded = bounded;
    try {
      const cpuBefore = this.hostCpu;
      this.load();
      if (this.tracer.enabled) this.#traceEntry(continued, cpuBefore);
      const exit = this.#entry(continued && this.hostCpu !== cpuBefore);
      if (exit.reason === KVM_EXIT_INTR && exit.cause === "running") return exit; // still in KVM_RUN
      this.#endRun(exit);
      return exit;
    } finally {
      this.wakeHook = undefined;
      this.#quietLoads = undefined;
      if (bounded) q.popLimit();
    }
  }

  /**
   * After run() handed back "running": whether continuing that KVM_RUN up to
   * `time` would do nothing but let the time pass — the vCPU pays an
   * operation's cost or computes beyond `time`, or a kick made while it paid
   * has it switch out of the guest and `time` comes before that switch ends,
   * or the op it pays is its interrupt vector's last and the vector's return
   * takes up a computation that goes on beyond `time` — and nothing it looks
   * at when it goes on has changed (immediate_exit; for a computation also
   * signals, requests, the power state, a deliverable interrupt; the
   * placement). If so the vCPU counts the time up to `time` as run (through
   * the vector's return, which it then takes), and the VMM may let the
   * clock get there without calling run() (EventQueue.scheduleWhenUnlimited).
   * Without `time`, the time the queue asks a standing handler about
   * (EventQueue.askedTime): a time beyond 2^31 ns passed to a call TurboFan
   * does not inline is boxed.
   */
  idleUntil(time?: number): boolean {
    if (!this.#inRun || this.kvmRun.immediateExit !== 0 || this.vm.dead) return false;
    // Not a default parameter: compiled apart from its caller, this method would merge the time it
    // reads with its argument (any value there) and box it, a heap number at every ask past 2^31 ns.
    // The unary plus makes the argument a number too, and the two merge unboxed.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- for V8's representation, not the type
    const at = time === undefined ? this.queue.askedTime : +time;
    // Up to the end of what it owes included: a run stopped at that time starts no operation there.
    // Past it, up to the end of the world switch out that follows if that switch is all it does next.
    // (The time stays here: passed to a call TurboFan does not inline, a time that is not a small
    // integer, such as a poll window's end at the limit of a long KVM_RUN, is boxed at every ask.)
    if (at > this.#owedEnd) {
      ASKED_PAST_OWED[0] = at;
      return this.#idlePastOwedEnd();
    }
    if (this.debt === 0) {
      // Owing nothing, the continued run would look at these (or some of them) before computing on.
      if (this.signalPending || this.requests !== 0 || this.mode === EXITING_GUEST_MODE || this.irqCheck || this.mpState === KVM_MP_STATE_STOPPED) return false;
      if (!this.vm.supportsCpu(this.hostCpu) || (!this.masked && this.chip.hasPendingIrq())) return false;
      // A halt poll goes on until its window ends unless a kick ends it.
      if (this.haltPolling && this.haltPollKicked) return false;
    }
    if (!this.vm.host.keepsPlacement(this)) return false;
    this.#ranTo = at;
    return true;
  }

  /**
   * {@link idleUntil} past the end of what the vCPU owes, which it gets past
   * only through what follows that end alone: a world switch out, if `at`
   * comes before it ends (#leavesOnceOwed), or the program's return into a
   * computation that goes on past `at` (#returnsOnceOwed). Apart from
   * idleUntil, whose bytecode TurboFan inlines where the queue asks; `at`
   * in {@link ASKED_PAST_OWED}, for the reason idleUntil keeps its time.
   */
  #idlePastOwedEnd(): boolean {
    const at = ASKED_PAST_OWED[0]!;
    const switchesOut = at < this.#owedEnd + this.costs.worldSwitch && this.#leavesOnceOwed();
    if ((!switchesOut && !this.#returnsOnceOwed()) || !this.vm.host.keepsPlacement(this)) return false;
    if (switchesOut) this.#oweSwitchOut();
    else this.#returnOnceOwed();
    this.#ranTo = at;
    return true;
  }

  /**
   * Whether the stopped run, once it has paid what it owes (the cost of an
   * op of the program it runs), resumes the program only for it to return
   * ({@link returnsAfterOp}: an interrupt's vector after its EOI) into a
   * computation that goes on past the time idleUntil was asked about
   * ({@link returnsToComputationPast}: the spin the interrupt came in), and
   * then computes with nothing to stop it: no request, signal or kick, no
   * interrupt it could take once the return unmasks it. Asked only while
   * nothing else runs, so the state it reads is the state the run would
   * find at the end of what it owes.
   */
  #returnsOnceOwed(): boolean {
    if (!(this.debt > 0) || this.#resumeAt !== RESUME_GUEST || this.#leaving()) return false;
    // The next op would be the program's (#guest), and the program has said that resuming it returns.
    if (this.replay !== undefined || this.repeat !== undefined || this.seq !== undefined || this.pollOp !== undefined || this.computeLeft > 0) return false;
    const gen = this.gen;
    if (gen === undefined || this.#windowMem !== undefined || !returnsAfterOp(gen)) return false;
    // How far past the end of what it owes idleUntil was asked about: in an array, as the time is here.
    PAST_OWED_END[0] = ASKED_PAST_OWED[0]! - this.#owedEnd;
    if (!this.returnsToComputationPast(PAST_OWED_END)) return false;
    if (this.mpState === KVM_MP_STATE_STOPPED || this.haltPolling || !this.vm.supportsCpu(this.hostCpu)) return false;
    return !this.chip.hasPendingIrq();
  }

  /**
   * {@link idleUntil} said yes past the end of what the vCPU owes, through
   * the program's return (#returnsOnceOwed): the run takes the steps it
   * would have taken at that end — the check between ops, which takes no
   * interrupt, the program's resume, which returns, and the check after the
   * return, which takes none either — and is left as one the limit stopped
   * there in the computation it took up (#budget). None of them costs time
   * or reads what changed since: nothing did (see #returnsOnceOwed). Both
   * checks end as the second does (irqCheck and timerExit cleared), and
   * neither the resume nor the return reads them, so that one is made.
   */
  #returnOnceOwed(): void {
    const end = this.#owedEnd;
    this.debt = 0;
    const it = this.gen!.next(this.result);
    if (it.done !== true) throw new ConfigError(`vCPU ${this.vcpuId}: a guest program whose returnsAfterOp said its next resume returns yielded another op`);
    this.returnFromProgram(it.value);
    this.irqCheck = false;
    this.timerExit = false;
    this.#stoppedAt = end;
    this.#owedEnd = end + this.computeLeft;
  }

  /**
   * {@link idleUntil} said yes past the end of what the vCPU owes: the world
   * switch out is owed as the continued run would have begun it, and the run
   * goes on out of guest mode.
   */
  #oweSwitchOut(): void {
    const ws = this.costs.worldSwitch;
    this.debt += ws;
    this.#owedEnd += ws;
    this.#resumeAt = RESUME_LEFT;
  }

  /**
   * Whether the stopped run, once it has paid what it owes, leaves the guest
   * at the checks between ops (#guest: a request, a signal, a kick) through
   * a world switch out and nothing else: nothing but time passes until that
   * switch is over, then the run loop goes on out of guest mode (RESUME_LEFT).
   * Asked only while nothing else runs, so the state it reads is the state
   * the run would find at the end of what it owes.
   */
  #leavesOnceOwed(): boolean {
    return this.debt > 0 && this.#resumeAt === RESUME_GUEST && this.#leaving() && this.#switchesOut();
  }

  /** A request, a signal or a kick takes the vCPU out of the guest at the next check between ops (#guest). */
  #leaving(): boolean {
    return this.requests !== 0 || this.signalPending || this.mode === EXITING_GUEST_MODE;
  }

  /**
   * Whether leaving the guest now costs a world switch out and back in: not
   * when the vCPU's own timer took it out and the interrupt it takes at
   * re-entry pays the round trip.
   */
  #switchesOut(): boolean {
    return !this.timerExit || this.masked || !this.chip.hasPendingIrq();
  }

  /**
   * For {@link idleUntil} asked about a run of equal steps (a poll of the
   * other vCPU skipping its turns): at most how many steps of `step` after
   * `from`, up to `max`, it could say yes to — those that end by the end of
   * what the vCPU owes, or of the world switch out that follows it (see
   * #leavesOnceOwed). An upper bound: idleUntil still decides. Without
   * `from`, after the time the queue asks about (EventQueue.askedTime,
   * IdleCheck.stepsAsked), for the reason idleUntil takes it from there.
   */
  idleSteps(from: number | undefined, step: number, max: number): number {
    if (!this.#inRun) return 0;
    // As in idleUntil: the plus makes both sides of the merge numbers, which TurboFan keeps unboxed.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-conversion -- for V8's representation, not the type
    const at = from === undefined ? this.queue.askedTime : +from;
    const end = this.#leavesOnceOwed() ? this.#owedEnd + this.costs.worldSwitch : this.#owedEnd;
    const n = Math.floor((end - at) / step);
    return n < max ? n : max;
  }

  /** The end of a KVM_RUN (possibly continued over several run() calls): out of the guest, traced. */
  #endRun(exit: VcpuExit): void {
    this.mode = OUTSIDE_GUEST_MODE;
    this.archTimer?.updateRun(this.kvmRun);
    if (this.tracer.enabled) {
      // A run that began before the tracer was enabled has no start to span from.
      const start = this.#runStart;
      if (this.#runTraced) this.tracer.span(this.track, "kvm", "KVM_RUN", start, this.queue.now - start, { exit: exitReasonName(exit.reason), cpu: this.hostCpu });
      this.vcpuState.cut();
      this.vm.kvm.hostCpuTrace.leave(this.hostCpu, this.threadName);
    }
  }

  /**
   * Trace only, after vcpu_load: a new KVM_RUN starts "in kernel" on its host
   * CPU's track; a continued one that moved leaves the old CPU's track.
   */
  #traceEntry(continued: boolean, cpuBefore: number): void {
    const cpus = this.vm.kvm.hostCpuTrace;
    if (!continued) {
      this.vcpuState.enter("in kernel");
      cpus.enter(this.hostCpu, this.threadName);
    } else if (cpuBefore !== this.hostCpu) {
      cpus.leave(cpuBefore, this.threadName);
      cpus.enter(this.hostCpu, this.threadName);
    }
  }

  /**
   * Pays what the last run left owing, finishes a wait it returned from, then
   * runs the loop. A continued run that `moved` to another host CPU enters
   * the guest anew there (the flush is per CPU).
   */
  #entry(moved: boolean): VcpuExit {
    const parked = this.resumeParkedWait(this.#continuable());
    // Woken: the WFI is over, the guest goes on after it.
    if (parked === PARKED_OVER && this.replay?.kind === "wfi") this.replay = undefined;
    else if (parked === PARKED_WAKING) return this.#budget(RESUME_WOKEN);
    if (this.debt > 0) {
      const d = this.debt;
      this.debt = 0;
      this.spend(d);
      if (this.debt > 0) return this.#budget(this.#resumeAt);
    }
    const at = this.#resumeAt;
    this.#resumeAt = RESUME_ENTRY;
    switch (at) {
      case RESUME_GUEST:
        return this.#loop(moved ? RESUME_ENTRY : RESUME_GUEST);
      case RESUME_INJECTED:
        this.interruptTaken();
        return this.#loop(moved ? RESUME_ENTRY : RESUME_GUEST);
      case RESUME_LEFT:
        this.#leaveGuest();
        return this.#loop(RESUME_ENTRY);
      case RESUME_WOKEN:
        this.endWaking();
        if (this.replay?.kind === "wfi") this.replay = undefined;
        return this.#loop(RESUME_ENTRY);
      case RESUME_EXIT: {
        const exit = this.#owedExit!;
        this.#owedExit = undefined;
        if (exit === this.intrExit) exit.cause = this.#owedCause;
        this.traceExit(exit);
        return exit;
      }
      case RESUME_WFI: {
        const op = this.#wfiOp!;
        this.#wfiOp = undefined;
        // As the WFI case goes on after its world switch: the next op if the vCPU may run, else the halt.
        if (this.runnable()) return this.#loop(moved ? RESUME_ENTRY : RESUME_GUEST);
        return this.#halted(op, this.halt(this.#continuable())) ?? this.#outOfGuest() ?? this.#loop(RESUME_ENTRY);
      }
      case RESUME_HALT_POLL: {
        const op = this.#wfiOp!;
        this.#wfiOp = undefined;
        return this.#halted(op, this.resumeHalt(this.#continuable())) ?? this.#outOfGuest() ?? this.#loop(RESUME_ENTRY);
      }
      case RESUME_SUSPEND_POLL:
        return this.#suspendHalted(this.resumeHalt(this.#continuable())) ?? this.#loop(RESUME_REQUESTED);
      case RESUME_SUSPEND_WOKEN:
        return this.#suspendWoken();
      default:
        return this.#loop(RESUME_ENTRY);
    }
  }

  /** Whether a run the limit stops may hand back "running" and be continued (RunOptions.onWakeup, no deadline of its own). */
  #continuable(): boolean {
    return this.wakeHook !== undefined && !this.#bounded;
  }

  /** See VcpuTraps.owe: with RunOptions.onWakeup and no deadline of its own, the run stops and delivers `e` at #entry. */
  protected owe(e: VcpuExit): VcpuExit | undefined {
    if (!this.#continuable()) return undefined;
    this.#owedExit = e;
    if (e === this.intrExit) this.#owedCause = e.cause;
    return this.#budget(RESUME_EXIT);
  }

  /**
   * What follows the halt of WFI `op` that ended with `w`: the exit that
   * ends the run if the vCPU was not woken inside it, or nothing to go back
   * to the run loop (the wake-up cost covered re-entry: requests, flush,
   * enter).
   */
  #halted(op: GuestOp, w: number): VcpuExit | undefined {
    if (w === WAIT_POLLING) {
      // The queue's limit cut the poll short: it goes on in the continued run.
      this.#wfiOp = op;
      return this.#budget(RESUME_HALT_POLL);
    }
    const e = this.#waitExit(w);
    // Re-executed at the next run: the guest sees no spurious wake-up.
    if (e !== undefined) this.replay = op;
    return e;
  }

  /** KVM_EXIT_INTR for a wait that ended without the vCPU being able to run (idle, budget, blocked), else undefined. */
  #waitExit(w: number): VcpuExit | undefined {
    if (w === WAIT_IDLE) return this.intr("idle");
    if (w === WAIT_BUDGET) return this.intr("budget");
    if (w === WAIT_BLOCKED) return this.intr("blocked");
    return undefined;
  }

  /**
   * The kernel's run loop, from `at`: RESUME_ENTRY starts with its checks
   * before entering the guest, RESUME_REQUESTED with those after the
   * requests, RESUME_GUEST goes straight on in the guest (a stopped run
   * continued).
   */
  #loop(at: number): VcpuExit {
    let enter = at !== RESUME_GUEST;
    let requested = at === RESUME_REQUESTED;
    for (;;) {
      if (enter) {
        const e = this.#enter(requested);
        if (e !== undefined) return e;
      }
      enter = true;
      requested = false;
      const e = this.#guest() ?? this.#outOfGuest();
      if (e !== undefined) return e;
    }
  }

  /**
   * Out of the guest (a request, a signal, a WFI's halt) into the kernel's
   * run loop, once the world switch or the wake-up is paid: the stop if the
   * limit cut that charge short, else undefined.
   */
  #outOfGuest(): VcpuExit | undefined {
    if (this.debt > 0 && this.#continuable()) return this.#budget(this.mode === OUTSIDE_GUEST_MODE ? RESUME_ENTRY : RESUME_LEFT);
    this.#leaveGuest();
    return undefined;
  }

  /** Out of guest mode, in the kernel's run loop. */
  #leaveGuest(): void {
    this.mode = OUTSIDE_GUEST_MODE;
    if (this.tracer.enabled) this.vcpuState.enter("in kernel");
  }

  /**
   * One pass of the run loop up to the guest: signals, requests, the entry
   * checks and the irqchip flush (the first time round without the signal
   * and request checks if `requested`: they were made). Returns an exit, or
   * undefined once in guest mode.
   */
  #enter(requested: boolean): VcpuExit | undefined {
    for (;;) {
      if (requested) requested = false;
      else {
        if (this.signalPending) {
          this.signalPending = false;
          return this.intr("kick", this.costs.exitToUserspace);
        }
        if (this.requests !== 0) {
          const e = this.#checkRequests();
          if (e !== undefined) return e;
        }
      }
      if (this.mpState === KVM_MP_STATE_STOPPED) {
        this.requests |= BIT_SLEEP;
        continue;
      }
      // Userspace irqchip: a timer output userspace has not seen yet (kvm_vcpu_exit_request).
      if (this.archTimer?.notifyUser(this.kvmRun) === true) return this.intr("device-irq-level", this.costs.exitToUserspace);
      const cpu = this.hostCpu;
      let reason = this.vm.supportsCpu(cpu) ? 0 : KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED;
      if (reason === 0) reason = this.chip.flush(cpu);
      if (reason !== 0) {
        const f = this.kvmRun.failEntry;
        f.hardwareEntryFailureReason = reason;
        f.cpu = cpu;
        // The VMM round trip of an exit to userspace (the entry itself never happened).
        return this.exit(f, this.costs.exitToUserspace);
      }
      if (this.gen === undefined && !this.booted && this.image !== undefined) this.#boot(this.image);
      this.mode = IN_GUEST_MODE;
      this.irqCheck = true;
      // The guest slice spans trace_kvm_entry to trace_kvm_exit.
      if (this.tracer.enabled) this.vcpuState.enter("guest");
      return undefined;
    }
  }

  /**
   * The first entry's boot: `img`'s main program, from the boot registers.
   * Out of #enter, which TurboFan inlines into the run loop: a call of
   * `image.main` there was specialised to the first machine's image, whose
   * function differs from the next machine's (each image makes its own), and
   * that next machine deoptimised the run loop at its first entry.
   */
  #boot(img: GuestImage): void {
    this.booted = true;
    this.gen = img.main(this.bootRegs);
  }

  /**
   * The event queue's limit stopped the run: the vCPU's time is the clock's
   * only up to where whatever holds it (another vCPU's operation) has got.
   * At the VMM's own deadline (until), or without RunOptions.onWakeup,
   * KVM_RUN returns KVM_EXIT_INTR "budget". Otherwise this is no exit: run()
   * hands back "running" so that the caller continues the same KVM_RUN once
   * the clock may move on (every step of the other vCPU, which would
   * otherwise count and trace as a KVM_RUN and an exit of its own). Nothing
   * else about the vCPU changes — it stays in guest mode if it was, for a
   * kick or the host timer to find it there — and the continued run pays
   * what is owed, then goes on at `resume` (RESUME_*), where the vCPU would
   * have gone on had its charge not been cut short.
   */
  #budget(resume: number): VcpuExit {
    if (!this.#continuable()) return this.intr("budget");
    this.#resumeAt = resume;
    this.#inRun = true;
    const now = this.queue.now;
    this.#stoppedAt = now;
    this.#ranTo = now;
    this.#owedEnd = this.debt > 0 ? now + this.debt : this.haltPolling ? this.haltPollEnd : now + this.computeLeft;
    const e = this.intrExit;
    e.cause = "running";
    return e;
  }

  /** check_vcpu_requests(). Returns an exit, or undefined to go on entering. */
  #checkRequests(): VcpuExit | undefined {
    if ((this.requests & BIT_SLEEP) !== 0) {
      this.requests &= ~BIT_SLEEP;
      const w = this.sleep();
      if (w !== 0) {
        this.requests |= BIT_SLEEP;
        return this.#waitExit(w);
      }
    }
    if ((this.requests & BIT_RESET) !== 0) {
      this.requests &= ~BIT_RESET;
      this.#reset();
    }
    if ((this.requests & BIT_SUSPEND) !== 0) {
      this.requests &= ~BIT_SUSPEND;
      return this.#suspendHalted(this.halt(this.#continuable()));
    }
    // IRQ_PENDING, the deassert request, UNBLOCK: their work is the flush at entry.
    this.requests &= BIT_SLEEP;
    return undefined;
  }

  /**
   * kvm_vcpu_suspend after the halt that ended with `w`: the exit that ends
   * the run, or undefined to go on with the entry checks (a signal).
   */
  #suspendHalted(w: number): VcpuExit | undefined {
    // The queue's limit cut the halt's poll short: it goes on in the continued run.
    if (w === WAIT_POLLING) return this.#budget(RESUME_SUSPEND_POLL);
    if (w !== WAIT_OK) {
      // Not woken to run (a signal, or the wait ended without a wake-up): suspended still.
      this.requests |= BIT_SUSPEND;
      return this.#waitExit(w);
    }
    // The exit's round trip begins once the wake-up is paid.
    if (this.debt > 0 && this.#continuable()) return this.#budget(RESUME_SUSPEND_WOKEN);
    return this.#suspendWoken();
  }

  /** kvm_vcpu_suspend woken: KVM_SYSTEM_EVENT_WAKEUP. */
  #suspendWoken(): VcpuExit {
    // "The suspend state is sticky" (kvm_vcpu_suspend): suspend again next time
    // unless userspace makes the vCPU RUNNABLE.
    this.requests |= BIT_SUSPEND;
    const s = this.kvmRun.systemEvent;
    s.type = KVM_SYSTEM_EVENT_WAKEUP;
    s.ndata = 0;
    return this.exit(s, this.costs.exitToUserspace);
  }

  /**
   * arm64 KVM_GET/SET_ONE_REG first handle a reset PSCI CPU_ON left pending,
   * "to ensure userspace register accesses are ordered after the reset"
   * (arch/arm64/kvm/arm.c kvm_arch_vcpu_ioctl: kvm_check_request(KVM_REQ_VCPU_RESET)
   * → kvm_reset_vcpu).
   */
  protected resetIfPending(): void {
    if ((this.requests & BIT_RESET) === 0) return;
    this.requests &= ~BIT_RESET;
    this.#reset();
  }

  /** KVM_REQ_VCPU_RESET: restart at the CPU_ON / hart_start entry point. */
  #reset(): void {
    const t = this.resetTarget;
    this.resetTarget = undefined;
    // kvm_reset_vcpu with reset_state.reset: PC = entry, x0 = context id. RISC-V after hart_start
    // (kvm_riscv_vcpu_sbi_load_reset_state): PC = entry, a0 (x10) = hart id, a1 = opaque.
    if (t !== undefined) this.resetGprs(t.entry, this.vm.arch === "arm64" ? [t.context] : [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, this.vcpuId, t.context]);
    this.dropFrames();
    this.masked = true;
    this.computeLeft = 0;
    this.computeUntilIrq = false;
    this.timerExit = false;
    this.replay = undefined;
    this.clearLoops();
    this.booted = true;
    const img = this.image;
    if (img === undefined) {
      this.gen = undefined;
      return;
    }
    this.gen = t !== undefined && img.secondary ? img.secondary(t.entry, t.context) : img.main(this.bootRegs);
    if (this.tracer.enabled) this.tracer.instant(this.track, "kvm", "vcpu-reset", { entry: t?.entry ?? 0 });
  }

  /**
   * The internal-error exit for a repeat, sequence, poll or call op that is
   * not well formed (guestOpProblem), or undefined when it is: the builders
   * check an op's shape, a hand-made one may not have been through them.
   */
  #malformed(op: GuestOp): VcpuExit | undefined {
    const why = guestOpProblem(op);
    return why === undefined ? undefined : this.internal(op, `${op.kind}: ${why}`);
  }

  /**
   * {@link #malformed} for a repeat, sequence or poll other than the one of
   * its kind this vCPU last found well formed; a well-formed one is
   * remembered as that one (the caller compares before calling).
   */
  #malformedNew(op: RepeatOp | SeqOp | PollOp): VcpuExit | undefined {
    const malformed = this.#malformed(op);
    if (malformed !== undefined) return malformed;
    if (op.kind === "seq") this.#checkedSeq = op;
    else if (op.kind === "poll") this.#checkedPoll = op;
    else this.#checkedRepeat = op;
    return undefined;
  }

  /** VcpuTraps.prefetch, and the span of the run loop's own fields from `#runTraced` to `archTimer`. */
  override prefetch(): number {
    let n = super.prefetch();
    if (this.#runTraced) n++;
    if (this.#owedExit !== undefined) n++;
    if (this.archTimer !== undefined) n++;
    return n;
  }

  /** Executes guest ops. Returns an exit, or undefined to re-enter (requests, signal). */
  #guest(): VcpuExit | undefined {
    const q = this.queue;
    const costs = this.costs;
    const result = this.result;
    const vm = this.vm;
    const riscv = vm.arch === "riscv64";
    // Entered anew: whatever the last op of a repeat or poll read may have changed since (an exit's completion, the flush).
    this.loopMark = -1;
    for (;;) {
      if (this.debt > 0 || q.atLimit) return this.#budget(RESUME_GUEST);
      // A kick forces the vCPU out even with no request for it (KVM_REQ_OUTSIDE_GUEST_MODE).
      // #leaving(), written out: TurboFan's budget for what it inlines into this loop is spent elsewhere.
      if (this.requests !== 0 || this.signalPending || this.mode === EXITING_GUEST_MODE) {
        if (this.#switchesOut()) this.spend(costs.worldSwitch);
        return undefined;
      }
      if (this.irqCheck) {
        this.irqCheck = false;
        if (!this.masked && this.chip.hasPendingIrq() && this.takeInterrupt()) {
          // The vector's first op runs once the injection is paid, after the checks made before any entry.
          if (this.debt > 0 && this.#continuable()) return this.#budget(RESUME_INJECTED);
          this.interruptTaken();
          continue;
        }
        this.timerExit = false;
      }
      if (this.computeLeft > 0) {
        const mem = this.#windowMem;
        if (mem !== undefined) {
          this.#windowMem = undefined;
          if (this.#pollWindow(mem)) continue;
        }
        // A kick (interrupt, request, signal) ends the computation early, so
        // what it raised is taken between "instructions"; the rest resumes later.
        const end = q.now + this.computeLeft;
        INTERRUPTIBLE_END[0] = end;
        this.spendInterruptible();
        this.computeLeft = end - q.now;
        continue;
      }
      let op: GuestOp | undefined;
      if (this.replay !== undefined) {
        op = this.replay;
        this.replay = undefined;
        this.loopMark = -1;
      } else if (this.repeat !== undefined) {
        // RepeatOp: the next execution of the repeated op, without resuming the program.
        const rp = this.repeat;
        if (rp.stride === undefined) {
          op = rp.op;
          // The last execution was this op's, nothing ran since it began and it logged no guest error: the rest may go in bulk.
          if (rp !== this.#notQuiet && this.loopMark === q.dispatched && this.tracer.guestErrors === this.#loopErrors && this.#bulkQuiet(op)) continue;
          this.loopMark = q.dispatched;
          this.#loopErrors = this.tracer.guestErrors;
        } else {
          const i = this.repeatDone;
          if (rp.count - i > 1 && rp.op.kind === "mmio-write" && this.#bulkStores(rp.op, rp.stride)) continue;
          op = this.#stridedOp(rp.op, rp.stride, i);
        }
        if (++this.repeatDone === rp.count) this.#repeatOver();
      } else if (this.seq !== undefined) {
        // SeqOp: its next op, without resuming the program.
        const sq = this.seq;
        op = sq.ops[this.seqNext++]!;
        if (this.seqNext === sq.ops.length) this.seq = undefined;
      } else {
        // PollOp: its next load or relax, until the poll is over.
        if (this.pollOp !== undefined) op = this.#pollNext();
        if (op === undefined) {
          if (this.gen === undefined) op = WFI_OP;
          else {
            // The program's `next`, looked up when the vCPU resumes another program than last time: boot code,
            // handlers and loops are generators and state machines of many shapes, which would make the lookup
            // at every resume a megamorphic one.
            const gen = this.gen;
            let resume = this.#resumeNext;
            if (gen !== this.#resumed) {
              // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the program as `this` below
              resume = gen.next;
              this.#resumeNext = resume;
              this.#resumed = gen;
            }
            const it = resume!.call(gen, result);
            if (it.done === true) {
              this.returnFromProgram(it.value);
              continue;
            }
            op = it.value;
          }
        }
      }
      // V8 compiles a switch on strings to a chain of comparisons, made in the order of the cases: the ops of
      // interrupt handlers and their senders come first (stores, loads, system registers, sequences, polls).
      switch (op.kind) {
        case "mmio-write": {
          result.regs = NO_REGS;
          result.value = 0;
          result.hi = 0;
          result.error = 0;
          const mem = vm.ramFor(op.addr, op.size, true);
          if (mem !== undefined) {
            const a = op.addr;
            if (op.size === 4) mem.writeU32(a, op.value);
            else if (op.size === 1) mem.writeU8(a, op.value);
            else if (op.size === 2) mem.writeU16(a, op.value);
            else {
              mem.writeU32(a, op.value);
              mem.writeU32(a + 4, op.hi);
            }
            this.spend(costs.instruction);
            break;
          }
          if (vm.kernelBus.write(op.addr, op.size, op.value, op.hi)) {
            if (this.tracer.enabled) this.#traceMmio(true, op.size, op.addr, op.value);
            this.irqCheck = true;
            this.spend(costs.mmioInKernel);
            break;
          }
          const m = this.#mmioExit(op.addr, op.size, true);
          m.value = op.value;
          if (op.size === 8) m.hi = op.hi;
          return this.exit(m, costs.exitToUserspace);
        }
        case "mmio-read": {
          result.regs = NO_REGS;
          result.error = 0;
          const mem = vm.ramFor(op.addr, op.size, false);
          if (mem !== undefined) {
            const a = op.addr;
            result.hi = 0;
            if (op.size === 4) result.value = mem.readU32(a);
            else if (op.size === 1) result.value = mem.readU8(a);
            else if (op.size === 2) result.value = mem.readU16(a);
            else {
              result.value = mem.readU32(a);
              result.hi = mem.readU32(a + 4);
            }
            if (op.signExtend !== undefined) signExtendLoad(result, op.size, op.signExtend);
            this.spend(costs.instruction);
            break;
          }
          const v = vm.kernelBus.read(op.addr, op.size);
          if (v !== MMIO_UNHANDLED) {
            result.value = v;
            result.hi = vm.kernelBus.readHi;
            if (this.tracer.enabled) this.#traceMmio(false, op.size, op.addr, v);
            // io_mem_abort / kvm_riscv_vcpu_mmio_load: an in-kernel read completes through the same return path.
            if (op.signExtend !== undefined) signExtendLoad(result, op.size, op.signExtend);
            this.irqCheck = true;
            this.spend(costs.mmioInKernel);
            break;
          }
          this.pending = PENDING_MMIO_READ;
          this.mmioSignExtend = op.signExtend ?? 0;
          if (this.#quietLoads !== undefined && this.repeat?.op === op) this.#answerQuietLoads(op);
          return this.exit(this.#mmioExit(op.addr, op.size, false), costs.exitToUserspace);
        }
        case "sysreg-read":
        case "sysreg-write": {
          if (riscv) return this.internal(op, "MRS/MSR on a RISC-V vCPU");
          result.regs = NO_REGS;
          result.error = 0;
          const how = this.chip.handlesSysReg(op.reg);
          if (how !== REG_NOT_HANDLED) {
            if (op.kind === "sysreg-read") {
              result.value = this.chip.readSysReg(op.reg, result) >>> 0;
              result.hi >>>= 0;
            } else {
              this.chip.writeSysReg(op.reg, op.value, op.hi);
              result.value = 0;
              result.hi = 0;
            }
            if (how !== REG_DIRECT && this.tracer.enabled) this.#traceSysReg(op.kind === "sysreg-write", op.reg, op.kind === "sysreg-write" ? op.value : result.value);
            this.irqCheck = true;
            this.spend(how === REG_DIRECT ? costs.sysregNoTrap : costs.sysregTrap);
            break;
          }
          // The EL0 timers: direct on a VHE host, no trap (arch-timer/vcpu-arch-timer.ts).
          if (isArchTimerReg(op.reg)) {
            const t = (this.archTimer ??= new VcpuArchTimer(this));
            if (op.kind === "sysreg-read") {
              result.value = t.read(op.reg, result);
            } else {
              t.write(op.reg, op.value, op.hi);
              result.value = 0;
              result.hi = 0;
            }
            // CNTP_* trap under a non-zero counter offset (ArchTimerVmData.physicalTraps).
            this.spend(t.traps(op.reg) ? costs.sysregTrap : costs.sysregNoTrap);
            break;
          }
          // The counter and MPIDR_EL1: read without a trap, values KVM set up (arch-counter.ts).
          if (op.kind === "sysreg-read" && isArchCounterReg(op.reg)) {
            const offset = vm.timerData.offset(op.reg === CNTVCT_EL0 ? TIMER_VTIMER : TIMER_PTIMER);
            result.value = readArchCounterReg(op.reg, q.now, vm.counterEpoch, vm.counterHz, this.vcpuId, result, offset);
            if (offset !== undefined && op.reg === CNTPCT_EL0 && vm.timerData.physicalTraps) {
              this.spend(costs.sysregTrap);
              break;
            }
          } else if (op.kind === "sysreg-read") {
            // Not the irqchip's: an ordinary EL1 register that does not trap and holds what is written.
            result.value = this.sysregs.get(op.reg * 2) ?? 0;
            result.hi = this.sysregs.get(op.reg * 2 + 1) ?? 0;
          } else {
            this.sysregs.set(op.reg * 2, op.value >>> 0);
            this.sysregs.set(op.reg * 2 + 1, op.hi >>> 0);
            result.value = 0;
            result.hi = 0;
          }
          this.spend(costs.sysregNoTrap);
          break;
        }
        case "seq": {
          if (op !== this.#checkedSeq) {
            const malformed = this.#malformedNew(op);
            if (malformed !== undefined) return malformed;
          }
          // Costs nothing itself: its ops are fetched above, one per turn of this loop.
          this.seq = op;
          this.seqNext = 0;
          continue;
        }
        case "poll": {
          if (op !== this.#checkedPoll) {
            const malformed = this.#malformedNew(op);
            if (malformed !== undefined) return malformed;
          }
          // Costs nothing itself: its loads and relaxes are fetched above, one per turn of this loop.
          this.pollOp = op;
          this.pollLeft = op.tries;
          this.pollCheck = false;
          continue;
        }
        case "compute":
          this.computeLeft = Math.max(0, Math.round(op.ns));
          this.computeUntilIrq = op.untilInterrupt === true;
          break;
        case "csr": {
          if (!riscv) return this.internal(op, "CSR instruction on an arm64 vCPU");
          const e = this.csr(op.op, op.csr, op.value, op.hi);
          if (e !== undefined) return e;
          break;
        }
        case "wfi": {
          result.regs = NO_REGS;
          result.value = 0;
          result.hi = 0;
          result.error = 0;
          this.spend(costs.worldSwitch);
          if (this.debt > 0 && this.#continuable()) {
            // The halt begins once the world switch is paid: the run stops here and #entry goes on.
            this.#wfiOp = op;
            return this.#budget(RESUME_WFI);
          }
          if (this.runnable()) break;
          return this.#halted(op, this.halt(this.#continuable()));
        }
        case "repeat": {
          if (op !== this.#checkedRepeat) {
            const malformed = this.#malformedNew(op);
            if (malformed !== undefined) return malformed;
          }
          // Costs nothing itself: its executions are fetched above, one per turn of this loop.
          this.repeat = op;
          this.repeatDone = 0;
          this.loopMark = -1;
          this.#notQuiet = undefined;
          continue;
        }
        case "hvc":
        case "smc": {
          if (riscv) return this.internal(op, "HVC/SMC on a RISC-V vCPU");
          const e = this.smccc(op.kind === "smc", op.imm, op.args);
          if (e !== undefined) return e;
          break;
        }
        case "sbi": {
          if (!riscv) return this.internal(op, "ecall on an arm64 vCPU");
          const e = this.sbi(op.ext, op.fid, op.args);
          if (e !== undefined) return e;
          break;
        }
        case "call": {
          // Not remembered: call() makes a call op for each program it runs.
          const malformed = this.#malformed(op);
          if (malformed !== undefined) return malformed;
          // Costs nothing itself, as `yield*` does not: the program's ops are fetched above from now on.
          this.callProgram(op.program as GuestProgram);
          continue;
        }
        case "irq-mask":
        case "irq-unmask":
          this.masked = op.kind === "irq-mask";
          if (!this.masked) this.irqCheck = true;
          this.spend(costs.instruction);
          break;
        // Rare ops last.
        case "brk": {
          if (riscv) return this.internal(op, "BRK on a RISC-V vCPU");
          const e = this.softwareBreakpoint(op, op.pc, brkEsr(op.imm), brkEsr(op.imm));
          if (e !== undefined) return e;
          break;
        }
        case "ebreak": {
          if (!riscv) return this.internal(op, "EBREAK on an arm64 vCPU");
          const e = this.softwareBreakpoint(op, op.pc, 0, EXC_BREAKPOINT);
          if (e !== undefined) return e;
          break;
        }
        default:
          return this.internal(op, `unknown guest operation '${String((op as { kind: unknown }).kind)}'`);
      }
    }
  }

  /** Execution `i` of a repeated load or store with a stride: the op at its address (one reused object per kind). */
  #stridedOp(o: RepeatableOp, stride: number, i: number): GuestOp {
    if (o.kind === "mmio-write") {
      const w = (this.#strideStore ??= op.write(0, 4, 0) as StrideStore);
      w.addr = o.addr + i * stride;
      w.size = o.size;
      w.value = o.value;
      w.hi = o.hi;
      return w;
    }
    if (o.kind !== "mmio-read") return o;
    const r = (this.#strideLoad ??= op.read(0, 4) as StrideLoad);
    r.addr = o.addr + i * stride;
    r.size = o.size;
    r.signExtend = o.signExtend;
    return r as MmioReadOp;
  }

  /** Executions of the repeat under way still to come. */
  #repeatsLeft(): number {
    return this.repeat!.count - this.repeatDone;
  }

  /** `k` more executions of the repeat under way are done (at most those left). */
  #repeated(k: number): void {
    this.repeatDone += k;
    if (this.repeatDone === this.repeat!.count) this.#repeatOver();
  }

  /** The repeat under way has executed its op `count` times: the program resumes next. */
  #repeatOver(): void {
    this.repeat = undefined;
    this.repeatDone = 0;
  }

  /**
   * The next executions ({@link repeatDone} on) of a repeated store with a
   * stride, into RAM, as many at once as the event queue can let their time
   * pass without running a handler (EventQueue.idleSteps): nothing can look
   * at the memory or raise an interrupt meanwhile, so storing them together
   * and moving the clock over them is what executing them one by one would
   * leave. Returns false to execute the next one alone.
   */
  #bulkStores(w: MmioWriteOp, stride: number): boolean {
    if (this.irqCheck || this.debt > 0) return false;
    const n = this.#repeatsLeft();
    const addr = w.addr + this.repeatDone * stride;
    const mem = this.vm.ramFor(addr, (n - 1) * stride + w.size, true);
    // A watched word (a poll window) must see each store at its own time: one by one, then.
    if (mem === undefined || mem.watched(addr, (n - 1) * stride + w.size)) return false;
    const k = this.queue.idleSteps(this.costs.instruction, n);
    if (k === 0) return false;
    const byte = stride === w.size ? uniformByte(w) : -1;
    if (byte >= 0) {
      // A memset (zeroing a table, filling LPI properties): one fill, which leaves a page never written
      // unallocated when it stores zeros.
      mem.fill(addr, k * stride, byte);
    } else {
      for (let j = 0, a = addr; j < k; j++, a += stride) {
        if (w.size === 8) {
          mem.writeU32(a, w.value);
          mem.writeU32(a + 4, w.hi);
        } else if (w.size === 4) mem.writeU32(a, w.value);
        else if (w.size === 2) mem.writeU16(a, w.value);
        else mem.writeU8(a, w.value);
      }
    }
    this.#repeated(k);
    const r = this.result;
    r.regs = NO_REGS;
    r.value = 0;
    r.hi = 0;
    r.error = 0;
    return true;
  }

  /**
   * Executions of a repeated op that changes nothing but the clock, as many
   * at once as the event queue can let their time pass without running a
   * handler (EventQueue.idleSteps). The caller has checked that the op's
   * last execution was the one before, that no handler has run since it
   * began and that it logged no guest error: with nothing else running, the
   * next executions read what it read, leave the result it left and find no
   * interrupt it did not, so the clock moves over their cost and the repeat
   * counts them. Returns false to execute the next one alone.
   */
  #bulkQuiet(o: GuestOp): boolean {
    const ns = this.#quietCost(o);
    if (ns <= 0) {
      // Asked again only when a repeat starts: a later answer could only be yes (a trace switched off),
      // which costs this repeat its bulk, never its equivalence.
      this.#notQuiet = this.repeat;
      return false;
    }
    const k = this.queue.idleSteps(ns, this.#repeatsLeft());
    if (k === 0) return false;
    this.#repeated(k);
    // The last of them asks for the interrupt check an in-kernel device or irqchip register access asks for.
    if (this.#asksIrqCheck(o)) this.irqCheck = true;
    return true;
  }

  /**
   * A repeated load is about to exit to the VMM: the executions of the
   * repeat still to come, as many as the event queue can let their exits'
   * time pass without running a handler (EventQueue.idleSteps), go before
   * it without returning, if the VMM answers the load quietly
   * (RunOptions.quietLoads). Each would exit, get the VMM's same answer and
   * re-enter finding what this entry found — no request, signal or
   * immediate_exit, no interrupt to take, the same host CPU — since only a
   * handler or the VMM could change any of it. The clock moves over their
   * exits, the exit counter and the VMM count them, and this execution's
   * exit, now the last of them, returns as usual.
   */
  #answerQuietLoads(o: MmioReadOp): void {
    const loads = this.#quietLoads!;
    if (this.tracer.enabled || this.debt > 0 || this.requests !== 0 || this.signalPending || this.timerExit) return;
    if (this.kvmRun.immediateExit !== 0 || this.shouldNotifyUser() || (!this.masked && this.chip.hasPendingIrq())) return;
    if (!this.vm.host.keepsPlacement(this) || !loads.quiet(o.addr, o.size)) return;
    const k = this.queue.idleSteps(this.costs.exitToUserspace, this.#repeatsLeft());
    if (k === 0) return;
    this.#repeated(k);
    this.countExits(KVM_EXIT_MMIO, k);
    loads.answered(k);
  }

  /** Whether executing `o` asks for an interrupt check (an in-kernel device or irqchip register access). */
  #asksIrqCheck(o: GuestOp): boolean {
    if (o.kind === "mmio-read") return this.vm.ramFor(o.addr, o.size, false) === undefined;
    if (o.kind === "sysreg-read" || o.kind === "sysreg-write") return this.chip.handlesSysReg(o.reg) !== REG_NOT_HANDLED;
    return false;
  }

  /**
   * The virtual time one execution of `o` costs if executing it again
   * changes nothing but the clock, else 0:
   * - an HVC/SMC that KVM answers from the VM's configuration alone
   *   (smcccQuery), with no SMCCC filter, and an SBI call of the BASE
   *   extension (sbiQuery);
   * - a load of guest RAM;
   * - a load an in-kernel device answers without side effects
   *   (MmioDevice.quietReads);
   * - an irqchip system-register access that changes nothing
   *   (IrqChipVcpu.quietSysReg), and an access to an EL1 register held for
   *   the guest (not the timers or the counter, which time changes).
   * With tracing on, an access that traces per execution (in-kernel MMIO, a
   * trapped register) is executed one by one.
   */
  #quietCost(o: GuestOp): number {
    const vm = this.vm;
    const costs = this.costs;
    if (o.kind === "hvc" || o.kind === "smc") {
      return vm.arch === "arm64" && vm.smcccFilterCount === 0 && smcccQuery((o.args[0] ?? 0) >>> 0) ? costs.hypercall : 0;
    }
    if (o.kind === "sbi") return vm.arch === "riscv64" && sbiQuery(o.ext >>> 0) ? costs.hypercall : 0;
    if (o.kind === "mmio-read") {
      if (vm.ramFor(o.addr, o.size, false) !== undefined) return costs.instruction;
      return !this.tracer.enabled && vm.kernelBus.quietRead(o.addr, o.size) ? costs.mmioInKernel : 0;
    }
    if ((o.kind !== "sysreg-read" && o.kind !== "sysreg-write") || vm.arch !== "arm64") return 0;
    const how = this.chip.handlesSysReg(o.reg);
    // An EL1 register held for the guest reads what was written, and the same write again changes nothing.
    if (how === REG_NOT_HANDLED) return !isArchTimerReg(o.reg) && !isArchCounterReg(o.reg) ? costs.sysregNoTrap : 0;
    if (how !== REG_DIRECT && this.tracer.enabled) return 0;
    if (this.chip.quietSysReg?.(o.reg, o.kind === "sysreg-write", o.kind === "sysreg-write" ? o.value : 0) !== true) return 0;
    return how === REG_DIRECT ? costs.sysregNoTrap : costs.sysregTrap;
  }

  /**
   * The next op of the poll under way, or undefined when it is over (the
   * program resumes with the last load's result, which a relax leaves alone).
   * Each turn is the load, then — while the value matches — the relax.
   */
  #pollNext(): GuestOp | undefined {
    const p = this.pollOp!;
    if (this.pollCheck) {
      this.pollCheck = false;
      if (pollGoesOn(p, this.result)) {
        if (this.pollLeft > 0) this.#pollSkip(p);
        return p.relax;
      }
    } else if (this.pollLeft > 0) {
      this.pollLeft--;
      this.pollCheck = true;
      this.loopMark = this.queue.dispatched;
      return p.read;
    }
    this.pollOp = undefined;
    return undefined;
  }

  /**
   * Between a load that matched and its relax: skips the turns (relax, load)
   * whose loads can only return what the loop then goes on with. Only a
   * handler of the event queue can write guest RAM, change a counter's
   * offset or raise an interrupt, so while the queue can let the time of
   * those turns pass without running one (EventQueue.idleSteps), a load of
   * RAM returns the same value at each, and a load of the arch counter the
   * value time gives it: the clock moves over them, the poll counts their
   * loads, and the result is the last one's. Only if no handler has run
   * since the load that matched began (loopMark): one that ran during its
   * cost may have written the word after the load read it.
   */
  #pollSkip(p: PollOp): void {
    if (this.irqCheck || this.debt > 0 || this.loopMark !== this.queue.dispatched) return;
    const read = p.read;
    const relaxNs = Math.max(0, Math.round(p.relax.ns));
    if (read.kind === "mmio-read") {
      const mem = this.vm.ramFor(read.addr, read.size, false);
      if (mem === undefined) return;
      this.pollLeft -= this.queue.idleSteps(this.costs.instruction + relaxNs, this.pollLeft);
      // Turns the queue could not skip: a handler is due in them. Let them pass in one window if they can.
      if (this.pollLeft > 0 && relaxNs > 0) this.#windowMem = mem;
      return;
    }
    if (p.below !== undefined) this.#pollSkipCounter(p.below, read.reg, relaxNs);
  }

  /**
   * At the start of a poll's relax (armed by #pollSkip): lets the rest of
   * the poll's turns pass in one interruptible charge (a PollWindow), inside
   * which other vCPUs run without stopping at each turn, then puts the poll
   * where it would be turn by turn. Returns false to compute the relax alone:
   * not the relax of a RAM poll's matched load with no handler run since,
   * a window already open (one vCPU's window at a time), or an event or the
   * queue's limit too close for a window to pass a turn. `mem` holds the
   * polled word.
   */
  #pollWindow(mem: GuestMemory): boolean {
    const p = this.pollOp;
    const q = this.queue;
    if (p === undefined || this.pollCheck || this.pollLeft <= 0 || this.computeUntilIrq || this.debt > 0) return false;
    if (this.loopMark !== q.dispatched || q.watchingSchedules) return false;
    const read = p.read;
    const relax = this.computeLeft;
    if (read.kind !== "mmio-read" || relax !== Math.max(0, Math.round(p.relax.ns))) return false;
    const load = this.costs.instruction;
    // A load that takes no time shares its instant with the relax's start: no turn to tell them apart.
    if (load < 1) return false;
    const now = q.now;
    // Up to the end of the last turn, short of the next event and within the limit.
    let end = now + relax + this.pollLeft * (relax + load);
    const next = q.earliestEvent() - 1;
    if (next < end) end = next;
    if (q.limit < end) end = q.limit;
    if (end <= now + relax) return false;
    const w = (this.#window ??= new PollWindow(q));
    w.open(relax, load, q.depth + 1);
    mem.watchWrites(w, read.addr, read.size);
    q.watchSchedules(w);
    try {
      INTERRUPTIBLE_END[0] = end;
      this.spendInterruptible();
    } finally {
      q.watchSchedules(undefined);
      mem.watchWrites(undefined);
      w.ended();
    }
    this.pollLeft -= w.loads;
    this.computeLeft = w.computeLeft;
    this.pollCheck = w.unchecked;
    this.debt += w.debt;
    // Other handlers ran: the poll's next skip waits for a load of its own.
    this.loopMark = -1;
    return true;
  }

  /** VcpuCore: a kick during a poll window is seen where the turn under way would see it. */
  protected override interruptNotice(into: Float64Array): void {
    const w = this.#window;
    if (w !== undefined) w.kickNotice(into);
    else into[0] = this.queue.now;
  }

  /**
   * #pollSkip for a counter (CNTVCT_EL0, CNTPCT_EL0) read by an MRS that the
   * run loop answers itself: the turns whose reads stay below `below`.
   */
  #pollSkipCounter(below: number, reg: number, relaxNs: number): void {
    if (!isArchCounterReg(reg) || this.chip.handlesSysReg(reg) !== REG_NOT_HANDLED) return;
    const vm = this.vm;
    const offset = vm.timerData.offset(reg === CNTVCT_EL0 ? TIMER_VTIMER : TIMER_PTIMER);
    const readNs = offset !== undefined && reg === CNTPCT_EL0 && vm.timerData.physicalTraps ? this.costs.sysregTrap : this.costs.sysregNoTrap;
    const step = readNs + relaxNs;
    // The read of turn j happens `readNs` before that turn ends.
    const first = this.queue.now + step - readNs;
    // The turns whose reads still go on (the counter only moves forward). A closure per skip: delays skip rarely.
    const lo = largestHolding(this.pollLeft, (j) => this.#counterAt(reg, first + (j - 1) * step, offset) < below);
    if (lo === 0) return;
    const k = this.queue.idleSteps(step, lo);
    if (k === 0) return;
    this.pollLeft -= k;
    const r = this.result;
    r.value = readArchCounterReg(reg, first + (k - 1) * step, vm.counterEpoch, vm.counterHz, this.vcpuId, r, offset);
  }

  /** The 64-bit value an MRS of the counter `reg` reads at `time`, as a number. */
  #counterAt(reg: number, time: number, offset: bigint | undefined): number {
    const vm = this.vm;
    const lo = readArchCounterReg(reg, time, vm.counterEpoch, vm.counterHz, this.vcpuId, this.wide, offset);
    return this.wide.hi * 4294967296 + lo;
  }

  /** trace_kvm_mmio(KVM_TRACE_MMIO_READ / _WRITE, len, gpa, val) for an access an in-kernel device handled. */
  #traceMmio(write: boolean, len: number, gpa: number, val: number): void {
    this.tracer.instant(this.track, "trap", "kvm_mmio", { type: write ? "write" : "read", len, gpa: `0x${gpa.toString(16)}`, val: `0x${(val >>> 0).toString(16)}` });
  }

  /** trace_kvm_sys_access (arch/arm64/kvm/sys_regs.c perform_access): a trapped system register access. */
  #traceSysReg(write: boolean, reg: number, val: number): void {
    this.tracer.instant(this.track, "trap", "kvm_sys_access", { reg: `0x${reg.toString(16)}`, is_write: write, val: `0x${(val >>> 0).toString(16)}` });
  }

  /** The KVM_EXIT_MMIO record of kvm_run, filled for an access no RAM or in-kernel device claims. */
  #mmioExit(addr: number, size: AccessSize, isWrite: boolean): MmioExit {
    const m = this.kvmRun.mmio;
    m.physAddr = addr;
    m.len = size;
    m.isWrite = isWrite;
    m.clear();
    return m;
  }
}
