"""When each person buys, where, and whether they are still there: the BG/NBD purchase process.

Every person makes a first purchase on arrival, then repeat purchases as a Poisson process of
rate ``lambda`` on a *traffic clock* (``W(t) = integral of traffic``, so weekends, festivals and
seasons get proportionally more orders), and drops out right after each repeat purchase with
probability ``p`` (Fader, Hardie & Lee 2005). All persons are drawn at once: Poisson counts,
uniform points on each person's traffic-clock interval, one global sort, a geometric cut-off.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> times = purchase_days(rng, arrival=np.array([0.0, 10.0]), rate=np.array([0.5, 0.0]),
...                       dropout_p=np.array([0.0, 0.5]), traffic=np.ones(100))
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


def purchase_days(rng: np.random.Generator, *, arrival: np.ndarray, rate: np.ndarray,
                  dropout_p: np.ndarray, traffic: np.ndarray) -> PurchaseDays:
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
    n_repeat = rng.poisson(rate * span)
    # number of repeat purchases after which the person drops out (support 1, 2, ...)
    cutoff = rng.geometric(np.clip(dropout_p, 1e-12, 1.0))
    person = np.repeat(np.arange(len(arrival)), n_repeat)
    frac = rng.random(len(person))
    order = np.argsort(person + frac * (1 - 1e-9), kind="stable")
    person, frac = person[order], frac[order]
    first = np.concatenate([[0], np.cumsum(n_repeat)[:-1]])
    rank = np.arange(len(person)) - first[person]
    keep = rank < cutoff[person]
    person, frac, rank = person[keep], frac[keep], rank[keep]
    w = start[person] + frac * span[person]
    day_index = (np.searchsorted(clock, w, side="right") - 1).clip(0, n_days - 1)
    day = day_index + (w - clock[day_index]) / traffic[day_index]

    dropout_day = np.full(len(arrival), np.nan)
    is_cut = rank == cutoff[person] - 1  # the purchase after which the person drops out
    dropout_day[person[is_cut]] = day[is_cut]

    all_person = np.concatenate([np.arange(len(arrival)), person])
    all_day = np.concatenate([arrival, day])
    order = np.lexsort((all_day, all_person))
    return PurchaseDays(all_person[order], np.minimum(all_day[order], n_days - 1e-6),
                        dropout_day)
