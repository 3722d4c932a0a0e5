/**
 * A small model of arm64 KVM's wake-up protocol for the missed-wake-up
 * explorer of seed 004 ("An ode to kvm_arch_vcpu_runnable()", kvmarm 2017;
 * Linux arch/arm64/kvm/arm.c kvm_arch_vcpu_runnable, kvm_vcpu_wfi). Each transition is one step of a kernel code
 * path, taken by one thread:
 *
 * - the vCPU thread's run loop (arch/arm64/kvm/arm.c
 *   kvm_arch_vcpu_ioctl_run): check_vcpu_requests() clears
 *   KVM_REQ_IRQ_PENDING; kvm_pmu_flush_hwstate() → kvm_pmu_update_state()
 *   (arch/arm64/kvm/pmu.c / pmu-emul.c) copies the overflow status to the PMU
 *   interrupt's level and, with the in-kernel vgic, kvm_vgic_inject_irq()
 *   (which makes KVM_REQ_IRQ_PENDING again); smp_store_mb(vcpu->mode,
 *   IN_GUEST_MODE) then kvm_vcpu_exit_request() bails out on any pending
 *   request; the guest runs;
 * - the guest: takes a pending, unmasked interrupt the hardware holds (HCR_EL2.VI
 *   or a list register loaded at entry) and clears its source with a trapping
 *   access; executes WFI, which traps (HCR_EL2.TWI; kvm_handle_wfx →
 *   kvm_vcpu_wfi → kvm_vcpu_halt); vCPU 0 may send an SGI to vCPU 1
 *   (ICC_SGI1R_EL1, vgic_v3_dispatch_sgi → vgic_queue_irq_unlock);
 * - kvm_vcpu_block() (virt/kvm/kvm_main.c): set_current_state(TASK_INTERRUPTIBLE),
 *   kvm_vcpu_check_block() → kvm_arch_vcpu_runnable(), schedule() — a woken
 *   task returns from schedule() and loops;
 * - producers on other threads: the VMM's KVM_IRQ_LINE (vcpu_interrupt_line:
 *   change HCR_EL2.VI, KVM_REQ_IRQ_PENDING, then kvm_vcpu_kick), the perf
 *   overflow handler (kvm_pmu_perf_overflow: PMOVSSET_EL0, KVM_REQ_IRQ_PENDING,
 *   then kvm_vcpu_kick — from irq_work when the overflow came as an NMI);
 *   the kick (kvm_vcpu_kick: kvm_vcpu_wake_up() sets a waiting task running,
 *   else an IPI makes a vCPU in guest mode exit) is a step of its own.
 *
 * Three runnable() conditions: `old` (arm.c: `irq_lines ||
 * kvm_vgic_vcpu_pending_irq()`), `proposed` (the ode: KVM_REQ_IRQ_PENDING,
 * deasserts with a KVM_REQUEST_NO_WAKEUP request and no wake-up), and
 * `pending-state` (the ode's other fix, item 3: also check the vPMU's pending
 * overflow itself, kvm_pmu_overflow_status()). Not what Linux has:
 * 4ce98bf0865c adds kvm_pmu_should_notify_user() to runnable() for the
 * userspace irqchip, but that compares pmu->irq_level — updated only by
 * kvm_pmu_update_state() at flush and sync — with what userspace last saw, so
 * an overflow whose handler runs after the vCPU left the guest is not in it.
 *
 * The model, like irqlab's kvm, traps every WFI. The architecture traps a WFI
 * only when it would otherwise enter a low-power state, so a WFI with a
 * virtual interrupt the hardware already holds may complete in the guest.
 */

/** Which kvm_arch_vcpu_runnable() the model uses. */
export type WakeupCondition = "old" | "proposed" | "pending-state";
/** The conditions, in report order. */
export const WAKEUP_CONDITIONS: readonly WakeupCondition[] = ["old", "proposed", "pending-state"];

/** vCPUs in the model. */
export const MODEL_VCPUS = 2;

// vCPU thread program counters.
/** About to run check_vcpu_requests(). */
export const PC_REQUESTS = 0;
/** About to flush the PMU and vgic state (kvm_pmu_flush_hwstate, kvm_vgic_flush_hwstate). */
export const PC_FLUSH = 1;
/** About to set IN_GUEST_MODE and check kvm_vcpu_exit_request(). */
export const PC_ENTER = 2;
/** In the guest. */
export const PC_GUEST = 3;
/** In kvm_vcpu_block(), about to set_current_state(TASK_INTERRUPTIBLE). */
export const PC_BLOCK = 4;
/** About to call kvm_vcpu_check_block(). */
export const PC_CHECK = 5;
/** In schedule(): asleep while the task is TASK_INTERRUPTIBLE. */
export const PC_SCHEDULE = 6;

// Fields of one vCPU's slice of the state vector.
const F_PC = 0;
const F_TASK = 1; // 0 TASK_RUNNING, 1 TASK_INTERRUPTIBLE
const F_MODE = 2; // 0 OUTSIDE_GUEST_MODE, 1 IN_GUEST_MODE
const F_REQ_IRQ = 3; // KVM_REQ_IRQ_PENDING
const F_REQ_DEASSERT = 4; // the proposal's NO_WAKEUP deassert request
const F_LINE = 5; // irq_lines: HCR_EL2.VI
const F_OVF = 6; // kvm_pmu_overflow_status(): PMOVSSET & PMINTENSET & PMCR.E
const F_PMU_LEVEL = 7; // pmu->irq_level, the vgic's PMU PPI line level
const F_SGI = 8; // an SGI pending in the vgic
const F_WFI_DONE = 9; // the guest's WFI has completed
const F_KICKS = 10; // kvm_vcpu_kick() calls still to come (producers in flight)
const F_KICKS_NO_WAKE = 11; // kicks of NO_WAKEUP requests still to come
const F_VISIBLE = 12; // what the hardware was given at the last entry: bit 0 line, bit 1 PMU PPI, bit 2 SGI
const F_USED_INJECT = 13;
const F_USED_DEASSERT = 14;
const F_USED_OVERFLOW = 15;
const F_USED_SGI = 16;
/** Bytes per vCPU in a state vector. */
export const VCPU_FIELDS = 17;
/** Bits each field needs (pc 0-6, kicks 0-7, the loaded mask 0-7, flags): 23 per vCPU, 46 in all. */
const FIELD_BITS = [3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 3, 1, 1, 1, 1];

/** The state as one exact integer (46 bits, below 2^53): the key of the explorer's state hash. */
export function stateKey(s: ModelState): number {
  let key = 0;
  for (let i = 0; i < s.length; i++) {
    const room = 1 << FIELD_BITS[i % VCPU_FIELDS]!;
    const v = s[i]!;
    if (v >= room) throw new RangeError(`wakeup model: field ${i % VCPU_FIELDS} of vcpu${Math.floor(i / VCPU_FIELDS)} is ${v}, wider than its key bits`);
    key = key * room + v;
  }
  return key;
}

/** What the environment may do to one vCPU (each at most once). */
export interface ModelVcpuConfig {
  /** The guest executes its WFI with interrupts masked (PSTATE.I), as Linux's idle loop does. */
  readonly masked: boolean;
  /** The VMM raises (and may later lower) the vCPU's IRQ line with KVM_IRQ_LINE. */
  readonly irqLine: boolean;
  /** The vCPU's vPMU counter overflows. */
  readonly pmuOverflow: boolean;
  /** This vCPU's guest sends one SGI to the other vCPU. */
  readonly sendsSgi: boolean;
}

/** The environment of an exploration, one entry per vCPU. */
export type ModelConfig = readonly [ModelVcpuConfig, ModelVcpuConfig];

/** Default: vCPU 0 unmasked with a vPMU and an SGI to vCPU 1; vCPU 1 idles masked and has an IRQ line. */
export const DEFAULT_MODEL_CONFIG: ModelConfig = [
  { masked: false, irqLine: false, pmuOverflow: true, sendsSgi: true },
  { masked: true, irqLine: true, pmuOverflow: false, sendsSgi: false },
];

/** A state: {@link VCPU_FIELDS} small integers per vCPU. */
export type ModelState = Uint8Array;

/** The initial state: every vCPU about to enter the guest, nothing pending. */
export function initialState(): ModelState {
  return new Uint8Array(MODEL_VCPUS * VCPU_FIELDS);
}

/** A transition: which thread did what, and the state after it. */
export interface ModelStep {
  readonly label: string;
  readonly next: ModelState;
}

/** kvm_arch_vcpu_runnable() of vCPU `i` under `cond`. */
export function runnable(cond: WakeupCondition, s: ModelState, i: number): boolean {
  const b = i * VCPU_FIELDS;
  const vgicPending = s[b + F_PMU_LEVEL] === 1 || s[b + F_SGI] === 1; // kvm_vgic_vcpu_pending_irq()
  switch (cond) {
    case "old":
      return s[b + F_LINE] === 1 || vgicPending;
    case "proposed":
      return s[b + F_REQ_IRQ] === 1;
    case "pending-state":
      return s[b + F_LINE] === 1 || vgicPending || s[b + F_OVF] === 1;
  }
}

/** An interrupt is pending for vCPU `i` at some source, whether or not KVM has seen it yet. */
export function deliverable(s: ModelState, i: number): boolean {
  const b = i * VCPU_FIELDS;
  return s[b + F_LINE] === 1 || s[b + F_OVF] === 1 || s[b + F_PMU_LEVEL] === 1 || s[b + F_SGI] === 1;
}

/** vCPU `i` sleeps in schedule() (TASK_INTERRUPTIBLE, not woken). */
export function asleep(s: ModelState, i: number): boolean {
  const b = i * VCPU_FIELDS;
  return s[b + F_PC] === PC_SCHEDULE && s[b + F_TASK] === 1;
}

/** A wake-up of vCPU `i` is still to come (a producer has yet to kick it). */
export function wakeupPending(s: ModelState, i: number): boolean {
  return s[i * VCPU_FIELDS + F_KICKS]! > 0;
}

/** Names of what is pending for vCPU `i`, for reports. */
export function pendingSources(s: ModelState, i: number): string[] {
  const b = i * VCPU_FIELDS;
  const out: string[] = [];
  if (s[b + F_LINE] === 1) out.push("IRQ line");
  if (s[b + F_OVF] === 1 && s[b + F_PMU_LEVEL] === 0) out.push("vPMU overflow not yet flushed");
  if (s[b + F_PMU_LEVEL] === 1) out.push("vPMU PPI");
  if (s[b + F_SGI] === 1) out.push("SGI");
  return out;
}

/** The hardware held an interrupt for vCPU `i` at its last entry, and its guest runs masked. */
export function maskedWithLoadedInterrupt(config: ModelConfig, s: ModelState, i: number): boolean {
  return config[i]!.masked && s[i * VCPU_FIELDS + F_VISIBLE] !== 0;
}

/** Every transition enabled in `s`, in a fixed order (vCPU threads first, then producers). */
export function successors(cond: WakeupCondition, config: ModelConfig, s: ModelState): ModelStep[] {
  const out: ModelStep[] = [];
  for (let i = 0; i < MODEL_VCPUS; i++) vcpuThreadSteps(cond, config, s, i, out);
  for (let i = 0; i < MODEL_VCPUS; i++) producerSteps(cond, config[i]!, s, i, out);
  return out;
}

function step(out: ModelStep[], s: ModelState, label: string, edit: (n: ModelState) => void): void {
  const next = s.slice();
  edit(next);
  out.push({ label, next });
}

/** kvm_vcpu_kick(vcpu i) as seen by the target: wake a waiting task, else IPI a vCPU in guest mode. */
function kick(n: ModelState, i: number, wake: boolean): void {
  const b = i * VCPU_FIELDS;
  const pc = n[b + F_PC]!;
  if (wake && (pc === PC_BLOCK || pc === PC_CHECK || pc === PC_SCHEDULE)) {
    n[b + F_TASK] = 0; // rcuwait_wake_up → wake_up_process
    return;
  }
  if (n[b + F_MODE] === 1) {
    n[b + F_MODE] = 0; // the IPI: the vCPU exits the guest and goes round its run loop
    n[b + F_PC] = PC_REQUESTS;
  }
}

function vcpuThreadSteps(cond: WakeupCondition, config: ModelConfig, s: ModelState, i: number, out: ModelStep[]): void {
  const b = i * VCPU_FIELDS;
  const who = `vcpu${i}`;
  const pc: number = s[b + F_PC]!;
  switch (pc) {
    case PC_REQUESTS:
      step(out, s, `${who}: check_vcpu_requests() clears KVM_REQ_IRQ_PENDING`, (n) => {
        n[b + F_REQ_IRQ] = 0;
        n[b + F_REQ_DEASSERT] = 0;
        n[b + F_PC] = PC_FLUSH;
      });
      return;
    case PC_FLUSH: {
      const ovf = s[b + F_OVF]!;
      const changed = s[b + F_PMU_LEVEL] !== ovf;
      const what = changed ? `PMU level ${ovf} → kvm_vgic_inject_irq${ovf === 1 ? " (KVM_REQ_IRQ_PENDING)" : ""}` : "nothing new";
      step(out, s, `${who}: kvm_pmu_flush_hwstate(): ${what}`, (n) => {
        if (changed) {
          n[b + F_PMU_LEVEL] = ovf;
          // vgic_queue_irq_unlock() makes the request and kicks; a self-kick outside guest mode does nothing.
          if (ovf === 1) n[b + F_REQ_IRQ] = 1;
        }
        n[b + F_PC] = PC_ENTER;
      });
      return;
    }
    case PC_ENTER: {
      const pending = s[b + F_REQ_IRQ] === 1 || s[b + F_REQ_DEASSERT] === 1;
      step(out, s, pending ? `${who}: kvm_vcpu_exit_request(): a request is pending, go round again` : `${who}: enters the guest (IN_GUEST_MODE)`, (n) => {
        if (pending) {
          n[b + F_PC] = PC_REQUESTS;
          return;
        }
        n[b + F_MODE] = 1;
        n[b + F_PC] = PC_GUEST;
        n[b + F_VISIBLE] = n[b + F_LINE]! | (n[b + F_PMU_LEVEL]! << 1) | (n[b + F_SGI]! << 2);
      });
      return;
    }
    case PC_GUEST:
      guestSteps(config, s, i, out);
      return;
    case PC_BLOCK:
      step(out, s, `${who}: kvm_vcpu_block(): set_current_state(TASK_INTERRUPTIBLE)`, (n) => {
        n[b + F_TASK] = 1;
        n[b + F_PC] = PC_CHECK;
      });
      return;
    case PC_CHECK: {
      const ok = runnable(cond, s, i);
      step(out, s, `${who}: kvm_vcpu_check_block(): kvm_arch_vcpu_runnable() = ${ok ? "true, the WFI completes" : "false, schedule()"}`, (n) => {
        if (ok) {
          n[b + F_TASK] = 0;
          n[b + F_WFI_DONE] = 1;
          n[b + F_PC] = PC_REQUESTS;
        } else {
          n[b + F_PC] = PC_SCHEDULE;
        }
      });
      return;
    }
    case PC_SCHEDULE:
      if (s[b + F_TASK] === 0) {
        step(out, s, `${who}: woken, returns from schedule()`, (n) => {
          n[b + F_PC] = PC_BLOCK;
        });
      }
      return;
    default:
      return;
  }
}

function guestSteps(config: ModelConfig, s: ModelState, i: number, out: ModelStep[]): void {
  const b = i * VCPU_FIELDS;
  const who = `vcpu${i}`;
  const c = config[i]!;
  const loaded = s[b + F_VISIBLE]!;
  if (!c.masked && loaded !== 0) {
    // An unmasked interrupt the hardware holds is taken before the next instruction; the
    // handler clears what it was given: the device's line, PMOVSCLR_EL0, the SGI (acked).
    step(out, s, `${who} guest: takes the interrupt; its handler clears the source (trapping access) and EOIs`, (n) => {
      if ((loaded & 1) !== 0) n[b + F_LINE] = 0;
      if ((loaded & 2) !== 0) n[b + F_OVF] = 0;
      if ((loaded & 4) !== 0) n[b + F_SGI] = 0;
      n[b + F_VISIBLE] = 0;
      n[b + F_MODE] = 0;
      n[b + F_PC] = PC_REQUESTS;
    });
    return;
  }
  if (s[b + F_WFI_DONE] === 0) {
    step(out, s, `${who} guest: WFI${c.masked ? " (interrupts masked)" : ""} traps to KVM (kvm_handle_wfx → kvm_vcpu_wfi)`, (n) => {
      n[b + F_MODE] = 0;
      n[b + F_PC] = PC_BLOCK;
    });
  }
  const other = (i + 1) % MODEL_VCPUS;
  if (c.sendsSgi && s[b + F_USED_SGI] === 0) {
    step(out, s, `${who} guest: ICC_SGI1R_EL1 write, SGI to vcpu${other} (vgic_queue_irq_unlock: KVM_REQ_IRQ_PENDING)`, (n) => {
      const o = other * VCPU_FIELDS;
      n[b + F_USED_SGI] = 1;
      n[b + F_MODE] = 0; // the write trapped
      n[b + F_PC] = PC_REQUESTS;
      n[o + F_SGI] = 1;
      n[o + F_REQ_IRQ] = 1;
      n[o + F_KICKS] = n[o + F_KICKS]! + 1;
    });
  }
}

function producerSteps(cond: WakeupCondition, c: ModelVcpuConfig, s: ModelState, i: number, out: ModelStep[]): void {
  const b = i * VCPU_FIELDS;
  const who = `vcpu${i}`;
  if (c.irqLine && s[b + F_USED_INJECT] === 0) {
    step(out, s, `VMM: KVM_IRQ_LINE ${who} IRQ=1 (vcpu_interrupt_line: HCR_EL2.VI, KVM_REQ_IRQ_PENDING)`, (n) => {
      n[b + F_USED_INJECT] = 1;
      n[b + F_LINE] = 1;
      n[b + F_REQ_IRQ] = 1;
      n[b + F_KICKS] = n[b + F_KICKS]! + 1;
    });
  }
  if (c.irqLine && s[b + F_USED_INJECT] === 1 && s[b + F_USED_DEASSERT] === 0) {
    const wasHigh = s[b + F_LINE] === 1;
    const how = !wasHigh ? "line already low, nothing to do" : cond === "proposed" ? "NO_WAKEUP deassert request" : "KVM_REQ_IRQ_PENDING";
    step(out, s, `VMM: KVM_IRQ_LINE ${who} IRQ=0 (${how})`, (n) => {
      n[b + F_USED_DEASSERT] = 1;
      if (!wasHigh) return; // vcpu_interrupt_line: no change, no request
      n[b + F_LINE] = 0;
      if (cond === "proposed") {
        n[b + F_REQ_DEASSERT] = 1;
        n[b + F_KICKS_NO_WAKE] = n[b + F_KICKS_NO_WAKE]! + 1;
      } else {
        n[b + F_REQ_IRQ] = 1;
        n[b + F_KICKS] = n[b + F_KICKS]! + 1;
      }
    });
  }
  if (c.pmuOverflow && s[b + F_USED_OVERFLOW] === 0) {
    step(out, s, `perf: kvm_pmu_perf_overflow(${who}): PMOVSSET_EL0, KVM_REQ_IRQ_PENDING`, (n) => {
      n[b + F_USED_OVERFLOW] = 1;
      n[b + F_OVF] = 1;
      n[b + F_REQ_IRQ] = 1;
      n[b + F_KICKS] = n[b + F_KICKS]! + 1;
    });
  }
  if (s[b + F_KICKS]! > 0) {
    step(out, s, `kvm_vcpu_kick(${who})`, (n) => {
      n[b + F_KICKS] = n[b + F_KICKS]! - 1;
      kick(n, i, true);
    });
  }
  if (s[b + F_KICKS_NO_WAKE]! > 0) {
    step(out, s, `kick of a KVM_REQUEST_NO_WAKEUP request (${who}): IPI only if in guest mode`, (n) => {
      n[b + F_KICKS_NO_WAKE] = n[b + F_KICKS_NO_WAKE]! - 1;
      kick(n, i, false);
    });
  }
}

/** Names of the vCPU thread's program counters, for step-by-step views. */
const PC_NAMES = [
  "run loop: check_vcpu_requests()",
  "run loop: kvm_pmu_flush_hwstate()",
  "run loop: IN_GUEST_MODE, kvm_vcpu_exit_request()",
  "guest",
  "kvm_vcpu_block(): set_current_state()",
  "kvm_vcpu_block(): kvm_vcpu_check_block()",
  "kvm_vcpu_block(): schedule()",
];

const yesNo = (v: number | undefined): string => (v === 1 ? "yes" : "no");

/** What the hardware was given at vCPU `i`'s last entry (HCR_EL2.VI, list registers), by name. */
function loadedNames(s: ModelState, i: number): string {
  const v = s[i * VCPU_FIELDS + F_VISIBLE]!;
  const out: string[] = [];
  if ((v & 1) !== 0) out.push("HCR_EL2.VI");
  if ((v & 2) !== 0) out.push("LR: PMU PPI");
  if ((v & 4) !== 0) out.push("LR: SGI");
  return out.length === 0 ? "nothing" : out.join(", ");
}

/**
 * vCPU `i`'s slice of state `s`, decoded field by field for a step-by-step view: where its
 * thread is, what is pending where (the vPMU, the vgic, the line, the loaded list registers),
 * whether runnable() under `cond` would say so, and whether the explorer's invariant holds.
 */
export function describeVcpu(cond: WakeupCondition, config: ModelConfig, s: ModelState, i: number): [string, string][] {
  const b = i * VCPU_FIELDS;
  const pc = s[b + F_PC]!;
  const sleeping = asleep(s, i);
  const vcpu = sleeping ? "sleeping" : pc >= PC_BLOCK ? "in WFI (blocking)" : pc === PC_GUEST ? "running in the guest" : "running in KVM";
  const broken = sleeping && deliverable(s, i) && !wakeupPending(s, i);
  const pending = pendingSources(s, i);
  return [
    ["vCPU", vcpu],
    ["thread at", PC_NAMES[pc] ?? String(pc)],
    ["task", s[b + F_TASK] === 1 ? "TASK_INTERRUPTIBLE" : "TASK_RUNNING"],
    ["vcpu->mode", s[b + F_MODE] === 1 ? "IN_GUEST_MODE" : "OUTSIDE_GUEST_MODE"],
    ["guest masked (PSTATE.I)", config[i]!.masked ? "yes" : "no"],
    ["KVM_REQ_IRQ_PENDING", yesNo(s[b + F_REQ_IRQ])],
    ["deassert request (NO_WAKEUP)", yesNo(s[b + F_REQ_DEASSERT])],
    ["IRQ line (HCR_EL2.VI source)", s[b + F_LINE] === 1 ? "high" : "low"],
    ["vPMU overflow (PMOVSSET_EL0)", yesNo(s[b + F_OVF])],
    ["vgic: PMU PPI pending", yesNo(s[b + F_PMU_LEVEL])],
    ["vgic: SGI pending", yesNo(s[b + F_SGI])],
    ["loaded at last entry", loadedNames(s, i)],
    ["WFI completed", yesNo(s[b + F_WFI_DONE])],
    ["kicks in flight", String(s[b + F_KICKS]! + s[b + F_KICKS_NO_WAKE]!)],
    [`runnable() (${cond})`, runnable(cond, s, i) ? "true" : "false"],
    ["invariant", broken ? `broken: sleeps with ${pending.join(", ")} pending, no wake-up coming` : "holds"],
  ];
}
