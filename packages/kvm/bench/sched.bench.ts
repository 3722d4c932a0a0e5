/**
 * Host scheduler throughput (target: ≥ 1 M scheduling events/s with
 * 1024 harts, 4096 vCPU threads and a random wake/sleep workload). The figure reported is the
 * scheduler's own count of scheduling events (wakes, sleeps, context
 * switches, migrations) per second: each call runs until BATCH have happened.
 */
import { EventQueue, RngStreams } from "@irqlab/sim";
import { bench, describe } from "vitest";
import { HostScheduler } from "../src/sched/host-scheduler.js";

const BATCH = 10_000;

describe("@irqlab/kvm host scheduler", () => {
  const queue = new EventQueue();
  const sched = new HostScheduler(queue, { harts: 1024, timeSlice: 3_000_000, balanceInterval: 4_000_000 });
  const rng = new RngStreams(1).stream("workload");
  const threads = Array.from({ length: 4096 }, (_, i) => sched.createThread(`vcpu${i}`));
  sched.startBalancing();
  // Half the threads awake to start with.
  for (let i = 0; i < 2048; i++) sched.wake(threads[i]!);
  // One call runs the workload until BATCH scheduling events have happened.
  bench(`scheduling events, random wake/sleep, 1024 harts x 4096 threads [x${BATCH}]`, () => {
    const target = sched.events + BATCH;
    while (sched.events < target) {
      const t = threads[rng.int(0, 4095)]!;
      if (t.state === "sleeping") sched.wake(t);
      else sched.sleep(t);
      // 1 us of virtual time per operation: slices expire and the balancer runs.
      queue.runUntil(queue.now + 1_000);
    }
  });
});
