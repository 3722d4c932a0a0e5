/**
 * Hot paths of the simulation kernel. Targets (one core):
 * ≥ 10 M scheduled-and-dispatched events/s with 1,000 pending; ≥ 50 M MMIO-bus
 * dispatches/s to a trivial device; ≥ 100 M 32-bit guest-memory reads/s.
 * Each bench call runs a batch of BATCH operations; scripts/bench.mjs
 * multiplies the call rate by the batch size the name states ("[xN]").
 */
import { bench, describe } from "vitest";
import { EventQueue, GuestMemory, MmioBus, PAGE_SIZE, type MmioDevice } from "../src/index.js";

const BATCH = 10_000;

/** Keeps benchmark results observable so the JIT cannot drop the work. */
export const memorySink = { value: 0 };

describe("@irqlab/sim", () => {
  // Event queue: 1,000 events pending; each op dispatches the earliest and
  // schedules one new event at a pseudo-random later time (an LCG, not Math.random).
  const q = new EventQueue(2048);
  let lcg = 1;
  const handler = (_: number) => {
    lcg = (Math.imul(lcg, 1664525) + 1013904223) >>> 0;
    q.schedule(q.now + 1 + (lcg & 1023), handler, 0);
  };
  for (let i = 0; i < 1000; i++) q.schedule(i, handler, 0);
  bench(`event schedule+dispatch, 1000 pending [x${BATCH}]`, () => {
    for (let i = 0; i < BATCH; i++) q.step();
  });

  // MMIO bus: four mapped regions, dispatch of 4-byte reads and writes to one.
  const bus = new MmioBus();
  let reg = 0;
  const dev: MmioDevice = {
    read: () => reg,
    write: (_o, _s, v) => {
      reg = v;
    },
  };
  for (let i = 0; i < 4; i++) bus.map(0x0800_0000 + i * 0x10000, 0x10000, dev, `dev${i}`);
  const base = 0x0802_0000;
  bench(`mmio bus dispatch (read+write alternating) [x${BATCH}]`, () => {
    for (let i = 0; i < BATCH; i += 2) {
      bus.write(base + ((i & 63) << 2), 4, i);
      reg += bus.read(base + ((i & 63) << 2), 4);
    }
  });

  // The same, rotating over 16 regions so that the last-region cache misses
  // and every access pays for the binary search.
  const bus16 = new MmioBus();
  for (let i = 0; i < 16; i++) bus16.map(0x0800_0000 + i * 0x10000, 0x10000, dev, `dev${i}`);
  bench(`mmio bus dispatch, 16 regions round-robin [x${BATCH}]`, () => {
    for (let i = 0; i < BATCH; i++) reg += bus16.read(0x0800_0000 + (i & 15) * 0x10000 + 8, 4);
  });

  // Guest memory: sequential 32-bit reads over 64 KiB of resident RAM.
  const mem = new GuestMemory();
  mem.addRam(0x4000_0000, 16 * PAGE_SIZE);
  for (let a = 0; a < 16 * PAGE_SIZE; a += 4) mem.writeU32(0x4000_0000 + a, a);
  let cursor = 0;
  bench(`guest memory readU32 [x${BATCH}]`, () => {
    let s = 0;
    let a = cursor;
    for (let i = 0; i < BATCH; i++) {
      s += mem.readU32(0x4000_0000 + a);
      a = (a + 4) & (16 * PAGE_SIZE - 1);
    }
    cursor = a;
    memorySink.value ^= s;
  });
});
