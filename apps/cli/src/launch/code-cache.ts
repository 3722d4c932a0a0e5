/**
 * Loading the commands' CommonJS bundles (dist/irqlab-main.cjs,
 * dist/irqlab-system.cjs) with V8's code cache, as Node 22's module compile
 * cache does for modules (Node 20 has no such cache for ES modules): a
 * bundle's first run compiles it and, at exit, writes the bytecode of every
 * function it compiled beside the user's other caches; later runs hand that
 * to V8 instead of parsing and compiling again, and a run that compiled much
 * more than the cache held writes it again. (The its-trigger process bench
 * measures a run with the cache and one without.)
 *
 * The cache file's name holds the bundle's length and CRC, the Node version
 * and the architecture, so a rebuilt or upgraded bundle never meets bytecode
 * of another; V8 checks the rest (its version and flags) and rejects a cache
 * that does not fit, which is then written again. A cache that cannot be read
 * or written is skipped without a word: it only saves time.
 *
 * Where: `$IRQLAB_CODE_CACHE` if set (`off` or `0` turns the cache off),
 * else `$XDG_CACHE_HOME/irqlab`, else `~/.cache/irqlab`. A directory of the
 * user's own, never a shared temporary one: bytecode found there is run.
 */

import { closeSync, fstatSync, mkdirSync, openSync, readSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import Module, { createRequire } from "node:module";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join } from "node:path";
import { getHeapCodeStatistics } from "node:v8";
import { Script, constants } from "node:vm";
import { crc32 } from "node:zlib";

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
   * (call it at exit), when it was absent or rejected, or when this run
   * compiled much the cache did not hold (see {@link REWRITE_GROWTH}); does
   * nothing otherwise.
   */
  saveCache(): void;
}

/**
 * A cache that was used is written again when the heap's bytecode grew during
 * the run by more than this share of what it was once the bundle had loaded,
 * and by {@link REWRITE_MIN_BYTES}: a first run of `irqlab --version` caches
 * little of what `irqlab scenario run` then compiles. (The figure is the
 * whole heap's, Node's own bytecode included: V8 tells no more for a script.)
 */
const REWRITE_GROWTH = 0.25;
const REWRITE_MIN_BYTES = 64 * 1024;

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
 * Runs the CommonJS bundle at `file` in this process (as `require` would,
 * with `require` resolving from the bundle's directory and `import()` from
 * the main context), compiled with the code cache in `cacheDir` when there
 * is one there (undefined: no cache; see {@link codeCacheDir}).
 */
export function loadBundle(file: string, cacheDir: string | undefined): LoadedBundle {
  // The bundle and then its cache are read into one buffer, which has room for both in turn: each page of
  // fresh memory a short process touches is a page fault, which in a virtual machine can cost ten microseconds.
  const bytes = readWhole(file, undefined, cacheDir === undefined ? 1 : READ_ROOM);
  const source = bytes.toString("utf8");
  const cacheFile = cacheDir === undefined ? undefined : join(cacheDir, cacheFileName(file, bytes));
  let cachedData: Buffer | undefined;
  if (cacheFile !== undefined) {
    try {
      cachedData = readWhole(cacheFile, Buffer.from(bytes.buffer, bytes.byteOffset), 1);
    } catch {
      // None yet, or unreadable: compiled as without a cache.
    }
  }
  const script = new Script(Module.wrap(source), {
    filename: file,
    ...(cachedData !== undefined ? { cachedData } : {}),
    importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const cache = cacheFile === undefined ? "off" : cachedData === undefined ? "absent" : script.cachedDataRejected === true ? "rejected" : "used";
  const module: { exports: Record<string, unknown> } = { exports: {} };
  const run = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: unknown, filename: string, dirname: string) => void;
  run.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  const loadedBytecode = cache === "used" ? getHeapCodeStatistics().bytecode_and_metadata_size : 0;
  let saved = false;
  return {
    exports: module.exports,
    cache,
    saveCache: () => {
      if (saved || cacheFile === undefined) return;
      saved = true;
      if (cache === "used") {
        const grown = getHeapCodeStatistics().bytecode_and_metadata_size - loadedBytecode;
        if (grown <= REWRITE_MIN_BYTES || grown <= loadedBytecode * REWRITE_GROWTH) return;
      }
      writeCache(cacheFile, basename(file), script.createCachedData());
    },
  };
}

/**
 * How much larger than the bundle the buffer it is read into is made: its code cache, read into the same
 * buffer next, is about 1.3 times the bundle's size. Only the pages written to are ever faulted in.
 */
const READ_ROOM = 2;

/**
 * @internal The whole of `file`: read into the start of `into` when it fits
 * there, else into the start of a new buffer of `room` times its size.
 */
export function readWhole(file: string, into: Buffer | undefined, room: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = into !== undefined && into.length >= size ? into : Buffer.allocUnsafeSlow(Math.max(1, Math.ceil(size * room)));
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buf, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buf.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/**
 * `<bundle name>-<its length and CRC-32>-<Node version>-<architecture>.v8cache`.
 * V8 checks only a source's length against a cache: the CRC tells bundles of
 * one length apart. (zlib's CRC, not a cryptographic hash: node:crypto alone
 * takes longer to load than the hash saves, and the directory is the user's.)
 */
function cacheFileName(file: string, bytes: Buffer): string {
  const crc = crc32(bytes).toString(16).padStart(8, "0");
  return `${basename(file)}-${bytes.length.toString(16)}${crc}${CACHE_FILE_TAIL}`;
}

/** What the names of a bundle's caches for this Node end with. */
const CACHE_FILE_TAIL = `-${process.version}-${process.arch}.v8cache`;

/**
 * Writes `data` to `file` whole (a temporary file renamed over it) and drops
 * the caches of the bundle's other builds for this Node (those for another
 * Node stay: a user may run both).
 */
function writeCache(file: string, bundle: string, data: Buffer): void {
  const dir = dirname(file);
  const name = basename(file);
  const prefix = `${bundle}-`;
  const partial = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(partial, data, { mode: 0o600 });
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
