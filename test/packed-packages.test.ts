/**
 * The packages as a user gets them. Every workspace is packed with `npm pack`
 * (the built `dist` must exist: `npm test` builds first), each tarball is
 * linted with publint (--strict) and, for the libraries, @arethetypeswrong/core
 * (attw; only require() from CommonJS is exempt, as the packages are ESM-only), and then all tarballs are installed into an empty temporary
 * project. Registry dependencies are packed from the repository's own
 * node_modules, so the install needs neither the network nor the npm cache.
 *
 * Every README the tarballs ship is read from the installed copy: each
 * ```js block followed by "`node NAME.mjs` prints:" and a ```text block is
 * written to NAME.mjs in the project and run with plain node; its output must
 * be the stated one. A library README must also say that the package is
 * ESM-only and which Node.js it needs.
 *
 * Every file of every tarball is then checked for anything pointing outside
 * the package (shipped-files.ts): relative links and imports that do not
 * resolve inside it, source maps without their sources, paths into the
 * repository or the build machine, issue numbers and unfinished-work notes.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { checkPackage, createPackageFromTarballData } from "@arethetypeswrong/core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isTextFile, shippedFileProblems } from "./shipped-files.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "..");
const publint = join(root, "node_modules", ".bin", "publint");

interface Manifest {
  name: string;
  private?: boolean;
  types?: string;
  bin?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

function readJson(path: string): Manifest {
  return JSON.parse(readFileSync(path, "utf8")) as Manifest;
}

/** The workspaces: packages/* and apps/*, with their manifests. */
const workspaces = ["packages", "apps"].flatMap((top) =>
  readdirSync(join(root, top))
    .map((d) => join(root, top, d))
    .filter((d) => existsSync(join(d, "package.json")))
    .map((dir) => ({ dir, manifest: readJson(join(dir, "package.json")) })),
);
const workspaceNames = new Set(workspaces.map((w) => w.manifest.name));

/** One runnable example of a README: its code, file name and stated output. */
interface Example {
  readme: string;
  file: string;
  code: string;
  output: string;
}

/** The examples of a README: ```js, then "`node X.mjs` prints:", then ```text. */
export function readmeExamples(readme: string, text: string): Example[] {
  const re = /^```js\n([\s\S]*?)^```\n+`node ([\w.-]+\.mjs)` prints:\n+```text\n([\s\S]*?)^```$/gm;
  return [...text.matchAll(re)].map((m) => ({ readme, code: m[1]!, file: m[2]!, output: m[3]! }));
}

function readmesUnder(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const p = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory() && e.name !== "node_modules") out.push(...readmesUnder(dir, p));
    else if (e.isFile() && e.name === "README.md") out.push(p);
  }
  return out;
}

/** Where Node's resolution finds package `name` from directory `from`: the nearest node_modules holding it. */
function installedDir(name: string, from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dir === dirname(dir)) throw new Error(`${name} is not installed (looked upward from ${from})`);
  }
}

let work = "";
let project = "";
const tarballs = new Map<string, string>();
/** The paths each workspace's tarball holds, as `npm pack` lists them. */
const packedFiles = new Map<string, string[]>();

beforeAll(async () => {
  for (const w of workspaces) {
    if (!existsSync(join(w.dir, "dist"))) throw new Error(`${w.manifest.name} has no dist: run \`npm run build\` first`);
  }
  work = mkdtempSync(join(tmpdir(), "irqlab-packed-"));
  const packs = join(work, "packs");
  mkdirSync(packs);
  const { stdout } = await run("npm", ["pack", "--workspaces", "--json", "--ignore-scripts", "--pack-destination", packs], { cwd: root });
  for (const p of JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[]) {
    tarballs.set(p.name, join(packs, p.filename));
    packedFiles.set(p.name, p.files.map((f) => f.path));
  }

  // Registry dependencies (and theirs), packed from the repository's install:
  // each from where Node resolves it for the package that depends on it, as
  // a workspace's own node_modules may hold another version than the root's.
  const external = new Map<string, string>();
  const visit = (deps: Record<string, string> | undefined, from: string) => {
    for (const name of Object.keys(deps ?? {})) {
      if (workspaceNames.has(name) || external.has(name)) continue;
      const dir = installedDir(name, from);
      external.set(name, dir);
      visit(readJson(join(dir, "package.json")).dependencies, dir);
    }
  };
  for (const w of workspaces) visit(w.manifest.dependencies, w.dir);
  for (const [name, dir] of external) {
    const { stdout: out } = await run("npm", ["pack", dir, "--json", "--ignore-scripts", "--pack-destination", packs], { cwd: work });
    tarballs.set(name, join(packs, (JSON.parse(out) as { filename: string }[])[0]!.filename));
  }

  project = join(work, "project");
  const dependencies = Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`]));
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "readme-examples", private: true, type: "module", dependencies }, null, 2));
  await run("npm", ["install", "--offline", "--ignore-scripts", "--no-audit", "--no-fund", "--no-package-lock"], { cwd: project });
}, 120_000);

afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true });
});

describe.concurrent.each(workspaces.map((w) => [w.manifest.name, w.manifest] as const))("%s as packed", (name, manifest) => {
  test("publint --strict finds nothing", async () => {
    const { stdout } = await run(publint, ["run", tarballs.get(name)!, "--strict"], { cwd: root });
    expect(stdout).toContain("All good!");
  }, 60_000);

  test.skipIf(manifest.types === undefined)("are the types wrong? (attw, ESM-only: require() exempt)", async () => {
    // What `attw --pack` checks, in-process so that TypeScript loads once. Only require()
    // from CommonJS (node16-cjs) is exempt: the packages are ESM-only. node10 must resolve
    // too (the top-level "types" field).
    const result = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(tarballs.get(name)!))));
    expect(result.types, "ships types").not.toBe(false);
    const problems = result.types === false ? [] : result.problems;
    expect(problems.filter((p) => !("resolutionKind" in p) || p.resolutionKind !== "node16-cjs")).toEqual([]);
  }, 60_000);

  test("ships README and LICENSE; its README examples print what they say", async () => {
    const installed = join(project, "node_modules", name);
    expect(existsSync(join(installed, "LICENSE"))).toBe(true);
    const readmes = readmesUnder(installed);
    expect(readmes).toContain("README.md");
    const top = readFileSync(join(installed, "README.md"), "utf8");
    expect(top, "says Node.js ≥ 20.19").toMatch(/Node(\.js)? ≥ 20\.19/);
    const examples = readmes.flatMap((r) => readmeExamples(r, readFileSync(join(installed, r), "utf8")));
    // Libraries: ESM only, with a runnable example. The apps are private: the CLI ships bins, the web app a static site.
    if (manifest.bin === undefined && manifest.private !== true) {
      expect(top, "says ESM only").toMatch(/ESM only/);
      expect(examples.filter((e) => e.readme === "README.md").length, "README.md has a runnable example").toBeGreaterThan(0);
    }
    for (const e of examples) {
      const file = join(project, `${name.replace(/\W/g, "_")}-${e.readme.replace(/\W/g, "_")}-${e.file}`);
      writeFileSync(file, e.code);
      const { stdout } = await run("node", [file], { cwd: project });
      expect(stdout.trimEnd(), `${name} ${e.readme}: node ${e.file}`).toBe(e.output.trimEnd());
    }
  }, 60_000);

  test("ships nothing that points outside the package (links, imports, source maps, paths, notes)", () => {
    const installed = join(project, "node_modules", name);
    const paths = new Set(packedFiles.get(name));
    expect(paths.size, "npm pack listed the tarball's files").toBeGreaterThan(2);
    const texts = new Map([...paths].filter(isTextFile).map((p) => [p, readFileSync(join(installed, p), "utf8")] as const));
    const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
    expect(shippedFileProblems({ name, dependencies, paths, texts })).toEqual([]);
  });
});
