/**
 * The largest k in 1..n for which `holds(k)` is true, or 0 when `holds(1)`
 * is false, for a predicate true up to some k and false from there on
 * (`holds(0)` is taken as true and never asked). It asks by doubling, then
 * halving: O(log k) questions, few when k is small. The questions answered
 * true come in increasing order of k, so the last one answered true is the
 * k returned — for a predicate whose "yes" has an effect that must match
 * the answer (an idle check that counts the time as run).
 */
export function largestHolding(n: number, holds: (k: number) => boolean): number {
  if (!(n >= 1)) return 0;
  let lo = 0;
  let hi = 1;
  while (hi < n && holds(hi)) {
    lo = hi;
    hi *= 2;
  }
  if (hi >= n) {
    if (holds(n)) return n;
    hi = n;
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (holds(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
