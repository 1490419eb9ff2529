"""Draw the product catalogue from :mod:`omnicrm.datagen.catalog_data`.

Products are grouped by subcategory (contiguous rows), carry an EAN-13 code as ``product_id``,
a log-normal list price and cost in integer fen (exact money), a Zipf popularity within their
subcategory and, for complementary subcategories, a fixed companion product.

Examples
--------
>>> import numpy as np
>>> cat = make_catalogue(np.random.default_rng(1), launch_window=(-400, 700))
>>> 1990 <= cat.n <= 2010
True
>>> bool((cat.price_cents > cat.cost_cents).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnicrm.datagen.catalog_data import (
    COMPLEMENTS,
    MARGIN_BY_DEPARTMENT,
    SEASONAL,
    TAXONOMY,
    VARIANTS,
)

ZIPF_EXPONENT = 1.1
"""Popularity of the k-th product of a subcategory is proportional to ``k ** -ZIPF_EXPONENT``."""

CATALOGUE_SIZE = 2000
"""Approximate number of products; ``Subcategory.n_products`` sets each one's share of it."""

NEW_PRODUCT_SHARE = 0.08
"""Share of products launched during the simulated span (the rest existed before)."""


@dataclass(frozen=True)
class Catalogue:
    """The products as parallel arrays (row ``i`` is product ``i``), grouped by subcategory."""

    product_id: np.ndarray
    name: np.ndarray
    brand: np.ndarray
    sub: np.ndarray
    price_cents: np.ndarray
    cost_cents: np.ndarray
    launch_day: np.ndarray
    weighed: np.ndarray
    sub_start: np.ndarray
    within_cdf: np.ndarray
    sub_share: np.ndarray
    companion: dict[int, np.ndarray]

    @property
    def n(self) -> int:
        """Number of products."""
        return len(self.product_id)

    def draw_in_sub(self, sub: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Return a product of each subcategory ``sub`` drawn by popularity with uniforms ``u``."""
        return np.searchsorted(self.within_cdf, sub + u, side="right").clip(0, self.n - 1)


def ean13(body: np.ndarray) -> np.ndarray:
    """Return EAN-13 codes (strings) for 12-digit integer ``body`` values.

    >>> str(ean13(np.array([690123456789]))[0])
    '6901234567892'
    """
    digits = (body[:, None] // 10 ** np.arange(11, -1, -1)) % 10
    weights = np.tile([1, 3], 6)
    check = (10 - (digits * weights).sum(axis=1) % 10) % 10
    return np.char.add(body.astype(str), check.astype(str))


def round_price(yuan: np.ndarray) -> np.ndarray:
    """Round prices the way shelves show them, in fen: 13.90, 4.50, 129.00.

    >>> round_price(np.array([13.93, 4.46, 128.7])).tolist()
    [1390, 450, 12900]
    """
    cents = np.where(
        yuan >= 100,
        np.round(yuan) * 100,
        np.where(yuan >= 10, np.round(yuan * 10) * 10, np.round(yuan * 2) * 50),
    )
    cents = np.where((yuan >= 10) & (yuan < 100), np.maximum(cents // 100 * 100 + 90, 1090), cents)
    return np.maximum(cents, 50).astype(np.int64)


def make_catalogue(rng: np.random.Generator, launch_window: tuple[int, int]) -> Catalogue:
    """Draw the catalogue.

    Parameters
    ----------
    rng : numpy.random.Generator
    launch_window : (int, int)
        Day indices (of the simulation) between which new products are launched; the others
        were launched up to four years before the first of them.

    Returns
    -------
    Catalogue
    """
    assortment = np.array([s.n_products for s in TAXONOMY], dtype=float)
    counts = np.round(assortment * CATALOGUE_SIZE / assortment.sum()).astype(np.int64)
    sub = np.repeat(np.arange(len(TAXONOMY)), counts)
    n = len(sub)
    sub_start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(n) - sub_start[sub]
    pop = (rank + 1.0) ** -ZIPF_EXPONENT
    pop_sum = np.bincount(sub, weights=pop)
    before = np.concatenate([[0], np.cumsum(pop_sum)[:-1]])
    within_cdf = sub + (np.cumsum(pop) - before[sub]) / pop_sum[sub]
    within_cdf[sub_start + counts - 1] = np.arange(len(TAXONOMY)) + 1.0  # exact upper ends
    weights = np.array([s.popularity for s in TAXONOMY])
    sub_share = weights / weights.sum()

    names, brands = [], []
    medians = np.empty(n)
    sigmas = np.empty(n)
    margin_lo = np.empty(n)
    margin_hi = np.empty(n)
    for k, spec in enumerate(TAXONOMY):
        sl = slice(sub_start[k], sub_start[k] + counts[k])
        b = rng.integers(0, len(spec.brands), counts[k])
        it = rng.integers(0, len(spec.items), counts[k])
        sz = rng.integers(0, len(spec.sizes), counts[k])
        va = rng.integers(0, len(VARIANTS), counts[k])
        for j in range(counts[k]):
            size = spec.sizes[sz[j]]
            unit = "/kg" if spec.weighed else ""
            names.append(
                f"{spec.brands[b[j]]} {VARIANTS[va[j]]}{spec.items[it[j]]}"
                f"{' ' + size if size else ''}{unit}"
            )
            brands.append(spec.brands[b[j]])
        medians[sl], sigmas[sl] = spec.median_price, spec.price_sigma
        margin_lo[sl], margin_hi[sl] = MARGIN_BY_DEPARTMENT[spec.department]
    price = round_price(np.exp(rng.normal(np.log(medians), sigmas)))
    margin = rng.uniform(margin_lo, margin_hi)
    cost = np.minimum(np.round(price * (1 - margin)).astype(np.int64), price - 1)

    first, last = launch_window
    launch = first - rng.integers(30, 4 * 365, n)
    new = (rng.random(n) < NEW_PRODUCT_SHARE) & (rank > 0)
    launch[new] = rng.integers(first, last, new.sum())

    body = 690_000_000_000 + rng.choice(10**9, n, replace=False)
    product_id = ean13(body)

    sub_index = {s.subcategory: k for k, s in enumerate(TAXONOMY)}
    companion: dict[int, np.ndarray] = {}
    for rule in COMPLEMENTS:
        for partner in rule.partners:
            p = sub_index[partner]
            companion.setdefault(p, np.full(n, -1, dtype=np.int64))
            anchors = sub == sub_index[rule.anchor]
            u = rng.random(anchors.sum())
            companion[p][anchors] = np.searchsorted(within_cdf, p + u, side="right")
    return Catalogue(
        product_id=product_id,
        name=np.array(names, dtype=object),
        brand=np.array(brands, dtype=object),
        sub=sub,
        price_cents=price,
        cost_cents=cost,
        launch_day=launch,
        weighed=np.array([TAXONOMY[k].weighed for k in sub]),
        sub_start=sub_start,
        within_cdf=within_cdf,
        sub_share=sub_share,
        companion=companion,
    )


_AMPLITUDE = np.array([SEASONAL.get(s.subcategory, (0.0, 0))[0] for s in TAXONOMY])
_PEAK = np.array([SEASONAL.get(s.subcategory, (0.0, 0))[1] for s in TAXONOMY], dtype=float)


def seasonal_factor(doy: np.ndarray, sub: np.ndarray) -> np.ndarray:
    """Return the demand multiplier of subcategory ``sub`` on day of year ``doy`` (elementwise).

    >>> k = [s.subcategory for s in TAXONOMY].index("Ice cream")
    >>> f = seasonal_factor(np.array([15, 200]), np.array([k, k]))
    >>> bool(f[1] > 2 * f[0])
    True
    """
    return 1 + _AMPLITUDE[sub] * np.cos(2 * np.pi * (doy - _PEAK[sub]) / 365.25)


def seasonal_peak(sub: np.ndarray) -> np.ndarray:
    """Return the largest value :func:`seasonal_factor` takes for each subcategory."""
    return 1 + _AMPLITUDE[sub]
