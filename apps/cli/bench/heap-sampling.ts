/**
 * What a run allocates on the JavaScript heap, from V8's sampling heap
 * profiler, with the objects collections freed counted too: for figures
 * where the heap's growth cannot tell (micro-bench builds a machine per run,
 * megabytes, and a scavenge inside the run empties the young generation).
 *
 * Only the first sampled run of a process is measured as it runs
 * unsampled: once sampling has started, a later run takes deoptimisations
 * of the model's code (a sampled run of one ipi iteration after one of
 * 65536 took six, and the next run of 65536 then allocated five times as
 * much), so a figure that compares two runs takes them in two processes.
 *
 * The profiler samples an allocation about every `intervalBytes` bytes (a
 * Poisson process): a run's total carries noise of about
 * intervalBytes × √(samples).
 */
import { Session } from "node:inspector";

interface SamplingNode {
  selfSize: number;
  children: SamplingNode[];
}

/** Posts `method` and returns its result: a session of this thread answers before post returns. */
function postNow(s: Session, method: string, params: object = {}): unknown {
  let out: { error: Error | null; result: unknown } | undefined;
  s.post(method, params, (error, result) => {
    out = { error, result };
  });
  if (out === undefined) throw new Error(`inspector: ${method} did not answer at once`);
  if (out.error !== null) throw out.error;
  return out.result;
}

function totalSelf(n: SamplingNode): number {
  let sum = n.selfSize;
  for (const c of n.children) sum += totalSelf(c);
  return sum;
}

/** Bytes `run` allocates, sampled every `intervalBytes` on average. Call it once per process (see above). */
export function sampledBytes(run: () => void, intervalBytes = 64): number {
  const s = new Session();
  s.connect();
  try {
    postNow(s, "HeapProfiler.enable");
    postNow(s, "HeapProfiler.startSampling", { samplingInterval: intervalBytes, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    let head: SamplingNode;
    try {
      run();
    } finally {
      // Stopped even if run threw.
      head = (postNow(s, "HeapProfiler.stopSampling") as { profile: { head: SamplingNode } }).profile.head;
    }
    return totalSelf(head);
  } finally {
    s.disconnect();
  }
}
