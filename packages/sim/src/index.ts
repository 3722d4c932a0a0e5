/**
 * @irqlab/sim — the deterministic simulation kernel every irqlab model stands
 * on: virtual time and its event queue, seeded random streams, sparse guest
 * physical memory, the MMIO bus devices plug into, tracing with Chrome Trace
 * export, and the types of the operations a guest program yields.
 *
 * @packageDocumentation
 */

export { IrqlabError, ConfigError, RegionOverlapError, GuestMemoryFault, type AccessKind } from "./errors.js";
export { type Nanoseconds, us, ms, seconds, formatNs } from "./time.js";
export { EventQueue, type EventId, type EventHandler, type Clock, type IdleCheck, type ScheduleWatch } from "./event-queue.js";
export { Rng, RngStreams, type Seed } from "./rng.js";
export { GuestMemory, PAGE_SIZE, type RamRegionInfo, type WriteWatch } from "./guest-memory.js";
export {
  MmioBus,
  MMIO_UNHANDLED,
  assertAccessSize,
  type AccessSize,
  type MmioDevice,
  type MmioRegion,
  type WideValue,
} from "./mmio-bus.js";
export { Counters, type Counter } from "./counters.js";
export {
  Tracer,
  GUEST_ERROR,
  type TracerOptions,
  type TrackId,
  type TrackKind,
  type TrackInfo,
  type TraceArgs,
  type TraceEvent,
  type InstantEvent,
  type SpanEvent,
  type CounterEvent,
} from "./tracer.js";
export { TraceState, type OpenState } from "./trace-state.js";
export { toChromeTrace, toChromeTraceJson, sortByStart, type ChromeTrace, type ChromeTraceEvent } from "./chrome-trace.js";
export { checkChromeTrace } from "./chrome-trace-check.js";
export { Bitmap, lowestSetBit } from "./bitmap.js";
export { largestHolding } from "./search.js";
export {
  op,
  read32,
  write32,
  sysReg,
  newGuestResult,
  pollLoop,
  pollGoesOn,
  guestOpProblem,
  repeatedOp,
  loopForm,
  call,
  type GuestOp,
  type GuestResult,
  type GuestProgram,
  type MmioReadOp,
  type MmioWriteOp,
  type SysRegReadOp,
  type SysRegWriteOp,
  type CsrOp,
  type WfiOp,
  type HypercallOp,
  type SbiCallOp,
  type ComputeOp,
  type IrqMaskOp,
  type BrkOp,
  type EbreakOp,
  type RepeatOp,
  type RepeatableOp,
  type PollOp,
  type SeqOp,
  type CallOp,
} from "./guest-ops.js";
export { StateMachineProgram, returnsAfterOp } from "./state-machine-program.js";
