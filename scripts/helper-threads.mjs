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
// --trace-opt, such compiles overlapped about one lpi run in three from the 10th run of a process
// to its 60th (a machine each, and one more between each two for the prep's figure), each making
// that run's span 1.5 to 3 times the others'. With the helpers on the other CPU, runs 10 to 29 of
// two processes took 2,000-2,530 ns an lpi operation but for two (2,670 and 3,100), against
// 2,100-8,080 pinned together, and 1,060-1,440 an ipi operation against 1,080-4,080; over eight
// alternating processes of the micro-bench span runner each, the median span went from 1,284 to
// 1,193 ns (ipi) and from 2,507 to 2,164 (lpi). The process then runs as an unpinned one does on an
// otherwise idle two-CPU machine, with the model's thread kept on one CPU.
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
