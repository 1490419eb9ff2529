"""The recommender contract shared by every algorithm, and the vectorised top-k.

Every recommender is ``fit(interactions) -> self`` and
``recommend(customer_ids, k, *, exclude_items=None) -> DataFrame`` with one row per
(customer, recommended item): ``customer_id, item_id, rank, score, reason, cold_start``.

Subclasses implement two methods on integer codes:

- ``_fit(data)``: learn from :class:`~omnicrm.models.recommend.interactions.Interactions`;
- ``_score(users) -> ndarray (len(users), n_items)``: a score per item, ``NaN`` where the
  model has no opinion (e.g. the repeat recommender scores only items bought before);
- ``_reasons(users, items) -> array of str``: a sentence per recommended pair.

The base class picks the top ``k`` of the model scores with :func:`numpy.argpartition` in
batches of customers (no per-customer Python loop), fills slots the model leaves empty with the
popularity fallback (reason "popular with customers", ``score`` NaN), and answers customers it
has never seen with the cold-start fallback (segment or trending popularity,
``cold_start=True``).

Examples
--------
>>> top_k(np.array([[0.1, 0.9, 0.5], [np.nan, 0.2, 0.3]]), 2)
array([[1, 2],
       [2, 1]])
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.base import JSONModel, check_is_fitted
from omnicrm.models.recommend.interactions import Interactions

OUTPUT_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "item_id",
    "rank",
    "score",
    "reason",
    "cold_start",
)
"""Columns of every ``recommend`` result, in order."""

FALLBACK_REASON = "popular with customers"
BATCH = 2048


def check_k(k: object) -> int:
    """``k`` as a positive int, or an :class:`InputError` naming the value."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise InputError(
            f"k={k!r} is not a positive whole number; ask for k >= 1 recommendations per customer"
        )
    return int(k)


def top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` highest scores per row, best first (NaN last).

    Ties are broken by the lower column index, so results are deterministic.
    """
    n = scores.shape[1]
    k = min(k, n)
    neg = -scores
    neg[np.isnan(neg)] = np.inf
    if k < n:
        part = np.argpartition(neg, k - 1, axis=1)[:, :k]
    else:
        part = np.broadcast_to(np.arange(n), neg.shape).copy()
    vals = np.take_along_axis(neg, part, axis=1)
    order = np.lexsort((part, vals), axis=1)
    return np.take_along_axis(part, order, axis=1)


class Recommender(JSONModel, ABC):
    """Base class: input checks, batching, top-k, fallbacks and the output frame.

    Settings come from ``__init__`` (``get_params``); models are refit from the warehouse
    rather than saved: their output is the ``recommendations`` table.
    """

    _fitted_attributes: tuple[str, ...] = ("data_",)
    batch_size: int = BATCH

    def save(self, path):
        """Not supported: write the ``recommendations`` table instead (jobs.recommend)."""
        raise InputError(
            f"{type(self).__name__} is not saved to a file; refit it from the "
            "warehouse or keep its output (omnicrm.jobs.recommend writes the "
            "recommendations table)"
        )

    @classmethod
    def load(cls, path):
        """Not supported (see :meth:`save`)."""
        raise InputError(f"{cls.__name__} cannot be loaded from a file; refit it")

    # -- to implement ----------------------------------------------------------------------
    @abstractmethod
    def _fit(self, data: Interactions) -> None:
        """Learn from the coded interactions."""

    @abstractmethod
    def _score(self, users: np.ndarray) -> np.ndarray:
        """Scores of every item for the given user codes (rows = users)."""

    def _reasons(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        return np.full(len(users), "recommended for you", dtype=object)

    # -- public ----------------------------------------------------------------------------
    def fit(
        self,
        interactions: pd.DataFrame | Interactions,
        *,
        segments: pd.DataFrame | None = None,
        item_names: Mapping[str, str] | pd.Series | None = None,
    ):
        """Learn from ``interactions`` (``customer_id, item_id, ts`` [+ ``quantity``]).

        Parameters
        ----------
        interactions : pandas.DataFrame or Interactions
            A frame, or interactions already coded (to share the work between models).
        segments : pandas.DataFrame, optional
            ``customer_id, segment`` (e.g. ``rfm_segment`` of ``customer_scores``): cold-start
            customers listed here get their segment's favourites.
        item_names : mapping or Series, optional
            Item id -> display name, used in reasons ("often bought with Greek yogurt").

        Returns
        -------
        self
        """
        from omnicrm.models.recommend.popularity import Fallback

        data = (
            interactions
            if isinstance(interactions, Interactions)
            else Interactions.from_frame(interactions)
        )
        self.segments_ = _segment_series(segments)
        names = pd.Series(data.items, index=data.items, dtype=object)
        if item_names is not None:
            given = pd.Series(item_names, dtype=object).dropna().astype(str)
            names = given.reindex(names.index).fillna(names)
        self.item_names_ = names.to_numpy(dtype=object)
        self.item_index_ = pd.Index(data.items)
        self.customer_index_ = pd.Index(data.customers)
        self.fallback_ = Fallback.build(data, self.segments_)
        self._fit(data)
        self.data_ = data
        return self

    def recommend(
        self,
        customer_ids: Iterable[str] | str,
        k: int = 10,
        *,
        exclude_items: Iterable[str] | pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Top ``k`` items per customer, best first.

        Parameters
        ----------
        customer_ids : iterable of str
            Customers to recommend for; unknown ones get the cold-start fallback.
        k : int
            Recommendations per customer (fewer only when the catalogue runs out).
        exclude_items : iterable of str or DataFrame, optional
            Items never to recommend: a list (for everyone) or a frame of
            ``customer_id, item_id`` pairs (e.g. the open cart of each customer).
            Items unknown to the model are ignored.

        Returns
        -------
        pandas.DataFrame
            ``customer_id, item_id, rank (1..k), score, reason, cold_start``.
        """
        check_is_fitted(self)
        k = check_k(k)
        ids = _customer_array(customer_ids)
        codes = self.customer_index_.get_indexer(ids)
        n_items = len(self.item_index_)
        mask_global, pairs = self._exclusions(ids, exclude_items)
        parts = []
        step = self.batch_size
        for start in range(0, len(ids), step):
            sl = slice(start, start + step)
            parts.append(self._batch(ids[sl], codes[sl], k, n_items, mask_global, pairs, start))
        if not parts:
            return _empty()
        return pd.concat(parts, ignore_index=True)

    # -- internals -------------------------------------------------------------------------
    def _exclusions(self, ids: np.ndarray, exclude):
        mask = np.zeros(len(self.item_index_), dtype=bool)
        pairs = None
        if exclude is None:
            return mask, pairs
        if isinstance(exclude, pd.DataFrame):
            missing = [c for c in ("customer_id", "item_id") if c not in exclude.columns]
            if missing:
                raise InputError(
                    "exclude_items as a frame needs columns customer_id and "
                    f"item_id; it lacks {', '.join(missing)}"
                )
            rows = pd.Index(ids).get_indexer(exclude["customer_id"].astype(str))
            cols = self.item_index_.get_indexer(exclude["item_id"].astype(str))
            keep = (rows >= 0) & (cols >= 0)
            pairs = (rows[keep], cols[keep])
            return mask, pairs
        if isinstance(exclude, str):
            raise InputError(
                f"exclude_items={exclude!r} is one string; pass a list of item "
                f"ids, e.g. [{exclude!r}]"
            )
        cols = self.item_index_.get_indexer([str(x) for x in exclude])
        mask[cols[cols >= 0]] = True
        return mask, pairs

    def _batch(self, ids, codes, k, n_items, mask_global, pairs, offset) -> pd.DataFrame:
        known = codes >= 0
        scores = np.full((len(ids), n_items), np.nan)
        if known.any():
            scores[known] = self._score(codes[known].astype(np.int64))
        blocked = np.broadcast_to(mask_global, scores.shape).copy()
        if pairs is not None:
            sel = (pairs[0] >= offset) & (pairs[0] < offset + len(ids))
            blocked[pairs[0][sel] - offset, pairs[1][sel]] = True
        scores[blocked] = np.nan
        kk = min(k, n_items)
        scored = ~np.isnan(scores)
        if (np.count_nonzero(scored, axis=1) >= kk).all():
            key = scores  # every slot filled by the model: no fallback needed
        else:
            # fallback scores scaled to [0, 1] and placed below every model score
            fallback = self.fallback_.scores(ids, known, self.data_)
            fallback[blocked | scored] = np.nan
            top = np.nanmax(fallback) if np.isfinite(fallback).any() else 1.0
            floor = (np.nanmin(scores) if scored.any() else 0.0) - 2.0
            key = np.where(scored, scores, fallback / top + floor)
        chosen = top_k(key, kk)
        ok = ~np.isnan(np.take_along_axis(key, chosen, 1))
        from_model = np.take_along_axis(scored, chosen, 1)
        row = np.repeat(np.arange(len(ids)), kk).reshape(len(ids), kk)
        ok_flat = ok.ravel()
        r, c = row.ravel()[ok_flat], chosen.ravel()[ok_flat]
        model_pick = from_model.ravel()[ok_flat]
        score = np.where(model_pick, scores[r, c], np.nan)
        reason = np.empty(len(r), dtype=object)
        if model_pick.any():
            reason[model_pick] = self._reasons(codes[r[model_pick]].astype(np.int64), c[model_pick])
        if (~model_pick).any():
            reason[~model_pick] = self.fallback_.reasons(ids[r[~model_pick]], known[r[~model_pick]])
        # ranks 1..n per customer (n < k only when the catalogue runs out)
        rank_flat = _dense_rank(r)
        return pd.DataFrame(
            {
                "customer_id": ids[r],
                "item_id": self.item_index_.to_numpy()[c],
                "rank": rank_flat.astype(np.int64),
                "score": score.astype(np.float64),
                "reason": reason,
                "cold_start": ~known[r],
            }
        )


def _dense_rank(rows: np.ndarray) -> np.ndarray:
    """1, 2, ... within each run of equal values of sorted ``rows``."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    first = np.repeat(start, np.diff(np.r_[start, len(rows)]))
    return np.arange(len(rows)) - first + 1


def _customer_array(customer_ids: Iterable[str] | str) -> np.ndarray:
    if isinstance(customer_ids, str):
        customer_ids = [customer_ids]
    ids = pd.Series(list(customer_ids), dtype=object)
    if ids.isna().any():
        raise InputError("customer_ids contain an empty id; pass customer id strings")
    ids = ids.astype(str)
    if ids.duplicated().any():
        raise InputError(
            f"customer_ids repeat {ids[ids.duplicated()].iloc[0]!r}; pass each customer once"
        )
    return ids.to_numpy(dtype=object)


def _segment_series(segments: pd.DataFrame | None) -> pd.Series:
    if segments is None:
        return pd.Series([], dtype=object)
    if not isinstance(segments, pd.DataFrame) or not {"customer_id", "segment"} <= set(
        segments.columns
    ):
        raise InputError(
            "segments must be a DataFrame with columns customer_id and segment "
            "(e.g. customer_scores renamed rfm_segment -> segment)"
        )
    seg = segments.dropna(subset=["customer_id", "segment"])
    seg = seg.drop_duplicates("customer_id", keep="last")
    return pd.Series(
        seg["segment"].astype(str).to_numpy(),
        index=seg["customer_id"].astype(str).to_numpy(),
        dtype=object,
    )


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series([], dtype=object),
            "item_id": pd.Series([], dtype=object),
            "rank": pd.Series([], dtype=np.int64),
            "score": pd.Series([], dtype=np.float64),
            "reason": pd.Series([], dtype=object),
            "cold_start": pd.Series([], dtype=bool),
        }
    )
