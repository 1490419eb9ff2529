"""A hybrid recommender: component scores blended with weights learned on a time split.

Each component's scores for a customer are scaled to ``[0.1, 1]`` over the items it scores
(min-max per customer, so ALS dot products and repeat scores are comparable) and to 0 where it
has no opinion; the hybrid score is ``sum_c w_c * scaled_c``. The reason of a recommendation
is the reason of the component contributing most to it.

Weights are learned in ``fit`` (unless given): the last ``validation_days`` of the
interactions are held out, the components are fitted on the rest, and a coordinate search over
``grid`` (``passes`` rounds, one component at a time, starting from equal weights) maximises
Recall@``k`` of the held-out purchases of up to ``max_validation_customers`` customers (a seeded
sample). Then the components are refitted on all the interactions. With no held-out customer
(too little history) the weights stay equal and ``weights_source_`` says so.

Examples
--------
>>> from omnicrm.models.recommend import PopularityRecommender, RepeatPurchaseRecommender
>>> h = HybridRecommender(components={"repeat": RepeatPurchaseRecommender(),
...                                   "popular": PopularityRecommender()},
...                       weights={"repeat": 2.0, "popular": 1.0})
>>> h.validation_days
28
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.recommend.base import Recommender, check_k, top_k
from omnicrm.models.recommend.interactions import Interactions

GRID: tuple[float, ...] = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)


def default_components(random_state: int = 0) -> dict[str, Recommender]:
    """Repeat purchase, item-kNN, ALS and trending popularity, with default settings."""
    from omnicrm.models.recommend.als import ALSRecommender
    from omnicrm.models.recommend.knn import ItemKNNRecommender
    from omnicrm.models.recommend.popularity import PopularityRecommender
    from omnicrm.models.recommend.repeat import RepeatPurchaseRecommender

    return {
        "repeat": RepeatPurchaseRecommender(),
        "knn": ItemKNNRecommender(),
        "als": ALSRecommender(random_state=random_state),
        "popularity": PopularityRecommender(kind="trending"),
    }


def scale_rows(scores: np.ndarray) -> np.ndarray:
    """Min-max per row onto [0.1, 1] over scored (non-NaN) entries; 0 elsewhere (float32).

    Examples
    --------
    >>> m = scale_rows(np.array([[2.0, np.nan, 4.0], [5.0, 5.0, np.nan]]))
    >>> m.astype(float).round(2).tolist()
    [[0.1, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    scored = ~np.isnan(scores)
    with np.errstate(all="ignore"):
        lo = np.nanmin(np.where(scored, scores, np.inf), axis=1, keepdims=True)
        hi = np.nanmax(np.where(scored, scores, -np.inf), axis=1, keepdims=True)
        span = hi - lo
        scaled = np.where(span > 0, 0.1 + 0.9 * (scores - lo) / np.where(span > 0, span, 1), 1.0)
    return np.where(scored, scaled, 0.0).astype(np.float32)


def recall_at_k(blend: np.ndarray, truth: np.ndarray, sizes: np.ndarray, k: int) -> float:
    """Mean recall of the top ``k`` columns of ``blend`` against a boolean ``truth`` matrix."""
    best = top_k(np.where(blend > 0, blend, np.nan), k)
    hits = np.take_along_axis(truth, best, axis=1).sum(axis=1)
    return float(np.mean(hits / sizes))


class HybridRecommender(Recommender):
    """Weighted blend of recommenders (see the module doc).

    Parameters
    ----------
    components : mapping of str to Recommender, optional
        Default: :func:`default_components` (repeat, knn, als, popularity).
    weights : mapping of str to float, optional
        Fixed weights; default: learned on the validation window.
    validation_days : int
        Length of the held-out window used to learn the weights.
    k : int
        Recall@k is what the weights maximise.
    grid : sequence of float
        Weights tried for each component.
    passes : int
        Rounds of the coordinate search.
    max_validation_customers : int
        Held-out customers sampled to learn the weights.
    random_state : int
        Seed of the sample and of the default ALS component.
    """

    batch_size = 512

    def __init__(
        self,
        components: Mapping[str, Recommender] | None = None,
        weights: Mapping[str, float] | None = None,
        validation_days: int = 28,
        k: int = 10,
        grid: Sequence[float] = GRID,
        passes: int = 2,
        max_validation_customers: int = 2000,
        random_state: int = 0,
    ):
        self.components = components
        self.weights = weights
        self.validation_days = validation_days
        self.k = k
        self.grid = grid
        self.passes = passes
        self.max_validation_customers = max_validation_customers
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------
    def _templates(self) -> dict[str, Recommender]:
        comps = (
            default_components(self.random_state)
            if self.components is None
            else dict(self.components)
        )
        if not comps:
            raise InputError("components is empty; give at least one recommender")
        for name, comp in comps.items():
            if not isinstance(comp, Recommender) or isinstance(comp, HybridRecommender):
                raise InputError(
                    f"component {name!r} is a {type(comp).__name__}, not a "
                    "recommender from omnicrm.models.recommend"
                )
        return comps

    def fit(
        self, interactions: pd.DataFrame, *, segments: pd.DataFrame | None = None, item_names=None
    ):
        """Learn the weights on a held-out window, then fit every component on everything."""
        check_k(self.k)
        if (
            isinstance(self.validation_days, bool)
            or not isinstance(self.validation_days, int)
            or self.validation_days < 1
        ):
            raise InputError(
                f"validation_days={self.validation_days!r} must be a whole number >= 1"
            )
        templates = self._templates()
        data = (
            interactions
            if isinstance(interactions, Interactions)
            else Interactions.from_frame(interactions)
        )  # coded once, shared
        if self.weights is not None:
            unknown = set(self.weights) - set(templates)
            if unknown or any(float(w) < 0 for w in self.weights.values()):
                raise InputError(
                    f"weights {dict(self.weights)} must be >= 0 and name only "
                    f"the components {', '.join(templates)}"
                )
            self.weights_ = {n: float(self.weights.get(n, 0.0)) for n in templates}
            self.weights_source_ = "given"
            self.validation_ = {}
        else:
            self.weights_, self.weights_source_, self.validation_ = self._learn(
                data, templates, segments
            )
        if not any(w > 0 for w in self.weights_.values()):
            raise InputError("every weight is 0; give at least one positive weight")
        self.components_ = {
            n: _clone(c).fit(data, segments=segments, item_names=item_names)
            for n, c in templates.items()
        }
        return super().fit(data, segments=segments, item_names=item_names)

    def _fit(self, data: Interactions) -> None:
        pass

    def _learn(
        self, data: Interactions, templates: dict[str, Recommender], segments: pd.DataFrame | None
    ):
        equal = dict.fromkeys(templates, 1.0)
        cut = data.last_day + 1 - self.validation_days
        before = data.day < cut
        if not before.any() or before.all():
            return equal, "equal (too little history to hold out a validation window)", {}
        train = data.subset(before)
        fitted = {n: _clone(c).fit(train, segments=segments) for n, c in templates.items()}
        anyone = next(iter(fitted.values()))
        held = ~before
        held_users = np.unique(data.user[held])
        codes = anyone.customer_index_.get_indexer(data.customers[held_users])
        codes = np.sort(codes[codes >= 0])
        if len(codes) == 0:
            return equal, "equal (no validation customer has history)", {}
        if len(codes) > self.max_validation_customers:
            rng = np.random.default_rng(self.random_state)
            codes = np.sort(rng.choice(codes, self.max_validation_customers, replace=False))
        ids = anyone.customer_index_[codes]
        # held-out (customer, item) pairs of the chosen customers, in the train coding
        rows_all = pd.Index(ids).get_indexer(data.customers[data.user[held]])
        items_all = data.item[held]
        pick = rows_all >= 0
        pair = np.unique(rows_all[pick].astype(np.int64) * len(data.items) + items_all[pick])
        rows, items = pair // len(data.items), pair % len(data.items)
        sizes = np.bincount(rows, minlength=len(ids))
        cols = anyone.item_index_.get_indexer(data.items[items])
        truth = np.zeros((len(ids), len(anyone.item_index_)), dtype=bool)
        truth[rows[cols >= 0], cols[cols >= 0]] = True
        scaled = {n: scale_rows(m._score(codes)) for n, m in fitted.items()}
        names = list(templates)
        k = self.k

        def score(w: dict[str, float]) -> float:
            if not any(v > 0 for v in w.values()):
                return -1.0
            blend = sum(np.float32(w[n]) * scaled[n] for n in names if w[n] > 0)
            return recall_at_k(blend, truth, sizes, k)

        alone = {n: score({m: float(m == n) for m in names}) for n in names}
        weights, best = dict(equal), score(equal)
        for _ in range(self.passes):
            for n in names:
                for g in self.grid:
                    if float(g) == weights[n]:
                        continue
                    trial = {**weights, n: float(g)}
                    value = score(trial)
                    if value > best + 1e-12:
                        weights, best = trial, value
        cut_day = str(np.datetime64(int(cut), "D"))
        validation = {
            "cut": cut_day,
            "customers": len(ids),
            f"recall@{k}": best,
            **{f"recall@{k}[{n}]": v for n, v in alone.items()},
        }
        return weights, f"learned (recall@{k} on the last {self.validation_days} days)", validation

    # -- scoring ---------------------------------------------------------------------------
    def _score(self, users: np.ndarray) -> np.ndarray:
        contrib = {
            n: np.float32(w) * scale_rows(self.components_[n]._score(users))
            for n, w in self.weights_.items()
            if w > 0
        }
        blend = sum(contrib.values())
        self._batch_users = users
        self._batch_contrib = contrib
        out = blend.astype(np.float64)
        out[out <= 0] = np.nan
        return out

    def _reasons(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        order = np.argsort(self._batch_users, kind="stable")
        rows = order[np.searchsorted(self._batch_users, users, sorter=order)]
        names = list(self._batch_contrib)
        stacked = np.stack([self._batch_contrib[n][rows, items] for n in names])
        winner = np.argmax(stacked, axis=0)
        out = np.empty(len(users), dtype=object)
        for w, name in enumerate(names):  # one call per component, not per row
            sel = winner == w
            if sel.any():
                out[sel] = self.components_[name]._reasons(users[sel], items[sel])
        return out


def _clone(model: Recommender) -> Recommender:
    return type(model)(**model.get_params())
