/**
 * scripts/cache-footprint.mjs (`npm run bench:footprint`): its readers of
 * valgrind's output files and of V8's perf map, on text in the formats
 * valgrind's manual gives (docs/callgrind-format: positions, name
 * compression, the inclusive cost line after `calls=`), of V8's jitdump in
 * the layout of Linux's tools/perf/Documentation/jitdump-specification.txt,
 * and its command line.
 * Valgrind itself is not run here: a run takes minutes.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { HANDOFF_MODES } from "../apps/cli/bench/vcpu-handoff-run.js";
import {
  costsByFunction,
  costsBySourceLine,
  functionName,
  lookupPerfMap,
  missCounts,
  parseArgs,
  parseCallgrind,
  parseTotals,
  positionAt,
  readJitdump,
  readPerfMap,
  UsageError,
} from "../scripts/cache-footprint.mjs";

const root = join(import.meta.dirname, "..");

/** A jitdump record: its header (id, total size, timestamp) and `body`. */
function jitRecord(id: number, body: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt32LE(id, 0);
  h.writeUInt32LE(16 + body.length, 4);
  return Buffer.concat([h, body]);
}

const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const cString = (t: string): Buffer => Buffer.from(`${t}\0`, "utf8");

/** JIT_CODE_LOAD (id 0): pid, tid, vma, code address, size, index, name, the code's bytes. */
function codeLoad(address: number, size: number, name: string): Buffer {
  return jitRecord(0, Buffer.concat([u32(7), u32(7), u64(address), u64(address), u64(size), u64(0), cString(name), Buffer.alloc(size)]));
}

/** JIT_CODE_DEBUG_INFO (id 2) as V8 writes it: each entry's address 0x40 past the code's (perf-jit.h kElfHeaderSize), the column as the discriminator. */
function debugInfo(address: number, entries: readonly (readonly [offset: number, line: number, column: number, file: string])[]): Buffer {
  return jitRecord(2, Buffer.concat([u64(address), u64(entries.length), ...entries.flatMap(([off, line, col, file]) => [u64(address + off + 0x40), u32(line), u32(col), cString(file)])]));
}

/** A jitdump file: the 40-byte header ("JiTD", version 1, its size, EM_X86_64, padding, pid, time, flags), then `records`. */
function jitdump(...records: Buffer[]): Buffer {
  return Buffer.concat([u32(0x4a695444), u32(1), u32(40), u32(62), u32(0), u32(7), u64(0), u64(0), ...records]);
}

describe("scripts/cache-footprint.mjs", () => {
  test("a cachegrind file's totals, by event name, and its instructions and data misses", () => {
    const text = ["desc: LL cache: 8388608 B, 64 B, 16-way associative", "cmd: node x.mjs 4", "events: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw", "fl=a.c", "fn=f", "1 2 0 0 1 1 0", "summary: 100 5 1 40 7 3 20 2 1", ""].join("\n");
    const t = parseTotals(text);
    expect(t.get("Ir")).toBe(100);
    expect(t.get("DLmw")).toBe(1);
    expect(missCounts((e) => t.get(e))).toEqual({ ir: 100, i1: 5, d1: 9, ll: 4 });
    // Events a file did not record count 0.
    expect(missCounts((e) => (e === "Ir" ? 5 : undefined))).toEqual({ ir: 5, i1: 0, d1: 0, ll: 0 });
    expect(() => parseTotals("events: Ir\n")).toThrow(/summary/);
  });

  test("callgrind's self costs by address: relative positions, names given once, the call's inclusive cost skipped", () => {
    const text = [
      "positions: instr line",
      "events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw",
      "pid: 4242",
      "ob=(1) ???",
      "fn=(7) 0x0000000000001000",
      "0x1000 0 3 1 0 0 1 0 0 1 0",
      "+4 0 2 0 1 0 0 1 0 0 1",
      "cfn=(8) Builtins_Something",
      "calls=1 0x9000 0",
      "* 0 500 100 100 9 9 9 9 9 9",
      "+2 0 1 1",
      "fn=(8)",
      "0x9000 0 10 5 5 0 2 0 0 1 0",
      "fn=(7)",
      "0x1008 0 4",
      "-4 0 1 0 0 0 0 0 0 1 0",
      "",
    ].join("\n");
    const p = parseCallgrind(text);
    expect(p.pid).toBe(4242);
    expect(p.events[7]).toBe("DLmr");
    // 0x1004: its own line (+4 from 0x1000), plus a later one reached back from 0x1008; the call's 500 is not its.
    expect(p.byAddress.get(0x1004)).toEqual({ fn: "0x0000000000001000", costs: [3, 0, 1, 0, 0, 1, 0, 1, 1] });
    expect(p.byAddress.get(0x1008)?.costs).toEqual([4]);
    expect(p.byAddress.get(0x1006)?.costs).toEqual([1, 1]);
    expect(p.byAddress.get(0x9000)?.fn).toBe("Builtins_Something");
  });

  test("callgrind's costs follow as many positions as its header names", () => {
    const p = parseCallgrind(["positions: instr", "events: Ir DLmr", "fn=(1) f", "0x40 7 2", "+1 3 0", ""].join("\n"));
    expect(p.byAddress.get(0x40)?.costs).toEqual([7, 2]);
    expect(p.byAddress.get(0x41)?.costs).toEqual([3, 0]);
  });

  test("a perf map names the code at an address; where entries overlap, the one written last", () => {
    const map = readPerfMap(["1000 100 JS:*run file:///b.mjs:10:3", "2000 20 Builtin:RecordWrite", "1000 80 JS:~old file:///b.mjs:9:1", "junk line", ""].join("\n"));
    expect(map).toHaveLength(3);
    expect(lookupPerfMap(map, 0x1010)).toBe("JS:~old file:///b.mjs:9:1");
    expect(lookupPerfMap(map, 0x1090)).toBe("JS:*run file:///b.mjs:10:3");
    expect(lookupPerfMap(map, 0x201f)).toBe("Builtin:RecordWrite"); // sizes are hex too
    expect(lookupPerfMap(map, 0x2020)).toBeUndefined();
    expect(lookupPerfMap(map, 0x10)).toBeUndefined();
    expect(functionName("JS:*run file:///b.mjs:10:3")).toBe("run file:///b.mjs:10");
    expect(functionName("Builtin:RecordWrite")).toBe("RecordWrite");
    // A place the bundle's source map knows replaces the bundle's line.
    const place = (file: string, line: number, column: number) => (file === "file:///b.mjs" && line === 10 && column === 3 ? "packages/kvm/src/x.ts:77" : undefined);
    expect(functionName("JS:*run file:///b.mjs:10:3", place)).toBe("run packages/kvm/src/x.ts:77");
    expect(functionName("JS:~f file:///c.mjs:2:1", place)).toBe("f file:///c.mjs:2");
  });

  test("costs by function: JIT code by the perf map's name, symbols as valgrind gives them", () => {
    const parsed = {
      pid: 1,
      events: ["Ir"],
      byAddress: new Map([
        [0x1000, { fn: "0x0000000000001000", costs: [5] }],
        [0x1008, { fn: "0x0000000000001000", costs: [7] }],
        [0x5000, { fn: "???", costs: [1] }],
        [0x9000, { fn: "v8::internal::Heap::Scavenge()", costs: [2] }],
      ]),
    };
    const byFn = costsByFunction(parsed, readPerfMap("1000 10 JS:*deliver file:///r.mjs:4:1\n"));
    expect(byFn.get("deliver file:///r.mjs:4")).toEqual([12]);
    expect(byFn.get("(JIT code not in the perf map)")).toEqual([1]);
    expect(byFn.get("v8::internal::Heap::Scavenge()")).toEqual([2]);
  });

  test("a jitdump's code, each with the source positions V8 gave it, at the code's own addresses", () => {
    const buf = jitdump(
      codeLoad(0x2000, 0x10, "Builtin:RecordWrite"),
      // Positions come before their code's load, out of order here: sorted by address.
      debugInfo(0x1000, [
        [0x10, 12, 5, "file:///b.mjs"],
        [0x4, 10, 3, "file:///b.mjs"],
      ]),
      codeLoad(0x1000, 0x40, "JS:*run file:///b.mjs:9:1"),
    );
    const code = readJitdump(buf);
    expect(code.map((c) => [c.start, c.end, c.name])).toEqual([
      [0x1000, 0x1040, "JS:*run file:///b.mjs:9:1"],
      [0x2000, 0x2010, "Builtin:RecordWrite"],
    ]);
    expect(code[0]!.positions).toEqual([
      { address: 0x1004, line: 10, column: 3, file: "file:///b.mjs" },
      { address: 0x1010, line: 12, column: 5, file: "file:///b.mjs" },
    ]);
    expect(code[1]!.positions).toBeUndefined();
    expect(positionAt(code[0]!, 0x1003)).toBeUndefined();
    expect(positionAt(code[0]!, 0x100f)?.line).toBe(10);
    expect(positionAt(code[0]!, 0x103f)?.line).toBe(12);
    // A record the process did not finish writing ends the file.
    expect(readJitdump(Buffer.concat([buf, codeLoad(0x3000, 0x10, "JS:*late file:///b.mjs:1:1").subarray(0, 30)]))).toHaveLength(2);
    expect(() => readJitdump(Buffer.from("1000 10 JS:*f file:///b.mjs:1:1\n"))).toThrow(/not a jitdump/);
  });

  test("costs by source line: JIT code by its position, placed in the sources; the rest by function, memcpy's aliases and recursion levels as one", () => {
    const code = readJitdump(jitdump(debugInfo(0x1000, [[0x4, 10, 3, "file:///b.mjs"], [0x10, 12, 5, "file:///b.mjs"]]), codeLoad(0x1000, 0x40, "JS:*run file:///b.mjs:9:1"), codeLoad(0x2000, 0x10, "Builtin:RecordWrite")));
    const parsed = {
      pid: 1,
      events: ["Ir"],
      byAddress: new Map([
        [0x1000, { fn: "0x0000000000001000", costs: [1] }],
        [0x1004, { fn: "???", costs: [2] }],
        [0x100c, { fn: "???", costs: [4] }],
        // Callgrind names a recursive call's code with its level (--separate-recs): JIT code all the same.
        [0x1020, { fn: "0x0000000000001020'2", costs: [8] }],
        [0x2004, { fn: "???", costs: [16] }],
        [0x5000, { fn: "???", costs: [32] }],
        [0x9000, { fn: "__mempcpy_avx_unaligned_erms", costs: [64] }],
        [0x9010, { fn: "__memcpy_avx_unaligned_erms'2", costs: [128] }],
      ]),
    };
    const place = (file: string, line: number, column: number) => (file === "file:///b.mjs" && line === 10 && column === 3 ? "packages/kvm/src/x.ts:77" : undefined);
    const byLine = costsBySourceLine(parsed, code, place);
    expect(Object.fromEntries(byLine)).toEqual({
      "run file:///b.mjs:9": [1], // before the first position: the function
      "packages/kvm/src/x.ts:77": [6],
      "file:///b.mjs:12": [8], // a place the source map does not know: the bundle's line
      RecordWrite: [16],
      "(JIT code not in the jitdump)": [32],
      __memcpy_avx_unaligned_erms: [192],
    });
    // The jitdump's code names functions as a perf map does.
    expect(costsByFunction(parsed, code).get("run file:///b.mjs:9")).toEqual([15]);
    expect(costsByFunction(parsed, code).get("__memcpy_avx_unaligned_erms")).toEqual([192]);
  });

  test("its command line: defaults, options, and a usage error for a bad one", () => {
    expect(parseArgs([])).toEqual({ llMiB: 8, among: 0, op: undefined, handoff: undefined, loop: false, times: 4096, rounds: 4, warmups: 20, byFunction: 0, byLine: 0, sort: "lines", against: undefined, nodeOptions: [], json: false });
    // The warm-up a test of micro-bench needs is shorter than the scale bench's: runs, not rounds over 4096 vCPUs.
    expect(parseArgs(["--op", "ipi"])).toMatchObject({ op: "ipi", warmups: 6 });
    expect(parseArgs(["--op", "ipi", "--warmups", "2"])).toMatchObject({ warmups: 2 });
    expect(parseArgs(["--ll", "2", "--among", "64", "--rounds", "2", "--warmups", "0", "--by-function", "20", "--sort", "instructions", "--against", "HEAD~1", "--node-option", "--max-inlined-bytecode-size-cumulative=3500", "--json"])).toEqual({
      llMiB: 2,
      among: 64,
      op: undefined,
      handoff: undefined,
      loop: false,
      times: 4096,
      rounds: 2,
      warmups: 0,
      byFunction: 20,
      byLine: 0,
      sort: "instructions",
      against: "HEAD~1",
      nodeOptions: ["--max-inlined-bytecode-size-cumulative=3500"],
      json: true,
    });
    expect(parseArgs(["--by-line", "30", "--sort", "d1"])).toMatchObject({ byFunction: 0, byLine: 30, sort: "d1" });
    expect(() => parseArgs(["--by-line", "0"])).toThrow(/--by-line takes an integer of at least 1/);
    expect(() => parseArgs(["--ll", "6"])).toThrow(UsageError);
    expect(() => parseArgs(["--rounds", "0"])).toThrow(/at least 1/);
    expect(() => parseArgs(["--against"])).toThrow(/revision/);
    expect(() => parseArgs(["--fast"])).toThrow(/unknown option --fast/);
    expect(() => parseArgs(["--sort", "time"])).toThrow(/--sort takes lines, d1, i1, instructions, not time/);
    expect(() => parseArgs(["--sort", "toString"])).toThrow(/--sort takes lines, d1, i1, instructions, not toString/);
    expect(parseArgs(["--op", "ipi", "--loop", "--times", "512"])).toMatchObject({ op: "ipi", loop: true, times: 512, among: 0 });
    expect(() => parseArgs(["--op", "ipi", "--among", "64"])).toThrow(/--among goes with the scale bench/);
    expect(() => parseArgs(["--loop"])).toThrow(/--loop goes with --op/);
    expect(() => parseArgs(["--times", "8"])).toThrow(/--times goes with --op or --handoff/);
    // A store of the run loop's handoff bench: sequences of 100 stores a run, and a test's warm-up.
    expect(parseArgs(["--handoff", "beside-spin"])).toMatchObject({ handoff: "beside-spin", op: undefined, times: 5000, warmups: 6 });
    expect(parseArgs(["--handoff", "lockstep", "--times", "200", "--rounds", "2"])).toMatchObject({ handoff: "lockstep", times: 200, rounds: 2 });
    // The script's list of modes is the bench's.
    for (const mode of HANDOFF_MODES) expect(parseArgs(["--handoff", mode]).handoff).toBe(mode);
    expect(() => parseArgs(["--handoff", "spin"])).toThrow(/--handoff takes alone, beside-spin, lockstep, not spin/);
    expect(() => parseArgs(["--handoff"])).toThrow(/--handoff takes alone, beside-spin, lockstep, not nothing/);
    expect(() => parseArgs(["--handoff", "alone", "--op", "ipi"])).toThrow(/--op and --handoff measure different things/);
    expect(() => parseArgs(["--handoff", "alone", "--among", "64"])).toThrow(/--among goes with the scale bench, not with --handoff/);
    expect(() => parseArgs(["--handoff", "alone", "--loop"])).toThrow(/--loop goes with --op/);
    expect(() => parseArgs(["--node-option", "3500"])).toThrow(/--node-option takes an option for node, not 3500/);
    expect(() => parseArgs(["--op", "--loop"])).toThrow(/--op takes the name of a micro-bench test/);
    const r = spawnSync(process.execPath, [join(root, "scripts", "cache-footprint.mjs"), "--ll", "3"], { encoding: "utf8" });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^cache-footprint: --ll takes a power of two.*\nusage: npm run bench:footprint/);
  });
});
