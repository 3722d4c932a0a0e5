import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { defineConfig, type Options } from "tsup";
import { SHIPPED_BIN, SHIPPED_COMMAND } from "../../scripts/source-bundle.mjs";

/**
 * The bins: what package.json's "bin" names, each a small CommonJS script that loads one of the
 * bundles below (src/launch). CommonJS, not ES modules: Node starts an ES module through its ESM
 * loader, whose first use costs a short command a few milliseconds.
 */
export const BINS = {
  irqlab: "src/main.ts",
  "irqlab-system-aarch64": "src/system-aarch64.ts",
  "irqlab-system-riscv64": "src/system-riscv64.ts",
};

/**
 * The npm packages the bundles carry (their code is then in the code cache: required from
 * node_modules, commander and valibot took 20 and 16 ms of every start). Their licences go into
 * dist/THIRD-PARTY-NOTICES.md. yaml stays a dependency: its sources, which the source map would
 * carry, hold notes of unfinished work.
 */
export const BUNDLED_PACKAGES = ["commander", "valibot"];

/** The notices of {@link BUNDLED_PACKAGES}: each package's name, version and licence text. */
export function thirdPartyNotices(): string {
  const require = createRequire(import.meta.url);
  const sections = BUNDLED_PACKAGES.map((name) => {
    // The package's folder: the nearest one above its entry point whose package.json names it.
    for (let dir = dirname(require.resolve(name)); ; dir = dirname(dir)) {
      const manifestFile = join(dir, "package.json");
      const manifest = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, "utf8")) as { name?: string; version?: string; license?: string }) : undefined;
      if (manifest?.name === name) {
        const file = readdirSync(dir).find((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f));
        if (file === undefined) throw new Error(`${name} has no LICENSE file`);
        return `## ${name} ${manifest.version ?? ""} (${manifest.license ?? "licence below"})\n\n${readFileSync(join(dir, file), "utf8").trim()}\n`;
      }
      if (dirname(dir) === dir) throw new Error(`cannot find ${name}'s package.json`);
    }
  });
  return `# Third-party notices\n\nirqlab-main.cjs in this folder carries the code of these packages.\n\n${sections.join("\n")}`;
}

const shared: Options = {
  dts: false,
  sourcemap: true,
  target: "node20",
  ...SHIPPED_COMMAND,
  // Taken from their TypeScript sources (the "@irqlab/source" export condition), as the benches
  // take them: the commands build without the packages' own builds and declarations.
  esbuildOptions(options) {
    options.conditions = ["@irqlab/source"];
  },
};

export default defineConfig([
  {
    ...shared,
    entry: BINS,
    // CommonJS with import.meta.url, through which launch.ts finds the bundles beside the bin (SHIPPED_BIN).
    format: [SHIPPED_BIN.format],
    define: { ...SHIPPED_BIN.define },
    banner: { js: `#!/usr/bin/env node\n${SHIPPED_BIN.banner.js}` },
    // The bins' files, and an older build's (ES modules named *.js).
    clean: ["*.js", "*.js.map", ...Object.keys(BINS).flatMap((bin) => [`${bin}.cjs`, `${bin}.cjs.map`])],
  },
  {
    ...shared,
    // The commands, as CommonJS scripts: V8's code cache takes a script, not an ES module
    // (src/launch/code-cache.ts). Two, so that the system commands load neither commander nor the
    // scenario files' parsers. The workspace packages go into them, without comments and
    // whitespace (SHIPPED_COMMAND): a start reads and compiles one file, not one per package with
    // its doc comments. Names stay, for readable stacks; the source maps have the sources.
    entry: { "irqlab-main": "src/irqlab-command.ts", "irqlab-system": "src/system-main.ts" },
    format: ["cjs"],
    noExternal: [/^@irqlab\//, ...BUNDLED_PACKAGES],
    clean: ["irqlab-main.cjs", "irqlab-main.cjs.map", "irqlab-system.cjs", "irqlab-system.cjs.map", "THIRD-PARTY-NOTICES.md"],
    onSuccess: () => {
      writeFileSync("dist/THIRD-PARTY-NOTICES.md", thirdPartyNotices());
      return Promise.resolve();
    },
  },
]);
