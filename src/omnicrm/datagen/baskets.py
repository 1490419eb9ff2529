"""What goes into each basket: staples on a personal cycle, affinity draws, complements, prices.

Three sources of lines, all drawn for every order at once:

1. **Staples**: each person re-buys a few staple products (milk, rice, diapers …) on a personal
   cycle (the subcategory's cycle times a log-normal factor). Each due date is served by the
   person's first order within ``staple_wait_cycles`` cycles after it (several dues in one
   order add up to a larger quantity); dues with no order in time are bought elsewhere.
2. **Affinity lines**: the rest of the basket (size by outlet) is drawn from the person's
   subcategory affinities (the population mix for anonymous receipts), thinned by the
   subcategory's yearly season, then a product by Zipf popularity within the subcategory.
3. **Complements**: an anchor product (pasta, diapers, beer …) brings its partners along.

Prices are the list prices in fen; promotions of the day discount eligible lines.

Examples
--------
>>> import numpy as np
>>> split_round(np.array([1005, -1005, 999]), 1000).tolist()   # half away from zero
[1, -1, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnicrm.datagen.catalog import Catalogue, seasonal_factor, seasonal_peak
from omnicrm.datagen.catalog_data import COMPLEMENTS, TAXONOMY
from omnicrm.datagen.params import DEFAULT_BEHAVIOUR, Behaviour
from omnicrm.datagen.people import Population, draw_rows
from omnicrm.datagen.retail_calendar import DayProfile

MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class OrderFrame:
    """The orders baskets are drawn for (index ``o``)."""

    person: np.ndarray
    minute: np.ndarray
    basket_mean: np.ndarray
    member: np.ndarray


@dataclass(frozen=True)
class Lines:
    """Order lines (index ``l``), grouped by order; quantities in thousandths, money in fen."""

    order: np.ndarray
    product: np.ndarray
    qty_milli: np.ndarray
    price: np.ndarray
    discount: np.ndarray
    promo: np.ndarray

    @property
    def gross(self) -> np.ndarray:
        """``quantity x unit_price`` per line, in fen (exact: see :func:`draw_lines`)."""
        return split_round(self.qty_milli * self.price, 1000)


def split_round(numerator: np.ndarray, denominator: int) -> np.ndarray:
    """Integer division rounding half away from zero (how tills round fen)."""
    sign = np.sign(numerator)
    return sign * ((np.abs(numerator) + denominator // 2) // denominator)


def _fix_launch(cat: Catalogue, product: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Replace products not yet launched on ``day`` by their subcategory's best seller."""
    early = cat.launch_day[product] > day
    product = product.copy()
    product[early] = cat.sub_start[cat.sub[product[early]]]
    return product


def _staples(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    orders: OrderFrame,
    by_person: np.ndarray,
    b: Behaviour,
) -> tuple[np.ndarray, np.ndarray]:
    """Return (order index, product) of every staple purchase."""
    cycles = np.array([s.cycle_days for s in TAXONOMY], dtype=float)
    n_sub = len(TAXONOMY)
    count = rng.poisson(b.staples_mean, pop.n_persons)
    person = np.repeat(np.arange(pop.n_persons), count)
    sub = draw_rows(pop.sub_sampler(cycles > 0), person, rng.random(len(person)), n_sub)
    product = _fix_launch(
        cat, cat.draw_in_sub(sub, rng.random(len(person))), pop.arrival_day[person]
    )
    cycle = cycles[sub] * np.exp(rng.normal(0, b.staple_cycle_sigma, len(person)))
    first_due = pop.arrival_day[person] + rng.random(len(person)) * cycle

    o_person = orders.person[by_person]
    o_minute = orders.minute[by_person]
    last_day = np.full(pop.n_persons, -np.inf)
    np.maximum.at(last_day, o_person, o_minute / MINUTES_PER_DAY)
    horizon = last_day[person] - first_due
    n_due = np.where(horizon > 0, np.ceil(horizon / cycle * 1.6).astype(np.int64) + 2, 0)
    due_of = np.repeat(np.arange(len(person)), n_due)
    cv2 = b.staple_gap_cv**2
    gaps = rng.gamma(1 / cv2, cv2, len(due_of)) * cycle[due_of]
    csum = np.cumsum(gaps)
    seg_first = np.concatenate([[0], np.cumsum(n_due)[:-1]])
    due = first_due[due_of] + csum - csum[seg_first[due_of]]
    due_of, due = due_of[due <= last_day[person[due_of]]], due[due <= last_day[person[due_of]]]

    stride = np.int64(orders.minute.max() + 10 * MINUTES_PER_DAY)
    keys = o_person.astype(np.int64) * stride + o_minute
    due_min = np.ceil(due * MINUTES_PER_DAY).astype(np.int64)
    pos = np.searchsorted(keys, person[due_of] * stride + due_min, side="left")
    pos = pos.clip(0, len(keys) - 1)
    wait = b.staple_wait_cycles * cycle[due_of] * MINUTES_PER_DAY
    ok = (
        (o_person[pos] == person[due_of])
        & (o_minute[pos] - due_min <= wait)
        & (o_minute[pos] >= due_min)
    )
    return by_person[pos[ok]], product[due_of[ok]]


def _affinity_lines(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    orders: OrderFrame,
    n_lines: np.ndarray,
    doy: np.ndarray,
    b: Behaviour,
) -> tuple[np.ndarray, np.ndarray]:
    n_sub = len(TAXONOMY)
    order = np.repeat(np.arange(len(n_lines)), n_lines)
    person = orders.person[order]
    day = orders.minute[order] // MINUTES_PER_DAY
    known = person >= 0
    cdf = pop.sub_sampler()
    global_cdf = np.cumsum(cat.sub_share)
    global_cdf[-1] = 1.0
    sub = np.empty(len(order), dtype=np.int64)
    todo = np.arange(len(order))
    for _round in range(6):
        u = rng.random(len(todo))
        k = known[todo]
        sub[todo[k]] = draw_rows(cdf, person[todo[k]], u[k], n_sub)
        sub[todo[~k]] = np.searchsorted(global_cdf, u[~k], side="right").clip(0, n_sub - 1)
        if not b.seasonal_lines:
            break
        factor = seasonal_factor(doy[day[todo]], sub[todo])
        rejected = rng.random(len(todo)) * seasonal_peak(sub[todo]) > factor
        todo = todo[rejected]
        if not len(todo):
            break
    product = _fix_launch(cat, cat.draw_in_sub(sub, rng.random(len(order))), day)
    return order, product


def _complements(
    rng: np.random.Generator,
    cat: Catalogue,
    order: np.ndarray,
    product: np.ndarray,
    day: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    index = {s.subcategory: k for k, s in enumerate(TAXONOMY)}
    sub = cat.sub[product]
    out_order, out_product = [], []
    for rule in COMPLEMENTS:
        anchors = np.flatnonzero(sub == index[rule.anchor])
        for partner in rule.partners:
            take = anchors[rng.random(len(anchors)) < rule.prob]
            loyal = rng.random(len(take)) < rule.loyal
            p = index[partner]
            drawn = cat.draw_in_sub(np.full(len(take), p), rng.random(len(take)))
            chosen = np.where(loyal, cat.companion[p][product[take]], drawn)
            out_order.append(order[take])
            out_product.append(_fix_launch(cat, chosen, day[take]))
    return np.concatenate(out_order), np.concatenate(out_product)


def draw_lines(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    orders: OrderFrame,
    profile: DayProfile,
    doy: np.ndarray,
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> Lines:
    """Draw the lines of every order.

    Parameters
    ----------
    rng : numpy.random.Generator
    pop : Population
    cat : Catalogue
    orders : OrderFrame
        ``person`` is -1 for anonymous receipts.
    profile : DayProfile
        Promotions per day.
    doy : numpy.ndarray
        Day of year of every simulated day.
    behaviour : Behaviour

    Returns
    -------
    Lines
        One line per (order, product), sorted by order. Weighed quantities are nudged by one
        gram where ``quantity x price`` would fall exactly on half a fen, so that any
        rounding rule gives the same amount.
    """
    b = behaviour
    n_orders = len(orders.person)
    known = np.flatnonzero(orders.person >= 0)
    by_person = known[np.lexsort((orders.minute[known], orders.person[known]))]
    st_order, st_product = _staples(rng, pop, cat, orders, by_person, b)

    extra = rng.negative_binomial(2, 2 / (2 + np.maximum(orders.basket_mean - 1, 1e-3)))
    size = 1 + extra
    staples_in = np.bincount(st_order, minlength=n_orders)
    n_rand = np.maximum(size - staples_in, (staples_in == 0).astype(np.int64))
    af_order, af_product = _affinity_lines(rng, pop, cat, orders, n_rand, doy, b)

    order = np.concatenate([st_order, af_order])
    product = np.concatenate([st_product, af_product])
    day = orders.minute[order] // MINUTES_PER_DAY
    co_order, co_product = _complements(rng, cat, order, product, day)
    order = np.concatenate([order, co_order])
    product = np.concatenate([product, co_product])

    weighed = cat.weighed[product]
    units = 1 + rng.poisson(b.quantity_extra_mean, len(order))
    units[: len(st_order)] = 1
    grams = np.exp(rng.normal(np.log(b.weighed_kg_median * 1000), 0.5, len(order)))
    qty = np.where(weighed, np.maximum(grams, 50).astype(np.int64), units * 1000)

    key = order.astype(np.int64) * cat.n + product
    uniq, inverse = np.unique(key, return_inverse=True)
    qty = np.bincount(inverse, weights=qty).astype(np.int64)
    order, product = uniq // cat.n, uniq % cat.n
    price = cat.price_cents[product]
    half = (qty * price) % 1000 == 500
    qty = qty + half
    gross = split_round(qty * price, 1000)

    day = orders.minute[order] // MINUTES_PER_DAY
    departments = sorted({s.department for s in TAXONOMY})
    dept_of_sub = np.array([departments.index(s.department) for s in TAXONOMY])
    dept = dept_of_sub[cat.sub[product]]
    eligible = np.zeros((len(profile.promotions) + 1, len(departments)), dtype=bool)
    basis_points = np.zeros(len(profile.promotions) + 1, dtype=np.int64)
    for k, promo in enumerate(profile.promotions):
        eligible[k] = [not promo.departments or d in promo.departments for d in departments]
        basis_points[k] = round(promo.pct * 10_000)
    general = profile.promo[day]
    member = np.where(orders.member[order], profile.member_promo[day], -1)
    promo = np.where(
        eligible[general, dept] & (general >= 0),
        general,
        np.where(eligible[member, dept] & (member >= 0), member, -1),
    )
    promo[rng.random(len(promo)) >= b.promo_uptake] = -1
    discount = np.where(promo >= 0, split_round(gross * basis_points[promo], 10_000), 0)
    return Lines(order, product, qty, price, discount, promo)
