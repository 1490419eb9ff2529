"""Behavioural clusters of customers: k-means on standardised features, k by silhouette.

Two parts:

- :func:`cluster_features` is an Ibis expression (runs in the warehouse) with one row per
  customer and the behavioural features listed in :data:`FEATURES`.
- :class:`CustomerClusters` is a scikit-learn-style estimator fitted on the fetched feature
  matrix (pandas/numpy, isolated in this class: it is the one step that runs outside the
  warehouse).
  Skewed features (:data:`LOG_FEATURES`) are log-transformed (``sign(x) * log1p(|x|)``), then
  every feature is standardised to mean 0 and standard deviation 1. K-means (Lloyd, with
  k-means++ starts; scikit-learn) is fitted for each ``k`` in ``k_range`` and the ``k`` with the
  highest mean silhouette (Rousseeuw 1987, *J. Comput. Appl. Math.* 20:53-65) is kept, the
  silhouette being computed on a fixed-seed sample of at most ``silhouette_sample`` customers.
  Clusters are numbered by size, largest first.

Each cluster gets a profile: size, share, the mean of each raw feature, and its **z-score**,
the mean of the standardised feature within the cluster (how many overall standard deviations
the cluster sits above or below the average customer). The name lists the features with the
largest ``|z|`` (at least ``name_threshold``, at most three) in words, e.g.
``"high-frequency, low-basket, online"``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from omnicrm.analytics.clusters import CustomerClusters
>>> rng = np.random.default_rng(0)
>>> frame = pd.DataFrame({
...     "customer_id": [f"c{i}" for i in range(60)],
...     "frequency": np.r_[rng.normal(20, 1, 30), rng.normal(2, 0.5, 30)],
...     "online_share": np.r_[rng.uniform(0.8, 1, 30), rng.uniform(0, 0.2, 30)]})
>>> model = CustomerClusters(k_range=(2, 4), log_features=()).fit(frame)
>>> model.k_, sorted(model.names_.values())
(2, ['high-frequency, online', 'low-frequency, in-store'])
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import ibis
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from omnicrm.analytics.rfm import (
    SALES_COLUMNS,
    as_of_timestamp,
    check_history,
    customer_history,
    days_before,
    require_columns,
)
from omnicrm.errors import InputError, NotFittedError

DIGITAL_CHANNELS: tuple[str, ...] = ("online", "app", "mini_program", "marketplace")
"""Channels counted as online in ``online_share`` (``store`` and ``unmanned`` are physical)."""

FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_basket_value",
    "items_per_order",
    "category_breadth",
    "return_rate",
    "online_share",
    "promo_share",
)
"""Columns of :func:`cluster_features` besides ``customer_id`` (all float64)."""

LOG_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_basket_value",
    "items_per_order",
    "category_breadth",
)
"""Right-skewed features log-transformed before standardising (the default)."""

FEATURE_WORDS: dict[str, tuple[str, str]] = {
    "recency_days": ("lapsed", "recent"),
    "frequency": ("high-frequency", "low-frequency"),
    "monetary": ("high-spend", "low-spend"),
    "avg_basket_value": ("high-basket", "low-basket"),
    "items_per_order": ("many-items", "few-items"),
    "category_breadth": ("broad-range", "narrow-range"),
    "return_rate": ("high-return", "low-return"),
    "online_share": ("online", "in-store"),
    "promo_share": ("deal-seeking", "full-price"),
}
"""Words for a cluster well above / below average on a feature (others: ``high-<name>``)."""


def cluster_features(
    lines: ibis.Table,
    *,
    as_of: date | datetime | str,
    products: ibis.Table | None = None,
    validate: bool = True,
) -> ibis.Table:
    """Behavioural features per customer, as a lazy Ibis expression.

    Parameters
    ----------
    lines : ibis.Table
        Sales lines (``order_lines`` contract), ``customer_id`` the customer key.
    as_of : date, datetime or str
        Only lines with ``order_ts < as_of`` are used.
    products : ibis.Table, optional
        The ``products`` table; ``category_breadth`` then counts distinct categories, without
        it distinct products.
    validate : bool
        Check the input first (one small query).

    Returns
    -------
    ibis.Table
        One row per customer with a purchase: ``customer_id`` and :data:`FEATURES`:
        recency in days, purchase orders, net spend, purchase value per order, units per
        order, distinct categories bought, returned value / purchased value, share of orders
        in :data:`DIGITAL_CHANNELS`, share of purchased value on promotion.
    """
    as_of = as_of_timestamp(as_of)
    needed = (*SALES_COLUMNS, "channel", "product_id", "promotion_id")
    require_columns(lines, needed, "the sales lines table")
    if validate:
        check_history(lines, as_of)
    hist = customer_history(lines, as_of)
    if products is not None:
        require_columns(products, ("product_id", "category"), "the products table")
        catalogue = products.select("product_id", product_category="category")
        hist = hist.left_join(catalogue, "product_id").drop("product_id_right")
        category = hist.product_category.fill_null(hist.product_id)
    else:
        category = hist.product_id
    bought = hist.purchase
    amount = hist.amount.cast("float64")
    agg = hist.group_by("customer_id").aggregate(
        last_purchase_ts=hist.order_ts.max(where=bought),
        frequency=hist.order_id.nunique(where=bought),
        monetary=amount.sum(),
        purchased=amount.sum(where=bought),
        returned=amount.sum(where=~bought),
        units=hist.quantity.cast("float64").sum(where=bought),
        category_breadth=category.nunique(where=bought),
        online_orders=hist.order_id.nunique(where=bought & hist.channel.isin(DIGITAL_CHANNELS)),
        promo=amount.sum(where=bought & hist.promotion_id.notnull()),
    )
    agg = agg.filter(agg.frequency > 0)
    orders = agg.frequency.cast("float64")
    purchased = agg.purchased.fill_null(0.0)
    per_value = purchased > 0
    return agg.select(
        "customer_id",
        recency_days=days_before(as_of, agg.last_purchase_ts).cast("float64"),
        frequency=orders,
        monetary=agg.monetary,
        avg_basket_value=purchased / orders,
        items_per_order=agg.units.fill_null(0.0) / orders,
        category_breadth=agg.category_breadth.cast("float64"),
        return_rate=ibis.ifelse(per_value, -agg.returned.fill_null(0.0) / purchased, 0.0),
        online_share=agg.online_orders.cast("float64") / orders,
        promo_share=ibis.ifelse(per_value, agg.promo.fill_null(0.0) / purchased, 0.0),
    )


class CustomerClusters(ClusterMixin, BaseEstimator):
    """K-means customer clusters with ``k`` chosen by silhouette, and a profile per cluster.

    Parameters
    ----------
    k_range : tuple of int
        Smallest and largest number of clusters tried (inclusive), ``2 <= low <= high``.
    random_state : int
        Seed of k-means and of the silhouette sample.
    features : sequence of str, optional
        Feature columns; default: every numeric column except ``id_column``.
    log_features : sequence of str
        Features log-transformed before standardising (those absent are ignored).
    silhouette_sample : int
        Customers sampled to compute the silhouette (all when fewer).
    n_init : int
        K-means restarts per ``k``.
    name_threshold : float
        Smallest ``|z|`` for a feature to appear in a cluster's name.
    id_column : str
        Customer id column, excluded from the features.

    Attributes
    ----------
    k_ : int
        Chosen number of clusters.
    labels_ : numpy.ndarray
        Cluster of each row of the training frame (0 = largest cluster).
    silhouette_scores_ : dict of int to float
        Mean silhouette for each ``k`` tried.
    cluster_centers_ : numpy.ndarray
        Centres in standardised feature space, shape ``(k_, n_features_in_)``.
    profiles_ : pandas.DataFrame
        One row per cluster: ``cluster``, ``name``, ``size``, ``share``, then ``mean_<f>``
        (raw mean) and ``z_<f>`` (standardised mean) for each feature.
    overall_means_ : pandas.Series
        Raw mean of each feature over all customers.
    names_ : dict of int to str
        Generated cluster names.
    feature_names_in_ : numpy.ndarray
        Features used, in order.
    """

    def __init__(
        self,
        k_range: tuple[int, int] = (2, 8),
        random_state: int = 0,
        features: Sequence[str] | None = None,
        log_features: Sequence[str] = LOG_FEATURES,
        silhouette_sample: int = 5000,
        n_init: int = 4,
        name_threshold: float = 0.5,
        id_column: str = "customer_id",
    ) -> None:
        self.k_range = k_range
        self.random_state = random_state
        self.features = features
        self.log_features = log_features
        self.silhouette_sample = silhouette_sample
        self.n_init = n_init
        self.name_threshold = name_threshold
        self.id_column = id_column

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, data: pd.DataFrame, y: object = None) -> CustomerClusters:
        """Choose ``k``, fit k-means and profile the clusters.

        Parameters
        ----------
        data : pandas.DataFrame
            One row per customer (e.g. ``cluster_features(...).to_pandas()``).
        y : ignored

        Returns
        -------
        CustomerClusters
            ``self``, fitted.
        """
        frame = self._feature_frame(data, fitting=True)
        low, high = self._k_bounds(len(frame))
        space = self._standardise(frame, fit=True)
        distinct = len(np.unique(space, axis=0))
        if distinct <= low:
            raise InputError(
                f"the {len(frame)} customers have only {distinct} distinct feature rows: "
                f"they cannot form {low} clusters; lower k_range {self.k_range!r} or add "
                "customers or features that tell them apart"
            )
        high = min(high, distinct - 1)
        sample = min(int(self.silhouette_sample), len(space))
        scores: dict[int, float] = {}
        fits: dict[int, KMeans] = {}
        for k in range(low, high + 1):
            km = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.random_state)
            labels = km.fit_predict(space)
            fits[k] = km
            if len(np.unique(labels)) < 2:
                scores[k] = -1.0
                continue
            scores[k] = float(
                silhouette_score(space, labels, sample_size=sample, random_state=self.random_state)
            )
        best = max(scores, key=lambda k: (scores[k], -k))
        km = fits[best]
        sizes = np.bincount(km.labels_, minlength=best)
        order = np.lexsort((np.arange(best), -sizes))  # largest first, then k-means' own order
        relabel = np.empty(best, dtype=np.int64)
        relabel[order] = np.arange(best)
        self.kmeans_ = km
        self._relabel = relabel
        self.k_ = best
        self.silhouette_scores_ = scores
        self.labels_ = relabel[km.labels_]
        self.cluster_centers_ = km.cluster_centers_[order]
        self._profile(frame, space)
        return self

    def predict(self, data: pd.DataFrame) -> np.ndarray:
        """Cluster of each row of ``data`` (same feature columns as in ``fit``)."""
        self._check_fitted()
        frame = self._feature_frame(data, fitting=False)
        space = self._standardise(frame, fit=False)
        return self._relabel[self.kmeans_.predict(space)]

    def fit_predict(self, data: pd.DataFrame, y: object = None) -> np.ndarray:
        """Fit on ``data`` and return :attr:`labels_`."""
        return self.fit(data).labels_

    # -- helpers ---------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "kmeans_"):
            raise NotFittedError(
                "this CustomerClusters is not fitted yet: call fit(features) before predict"
            )

    def _k_bounds(self, n_rows: int) -> tuple[int, int]:
        k_range = self.k_range
        valid = (
            isinstance(k_range, tuple | list)
            and len(k_range) == 2
            and all(isinstance(k, int | np.integer) and not isinstance(k, bool) for k in k_range)
        )
        if not valid or not 2 <= k_range[0] <= k_range[1]:
            raise InputError(
                f"k_range {k_range!r} is not valid: give (low, high) whole numbers with "
                "2 <= low <= high, e.g. (2, 8)"
            )
        low, high = int(k_range[0]), int(k_range[1])
        if n_rows <= low:
            raise InputError(
                f"{n_rows} customers cannot form {low} clusters: the silhouette needs more "
                f"customers than clusters; lower k_range {k_range!r} or score more customers"
            )
        return low, min(high, n_rows - 1)

    def _feature_frame(self, data: object, *, fitting: bool) -> pd.DataFrame:
        if not isinstance(data, pd.DataFrame):
            raise InputError(
                f"features must be a pandas DataFrame, not {type(data).__name__}; use "
                "cluster_features(...).to_pandas()"
            )
        if fitting:
            if self.features is not None:
                names = list(self.features)
            else:
                names = [
                    c
                    for c in data.columns
                    if c != self.id_column and pd.api.types.is_numeric_dtype(data[c])
                ]
            if not names:
                raise InputError(
                    "no numeric feature columns to cluster on; pass a frame like "
                    "cluster_features(...).to_pandas()"
                )
        else:
            names = list(self.feature_names_in_)
        missing = [c for c in names if c not in data.columns]
        if missing:
            raise InputError(
                f"features lack column(s) {', '.join(missing)}; give the same columns as in fit"
            )
        try:
            frame = data[names].astype("float64")
        except (TypeError, ValueError) as exc:
            raise InputError(f"feature columns must be numeric: {exc}") from None
        bad = {c: int((~np.isfinite(frame[c].to_numpy())).sum()) for c in names}
        bad = {c: n for c, n in bad.items() if n}
        if bad:
            listed = ", ".join(f"{c} ({n} rows)" for c, n in bad.items())
            raise InputError(
                f"features have missing or infinite values in {listed}; fill or drop those "
                "customers before clustering"
            )
        if fitting:
            self.feature_names_in_ = np.asarray(names, dtype=object)
            self.n_features_in_ = len(names)
        return frame

    def _standardise(self, frame: pd.DataFrame, *, fit: bool) -> np.ndarray:
        values = frame.to_numpy(dtype="float64", copy=True)
        logged = [i for i, c in enumerate(frame.columns) if c in set(self.log_features)]
        values[:, logged] = np.sign(values[:, logged]) * np.log1p(np.abs(values[:, logged]))
        if fit:
            self.mean_ = values.mean(axis=0)
            scale = values.std(axis=0)
            self.scale_ = np.where(scale > 0, scale, 1.0)
        return (values - self.mean_) / self.scale_

    def _profile(self, frame: pd.DataFrame, space: np.ndarray) -> None:
        names = list(frame.columns)
        labels = self.labels_
        raw = frame.groupby(labels).mean()
        z = pd.DataFrame(space, columns=names).groupby(labels).mean()
        sizes = np.bincount(labels, minlength=self.k_)
        profile = pd.DataFrame({"cluster": np.arange(self.k_), "size": sizes})
        profile["share"] = sizes / sizes.sum()
        for c in names:
            profile[f"mean_{c}"] = raw[c].to_numpy()
        for c in names:
            profile[f"z_{c}"] = z[c].to_numpy()
        self.names_ = _unique_names(
            {k: cluster_name(z.loc[k], threshold=self.name_threshold) for k in range(self.k_)}
        )
        profile.insert(1, "name", [self.names_[k] for k in range(self.k_)])
        self.profiles_ = profile
        self.overall_means_ = frame.mean()


def cluster_name(z_scores: pd.Series, *, threshold: float = 0.5, words: int = 3) -> str:
    """Name a cluster from its feature z-scores: the strongest ``words`` features, in words.

    Examples
    --------
    >>> import pandas as pd
    >>> cluster_name(pd.Series({"frequency": 1.8, "avg_basket_value": -1.2, "online_share": 0.9,
    ...                         "monetary": 0.1}))
    'high-frequency, low-basket, online'
    """
    strong = z_scores[z_scores.abs() >= threshold]
    strong = strong.reindex(strong.abs().sort_values(ascending=False, kind="stable").index)
    parts = []
    for feature, value in strong.iloc[:words].items():
        high, low = FEATURE_WORDS.get(str(feature), (f"high-{feature}", f"low-{feature}"))
        parts.append(high if value > 0 else low)
    return ", ".join(parts) if parts else "average"


def _unique_names(names: dict[int, str]) -> dict[int, str]:
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return {k: (f"{v} ({k})" if counts[v] > 1 else v) for k, v in names.items()}
