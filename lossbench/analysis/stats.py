"""Small, exact statistics for comparing pairings over training seeds.

Constants:

``MIN_SEEDS = 3``  a pairing needs at least this many seeds before it can be
                   called ``always`` or ``never`` converging (mixed outcomes
                   are ``sometimes`` at any number of seeds);
``ALPHA = 0.05``   two-sided level of every test and interval (95 % intervals);
``N_BOOT = 2000``  bootstrap replicates.

Seeds are the unit of replication: the test subjects of one seed share its
trained net, so intervals on Dice resample seeds first, then subjects
(`hierarchical_bootstrap`). Convergence rates are counts k of n seeds, compared
with Fisher's exact test and Holm's correction across comparisons.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st

MIN_SEEDS = 3
ALPHA = 0.05
N_BOOT = 2000

CLASSES = ("always", "sometimes", "never", "undecided")
CLASS_RULES = {
    "always": f"every seed converged, n ≥ {MIN_SEEDS}",
    "sometimes": "some seeds converged and some did not (any n)",
    "never": f"no seed converged, n ≥ {MIN_SEEDS}",
    "undecided": f"all seeds agree but n < {MIN_SEEDS} (or no seeds)",
}


def clopper_pearson(k: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Exact binomial interval for k successes in n (Clopper & Pearson 1934, Biometrika 26:404).

    lo = Beta(alpha/2; k, n-k+1) quantile (0 when k == 0),
    hi = Beta(1-alpha/2; k+1, n-k) quantile (1 when k == n); (nan, nan) when n == 0.
    """
    if n <= 0:
        return (math.nan, math.nan)
    lo = 0.0 if k <= 0 else float(_st.beta.ppf(alpha / 2, k, n - k + 1))
    hi = 1.0 if k >= n else float(_st.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return (lo, hi)


def convergence_class(k: int, n: int) -> str:
    """One of `CLASSES` for k converged seeds of n; rules in `CLASS_RULES`, checked in order:
    n == 0 -> undecided; 0 < k < n -> sometimes; n < MIN_SEEDS -> undecided;
    k == n -> always; k == 0 -> never."""
    if n == 0:
        return "undecided"
    if 0 < k < n:
        return "sometimes"
    if n < MIN_SEEDS:
        return "undecided"
    return "always" if k == n else "never"


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact p on [[k1, n1-k1], [k2, n2-k2]]; 1.0 when either n is 0."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    return float(_st.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])[1])


def holm(pvalues: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values, in input order (Holm 1979, Scand. J. Stat. 6:65).

    With the m finite p sorted ascending, p_(1) <= ... <= p_(m):
    adj_(i) = min(1, max_{j <= i} (m - j + 1) p_(j)). NaN stays NaN and is not counted in m.
    """
    p = np.asarray(pvalues, float)
    out = np.full(p.shape, math.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if m:
        order = finite[np.argsort(p[finite], kind="stable")]
        scaled = (m - np.arange(m)) * p[order]
        out[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    return [float(x) for x in out]


def hierarchical_bootstrap(
    groups: list[np.ndarray], n_boot: int = N_BOOT, seed: int = 0, alpha: float = ALPHA
) -> tuple[float, float, float]:
    """(mean, lo, hi): pooled mean of all finite values and a two-level percentile interval.

    ``groups`` holds one array per training seed of per-subject values. Non-finite values
    and then empty groups are dropped. Each replicate draws G seeds with replacement, then
    n_g subjects with replacement inside each drawn seed g, and takes the mean of all drawn
    values: sum(drawn) / sum(n_g). lo, hi = the alpha/2 and 1-alpha/2 percentiles of the
    replicates. No groups -> (nan, nan, nan); one group -> only subjects vary; one value in all
    (one seed, one test subject: CamVid's test split is one video sequence) -> (mean, nan, nan):
    a single number has no spread to draw an interval from, so nothing is decided on it.
    """
    mean, boot = bootstrap_replicates(groups, n_boot, seed)
    if boot is None:
        return (math.nan, math.nan, math.nan)
    if sum(int(np.isfinite(np.asarray(g, float)).sum()) for g in groups) < 2:
        return (mean, math.nan, math.nan)
    lo, hi = np.percentile(boot, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return (mean, float(lo), float(hi))


def bootstrap_replicates(
    groups: list[np.ndarray], n_boot: int = N_BOOT, seed: int = 0
) -> tuple[float, np.ndarray | None]:
    """(pooled mean, ``n_boot`` replicate means) of `hierarchical_bootstrap`; (nan, None) without data."""
    kept = [v[np.isfinite(v)] for v in (np.asarray(g, float).ravel() for g in groups)]
    kept = [v for v in kept if v.size]
    if not kept:
        return (math.nan, None)
    mean = float(np.concatenate(kept).mean())
    sizes = np.array([v.size for v in kept])
    padded = np.zeros((len(kept), sizes.max()))
    for i, v in enumerate(kept):
        padded[i, : v.size] = v
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(kept), size=(n_boot, len(kept)))  # seeds drawn
    n = sizes[pick]  # (B, G)
    idx = np.floor(rng.random((n_boot, len(kept), sizes.max())) * n[..., None]).astype(int)
    used = np.arange(sizes.max()) < n[..., None]  # first n_g slots
    drawn = padded[pick[..., None], idx]
    return mean, np.where(used, drawn, 0.0).sum(axis=(1, 2)) / n.sum(axis=1)


def spearman(a, b) -> float:
    """Spearman's rank correlation of two equal-length vectors (average ranks for ties)."""
    from scipy.stats import rankdata

    ra, rb = rankdata(a), rankdata(b)
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def spearman_bootstrap(
    side_a: list[list[np.ndarray]],
    side_b: list[list[np.ndarray]],
    n_boot: int = N_BOOT,
    seed: int = 0,
    alpha: float = ALPHA,
) -> tuple[float, float, float]:
    """(rho, lo, hi): Spearman of the per-item means of two sides, with a percentile interval.

    Item i has, on each side, one array of per-subject values per training seed. Each replicate
    redraws every item on both sides by `bootstrap_replicates` (seeds, then subjects, each side
    independently) and correlates the replicate means. Items without data on either side are left out.
    """
    from scipy.stats import rankdata

    pairs = [
        (bootstrap_replicates(ga, n_boot, seed + 2 * i), bootstrap_replicates(gb, n_boot, seed + 2 * i + 1))
        for i, (ga, gb) in enumerate(zip(side_a, side_b, strict=True))
    ]
    pairs = [(a, b) for a, b in pairs if a[1] is not None and b[1] is not None]
    if len(pairs) < 3:
        return (math.nan, math.nan, math.nan)
    rho = spearman([a[0] for a, _ in pairs], [b[0] for _, b in pairs])
    ra = rankdata(np.stack([a[1] for a, _ in pairs], axis=1), axis=1)
    rb = rankdata(np.stack([b[1] for _, b in pairs], axis=1), axis=1)
    ra, rb = ra - ra.mean(axis=1, keepdims=True), rb - rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))
    boot = np.where(denom > 0, (ra * rb).sum(axis=1) / np.where(denom > 0, denom, 1.0), np.nan)
    lo, hi = np.nanpercentile(boot, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return (rho, float(lo), float(hi))


def decided_dice(lo: float, hi: float) -> bool:
    """The interval [lo, hi] excludes 0: both finite and lo > 0 or hi < 0."""
    return math.isfinite(lo) and math.isfinite(hi) and (lo > 0 or hi < 0)


def could_decide_dice(mean: float, lo: float, hi: float, n: int, cap: int) -> bool:
    """Undecided at n seeds, but decided if the half-width (hi - lo) / 2 shrank by sqrt(n / cap):
    not decided_dice(lo, hi) and cap > n and |mean| > half * sqrt(n / cap). False if non-finite."""
    if not all(math.isfinite(x) for x in (mean, lo, hi)) or n <= 0 or cap <= n:
        return False
    half = (hi - lo) / 2
    return not decided_dice(lo, hi) and abs(mean) > half * math.sqrt(n / cap)


def could_decide_rate(k1: int, n1: int, k2: int, n2: int, cap: int) -> bool:
    """Fisher p >= ALPHA now, but < ALPHA with each side projected to ``cap`` seeds at its
    observed share: k' = round(k * cap / n) (halves up). False when cap <= max(n1, n2),
    when a side has no seeds, or when the shares are equal (k1 n2 == k2 n1)."""
    if n1 <= 0 or n2 <= 0 or cap <= max(n1, n2) or k1 * n2 == k2 * n1:
        return False
    if fisher_p(k1, n1, k2, n2) < ALPHA:
        return False
    p1, p2 = (math.floor(k * cap / n + 0.5) for k, n in ((k1, n1), (k2, n2)))
    return fisher_p(p1, cap, p2, cap) < ALPHA


def difference_sentence(
    label_a: str, label_b: str, mean: float, lo: float, hi: float, n_seeds: int, what: str = "test foreground Dice"
) -> str:
    """One sentence on mean(a - b): the direction only when the interval excludes 0."""
    level = f"{100 * (1 - ALPHA):g} % CI"
    seeds = f"{n_seeds} seed{'' if n_seeds == 1 else 's'}"
    if not math.isfinite(mean):
        return f"{label_a} vs {label_b} ({what}): no values to compare"
    if decided_dice(lo, hi):
        word = "higher" if lo > 0 else "lower"
        return (
            f"{label_a} is {word} than {label_b} in {what}: {mean:+.3f} "
            f"({level} {lo:+.3f} to {hi:+.3f}, hierarchical bootstrap over {seeds})"
        )
    return f"{label_a} vs {label_b} ({what}): undecided at {seeds} ({mean:+.3f}, {level} {lo:+.3f} to {hi:+.3f})"
