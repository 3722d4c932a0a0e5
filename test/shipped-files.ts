/**
 * What a packed tarball must not contain: anything that points outside the
 * package. Given the files of one tarball, shippedFileProblems() lists
 *
 * - relative Markdown links and images (in .md files and in the doc comments
 *   of .js/.d.ts files) whose target is not in the tarball, or whose
 *   `#fragment` names no heading of the Markdown file it points to;
 * - relative imports (and requires) of the shipped .js/.cjs/.d.ts files that
 *   are not in the tarball, and package imports that are neither Node
 *   built-ins, the package itself nor one of its dependencies;
 * - source maps that need a source file the tarball lacks (no sourcesContent);
 * - in any text, source maps' sources included: paths into the repository's
 *   reference/ or shared/ folders, absolute paths of the machine that built
 *   it, issue or ticket numbers, and notes of unfinished work (TODO, FIXME,
 *   "in progress").
 *
 * packed-packages.test.ts runs it on every tarball; shipped-files.test.ts
 * shows each rule failing on a small bad package.
 */
import { builtinModules } from "node:module";
import { posix } from "node:path";
import { anchors, isExternal, links, splitTarget } from "./markdown-kit.js";

/** One packed package: its name, dependencies and every file of its tarball. */
export interface ShippedPackage {
  readonly name: string;
  /** Names of its dependencies and peer dependencies. */
  readonly dependencies: readonly string[];
  /** Every path in the tarball (relative, "/"-separated), binary files included. */
  readonly paths: ReadonlySet<string>;
  /** The text of each text file, by path. */
  readonly texts: ReadonlyMap<string, string>;
}

/** Whether a shipped file is text to scan (by name): code, declarations, maps, docs, data. */
export function isTextFile(path: string): boolean {
  return /\.(?:[cm]?js|d\.[cm]?ts|ts|map|json|md|txt|ya?ml|html|css)$/.test(path) || /(?:^|\/)(?:LICENSE|NOTICE)[^/]*$/.test(path);
}

/** Text that must not be shipped: what it is, and the pattern that finds it. */
const FORBIDDEN: readonly (readonly [string, RegExp])[] = [
  ["a path into the repository's reference/ or shared/ folder", /(?<![\w.-])(?:\.\.\/)*(?:reference|shared)\/(?=[\w.*-])|\.\.\/shared\b/g],
  ["an absolute path of the build machine", /(?<![\w.:/-])\/(?:work|home|root|tmp|Users|mnt|srv|opt|var)\/|\b[A-Z]:\\{1,2}(?:Users|Windows|home|work)\b|file:\/\/\//g],
  ["an issue or ticket number", /\b(?:issue|ticket)\s*#?\s*\d+/gi],
  ["a note of unfinished work", /\b(?:TODO|FIXME)\b|\b(?:work[ -])?in[ -]progress\b/gi],
];

/** 1-based line of `index` in `text`. */
function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

function excerpt(text: string, index: number, length: number): string {
  return text.slice(Math.max(0, index - 30), index + length + 30).replace(/\s+/g, " ").trim();
}

/** Forbidden text in `text`, reported as `where:line: what: excerpt`. */
function forbiddenText(where: string, text: string): string[] {
  const out: string[] = [];
  for (const [what, re] of FORBIDDEN) {
    for (const m of text.matchAll(re)) out.push(`${where}:${lineOf(text, m.index)}: ${what}: "${excerpt(text, m.index, m[0].length)}"`);
  }
  return out;
}

/** The block comments of JavaScript or TypeScript text (where doc comments put Markdown links). */
function blockComments(code: string): string {
  return [...code.matchAll(/\/\*[\s\S]*?\*\//g)].map((m) => m[0]).join("\n");
}

/** `target` resolved against the directory `from` in the tarball, or undefined if it leaves the package. */
function resolveIn(from: string, target: string): string | undefined {
  const p = posix.normalize(posix.join(from, target));
  return p === ".." || p.startsWith("../") || posix.isAbsolute(target) ? undefined : p.replace(/\/$/, "");
}

/** Relative Markdown links of `text` (in the file `file`, links relative to `dir`) that the tarball cannot satisfy. */
function brokenLinks(pkg: ShippedPackage, file: string, dir: string, text: string): string[] {
  const out: string[] = [];
  for (const target of links(text)) {
    if (isExternal(target)) continue;
    const { path, fragment } = splitTarget(target);
    const resolved = path === "" ? file : resolveIn(dir, path);
    const isDir = resolved !== undefined && [...pkg.paths].some((p) => p.startsWith(`${resolved}/`));
    if (resolved === undefined || (!pkg.paths.has(resolved) && !isDir)) {
      out.push(`${file}: link to ${target} (not in the package)`);
      continue;
    }
    const md = pkg.texts.get(resolved);
    if (fragment !== undefined && fragment !== "" && resolved.endsWith(".md") && md !== undefined && !anchors(md).has(fragment.toLowerCase())) {
      out.push(`${file}: link to ${target} (no such heading)`);
    }
  }
  return out;
}

/** The module specifiers a shipped .js, .cjs or .d.ts file imports, re-exports or requires. */
export function importSpecifiers(code: string): string[] {
  const found = [
    ...code.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"'\n]+)["']/gm),
    ...code.matchAll(/^\s*import\s*["']([^"'\n]+)["']/gm),
    ...code.matchAll(/\bimport\(\s*["']([^"'\n]+)["']\s*\)/g),
    ...code.matchAll(/\brequire\(\s*["']([^"'\n]+)["']\s*\)/g),
  ];
  return [...new Set(found.map((m) => m[1]!))];
}

/** The package a bare specifier names ("@scope/name/sub" → "@scope/name"). */
function packageOf(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

const BUILTINS = new Set(builtinModules);

/** Imports of `file` that resolve neither inside the tarball nor to a declared dependency. */
function badImports(pkg: ShippedPackage, file: string, code: string): string[] {
  const out: string[] = [];
  for (const spec of importSpecifiers(code)) {
    if (spec.startsWith(".")) {
      const resolved = resolveIn(posix.dirname(file), spec);
      // A declaration file imports "./x.js" for the types in "./x.d.ts".
      const declaration = /\.d\.[cm]?ts$/.test(file);
      const candidates = resolved === undefined ? [] : [declaration ? resolved.replace(/\.([cm]?)js$/, ".d.$1ts") : resolved];
      if (!candidates.some((c) => pkg.paths.has(c))) out.push(`${file}: imports ${spec} (not in the package)`);
    } else if (!spec.startsWith("node:") && !BUILTINS.has(spec)) {
      const name = packageOf(spec);
      if (name !== pkg.name && !pkg.dependencies.includes(name)) out.push(`${file}: imports ${spec} (not a dependency)`);
    }
  }
  return out;
}

interface SourceMap {
  sources?: string[];
  sourcesContent?: (string | null)[];
}

/** Everything in the tarball that points outside the package; empty when it is self-contained. */
export function shippedFileProblems(pkg: ShippedPackage): string[] {
  const out: string[] = [];
  for (const [file, text] of pkg.texts) {
    const dir = posix.dirname(file);
    if (file.endsWith(".map")) {
      const map = JSON.parse(text) as SourceMap;
      const sources = map.sources ?? [];
      sources.forEach((source, i) => {
        const content = map.sourcesContent?.[i];
        const where = `${file} (${source})`;
        if (typeof content !== "string") {
          out.push(`${where}: no sourcesContent, so the map needs a file the package lacks`);
          return;
        }
        out.push(...forbiddenText(where, content));
        out.push(...brokenLinks(pkg, where, posix.dirname(posix.join(dir, source)), blockComments(content)));
      });
      continue;
    }
    out.push(...forbiddenText(file, text));
    if (file.endsWith(".md")) out.push(...brokenLinks(pkg, file, dir, text));
    if (/\.(?:[cm]?js|d\.[cm]?ts)$/.test(file)) {
      out.push(...brokenLinks(pkg, file, dir, blockComments(text)));
      out.push(...badImports(pkg, file, text));
    }
  }
  return out;
}
