/**
 * The run loop's own cost per guest operation, taken apart (shared by
 * vcpu-handoff.bench.ts): `-M virt -accel kvm -smp 2`, vCPU 0 executing
 * sequences of 32-bit stores to guest RAM (`op.seq`: no program resumed
 * between them, each store 1 ns of virtual time), in one of three settings:
 *
 * - "alone": vCPU 1 is never started, so nothing else is in KVM_RUN;
 * - "beside-spin": vCPU 1 spins in KVM_RUN (a computation only an
 *   interrupt ends), so the event queue holds its thread's continuation and
 *   asks it, at each of vCPU 0's stores, whether continuing it to the
 *   store's end would do more than let the time pass (VcpuRunLoop.idleUntil:
 *   it would not), and does not run it;
 * - "lockstep": vCPU 1 executes the same stores at the same pace, so the
 *   two vCPUs take turns at every store: while vCPU 0's store is charged,
 *   vCPU 1's KVM_RUN continues, executes its own store and is stopped at the
 *   end of vCPU 0's ("running"), to continue at the next one
 *   (VcpuThread.continuations counts them): one handoff per store.
 *
 * The multi-vCPU tests of micro-bench (ipi, lpi) pay all three: their
 * stores, loads and register accesses, the other vCPU's continuation asked
 * at each of them, and a few handoffs per round trip.
 */
import { allocateBootMemory, boot, cpuOn, firmwareError, panic, powerOff, putLine, type BootedGuest, type GuestCode, type GuestImage } from "@irqlab/guest";
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import { op, type GuestOp } from "@irqlab/sim";

/** What vCPU 1 does while vCPU 0 stores. */
export type HandoffMode = "alone" | "beside-spin" | "lockstep";
export const HANDOFF_MODES: readonly HandoffMode[] = Object.freeze(["alone", "beside-spin", "lockstep"]);

/** Stores in one sequence (vCPU 0 runs `seqs` of them between its two console lines). */
export const STORES_PER_SEQ = 100;
/** The lines vCPU 0 prints around its stores. */
const START_LINE = "handoff: start";
const END_LINE = "handoff: end";
/** Bytes each vCPU stores into (its own page), after the online flag's page. */
const PAGE = 4096;
/** How long vCPU 0 waits for vCPU 1 to come online, in polls of 10 µs (Linux __cpu_up waits 5 s). */
const ONLINE_POLLS = 500_000;
/** One turn of vCPU 1's spin: far longer than any run of this image. */
const SPIN_NS = 1_000_000_000_000;

/** A sequence of {@link STORES_PER_SEQ} 32-bit stores over a page from `base`. */
function storeSeq(base: number): GuestOp {
  const ops: GuestOp[] = [];
  for (let i = 0; i < STORES_PER_SEQ; i++) ops.push(op.write(base + 4 * i, 4, i));
  return op.seq(ops);
}

/**
 * The image: vCPU 0 boots, starts vCPU 1 (PSCI CPU_ON, context 1) unless
 * `mode` is "alone", waits for its online flag, prints the start line, runs
 * `seqs` store sequences, prints the end line and powers off.
 */
export function handoffImage(mode: HandoffMode, seqs: number): GuestImage {
  // The boot CPU's globals, set before it starts vCPU 1.
  let shared: { sys: BootedGuest; base: number } | undefined;

  function* stores(base: number, n: number): GuestCode {
    const seq = storeSeq(base);
    for (let k = 0; k < n; k++) yield seq;
  }

  return {
    main: function* (bootRegs) {
      shared = undefined;
      const sys = yield* boot(bootRegs);
      const base = allocateBootMemory(sys.platform, 3 * PAGE);
      if (base === undefined) return yield* panic(sys, "handoff: no free RAM for 3 pages");
      yield op.write(base, 4, 0);
      shared = { sys, base };
      if (mode !== "alone") {
        const cpu = sys.platform.cpus[1];
        if (cpu === undefined) return yield* panic(sys, `handoff: ${mode} needs a second CPU`);
        const rc = yield* cpuOn(sys, cpu, base, 1);
        if (rc !== 0) return yield* panic(sys, `handoff: CPU1: failed to boot: ${firmwareError(sys.arch, rc)}`);
        const online = yield op.pollWhile(op.read(base, 4), 0xffff_ffff, 0, op.compute(10_000), ONLINE_POLLS);
        if (online.value === 0) return yield* panic(sys, "handoff: CPU1: failed to come online");
      }
      yield* putLine(sys.console, START_LINE);
      yield* stores(base + PAGE, seqs);
      yield* putLine(sys.console, END_LINE);
      return yield* powerOff(sys);
    },
    secondary: function* (entry, context) {
      const s = shared;
      // Started before the boot CPU set anything up: nothing to run with.
      if (s === undefined) for (;;) yield op.wfi();
      if (entry !== s.base || context !== 1) return yield* panic(s.sys, `handoff: a CPU started at 0x${entry.toString(16)} with context ${context}, which this image did not ask for`);
      yield op.write(s.base, 4, 1);
      if (mode === "lockstep") yield* stores(s.base + 2 * PAGE, Number.MAX_SAFE_INTEGER);
      const spin = op.spin(SPIN_NS);
      for (;;) yield spin;
    },
  };
}

const parsed = parseSystemCommandLine("aarch64", ["-M", "virt", "-accel", "kvm", "-smp", "2", "-nographic"]);
if (parsed.kind !== "run") throw new Error(`command line: ${parsed.kind}`);
const config = parsed.config;

/** One run's timed span: wall ns and the model's work, from vCPU 0's start line to its end line. */
export interface HandoffSpan {
  readonly wallNs: number;
  /** KVM_RUN continuations (the vCPU threads' `continuations`). */
  readonly continuations: number;
  /** Events the queue dispatched. */
  readonly events: number;
  /** Virtual ns. */
  readonly virtualNs: number;
}

/**
 * Boots the image in `mode` with `seqs` sequences and returns its span:
 * from the console's receiving the start line to its receiving the end
 * line's first byte. Besides the stores, that holds a fixed part (the
 * console output around them), which a run of 0 sequences measures alone.
 * @throws Error if the guest did not print both lines and power off
 */
export function runHandoff(mode: HandoffMode, seqs: number): HandoffSpan {
  let out = "";
  let t0 = 0;
  let span: HandoffSpan | undefined;
  let mark = { cont: 0, events: 0, now: 0 };
  const work = (): { cont: number; events: number; now: number } => ({ cont: m.cpus.reduce((n, c) => n + c.thread.continuations, 0), events: m.queue.dispatched, now: m.queue.now });
  const console = (s: string): void => {
    if (t0 !== 0 && span === undefined) {
      // The first byte after the start line: the end line's, written once the stores are done.
      const wallNs = Number(process.hrtime.bigint()) - t0;
      const w = work();
      span = { wallNs, continuations: w.cont - mark.cont, events: w.events - mark.events, virtualNs: w.now - mark.now };
    }
    // The PL011 console's line ends are CR LF.
    out += s.replaceAll("\r", "");
    // Looked for at line ends only: the console may be written a byte at a time.
    if (t0 === 0 && s.endsWith("\n") && out.endsWith(`${START_LINE}\n`)) {
      mark = work();
      t0 = Number(process.hrtime.bigint());
    }
  };
  // Read by the console only once the guest runs: m is set by then.
  const m = Machine.create({ config, kernel: handoffImage(mode, seqs), console });
  const end = m.run(600_000_000_000);
  if (end !== "shutdown" || span === undefined || !out.includes(`${START_LINE}\n${END_LINE}\n`)) throw new Error(`handoff ${mode}: the guest ended '${end}' without both lines:\n${out}`);
  return span;
}

/** Per store of vCPU 0: `full` (a run of `seqs` sequences) less `base` (a run of none), over its stores. */
export function perStore(full: HandoffSpan, base: HandoffSpan, seqs: number): HandoffSpan {
  const n = seqs * STORES_PER_SEQ;
  return {
    wallNs: (full.wallNs - base.wallNs) / n,
    continuations: (full.continuations - base.continuations) / n,
    events: (full.events - base.events) / n,
    virtualNs: (full.virtualNs - base.virtualNs) / n,
  };
}
