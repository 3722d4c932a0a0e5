/**
 * The live run loop: how `irqlab-system-ARCH` runs a machine that a QMP
 * client can talk to while it runs (QEMU's main loop, util/main-loop.c,
 * with the vCPUs in virtual time).
 *
 * Virtual time runs in slices (1 ms of virtual time by default, `--slice`);
 * between two slices the loop returns to Node's event loop (setImmediate),
 * so the sockets are served and each command takes effect at the virtual
 * time the slice ended at (`machine.queue.now`). When the machine cannot
 * run — paused by -S or QMP `stop`, stopped in an error state, or idle with
 * no event queued — no virtual time passes and the loop sleeps until a
 * socket or stdio has something (no polling). Without `--pace` virtual time
 * runs as fast as the model; `--pace RATIO` holds it to RATIO virtual
 * nanoseconds per wall-clock nanosecond (a wall clock used by this loop only,
 * never by the models). The run ends when the machine shuts down, when QMP
 * `quit` is executed, or at the `--until` limit.
 *
 * `--pace` and `--slice` are irqlab options, added to the parser through its
 * extension point like `-summary`.
 */

import { parseDuration, type CommandLineExtension, type Machine, type MachineRunEnd } from "@irqlab/machine";

/** The slice of virtual time run between two visits to the event loop, without `--slice`. */
export const DEFAULT_SLICE_NS = 1_000_000;

/** `--pace` and `--slice`, as parsed. */
export interface LiveRunFlags {
  /** Virtual nanoseconds per wall-clock nanosecond; undefined: as fast as possible. */
  pace: number | undefined;
  /** Virtual nanoseconds per slice. */
  sliceNs: number;
}

/** The parser extensions for `--pace RATIO` and `--slice DURATION`. */
export function liveRunExtensions(flags: LiveRunFlags): CommandLineExtension[] {
  return [
    {
      name: "pace",
      hasArg: true,
      help: "-pace ratio     (irqlab) with -qmp, run RATIO ns of virtual time per ns of wall time\n" +
        "                (1 is real time, 0.001 a thousand times slower; default: as fast as possible)\n",
      parse: (arg, ctx) => {
        const v = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?$/i.test(arg!) ? Number(arg) : Number.NaN;
        if (!(v > 0) || !Number.isFinite(v)) ctx.fail("Parameter 'pace' expects a positive number (virtual ns per wall-clock ns)");
        flags.pace = v;
      },
    },
    {
      name: "slice",
      hasArg: true,
      help: "-slice duration (irqlab) with -qmp, virtual time run between two looks at the monitors (default=1ms)\n",
      parse: (arg, ctx) => {
        let ns: number;
        try {
          ns = parseDuration(arg!, "slice");
        } catch (e) {
          const err = e as Error & { hint?: string };
          return ctx.fail(err.message, err.hint);
        }
        if (ns <= 0) ctx.fail("Parameter 'slice' must be longer than 0ns");
        flags.sliceNs = ns;
      },
    },
  ];
}

/**
 * How a live run ended: shutdown, `--until`, QMP `quit`, or — when the
 * machine cannot run and no monitor can be reached any more (only `null`
 * chardevs, a client socket or stdin that has closed) — the state it is
 * stuck in, as {@link Machine.run} names it.
 */
export type LiveRunEnd = MachineRunEnd | "quit";

/** What {@link LiveLoop.run} needs besides the machine. */
export interface LiveRunOptions {
  readonly sliceNs: number;
  readonly pace?: number;
  /** `--until`: the virtual time the run ends at. */
  readonly untilNs?: number;
  /** Called after each slice (console flushing, error reporting). */
  readonly afterSlice?: () => void;
  /** Whether anything could still wake the loop (a listener, a connection, stdin); default: always. */
  readonly reachable?: () => boolean;
}

/** The loop; its {@link wake} is what the chardevs call when something arrived. */
export class LiveLoop {
  #wakeUp: (() => void) | undefined;
  #quit = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Slices run so far. */
  slices = 0;

  /** Something happened on a chardev (input, connect, disconnect): look again. */
  readonly wake = (): void => {
    const w = this.#wakeUp;
    this.#wakeUp = undefined;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    w?.();
  };

  /** QMP quit (qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_QMP_QUIT)): the loop ends at its next look. */
  requestQuit(): void {
    this.#quit = true;
    this.wake();
  }

  /** Runs `machine` until it shuts down, `quit`, or the limit. */
  async run(machine: Machine, opts: LiveRunOptions): Promise<LiveRunEnd> {
    const until = opts.untilNs ?? Number.POSITIVE_INFINITY;
    const q = machine.queue;
    // The pacing anchor: wall time and virtual time when the machine last started to run.
    let anchor: { wall: number; virt: number } | undefined;
    for (;;) {
      if (this.#quit) return "quit";
      if (machine.runState === "shutdown") return "shutdown";
      if (q.now >= until) return "until";
      if (machine.runState !== "running" || q.pending === 0) {
        anchor = undefined;
        if (opts.reachable?.() === false) return stuckState(machine);
        await this.#sleep(undefined);
        continue;
      }
      const step = Math.min(opts.sliceNs, until - q.now);
      if (opts.pace !== undefined) {
        // A slice runs once the wall clock has reached the virtual time at its end,
        // so virtual time never leads the wall clock by more than one slice's work.
        anchor ??= { wall: performance.now(), virt: q.now };
        const dueMs = (q.now + step - anchor.virt) / opts.pace / 1e6;
        const lateMs = performance.now() - anchor.wall - dueMs;
        if (lateMs < 0) {
          await this.#sleep(-lateMs);
          continue;
        }
      }
      const end = machine.run(step);
      this.slices++;
      opts.afterSlice?.();
      if (end === "shutdown") return "shutdown";
      await new Promise<void>((resolve) => {
        setImmediate(resolve);
      });
    }
  }

  /** Waits for {@link wake}, or at most `ms` of wall time (no timer without `ms`: only a chardev can wake it). */
  #sleep(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wakeUp = resolve;
      if (ms !== undefined) this.#timer = setTimeout(this.wake, Math.max(1, Math.ceil(ms)));
    });
  }
}

/** The state a machine that cannot run is in, as Machine.run() reports it. */
function stuckState(machine: Machine): MachineRunEnd {
  switch (machine.runState) {
    case "running":
      return "idle";
    case "internal-error":
      return "internal-error";
    case "guest-panicked":
      return "guest-panicked";
    case "shutdown":
      return "shutdown";
    case "paused":
    case "prelaunch":
      return "paused";
  }
}
