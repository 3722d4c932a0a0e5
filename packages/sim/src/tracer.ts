/**
 * Tracing: typed events stamped with virtual time and placed on a track (a
 * host CPU, a vCPU, a device), plus the run's counters.
 *
 * Off by default and close to free when off: every recording method returns at
 * its first line, and hot paths guard with `if (tracer.enabled)` so that not
 * even the argument object is built. Guest errors are the exception: they are
 * always counted (like QEMU's LOG_GUEST_ERROR, which can be enabled after the
 * fact, a test wants the count whether or not a trace was asked for).
 *
 * Besides instants, spans and samples, a tracer keeps the causal thread of
 * an interrupt (beginCause / cause / endFlow: a flow from its raise to where
 * a vCPU takes it) and the state tracks whose open slice an export closes
 * (trace-state.ts).
 *
 * Events export to Chrome Trace Event JSON (see chrome-trace.ts) and to a
 * line-per-event text form used for golden traces.
 */

import { Counters } from "./counters.js";
import type { Clock } from "./event-queue.js";
import type { Nanoseconds } from "./time.js";
import type { TraceState } from "./trace-state.js";

/** What a track stands for; decides how viewers group it. */
export type TrackKind = "host-cpu" | "vcpu" | "device" | "vmm" | "host";

/** Handle of a track, returned by {@link Tracer.track}. */
export type TrackId = number;

/** A registered track. `group` becomes a process in trace viewers (a VM, the host). */
export interface TrackInfo {
  readonly id: TrackId;
  readonly kind: TrackKind;
  readonly group: string;
  readonly name: string;
}

/** Values an event may carry. Kept flat so traces stay byte-stable. */
export type TraceArgs = Readonly<Record<string, string | number | boolean>>;

/**
 * An instant: something that happened at one moment. An instant may begin a
 * flow (`flowOut`: the raise of an interrupt) or end one (`flowIn`: where a
 * vCPU takes it); viewers draw an arrow between the two.
 */
export interface InstantEvent {
  readonly phase: "instant";
  readonly ts: Nanoseconds;
  readonly track: TrackId;
  readonly category: string;
  readonly name: string;
  readonly args: TraceArgs | undefined;
  /** The flow this instant begins, if any (a {@link Tracer.beginCause} id). */
  readonly flowOut?: number;
  /** The flow this instant ends, if any. */
  readonly flowIn?: number;
}

/** A span of virtual time on one track (a KVM_RUN, an exit being handled). */
export interface SpanEvent {
  readonly phase: "span";
  readonly ts: Nanoseconds;
  readonly dur: Nanoseconds;
  readonly track: TrackId;
  readonly category: string;
  readonly name: string;
  readonly args: TraceArgs | undefined;
}

/** A sample of a counter's value at a moment. */
export interface CounterEvent {
  readonly phase: "counter";
  readonly ts: Nanoseconds;
  readonly track: TrackId;
  readonly category: string;
  readonly name: string;
  readonly value: number;
}

/** Any trace event. */
export type TraceEvent = InstantEvent | SpanEvent | CounterEvent;

/** Category under which guest errors are recorded. */
export const GUEST_ERROR = "guest-error";

const ZERO_CLOCK: Clock = { now: 0 };

/** Options of a {@link Tracer}. */
export interface TracerOptions {
  /** Record events (default false). Counters work either way. */
  readonly enabled?: boolean;
  /** Stop recording after this many events, counting the rest as dropped (default 5 million). */
  readonly maxEvents?: number;
}

/** Collects trace events and counters for one run. */
export class Tracer {
  /** Whether events are recorded. Hot paths test this before building arguments. */
  enabled: boolean;
  /** The run's counters. */
  readonly counters = new Counters();
  readonly #clock: Clock;
  readonly #events: TraceEvent[] = [];
  readonly #tracks: TrackInfo[] = [];
  readonly #trackIds = new Map<string, TrackId>();
  readonly #maxEvents: number;
  #dropped = 0;
  #nextFlow = 1;
  #cause = 0;
  readonly #states: TraceState[] = [];
  readonly #guestErrors = this.counters.counter(GUEST_ERROR);

  /** @param clock where timestamps come from (an EventQueue); time 0 if omitted. */
  constructor(clock: Clock = ZERO_CLOCK, options: TracerOptions = {}) {
    this.#clock = clock;
    this.enabled = options.enabled ?? false;
    this.#maxEvents = options.maxEvents ?? 5_000_000;
  }

  /** Registers a track. Tracks with the same group and name are the same track. */
  track(group: string, name: string, kind: TrackKind): TrackId {
    // Indexed: a host of 1024 harts registers some 70,000 tracks (one per IMSIC file).
    const key = `${group}\u0000${name}`;
    const found = this.#trackIds.get(key);
    if (found !== undefined) return found;
    const id = this.#tracks.length;
    this.#tracks.push({ id, kind, group, name });
    this.#trackIds.set(key, id);
    return id;
  }

  /** The clock's time: what events recorded now are stamped with. */
  get now(): Nanoseconds {
    return this.#clock.now;
  }

  /** The registered tracks, in registration order. */
  tracks(): readonly TrackInfo[] {
    return this.#tracks;
  }

  /** The recorded events, in recording order. */
  events(): readonly TraceEvent[] {
    return this.#events;
  }

  /** Events not recorded because `maxEvents` was reached. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Records that something happened now. */
  instant(track: TrackId, category: string, name: string, args?: TraceArgs): void {
    if (!this.enabled) return;
    this.#push({ phase: "instant", ts: this.#clock.now, track, category, name, args });
  }

  /** Records a span that started at `start` and lasted `dur` nanoseconds. */
  span(track: TrackId, category: string, name: string, start: Nanoseconds, dur: Nanoseconds, args?: TraceArgs): void {
    if (!this.enabled) return;
    this.#push({ phase: "span", ts: start, dur, track, category, name, args });
  }

  /**
   * Records that an interrupt is raised now and makes it the cause of what
   * follows until {@link endCause}: a vCPU told of a pending interrupt while
   * a cause is open remembers its flow id ({@link cause}) and ends the flow
   * where it takes the interrupt. Nested raises (an irqfd's kvm_set_irq, then
   * the irqchip's own event) join the outermost cause instead of opening a
   * flow of their own. Returns the previous cause, for endCause. Hot paths
   * call it only when enabled (the argument object is not built otherwise);
   * when disabled it records nothing.
   */
  beginCause(track: TrackId, category: string, name: string, args?: TraceArgs): number {
    const prev = this.#cause;
    if (!this.enabled) return prev;
    if (prev !== 0) {
      this.instant(track, category, name, args);
      return prev;
    }
    const id = this.#nextFlow++;
    this.#cause = id;
    this.#push({ phase: "instant", ts: this.#clock.now, track, category, name, args, flowOut: id });
    return prev;
  }

  /** Closes the cause opened by {@link beginCause}, restoring `prev`. */
  endCause(prev: number): void {
    this.#cause = prev;
  }

  /** How many flows were begun (ids run from 1 to this). */
  get flowCount(): number {
    return this.#nextFlow - 1;
  }

  /** The flow id of the interrupt being raised now, or 0. */
  get cause(): number {
    return this.#cause;
  }

  /** Records an instant that ends flow `flow` (where a raised interrupt is taken). */
  endFlow(track: TrackId, category: string, name: string, flow: number, args?: TraceArgs): void {
    if (!this.enabled) return;
    this.#push({ phase: "instant", ts: this.#clock.now, track, category, name, args, flowIn: flow });
  }

  /** @internal Registers a state track so that exports can close its open slice. */
  addState(state: TraceState): void {
    this.#states.push(state);
  }

  /**
   * The slices of state tracks still open now (a vCPU in the guest, a thread
   * running on a host CPU), as spans up to the clock's time. Not recorded:
   * an export adds them, so exporting twice gives the same file.
   */
  openSpans(): SpanEvent[] {
    const now = this.#clock.now;
    const out: SpanEvent[] = [];
    for (const s of this.#states) {
      const open = s.open;
      if (open !== undefined && now > open.since) {
        out.push({ phase: "span", ts: open.since, dur: now - open.since, track: s.track, category: s.category, name: open.name, args: open.args });
      }
    }
    return out;
  }

  /** Records a sample of a value now (a queue depth, free VS-files). */
  sample(track: TrackId, category: string, name: string, value: number): void {
    if (!this.enabled) return;
    this.#push({ phase: "counter", ts: this.#clock.now, track, category, name, value });
  }

  /**
   * Records a guest error: what hardware ignores or answers with UNKNOWN, what
   * QEMU logs as LOG_GUEST_ERROR. Always counted, in total and per `source`;
   * traced when enabled.
   */
  guestError(track: TrackId, source: string, message: string): void {
    this.#guestErrors.value++;
    this.counters.add(`${GUEST_ERROR}:${source}`);
    if (!this.enabled) return;
    this.#push({ phase: "instant", ts: this.#clock.now, track, category: GUEST_ERROR, name: source, args: { message } });
  }

  /** Number of guest errors so far. */
  get guestErrors(): number {
    return this.#guestErrors.value;
  }

  /** One line per event, for golden traces: `ts track category name k=v ...`. */
  toText(): string {
    const lines: string[] = [];
    for (const e of this.#events) {
      const t = this.#tracks[e.track];
      const where = t ? `${t.group}/${t.name}` : `#${e.track}`;
      let line = `${e.ts} ${where} ${e.category} ${e.name}`;
      if (e.phase === "span") line += ` dur=${e.dur}`;
      if (e.phase === "counter") line += ` value=${e.value}`;
      else if (e.args) for (const k of Object.keys(e.args)) line += ` ${k}=${String(e.args[k])}`;
      if (e.phase === "instant" && e.flowOut !== undefined) line += ` flow_out=${e.flowOut}`;
      if (e.phase === "instant" && e.flowIn !== undefined) line += ` flow_in=${e.flowIn}`;
      lines.push(line);
    }
    return lines.join("\n") + (lines.length ? "\n" : "");
  }

  #push(e: TraceEvent): void {
    if (this.#events.length >= this.#maxEvents) {
      this.#dropped++;
      return;
    }
    this.#events.push(e);
  }
}
