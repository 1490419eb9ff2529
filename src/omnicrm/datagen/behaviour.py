"""Behaviour events and feedback, derived from the simulated orders and the persons' traits.

* Digital orders come with their session: sign-in (app, mini-program), a search, views of the
  bought products and of a few alternatives, add-to-cart, sometimes a remove-from-cart; likes
  and shares on some views; reviews a few days later with a rating driven by satisfaction.
* Browse-only sessions (views, searches, abandoned carts) happen around each digital buyer's
  orders, so online interest correlates with purchases.
* Tracked store visits (unmanned stores always, other stores for a share of identified
  receipts) produce one ``store_visit`` per zone of the departments bought, plus the checkout,
  with a dwell time drawn per zone.
* Surveys after a share of identified orders: NPS and CSAT follow the person's
  latent satisfaction ``z`` (which also drives dropout); comments come from templates by score
  band, in English for English-speaking customers and Chinese otherwise.

Examples
--------
>>> nps_band(np.array([0, 6, 7, 8, 9, 10])).tolist()
['detractor', 'detractor', 'passive', 'passive', 'promoter', 'promoter']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from omnicrm.datagen.baskets import MINUTES_PER_DAY
from omnicrm.datagen.catalog import Catalogue
from omnicrm.datagen.catalog_data import DEPARTMENT_ZONES, TAXONOMY
from omnicrm.datagen.params import CHANNEL_CODES, DEFAULT_BEHAVIOUR, Behaviour
from omnicrm.datagen.people import Population, draw_rows
from omnicrm.datagen.sales import DIGITAL, SALE, Sales

COMMENTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("detractor", "zh"): (
        "排队结账太慢了，收银台开得太少。",
        "生鲜不新鲜，买回家就坏了。",
        "配送晚了两个小时，客服也不回复。",
        "价格比别家贵，促销规则太复杂。",
        "退货流程很麻烦，体验很差。",
        "APP经常闪退，优惠券用不了。",
    ),
    ("passive", "zh"): (
        "整体还可以，就是停车不方便。",
        "商品种类挺多，价格一般。",
        "配送速度还行，包装可以更好。",
        "会员活动不错，希望折扣多一点。",
        "店里有点挤，周末人太多。",
    ),
    ("promoter", "zh"): (
        "水果很新鲜，服务态度好！",
        "配送很快，半小时就到了。",
        "会员日优惠很划算，经常来。",
        "店员很热情，购物环境干净。",
        "APP下单方便，推荐给朋友了。",
    ),
    ("detractor", "en"): (
        "Checkout queues are far too long.",
        "The produce was not fresh.",
        "Delivery was two hours late and nobody answered.",
        "Prices are higher than elsewhere.",
        "Returning an item was a hassle.",
    ),
    ("passive", "en"): (
        "Decent overall, parking is a problem.",
        "Good range, average prices.",
        "Delivery was fine, packaging could be better.",
    ),
    ("promoter", "en"): (
        "Fresh fruit and friendly staff!",
        "Super fast delivery, great app.",
        "Member day deals are excellent.",
        "Clean store, helpful people.",
    ),
}
"""Comment templates by (NPS band, language)."""

ZONE_DWELL_MEDIAN_S: dict[str, float] = {
    "fresh": 240,
    "dairy": 90,
    "bakery": 120,
    "grocery": 150,
    "beverages": 90,
    "snacks": 100,
    "frozen": 80,
    "household": 120,
    "personal_care": 150,
    "baby": 180,
    "electronics": 300,
    "pet": 100,
    "checkout": 150,
}
"""Median seconds spent in each in-store zone (log-normal, sd 0.6)."""


def nps_band(nps: np.ndarray) -> np.ndarray:
    """Return the NPS band of each score: detractor (0-6), passive (7-8), promoter (9-10)."""
    return np.select([nps <= 6, nps <= 8], ["detractor", "passive"], "promoter")


@dataclass
class Events:
    """Behaviour events as parallel arrays (not yet sorted; ``second`` from the span start)."""

    record: np.ndarray
    kind: np.ndarray
    second: np.ndarray
    channel: np.ndarray
    store: np.ndarray
    product: np.ndarray
    zone: np.ndarray
    dwell: np.ndarray
    query: np.ndarray
    rating: np.ndarray


@dataclass
class Feedback:
    """Survey responses as parallel arrays."""

    record: np.ndarray
    second: np.ndarray
    channel: np.ndarray
    store: np.ndarray
    order: np.ndarray
    nps: np.ndarray
    csat: np.ndarray
    comment: np.ndarray
    language: np.ndarray


class _Collector:
    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(self, n: int, **cols: object) -> None:
        full = {k: (v if isinstance(v, np.ndarray) else np.full(n, v)) for k, v in cols.items()}
        self.parts.append(full)

    def build(self) -> Events:
        names = (
            "record",
            "kind",
            "second",
            "channel",
            "store",
            "product",
            "zone",
            "dwell",
            "query",
            "rating",
        )
        defaults = {
            "product": -1,
            "zone": None,
            "dwell": -1,
            "query": None,
            "rating": -1,
            "store": -1,
        }
        out = {}
        for name in names:
            arrays = []
            for part in self.parts:
                n = len(part["record"])
                arrays.append(part[name] if name in part else np.full(n, defaults[name]))
            dtype = object if name in ("zone", "query", "kind") else None
            out[name] = np.concatenate([np.asarray(a, dtype=dtype) for a in arrays])
        return Events(**out)


def simulate_events(
    rng: np.random.Generator,
    pop: Population,
    cat: Catalogue,
    sales: Sales,
    window: tuple[int, int],
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> Events:
    """Draw the behaviour events of the data window (see the module docstring)."""
    b = behaviour
    lo, hi = window[0] * MINUTES_PER_DAY, window[1] * MINUTES_PER_DAY
    sale = (sales.kind == SALE) & (sales.minute >= lo) & (sales.minute < hi) & (sales.record >= 0)
    lines = sales.lines
    sub_name_zh = np.array([s.items[0] for s in TAXONOMY], dtype=object)
    col = _Collector()

    digital = sale & np.isin(sales.channel, DIGITAL)
    d_orders = np.flatnonzero(digital)
    start = sales.minute[d_orders] * 60 - rng.integers(300, 2400, len(d_orders))
    signin = np.isin(sales.channel[d_orders], DIGITAL[1:])
    col.add(
        int(signin.sum()),
        record=sales.record[d_orders[signin]],
        kind="sign_in",
        second=start[signin] - 30,
        channel=sales.channel[d_orders[signin]],
    )
    d_lines = np.flatnonzero(digital[lines.order] & (lines.qty_milli > 0))
    l_order = lines.order[d_lines]
    first_line = np.unique(l_order, return_index=True)[1]
    search = d_lines[first_line][rng.random(len(first_line)) < 0.6]
    col.add(
        len(search),
        record=sales.record[lines.order[search]],
        kind="search",
        second=sales.minute[lines.order[search]] * 60 - rng.integers(600, 2400, len(search)),
        channel=sales.channel[lines.order[search]],
        query=sub_name_zh[cat.sub[lines.product[search]]],
    )
    viewed = d_lines[rng.random(len(d_lines)) < 0.6]
    v_second = sales.minute[lines.order[viewed]] * 60 - rng.integers(120, 1800, len(viewed))
    col.add(
        len(viewed),
        record=sales.record[lines.order[viewed]],
        kind="view",
        second=v_second,
        channel=sales.channel[lines.order[viewed]],
        product=lines.product[viewed],
    )
    carted = d_lines[rng.random(len(d_lines)) < 0.7]
    col.add(
        len(carted),
        record=sales.record[lines.order[carted]],
        kind="add_to_cart",
        second=sales.minute[lines.order[carted]] * 60 - rng.integers(30, 600, len(carted)),
        channel=sales.channel[lines.order[carted]],
        product=lines.product[carted],
    )
    for kind, rate in (("like", b.like_rate), ("share", b.share_rate)):
        pick = rng.random(len(viewed)) < rate
        col.add(
            int(pick.sum()),
            record=sales.record[lines.order[viewed[pick]]],
            kind=kind,
            second=v_second[pick] + 20,
            channel=sales.channel[lines.order[viewed[pick]]],
            product=lines.product[viewed[pick]],
        )
    reviewed = d_lines[rng.random(len(d_lines)) < b.review_share]
    z = pop.satisfaction[sales.person[lines.order[reviewed]]]
    rating = np.clip(np.rint(rng.normal(3.9 + 0.8 * z, 0.8)), 1, 5).astype(np.int64)
    r_second = (
        sales.minute[lines.order[reviewed]] * 60 + rng.integers(2, 10, len(reviewed)) * 86_400
    )
    keep = r_second < hi * 60
    col.add(
        int(keep.sum()),
        record=sales.record[lines.order[reviewed[keep]]],
        kind="review",
        second=r_second[keep],
        channel=sales.channel[lines.order[reviewed[keep]]],
        product=lines.product[reviewed[keep]],
        rating=rating[keep],
    )

    # browse-only sessions around the digital buyers' orders
    n_browse = rng.poisson(b.browse_sessions_per_digital_order, len(d_orders))
    anchor = np.repeat(d_orders, n_browse)
    b_second = (
        sales.minute[anchor] * 60
        + rng.integers(-30, 30, len(anchor)) * 86_400
        + rng.integers(0, 86_400, len(anchor))
    )
    inside = (b_second >= lo * 60) & (b_second < hi * 60)
    anchor, b_second = anchor[inside], b_second[inside]
    n_views = 1 + rng.poisson(1.5, len(anchor))
    v_anchor = np.repeat(np.arange(len(anchor)), n_views)
    person = sales.person[anchor[v_anchor]]
    sub = draw_rows(pop.sub_sampler(), person, rng.random(len(person)), len(TAXONOMY))
    product = cat.draw_in_sub(sub, rng.random(len(sub)))
    v_sec = b_second[v_anchor] + rng.integers(0, 900, len(v_anchor))
    col.add(
        len(v_anchor),
        record=sales.record[anchor[v_anchor]],
        kind="view",
        second=v_sec,
        channel=sales.channel[anchor[v_anchor]],
        product=product,
    )
    abandon = rng.random(len(v_anchor)) < 0.15
    col.add(
        int(abandon.sum()),
        record=sales.record[anchor[v_anchor[abandon]]],
        kind="add_to_cart",
        second=v_sec[abandon] + 40,
        channel=sales.channel[anchor[v_anchor[abandon]]],
        product=product[abandon],
    )
    removed = abandon & (rng.random(len(v_anchor)) < 0.4)
    col.add(
        int(removed.sum()),
        record=sales.record[anchor[v_anchor[removed]]],
        kind="remove_from_cart",
        second=v_sec[removed] + 200,
        channel=sales.channel[anchor[v_anchor[removed]]],
        product=product[removed],
    )
    searched = rng.random(len(anchor)) < 0.5
    first_view = np.concatenate([[0], np.cumsum(n_views)[:-1]])[searched]
    col.add(
        int(searched.sum()),
        record=sales.record[anchor[searched]],
        kind="search",
        second=b_second[searched] - 30,
        channel=sales.channel[anchor[searched]],
        query=sub_name_zh[cat.sub[product[first_view]]],
    )

    # tracked store visits: one event per zone bought from, then the checkout
    unmanned = CHANNEL_CODES.index("unmanned")
    store_sale = sale & ~np.isin(sales.channel, DIGITAL)
    tracked = store_sale & (
        (sales.channel == unmanned) | (rng.random(len(sale)) < b.store_visit_tracking_share)
    )
    t_lines = np.flatnonzero(tracked[lines.order] & (lines.qty_milli > 0))
    zones = np.array(list(ZONE_DWELL_MEDIAN_S), dtype=object)
    dept_zone = {d: list(ZONE_DWELL_MEDIAN_S).index(z) for d, z in DEPARTMENT_ZONES.items()}
    line_zone = np.array([dept_zone[s.department] for s in TAXONOMY])[
        cat.sub[lines.product[t_lines]]
    ]
    checkout = list(ZONE_DWELL_MEDIAN_S).index("checkout")
    t_orders = np.flatnonzero(tracked)
    key = np.unique(
        np.concatenate([lines.order[t_lines] * 64 + line_zone, t_orders * 64 + checkout])
    )
    v_order, v_zone = key // 64, key % 64
    median = np.array(list(ZONE_DWELL_MEDIAN_S.values()))[v_zone]
    dwell = np.rint(median * np.exp(rng.normal(0, 0.6, len(key)))).astype(np.int64)
    at_checkout = v_zone == checkout
    second = sales.minute[v_order] * 60 - np.where(
        at_checkout, dwell, rng.integers(300, 2400, len(key))
    )
    col.add(
        len(key),
        record=sales.record[v_order],
        kind="store_visit",
        second=second,
        channel=sales.channel[v_order],
        store=sales.store[v_order],
        zone=zones[v_zone],
        dwell=dwell,
    )
    events = col.build()
    inside = (events.second >= lo * 60) & (events.second < hi * 60)
    return Events(**{k: v[inside] for k, v in vars(events).items()})


def simulate_feedback(
    rng: np.random.Generator,
    pop: Population,
    sales: Sales,
    window: tuple[int, int],
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> Feedback:
    """Draw survey responses after a share of the window's identified orders."""
    b = behaviour
    lo, hi = window[0] * MINUTES_PER_DAY, window[1] * MINUTES_PER_DAY
    sale = (sales.kind == SALE) & (sales.minute >= lo) & (sales.minute < hi) & (sales.record >= 0)
    asked = np.flatnonzero(sale & (rng.random(len(sale)) < b.survey_share))
    second = sales.minute[asked] * 60 + rng.integers(3_600, 3 * 86_400, len(asked))
    asked, second = asked[second < hi * 60], second[second < hi * 60]
    n = len(asked)
    z = pop.satisfaction[sales.person[asked]]
    nps = np.clip(np.rint(rng.normal(b.nps_mean + b.nps_satisfaction_effect * z, 1.2)), 0, 10)
    csat = np.clip(np.rint(rng.normal(3.9 + 0.7 * z, 0.7)), 1, 5)
    form = rng.random(n)
    nps = np.where(form < 0.85, nps, -1).astype(np.int64)  # CSAT-only forms
    csat = np.where(form > 0.25, csat, -1).astype(np.int64)  # NPS-only forms
    english = pop.english[sales.person[asked]]
    language = np.where(english, "en", "zh").astype(object)
    band = nps_band(np.where(nps >= 0, nps, np.rint(csat * 2)))
    comment = np.full(n, None, dtype=object)
    with_text = rng.random(n) < 0.55
    u = rng.random(n)
    for (band_name, lang), texts in COMMENTS.items():
        sel = with_text & (band == band_name) & (language == lang)
        pick = (u[sel] * len(texts)).astype(np.int64)
        comment[sel] = np.asarray(texts, dtype=object)[pick]
    language[~with_text] = None
    return Feedback(
        record=sales.record[asked],
        second=second,
        channel=sales.channel[asked],
        store=sales.store[asked],
        order=asked,
        nps=nps,
        csat=csat,
        comment=comment,
        language=language,
    )
