/**
 * The run loop's shortcuts are invisible: a generated multi-vCPU arm64 or
 * riscv64 guest (run-loop-forms-guest.ts) run as written — its repeats,
 * sequences, polls and calls taken by the run loop's fast paths (repeats in
 * bulk, polls skipping the turns in which a standing vCPU stays idle, quiet
 * loads answered inside KVM_RUN, sequences and called programs run without
 * resuming the caller) — and through `loopFormImage` (every one of them as
 * the loop of yields it stands for) must end the same: how the run ended,
 * the virtual time, every counter, each vCPU thread's KVM_RUN calls and
 * exits, the shared words in guest RAM and, traced, the trace. Untraced and
 * traced runs are both compared, since a trace turns some shortcuts off;
 * and the guest as written must end the same untraced and traced (a trace
 * watches, it changes nothing).
 */

import { loopFormImage, type GuestArch, type GuestImage } from "@irqlab/guest";
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import type { Rng } from "@irqlab/sim";
import { check, type FuzzTarget } from "../target.js";
import { IPI_OTHER, IPI_SEQ, LPI_EVENTS, runLoopFormsGuest, WORDS, type Block, type GuestWords } from "./run-loop-forms-guest.js";

interface Setup {
  readonly arch: GuestArch;
  readonly cpus: number;
  /** Virtual time the machine runs for. */
  readonly ns: number;
}

/** Block `block` appended to vCPU `cpu`'s list. */
interface Op {
  readonly cpu: number;
  readonly block: Block;
}

const REPEATED = ["load", "store", "irqchip", "uart", "irqchip-reg", "cpu-reg", "hypercall"] as const;

/** Calls nest at most this deep. */
const CALL_DEPTH = 2;

function drawBlock(rng: Rng, cpus: number, depth = 0): Block {
  const w = rng.int(0, WORDS - 1);
  switch (rng.int(0, 18)) {
    case 0:
    case 1:
      return { k: "store", w, v: rng.int(0, 3) };
    case 2:
      return { k: "load", w };
    case 3:
    case 4:
      return { k: "seq", items: Array.from({ length: rng.int(1, 5) }, () => [rng.int(0, WORDS - 1), rng.int(-1, 3)] as const) };
    case 5:
    case 6:
    case 7:
      return { k: "repeat", n: rng.chance(0.2) ? rng.int(1, 3) : rng.int(10, 2_000), what: REPEATED[rng.int(0, REPEATED.length - 1)]!, w, stride: rng.chance(0.4) };
    case 8:
    case 9:
      return { k: "poll", w, equals: rng.int(0, 3), relax: rng.int(0, 400), tries: rng.chance(0.5) ? rng.int(1, 20) : rng.int(100, 5_000) };
    case 10:
      return { k: rng.chance(0.5) ? "compute" : "spin", ns: rng.chance(0.5) ? rng.int(1, 50) : rng.int(1_000, 50_000) };
    case 11:
    case 12:
    case 13:
      return { k: "ipi", kind: rng.int(IPI_SEQ, IPI_OTHER), to: rng.int(0, cpus - 1) };
    case 14:
      return { k: rng.chance(0.5) ? "mask" : "unmask" };
    // Ticks of the architecture's counter (arm64 CNTVCT_EL0, riscv64 the time CSR).
    case 15:
      return { k: "delay", ticks: rng.chance(0.5) ? rng.int(1, 20) : rng.int(100, 3_000), relax: rng.int(0, 200) };
    case 16:
      return { k: "timer", ticks: rng.chance(0.5) ? rng.int(1, 50) : rng.int(500, 20_000) };
    case 17:
      if (depth === CALL_DEPTH) return { k: "load", w };
      return { k: "call", body: Array.from({ length: rng.int(1, 4) }, () => drawBlock(rng, cpus, depth + 1)) };
    default:
      return { k: "wfi" };
  }
}

/** What a run ended with, as text: compared between the two forms. */
interface Outcome {
  readonly end: string;
  readonly now: number;
  readonly counters: string;
  readonly threads: string;
  readonly words: string;
  readonly trace: string;
}

/** The machine each architecture's guest runs on (riscv64: the AIA in the kernel, VS-files). */
const MACHINE: Readonly<Record<GuestArch, readonly string[]>> = {
  aarch64: ["-M", "virt", "-accel", "kvm"],
  riscv64: ["-M", "virt,aia=aplic-imsic", "-accel", "kvm,riscv-aia=hwaccel"],
};

function run(setup: Setup, image: GuestImage, words: GuestWords, trace: boolean): Outcome {
  const parsed = parseSystemCommandLine(setup.arch, [...MACHINE[setup.arch], "-smp", String(setup.cpus), "-nographic"]);
  if (parsed.kind !== "run") throw new Error(`command line: ${parsed.kind}`);
  words.base = 0;
  const m = Machine.create({ config: parsed.config, kernel: image, console: () => undefined, trace });
  const end = m.run(setup.ns);
  const ram = m.vm.memory;
  const values = words.base === 0 ? [] : Array.from({ length: WORDS }, (_, w) => ram.readU32(words.base + 4 * w));
  return {
    end,
    now: m.queue.now,
    counters: JSON.stringify(m.tracer.counters.toJSON()),
    threads: m.cpus.map((c) => `${c.thread.runs}/${c.thread.exits}`).join(" "),
    words: values.join(","),
    trace: trace ? m.tracer.toText() : "",
  };
}

/** What must be the same in two runs of one guest (the trace is compared apart). */
const SAME = ["end", "now", "threads", "words", "counters"] as const;

/** The first line where `a` and `b` differ, with its neighbours. */
function firstDifference(a: string, b: string): string {
  const la = a.split("\n");
  const lb = b.split("\n");
  let i = 0;
  while (i < la.length && i < lb.length && la[i] === lb[i]) i++;
  return `line ${i + 1}:\n  fast: ${la.slice(i, i + 3).join("\n        ")}\n  loop: ${lb.slice(i, i + 3).join("\n        ")}`;
}

/** Each vCPU's blocks, in the order of the operations that append them. */
function blocksOf(setup: Setup, ops: readonly Op[]): Block[][] {
  const blocks: Block[][] = Array.from({ length: setup.cpus }, () => []);
  for (const o of ops) blocks[o.cpu]!.push(o.block);
  return blocks;
}

/** Blocks the vCPUs reached in the last case's untraced fast run, by architecture and kind ("riscv64:poll"). */
let lastKinds: Record<string, number> = {};

export const runLoopForms: FuzzTarget<Setup, Op> = {
  name: "run-loop-forms",
  about: "arm64 and riscv64 multi-vCPU guests: the run loop's fast paths end as the loop of yields they stand for (time, counters, exits, RAM, trace), traced or not",
  generate(rng, count) {
    const cpus = rng.int(2, 4);
    const ns = rng.int(5, 20) * 1_000_000;
    const setup: Setup = { arch: rng.chance(0.5) ? "aarch64" : "riscv64", cpus, ns };
    const ops: Op[] = [];
    for (let i = 0; i < count; i++) {
      const cpu = rng.int(0, setup.cpus - 1);
      // The ITS's commands: arm64, and vCPU 0 only (the driver of the one command queue).
      if (setup.arch === "aarch64" && cpu === 0 && rng.chance(0.3)) {
        const event = rng.int(0, LPI_EVENTS - 1);
        ops.push({ cpu, block: rng.chance(0.75) ? { k: "lpi", event } : { k: "movi", event, to: rng.int(0, cpus - 1) } });
      } else ops.push({ cpu, block: drawBlock(rng, setup.cpus) });
    }
    return { setup, ops };
  },
  execute(setup, ops, step) {
    step(0);
    const blocks = blocksOf(setup, ops);
    // Counted in the untraced run as written only.
    const reached: Record<string, number> = {};
    let counting = false;
    const words: GuestWords = { base: 0 };
    const image = runLoopFormsGuest(setup.arch, setup.cpus, blocks, words, (b) => {
      if (!counting) return;
      const kind = `${setup.arch}:${b.k === "repeat" ? `repeat-${b.what}` : b.k}`;
      reached[kind] = (reached[kind] ?? 0) + 1;
    });
    lastKinds = reached;
    step(ops.length);
    const fastRuns: Outcome[] = [];
    for (const trace of [false, true]) {
      counting = !trace;
      const fast = run(setup, image, words, trace);
      counting = false;
      fastRuns.push(fast);
      const loop = run(setup, loopFormImage(image), words, trace);
      const how = trace ? "traced" : "untraced";
      for (const key of SAME) {
        check(fast[key] === loop[key], `forms-${key}`, () => `${how}: ${key} differs: fast ${String(fast[key])} / loop ${String(loop[key])}`);
      }
      check(fast.trace === loop.trace, "forms-trace", () => `traced: the trace differs at ${firstDifference(fast.trace, loop.trace)}`);
    }
    // Tracing only watches: the run it watches ends as the run nobody watched.
    const [plain, traced] = fastRuns as [Outcome, Outcome];
    for (const key of SAME) {
      check(plain[key] === traced[key], `traced-${key}`, () => `as written, ${key} differs untraced and traced: ${String(plain[key])} / ${String(traced[key])}`);
    }
  },
  coverage: () => lastKinds,
  outcome(setup, ops) {
    // The guest as written, untraced and traced: the fast paths a trace turns off are in the first.
    const words: GuestWords = { base: 0 };
    const image = runLoopFormsGuest(setup.arch, setup.cpus, blocksOf(setup, ops), words, () => undefined);
    const plain = run(setup, image, words, false);
    const traced = run(setup, image, words, true);
    const lines = (o: Outcome): string[] => [`end ${o.end}`, `now ${o.now}`, `threads ${o.threads}`, `words ${o.words}`, `counters ${o.counters}`];
    return ["untraced:", ...lines(plain), "traced:", ...lines(traced), traced.trace].join("\n");
  },
};
