"""Personal repeat purchase: what this customer buys again, and when it is due.

For every (customer, item) bought on ``n`` distinct days, the last on day ``last``:

- decayed frequency ``f = sum_d 0.5 ** ((today - d) / half_life_days)`` over the purchase
  days (recent habits weigh more; Ding & Li 2005, "Time weight collaborative filtering");
- for an item bought on at least ``min_purchases`` days, the repurchase cycle ``gap`` = median
  of the gaps between consecutive purchase days, and how due it is over the next
  ``horizon_days``: ``r = (today - last + horizon_days) / gap``;
  ``due = r`` while ``r <= 1`` (not yet due: the share of the cycle elapsed) and
  ``exp(-(r - 1) / lapse_cycles)`` once overdue (a habit skipped for cycles may have lapsed).
  Score ``f * due``, reason "you buy this every ~14 days";
- an item bought on fewer days scores ``f * one_off_weight`` ("you bought this before").

Items the customer never bought get no score, so their slots fall back to popularity.
:class:`PersonalFrequencyRecommender` is the plain baseline: each customer's most often bought
items.

Examples
--------
>>> import pandas as pd
>>> days = pd.to_datetime(["2026-01-01", "2026-01-08", "2026-01-15", "2026-01-10"])
>>> f = pd.DataFrame({"customer_id": ["a", "a", "a", "a"], "item_id": ["milk"] * 3 + ["tv"],
...                   "ts": days})
>>> RepeatPurchaseRecommender().fit(f).recommend(["a"], k=2).reason.tolist()
['you buy this every ~7 days', 'you bought this before']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from omnicrm.errors import InputError
from omnicrm.models.recommend.base import Recommender
from omnicrm.models.recommend.interactions import Interactions, unique_sorted


def purchase_days(data: Interactions) -> pd.DataFrame:
    """Distinct (user, item, day) rows sorted by pair and day, with the pair's code."""
    n_items = len(data.items)
    first = int(data.day.min())
    span = data.last_day - first + 1
    pair = data.user.astype(np.int64) * n_items + data.item
    key = unique_sorted(pair * span + (data.day - first))
    return pd.DataFrame({"pair": key // span, "day": key % span + first})


def pair_statistics(data: Interactions, half_life_days: float) -> pd.DataFrame:
    """Per (user, item): purchase days ``n``, ``last`` day, median ``gap`` and decayed ``f``."""
    days = purchase_days(data)
    today = data.last_day + 1
    days["w"] = 0.5 ** ((today - days["day"]) / half_life_days)
    same = days["pair"].eq(days["pair"].shift())
    days["gap"] = days["day"].diff().where(same)
    stats = days.groupby("pair", sort=True).agg(
        n=("day", "size"), last=("day", "max"), gap=("gap", "median"), f=("w", "sum")
    )
    stats.index = stats.index.astype(np.int64)
    return stats


class _PairScores(Recommender):
    """Shared machinery: a sparse customer x item score matrix and per-pair facts."""

    def _store(self, data: Interactions, stats: pd.DataFrame, score: np.ndarray) -> None:
        n_items = len(data.items)
        pairs = stats.index.to_numpy()
        self.pairs_ = pairs
        self.pair_stats_ = stats
        self.scores_ = sp.csr_matrix((score, (pairs // n_items, pairs % n_items)), shape=data.shape)
        self.today_ = data.last_day + 1

    def _score(self, users: np.ndarray) -> np.ndarray:
        dense = self.scores_[users].toarray()
        dense[dense <= 0] = np.nan
        return dense

    def _lookup(self, users: np.ndarray, items: np.ndarray) -> pd.DataFrame:
        code = users.astype(np.int64) * len(self.item_index_) + items
        pos = np.searchsorted(self.pairs_, code)
        return self.pair_stats_.iloc[pos]


class RepeatPurchaseRecommender(_PairScores):
    """Recommend what a customer buys regularly, by how due it is (see the module doc).

    Parameters
    ----------
    half_life_days : float
        Purchases this many days old weigh half as much as today's.
    min_purchases : int
        Distinct purchase days needed to estimate a repurchase cycle.
    horizon_days : int
        The recommendations are for purchases within this many days.
    lapse_cycles : float
        An item overdue by this many cycles has its score divided by e.
    one_off_weight : float
        Weight of items bought too rarely to have a cycle.

    Examples
    --------
    >>> RepeatPurchaseRecommender(half_life_days=60).half_life_days
    60
    """

    def __init__(
        self,
        half_life_days: float = 90,
        min_purchases: int = 2,
        horizon_days: int = 7,
        lapse_cycles: float = 2.0,
        one_off_weight: float = 0.1,
    ):
        self.half_life_days = half_life_days
        self.min_purchases = min_purchases
        self.horizon_days = horizon_days
        self.lapse_cycles = lapse_cycles
        self.one_off_weight = one_off_weight

    def _check(self) -> None:
        for name in ("half_life_days", "lapse_cycles", "one_off_weight"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
                raise InputError(f"{name}={v!r} must be a positive number")
        for name in ("min_purchases", "horizon_days"):
            v = getattr(self, name)
            if (
                isinstance(v, bool)
                or not isinstance(v, int)
                or v < (2 if name == "min_purchases" else 0)
            ):
                raise InputError(
                    f"{name}={v!r} must be a whole number "
                    f"(>= {2 if name == 'min_purchases' else 0})"
                )

    def _fit(self, data: Interactions) -> None:
        self._check()
        stats = pair_statistics(data, self.half_life_days)
        today = data.last_day + 1
        regular = (stats["n"] >= self.min_purchases) & (stats["gap"] > 0)
        gap = stats["gap"].where(regular, 1.0).to_numpy()
        r = (today - stats["last"].to_numpy() + self.horizon_days) / gap
        due = np.where(r <= 1, r, np.exp(-(r - 1) / self.lapse_cycles))
        score = stats["f"].to_numpy() * np.where(regular, due, self.one_off_weight)
        stats["regular"] = regular
        self._store(data, stats, np.maximum(score, 1e-12))

    def _reasons(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        facts = self._lookup(users, items)
        gap = np.maximum(np.rint(facts["gap"].fillna(0).to_numpy()), 1).astype(np.int64)
        regular = facts["regular"].to_numpy()
        return np.where(
            regular,
            "you buy this every ~" + gap.astype(str).astype(object) + " days",
            "you bought this before",
        ).astype(object)


class PersonalFrequencyRecommender(_PairScores):
    """Baseline: each customer's most often bought items (distinct purchase days).

    Ties go to the more recent last purchase.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"customer_id": ["a"] * 3, "item_id": ["x", "x", "y"],
    ...                   "ts": pd.to_datetime(["2026-01-01", "2026-01-05", "2026-01-09"])})
    >>> PersonalFrequencyRecommender().fit(f).recommend(["a"], k=2).item_id.tolist()
    ['x', 'y']
    """

    def __init__(self):
        pass

    def _fit(self, data: Interactions) -> None:
        stats = pair_statistics(data, half_life_days=1.0)
        recency = (stats["last"].to_numpy() - data.day.min() + 1) / (
            data.last_day - data.day.min() + 2
        )
        self._store(data, stats, stats["n"].to_numpy() + 0.5 * recency)

    def _reasons(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        n = self._lookup(users, items)["n"].to_numpy().astype(np.int64)
        return np.where(
            n > 1,
            "you bought this " + n.astype(str).astype(object) + " times",
            "you bought this before",
        ).astype(object)
