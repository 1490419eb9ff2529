"""The store network: physical stores in Chinese cities, unmanned stores and digital storefronts.

The network is data (:data:`STORES`); only the opening dates and sales areas are drawn, so that
ids, names and cities are the same for every seed and easy to recognise in a demo.

Examples
--------
>>> import numpy as np
>>> stores = make_stores(np.random.default_rng(0))
>>> online = stores.loc[stores.channel != "store", "store_id"]
>>> int((stores["channel"] == "store").sum()), list(online)
(25, ['U01', 'U02', 'WEB', 'APP', 'MINI'])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CITIES: dict[str, tuple[str, float]] = {
    "上海": ("上海市", 0.16),
    "北京": ("北京市", 0.14),
    "广州": ("广东省", 0.10),
    "深圳": ("广东省", 0.10),
    "杭州": ("浙江省", 0.09),
    "南京": ("江苏省", 0.08),
    "苏州": ("江苏省", 0.07),
    "成都": ("四川省", 0.09),
    "武汉": ("湖北省", 0.08),
    "西安": ("陕西省", 0.05),
    "重庆": ("重庆市", 0.04),
}
"""City -> (region, share of the customer base)."""

# store_id, name, channel, format, city, typical sales area (m2)
STORES: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("S001", "上海徐汇大卖场", "store", "hypermarket", "上海", 12000),
    ("S002", "上海浦东世纪店", "store", "supermarket", "上海", 4000),
    ("S003", "上海静安便利店", "store", "convenience", "上海", 150),
    ("S004", "上海虹桥购物中心店", "store", "mall", "上海", 2500),
    ("S005", "北京朝阳大卖场", "store", "hypermarket", "北京", 11000),
    ("S006", "北京海淀超市", "store", "supermarket", "北京", 3500),
    ("S007", "北京国贸便利店", "store", "convenience", "北京", 120),
    ("S008", "北京西单购物中心店", "store", "mall", "北京", 2200),
    ("S009", "广州天河大卖场", "store", "hypermarket", "广州", 10000),
    ("S010", "广州越秀超市", "store", "supermarket", "广州", 3000),
    ("S011", "深圳南山大卖场", "store", "hypermarket", "深圳", 10500),
    ("S012", "深圳福田超市", "store", "supermarket", "深圳", 3200),
    ("S013", "深圳科技园便利店", "store", "convenience", "深圳", 130),
    ("S014", "杭州西湖超市", "store", "supermarket", "杭州", 3000),
    ("S015", "杭州滨江大卖场", "store", "hypermarket", "杭州", 9000),
    ("S016", "南京新街口购物中心店", "store", "mall", "南京", 2400),
    ("S017", "南京江宁超市", "store", "supermarket", "南京", 2800),
    ("S018", "苏州园区大卖场", "store", "hypermarket", "苏州", 9500),
    ("S019", "苏州观前便利店", "store", "convenience", "苏州", 110),
    ("S020", "成都春熙路购物中心店", "store", "mall", "成都", 2600),
    ("S021", "成都高新大卖场", "store", "hypermarket", "成都", 10000),
    ("S022", "武汉光谷超市", "store", "supermarket", "武汉", 3100),
    ("S023", "武汉汉口大卖场", "store", "hypermarket", "武汉", 9800),
    ("S024", "西安曲江超市", "store", "supermarket", "西安", 2900),
    ("S025", "重庆解放碑超市", "store", "supermarket", "重庆", 3000),
    ("U01", "上海陆家嘴无人店", "unmanned", "unmanned", "上海", 60),
    ("U02", "深圳前海无人店", "unmanned", "unmanned", "深圳", 50),
    ("WEB", "官方网上商城", "online", "ecommerce", "", 0),
    ("APP", "官方APP", "app", "ecommerce", "", 0),
    ("MINI", "微信小程序商城", "mini_program", "ecommerce", "", 0),
)
"""The store network (digital storefronts have no city)."""

BASKET_MEAN_BY_FORMAT: dict[str, float] = {
    "hypermarket": 9.0,
    "supermarket": 5.5,
    "mall": 4.0,
    "convenience": 2.2,
    "unmanned": 2.0,
}
"""Mean number of distinct products per receipt, physical formats."""

BASKET_MEAN_BY_CHANNEL: dict[str, float] = {"online": 7.0, "app": 6.0, "mini_program": 4.0}
"""Mean number of distinct products per order, digital storefronts."""


def make_stores(rng: np.random.Generator) -> pd.DataFrame:
    """Return the store table (contract columns) with drawn opening dates and areas.

    Parameters
    ----------
    rng : numpy.random.Generator

    Returns
    -------
    pandas.DataFrame
        One row per store, contract column names; ``opened_date`` as ``datetime.date``.
    """
    frame = pd.DataFrame(
        list(STORES), columns=["store_id", "name", "channel", "format", "city", "area_sqm"]
    )
    frame["region"] = [CITIES[c][0] if c else "" for c in frame["city"]]
    physical = frame["area_sqm"].to_numpy() > 0
    jitter = rng.uniform(0.85, 1.15, len(frame))
    frame["area_sqm"] = np.where(physical, np.round(frame["area_sqm"] * jitter), 0).astype(int)
    first = pd.Timestamp("2008-01-01")
    age_days = rng.integers(0, 365 * 12, len(frame))
    opened = first + pd.to_timedelta(age_days, unit="D")
    frame["opened_date"] = opened.date
    frame.loc[frame["format"] == "unmanned", "opened_date"] = pd.Timestamp("2019-06-01").date()
    frame.loc[frame["format"] == "ecommerce", "opened_date"] = pd.Timestamp("2016-03-01").date()
    return frame[
        ["store_id", "name", "channel", "format", "city", "region", "opened_date", "area_sqm"]
    ]
