/**
 * Every relative link of every Markdown file in the repository resolves: the
 * file or directory exists inside the repository (so the link works in a
 * fresh clone: nothing beside it, such as ../shared, is linked), and a
 * `#fragment` names a heading of the target
 * (GitHub's anchors: lower case, punctuation dropped, spaces to hyphens,
 * repeats numbered). Links to other sites are not fetched.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { expect, test } from "vitest";
import { anchors, isExternal, links, splitTarget } from "./markdown-kit.js";

const root = join(import.meta.dirname, "..");
const SKIP = new Set(["node_modules", "dist", "coverage", ".git", ".turbo", ".bench-raw"]);

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...markdownFiles(p));
    else if (e.isFile() && e.name.endsWith(".md")) out.push(p);
  }
  return out;
}

test("relative links and anchors in the repository's Markdown resolve", () => {
  const files = markdownFiles(root);
  expect(files.length).toBeGreaterThan(5);
  const broken: string[] = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    for (const target of links(text)) {
      if (isExternal(target)) continue;
      const { path, fragment } = splitTarget(target);
      const resolved = path === "" ? file : join(dirname(file), path);
      const where = `${relative(root, file)}: ${target}`;
      if (relative(root, resolved).startsWith("..")) {
        broken.push(`${where} (outside the repository)`);
        continue;
      }
      if (!existsSync(resolved)) {
        broken.push(`${where} (no such file)`);
        continue;
      }
      if (fragment !== undefined && fragment !== "" && statSync(resolved).isFile() && resolved.endsWith(".md")) {
        if (!anchors(readFileSync(resolved, "utf8")).has(fragment.toLowerCase())) broken.push(`${where} (no such heading)`);
      }
    }
  }
  expect(broken).toEqual([]);
});
