// The README's example, verbatim apart from console.log becoming assertions.
import { expect, test } from "vitest";
import { EventQueue, MmioBus, RngStreams, Tracer } from "./index.js";

test("README example", () => {
  const queue = new EventQueue();
  const tracer = new Tracer(queue, { enabled: true });
  const bus = new MmioBus();
  let reg = 0;
  bus.map(0x0900_0000, 0x1000, { read: () => reg, write: (_off, _size, v) => { reg = v; } }, "uart");
  const rng = new RngStreams(42).stream("latency");
  queue.schedule(rng.int(100, 200), () => bus.write(0x0900_0000, 4, 0x41));
  queue.runUntilIdle();
  expect(queue.now).toBeGreaterThanOrEqual(100);
  expect(queue.now).toBeLessThanOrEqual(200);
  expect(bus.read(0x0900_0000, 4)).toBe(65);
  expect(tracer.events()).toHaveLength(0);
});
