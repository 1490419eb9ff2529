"""When each person buys, where, and whether they are still there: the purchase process.

Every person makes a first purchase on arrival, then repeat purchases on a *traffic clock*
(``W(t) = integral of traffic``, so weekends, festivals and seasons get proportionally more
orders) and drops out right after each repeat purchase with probability ``p``, as in BG/NBD
(Fader, Hardie & Lee 2005, Marketing Science 24(2)). Inter-purchase times on that clock are
Gamma with shape ``k`` (the person's regularity) and mean ``1 / lambda``, as in Pareto/GGG
(Platzer & Reutterer 2016, "Ticking away the moments", Marketing Science 35(5)): ``k = 1`` is
the Poisson process of BG/NBD, larger ``k`` is a more regular weekly-shop rhythm, which is what
lets staples show their re-purchase cycles. ``lambda`` stays the long-run rate while alive.

All persons are drawn at once: a geometric number of repeat purchases before dropout, gaps for
every person in one array, a segmented cumulative sum and a cut at the end of the span.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> times = purchase_days(rng, arrival=np.array([0.0, 10.0]), rate=np.array([0.5, 0.0]),
...                       dropout_p=np.array([0.0, 0.5]), traffic=np.ones(100),
...                       regularity=np.array([1.0, 1.0]))
>>> int((times.person == 1).sum()), bool(np.isnan(times.dropout_day).all())
(1, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PurchaseDays:
    """Purchases (index ``o``: ``person``, fractional ``day``) and per-person dropout days."""

    person: np.ndarray
    day: np.ndarray
    dropout_day: np.ndarray


def _renewal_times(
    rng: np.random.Generator,
    rate: np.ndarray,
    shape: np.ndarray,
    span: np.ndarray,
    limit: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` event times in ``(0, span)`` of Gamma renewal processes.

    Gaps are Gamma(``shape``, mean ``1 / rate``). Returns (owner, time) sorted by owner, time.
    """
    owners, times = [], []
    todo = np.flatnonzero((rate > 0) & (span > 0) & (limit > 0))
    offset = np.zeros(len(rate))
    left = limit.astype(np.int64).copy()
    while len(todo):
        mean = rate[todo] * (span[todo] - offset[todo])
        n = np.ceil(mean + 4 * np.sqrt(mean / shape[todo] + 1) + 3).astype(np.int64)
        n = np.minimum(n, left[todo])
        owner = np.repeat(todo, n)
        gaps = rng.gamma(shape[owner], 1 / (shape[owner] * rate[owner]))
        csum = np.cumsum(gaps)
        first = np.concatenate([[0], np.cumsum(n)[:-1]])
        before = np.concatenate([[0.0], csum])[first]
        t = offset[owner] + csum - np.repeat(before, n)
        keep = t < span[owner]
        owners.append(owner[keep])
        times.append(t[keep])
        last = t[np.cumsum(n) - 1]
        left[todo] -= n
        more = (last < span[todo]) & (left[todo] > 0)  # draw more gaps from the last event
        offset[todo[more]] = last[more]
        todo = todo[more]
    owner, t = np.concatenate(owners), np.concatenate(times)
    order = np.lexsort((t, owner))
    return owner[order], t[order]


def purchase_days(
    rng: np.random.Generator,
    *,
    arrival: np.ndarray,
    rate: np.ndarray,
    dropout_p: np.ndarray,
    traffic: np.ndarray,
    regularity: np.ndarray | None = None,
) -> PurchaseDays:
    """Simulate every person's purchase days over ``len(traffic)`` days.

    Parameters
    ----------
    rng : numpy.random.Generator
    arrival : numpy.ndarray
        Day (fractional) of each person's first purchase.
    rate : numpy.ndarray
        Repeat purchases per traffic-weighted day while alive.
    dropout_p : numpy.ndarray
        Probability of dropping out after each repeat purchase.
    traffic : numpy.ndarray
        Relative intensity of each day.
    regularity : numpy.ndarray, optional
        Gamma shape ``k`` of each person's inter-purchase times (default 1: Poisson).

    Returns
    -------
    PurchaseDays
        Sorted by person, then day. ``dropout_day`` is NaN for persons still alive at the end
        of the span.
    """
    n_days = len(traffic)
    clock = np.concatenate([[0.0], np.cumsum(traffic)])
    whole = np.floor(arrival).astype(np.int64)
    start = clock[whole] + (arrival - whole) * traffic[whole]
    span = clock[-1] - start
    shape = np.ones(len(arrival)) if regularity is None else regularity
    # number of repeat purchases after which the person drops out (support 1, 2, ...)
    cutoff = rng.geometric(np.clip(dropout_p, 1e-12, 1.0))
    person, t = _renewal_times(rng, rate, shape, span, cutoff)
    first = np.searchsorted(person, np.arange(len(arrival)))
    rank = np.arange(len(person)) - first[person]
    w = start[person] + t
    day_index = (np.searchsorted(clock, w, side="right") - 1).clip(0, n_days - 1)
    day = day_index + (w - clock[day_index]) / traffic[day_index]

    dropout_day = np.full(len(arrival), np.nan)
    is_cut = rank == cutoff[person] - 1  # the purchase after which the person drops out
    dropout_day[person[is_cut]] = day[is_cut]

    all_person = np.concatenate([np.arange(len(arrival)), person])
    all_day = np.concatenate([arrival, day])
    order = np.lexsort((all_day, all_person))
    return PurchaseDays(all_person[order], np.minimum(all_day[order], n_days - 1e-6), dropout_day)
