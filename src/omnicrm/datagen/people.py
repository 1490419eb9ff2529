"""Persons (the latent truth) and their customer records in the source systems.

A *person* has latent traits: arrival day, BG/NBD purchase rate and dropout probability,
satisfaction, channel mix, home store, category affinities. Each person holds one *record* per
source system they use (POS member card, e-shop account, app, mini-program); these records are
what the retailer sees, and identity resolution has to join them back into persons.

Examples
--------
>>> import numpy as np
>>> from omnicrm.datagen.stores import make_stores
>>> pop = make_population(np.random.default_rng(0), 500, make_stores(np.random.default_rng(0)),
...                       np.ones(1100), burn_in=365, days=730)
>>> len(pop.record_person), bool(pop.record_person.max() + 1 == pop.n_persons)
(500, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from omnicrm.datagen.catalog_data import TAXONOMY
from omnicrm.datagen.params import (
    CHANNEL_SYSTEM,
    DEFAULT_BEHAVIOUR,
    SYSTEMS,
    Behaviour,
)
from omnicrm.datagen.stores import CITIES

SURNAMES: tuple[tuple[str, str], ...] = (
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("邓", "deng"),
    ("冯", "feng"),
    ("韩", "han"),
    ("曹", "cao"),
)
"""Common surnames with their pinyin (weights fall off with rank)."""

GIVEN_F: tuple[tuple[str, str], ...] = (
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("艳", "yan"),
    ("婷", "ting"),
    ("雪", "xue"),
    ("慧", "hui"),
    ("佳", "jia"),
    ("欣", "xin"),
    ("怡", "yi"),
    ("梅", "mei"),
    ("琳", "lin"),
    ("颖", "ying"),
    ("倩", "qian"),
    ("萍", "ping"),
    ("玲", "ling"),
)
GIVEN_M: tuple[tuple[str, str], ...] = (
    ("伟", "wei"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("杰", "jie"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("辉", "hui"),
    ("刚", "gang"),
    ("鹏", "peng"),
    ("浩", "hao"),
    ("宇", "yu"),
    ("俊", "jun"),
    ("峰", "feng"),
    ("斌", "bin"),
)
"""Given-name characters with pinyin, by gender."""

EMAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("qq.com", 0.38),
    ("163.com", 0.22),
    ("126.com", 0.10),
    ("gmail.com", 0.08),
    ("sina.com", 0.07),
    ("outlook.com", 0.08),
    ("foxmail.com", 0.07),
)
PHONE_PREFIXES: tuple[int, ...] = (
    130,
    131,
    132,
    133,
    135,
    136,
    137,
    138,
    139,
    150,
    151,
    152,
    155,
    158,
    159,
    166,
    177,
    180,
    183,
    186,
    187,
    188,
    189,
    199,
)


@dataclass
class Population:
    """Persons (index ``p``) and their records (index ``r``) as parallel arrays."""

    n_persons: int
    arrival_day: np.ndarray
    rate_per_day: np.ndarray
    regularity: np.ndarray
    dropout_p: np.ndarray
    satisfaction: np.ndarray
    channel_w: np.ndarray
    home_store: np.ndarray
    city: np.ndarray
    affinity: np.ndarray
    gender: np.ndarray
    birth_day: np.ndarray
    name: np.ndarray
    pinyin: np.ndarray
    phone: np.ndarray
    email: np.ndarray
    english: np.ndarray
    record_person: np.ndarray
    record_system: np.ndarray
    record_member: np.ndarray
    person_record: np.ndarray

    def sub_sampler(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Flattened per-person CDFs over subcategories (restricted to ``mask`` when given)."""
        weights = self.affinity if mask is None else self.affinity * mask
        return row_cdf(weights)


def draw_rows(cdf: np.ndarray, row: np.ndarray, u: np.ndarray, width: int) -> np.ndarray:
    """Draw a column for each ``row`` from flattened row CDFs (see :func:`row_cdf`)."""
    pos = np.searchsorted(cdf, row + u, side="right")
    return (pos - row * width).clip(0, width - 1)


def _pick(rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    cdf = np.cumsum(weights) / np.sum(weights)
    return np.searchsorted(cdf, rng.random(n), side="right").clip(0, len(weights) - 1)


def row_cdf(weights: np.ndarray) -> np.ndarray:
    """Flattened per-row CDFs offset by the row index (row ``i`` spans ``(i, i + 1]``)."""
    cdf = np.cumsum(weights, axis=1) / weights.sum(axis=1, keepdims=True)
    cdf[:, -1] = 1.0
    return (cdf + np.arange(len(weights))[:, None]).ravel()


def make_population(
    rng: np.random.Generator,
    n_records: int,
    stores: pd.DataFrame,
    traffic: np.ndarray,
    *,
    burn_in: int,
    days: int,
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
) -> Population:
    """Draw persons until they hold exactly ``n_records`` customer records.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_records : int
        Number of customer records (rows of ``customers``).
    stores : pandas.DataFrame
        The store table (from :func:`omnicrm.datagen.stores.make_stores`).
    traffic : numpy.ndarray
        Per-day traffic of the simulation (signups follow it).
    burn_in, days : int
        Days simulated before the data window, and the window length.
    behaviour : Behaviour

    Returns
    -------
    Population
    """
    b = behaviour
    n = n_records  # an upper bound: every person holds at least one record
    seg = _pick(rng, n, np.array([s.share for s in b.segments]))
    alpha = np.array([s.channel_alpha for s in b.segments])[seg]
    channel_w = rng.gamma(alpha)
    city_names = list(CITIES)
    city = _pick(rng, n, np.array([CITIES[c][1] for c in city_names]))
    physical = stores[stores["format"] != "ecommerce"].reset_index()
    unmanned_cities = {
        city_names.index(c) for c in physical.loc[physical.channel == "unmanned", "city"]
    }
    channel_w[:, 1] *= np.isin(city, list(unmanned_cities))
    system_w = np.zeros((n, len(SYSTEMS)))
    for ch, sysno in enumerate(CHANNEL_SYSTEM):
        system_w[:, sysno] += channel_w[:, ch]
    system_share = system_w / system_w.sum(axis=1, keepdims=True)
    uses = system_share >= b.records_min_share
    uses[np.arange(n), system_share.argmax(axis=1)] = True
    channel_w = channel_w * uses[:, list(CHANNEL_SYSTEM)]
    n_rec = uses.sum(axis=1)
    keep = np.searchsorted(np.cumsum(n_rec), n_records) + 1
    uses, channel_w, city, n_rec = uses[:keep], channel_w[:keep], city[:keep], n_rec[:keep]
    excess = n_rec.sum() - n_records
    if excess > 0:  # the last person gives up some systems so the total is exact
        drop = np.flatnonzero(uses[-1])[::-1][:excess]
        uses[-1, drop] = False
        channel_w[-1] *= uses[-1, list(CHANNEL_SYSTEM)]
    p = keep

    # home store: a physical store of the person's city, weighted by size
    store_city = np.array([city_names.index(c) for c in physical["city"]])
    store_is_shop = (physical["channel"] == "store").to_numpy()
    area = physical["area_sqm"].to_numpy().astype(float) ** 0.5 * store_is_shop
    by_city = np.zeros((len(city_names), len(physical)))
    by_city[store_city, np.arange(len(physical))] = area
    u = rng.random(p)
    home = np.searchsorted(row_cdf(by_city), city + u, side="right") - city * len(physical)
    home_store = physical["index"].to_numpy()[home.clip(0, len(physical) - 1)]

    # arrival: existing customers during the burn-in, new ones during the window (growing)
    existing = rng.random(p) < b.existing_share
    t = np.arange(days)
    acq = (1 + b.acquisition_growth * t / days) * traffic[burn_in : burn_in + days]
    arrival = np.where(
        existing, rng.uniform(0, burn_in, p), burn_in + _pick(rng, p, acq) + rng.random(p)
    )

    rate = rng.gamma(b.rate_shape, b.rate_scale_per_week, p) / 7.0
    regularity = 1 + rng.gamma(b.regularity_shape, b.regularity_scale, p)
    p0 = rng.beta(b.dropout_a, b.dropout_b, p)
    z = rng.standard_normal(p)
    logit = np.log(p0 / (1 - p0)) - b.satisfaction_dropout_effect * z
    dropout_p = 1 / (1 + np.exp(-logit))

    base = np.array([s.popularity for s in TAXONOMY])
    aff = rng.gamma(b.affinity_concentration * base / base.sum() * 4, size=(p, len(TAXONOMY)))
    aff += 1e-9

    female = rng.random(p) < 0.55
    gender = np.where(female, "F", "M").astype(object)
    gender[rng.random(p) < 0.04] = "U"
    age_days = (rng.normal(38, 12, p).clip(18, 80) * 365.25).astype(int)
    birth_day = (arrival - age_days).astype(np.int64)
    sur = _pick(rng, p, 1 / np.arange(1, len(SURNAMES) + 1) ** 0.6)
    g1 = rng.integers(0, len(GIVEN_F), p)
    g2 = rng.integers(0, len(GIVEN_F), p)
    two = rng.random(p) < 0.6
    given = [GIVEN_F if f else GIVEN_M for f in female]
    name = np.array(
        [
            SURNAMES[s][0] + gv[a][0] + (gv[c][0] if t2 else "")
            for s, gv, a, c, t2 in zip(sur, given, g1, g2, two, strict=True)
        ],
        dtype=object,
    )
    pinyin = np.array(
        [
            gv[a][1] + (gv[c][1] if t2 else "") + "." + SURNAMES[s][1]
            for s, gv, a, c, t2 in zip(sur, given, g1, g2, two, strict=True)
        ],
        dtype=object,
    )
    prefix = np.asarray(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), p)]
    phone = (prefix * 10**8 + rng.choice(10**8, p, replace=False)).astype(str).astype(object)
    family = np.flatnonzero(rng.random(p) < b.family_phone_share)
    if len(family) and p > 1:
        phone[family] = phone[(family + 1 + rng.integers(0, p - 1, len(family))) % p]
    domain = np.array([d for d, _ in EMAIL_DOMAINS])[
        _pick(rng, p, np.array([w for _, w in EMAIL_DOMAINS]))
    ]
    digits = rng.integers(1, 999, p).astype(str)
    qq = rng.integers(10**7, 3 * 10**9, p).astype(str)
    local = np.where(domain == "qq.com", qq, np.char.add(pinyin.astype(str), digits))
    email = np.char.add(np.char.add(local, "@"), domain).astype(object)
    email[rng.random(p) < 0.3] = None
    english = rng.random(p) < 0.12

    rec_person, rec_system = np.nonzero(uses)
    person_record = np.full((p, len(SYSTEMS)), -1, dtype=np.int64)
    person_record[rec_person, rec_system] = np.arange(len(rec_person))
    member = rng.random(len(rec_person)) < np.asarray(b.member_share_by_system)[rec_system]
    return Population(
        n_persons=p,
        arrival_day=arrival,
        rate_per_day=rate,
        regularity=regularity,
        dropout_p=dropout_p,
        satisfaction=z,
        channel_w=channel_w,
        home_store=home_store,
        city=city,
        affinity=aff,
        gender=gender,
        birth_day=birth_day,
        name=name,
        pinyin=pinyin,
        phone=phone,
        email=email,
        english=english,
        record_person=rec_person,
        record_system=rec_system,
        record_member=member,
        person_record=person_record,
    )


__all__ = ["Population", "draw_rows", "make_population", "row_cdf"]
