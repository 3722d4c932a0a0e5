/**
 * The first word of `irqlab WORD ...` when it names no command. `sim` is
 * the default command and takes no arguments, so without this check
 * commander would hand the word to `sim` and report "too many arguments for
 * 'sim'", which does not name the word. Suggestions are the commands within
 * an edit distance of 2 (commander's own rule for unknown options).
 */

/** The one-line error for `word` when it is not one of `commands`, or undefined if it is one or is an option. */
export function unknownCommandMessage(word: string | undefined, commands: readonly string[]): string | undefined {
  if (word === undefined || word.startsWith("-") || commands.includes(word)) return undefined;
  const near = commands
    .map((c) => ({ c, d: editDistance(word, c) }))
    .filter((x) => x.d <= 2 && x.d < x.c.length)
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c));
  const hint = near.length > 0 ? `\n(Did you mean ${near[0]!.c}?)` : "";
  return `error: unknown command '${word}' (commands: ${commands.join(", ")})${hint}\n`;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}
