/**
 * The public API of @irqlab/sim as a user compiles against it: the value
 * exports, the signatures of the entry points, and misuse the types reject.
 * Checked (never run) by vitest's typecheck project against the built
 * declarations, and by this package's `tsc --noEmit` against the sources.
 */
import * as sim from "@irqlab/sim";
import {
  call,
  ConfigError,
  EventQueue,
  GuestMemory,
  GuestMemoryFault,
  IrqlabError,
  MmioBus,
  RegionOverlapError,
  RngStreams,
  Tracer,
  op,
  read32,
  type AccessSize,
  type GuestOp,
  type GuestProgram,
  type GuestResult,
  type HypercallOp,
  type MmioDevice,
  type MmioRegion,
  type Rng,
  type TraceEvent,
} from "@irqlab/sim";
import { assertType, describe, expectTypeOf, test } from "vitest";

/** Every value export: adding or removing one fails here until this list is updated. */
type ValueExports =
  | "Bitmap" | "ConfigError" | "Counters" | "EventQueue" | "GUEST_ERROR" | "GuestMemory" | "GuestMemoryFault"
  | "IrqlabError" | "MMIO_UNHANDLED" | "MmioBus" | "PAGE_SIZE" | "RegionOverlapError" | "Rng" | "RngStreams"
  | "StateMachineProgram" | "TraceState" | "Tracer" | "assertAccessSize" | "checkChromeTrace" | "formatNs" | "guestOpProblem" | "call" | "largestHolding" | "loopForm" | "lowestSetBit" | "ms"
  | "newGuestResult" | "op" | "pollGoesOn" | "pollLoop" | "read32" | "repeatedOp" | "returnsAfterOp" | "seconds" | "sortByStart" | "sysReg" | "toChromeTrace"
  | "toChromeTraceJson" | "us" | "write32";

describe("@irqlab/sim public API", () => {
  test("the value exports are exactly the pinned list", () => {
    expectTypeOf<Exclude<keyof typeof sim, ValueExports>>().toBeNever(); // exported, not pinned
    expectTypeOf<Exclude<ValueExports, keyof typeof sim>>().toBeNever(); // pinned, not exported
  });

  test("errors carry a string code; the subclasses name what went wrong", () => {
    expectTypeOf<IrqlabError>().toExtend<Error>();
    expectTypeOf<IrqlabError["code"]>().toEqualTypeOf<string>();
    expectTypeOf<typeof IrqlabError.isInstance>().guards.toEqualTypeOf<IrqlabError>();
    expectTypeOf<ConfigError>().toExtend<IrqlabError>();
    expectTypeOf<ConstructorParameters<typeof ConfigError>>().toEqualTypeOf<[message: string]>();
    expectTypeOf<RegionOverlapError>().toExtend<IrqlabError>();
    expectTypeOf<RegionOverlapError["existing"]>().toEqualTypeOf<string>();
    expectTypeOf<GuestMemoryFault>().toExtend<IrqlabError>();
    expectTypeOf<GuestMemoryFault["access"]>().toEqualTypeOf<"read" | "write">();
    expectTypeOf<GuestMemoryFault["address"]>().toEqualTypeOf<number>();
  });

  test("EventQueue: virtual nanoseconds, handlers with an argument, run bounds", () => {
    const queue = new EventQueue();
    expectTypeOf(queue.now).toEqualTypeOf<number>();
    expectTypeOf<EventQueue["schedule"]>().returns.toEqualTypeOf<number>();
    expectTypeOf<EventQueue["schedule"]>().parameter(0).toEqualTypeOf<number>();
    expectTypeOf<EventQueue["cancel"]>().toEqualTypeOf<(id: number) => boolean>();
    expectTypeOf<EventQueue["cancelAt"]>().toEqualTypeOf<(ids: Float64Array, index: number) => boolean>();
    expectTypeOf<EventQueue["scheduleAfterInto"]>().parameter(0).toEqualTypeOf<Float64Array>();
    expectTypeOf<EventQueue["scheduleAfterInto"]>().returns.toBeVoid();
    expectTypeOf<EventQueue["runUntilIdle"]>().returns.toEqualTypeOf<number>();
    expectTypeOf<EventQueue["runUntilCondition"]>().parameter(0).toEqualTypeOf<() => boolean>();
    expectTypeOf<EventQueue["peekTime"]>().returns.toEqualTypeOf<number | undefined>();
    expectTypeOf<EventQueue["idleSteps"]>().toEqualTypeOf<(step: number, count: number) => number>();
    // A process's idle check is an object: its idleUntil, and optionally a bound on steps.
    expectTypeOf<EventQueue["scheduleWhenUnlimited"]>().parameter(2).toEqualTypeOf<sim.IdleCheck | undefined>();
    expectTypeOf<sim.IdleCheck["idleUntil"]>().toEqualTypeOf<(time: number) => boolean>();
    queue.scheduleWhenUnlimited(() => undefined, undefined, { idleUntil: (t) => t < 10, steps: (from, step, max) => Math.min(max, (10 - from) / step) });
    // Or both asked of the queue's askedTime, which no time crosses a call to reach.
    expectTypeOf<sim.IdleCheck["idleUntilAsked"]>().toEqualTypeOf<(() => boolean) | undefined>();
    expectTypeOf<sim.IdleCheck["stepsAsked"]>().toEqualTypeOf<((step: number, max: number) => number) | undefined>();
    expectTypeOf<EventQueue["askedTime"]>().toEqualTypeOf<number>();
    // A cost to run for, which no end time crosses a call to reach.
    expectTypeOf<EventQueue["runFor"]>().toEqualTypeOf<(ns: number) => number>();
    // A cut's time in a typed array, as runUntilTimeIn's.
    expectTypeOf<EventQueue["cutAtTimeIn"]>().toEqualTypeOf<(depth: number, at: Float64Array) => void>();
    // @ts-expect-error -- a bare function is not an idle check
    queue.scheduleWhenUnlimited(() => undefined, undefined, (t: number) => t < 10);
    // @ts-expect-error -- time is a number of nanoseconds, not a bigint
    queue.schedule(10n, () => undefined);
  });

  test("MmioBus: devices, regions and the 1/2/4/8-byte access sizes", () => {
    const bus = new MmioBus();
    expectTypeOf<AccessSize>().toEqualTypeOf<1 | 2 | 4 | 8>();
    expectTypeOf<MmioBus["map"]>().toEqualTypeOf<(base: number, size: number, device: MmioDevice, name: string) => MmioRegion>();
    expectTypeOf<MmioBus["read"]>().toEqualTypeOf<(addr: number, size: AccessSize) => number>();
    expectTypeOf<MmioBus["write"]>().toEqualTypeOf<(addr: number, size: AccessSize, value: number, hi?: number) => boolean>();
    expectTypeOf<MmioBus["quietRead"]>().toEqualTypeOf<(addr: number, size: AccessSize) => boolean>();
    expectTypeOf<MmioDevice["quietReads"]>().toEqualTypeOf<boolean | undefined>();
    expectTypeOf<MmioDevice["read"]>().returns.toEqualTypeOf<number>();
    // @ts-expect-error -- there is no 3-byte access
    bus.read(0x1000, 3);
    // @ts-expect-error -- a device must implement write as well as read
    bus.map(0, 0x1000, { read: () => 0 }, "read-only");
  });

  test("guest ops: a discriminated union the executor switches on", () => {
    expectTypeOf<GuestOp["kind"]>().toEqualTypeOf<
      "mmio-read" | "mmio-write" | "sysreg-read" | "sysreg-write" | "csr" | "wfi" | "hvc" | "smc" | "sbi" | "compute" | "irq-mask" | "irq-unmask" | "brk" | "ebreak" | "repeat" | "poll" | "seq" | "call"
    >();
    expectTypeOf<Extract<GuestOp, { kind: "mmio-read" }>["signExtend"]>().toEqualTypeOf<32 | 64 | undefined>();
    expectTypeOf<Extract<GuestOp, { kind: "csr" }>["op"]>().toEqualTypeOf<"csrrw" | "csrrs" | "csrrc">();
    expectTypeOf<GuestProgram>().toEqualTypeOf<Generator<GuestOp, void, GuestResult>>();
    expectTypeOf<GuestResult>().toEqualTypeOf<{ value: number; hi: number; error: number; regs: number[]; returned?: unknown }>();
    expectTypeOf(call).toEqualTypeOf<<T>(code: Generator<GuestOp, T, GuestResult>) => Generator<GuestOp, T, GuestResult>>();
    expectTypeOf(op.read(0, 4)).toExtend<GuestOp>();
    expectTypeOf<typeof op.hvc>().toEqualTypeOf<(args: readonly number[], imm?: number) => HypercallOp>();
    expectTypeOf(read32).returns.toEqualTypeOf<Generator<GuestOp, number, GuestResult>>();
    assertType<GuestProgram>((function* () {
      const r = yield op.read(0x0900_0000, 4);
      expectTypeOf(r).toEqualTypeOf<GuestResult>();
    })());
    // @ts-expect-error -- op.write takes the value as a number (the high word separately), not a bigint
    op.write(0, 8, 1n);
  });

  test("seeded randomness, guest memory and tracing", () => {
    expectTypeOf<ConstructorParameters<typeof RngStreams>>().toEqualTypeOf<[seed: number | string]>();
    expectTypeOf<RngStreams["stream"]>().returns.toEqualTypeOf<Rng>();
    expectTypeOf<Rng["int"]>().toEqualTypeOf<(min: number, max: number) => number>();
    expectTypeOf<GuestMemory["addRam"]>().toEqualTypeOf<(base: number, size: number, name?: string) => void>();
    expectTypeOf<GuestMemory["readU64"]>().returns.toEqualTypeOf<bigint>();
    expectTypeOf<GuestMemory["read"]>().returns.toEqualTypeOf<Uint8Array>();
    expectTypeOf<Tracer["events"]>().returns.toEqualTypeOf<readonly TraceEvent[]>();
    expectTypeOf<TraceEvent["phase"]>().toEqualTypeOf<"instant" | "span" | "counter">();
    // @ts-expect-error -- the tracer's option is `enabled`, not `enable`
    new Tracer(undefined, { enable: true });
  });
});
