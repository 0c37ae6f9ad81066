"""Guards against backtest overfitting: the deflated Sharpe ratio and PBO by CSCV.

- D. H. Bailey and M. López de Prado, "The Deflated Sharpe Ratio: Correcting for Selection Bias,
  Backtest Overfitting and Non-Normality", Journal of Portfolio Management 40(5), 2014.
- D. H. Bailey, J. Borwein, M. López de Prado and Q. J. Zhu, "The Probability of Backtest
  Overfitting", Journal of Computational Finance 20(4), 2017.

Sharpe ratios here are per observation (not annualised), as in both papers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from statarb._typing import Float64Array
from statarb.errors import InputError

EULER_GAMMA = 0.5772156649015329


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def sharpe_moments(r: Float64Array) -> tuple[float, float, float]:
    """Per-observation Sharpe (ddof 1), skewness and (non-excess) kurtosis (biased moments)."""
    sd = float(r.std(ddof=1))
    sr = float(r.mean()) / sd if sd > 0 else math.nan
    c = r - r.mean()
    m2 = float(np.mean(c * c))
    if m2 <= 0:
        return sr, 0.0, 3.0
    return sr, float(np.mean(c**3)) / m2**1.5, float(np.mean(c**4)) / m2**2


def probabilistic_sharpe(
    sharpe: float, n_obs: int, *, skew: float = 0.0, kurtosis: float = 3.0, benchmark: float = 0.0
) -> float:
    """Probability that the true Sharpe exceeds ``benchmark`` (Bailey and López de Prado, 2012).

    ``Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2))``.
    """
    from scipy.stats import norm

    den = 1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe * sharpe
    if n_obs < 2 or not den > 0 or not math.isfinite(sharpe):
        return math.nan
    return float(norm.cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / math.sqrt(den)))


def expected_max_sharpe(n_trials: int, var_sharpe: float) -> float:
    """Expected maximum of ``n_trials`` Sharpe estimates with true Sharpe 0 (the DSR threshold).

    ``sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))``.
    """
    from scipy.stats import norm

    if n_trials < 1:
        raise InputError(f"n_trials must be at least 1, got {n_trials!r}")
    if n_trials == 1:
        return 0.0
    z1 = norm.ppf(1.0 - 1.0 / n_trials)
    z2 = norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return math.sqrt(max(var_sharpe, 0.0)) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2)


@dataclass(frozen=True)
class DeflatedSharpe:
    """The deflated Sharpe ratio of the selected strategy.

    ``dsr`` is the probability that its true Sharpe exceeds ``sr0``, the Sharpe expected from the
    best of ``n_trials`` strategies without skill; ``significant`` is ``dsr > 0.95``.
    """

    sharpe: float
    sr0: float
    dsr: float
    n_trials: int
    var_trials: float
    n_obs: int
    skew: float
    kurtosis: float

    @property
    def significant(self) -> bool:
        """True when DSR exceeds 0.95."""
        return bool(self.dsr > 0.95)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields with ``significant``."""
        return _clean({**asdict(self), "significant": self.significant})

    def summary(self) -> str:
        """One line of text."""
        verdict = "significant" if self.significant else "not significant"
        return (
            f"deflated Sharpe {self.dsr:.3f} ({verdict}): Sharpe/bar {self.sharpe:.4g} vs "
            f"{self.sr0:.4g} expected from the best of {self.n_trials} tries"
        )


def deflated_sharpe(
    returns: Any,
    *,
    trial_sharpes: Any = None,
    n_trials: int | None = None,
    var_trials: float | None = None,
) -> DeflatedSharpe:
    """Deflated Sharpe ratio of ``returns`` (the chosen configuration's per-bar returns).

    Give ``trial_sharpes`` (per-bar Sharpe of every configuration tried), or ``n_trials`` and
    ``var_trials`` (the variance of those Sharpes).
    """
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or len(r) < 3 or not np.isfinite(r).all():
        raise InputError("returns must be a finite 1-D series of at least 3 values")
    if trial_sharpes is not None:
        ts = np.asarray(trial_sharpes, dtype=np.float64)
        ts = ts[np.isfinite(ts)]
        n_trials = len(ts) if n_trials is None else n_trials
        var_trials = float(ts.var(ddof=1)) if len(ts) > 1 else 0.0
    if n_trials is None or var_trials is None:
        raise InputError("give trial_sharpes, or n_trials and var_trials")
    sr, skew, kurt = sharpe_moments(r)
    sr0 = expected_max_sharpe(int(n_trials), var_trials)
    dsr = probabilistic_sharpe(sr, len(r), skew=skew, kurtosis=kurt, benchmark=sr0)
    return DeflatedSharpe(sr, sr0, dsr, int(n_trials), float(var_trials), len(r), skew, kurt)


@dataclass(frozen=True)
class PBOResult:
    """Probability of backtest overfitting by combinatorially symmetric cross-validation.

    ``logits`` holds ``log(w / (1 - w))`` of each split, ``w`` the relative out-of-sample rank of
    the in-sample best configuration; ``pbo`` is the share of splits with ``logit <= 0``.
    ``degradation_slope`` regresses out-of-sample on in-sample Sharpe of the chosen ones and
    ``prob_loss`` is the share of splits where the chosen one lost out of sample.
    """

    pbo: float
    n_splits: int
    n_configs: int
    blocks: int
    logits: Float64Array
    is_sharpe: Float64Array
    oos_sharpe: Float64Array

    @property
    def prob_loss(self) -> float:
        """Share of splits whose chosen configuration has a negative out-of-sample Sharpe."""
        return float(np.mean(self.oos_sharpe < 0))

    @property
    def degradation_slope(self) -> float:
        """Slope of out-of-sample on in-sample Sharpe over the splits."""
        if np.ptp(self.is_sharpe) == 0:
            return math.nan
        return float(np.polyfit(self.is_sharpe, self.oos_sharpe, 1)[0])

    def to_dict(self) -> dict[str, Any]:
        """Scalars only (JSON-safe)."""
        return _clean(
            {
                "pbo": self.pbo,
                "n_splits": self.n_splits,
                "n_configs": self.n_configs,
                "blocks": self.blocks,
                "prob_loss": self.prob_loss,
                "degradation_slope": self.degradation_slope,
                "median_logit": float(np.median(self.logits)),
            }
        )

    def summary(self) -> str:
        """One line of text."""
        return (
            f"PBO {self.pbo:.2f} over {self.n_splits} CSCV splits of {self.n_configs} "
            "configurations "
            f"({self.blocks} blocks), P(loss out of sample) {self.prob_loss:.2f}"
        )


def pbo_cscv(returns: Any, *, blocks: int = 16) -> PBOResult:
    """PBO of choosing the best-Sharpe column of ``returns`` (rows: time, columns: configurations).

    The rows are cut into ``blocks`` contiguous blocks (even count, trailing rows dropped); every
    half of the blocks is once the training set and its complement the test set. Ranks break ties
    by averaging.
    """
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise InputError("returns must be a 2-D matrix with one column per configuration (>= 2)")
    if blocks < 2 or blocks % 2:
        raise InputError(f"blocks must be an even number >= 2, got {blocks!r}")
    t, n = m.shape
    size = t // blocks
    if size < 2:
        raise InputError(f"{t} rows are too few for {blocks} blocks of at least 2 rows")
    if not np.isfinite(m[: size * blocks]).all():
        raise InputError("returns has non-finite values")
    b = m[: size * blocks].reshape(blocks, size, n)
    return _pbo_from_blocks(b.sum(axis=1), (b * b).sum(axis=1), size)


def _pbo_from_blocks(s1: Float64Array, s2: Float64Array, size: int) -> PBOResult:
    """CSCV from per-block sums of returns ``s1`` and squared returns ``s2`` (blocks x configs)."""
    from statarb.backtest._overfit_kernels import cscv_kernel

    blocks, n = s1.shape
    train = np.array(list(itertools.combinations(range(blocks), blocks // 2)), dtype=np.int64)
    logits, is_sr, oos_sr = cscv_kernel(
        train, np.ascontiguousarray(s1), np.ascontiguousarray(s2), size
    )
    return PBOResult(float(np.mean(logits <= 0)), len(logits), n, blocks, logits, is_sr, oos_sr)


@dataclass(frozen=True)
class TrialStats:
    """What the guards need from each configuration's bar returns, without keeping them.

    Per configuration: per-block sums of returns and of squared returns (``blocks`` x configs,
    ``block_size`` bars each, trailing bars dropped), and the Sharpe, skewness and kurtosis of
    all ``n_obs`` returns. :func:`trial_stats` builds one column from a return series.
    """

    block_sums: Float64Array
    block_squares: Float64Array
    block_size: int
    sharpe: Float64Array
    skew: Float64Array
    kurtosis: Float64Array
    n_obs: int

    @classmethod
    def from_columns(cls, columns: list[tuple[Any, ...]]) -> TrialStats:
        """Stack :func:`trial_stats` outputs of configurations run on the same bars."""
        if not columns:
            raise InputError("no configuration to summarise")
        s1, s2, size, sr, sk, ku, n = zip(*columns, strict=True)
        if len(set(n)) != 1 or len(set(size)) != 1:
            raise InputError("configurations were not run on the same bars")
        return cls(np.column_stack(s1), np.column_stack(s2), size[0], np.array(sr),
                   np.array(sk), np.array(ku), n[0])  # fmt: skip


def blocks_for(n_obs: int, blocks: int = 16) -> int:
    """CSCV block count for ``n_obs`` bars: ``blocks``, lowered to an even count with at least 2
    bars per block (0 when fewer than 4 blocks fit)."""
    nb = min(blocks, (n_obs // 2) // 2 * 2)
    return nb if nb >= 4 else 0


def trial_stats(returns: Any, *, blocks: int) -> tuple[Any, ...]:
    """One configuration's entry of :class:`TrialStats` (``blocks`` from :func:`blocks_for`)."""
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 1 or len(r) < 3 or not np.isfinite(r).all():
        raise InputError("returns must be a finite 1-D series of at least 3 values")
    from statarb.backtest._overfit_kernels import trial_kernel

    s1, s2, size, sr, sk, ku = trial_kernel(r, int(blocks))
    return s1, s2, int(size), float(sr), float(sk), float(ku), len(r)


def overfit_from_trials(stats: TrialStats, *, chosen: int | None = None) -> OverfitReport:
    """DSR of the best-Sharpe (or ``chosen``) configuration and PBO by CSCV, from summaries."""
    srs = stats.sharpe
    n_cfg = len(srs)
    if chosen is None:
        chosen = int(np.argmax(np.where(np.isfinite(srs), srs, -np.inf)))
    ok = srs[np.isfinite(srs)]
    var = float(ok.var(ddof=1)) if len(ok) > 1 else 0.0
    sr0 = expected_max_sharpe(n_cfg, var)
    sr, sk, ku = float(srs[chosen]), float(stats.skew[chosen]), float(stats.kurtosis[chosen])
    dsr = probabilistic_sharpe(sr, stats.n_obs, skew=sk, kurtosis=ku, benchmark=sr0)
    ds = DeflatedSharpe(sr, sr0, dsr, n_cfg, var, stats.n_obs, sk, ku)
    pbo = None
    if n_cfg >= 2 and stats.block_sums.shape[0] >= 4:
        pbo = _pbo_from_blocks(stats.block_sums, stats.block_squares, stats.block_size)
    return OverfitReport(n_cfg, ds, pbo)


@dataclass(frozen=True)
class OverfitReport:
    """What a sweep or walk-forward tried, and how much its best result is worth."""

    n_configs: int
    dsr: DeflatedSharpe
    pbo: PBOResult | None

    def to_dict(self) -> dict[str, Any]:
        """Nested JSON-safe dict."""
        return {
            "n_configs": self.n_configs,
            "dsr": self.dsr.to_dict(),
            "pbo": self.pbo.to_dict() if self.pbo is not None else None,
        }

    def summary(self) -> str:
        """Two lines of text."""
        pbo = self.pbo.summary() if self.pbo is not None else "PBO: too few bars or configurations"
        return f"{self.n_configs} configurations tried; {self.dsr.summary()}\n{pbo}"


def overfit_report(returns: Any, *, chosen: int | None = None, blocks: int = 16) -> OverfitReport:
    """DSR of the best (or ``chosen``) column of a returns matrix, and PBO by CSCV.

    PBO is omitted (None) when there are fewer than 2 configurations or too few rows for 4
    blocks; ``blocks`` is lowered to the largest even count that fits.
    """
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 1:
        raise InputError("returns must be a 2-D matrix with one column per configuration")
    nb = blocks_for(m.shape[0], blocks)
    stats = TrialStats.from_columns([trial_stats(m[:, j], blocks=nb) for j in range(m.shape[1])])
    return overfit_from_trials(stats, chosen=chosen)


__all__ = [
    "DeflatedSharpe",
    "OverfitReport",
    "PBOResult",
    "TrialStats",
    "blocks_for",
    "deflated_sharpe",
    "expected_max_sharpe",
    "overfit_from_trials",
    "overfit_report",
    "pbo_cscv",
    "probabilistic_sharpe",
    "sharpe_moments",
    "trial_stats",
]
