"""Orders: channel, store, time of day, customer record, baskets, cancellations and returns.

:func:`simulate_sales` runs the whole transaction side over the simulated span (burn-in, data
window and the future used by the truth file) and returns orders and lines as arrays, orders
sorted by time. Anonymous walk-in receipts are added for the data window only.

Three kinds of order come out: sales, return receipts (some lines of a sale brought back days
later) and cancellation receipts. A cancelled digital order stays a sale with ``cancelled``
set, and is reversed, minutes to hours later, by a cancellation receipt that repeats all of its
lines with negated quantities (as POS and e-shop line exports record a cancellation, e.g. the
UCI Online Retail invoices ``C536379``). A receipt never crosses the start or the end of the
data window: one that would is kept at the window's last minute (then the sale and its
cancellation are both inside the window, or both outside it).

Examples
--------
>>> PAYMENT_MIX["store"][0]
('wechat_pay', 0.45)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnicrm.datagen.baskets import MINUTES_PER_DAY, Lines, OrderFrame, draw_lines
from omnicrm.datagen.catalog import Catalogue
from omnicrm.datagen.catalog_data import TAXONOMY
from omnicrm.datagen.params import (
    CHANNEL_CODES,
    CHANNEL_SYSTEM,
    DEFAULT_BEHAVIOUR,
    HOUR_PROFILE,
    Behaviour,
)
from omnicrm.datagen.people import Population, draw_rows, row_cdf
from omnicrm.datagen.purchases import purchase_days
from omnicrm.datagen.retail_calendar import DayProfile
from omnicrm.datagen.stores import BASKET_MEAN_BY_CHANNEL, BASKET_MEAN_BY_FORMAT, CITIES

PAYMENT_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    "store": (
        ("wechat_pay", 0.45),
        ("alipay", 0.30),
        ("card", 0.12),
        ("cash", 0.08),
        ("prepaid_card", 0.05),
    ),
    "unmanned": (("wechat_pay", 0.6), ("alipay", 0.4)),
    "digital": (("alipay", 0.45), ("wechat_pay", 0.45), ("card", 0.10)),
}
"""Payment methods and their shares by kind of outlet."""

RETURN_PROPENSITY: dict[str, float] = {
    "Electronics": 3.0,
    "Personal care": 1.5,
    "Baby": 1.3,
    "Fresh": 0.5,
    "Bakery": 0.3,
}
"""Relative chance that a line of a department is returned (1 when not listed)."""

SALE, RETURN, CANCELLATION = 0, 1, 2
"""Kinds of order: a sale, a return receipt, a cancellation receipt (reverses a whole sale)."""
DIGITAL = (
    CHANNEL_CODES.index("online"),
    CHANNEL_CODES.index("app"),
    CHANNEL_CODES.index("mini_program"),
)


@dataclass(frozen=True)
class Sales:
    """All orders (index ``o``, sorted by ``minute``) and lines (grouped by order).

    ``cancelled`` is set on a cancelled sale and on the cancellation receipt that reverses it;
    ``reverses`` is the index of that sale for a cancellation receipt, -1 for other orders.
    """

    minute: np.ndarray
    person: np.ndarray
    record: np.ndarray
    channel: np.ndarray
    store: np.ndarray
    kind: np.ndarray
    cancelled: np.ndarray
    reverses: np.ndarray
    payment: np.ndarray
    coupon: np.ndarray
    lines: Lines
    dropout_day: np.ndarray

    def totals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return (gross, discount, net) per order in fen, summed from the lines.

        A return or cancellation receipt has a negative gross and net (``-(gross - discount)``
        of the lines it takes back) and a positive discount: the discount that had been granted.
        """
        n = len(self.minute)
        gross = np.rint(np.bincount(self.lines.order, weights=self.lines.gross, minlength=n))
        disc = np.rint(np.bincount(self.lines.order, weights=self.lines.discount, minlength=n))
        sign = np.where(self.kind == SALE, 1, -1)
        gross, disc = gross.astype(np.int64), disc.astype(np.int64)
        return gross, disc, gross - sign * disc


def _pick_rows(rng: np.random.Generator, weights: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return draw_rows(row_cdf(weights), rows, rng.random(len(rows)), weights.shape[1])


def _store_of(
    rng: np.random.Generator,
    pop: Population,
    stores: pd.DataFrame,
    person: np.ndarray,
    channel: np.ndarray,
    b: Behaviour,
) -> np.ndarray:
    city_names = list(CITIES)
    store_city = stores["city"].map({c: k for k, c in enumerate(city_names)}).fillna(-1)
    store_city = store_city.to_numpy().astype(np.int64)
    is_store = (stores["channel"] == "store").to_numpy()
    area = np.sqrt(stores["area_sqm"].to_numpy().astype(float)) * is_store
    by_city = np.zeros((len(city_names), len(stores)))
    by_city[store_city[is_store], np.flatnonzero(is_store)] = area[is_store]
    out = np.full(len(person), -1, dtype=np.int64)
    shop = channel == CHANNEL_CODES.index("store")
    home = rng.random(len(person)) < b.home_store_share
    out[shop & home] = pop.home_store[person[shop & home]]
    other = np.flatnonzero(shop & ~home)
    travel = rng.random(len(other)) < 0.1
    city = np.where(travel, rng.integers(0, len(city_names), len(other)), pop.city[person[other]])
    out[other] = _pick_rows(rng, by_city, city)
    unmanned = stores.index[stores["channel"] == "unmanned"].to_numpy()
    unmanned_city = store_city[unmanned]
    um = np.flatnonzero(channel == CHANNEL_CODES.index("unmanned"))
    match = unmanned_city[None, :] == pop.city[person[um]][:, None]
    out[um] = unmanned[match.argmax(axis=1)]
    for ch in DIGITAL:
        out[channel == ch] = stores.index[stores["channel"] == CHANNEL_CODES[ch]][0]
    return out


def _minute_of_day(rng: np.random.Generator, stores: pd.DataFrame, store: np.ndarray) -> np.ndarray:
    fmt = stores["format"].to_numpy()[store]
    group = np.select(
        [fmt == "convenience", fmt == "unmanned", fmt == "ecommerce"],
        ["convenience", "unmanned", "digital"],
        "store",
    )
    names = list(HOUR_PROFILE)
    row = pd.Categorical(group, categories=names).codes.astype(np.int64)
    hour = _pick_rows(rng, np.array([HOUR_PROFILE[k] for k in names]), row)
    return hour * 60 + rng.integers(0, 60, len(store))


def _anonymous(
    rng: np.random.Generator, stores: pd.DataFrame, traffic: np.ndarray, first_day: int, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Walk-in receipts: (store, minute) of ``n`` anonymous sales from ``first_day`` on."""
    physical = stores.index[stores["format"] != "ecommerce"].to_numpy()
    weight = np.sqrt(stores.loc[physical, "area_sqm"].to_numpy().astype(float))
    store = physical[
        np.searchsorted(np.cumsum(weight) / weight.sum(), rng.random(n), side="right").clip(
            0, len(physical) - 1
        )
    ]
    cdf = np.cumsum(traffic) / traffic.sum()
    day = first_day + np.searchsorted(cdf, rng.random(n), side="right").clip(0, len(cdf) - 1)
    return store, day * MINUTES_PER_DAY + _minute_of_day(rng, stores, store)


def _draw_payment(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    kind = np.where(
        np.isin(channel, DIGITAL),
        "digital",
        np.where(channel == CHANNEL_CODES.index("unmanned"), "unmanned", "store"),
    )
    out = np.empty(len(channel), dtype=object)
    for name, mix in PAYMENT_MIX.items():
        sel = np.flatnonzero(kind == name)
        cdf = np.cumsum([w for _, w in mix])
        labels = np.array([m for m, _ in mix], dtype=object)
        out[sel] = labels[
            np.searchsorted(cdf / cdf[-1], rng.random(len(sel)), side="right").clip(0, len(mix) - 1)
        ]
    return out


def simulate_sales(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    stores: pd.DataFrame,
    profile: DayProfile,
    doy: np.ndarray,
    *,
    window: tuple[int, int],
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> Sales:
    """Simulate every order and line of the span.

    Parameters
    ----------
    rng : numpy.random.Generator
    pop : Population
    cat : Catalogue
    stores : pandas.DataFrame
    profile : DayProfile
        Traffic, digital lift and promotions per simulated day.
    doy : numpy.ndarray
        Day of year of each simulated day.
    window : (int, int)
        First and last-plus-one simulated day of the data window (anonymous receipts).
    behaviour : Behaviour

    Returns
    -------
    Sales
    """
    b = behaviour
    days = purchase_days(
        rng,
        arrival=pop.arrival_day,
        rate=pop.rate_per_day,
        dropout_p=pop.dropout_p,
        traffic=profile.traffic,
        regularity=pop.regularity,
    )
    person = days.person
    day = np.floor(days.day).astype(np.int64)
    weights = pop.channel_w[person].copy()
    weights[:, list(DIGITAL)] *= profile.online_lift[day][:, None]
    channel = _pick_rows(rng, weights, np.arange(len(person)))
    store = _store_of(rng, pop, stores, person, channel, b)
    minute = day * MINUTES_PER_DAY + _minute_of_day(rng, stores, store)
    record = pop.person_record[person, np.asarray(CHANNEL_SYSTEM)[channel]]

    lo, hi = window
    in_window = (day >= lo) & (day < hi)
    shop = np.isin(channel, [CHANNEL_CODES.index("store"), CHANNEL_CODES.index("unmanned")])
    n_anon = round(
        b.anonymous_share_of_store
        / (1 - b.anonymous_share_of_store)
        * int((shop & in_window).sum())
    )
    a_store, a_minute = _anonymous(rng, stores, profile.traffic[lo:hi], lo, n_anon)
    a_channel = stores["channel"].map({c: k for k, c in enumerate(CHANNEL_CODES)})
    a_channel = a_channel.to_numpy()[a_store]

    person = np.concatenate([person, np.full(n_anon, -1)])
    record = np.concatenate([record, np.full(n_anon, -1)])
    channel = np.concatenate([channel, a_channel])
    store = np.concatenate([store, a_store])
    minute = np.concatenate([minute, a_minute])
    basket_mean = np.array([BASKET_MEAN_BY_FORMAT.get(f, 0.0) for f in stores["format"]])[store]
    for code, mean in BASKET_MEAN_BY_CHANNEL.items():
        basket_mean[channel == CHANNEL_CODES.index(code)] = mean
    member = np.where(record >= 0, pop.record_member[np.maximum(record, 0)], False)
    frame = OrderFrame(person, minute, basket_mean, member)
    lines = draw_lines(rng, pop, cat, frame, profile, doy, b)

    n_sale = len(person)
    cancelled = np.isin(channel, DIGITAL) & (rng.random(n_sale) < b.cancel_share_digital)
    departments = [s.department for s in TAXONOMY]
    propensity = np.array([RETURN_PROPENSITY.get(d, 1.0) for d in departments])[
        cat.sub[lines.product]
    ]
    returned = np.flatnonzero(
        (rng.random(len(lines.order)) < b.return_line_share * propensity) & ~cancelled[lines.order]
    )
    origin, slot = np.unique(lines.order[returned], return_inverse=True)
    r_minute = (
        minute[origin] + rng.integers(1, b.return_max_days + 1, len(origin)) * MINUTES_PER_DAY
    )

    payment = _draw_payment(rng, channel)
    has_discount = np.bincount(lines.order, weights=lines.discount, minlength=n_sale) > 0
    coupon = np.full(n_sale, None, dtype=object)
    with_coupon = np.flatnonzero(has_discount & (rng.random(n_sale) < b.coupon_share))
    coupon[with_coupon] = [f"Q{code:08X}" for code in rng.integers(0, 16**8, len(with_coupon))]

    voided = np.flatnonzero(cancelled)
    bounds = np.array([lo, hi, len(profile.traffic)]) * MINUTES_PER_DAY
    c_minute = cancel_minutes(rng, minute[voided], bounds, b)
    c_lines = np.flatnonzero(cancelled[lines.order])
    c_slot = np.searchsorted(voided, lines.order[c_lines])

    # receipts are appended after the sales: index n_sale + k for return k, then cancellations
    source = np.concatenate([np.arange(n_sale), origin, voided])
    kind = np.concatenate(
        [np.full(n_sale, SALE), np.full(len(origin), RETURN), np.full(len(voided), CANCELLATION)]
    )
    all_minute = np.concatenate([minute, r_minute, c_minute])
    order = np.argsort(all_minute, kind="stable")  # a receipt of the same minute stays after
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    taken = np.concatenate([returned, c_lines])
    merged = Lines(
        order=rank[np.concatenate([lines.order, n_sale + slot, n_sale + len(origin) + c_slot])],
        product=np.concatenate([lines.product, lines.product[taken]]),
        qty_milli=np.concatenate([lines.qty_milli, -lines.qty_milli[taken]]),
        price=np.concatenate([lines.price, lines.price[taken]]),
        discount=np.concatenate([lines.discount, lines.discount[taken]]),
        promo=np.concatenate([lines.promo, lines.promo[taken]]),
    )
    by_order = np.argsort(merged.order, kind="stable")
    merged = Lines(
        *(
            getattr(merged, f)[by_order]
            for f in ("order", "product", "qty_milli", "price", "discount", "promo")
        )
    )

    def inherited(x: np.ndarray) -> np.ndarray:
        return x[source][order]

    reverses = np.full(len(order), -1)
    reverses[n_sale + len(origin) :] = rank[voided]
    return Sales(
        minute=all_minute[order],
        person=inherited(person),
        record=inherited(record),
        channel=inherited(channel),
        store=inherited(store),
        kind=kind[order],
        cancelled=(cancelled[source] & (kind != RETURN))[order],
        reverses=reverses[order],
        payment=inherited(payment),
        coupon=np.where(kind == SALE, coupon[source], None)[order],
        lines=merged,
        dropout_day=days.dropout_day,
    )


def cancel_minutes(
    rng: np.random.Generator,
    minute: np.ndarray,
    bounds: np.ndarray,
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> np.ndarray:
    """Minute of the cancellation receipt of each cancelled order placed at ``minute``.

    The delay is 1 + an exponential number of minutes (mean ``cancel_delay_mean_minutes``),
    at most ``cancel_delay_max_minutes``. A receipt is kept before the first of ``bounds``
    (increasing minutes: window start, window end, end of the span) that follows its order,
    so that it never falls on the other side of a window boundary.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> cancel_minutes(rng, np.array([10, 1439]), np.array([0, 1440, 2880])).tolist()
    [41, 1439]
    """
    b = behaviour
    delay = 1 + np.minimum(
        np.floor(rng.exponential(b.cancel_delay_mean_minutes, len(minute))),
        b.cancel_delay_max_minutes - 1,
    ).astype(np.int64)
    limit = bounds[np.searchsorted(bounds, minute, side="right").clip(0, len(bounds) - 1)]
    return np.maximum(np.minimum(minute + delay, limit - 1), minute)
