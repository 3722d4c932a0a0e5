// A git revision's files as a source tree that esbuild can bundle from, for the scripts that
// compare a revision with the work tree (bench-compare.mjs, fuzz.mjs --against).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";

/**
 * `revision`'s files (of the repository at `root`) exported into `dir`/tree, whose node_modules
 * holds the repository's third-party packages and that tree's own workspace packages. Returns the
 * tree's directory and the commit's full SHA.
 * @throws Error when `revision` names no commit
 */
export function exportRevision(root, revision, dir) {
  let sha;
  try {
    sha = execFileSync("git", ["rev-parse", "--verify", "--quiet", `${revision}^{commit}`], { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
  } catch {
    throw new Error(`git knows no commit '${revision}'`);
  }
  const tree = join(dir, "tree");
  mkdirSync(tree);
  execFileSync("sh", ["-c", `git archive ${sha} | tar -x -C "${tree}"`], { cwd: root });
  const modules = join(tree, "node_modules");
  mkdirSync(join(modules, "@irqlab"), { recursive: true });
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name !== "@irqlab" && !name.startsWith(".")) symlinkSync(join(root, "node_modules", name), join(modules, name));
  }
  for (const group of ["packages", "apps"]) {
    if (!existsSync(join(tree, group))) continue;
    for (const pkg of readdirSync(join(tree, group))) symlinkSync(join(tree, group, pkg), join(modules, "@irqlab", pkg));
  }
  return { dir: tree, sha };
}
