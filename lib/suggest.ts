/** "Did you mean" suggestions for misspelt names. */

/** Levenshtein distance between two strings (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

/** Whether `word` looks like a misspelling of `target`: same letters apart from case and punctuation, or close. */
export function resembles(
  word: string,
  target: string,
  maxDistance = Math.min(3, Math.floor(target.length / 3)),
): boolean {
  if (word === target) return false;
  const plain = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
  return (
    plain(word) === plain(target) || editDistance(word.toLowerCase(), target.toLowerCase()) <= maxDistance
  );
}

/** The closest of `candidates` to `word`, if one resembles it. */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (!resembles(word, c)) continue;
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}
