// Preloaded (node --import) into the processes a bench measures pinned to one CPU
// (micro-bench-process.mjs's runPinnedJson): moves every thread of the process but the main one to
// the CPUs in $IRQLAB_HELPER_CPUS (a taskset list, "0" or "0,2-3"), so that V8's helper threads
// work beside the measured thread rather than on its CPU.
//
// Why: the main thread runs the model; V8's helper threads compile with TurboFan and mark and sweep
// the heap concurrently. Pinned with them to one CPU, every compile preempts the model for as long
// as it takes, and a bench that boots a fresh machine per run keeps them busy: each machine's boot
// and prep code (the device tree's builder, the GIC's set-up, lpi's ITS set-up) reaches TurboFan's
// threshold only after some dozens of machines, in compiles of 5-50 ms each. Traced with
// --trace-opt, such compiles overlapped about one lpi run in three from the 10th to the 60th
// machine of a process, each making that run's span 1.5 to 3 times the others'. With the helpers on
// the other CPU, the spans of the same runs agreed to within about 10 % (lpi 2,100-2,500 ns an
// operation against 2,100-8,000 pinned together; ipi 1,060-1,440 against 1,080-4,080): the
// process then runs as an unpinned one does on an otherwise idle two-CPU machine, with the model's
// thread kept on one CPU.
//
// The threads are those the process has when the preload runs: V8's platform workers, made before
// any script. A thread made later (libuv's pool, on a first asynchronous file access) stays with the
// main thread. Needs taskset (util-linux); without it, or without the variable, nothing moves.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";

const cpus = process.env.IRQLAB_HELPER_CPUS;
if (cpus !== undefined && cpus !== "") {
  for (const tid of readdirSync("/proc/self/task")) {
    if (Number(tid) === process.pid) continue;
    try {
      execFileSync("taskset", ["-p", "-c", cpus, tid], { stdio: "ignore" });
    } catch {
      // The thread ended since the listing (or taskset is missing): nothing to move.
    }
  }
}
