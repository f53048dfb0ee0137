"""Step 6 of the method: layer scores combine into the reliability index, quality first.

Sand Cone: a partner gets no credit for dependability beyond what its quality supports,
nor for speed beyond its dependability. Layer scores are shrunk before they are
combined, so the index inherits the protection against small samples; the raw index
(from unshrunk layers) and the plain weighted score (no cap) are reported beside it.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

from scoring.config import LAYERS, SandCone
from scoring.indices import shrunk_scores

DRAWS = 1000
"""Posterior draws per target for the index's interval (seeded: same data, same interval)."""


def rater_layer_scores(dimension_scores: pd.DataFrame) -> pd.DataFrame:
    """Return each rater's layer scores: the mean of the rater's dimension scores in the layer."""
    keys = ["cycle", "target", "rater", "rater_org", "layer"]
    return dimension_scores.groupby(keys, sort=True, observed=True)["score"].mean().reset_index()


def capped_index(layers: np.ndarray, sand_cone: SandCone) -> tuple[np.ndarray, np.ndarray]:
    """Return (index, plain score) for layer scores in the last axis, ordered as LAYERS.

    Notes
    -----
    e₁ = s₁, eₖ = min(sₖ, eₖ₋₁ + margin); index = Σ wₖ eₖ / Σ wₖ; plain = Σ wₖ sₖ / Σ wₖ.
    With margin None the index equals the plain score.

    Examples
    --------
    >>> cone = SandCone()
    >>> index, plain = capped_index(np.array([60.0, 80.0, 90.0, 95.0]), cone)
    >>> float(index), float(plain)
    (70.0, 75.5)
    """
    weights = np.array([sand_cone.weights[layer] for layer in LAYERS], dtype=float)
    weights = weights / weights.sum()
    return effective_layers(layers, sand_cone) @ weights, layers @ weights


def effective_layers(layers: np.ndarray, sand_cone: SandCone) -> np.ndarray:
    """Return the layer scores the index counts: each capped at the layer below plus margin.

    Notes
    -----
    e₁ = s₁, eₖ = min(sₖ, eₖ₋₁ + margin); with margin None, eₖ = sₖ.

    Examples
    --------
    >>> effective_layers(np.array([60.0, 80.0, 90.0, 95.0]), SandCone()).tolist()
    [60.0, 70.0, 80.0, 90.0]
    """
    effective = np.array(layers, dtype=float, copy=True)
    if sand_cone.margin is None:
        return effective
    for k in range(1, len(LAYERS)):
        effective[..., k] = np.minimum(layers[..., k], effective[..., k - 1] + sand_cone.margin)
    return effective


def reliability_indices(
    dimension_scores: pd.DataFrame, sand_cone: SandCone, ci: float = 0.90, seed: int = 0
) -> pd.DataFrame:
    """Return each target's reliability index with its interval, per cycle.

    Parameters
    ----------
    dimension_scores
        Rater dimension scores of one instrument (`scoring.items.rater_dimension_scores`).
    sand_cone
        Weights and margin.
    ci
        Level of the index's interval.
    seed
        Seed of the posterior draws, combined with each cycle's key: the same answers
        give the same interval whatever other cycles are scored with them.

    Notes
    -----
    Each layer is shrunk as in `scoring.indices.shrunk_scores` (raters nested in targets,
    per cycle and layer). The interval is empirical-Bayes: each target's true layer
    scores are taken as normal around the shrunk scores with the layers' posterior
    standard deviations √(λσ²/n), correlated as raters' layer scores are correlated
    within targets (one pooled correlation matrix per cycle); DRAWS draws pass through
    the capped composite and the interval is their central `ci` share. The synthetic
    world checks that the nominal 90% interval covers the true index for about 90% of
    targets.

    Returns
    -------
    DataFrame
        cycle, target, n_raters, reliability_index, ri_low, ri_high, raw_index,
        plain_score, one column per layer (shrunk), one `raw_<layer>` per layer, one
        `n_<layer>` per layer (its raters, 0 if none), `lambda` (mean over layers). A
        target lacking a layer has NaN index values.
    """
    layers = rater_layer_scores(dimension_scores)
    shrunk = shrunk_scores(layers, ["cycle", "layer"])
    wide = shrunk.pivot_table(
        index=["cycle", "target"],
        columns="layer",
        values=["shrunk", "mean", "posterior_sd", "lambda", "n_raters"],
        aggfunc="first",
        dropna=False,
        observed=True,
    )
    raters = layers.groupby(["cycle", "target"], sort=True, observed=True)["rater"].nunique()
    # dropna=False keeps all-NaN value columns, and with them unrated (cycle, target) pairs
    wide = wide[wide.index.isin(raters.index)]
    out = pd.DataFrame(index=wide.index)
    out["n_raters"] = raters.reindex(wide.index).to_numpy()
    shrunk_layers = _layer_matrix(wide, "shrunk")
    raw_layers = _layer_matrix(wide, "mean")
    sds = _layer_matrix(wide, "posterior_sd")
    out["reliability_index"], out["plain_score"] = capped_index(shrunk_layers, sand_cone)
    out["raw_index"], _ = capped_index(raw_layers, sand_cone)
    low = np.full(len(out), np.nan)
    high = np.full(len(out), np.nan)
    cycles = out.index.get_level_values("cycle").to_numpy()
    for cycle in np.unique(cycles):
        # seeded per cycle, so a cycle's interval does not depend on which cycles precede it
        rng = np.random.default_rng([seed, zlib.crc32(str(cycle).encode())])
        rows = np.flatnonzero(cycles == cycle)
        correlation = _within_target_correlation(layers[layers["cycle"] == cycle])
        chol = np.linalg.cholesky(correlation)
        z = rng.standard_normal((DRAWS, len(LAYERS))) @ chol.T  # shared draws, one cycle
        # an unknown spread stays unknown (NaN), never a falsely certain 0
        draws = shrunk_layers[rows][None, :, :] + z[:, None, :] * sds[rows][None, :, :]
        index, _ = capped_index(draws, sand_cone)
        tail = (1 - ci) / 2
        low[rows] = np.quantile(index, tail, axis=0)
        high[rows] = np.quantile(index, 1 - tail, axis=0)
    # the smallest number of raters behind any layer: what anonymity must be judged on
    layer_raters = _layer_matrix(wide, "n_raters")
    out["min_layer_raters"] = np.nanmin(layer_raters, axis=1, initial=np.inf)
    for k, layer in enumerate(LAYERS):
        out[f"n_{layer}"] = np.nan_to_num(layer_raters[:, k])
    out["ri_low"], out["ri_high"] = low, high
    for k, layer in enumerate(LAYERS):
        out[layer] = shrunk_layers[:, k]
        out[f"raw_{layer}"] = raw_layers[:, k]
    lambdas = _layer_matrix(wide, "lambda")
    known = np.isfinite(lambdas)
    with np.errstate(invalid="ignore", divide="ignore"):  # no known λ: NaN, as documented
        out["lambda"] = np.where(known, lambdas, 0).sum(axis=1) / known.sum(axis=1)
    return out.reset_index()


def _layer_matrix(wide: pd.DataFrame, value: str) -> np.ndarray:
    """Return an (n targets × 4 layers) array of one value, NaN where a layer is missing."""
    table = wide[value] if value in wide.columns.get_level_values(0) else pd.DataFrame()
    matrix: np.ndarray = table.reindex(columns=list(LAYERS)).to_numpy(dtype=float)
    return matrix


def _within_target_correlation(layers: pd.DataFrame) -> np.ndarray:
    """Return the pooled within-target correlation of raters' layer scores (4 × 4).

    Deviations of each rater's layer scores from their target's layer means are pooled
    over targets; the result is made positive definite, so it can be factorised.
    """
    wide = layers.pivot_table(
        index=["target", "rater"], columns="layer", values="score", aggfunc="first"
    ).reindex(columns=list(LAYERS))
    deviations = wide - wide.groupby(level="target").transform("mean")
    correlation = deviations.corr(min_periods=3).to_numpy()
    correlation = np.where(np.isfinite(correlation), correlation, 0.0)
    np.fill_diagonal(correlation, 1.0)
    values, vectors = np.linalg.eigh(correlation)
    values = np.clip(values, 1e-6, None)
    fixed = vectors @ np.diag(values) @ vectors.T
    scale = np.sqrt(np.diag(fixed))
    return np.asarray(fixed / np.outer(scale, scale))
