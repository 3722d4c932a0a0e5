#!/usr/bin/env node
// `npm run bench:footprint -- [options]`: how many cache lines from memory one delivery of the
// RISC-V scale bench costs (packages/kvm/bench/riscv-scale-rig.ts: an MSI to each of 4096 vCPUs in
// turn, KVM_RUN until the guest has claimed it and blocks again), counted by valgrind's cache
// simulator rather than timed.
//
// Why: at 4096 vCPUs the bench's wall time is set by how much memory a delivery touches against
// the share of the last-level cache the process has, and on a shared machine that share moves by
// a factor of two from one minute to the next (the machine probe's chase through 16 MiB). A
// simulated cache of a fixed size gives the same count on every run: a change that makes a
// delivery touch fewer lines shows here as a smaller number, which a timing cannot show reliably
// when the change is a few per cent. The count at 4096 vCPUs times 64 bytes times 4096 is the
// cache the rig needs to run from cache; past the share it has, each of those lines is a miss.
//
// How: the rig is built and warmed up (--warmups rounds over every vCPU) in two processes under
// valgrind, of which one then makes --rounds more rounds; the difference of their counts, divided
// by the deliveries of those rounds, is what a delivery costs, without the set-up's. Both collect
// the heap after the warm-up (--expose-gc), so the measured rounds begin with every object old and
// no collection under way: without that, a collection the warm-up started, or a scavenge it left
// due, finished inside the one process's rounds and not the other's, and the barrier that records
// each store of a young object into an old one ran on objects the warm-up made (about 3 lines and
// 1,500 instructions a delivery that a change elsewhere in the code could add or take away). Node
// runs with --predictable (V8's compilers and collector on the main thread): runs of the same code
// agree to within about half a line. The simulated caches: I1 and D1 32 KiB 8-way, LL --ll MiB
// 16-way (default 8), 64-byte lines. I1 misses are counted too: a function TurboFan compiles with
// its callees inlined runs to tens of kilobytes of machine code (the run loop's #guest, about 25
// KiB), and the code a hot path runs through competes for the 32 KiB of I1. With an LL of a few
// MiB the per-hart and per-VM state of the rig (reused every 1024 and 64 deliveries) stays in it
// and what is counted is the vCPUs' own state; with --ll 2 that state is counted too.
//
// With --op TEST, the same counts for one operation of a test of kvm-unit-tests' micro-bench on
// the arm64 machine (apps/cli/bench/micro-bench-run.ts: -M virt -accel kvm -smp 2, the
// `micro-bench` image): both processes boot and run the test --warmups times, then --rounds
// more times, the one with a single iteration each time, the other with 1 + --times; the
// difference over rounds x times is one operation's instructions, with neither boot nor the
// test's prep in it. Where a wall-clock figure moves by several per cent from process to process
// (ipi, lpi), the instruction count moves by well under one per cent: up to about a hundred
// instructions an ipi round trip, when a collection falls in one process's runs and not the other's.
//
// With --handoff MODE, the same counts for one RAM store of vCPU 0 in the run loop's own
// benchmark (apps/cli/bench/vcpu-handoff-run.ts: -M virt -accel kvm -smp 2, vCPU 0 storing
// op.seq's of 100 stores), vCPU 1 not started (alone), spinning in KVM_RUN (beside-spin) or
// storing at the same pace (lockstep): both processes run MODE --warmups times with --times
// sequences, then --rounds more times, the one with none, the other with --times. The wall-clock
// differences vcpu-handoff.bench.ts records (askNs, handoffNs) move by tens of per cent from run to
// run; these counts do not, so their differences say what the other vCPU's continuation costs a
// store when the queue asks it (beside-spin - alone) and a turn to it and back (lockstep -
// beside-spin - alone): 303, 601 and 2,075 instructions a store, that is an ask of about 300 and a
// handoff of about 1,170, when first measured.
//
// Options:
//   --ll MIB           the simulated last-level cache, a power of two (default 8)
//   --among N          deliveries to the first N vCPUs in turn rather than to all 4096 (the rig's
//                      deliverAmong): with 64, every vCPU's state stays in the caches, and what is
//                      left is what a delivery costs in cache (D1 and I1 misses, instructions)
//   --op TEST          one operation of micro-bench's TEST (ipi, lpi, hyp_call, mmio_read_vgic...)
//                      instead of a delivery of the scale bench
//   --handoff MODE     one store of vCPU 0 in vcpu-handoff-run.ts's MODE (alone, beside-spin,
//                      lockstep) instead of a delivery of the scale bench
//   --loop             with --op, the test with its repeats and polls as loops of yields
//   --times N          with --op, iterations of a measured run (default 4096); with --handoff,
//                      sequences of 100 stores a run (default 5000)
//   --rounds N         measured rounds of deliveries to every vCPU, or runs of TEST or MODE (default 4)
//   --warmups N        rounds or runs before them (default 20 rounds, 6 runs with --op or --handoff)
//   --by-function N    also the N functions that take the most lines (callgrind; about twice as
//                      slow): JavaScript functions by the names V8's --perf-basic-prof map gives
//                      them, attributed the lines their own code (and the code TurboFan inlined
//                      into it) missed
//   --by-line N        also the N source lines that take the most lines (callgrind, node --perf-prof):
//                      machine code by the source position V8's jitdump gives its address, which
//                      is the innermost function TurboFan inlined there, so a line of a callee
//                      counts as its own wherever it was inlined; the first use of an object a
//                      delivery touches shows as the line that touched it. Code without positions
//                      (V8's builtins, libc) by function, as --by-function names it
//   --sort WHAT        with --by-function or --by-line, the functions or lines that take the most
//                      `lines` (the default), `d1` misses, `i1` misses or `instructions`
//   --against REV      the same for git revision REV first, and the difference
//   --node-option OPT  an option for node in both processes of each side, such as one of V8's
//                      (--max-inlined-bytecode-size-cumulative=3500); repeatable
//   --json             one JSON line instead of the table
//
// Needs valgrind (Debian: apt-get install valgrind). Each process takes about 45 s (cachegrind)
// or 100 s (callgrind), about 40 s with --op ipi, 30 to 80 s with --handoff; the two of a side
// run at once. The default warm-ups are those after which the counts stop moving (SCALE_WARMUPS,
// OP_WARMUPS, HANDOFF_SEQS): fewer count V8's late compiles and the interpreted runs before them
// as the model's.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { SourceMap } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildSync } from "esbuild";
import { exportRevision } from "./export-revision.mjs";
import { SOURCE_BUNDLE } from "./source-bundle.mjs";

/** The simulated caches' line size. */
export const LINE_BYTES = 64;
const D1 = "32768,8,64";

/** What --sort can order --by-function's functions by: the count in a function's figures, and how the table says it. */
const SORTS = Object.freeze({
  lines: { key: "lines", says: "missed the most" },
  d1: { key: "d1Misses", says: "missed D1 the most" },
  i1: { key: "i1Misses", says: "missed I1 the most" },
  instructions: { key: "instructions", says: "ran the most instructions" },
});

/** A bad command line (exit status 2). */
export class UsageError extends Error {}

/**
 * Rounds of the scale bench's deliveries before the measured ones. The first dozen or so still
 * change what a delivery does: TurboFan compiles functions that get hot only after tens of
 * thousands of deliveries (completeExit, the HGEI allocator's free, and setThreadAffinity, which
 * every 16th delivery calls), which run in the interpreter until then, and the migrations reach
 * hart and file pairs whose guest interrupt files are made at their first use. Measured after 6,
 * a delivery took 8,646 instructions and 30.6 lines from memory; after 12, 7,407 and 28.8; after
 * 16, 20 and 28, 7,319 to 7,356 and 27.1 to 27.6, the figures a long run settles at.
 */
const SCALE_WARMUPS = 20;
/**
 * Runs of a micro-bench test before the measured ones (--op): after three, ipi's round trip took
 * 40 % more instructions, V8 still compiling; after 6, 12 and 20, the same to within 5.
 */
const OP_WARMUPS = 6;
/** The modes of the run loop's handoff bench (vcpu-handoff-run.ts's HANDOFF_MODES, which the driver checks against). */
const HANDOFF_MODES = ["alone", "beside-spin", "lockstep"];
/**
 * Store sequences of a --handoff run: with 500 a run, what V8 still compiled in the measured runs
 * (each boots a machine of its own) counted for several times what the stores took (2,491
 * instructions a store alone, against 303 with 5000); lockstep gave 2,075 with 2000 and with 5000.
 */
const HANDOFF_SEQS = 5000;

/** Whether options `o` measure the scale bench's deliveries (neither --op nor --handoff). */
function measuresScale(o) {
  return o.op === undefined && o.handoff === undefined;
}

/** The options of a command line (see the header). */
export function parseArgs(argv) {
  const o = { llMiB: 8, among: 0, op: undefined, handoff: undefined, loop: false, times: undefined, rounds: 4, warmups: undefined, byFunction: 0, byLine: 0, sort: "lines", against: undefined, nodeOptions: [], json: false };
  const count = (name, v, min) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name} takes an integer of at least ${min}, not ${v ?? "nothing"}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--json") o.json = true;
    else if (a === "--ll") {
      o.llMiB = count(a, argv[++i], 1);
      if ((o.llMiB & (o.llMiB - 1)) !== 0) throw new UsageError(`--ll takes a power of two (valgrind's cache sets must be), not ${o.llMiB}`);
    } else if (a === "--among") o.among = count(a, argv[++i], 1);
    else if (a === "--op") {
      o.op = argv[++i];
      if (o.op === undefined || !/^[a-z0-9_]+$/.test(o.op)) throw new UsageError(`--op takes the name of a micro-bench test, not ${o.op ?? "nothing"}`);
    } else if (a === "--handoff") {
      o.handoff = argv[++i];
      if (!HANDOFF_MODES.includes(o.handoff)) throw new UsageError(`--handoff takes ${HANDOFF_MODES.join(", ")}, not ${o.handoff ?? "nothing"}`);
    } else if (a === "--loop") o.loop = true;
    else if (a === "--times") o.times = count(a, argv[++i], 1);
    else if (a === "--rounds") o.rounds = count(a, argv[++i], 1);
    else if (a === "--warmups") o.warmups = count(a, argv[++i], 0);
    else if (a === "--by-function") o.byFunction = count(a, argv[++i], 1);
    else if (a === "--by-line") o.byLine = count(a, argv[++i], 1);
    else if (a === "--sort") {
      const by = argv[++i];
      // Own keys only: `toString` is no way to sort.
      if (by === undefined || !Object.hasOwn(SORTS, by)) throw new UsageError(`--sort takes ${Object.keys(SORTS).join(", ")}, not ${by ?? "nothing"}`);
      o.sort = by;
    } else if (a === "--node-option") {
      const opt = argv[++i];
      if (opt === undefined || !opt.startsWith("-")) throw new UsageError(`--node-option takes an option for node, not ${opt ?? "nothing"}`);
      o.nodeOptions.push(opt);
    } else if (a === "--against") {
      o.against = argv[++i];
      if (o.against === undefined || o.against.startsWith("--")) throw new UsageError("--against takes a git revision");
    } else throw new UsageError(`unknown option ${a}`);
  }
  if (o.op !== undefined && o.handoff !== undefined) throw new UsageError("--op and --handoff measure different things: give one");
  if (o.op === undefined && o.loop) throw new UsageError("--loop goes with --op");
  if (measuresScale(o) && o.times !== undefined) throw new UsageError("--times goes with --op or --handoff");
  if (!measuresScale(o) && o.among > 0) throw new UsageError(`--among goes with the scale bench, not with ${o.op !== undefined ? "--op" : "--handoff"}`);
  o.times ??= o.handoff !== undefined ? HANDOFF_SEQS : 4096;
  o.warmups ??= measuresScale(o) ? SCALE_WARMUPS : OP_WARMUPS;
  return o;
}

/** The event totals of a cachegrind or callgrind output file (its `events:` and `summary:` lines). */
export function parseTotals(text) {
  const events = /^events: (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/);
  const summary = /^(?:summary|totals): (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number);
  if (events === undefined || summary === undefined) throw new Error("no events: and summary: lines in valgrind's output");
  const totals = new Map();
  events.forEach((e, i) => totals.set(e, summary[i] ?? 0));
  return totals;
}

/**
 * Instructions, instruction-fetch misses (I1), data misses (D1) and lines from memory (LL, data
 * reads and writes) of a set of costs, whose event `e` `get(e)` returns (undefined for one not
 * recorded).
 */
export function missCounts(get) {
  const n = (e) => get(e) ?? 0;
  return { ir: n("Ir"), i1: n("I1mr"), d1: n("D1mr") + n("D1mw"), ll: n("DLmr") + n("DLmw") };
}

/**
 * The self costs of a callgrind output file written with --dump-instr=yes, by instruction
 * address: `{ pid, events, byAddress: Map<address, { fn, costs }> }`. The cost line after a
 * `calls=` line is the call's inclusive cost and is skipped (its position still counts for the
 * relative positions that follow); names given once as `(id) name` are looked up by id after.
 */
export function parseCallgrind(text) {
  const pid = Number(/^pid: (\d+)$/m.exec(text)?.[1] ?? NaN);
  const events = /^events: (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  // A cost line's positions come first ("instr", or "instr line" with --dump-line, the default), then its costs.
  const positions = (/^positions: (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? ["line"]).length;
  const names = new Map();
  const named = (space, spec) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (m === null) return spec;
    const key = `${space}${m[1]}`;
    if (m[2] !== undefined) names.set(key, m[2]);
    return names.get(key) ?? spec;
  };
  const byAddress = new Map();
  let fn = "";
  let address = 0;
  let skipNext = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("fn=")) fn = named("fn", line.slice(3));
    else if (line.startsWith("cfn=")) named("fn", line.slice(4));
    else if (line.startsWith("calls=")) skipNext = true;
    else if (/^(0x[0-9a-fA-F]+|[+-]\d+|\*)\s/.test(line)) {
      const parts = line.split(/\s+/);
      const p = parts[0];
      if (p.startsWith("0x")) address = parseInt(p, 16);
      else if (p.startsWith("+")) address += Number(p.slice(1));
      else if (p.startsWith("-")) address -= Number(p.slice(1));
      if (skipNext) {
        skipNext = false;
        continue;
      }
      const costs = parts.slice(positions).map(Number);
      const e = byAddress.get(address);
      if (e === undefined) byAddress.set(address, { fn, costs });
      else for (let i = 0; i < costs.length; i++) e.costs[i] = (e.costs[i] ?? 0) + costs[i];
    }
  }
  return { pid, events, byAddress };
}

/** The entries of a perf map (`start size name` in hex, one per line), sorted by start. */
export function readPerfMap(text) {
  const entries = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-fA-F]+) ([0-9a-fA-F]+) (.+)$/.exec(line);
    if (m !== null) entries.push({ start: parseInt(m[1], 16), end: parseInt(m[1], 16) + parseInt(m[2], 16), name: m[3], order: entries.length });
  }
  return entries.sort((a, b) => a.start - b.start || a.order - b.order);
}

/** The name of the code at `address` in a sorted perf map (of entries that cover it, the one written last), or undefined. */
export function lookupPerfMap(entries, address) {
  return lookupCode(entries, address)?.name;
}

/**
 * A symbol as valgrind names it, with glibc's memcpy and mempcpy entry points of one copy loop
 * (sysdeps/x86_64/multiarch/memmove-vec-unaligned-erms.S) under memcpy's name: valgrind names
 * the loop's addresses by either, and not by the same one in two processes, so one process's
 * memcpy would show as a difference against the other's mempcpy. Without the recursion level
 * callgrind appends (`f'2`, --separate-recs): one function's code is counted once.
 */
export function symbolName(fn) {
  return withoutRecursion(fn).replace(/^__mempcpy_/, "__memcpy_");
}

/** A callgrind function name without the recursion level callgrind appends to a recursive call's (`'2`). */
function withoutRecursion(fn) {
  return fn.replace(/'\d+$/, "");
}

/** A jitdump file's magic number ("JiTD" as a little-endian u32) and its record types used here. */
const JITDUMP_MAGIC = 0x4a695444;
const JIT_CODE_LOAD = 0;
const JIT_CODE_DEBUG_INFO = 2;
/**
 * How far past its code's address V8 writes a source position's address (perf-jit.h's
 * kElfHeaderSize on a 64-bit target): perf places each code object after an ELF header.
 */
const JITDUMP_POSITION_BIAS = 0x40;

/**
 * The code a jitdump file describes (V8's --perf-prof writes jit-PID.dump; the format is Linux's
 * tools/perf/Documentation/jitdump-specification.txt), sorted by start as readPerfMap's entries:
 * `{ start, end, name, order, positions }`. `positions` are the code's JIT_CODE_DEBUG_INFO
 * entries, sorted by address, each `{ address, line, column, file }` at the code's own address
 * (1-based line and column; V8 writes the column as the entry's discriminator), or undefined for
 * code V8 gave none (builtins, stubs).
 * @throws Error for a buffer that is not a jitdump file
 */
export function readJitdump(buf) {
  if (buf.length < 40 || buf.readUInt32LE(0) !== JITDUMP_MAGIC) throw new Error("not a jitdump file (no JiTD magic)");
  const cString = (at) => {
    const end = buf.indexOf(0, at);
    return { text: buf.toString("utf8", at, end), next: end + 1 };
  };
  const code = [];
  // A DEBUG_INFO record comes before the LOAD of its code, and names the code by its address.
  const positionsOf = new Map();
  for (let at = buf.readUInt32LE(8); at + 16 <= buf.length; ) {
    const id = buf.readUInt32LE(at);
    const size = buf.readUInt32LE(at + 4);
    if (size < 16 || at + size > buf.length) break; // a record cut short: the process died writing it
    const body = at + 16;
    if (id === JIT_CODE_LOAD) {
      const start = Number(buf.readBigUInt64LE(body + 16));
      const length = Number(buf.readBigUInt64LE(body + 24));
      code.push({ start, end: start + length, name: cString(body + 40).text, order: code.length, positions: positionsOf.get(start) });
      positionsOf.delete(start);
    } else if (id === JIT_CODE_DEBUG_INFO) {
      const n = Number(buf.readBigUInt64LE(body + 8));
      const positions = [];
      for (let i = 0, e = body + 16; i < n; i++) {
        const name = cString(e + 16);
        positions.push({ address: Number(buf.readBigUInt64LE(e)) - JITDUMP_POSITION_BIAS, line: buf.readUInt32LE(e + 8), column: buf.readUInt32LE(e + 12), file: name.text });
        e = name.next;
      }
      positions.sort((a, b) => a.address - b.address);
      positionsOf.set(Number(buf.readBigUInt64LE(body)), positions);
    }
    at += size;
  }
  return code.sort((a, b) => a.start - b.start || a.order - b.order);
}

/** The index of the last of `sorted` whose `key(entry)` is at most `at`, or -1. */
function lastAtOrBefore(sorted, key, at) {
  let lo = 0;
  let hi = sorted.length - 1;
  let last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (key(sorted[mid]) <= at) {
      last = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return last;
}

/** The code entry of readJitdump's (or readPerfMap's) sorted `entries` that covers `address`: of several, the one written last. */
export function lookupCode(entries, address) {
  const last = lastAtOrBefore(entries, (e) => e.start, address);
  let best;
  // Code objects are small: an entry that covers the address starts within the few before it.
  for (let i = last; i >= 0 && i > last - 64; i--) {
    const e = entries[i];
    if (address < e.end && (best === undefined || e.order > best.order)) best = e;
  }
  return best;
}

/** The source position of jitdump code `code` that `address` lies in (the last at or before it), or undefined. */
export function positionAt(code, address) {
  const ps = code.positions;
  const i = ps === undefined ? -1 : lastAtOrBefore(ps, (p) => p.address, address);
  return i < 0 ? undefined : ps[i];
}

/**
 * A perf-map name without V8's tier marks, its place (`file:line:column`, 1-based) given by
 * `place` when that knows it, else as `file:line`: `JS:*f file:///b.mjs:3:7` → `f file:///b.mjs:3`.
 */
export function functionName(perfName, place = () => undefined) {
  const name = perfName.replace(/^(?:JS|Builtin|Function|LazyCompile|Script|Eval|BytecodeHandler|RegExp|Handler|Stub):[~*^+]*/, "");
  const m = /^(.*) (\S+):(\d+):(\d+)$/.exec(name);
  if (m === null) return name;
  return `${m[1]} ${place(m[2], Number(m[3]), Number(m[4])) ?? `${m[2]}:${m[3]}`}`;
}

/** Whether valgrind has no symbol for the code of a callgrind function name (JIT code), at any recursion level. */
function isSymbolless(fn) {
  const f = withoutRecursion(fn);
  return f === "???" || /^0x[0-9a-f]+$/i.test(f);
}

/** The costs of a parsed callgrind file summed by the name `nameOf(address, fn)` gives each address. */
function sumCosts(parsed, nameOf) {
  const out = new Map();
  for (const [address, { fn, costs }] of parsed.byAddress) {
    const name = nameOf(address, fn);
    const sum = out.get(name);
    if (sum === undefined) out.set(name, costs.slice());
    else for (let i = 0; i < costs.length; i++) sum[i] = (sum[i] ?? 0) + costs[i];
  }
  return out;
}

/**
 * Per function, the summed costs of a parsed callgrind file, names from the perf map for code
 * valgrind has no symbol for (their places through `place`, see functionName).
 */
export function costsByFunction(parsed, perfEntries, place) {
  return sumCosts(parsed, (address, fn) => {
    if (!isSymbolless(fn)) return symbolName(fn);
    const perf = lookupPerfMap(perfEntries, address);
    return perf !== undefined ? functionName(perf, place) : "(JIT code not in the perf map)";
  });
}

/**
 * Per source line, the summed costs of a parsed callgrind file: JIT code by the source position
 * jitdump code `code` (readJitdump's) gives its address, as `place` places it (else the bundle's
 * `file:line`); JIT code without positions, and the code before a function's first position, by
 * its function's name; other code by valgrind's symbol.
 */
export function costsBySourceLine(parsed, code, place = () => undefined) {
  return sumCosts(parsed, (address, fn) => {
    if (!isSymbolless(fn)) return symbolName(fn);
    const c = lookupCode(code, address);
    if (c === undefined) return "(JIT code not in the jitdump)";
    const p = positionAt(c, address);
    return p !== undefined ? (place(p.file, p.line, p.column) ?? `${p.file}:${p.line}`) : functionName(c.name, place);
  });
}

const DRIVER = `
import { buildScaleRig, scaleDeliveries, VCPUS } from "./packages/kvm/bench/riscv-scale-rig.ts";
const [rounds, warmups, among] = process.argv.slice(2).map(Number);
const rig = buildScaleRig();
const d = scaleDeliveries(rig);
const deliver = among > 0 ? d.deliverAmong(among) : d.deliver;
for (let i = 0; i < warmups * VCPUS; i++) deliver();
// The measured rounds start from a collected heap: where the warm-up left the collector (part way
// through marking, a scavenge due, objects made young stored into old ones through the write
// barrier's slow path) would otherwise land in one process's rounds and not the other's.
gc();
const claimed = rig.count.n;
for (let i = 0; i < rounds * VCPUS; i++) deliver();
process.stdout.write(JSON.stringify({ vcpus: among > 0 ? among : VCPUS, delivered: rounds * VCPUS, claimed: rig.count.n - claimed }) + "\\n");
`;

/**
 * The driver of --op: `node driver ITERATIONS WARMUPS TEST LOOP TIMES ROUNDS` runs TEST WARMUPS
 * times with TIMES iterations, then ROUNDS times with ITERATIONS, checking each time that the
 * guest printed the test's row of the table (not "skipped", not a failed assert).
 */
const OP_DRIVER = `
import { MICRO_BENCH_TESTS } from "./packages/guest/src/index.ts";
import { runMicroBench } from "./apps/cli/bench/micro-bench-run.ts";
const [iterations, warmups, test, loop, times, rounds] = process.argv.slice(2);
if (!MICRO_BENCH_TESTS.some((t) => t.name === test)) {
  process.stderr.write(\`cache-footprint: micro-bench has no test \${test} (it has \${MICRO_BENCH_TESTS.map((t) => t.name).join(", ")})\\n\`);
  process.exit(2);
}
const row = new RegExp(\`^\${test} +\\\\d\`, "m");
const run = (n) => {
  const { out } = runMicroBench([test], n, false, loop === "loop");
  if (!row.test(out)) {
    process.stderr.write(\`cache-footprint: micro-bench's \${test} did not print its row:\\n\${out}\`);
    process.exit(1);
  }
};
for (let i = 0; i < Number(warmups); i++) run(Number(times));
// No collection here, unlike the scale bench's driver: collecting after the warm-up discarded the code
// the test's runs had compiled, and the measuring process ran its longer runs in the interpreter
// until V8 compiled it again (ten times the instructions an operation takes). Every run builds a
// machine of its own, so the two processes' heaps stay alike.
for (let i = 0; i < Number(rounds); i++) run(Number(iterations));
process.stdout.write(JSON.stringify({ operations: Number(rounds) * (Number(iterations) - 1) }) + "\\n");
`;

/**
 * The driver of --handoff: `node driver SEQS WARMUPS MODE TIMES ROUNDS` runs MODE WARMUPS times
 * with TIMES sequences, then ROUNDS times with SEQS (runHandoff checks that the guest printed its
 * lines around the stores and powered off).
 */
const HANDOFF_DRIVER = `
import { HANDOFF_MODES, STORES_PER_SEQ, runHandoff } from "./apps/cli/bench/vcpu-handoff-run.ts";
const [seqs, warmups, mode, times, rounds] = process.argv.slice(2);
if (!HANDOFF_MODES.includes(mode)) {
  process.stderr.write(\`cache-footprint: vcpu-handoff-run.ts has no mode \${mode} (it has \${HANDOFF_MODES.join(", ")})\\n\`);
  process.exit(2);
}
for (let i = 0; i < Number(warmups); i++) runHandoff(mode, Number(times));
for (let i = 0; i < Number(rounds); i++) runHandoff(mode, Number(seqs));
process.stdout.write(JSON.stringify({ operations: Number(rounds) * Number(seqs) * STORES_PER_SEQ }) + "\\n");
`;

/** Bundles the driver of `o` (the scale bench's, --op's or --handoff's) from the sources under `tree` into `outfile`, with a source map beside it. */
function bundleDriver(tree, outfile, o) {
  const contents = o.op !== undefined ? OP_DRIVER : o.handoff !== undefined ? HANDOFF_DRIVER : DRIVER;
  buildSync({ ...SOURCE_BUNDLE, absWorkingDir: tree, stdin: { contents, resolveDir: tree, sourcefile: "cache-footprint-driver.ts", loader: "ts" }, outfile, sourcemap: "external" });
}

/** The driver's arguments after the node options: the base process's (`measured` false) or the measuring one's. */
function driverArgs(o, measured) {
  if (o.handoff !== undefined) return [String(measured ? o.times : 0), String(o.warmups), o.handoff, String(o.times), String(o.rounds)];
  if (o.op === undefined) return [String(measured ? o.rounds : 0), String(o.warmups), String(o.among)];
  return [String(measured ? 1 + o.times : 1), String(o.warmups), o.op, o.loop ? "loop" : "fast", String(o.times), String(o.rounds)];
}

/** The place of bundle `driver`'s line and column in the sources under `tree` (see functionName). */
function sourcePlace(driver, tree) {
  const url = pathToFileURL(driver).href;
  const map = new SourceMap(JSON.parse(readFileSync(`${driver}.map`, "utf8")));
  return (file, line, column) => {
    if (file !== url) return undefined;
    const e = map.findEntry(line - 1, column - 1);
    if (e?.originalSource === undefined) return undefined;
    return `${relative(tree, resolve(dirname(driver), e.originalSource))}:${e.originalLine + 1}`;
  };
}

/**
 * Runs --op's or --handoff's driver once without valgrind, a run of two iterations or one
 * sequence: a test the image does not have, or one that fails, is reported in a second rather
 * than after valgrind's minute.
 * @throws UsageError with the driver's message when it fails
 */
function checkOp(driver, o, tag) {
  const args = o.handoff !== undefined ? ["1", "0", o.handoff, "1", "1"] : ["2", "0", o.op, o.loop ? "loop" : "fast", "1", "1"];
  const r = spawnSync(process.execPath, [...o.nodeOptions, driver, ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new UsageError(`${tag === "base" ? `at ${o.against}: ` : ""}${(r.stderr || `the driver exited with ${r.status}`).trim().replace(/^cache-footprint: /, "")}`);
}

/** Runs the driver under valgrind, as the measuring process or not; resolves to { out (valgrind's file), stdout, pid }. */
function underValgrind(tool, driver, measured, o, dir, tag) {
  const out = join(dir, `${tool}.${tag}`);
  const args = [
    `--tool=${tool}`,
    "--cache-sim=yes",
    `--I1=${D1}`,
    `--D1=${D1}`,
    `--LL=${o.llMiB * 1024 * 1024},16,${LINE_BYTES}`,
    "--smc-check=all-non-file",
    `--${tool}-out-file=${out}`,
    ...(tool === "callgrind" ? ["--dump-instr=yes"] : []),
    process.execPath,
    "--predictable",
    "--expose-gc",
    // The perf map names JIT code; jitdump (--by-line) also gives each of its addresses a source position.
    ...(tool === "callgrind" ? [o.byLine > 0 ? "--perf-prof" : "--perf-basic-prof"] : []),
    ...o.nodeOptions,
    driver,
    ...driverArgs(o, measured),
  ];
  return new Promise((resolve, reject) => {
    // In the scratch directory: V8 writes its isolate log, and with --perf-prof jit-PID.dump, into the working directory.
    const child = spawn("valgrind", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b) => (stdout += b));
    child.stderr.on("data", (b) => (stderr += b));
    child.on("error", reject);
    child.on("close", (code) => {
      // The program's own last words, without valgrind's summary lines (==pid==).
      const said = stderr.split("\n").filter((l) => !/^==\d+==/.test(l));
      if (code !== 0) reject(new Error(`valgrind ${tool} exited with ${code}:\n${said.slice(-15).join("\n")}`));
      else resolve({ out, stdout, pid: child.pid });
    });
  });
}

/** One side's figures: per delivery (or operation, with --op; store, with --handoff), and per function with --by-function. */
async function measure(tree, o, dir, tag) {
  const driver = join(dir, `driver.${tag}.mjs`);
  bundleDriver(tree, driver, o);
  const scale = measuresScale(o);
  if (!scale) checkOp(driver, o, tag);
  const tool = o.byFunction > 0 || o.byLine > 0 ? "callgrind" : "cachegrind";
  const [base, more] = await Promise.all([underValgrind(tool, driver, false, o, dir, `${tag}.base`), underValgrind(tool, driver, true, o, dir, `${tag}.measured`)]);
  const run = JSON.parse(more.stdout.trim().split("\n").at(-1));
  if (scale && run.claimed !== run.delivered) throw new Error(`${tag}: the guests claimed ${run.claimed} of ${run.delivered} interrupts`);
  const n = scale ? run.delivered : run.operations;
  // Each output read once: a callgrind file with --dump-instr runs to tens of megabytes.
  const texts = [base, more].map((r) => readFileSync(r.out, "utf8"));
  const [m0, m1] = texts.map((text) => {
    const t = parseTotals(text);
    return missCounts((e) => t.get(e));
  });
  const figures = { ...(scale ? { vcpus: run.vcpus, deliveries: n } : { operations: n }), instructions: (m1.ir - m0.ir) / n, i1Misses: (m1.i1 - m0.i1) / n, d1Misses: (m1.d1 - m0.d1) / n, lines: (m1.ll - m0.ll) / n };
  if (tool === "cachegrind") return { figures };
  const place = sourcePlace(driver, tree);
  const [g0, g1] = [base, more].map((r, side) => {
    const parsed = parseCallgrind(texts[side]);
    let code = [];
    const file = o.byLine > 0 ? join(dir, `jit-${r.pid}.dump`) : `/tmp/perf-${r.pid}.map`;
    try {
      // A jitdump's code entries name the code as a perf map's do.
      code = o.byLine > 0 ? readJitdump(readFileSync(file)) : readPerfMap(readFileSync(file, "utf8"));
    } catch {
      // None: the JIT code stays unnamed.
    }
    rmSync(file, { force: true });
    return {
      byFunction: o.byFunction > 0 ? costsByFunction(parsed, code, place) : new Map(),
      byLine: o.byLine > 0 ? costsBySourceLine(parsed, code, place) : new Map(),
      events: parsed.events,
    };
  });
  const key = SORTS[o.sort].key;
  const differences = (groups, limit) => {
    const [m0, m1] = [g0, g1].map((g) => new Map([...groups(g)].map(([k, c]) => [k, missCounts((e) => c[g.events.indexOf(e)])])));
    const rows = [];
    for (const [name, c1] of m1) {
      const c0 = m0.get(name) ?? { ir: 0, i1: 0, d1: 0, ll: 0 };
      rows.push({ name, lines: (c1.ll - c0.ll) / n, d1Misses: (c1.d1 - c0.d1) / n, i1Misses: (c1.i1 - c0.i1) / n, instructions: (c1.ir - c0.ir) / n });
    }
    rows.sort((a, b) => b[key] - a[key]);
    return rows.slice(0, limit);
  };
  return {
    figures,
    ...(o.byFunction > 0 ? { functions: differences((g) => g.byFunction, o.byFunction) } : {}),
    ...(o.byLine > 0 ? { sourceLines: differences((g) => g.byLine, o.byLine) } : {}),
  };
}

/** What vCPU 1 does in each --handoff mode, for the table's title. */
const HANDOFF_SAYS = { alone: "not started", "beside-spin": "spinning in KVM_RUN", lockstep: "storing at the same pace (a handoff a store)" };

function table(o, sides) {
  const w = (x, d = 1) => x.toFixed(d).padStart(10);
  const work = sides[sides.length - 1].result.figures;
  const per = o.handoff !== undefined ? "store" : o.op === undefined ? "delivery" : "operation";
  const lines = [
    o.handoff !== undefined
      ? `vcpu-handoff ${o.handoff}: vCPU 0's RAM stores (op.seq's of 100) on -M virt -accel kvm -smp 2, vCPU 1 ${HANDOFF_SAYS[o.handoff]}; ${o.warmups} runs of ${o.times} sequences of warm-up, then ${work.operations} stores measured in ${o.rounds} runs`
      : o.op === undefined
        ? `RISC-V scale bench: an MSI to each of ${work.vcpus} of its 4096 vCPUs in turn; ${o.warmups} x 4096 deliveries of warm-up, then ${work.deliveries} measured`
        : `micro-bench ${o.op}${o.loop ? " (its repeats and polls as loops of yields)" : ""} on -M virt -accel kvm -smp 2: ${o.warmups} runs of ${o.times} of warm-up, then ${work.operations} operations measured in ${o.rounds} runs`,
    `valgrind's caches: I1 and D1 32 KiB 8-way, LL ${o.llMiB} MiB 16-way, ${LINE_BYTES}-byte lines; node --predictable${o.nodeOptions.map((x) => ` ${x}`).join("")}`,
    "",
    `${`per ${per}`.padEnd(40)}${sides.map((s) => s.label.padStart(12)).join("")}`,
  ];
  const row = (name, f, d) => lines.push(`${name.padEnd(40)}${sides.map((s) => `  ${w(f(s.result.figures), d)}`).join("")}`);
  row("lines from memory (LL misses)", (f) => f.lines, 2);
  row("D1 misses", (f) => f.d1Misses);
  row("I1 misses (instruction fetch)", (f) => f.i1Misses);
  row("instructions", (f) => f.instructions, 0);
  if (measuresScale(o)) row(`MiB for every vCPU's lines (x ${work.vcpus})`, (f) => (f.lines * LINE_BYTES * f.vcpus) / 2 ** 20, 2);
  for (const [list, what] of [
    ["functions", "functions"],
    ["sourceLines", "source lines"],
  ]) {
    for (const s of sides) {
      if (s.result[list] === undefined) continue;
      lines.push("", `${s.label}: the ${what} whose code ${SORTS[o.sort].says}, per ${per} (lines, D1 misses, I1 misses, instructions)`);
      for (const f of s.result[list]) lines.push(`${w(f.lines, 2)}${w(f.d1Misses)}${w(f.i1Misses)}${w(f.instructions, 0)}  ${f.name}`);
    }
  }
  return lines.join("\n");
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`cache-footprint: ${e.message}\nusage: npm run bench:footprint -- [--ll MIB] [--among N | --op TEST [--loop] [--times N] | --handoff MODE [--times N]] [--rounds N] [--warmups N] [--by-function N] [--by-line N] [--sort ${Object.keys(SORTS).join("|")}] [--against REV] [--node-option OPT] [--json]\n`);
    process.exit(2);
  }
  if (spawnSync("valgrind", ["--version"]).error !== undefined) {
    process.stderr.write("cache-footprint: valgrind is not installed (Debian: apt-get install valgrind)\n");
    process.exit(1);
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const dir = mkdtempSync(join(tmpdir(), "irqlab-footprint-"));
  try {
    const sides = [];
    if (o.against !== undefined) {
      const { dir: tree, sha } = exportRevision(root, o.against, dir);
      sides.push({ label: sha.slice(0, 10), result: await measure(tree, o, dir, "base") });
    }
    sides.push({ label: "work tree", result: await measure(root, o, dir, "work") });
    if (o.json) process.stdout.write(`${JSON.stringify({ options: o, sides })}\n`);
    else process.stdout.write(`${table(o, sides)}\n`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`cache-footprint: ${e.message}\n`);
    process.exitCode = 2;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
