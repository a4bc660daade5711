/**
 * The known names closest to a misspelt one, for "did you mean" suggestions: case-insensitive
 * optimal-string-alignment distance (a swap of two neighbours costs 1), plus names that contain
 * the typed one or are contained in it. Closest first, at most `limit`.
 */
export function nearestNames(target: string, candidates: Iterable<string>, limit = 3): string[] {
  const t = target.toLowerCase();
  if (!t) return [];
  const threshold = Math.max(1, Math.floor(t.length / 4));
  const scored: { name: string; score: number }[] = [];
  for (const name of candidates) {
    const c = name.toLowerCase();
    if (c === t) {
      scored.push({ name, score: 0 });
      continue;
    }
    const contains = c.includes(t) || t.includes(c);
    if (!contains && Math.abs(c.length - t.length) > threshold) continue;
    const d = distance(t, c, contains ? Infinity : threshold);
    if (d <= threshold) scored.push({ name, score: d });
    else if (contains) scored.push({ name, score: threshold + 0.5 });
  }
  scored.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return scored.slice(0, limit).map((s) => s.name);
}

/** Optimal string alignment distance; stops early and returns `cap + 1` once every row exceeds `cap`. */
function distance(a: string, b: string, cap: number): number {
  const m = a.length;
  const n = b.length;
  let prevPrev = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= m; i++) {
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= n; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prevPrev[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > cap) return cap + 1;
    [prevPrev, prev, cur] = [prev, cur, prevPrev];
  }
  return prev[n];
}
