/**
 * Loading the commands' CommonJS bundles (dist/irqlab-main.cjs,
 * dist/irqlab-system.cjs) with V8's code cache, as Node 22's module compile
 * cache does for modules (Node 20 has no such cache for ES modules): a
 * bundle's first run compiles it and, at exit, writes the bytecode of every
 * function it compiled beside the user's other caches; later runs hand that
 * to V8 instead of parsing and compiling again. (The its-trigger process
 * bench measures a run with the cache and one without.)
 *
 * A cache holds what the runs that wrote it compiled, and a run compiles
 * what its command needs: `irqlab-system-aarch64 -version` little of what a
 * run that builds a machine does. So each run names how far its command got
 * (its scope: "machine", "scenario-run"), and the cache file begins with the
 * scopes of the runs whose bytecode it holds; a run that got somewhere new
 * writes it again, with every function it compiled or took from the cache.
 *
 * The cache file's name holds the bundle's length, inode, modification and
 * change times, the Node version and the architecture, so a rebuilt or
 * upgraded bundle never meets bytecode of another; V8 checks the rest (its
 * version and flags) and rejects a cache that does not fit, which is then
 * written again. A bundle is told from its status, as make and git tell a
 * changed file, not from a hash of its bytes: node:zlib, for a CRC, took
 * longer to load than the rest of the cache's work (node:crypto longer
 * still). No write keeps a file's change time, which the file system stamps
 * from a clock that ticks every few milliseconds: so that a bundle rewritten
 * within one tick is never taken for the one before, a run whose bundle
 * changed less than {@link CACHE_AFTER_CHANGE_MS} before it started does
 * not write the cache. A cache that cannot be read or written is skipped
 * without a word: it only saves time.
 *
 * Where: `$IRQLAB_CODE_CACHE` if set (`off` or `0` turns the cache off),
 * else `$XDG_CACHE_HOME/irqlab`, else `~/.cache/irqlab`. A directory of the
 * user's own, never a shared temporary one: bytecode found there is run.
 */

import { isAscii } from "node:buffer";
import { closeSync, fstatSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, type BigIntStats } from "node:fs";
import Module, { createRequire } from "node:module";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join } from "node:path";
import { Script, constants } from "node:vm";

/** A CommonJS bundle run in this process, and how to keep its code cache. */
export interface LoadedBundle {
  /** The bundle's `module.exports`. */
  readonly exports: Record<string, unknown>;
  /**
   * How the code cache was found: "used" (V8 took it), "rejected" (V8 did
   * not: another V8 or other flags), "absent" (none yet) or "off".
   */
  readonly cache: "used" | "rejected" | "absent" | "off";
  /**
   * Writes the code cache, with the bytecode of the functions run so far
   * (call it at exit), when it was absent or rejected, or when no run whose
   * bytecode it holds reached `scope` (how far this run's command got: a
   * word, such as "machine"); does nothing otherwise, nor when the bundle
   * changed less than {@link CACHE_AFTER_CHANGE_MS} before the run.
   */
  saveCache(scope: string): void;
}

/**
 * What a cache file begins with: this tag, the scopes of the runs whose
 * bytecode it holds (separated by spaces) and a newline. V8's data follows.
 */
const HEADER_TAG = "irqlab-code-cache";
/** The longest header looked for: far more than the scopes of every command. */
const HEADER_MAX = 4096;

/**
 * The directory the code cache goes in, or undefined when it is off. An
 * XDG_CACHE_HOME that is not an absolute path is ignored, as the XDG Base
 * Directory Specification asks.
 */
export function codeCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.IRQLAB_CODE_CACHE;
  if (chosen !== undefined && chosen !== "") return chosen === "off" || chosen === "0" ? undefined : chosen;
  const xdg = env.XDG_CACHE_HOME;
  return join(xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), ".cache"), "irqlab");
}

/**
 * @internal How long after a bundle last changed a run may write its code
 * cache: far longer than a tick of any file system's clock (see the module's
 * doc).
 */
export const CACHE_AFTER_CHANGE_MS = 2000;

/**
 * Runs the CommonJS bundle at `file` in this process (as `require` would,
 * with `require` resolving from the bundle's directory and `import()` from
 * the main context), compiled with the code cache in `cacheDir` when there
 * is one there (undefined: no cache; see {@link codeCacheDir}). `now` is the
 * wall-clock time in ms the run started at (for tests).
 */
export function loadBundle(file: string, cacheDir: string | undefined, now: number = Date.now()): LoadedBundle {
  // Its status before its bytes: were it rewritten in between, the bytes read would be cached under the
  // old status, which no later read meets again (a write changes the change time).
  const status = cacheDir === undefined ? undefined : statSync(file, { bigint: true });
  // The bundle and then its cache are read into one buffer, which has room for both in turn: each page of
  // fresh memory a short process touches is a page fault, which in a virtual machine can cost ten microseconds.
  // Read already wrapped as the function Node's CommonJS loader makes of a module: V8 then compiles the
  // one string made from the buffer, where Module.wrap's concatenation would have it copied again.
  const wrapped = readWhole(file, undefined, cacheDir === undefined ? 1 : READ_ROOM, MODULE_WRAPPER);
  // esbuild writes bundles in ASCII: as Latin-1 they are copied into a string, not decoded.
  const source = isAscii(wrapped) ? wrapped.toString("latin1") : wrapped.toString("utf8");
  const cacheFile = status === undefined ? undefined : join(cacheDir!, cacheFileName(file, status));
  const settled = status !== undefined && BigInt(Math.floor(now - CACHE_AFTER_CHANGE_MS)) * 1_000_000n >= status.ctimeNs;
  let found: Buffer | undefined;
  if (cacheFile !== undefined) {
    try {
      found = readWhole(cacheFile, Buffer.from(wrapped.buffer, wrapped.byteOffset), 1);
    } catch {
      // None yet, or unreadable: compiled as without a cache.
    }
  }
  const header = found === undefined ? undefined : readHeader(found);
  const script = new Script(source, {
    filename: file,
    ...(header !== undefined ? { cachedData: found!.subarray(header.dataStart) } : {}),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache =
    cacheFile === undefined ? "off" : found === undefined ? "absent" : header === undefined || script.cachedDataRejected === true ? "rejected" : "used";
  const module: { exports: Record<string, unknown> } = { exports: {} };
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  let saved = false;
  return {
    exports: module.exports,
    cache,
    saveCache: (scope) => {
      if (saved || cacheFile === undefined || !settled) return;
      saved = true;
      const name = scope.replace(/\s/g, "_");
      const held = cache === "used" ? header!.scopes : [];
      if (held.includes(name)) return;
      writeCache(cacheFile, basename(file), Buffer.from(`${[HEADER_TAG, ...held, name].join(" ")}\n`, "latin1"), script.createCachedData());
    },
  };
}

/**
 * A cache file's header (see {@link HEADER_TAG}): the scopes it holds and
 * where V8's data starts, or undefined when the file does not begin with one.
 */
function readHeader(file: Buffer): { scopes: string[]; dataStart: number } | undefined {
  // Looked for at the start only: a file without one (V8's data alone) is not read as text.
  const end = file.subarray(0, HEADER_MAX).indexOf(0x0a);
  if (end < 0) return undefined;
  const [tag, ...scopes] = file.toString("latin1", 0, end).split(" ");
  return tag === HEADER_TAG ? { scopes, dataStart: end + 1 } : undefined;
}

/** The two parts of Node's own wrapper (Module.wrap), between which a CommonJS module is the function Node runs. */
const MODULE_WRAPPER = moduleWrapper();

function moduleWrapper(): readonly [Buffer, Buffer] {
  const [head = "", tail = ""] = Module.wrap("\0").split("\0");
  return [Buffer.from(head, "latin1"), Buffer.from(tail, "latin1")];
}

/**
 * How much larger than the bundle the buffer it is read into is made: its code cache, read into the same
 * buffer next, is about 1.3 times the bundle's size. Only the pages written to are ever faulted in.
 */
const READ_ROOM = 2;

/**
 * @internal The whole of `file`: read into the start of `into` when it fits
 * there, else into the start of a new buffer of `room` times its size (and
 * `wrap`'s). With `wrap`, the file's bytes come between its two parts.
 */
export function readWhole(file: string, into: Buffer | undefined, room: number, wrap?: readonly [Buffer, Buffer]): Buffer {
  const fd = openSync(file, "r");
  try {
    const head = wrap?.[0].length ?? 0;
    const tail = wrap?.[1].length ?? 0;
    const size = fstatSync(fd).size;
    const need = head + size + tail;
    const buf = into !== undefined && into.length >= need ? into : Buffer.allocUnsafeSlow(Math.max(1, Math.ceil(need * room)));
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, head + done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    if (wrap !== undefined) {
      wrap[0].copy(buf, 0);
      wrap[1].copy(buf, head + done);
    }
    return buf.subarray(0, head + done + tail);
  } finally {
    closeSync(fd);
  }
}

/**
 * `<bundle name>-<its length>-<inode>-<mtime>-<ctime>-<Node version>-<architecture>.v8cache`,
 * numbers in hex, times in ns. V8 checks only a source's length against a
 * cache: the inode and times tell bundles of one length apart.
 */
function cacheFileName(file: string, status: BigIntStats): string {
  const id = [status.size, status.ino, status.mtimeNs, status.ctimeNs].map((n) => n.toString(16)).join("-");
  return `${basename(file)}-${id}${CACHE_FILE_TAIL}`;
}

/** What the names of a bundle's caches for this Node end with. */
const CACHE_FILE_TAIL = `-${process.version}-${process.arch}.v8cache`;

/**
 * Writes `header` then `data` to `file` whole (a temporary file renamed over it) and drops
 * the caches of the bundle's other builds for this Node (those for another
 * Node stay: a user may run both).
 */
function writeCache(file: string, bundle: string, header: Buffer, data: Buffer): void {
  const dir = dirname(file);
  const name = basename(file);
  const prefix = `${bundle}-`;
  const partial = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(partial, Buffer.concat([header, data]), { mode: 0o600 });
    renameSync(partial, file);
    for (const other of readdirSync(dir)) {
      if (other !== name && other.startsWith(prefix) && other.endsWith(CACHE_FILE_TAIL)) rmSync(join(dir, other), { force: true });
    }
  } catch {
    // Unwritable (a read-only home, a full disk): the next run compiles again. No half-written file stays.
    try {
      rmSync(partial, { force: true });
    } catch {
      // Nothing was written.
    }
  }
}
