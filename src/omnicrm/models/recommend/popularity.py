"""Popularity: global, by customer segment, and trending (recent vs longer window).

Popularity counts distinct buyers per item (a customer buying milk weekly counts once), so a
few heavy buyers do not make an item "popular".

- ``global``: buyers over the whole history.
- ``segment``: buyers among the customers of the same segment (``segments`` given to ``fit``,
  e.g. the RFM segment of ``customer_scores``); customers without one get global popularity.
- ``trending``: buyers in the last ``recent_days`` times the lift over the longer window:
  ``score = recent * (recent + 1) / (expected + 1)`` with
  ``expected = buyers in the previous long_days * recent_days / long_days``; items popular
  *and* rising come first.

:class:`Fallback` is the same arithmetic used by every recommender: known customers' empty
slots get global popularity, unknown customers (cold start) get their segment's favourites or,
without a segment, the most bought items of the last ``recent_days``.

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"customer_id": ["a", "b", "b", "c"], "item_id": ["x", "x", "y", "y"],
...                   "ts": pd.to_datetime(["2026-01-01", "2026-01-01", "2026-01-02",
...                                         "2026-01-03"])})
>>> recs = PopularityRecommender().fit(f).recommend(["a", "new"], k=1)
>>> recs[["customer_id", "item_id", "cold_start"]].values.tolist()
[['a', 'x', False], ['new', 'x', True]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.recommend.base import FALLBACK_REASON, Recommender
from omnicrm.models.recommend.interactions import Interactions, unique_sorted

KINDS: tuple[str, ...] = ("global", "segment", "trending")


def buyers_per_item(data: Interactions, mask: np.ndarray | None = None) -> np.ndarray:
    """Distinct buyers per item (optionally only among interactions where ``mask``)."""
    if mask is None:
        pairs = data.pairs
    else:
        pairs = unique_sorted(data.user[mask].astype(np.int64) * len(data.items) + data.item[mask])
    return np.bincount(pairs % len(data.items), minlength=len(data.items)).astype(np.float64)


def trending_scores(
    data: Interactions, recent_days: int, long_days: int
) -> tuple[np.ndarray, np.ndarray]:
    """Trending score per item and its lift (recent buyers vs expected from the long window)."""
    today = data.last_day + 1
    recent = buyers_per_item(data, data.day >= today - recent_days)
    past = buyers_per_item(
        data, (data.day < today - recent_days) & (data.day >= today - recent_days - long_days)
    )
    expected = past * recent_days / long_days
    lift = (recent + 1.0) / (expected + 1.0)
    return recent * lift, lift


def segment_buyers(
    data: Interactions, segments: pd.Series
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(segment names, buyers per segment x item matrix, segment code per customer or -1)."""
    names = np.array(sorted(set(segments.to_numpy())), dtype=object)
    code_of = pd.Series(np.arange(len(names)), index=names)
    cust_seg = segments.reindex(data.customers)
    codes = np.where(
        cust_seg.isna(), -1, code_of.reindex(cust_seg.fillna("").to_numpy()).fillna(-1).to_numpy()
    ).astype(np.int64)
    pairs = data.pairs
    users, items = pairs // len(data.items), pairs % len(data.items)
    seg = codes[users]
    keep = seg >= 0
    n_items = len(data.items)
    counts = np.bincount(seg[keep] * n_items + items[keep], minlength=len(names) * n_items)
    counts = counts.reshape(len(names), n_items).astype(np.float64)
    return names, counts, codes


@dataclass
class Fallback:
    """Scores for slots a model leaves empty and for customers it has never seen."""

    global_: np.ndarray
    recent: np.ndarray
    recent_days: int
    segment_names: np.ndarray
    segment_counts: np.ndarray
    segments: pd.Series

    @classmethod
    def build(cls, data: Interactions, segments: pd.Series, recent_days: int = 28) -> Fallback:
        """Count buyers overall, in the last ``recent_days`` and per segment."""
        recent = buyers_per_item(data, data.day >= data.last_day + 1 - recent_days)
        names, counts, _ = segment_buyers(data, segments)
        return cls(
            global_=buyers_per_item(data),
            recent=recent,
            recent_days=recent_days,
            segment_names=names,
            segment_counts=counts,
            segments=segments,
        )

    def _segment_codes(self, ids: np.ndarray) -> np.ndarray:
        seg = self.segments.reindex(ids)
        lookup = pd.Series(np.arange(len(self.segment_names)), index=self.segment_names)
        return lookup.reindex(seg.fillna("\0").to_numpy()).fillna(-1).to_numpy().astype(int)

    def scores(self, ids: np.ndarray, known: np.ndarray, data: Interactions) -> np.ndarray:
        """Fallback score per (customer, item); items nobody bought get NaN."""
        out = np.broadcast_to(self.global_, (len(ids), len(self.global_))).copy()
        cold = ~known
        if cold.any():
            seg = self._segment_codes(ids[cold])
            rows = np.where(
                seg[:, None] >= 0,
                (self.segment_counts[np.maximum(seg, 0)] + self.global_[None, :] * 1e-9)
                if len(self.segment_names)
                else self.recent[None, :],
                self.recent[None, :] + self.global_[None, :] * 1e-9,
            )
            out[cold] = rows
        out[out <= 0] = np.nan
        return out

    def reasons(self, ids: np.ndarray, known: np.ndarray) -> np.ndarray:
        """One sentence per fallback pick."""
        out = np.full(len(ids), FALLBACK_REASON, dtype=object)
        cold = ~known
        if cold.any():
            seg = self.segments.reindex(ids[cold])
            text = np.where(
                seg.isna(),
                f"popular in the last {self.recent_days} days",
                "popular in your segment (" + seg.fillna("").astype(str) + ")",
            )
            out[cold] = text
        return out


class PopularityRecommender(Recommender):
    """Recommend the most bought items: globally, in the customer's segment, or trending.

    Parameters
    ----------
    kind : {"global", "segment", "trending"}
    recent_days : int
        Recent window of ``trending`` (and of the cold-start fallback).
    long_days : int
        Window before the recent one that ``trending`` compares against.

    Examples
    --------
    >>> PopularityRecommender(kind="trending").kind
    'trending'
    """

    def __init__(self, kind: str = "global", recent_days: int = 28, long_days: int = 182):
        self.kind = kind
        self.recent_days = recent_days
        self.long_days = long_days

    def _fit(self, data: Interactions) -> None:
        if self.kind not in KINDS:
            raise InputError(f"kind={self.kind!r} is not one of {', '.join(KINDS)}")
        for name in ("recent_days", "long_days"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"{name}={value!r} must be a positive number of days")
        self.buyers_ = buyers_per_item(data)
        if self.kind == "trending":
            self.popularity_, self.lift_ = trending_scores(data, self.recent_days, self.long_days)
        else:
            self.popularity_ = self.buyers_
        if self.kind == "segment":
            if self.segments_.empty:
                raise InputError(
                    "kind='segment' needs segments: fit(interactions, "
                    "segments=frame with customer_id, segment)"
                )
            names, counts, codes = segment_buyers(data, self.segments_)
            self.segment_names_, self.segment_counts_, self.user_segment_ = names, counts, codes

    def _score(self, users: np.ndarray) -> np.ndarray:
        base = np.where(self.popularity_ > 0, self.popularity_, np.nan)
        out = np.broadcast_to(base, (len(users), len(base))).copy()
        if self.kind == "segment":
            seg = self.user_segment_[users]
            has = seg >= 0
            counts = self.segment_counts_[seg[has]]
            out[has] = np.where(counts > 0, counts + base[None, :] * 1e-9, np.nan)
        return out

    def _reasons(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        if self.kind == "trending":
            lift = np.round(self.lift_[items], 1).astype(str)
            return (
                "trending: " + lift.astype(object) + "x the usual buyers in the last "
                f"{self.recent_days} days"
            )
        if self.kind == "segment":
            seg = self.user_segment_[users]
            names = np.where(seg >= 0, self.segment_names_[np.maximum(seg, 0)], "")
            return np.where(
                seg >= 0, "popular in your segment (" + names.astype(object) + ")", FALLBACK_REASON
            ).astype(object)
        n = self.buyers_[items].astype(np.int64).astype(str).astype(object)
        return "popular: bought by " + n + " customers"
