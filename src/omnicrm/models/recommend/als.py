"""Implicit-feedback matrix factorisation (ALS) with the ``implicit`` library.

Hu, Koren & Volinsky (2008), "Collaborative Filtering for Implicit Feedback Datasets": the
customer x item matrix of purchase days ``r`` becomes confidences ``1 + alpha * r``; ALS learns
``factors``-dimensional customer and item vectors; a customer's score for an item is their dot
product. The reason names the history item whose vector is closest (cosine) to the
recommended one: "goes with Greek yogurt".

``implicit`` starts one OpenBLAS thread per core for every matrix product unless told
otherwise, which slows ALS down and warns; this module sets ``OPENBLAS_NUM_THREADS=1`` (only if
not already set) before importing it, limits BLAS to one thread while fitting (numpy may have
started OpenBLAS before this module was imported), and fits with ``num_threads`` (default 1)
and a fixed ``random_state``, so results are reproducible.

Examples
--------
>>> import pandas as pd
>>> f = pd.DataFrame({"customer_id": list("aabbc"), "item_id": list("xyxyx"),
...                   "ts": pd.to_datetime(["2026-01-01"] * 5)})
>>> recs = ALSRecommender(factors=2, iterations=3).fit(f).recommend(["c"], k=2)
>>> sorted(recs.item_id)
['x', 'y']
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from threadpoolctl import threadpool_limits

from omnicrm.errors import InputError
from omnicrm.models.recommend.base import Recommender
from omnicrm.models.recommend.interactions import Interactions
from omnicrm.models.recommend.knn import strongest_history_item
from omnicrm.models.recommend.repeat import purchase_days

DENSE_COSINE_ITEMS = 8000
"""Up to this many items, reasons look cosines up in a dense item x item table (float32)."""


class ALSRecommender(Recommender):
    """Implicit ALS (see the module doc).

    Parameters
    ----------
    factors : int
    regularization : float
    alpha : float
        Confidence per purchase day.
    iterations : int
    random_state : int
    num_threads : int
        Threads of the ALS solver (0 = all cores).

    Examples
    --------
    >>> ALSRecommender(factors=16).factors
    16
    """

    def __init__(
        self,
        factors: int = 32,
        regularization: float = 0.05,
        alpha: float = 10.0,
        iterations: int = 10,
        random_state: int = 0,
        num_threads: int = 1,
    ):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.num_threads = num_threads

    def _fit(self, data: Interactions) -> None:
        for name in ("factors", "iterations"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise InputError(f"{name}={v!r} must be a whole number >= 1")
        for name in ("regularization", "alpha"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                raise InputError(f"{name}={v!r} must be a number >= 0")
        days = purchase_days(data)
        n_items = len(data.items)
        user = days["pair"].to_numpy() // n_items
        item = days["pair"].to_numpy() % n_items
        import scipy.sparse as sp

        counts = sp.csr_matrix((np.ones(len(user), np.float32), (user, item)), shape=data.shape)
        counts.sum_duplicates()
        confidence = counts.copy()
        confidence.data = (self.alpha * confidence.data).astype(np.float32)
        with threadpool_limits(1, "blas"):  # numpy may have started OpenBLAS before us
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=1.0,
                iterations=self.iterations,
                random_state=self.random_state,
                num_threads=self.num_threads,
                calculate_training_loss=False,
            )
            model.fit(confidence, show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float64)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float64)
        norms = np.linalg.norm(self.item_factors_, axis=1, keepdims=True)
        self.item_unit_ = self.item_factors_ / np.where(norms > 0, norms, 1.0)
        self.history_ = counts

    def _score(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors_[users] @ self.item_factors_.T

    def _reasons(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        unit = self.item_unit_.astype(np.float32)
        if len(unit) <= DENSE_COSINE_ITEMS:
            if getattr(self, "_cosine", None) is None:
                self._cosine = unit @ unit.T  # item x item, built once on first use

            def cosine(hist: np.ndarray, target: np.ndarray) -> np.ndarray:
                return self._cosine[hist, target]
        else:

            def cosine(hist: np.ndarray, target: np.ndarray) -> np.ndarray:
                out = np.empty(len(hist), dtype=np.float32)
                for s in range(0, len(hist), 1 << 18):  # bounded memory, few chunks
                    sl = slice(s, s + (1 << 18))
                    out[sl] = np.einsum("ij,ij->i", unit[hist[sl]], unit[target[sl]])
                return out

        best = strongest_history_item(self.history_, users, items, cosine)
        names = self.item_names_[np.maximum(best, 0)]
        return np.where(
            best >= 0,
            "goes with " + names.astype(object),
            "customers with baskets like yours buy this",
        ).astype(object)
