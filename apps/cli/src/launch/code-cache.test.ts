import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { buildSync } from "esbuild";
import { afterEach, describe, expect, test } from "vitest";
import { CACHE_AFTER_CHANGE_MS, codeCacheDir, loadBundle, readWhole } from "./code-cache.js";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "irqlab-code-cache-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A CommonJS bundle that requires a builtin and exports `answer` (a few functions) and `big` (600 more). */
function writeBundle(dir: string, answer = 42): string {
  const file = join(dir, "bundle.cjs");
  writeFileSync(
    file,
    `"use strict";
const { basename } = require("path");
function deep(n) { return n <= 1 ? 1 : n * deep(n - 1); }
${Array.from({ length: 600 }, (_, i) => `function f${i}(x) { let s = x; for (let j = 0; j < 3; j++) { s = (s * 31 + ${i}) % 1000003; if (s === ${i}) s += j; } return s > -1 ? 2 * ${i + 1} : s; }`).join("\n")}
function big() { let t = 0; ${Array.from({ length: 600 }, (_, i) => `t += f${i}(${i});`).join(" ")} return t; }
module.exports = { answer: () => ${answer} + deep(1), big, name: basename(__filename), dir: __dirname, self: this === module.exports };
`,
  );
  return file;
}

/** A start time at which a bundle written just now has not changed for long enough to be cached. */
function later(): number {
  return Date.now() + CACHE_AFTER_CHANGE_MS + 1000;
}

function cacheFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(".v8cache"));
}

describe("loadBundle", () => {
  test("runs the bundle as require would: its exports, require, __filename, __dirname, this", () => {
    const dir = tempDir();
    const b = loadBundle(writeBundle(dir), undefined);
    const e = b.exports as { answer: () => number; name: string; dir: string; self: boolean };
    expect(e.answer()).toBe(43);
    expect(e.name).toBe("bundle.cjs");
    expect(e.dir).toBe(dir);
    expect(e.self).toBe(true);
    expect(b.cache).toBe("off");
  });

  test("a bundle that is not ASCII is read as UTF-8", () => {
    const dir = tempDir();
    const file = join(dir, "bundle.cjs");
    writeFileSync(file, 'module.exports = { unit: "µs", arrow: "→" };\n');
    expect(loadBundle(file, undefined).exports).toEqual({ unit: "µs", arrow: "→" });
  });

  test("writes the cache when there is none, in a directory and a file of the user's alone", () => {
    const dir = tempDir();
    const cache = join(dir, "cache");
    const file = writeBundle(dir);
    const first = loadBundle(file, cache, later());
    expect(first.cache).toBe("absent");
    expect((first.exports as { answer: () => number }).answer()).toBe(43);
    first.saveCache("run");
    const [name] = cacheFiles(cache);
    // The bundle's length, inode, modification and change times (ns), then the Node that wrote it.
    const st = statSync(file, { bigint: true });
    const id = [st.size, st.ino, st.mtimeNs, st.ctimeNs].map((n) => n.toString(16)).join("-");
    expect(name).toBe(`bundle.cjs-${id}-${process.version}-${process.arch}.v8cache`);
    // The directory and the file are the user's alone: bytecode read from there is run.
    expect(statSync(cache).mode & 0o777).toBe(0o700);
    expect(statSync(join(cache, name!)).mode & 0o777).toBe(0o600);
    // Its first line: the tag and the scope of the run that wrote it.
    expect(readFileSync(join(cache, name!), "latin1").split("\n", 1)[0]).toBe("irqlab-code-cache run");
    // Whether V8 takes the file is the next test's, across processes: in this one it finds the
    // script in its own compilation cache.
  });

  test("across processes: absent, then used; a file V8 rejects is written again; a run of a scope the cache did not hold writes it again", () => {
    const dir = tempDir();
    const cache = join(dir, "cache");
    const file = writeBundle(dir);
    // A process that loads the bundle as a bin does: it reports what it found and saves at exit.
    const loader = join(dir, "code-cache.mjs");
    buildSync({ entryPoints: [join(import.meta.dirname, "code-cache.ts")], bundle: true, format: "esm", platform: "node", outfile: loader, logLevel: "error" });
    const driver = join(dir, "driver.mjs");
    writeFileSync(
      driver,
      `import { loadBundle } from ${JSON.stringify(loader)};
const b = loadBundle(${JSON.stringify(file)}, ${JSON.stringify(cache)}, ${later()});
process.once("exit", () => b.saveCache(process.argv[2]));
process.stdout.write(JSON.stringify({ cache: b.cache, answer: process.argv[2] === "big" ? b.exports.big() : b.exports.answer() }));
`,
    );
    // The scope is the function the run calls.
    const run = (what = "small"): { cache: string; answer: number } => {
      const r = spawnSync(process.execPath, [driver, what], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as { cache: string; answer: number };
    };
    const cached = (): Buffer => readFileSync(join(cache, cacheFiles(cache)[0]!));
    const scopes = (): string => cached().toString("latin1").split("\n", 1)[0]!;
    expect(run()).toEqual({ cache: "absent", answer: 43 });
    const written = cached();
    expect(run()).toEqual({ cache: "used", answer: 43 });
    expect(cached().equals(written), "a cache V8 took is not written again").toBe(true);
    // V8's checks fail (its data cut short), then the file has no header: each is written again.
    writeFileSync(join(cache, cacheFiles(cache)[0]!), Buffer.concat([Buffer.from("irqlab-code-cache small\n"), Buffer.from("not V8 bytecode")]));
    expect(run()).toEqual({ cache: "rejected", answer: 43 });
    expect(scopes()).toBe("irqlab-code-cache small");
    writeFileSync(join(cache, cacheFiles(cache)[0]!), written.subarray(written.indexOf(0x0a) + 1));
    expect(run()).toEqual({ cache: "rejected", answer: 43 });
    expect(run()).toEqual({ cache: "used", answer: 43 });
    // big() runs 600 functions the small runs never compiled: written again, with the small runs' scope and its own.
    const small = cached();
    expect(run("big")).toEqual({ cache: "used", answer: 600 * 601 });
    const big = cached();
    expect(big.length).toBeGreaterThan(small.length + 600 * 16);
    expect(scopes()).toBe("irqlab-code-cache small big");
    expect(run("big")).toEqual({ cache: "used", answer: 600 * 601 });
    expect(run()).toEqual({ cache: "used", answer: 43 });
    expect(cached().equals(big), "runs of the scopes it holds: not written again").toBe(true);
  }, 30_000);

  test("a changed bundle gets a cache of its own and the old one goes", () => {
    const dir = tempDir();
    const cache = join(dir, "cache");
    const file = writeBundle(dir, 1);
    loadBundle(file, cache, later()).saveCache("run");
    const [old] = cacheFiles(cache);
    // The same length, which is all V8 checks, and the same inode: the change time tells them apart,
    // once the file system's clock has ticked (within a tick, the rule of the next test keeps them apart).
    const before = statSync(file, { bigint: true }).ctimeNs;
    do writeBundle(dir, 2);
    while (statSync(file, { bigint: true }).ctimeNs === before);
    const b = loadBundle(file, cache, later());
    expect(b.cache).toBe("absent");
    expect((b.exports as { answer: () => number }).answer()).toBe(3);
    // Another Node's cache of the bundle stays: a user may run both.
    const otherNode = `bundle.cjs-0-v0.0.0-${process.arch}.v8cache`;
    writeFileSync(join(cache, otherNode), "");
    b.saveCache("run");
    const now = cacheFiles(cache);
    expect(now).toHaveLength(2);
    expect(now).toContain(otherNode);
    expect(now).not.toContain(old);
  });

  test("a bundle that changed just before the run is run, from its cache if there is one, but not cached", () => {
    const dir = tempDir();
    const cache = join(dir, "cache");
    const file = writeBundle(dir);
    // Rewritten within one tick of the file system's clock, a file keeps its times: a cache written
    // now could be taken for the bundle's next build.
    const fresh = loadBundle(file, cache);
    expect(fresh.cache).toBe("absent");
    expect((fresh.exports as { answer: () => number }).answer()).toBe(43);
    fresh.saveCache("run");
    expect(readdirSync(dir)).not.toContain("cache");
    // Once it has not changed for CACHE_AFTER_CHANGE_MS: written, and then used.
    loadBundle(file, cache, later()).saveCache("run");
    expect(cacheFiles(cache)).toHaveLength(1);
    const settled = cacheFiles(cache)[0]!;
    const again = loadBundle(file, cache, Date.now() + CACHE_AFTER_CHANGE_MS - 1000);
    expect(again.cache).toBe("used");
    again.saveCache("another");
    expect(readFileSync(join(cache, settled), "latin1").split("\n", 1)[0]).toBe("irqlab-code-cache run");
  });

  test("a cache directory that cannot be written is skipped without a word", () => {
    const dir = tempDir();
    const file = writeBundle(dir);
    const blocked = join(dir, "a-file");
    writeFileSync(blocked, "");
    // Under a file, as under a read-only home: the directory cannot be made.
    const b = loadBundle(file, join(blocked, "cache"), later());
    expect(b.cache).toBe("absent");
    expect((b.exports as { answer: () => number }).answer()).toBe(43);
    expect(() => b.saveCache("run")).not.toThrow();
    expect(readdirSync(dir).sort()).toEqual(["a-file", "bundle.cjs"]);
  });
});

describe("codeCacheDir", () => {
  test("IRQLAB_CODE_CACHE, else XDG_CACHE_HOME/irqlab (an absolute one), else ~/.cache/irqlab; off or 0 turns it off", () => {
    expect(codeCacheDir({ IRQLAB_CODE_CACHE: "/c" })).toBe("/c");
    expect(codeCacheDir({ IRQLAB_CODE_CACHE: "off" })).toBeUndefined();
    expect(codeCacheDir({ IRQLAB_CODE_CACHE: "0" })).toBeUndefined();
    expect(codeCacheDir({ XDG_CACHE_HOME: "/x" })).toBe(join("/x", "irqlab"));
    expect(codeCacheDir({ IRQLAB_CODE_CACHE: "", XDG_CACHE_HOME: "" })).toBe(join(homedir(), ".cache", "irqlab"));
    // The XDG Base Directory Specification: a relative path there is invalid and ignored.
    expect(codeCacheDir({ XDG_CACHE_HOME: "rel/cache" })).toBe(join(homedir(), ".cache", "irqlab"));
  });
});

describe("readWhole", () => {
  test("reads a file whole into a buffer with room for more, then another file into the same memory when it fits, else into new memory", () => {
    const dir = tempDir();
    const small = join(dir, "small");
    const fits = join(dir, "fits");
    const big = join(dir, "big");
    writeFileSync(small, "0123456789");
    writeFileSync(fits, "abcdefghijklmnopqrst");
    writeFileSync(big, "x".repeat(21));
    const first = readWhole(small, undefined, 2);
    expect(first.toString()).toBe("0123456789");
    expect(first.buffer.byteLength).toBeGreaterThanOrEqual(20);
    const room = Buffer.from(first.buffer, first.byteOffset);
    const second = readWhole(fits, room, 1);
    expect(second.toString()).toBe("abcdefghijklmnopqrst");
    expect(second.buffer).toBe(first.buffer);
    const third = readWhole(big, room, 1);
    expect(third.toString()).toBe("x".repeat(21));
    expect(third.buffer).not.toBe(first.buffer);
  });

  test("reads a file between the two parts of a wrapper, in a buffer with room for both", () => {
    const dir = tempDir();
    const file = join(dir, "body");
    writeFileSync(file, "body");
    const wrapped = readWhole(file, undefined, 2, [Buffer.from("<<"), Buffer.from(">>>")]);
    expect(wrapped.toString()).toBe("<<body>>>");
    expect(wrapped.buffer.byteLength).toBeGreaterThanOrEqual(18);
  });

  test("an empty file reads as no bytes; a missing one throws", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "empty"), "");
    expect(readWhole(join(dir, "empty"), undefined, 2).length).toBe(0);
    expect(() => readWhole(join(dir, "missing"), undefined, 2)).toThrow(/ENOENT/);
  });
});
