"""Ranking and probability metrics of a churn score: ROC AUC, PR AUC, top-decile lift, Brier.

Definitions (``y`` = 1 for a churned customer, ``s`` the score, higher = more likely to churn):

- **ROC AUC**: probability that a random churner scores above a random non-churner, ties
  counting one half (Mann-Whitney U / (n1 n0), computed from average ranks).
- **PR AUC**: average precision, ``sum_k (R_k - R_{k-1}) P_k`` over the distinct score
  thresholds from the highest down (tied scores form one threshold), as in scikit-learn.
- **Lift in the top decile**: churn rate among the ``ceil(n / 10)`` highest scores divided by
  the overall churn rate (1 = no better than random). Ties at the cut are broken by row order.
- **Brier score**: mean of ``(s - y)^2`` for a probability ``s`` (lower is better).

Examples
--------
>>> y = [1, 0, 1, 0, 0]
>>> s = [0.9, 0.8, 0.7, 0.2, 0.1]
>>> round(roc_auc(y, s), 4), round(pr_auc(y, s), 4), brier(y, [1, 0, 1, 0, 0])
(0.8333, 0.8333, 0.0)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata

from omnicrm.errors import InputError


def _arrays(y: object, score: object) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(y)
    values = np.asarray(score, dtype="float64")
    if labels.ndim != 1 or values.ndim != 1 or len(labels) != len(values):
        raise InputError(
            f"labels and scores must be two 1-d arrays of the same length, got shapes "
            f"{labels.shape} and {values.shape}"
        )
    if len(labels) == 0:
        raise InputError("no customers to evaluate: labels and scores are empty")
    if not np.isin(labels, (0, 1, True, False)).all():
        raise InputError("labels must be 0/1 or booleans (1 = churned)")
    if not np.isfinite(values).all():
        raise InputError(
            f"scores contain {int((~np.isfinite(values)).sum())} missing or "
            "infinite values; score every customer"
        )
    return labels.astype("int64"), values


def _both_classes(y: np.ndarray, metric: str) -> tuple[int, int]:
    pos = int(y.sum())
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        raise InputError(
            f"{metric} needs both churned and retained customers; all {len(y)} are "
            f"{'churned' if neg == 0 else 'retained'}: use a longer history or another as_of"
        )
    return pos, neg


def roc_auc(y: object, score: object) -> float:
    """Area under the ROC curve (see the module doc)."""
    y, s = _arrays(y, score)
    pos, neg = _both_classes(y, "ROC AUC")
    ranks = rankdata(s)  # average ranks for ties
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2) / (pos * neg))


def pr_auc(y: object, score: object) -> float:
    """Average precision (area under the precision-recall curve, step-wise)."""
    y, s = _arrays(y, score)
    pos, _ = _both_classes(y, "PR AUC")
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[last_of_tie]
    precision = tp / (last_of_tie + 1)
    recall = tp / pos
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def lift_at(y: object, score: object, fraction: float = 0.1) -> float:
    """Churn rate in the top ``fraction`` of scores over the overall churn rate."""
    if not 0 < fraction <= 1:
        raise InputError(f"fraction = {fraction!r} must be in (0, 1], e.g. 0.1 for a decile")
    y, s = _arrays(y, score)
    _both_classes(y, "lift")
    top = max(1, math.ceil(len(y) * fraction))
    chosen = np.argsort(-s, kind="stable")[:top]
    return float(y[chosen].mean() / y.mean())


def brier(y: object, probability: object) -> float:
    """Mean squared difference between the probability and the 0/1 outcome."""
    y, p = _arrays(y, probability)
    if (p < 0).any() or (p > 1).any():
        raise InputError("Brier score needs probabilities in [0, 1]")
    return float(np.mean((p - y) ** 2))


def score_metrics(y: object, score: object, *, probability: bool = True) -> dict[str, float]:
    """All four metrics (Brier only for a probability) plus ``customers`` and ``churn_rate``.

    Examples
    --------
    >>> m = score_metrics([1, 0, 1, 0], [0.8, 0.3, 0.6, 0.4])
    >>> m["roc_auc"], m["lift_top_decile"], m["churn_rate"]
    (1.0, 2.0, 0.5)
    """
    labels = np.asarray(y).astype("int64")
    out = {
        "customers": len(labels),
        "churn_rate": float(labels.mean()) if len(labels) else float("nan"),
        "roc_auc": roc_auc(labels, score),
        "pr_auc": pr_auc(labels, score),
        "lift_top_decile": lift_at(labels, score, 0.1),
    }
    if probability:
        out["brier"] = brier(labels, score)
    return out
