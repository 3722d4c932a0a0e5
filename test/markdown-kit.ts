/**
 * Reading Markdown as GitHub renders it, for the link checks of the
 * repository (markdown-links.test.ts) and of the packed tarballs
 * (shipped-files.ts): the link targets of a text and the anchors of its
 * headings.
 */

/** The text outside fenced code blocks and inline code spans. */
export function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's anchor for each heading of a Markdown text. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6}\s+(.*?)\s*#*\s*$/gm)) {
    const base = m[1]!
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  // Inline code is dropped by prose(); headings with code keep its text on GitHub.
  for (const m of text.matchAll(/^#{1,6}\s+(.*?)\s*$/gm)) {
    out.add(m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-"));
  }
  return out;
}

/** The link targets of a Markdown text: inline links, images and reference definitions. */
export function links(text: string): string[] {
  const body = prose(text);
  const inline = [...body.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const defs = [...body.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$/gm)].map((m) => m[1]!);
  return [...inline, ...defs];
}

/** True for a link to another site or scheme (https:, mailto:, ...), which no check follows. */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target);
}

/** A link target split into its path (URL-decoded) and its fragment, if any. */
export function splitTarget(target: string): { path: string; fragment: string | undefined } {
  const hash = target.indexOf("#");
  const path = hash < 0 ? target : target.slice(0, hash);
  return { path: decodeURIComponent(path), fragment: hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1)) };
}
