/**
 * What the `storm` image does the same way on both architectures: find every
 * `x-irqlab-msix-test` function on the PCIe host's bus 0, give each vector a
 * message from the architecture's MSI controller, set MSI-X up as Linux does
 * with every entry unmasked, then ring every vector round after round and
 * count the interrupts each CPU takes.
 *
 * In each round the boot CPU rings each function's doorbell (BAR0 + 8) once
 * per vector, then waits until the round's interrupts have all been taken,
 * so no two MSIs of one vector are pending at once (neither an LPI nor an
 * IMSIC identity has a count: a second MSI while one is pending is merged).
 * "N missing" counts the interrupts of rounds that timed out.
 */

import { op } from "@irqlab/sim";
import type { PcieHostInfo } from "../boot/platform-info.js";
import { putLine, type Console } from "../console/console.js";
import type { GuestCode } from "../guest-image.js";
import { enumeratePciBus, type PciFunctionInfo } from "../pci/pci-enumerate.js";
import { msiMapId, type MsiTarget } from "../pci/msi-map.js";
import { MsixCapability, type MsiMessage } from "../pci/pci-msix.js";

/** x-irqlab-msix-test's identity and doorbell register. */
export const MSIX_TEST_VENDOR = 0x1234;
export const MSIX_TEST_DEVICE = 0x11e9;
export const MSIX_TEST_DOORBELL = 0x08;
/** Rounds of the storm. */
export const STORM_ROUNDS = 4;
/** Polls (of 1 us) the boot CPU waits for one round. */
export const STORM_ROUND_POLLS = 100_000;

/** One test function, ready to ring. */
export interface StormDevice {
  readonly fn: PciFunctionInfo;
  readonly doorbell: number;
  readonly vectors: number;
}

/**
 * The architecture's half of pci_alloc_irq_vectors + request_irq for one
 * function: one interrupt per vector (vector v on CPU v mod N), each counted
 * in its CPU's slot of `taken` by its handler; returns the MSI message of
 * each vector, or a failure message.
 */
export type StormVectorMapper = (fn: PciFunctionInfo, target: MsiTarget, vectors: number) => GuestCode<MsiMessage[] | string>;

/** The counter the storm is timed with: ticks and their frequency. */
export interface StormClock {
  readonly hz: number;
  now(): GuestCode<number>;
}

/**
 * Enumerates `host`'s bus 0 and sets every test function up: MSI-X found,
 * BAR0 assigned, the requester ID mapped through `msi-map`, the vectors
 * mapped by `map`, MSI-X enabled (msix_capability_init) and every entry
 * unmasked. Returns the functions or a failure message.
 */
export function* setupStormDevices(host: PcieHostInfo, map: StormVectorMapper): GuestCode<StormDevice[] | string> {
  const e = yield* enumeratePciBus(host);
  const out: StormDevice[] = [];
  for (const fn of e.functions) {
    if (fn.vendorId !== MSIX_TEST_VENDOR || fn.deviceId !== MSIX_TEST_DEVICE) continue;
    const msix = yield* MsixCapability.find(fn);
    const bar0 = fn.bars.find((b) => b.index === 0)?.cpuAddress;
    const target = msiMapId(host, fn.requesterId);
    if (msix === undefined || bar0 === undefined || target === undefined) return `${fn.name}: no MSI-X, BAR0 or msi-map translation`;
    const messages = yield* map(fn, target, msix.vectors);
    if (typeof messages === "string") return messages;
    yield* msix.setup(messages);
    for (let v = 0; v < msix.vectors; v++) yield* msix.mask(v, false);
    out.push({ fn, doorbell: bar0 + MSIX_TEST_DOORBELL, vectors: msix.vectors });
  }
  if (out.length === 0) return "no x-irqlab-msix-test function on bus 0 (-device x-irqlab-msix-test)";
  return out;
}

function total(taken: readonly number[]): number {
  return taken.reduce((a, b) => a + b, 0);
}

/**
 * The storm on the boot CPU, with interrupts unmasked; `taken` is the
 * per-CPU count the handlers keep (kernel data). Prints the two lines.
 */
export function* runStorm(con: Console, devs: readonly StormDevice[], taken: readonly number[], clock: StormClock): GuestCode {
  const vectors = devs.reduce((a, d) => a + d.vectors, 0);
  yield* putLine(con, `storm: ${devs.length} function${devs.length === 1 ? "" : "s"}, ${vectors} vectors, ${STORM_ROUNDS} rounds: ${vectors * STORM_ROUNDS} MSIs`);
  const start = yield* clock.now();
  let missing = 0;
  const poll = op.compute(1000);
  for (let r = 0; r < STORM_ROUNDS; r++) {
    const want = total(taken) + vectors;
    for (const d of devs) for (let v = 0; v < d.vectors; v++) yield op.write(d.doorbell, 4, v);
    let polls = 0;
    while (total(taken) < want && polls++ < STORM_ROUND_POLLS) yield poll;
    missing += Math.max(0, want - total(taken));
  }
  const us = Math.round((((yield* clock.now()) - start) * 1_000_000) / clock.hz);
  const per = taken.map((n, c) => `CPU${c} ${n}`).join(", ");
  yield* putLine(con, `storm: ${total(taken)} interrupts taken (${per}), ${missing} missing, in ${us} us`);
}
