/**
 * The state every vCPU carries between KVM_RUNs and the kernel-side machinery
 * around it: vCPU requests and kicks (vcpu-requests.rst), blocking in
 * kvm_vcpu_halt()/kvm_vcpu_block() with optional halt polling
 * (halt-polling.rst), sleeping while powered off (KVM_REQ_SLEEP), the
 * runnable check, and placement on a host CPU (vcpu_load).
 *
 * Blocking in a single-threaded simulation: a blocked vCPU advances the VM's
 * event queue — runs other events: timers, device injections, other
 * components' work — until something wakes it (kvm_vcpu_wake_up, called by a
 * kick) and kvm_vcpu_check_block() then agrees, or until the queue is empty.
 * A kick that wakes the vCPU while check_block() still says "not runnable"
 * is the missed wake-up of seed 004: the vCPU goes back to sleep, and the
 * trace records `wake-ignored`.
 */

import { TraceState, type Counter, type EventQueue, type GuestProgram, type Tracer, type TrackId } from "@irqlab/sim";
import type { CostModel } from "./cost-model.js";
import type { PlacedVcpu } from "./host.js";
import type { IrqChipVcpu, VcpuIrqChip } from "./irqchip.js";
import { KvmRun, type IntrExit } from "./kvm-run.js";
import {
  IRQLAB_REQ_IRQ_DEASSERT,
  KVM_REQ_IRQ_PENDING,
  KVM_REQ_SLEEP,
  KVM_REQ_UNBLOCK,
  KVM_REQUEST_NO_ACTION,
  KVM_REQUEST_NO_WAKEUP,
  requestBit,
  requestName,
} from "./requests.js";
import { runnableUnder, type RunnablePolicy } from "./runnable.js";
import { KVM_MP_STATE_RUNNABLE, KVM_MP_STATE_STOPPED } from "./uapi/mp-state.js";
import type { Vm } from "./vm.js";

/**
 * What a vCPU executes: the guest's code, as generators of architectural
 * operations (the equivalent of loading an image and setting PC / VBAR_EL1 /
 * stvec through KVM_SET_ONE_REG). Its entries are called as methods of the
 * image: an instance of a class can be one, its fields the vCPU's own state.
 */
export interface GuestImage {
  /**
   * The boot program, started when the vCPU first enters the guest, with the
   * general-purpose registers the VMM set for it (arm64 Linux boot protocol:
   * x0 = device tree address, x1..x3 = 0; RISC-V: a0 = hart id, a1 =
   * device tree address). Empty when the VMM set none.
   */
  readonly main: (bootRegs: readonly number[]) => GuestProgram;
  /** The interrupt vector, entered with the cause when an interrupt is taken. */
  readonly vector?: (cause: number) => GuestProgram;
  /**
   * A secondary entry (PSCI CPU_ON / SBI HSM hart_start) at `entry` with
   * `context` (x0 / a1). Defaults to `main`.
   */
  readonly secondary?: (entry: number, context: number) => GuestProgram;
}

/** vcpu->mode (include/linux/kvm_host.h). */
export const OUTSIDE_GUEST_MODE = 0;
/** vcpu->mode: in the guest (a kick sends an IPI). */
export const IN_GUEST_MODE = 1;
/** vcpu->mode: kicked, leaving the guest. */
export const EXITING_GUEST_MODE = 2;

/** How a wait ended. */
export const WAIT_OK = 0;
/** A signal (kick from outside) ended the wait. */
export const WAIT_SIGNAL = 1;
/** Nothing on the queue could end the wait. */
export const WAIT_IDLE = 2;
/** The wait reached the event queue's time limit (the run's budget). */
export const WAIT_BUDGET = 3;
/** The run returns instead of waiting (RunOptions.onWakeup): the vCPU stays blocked. */
export const WAIT_BLOCKED = 4;
/** The queue's limit stopped a halt's poll: the run stops there and the halt goes on (VcpuCore.resumeHalt). */
export const WAIT_POLLING = 5;

const WAIT_HALT = 0;
const WAIT_SLEEP = 1;

/** A vCPU thread's affinity before setThreadAffinity: empty, every hart. */
const NO_AFFINITY: readonly number[] = Object.freeze([]);

/** resumeParkedWait: the last run did not return from a wait. */
export const PARKED_NONE = 0;
/** resumeParkedWait: the wait is over (the vCPU may run, or a signal came). */
export const PARKED_OVER = 1;
/** resumeParkedWait: the vCPU still may not run; the wait goes on. */
export const PARKED_ON = 2;
/** resumeParkedWait: the wait is over once the wake-up, cut short by the queue's limit, is paid (endWaking). */
export const PARKED_WAKING = 3;

/** halt-polling.rst defaults: grow ×2 from 10 µs, shrink to 0. */
const HALT_POLL_GROW = 2;
const HALT_POLL_GROW_START = 10_000;

const BIT_IRQ_PENDING = requestBit(KVM_REQ_IRQ_PENDING);
const BIT_UNBLOCK = requestBit(KVM_REQ_UNBLOCK);

/**
 * Where the interruptible charge about to be made ends
 * (VcpuCore.spendInterruptible), handed over in a typed array, to the queue
 * too (EventQueue.runUntilTimeIn), rather than as an argument: a time beyond
 * 2^31 ns (a computation, a poll's window of many turns) passed to a call
 * that TurboFan does not inline is boxed, a heap number at every charge.
 * Read at once by the queue, before anything it runs can make another charge.
 */
export const INTERRUPTIBLE_END = new Float64Array(1);

/**
 * Where a kick made during an interruptible charge is seen
 * (VcpuCore.interruptNotice), handed to the queue's cut
 * (EventQueue.cutAtTimeIn) in a typed array for the same reason.
 */
const KICK_SEEN = new Float64Array(1);

/** A vCPU's kernel-side state, requests, kicks and blocking. */
export abstract class VcpuCore implements IrqChipVcpu, PlacedVcpu {
  // The fields a KVM_RUN that blocks, wakes and takes an interrupt reads or writes come last, after
  // the rest, so that they lie next to those of VcpuTraps (the subclass's fields follow these) and
  // such a run touches as few of the vCPU's cache lines as it can: at thousands of vCPUs each line
  // is a cache miss (the RISC-V scale bench, `npm run bench:footprint`).
  /** The vCPU's trace track. */
  readonly track: TrackId;
  /**
   * What the vCPU is doing, as back-to-back slices on its track: "guest",
   * "in kernel", "halt poll", "blocked", and after an exit to the VMM the
   * exit reason (KVM_EXIT_MMIO, ...). Cut at each KVM_RUN's end so that the
   * slices nest in the KVM_RUN spans.
   */
  protected readonly vcpuState: TraceState;
  // Trace only, so made at first use: the thread name on host CPU tracks and the name of the
  // "pending interrupts" counter track.
  #threadName: string | undefined;
  #pendingCounter: string | undefined;
  /** The thread name on host CPU tracks (`vm/vcpuN`). */
  protected get threadName(): string {
    return (this.#threadName ??= `${this.vm.name}/vcpu${this.vcpuId}`);
  }
  /** The name of this vCPU's "pending interrupts" counter track. */
  get #pendingCounterName(): string {
    return (this.#pendingCounter ??= `${this.threadName} pending interrupts`);
  }
  // Trace only: the flow of the oldest interrupt raised for this vCPU and not yet taken, and how many were raised.
  #flowIn = 0;
  #raised = 0;
  #lastCause = 0;
  #parkedStart = 0;
  // A parked wait that is over, paying its wake-up (PARKED_WAKING): its kind, else -1.
  #wakingKind = -1;
  // A halt poll the queue's limit stopped (WAIT_POLLING): the end of its window, else -1; and whether a
  // kick has ended it since.
  #pollEnd = -1;
  #pollKicked = false;
  // The event-queue run depth of spendInterruptible() while one is active, else 0.
  #interruptibleDepth = 0;
  readonly #wokenPredicate = (): boolean => this.#woken;
  readonly #cHaltAttempted: Counter;
  readonly #cHaltSuccess: Counter;
  readonly #cWakeIgnored: Counter;

  /** The VM. */
  readonly vm: Vm;
  /** The vCPU id given to KVM_CREATE_VCPU. */
  readonly vcpuId: number;
  /** The shared kvm_run structure. */
  readonly kvmRun = new KvmRun();
  // kvm_run's INTR member right after kvm_run: V8's scavenger copies the objects a surviving object
  // points to in the order of its fields, one after another, so it lies after kvm_run's end (where
  // kvm_run keeps what every run touches) and before the vCPU's other records of a KVM_RUN
  // (VcpuTraps' first fields), and at thousands of vCPUs a delivery fetches their lines together.
  /** kvm_run's INTR member, which every KVM_RUN that blocks returns. */
  protected readonly intrExit: IntrExit = this.kvmRun.intr;
  /** The placement policy's record of this vCPU (PlacedVcpu.placementSlot), beside kvm_run: every KVM_RUN reads both. */
  placementSlot: unknown = undefined;
  /** KVM_GET_MP_STATE's answer. */
  protected mpState: number = KVM_MP_STATE_RUNNABLE;
  /** vcpu->arch.pause. */
  protected paused = false;
  /** The request bitmap (one bit per request number). */
  protected requests = 0;
  /** vcpu->mode. */
  protected mode = OUTSIDE_GUEST_MODE;
  /** A signal is pending for the vCPU thread (a kick from userspace). */
  protected signalPending = false;
  /** The interrupt controller's CPU side. */
  protected chip: VcpuIrqChip;
  protected readonly queue: EventQueue;
  protected readonly tracer: Tracer;
  protected readonly costs: CostModel;
  protected readonly policy: RunnablePolicy;
  #hostCpu = -1;
  // Every hart until setThreadAffinity: one array for every vCPU (an array of its own would sit among
  // its KVM_RUN records, between its kvm_run and the rest, where a delivery reads none of it).
  #affinity: readonly number[] = NO_AFFINITY;
  #blocked = false;
  #woken = false;
  /** RunOptions.onWakeup of the current run, or undefined: wait inside KVM_RUN. */
  protected wakeHook: (() => void) | undefined;
  // A wait the last run returned from without finishing (WAIT_BLOCKED): its kind, and (above, with the
  // trace's other fields) its start for the trace, written only when tracing (parkedTraced), as the
  // KVM_RUN's start is: a time in a field is a box of its own that an untraced vCPU would fetch for nothing.
  #parkedKind = -1;
  #parkedTraced = false;
  #parkedHook: (() => void) | undefined;
  // The halt under way: when it began, and what the vCPU owed then (for halt_ns).
  #haltStart = 0;
  #haltOwed = 0;
  // A halt poll is under way, or stopped (WAIT_POLLING; its window's end and kick are above).
  #polling = false;
  /**
   * Virtual time an operation still owes: its cost ran past the event queue's
   * limit, so the run stopped there; the next run pays the rest first.
   */
  protected debt = 0;
  #haltPollNs = 0;
  readonly #cHaltWakeup: Counter;

  constructor(vm: Vm, vcpuId: number, chip: VcpuIrqChip) {
    this.vm = vm;
    this.vcpuId = vcpuId;
    this.queue = vm.queue;
    this.tracer = vm.tracer;
    this.costs = vm.costs;
    this.policy = vm.runnablePolicy;
    this.track = vm.tracer.track(vm.name, `vcpu${vcpuId}`, "vcpu");
    this.vcpuState = new TraceState(vm.tracer, this.track, "vcpu-state");
    const c = vm.tracer.counters;
    this.#cHaltAttempted = c.counter("kvm.halt_attempted_poll");
    this.#cHaltSuccess = c.counter("kvm.halt_successful_poll");
    this.#cHaltWakeup = c.counter("kvm.halt_wakeup");
    this.#cWakeIgnored = c.counter("kvm.wake_ignored");
    this.chip = chip;
    chip.attach(this);
  }

  /** VM index on the host (PlacedVcpu). */
  get vmIndex(): number {
    return this.vm.index;
  }

  /** The host CPU this vCPU last ran on (vcpu->cpu), or -1 before its first KVM_RUN. */
  get hostCpu(): number {
    return this.#hostCpu;
  }

  /** The vCPU thread's CPU affinity (empty = any CPU). */
  get affinity(): readonly number[] {
    return this.#affinity;
  }

  /** True while blocked in WFI or asleep (powered off). */
  get blocked(): boolean {
    return this.#blocked;
  }

  /** The current halt-polling window (vcpu->halt_poll_ns). */
  get haltPollNs(): number {
    return this.#haltPollNs;
  }

  /** The interrupt controller's CPU side of this vCPU. */
  get irqChip(): VcpuIrqChip {
    return this.chip;
  }

  /** @internal Gives the vCPU another interrupt controller CPU side (vm.installIrqChip). */
  setIrqChip(chip: VcpuIrqChip): void {
    this.chip = chip;
    chip.attach(this);
  }

  /** Whether a request is pending (kvm_test_request). */
  testRequest(req: number): boolean {
    return (this.requests & requestBit(req)) !== 0;
  }

  /**
   * kvm_make_request() followed by kvm_vcpu_kick(), honouring the request's
   * KVM_REQUEST_NO_WAKEUP / KVM_REQUEST_NO_ACTION flags.
   */
  makeRequest(req: number): void {
    // kvm_make_vcpu_request (virt/kvm/kvm_main.c): a KVM_REQUEST_NO_ACTION request sets no bit; like any
    // other it wakes a blocked vCPU (unless KVM_REQUEST_NO_WAKEUP) and forces one in guest mode out.
    const action = (req & KVM_REQUEST_NO_ACTION) === 0;
    if (action) this.requests |= requestBit(req);
    if (this.tracer.enabled) this.tracer.instant(this.track, "kvm", "request", { req: requestName(req) });
    if ((req & KVM_REQUEST_NO_WAKEUP) !== 0 && this.#blocked) return;
    if (action) this.kvmVcpuKick();
    else if (this.#blocked) this.kvmVcpuWakeUp();
    else if (this.mode === IN_GUEST_MODE) this.#forceOut();
  }

  /**
   * kvm_vcpu_kick(): wake the vCPU if it is blocked; if it is in guest mode,
   * force it out (it sees its requests at the next instruction boundary);
   * otherwise nothing — it checks requests before entering.
   */
  kvmVcpuKick(): void {
    if (this.#blocked) {
      this.kvmVcpuWakeUp();
      return;
    }
    if (this.mode === IN_GUEST_MODE) this.#forceOut();
    else if (this.#polling) {
      // Halt polling outside guest mode (a suspended vCPU): its next kvm_vcpu_check_block sees the request.
      this.#interrupt();
    }
  }

  /** The kick's IPI to a vCPU in guest mode: it leaves the guest at its next instruction boundary. */
  #forceOut(): void {
    this.mode = EXITING_GUEST_MODE;
    this.#interrupt();
    if (this.tracer.enabled) this.tracer.instant(this.track, "kvm", "kick", { target: "in-guest" });
  }

  /** kvm_vcpu_wake_up(): make a blocked vCPU re-check whether it may run. */
  kvmVcpuWakeUp(): void {
    if (!this.#blocked) return;
    if (this.tracer.enabled) this.tracer.instant(this.track, "kvm", "kick", { target: "blocked" });
    this.#wake();
  }

  #wake(): void {
    this.#woken = true;
    if (this.#parkedKind >= 0) this.#parkedHook?.();
  }

  /**
   * A kick from userspace, as QEMU's kvm_cpu_kick(): sets
   * kvm_run.immediate_exit and signals the vCPU thread. A vCPU in KVM_RUN
   * returns KVM_EXIT_INTR at its next instruction boundary (or at once if
   * blocked); otherwise its next KVM_RUN returns KVM_EXIT_INTR without
   * entering the guest. The VMM clears `kvmRun.immediateExit` afterwards.
   */
  kick(): void {
    this.kvmRun.immediateExit = 1;
    this.signalPending = true;
    if (this.tracer.enabled) this.tracer.instant(this.track, "kvm", "signal", {});
    if (this.#blocked) this.#wake();
    this.#interrupt();
  }

  /** Ends a computation or halt poll under way (spendInterruptible) at once. */
  protected interruptSpend(): void {
    this.#interrupt();
  }

  #interrupt(): void {
    this.#pollKicked = true;
    if (this.#interruptibleDepth > 0) {
      this.interruptNotice(KICK_SEEN);
      this.queue.cutAtTimeIn(this.#interruptibleDepth, KICK_SEEN);
    }
  }

  /**
   * When a kick made now ends the interruptible charge under way
   * ({@link spendInterruptible}), into `into[0]`: now, as a computation or
   * halt poll ends at once. The run loop's poll window answers for the turn
   * it stands for.
   */
  protected interruptNotice(into: Float64Array): void {
    into[0] = this.queue.now;
  }

  /**
   * Sets the vCPU thread's CPU affinity (sched_setaffinity on a QEMU vCPU
   * thread); the placement policy applies it at the next KVM_RUN.
   */
  setThreadAffinity(cpus: readonly number[]): void {
    this.vm.host.checkAffinity(cpus);
    // Copied element by element: slice() of a frozen array (a mask a caller keeps) takes V8's slow path,
    // about five times the time of this loop.
    const copy = new Array<number>(cpus.length);
    for (let i = 0; i < cpus.length; i++) copy[i] = cpus[i]!;
    this.#affinity = Object.freeze(copy);
  }

  // ---- IrqChipVcpu ----------------------------------------------------------

  /** The irqchip says an interrupt may be pending: KVM_REQ_IRQ_PENDING + kick. */
  irqPending(): void {
    if (this.tracer.enabled) this.noteRaise();
    this.makeRequest(KVM_REQ_IRQ_PENDING);
  }

  /** See {@link IrqChipVcpu.irqRaisedBy}. */
  irqRaisedBy(source: string, line: number): void {
    const tr = this.tracer;
    if (!tr.enabled) {
      this.irqPending();
      return;
    }
    const prev = tr.beginCause(this.track, "irq", "source-raise", { source, line });
    try {
      this.irqPending();
    } finally {
      tr.endCause(prev);
    }
  }

  /**
   * Trace only: an interrupt was signalled to this vCPU while one is being
   * raised (Tracer.cause). The oldest such raise not yet taken is the flow
   * the next taken interrupt ends; later ones before that take coalesce
   * into it (their arrows are left out). Counts them for the
   * "pending interrupts" counter.
   */
  protected noteRaise(): void {
    const cause = this.tracer.cause;
    if (cause === 0 || cause === this.#lastCause) return; // one raise may both request and signal
    this.#lastCause = cause;
    if (this.#flowIn === 0) this.#flowIn = cause;
    this.#raised++;
    this.tracer.sample(this.track, "irq", this.#pendingCounterName, this.#raised);
  }

  /** Trace only: the flow the interrupt taken now ends (0: none); resets the pending count. */
  protected takeRaise(): number {
    const f = this.#flowIn;
    this.#flowIn = 0;
    if (this.#raised !== 0) {
      this.#raised = 0;
      this.tracer.sample(this.track, "irq", this.#pendingCounterName, 0);
    }
    return f;
  }

  /** A line was lowered: see {@link IrqChipVcpu.irqLowered}. */
  irqLowered(): void {
    this.makeRequest(this.policy === "irq-pending-request" ? IRQLAB_REQ_IRQ_DEASSERT : KVM_REQ_IRQ_PENDING);
  }

  // ---- for the run loop -----------------------------------------------------

  /** kvm_arch_vcpu_runnable() under the VM's policy. */
  protected runnable(): boolean {
    const policy = this.policy;
    return runnableUnder(
      policy,
      this.chip,
      this.mpState === KVM_MP_STATE_STOPPED,
      this.paused,
      (this.requests & BIT_IRQ_PENDING) !== 0,
      policy === "irq-lines" && this.shouldNotifyUser(),
    );
  }

  /**
   * Without an in-kernel irqchip: whether a device output level differs from
   * what kvm_run's device_irq_level last told userspace
   * (kvm_timer_should_notify_user || kvm_pmu_should_notify_user). The base
   * vCPU has no such device.
   */
  protected shouldNotifyUser(): boolean {
    return false;
  }

  /**
   * Loads the cache lines of this vCPU's state that taking an interrupt and
   * the KVM_RUN after it read, all at once, together with its records of a
   * KVM_RUN and its placement's (IrqChipVcpu.prefetch). With thousands of
   * vCPUs that state has left the cache by the time one of them is sent an
   * interrupt, and a delivery reaches it one load at a time, each miss after
   * the previous one is served; loaded here, up front, the CPU fetches the
   * lines side by side. It reads one field in every eight (a 64-byte line)
   * of the span from `vm` to `#cHaltWakeup` (subclasses add their own), so
   * that a field added in between keeps the span covered as long as the
   * probes stay eight apart. Returns a number of no meaning: the caller
   * keeps it, so that the compiler cannot drop the loads.
   */
  prefetch(): number {
    // Each load feeds a test of its own: a test that an || had already settled would not be made.
    let n = this.vm.host.prefetchPlacement(this);
    if (this.requests !== 0) n++;
    if (this.kvmRun.immediateExit !== 0) n++;
    if (this.intrExit.cause === "blocked") n++;
    if (this.#hostCpu < 0) n++;
    if (this.#parkedKind >= 0) n++;
    if (this.#haltStart > 0) n++;
    if (this.#cHaltWakeup.value > 0) n++;
    return n;
  }

  /** vcpu_load(): ask the placement policy where the vCPU thread runs now. */
  protected load(): void {
    const cpu = this.vm.host.place(this);
    if (cpu !== this.#hostCpu) {
      if (this.tracer.enabled) {
        this.tracer.instant(this.track, "sched", "migrate", { from: this.#hostCpu, to: cpu });
      }
      this.#hostCpu = cpu;
    }
  }

  /**
   * Charges `ns` of virtual time: runs the event queue that far. If the
   * queue's limit stops it short, the rest is added to {@link debt} and the
   * run loop returns with cause "budget" at its next check. (Added, not set:
   * taking an interrupt charges the injection and then runs the vector's
   * first op before that check; both are owed.) The queue is given the cost,
   * not the time it ends at: past 2^31 ns that time would be boxed wherever
   * TurboFan leaves the queue's run out of line.
   */
  protected spend(ns: number): void {
    const q = this.queue;
    const t = q.now + ns;
    q.runFor(ns);
    if (q.now < t) this.debt += t - q.now;
  }

  /**
   * Runs the event queue until {@link INTERRUPTIBLE_END} (or its limit)
   * unless this vCPU is kicked first: a computation or a halt poll, which an
   * interrupt, request or signal ends early. Other vCPUs' work due meanwhile
   * runs inside it.
   */
  protected spendInterruptible(): void {
    const q = this.queue;
    this.#interruptibleDepth = q.depth + 1;
    try {
      q.runUntilTimeIn(INTERRUPTIBLE_END);
    } finally {
      this.#interruptibleDepth = 0;
    }
  }

  /**
   * At the start of a run: finishes a wait the previous run returned from
   * (RunOptions.onWakeup), as the wait itself would have on waking. Returns
   * PARKED_NONE without such a wait, PARKED_OVER if the wait is over (the
   * vCPU may run, or a signal came), PARKED_ON if not. With `mayStop`, a
   * wake-up whose cost the queue's limit cuts short returns PARKED_WAKING:
   * the wait ends, unblocked and traced, with {@link endWaking} once that
   * cost is paid.
   */
  protected resumeParkedWait(mayStop: boolean): number {
    const kind = this.#parkedKind;
    if (kind < 0) return PARKED_NONE;
    this.#parkedKind = -1;
    this.#parkedHook = undefined;
    const start = this.#parkedTraced ? this.#parkedStart : -1;
    let outcome = WAIT_BLOCKED;
    if (this.#waitDone(kind)) {
      outcome = this.signalPending ? WAIT_SIGNAL : WAIT_OK;
      if (kind === WAIT_HALT && outcome === WAIT_OK) {
        this.#cHaltWakeup.value++;
        this.spend(this.costs.wakeup);
        if (mayStop && this.debt > 0) {
          this.#wakingKind = kind;
          return PARKED_WAKING;
        }
      }
      if (kind === WAIT_HALT) this.#haltEnded(outcome);
    } else if (this.#woken) {
      // Woken, but the vCPU may still not run (the missed wake-up of seed 004).
      this.#cWakeIgnored.value++;
      if (this.tracer.enabled) this.tracer.instant(this.track, "kvm", "wake-ignored", { policy: this.policy });
    }
    return this.#finishWait(kind, outcome, start) === WAIT_BLOCKED ? PARKED_ON : PARKED_OVER;
  }

  /** After PARKED_WAKING, once the wake-up is paid: the wait ends as it would have then. */
  protected endWaking(): void {
    const kind = this.#wakingKind;
    this.#wakingKind = -1;
    this.#haltEnded(WAIT_OK);
    this.#finishWait(kind, WAIT_OK, this.#parkedTraced ? this.#parkedStart : -1);
  }

  /** Powers the vCPU off (KVM_MP_STATE_STOPPED) and asks it to sleep (KVM_REQ_SLEEP). */
  protected powerOff(): void {
    this.mpState = KVM_MP_STATE_STOPPED;
    this.makeRequest(KVM_REQ_SLEEP);
  }

  /**
   * kvm_vcpu_halt(): optional halt polling, then kvm_vcpu_block() until
   * kvm_vcpu_check_block() holds, a signal arrives, or the queue runs dry.
   * With `mayStop`, a poll the queue's limit cuts short (not a wake-up)
   * returns WAIT_POLLING: the halt goes on with {@link resumeHalt} once the
   * clock may move on, as if the limit had not been there.
   */
  protected halt(mayStop = false): number {
    const q = this.queue;
    const start = q.now;
    this.#haltStart = start;
    // The halt ends once its wake-up is paid, also when the queue's limit cuts that charge short.
    this.#haltOwed = this.debt;
    if (this.#haltPollNs > 0) {
      this.#cHaltAttempted.value++;
      if (this.tracer.enabled) this.vcpuState.enter("halt poll");
      INTERRUPTIBLE_END[0] = start + this.#haltPollNs;
      return this.#poll(mayStop, true);
    }
    return this.#block(-1);
  }

  /**
   * After WAIT_POLLING: the halt goes on, polling to the end of its window
   * first (see {@link halt}). Only what ends a running poll early ends this
   * one: a kick that interrupts it (#interrupt), not the vCPU having become
   * runnable, which the poll looks at when its window ends.
   */
  protected resumeHalt(mayStop: boolean): number {
    const end = this.#pollEnd;
    this.#pollEnd = -1;
    if (this.#pollKicked) {
      // A kick while the run was stopped ended the poll there, as it would have ended it running.
      this.#pollKicked = false;
      return this.#block(this.#haltCheck());
    }
    INTERRUPTIBLE_END[0] = end;
    return this.#poll(mayStop, false);
  }

  /** Whether the vCPU is stopped inside a halt poll (WAIT_POLLING). */
  protected get haltPolling(): boolean {
    return this.#pollEnd >= 0;
  }

  /** The end of the window of the halt poll the vCPU is stopped in. */
  protected get haltPollEnd(): number {
    return this.#pollEnd;
  }

  /** Whether a kick has ended the halt poll the vCPU is stopped in. */
  protected get haltPollKicked(): boolean {
    return this.#pollKicked;
  }

  /**
   * The poll of a halt up to the end its caller put in
   * {@link INTERRUPTIBLE_END}, checking first whether the vCPU may run if
   * `first`: a wake-up (kick) ends it early; then the rest of the halt.
   */
  #poll(mayStop: boolean, first: boolean): number {
    const end = INTERRUPTIBLE_END[0]!;
    const q = this.queue;
    if (first) {
      const ready = this.#haltCheck();
      if (ready >= 0) return this.#block(ready);
    }
    this.#pollKicked = false;
    this.#polling = true;
    INTERRUPTIBLE_END[0] = end;
    this.spendInterruptible();
    const outcome = this.#haltCheck();
    if (outcome >= 0) return this.#block(outcome);
    // (Read through the getter: spendInterruptible ran kicks that set it.)
    if (mayStop && !this.haltPollKicked && q.now < end) {
      this.#pollEnd = end;
      return WAIT_POLLING;
    }
    this.#pollKicked = false;
    return this.#block(-1);
  }

  /** kvm_vcpu_check_block() for a halt: WAIT_SIGNAL or WAIT_OK if the halt is over, else -1. */
  #haltCheck(): number {
    if (!this.#waitDone(WAIT_HALT)) return -1;
    return this.signalPending ? WAIT_SIGNAL : WAIT_OK;
  }

  /**
   * The rest of a halt after its poll, which ended with `outcome` (-1: the
   * vCPU may not run yet): kvm_vcpu_block(), then the poll window's update.
   */
  #block(outcome: number): number {
    const q = this.queue;
    this.#polling = false;
    const start = this.#haltStart;
    if (outcome === WAIT_OK) {
      this.#cHaltSuccess.value++;
      if (this.tracer.enabled) {
        // kvm_vcpu_halt → trace_kvm_vcpu_wakeup(halt_ns, waited = false, valid): woken while polling.
        this.tracer.instant(this.track, "kvm", "kvm_vcpu_wakeup", { ns: q.now - start, waited: false, valid: true });
        this.vcpuState.enter("in kernel");
      }
    }
    if (outcome < 0) {
      outcome = this.#wait(WAIT_HALT);
      if (outcome === WAIT_OK) {
        this.#cHaltWakeup.value++;
        this.spend(this.costs.wakeup);
      }
    }
    // A halt the run returned from blocked (WAIT_BLOCKED) updates the window once it is over (resumeParkedWait, endWaking).
    if (outcome !== WAIT_BLOCKED) this.#haltEnded(outcome);
    return outcome;
  }

  /** The polling window's update at the end of the halt under way: halt_ns runs to the paid wake-up. */
  #haltEnded(outcome: number): void {
    this.#adaptPoll(outcome, this.queue.now + (this.debt - this.#haltOwed) - this.#haltStart);
  }

  /**
   * kvm_vcpu_halt's update of the polling window after a halt of `haltNs`
   * (polling included) that ended with `outcome`: grow it on a short halt,
   * shrink it to 0 on a long one, keep it if the wake-up came inside it.
   */
  #adaptPoll(outcome: number, haltNs: number): void {
    const max = this.vm.haltPollMaxNs;
    if (outcome === WAIT_OK && max > 0) {
      const cur = this.#haltPollNs;
      if (haltNs <= cur) {
        // Woken inside the poll window: keep it.
      } else if (cur !== 0 && haltNs > max) {
        this.#haltPollNs = 0;
      } else if (cur < max && haltNs < max) {
        this.#haltPollNs = Math.min(max, Math.max(HALT_POLL_GROW_START, cur * HALT_POLL_GROW));
      }
    } else if (max === 0) {
      this.#haltPollNs = 0;
    }
  }

  /** kvm_vcpu_sleep() (KVM_REQ_SLEEP): wait while powered off or paused. */
  protected sleep(): number {
    return this.#wait(WAIT_SLEEP);
  }

  #waitDone(kind: number): boolean {
    if (this.signalPending) return true;
    if (kind === WAIT_SLEEP) return this.mpState !== KVM_MP_STATE_STOPPED && !this.paused;
    if (this.runnable()) return true;
    if ((this.requests & BIT_UNBLOCK) !== 0) {
      this.requests &= ~BIT_UNBLOCK;
      return true;
    }
    return false;
  }

  #wait(kind: number): number {
    const q = this.queue;
    const start = q.now;
    const tracing = this.tracer.enabled;
    if (kind === WAIT_HALT) this.chip.blocking?.();
    this.mode = OUTSIDE_GUEST_MODE;
    this.#blocked = true;
    if (tracing) this.vcpuState.enter("blocked", { wait: kind === WAIT_HALT ? "halt" : "sleep" });
    let outcome: number;
    for (;;) {
      if (this.#waitDone(kind)) {
        outcome = this.signalPending ? WAIT_SIGNAL : WAIT_OK;
        break;
      }
      this.#woken = false;
      if (this.wakeHook !== undefined) {
        // Return from KVM_RUN still blocked; resumeParkedWait() finishes the wait.
        this.#parkedKind = kind;
        this.#parkedTraced = tracing;
        if (tracing) this.#parkedStart = start;
        this.#parkedHook = this.wakeHook;
        return WAIT_BLOCKED;
      }
      if (!q.runUntilCondition(this.#wokenPredicate)) {
        outcome = q.atLimit ? WAIT_BUDGET : WAIT_IDLE;
        break;
      }
      if (!this.#waitDone(kind)) {
        this.#cWakeIgnored.value++;
        if (tracing) this.tracer.instant(this.track, "kvm", "wake-ignored", { policy: this.policy });
      }
    }
    return this.#finishWait(kind, outcome, start);
  }

  /** The end of a wait: unblock, tell the irqchip, trace (`start` -1: the wait began untraced). Returns `outcome`. */
  #finishWait(kind: number, outcome: number, start: number): number {
    const q = this.queue;
    const tracing = this.tracer.enabled;
    this.#blocked = false;
    this.#woken = false;
    if (kind === WAIT_HALT) this.chip.unblocking?.();
    if (tracing) {
      const what = outcome === WAIT_OK ? "wake" : outcome === WAIT_SIGNAL ? "signal" : outcome === WAIT_BUDGET ? "budget" : outcome === WAIT_BLOCKED ? "spurious" : "idle";
      // trace_kvm_vcpu_wakeup(ns, waited, valid) as kvm_vcpu_halt has it; `end` says what ended the wait.
      const valid = outcome === WAIT_OK;
      const wait = kind === WAIT_HALT ? "halt" : "sleep";
      const args = start < 0 ? { waited: true, valid, wait, end: what } : { ns: q.now - start, waited: true, valid, wait, end: what };
      this.tracer.instant(this.track, "kvm", "kvm_vcpu_wakeup", args);
      this.vcpuState.enter("in kernel");
    }
    return outcome;
  }
}
