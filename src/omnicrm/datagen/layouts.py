"""Source layouts: the simulated retailer rendered as the exports each source system produces.

Each function returns a :class:`pyarrow.Table` of formatted text (what the file will hold),
vectorised with Arrow compute: money from integer fen through ``decimal128`` (exact),
timestamps through ``strftime``. Layouts differ on purpose (Chinese headers, local time with a
format, ISO-8601 with an offset, UTC, POS channel codes) and the mappings in
:mod:`omnicrm.datagen.mappings` bring them back to the contract.

Examples
--------
>>> import numpy as np
>>> money(np.array([1290, -5, 0])).to_pylist()
['12.90', '-0.05', '0.00']
>>> quantity(np.array([1000, 523])).to_pylist()
['1.000', '0.523']
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

LOCAL_OFFSET_MINUTES = 8 * 60
"""Asia/Shanghai is UTC+08:00 all year (no daylight saving since 1991)."""

CUSTOMER_HEADERS: dict[str, str] = {
    "customer_id": "会员编号",
    "name": "姓名",
    "phone": "手机号",
    "email": "邮箱",
    "gender": "性别",
    "birth_date": "出生日期",
    "city": "城市",
    "region": "省份",
    "signup_ts": "注册时间",
    "signup_channel": "注册渠道",
    "is_member": "是否会员",
    "member_tier": "会员等级",
}
GENDER_LABELS = {"F": "女", "M": "男", "U": "未知"}
SIGNUP_LABELS = {
    "store": "门店",
    "online": "线上",
    "app": "APP",
    "mini_program": "小程序",
    "unmanned": "无人店",
}
MEMBER_LABELS = {True: "是", False: "否"}
TIER_LABELS = {"silver": "银卡", "gold": "金卡", "diamond": "钻石卡"}

PRODUCT_HEADERS: dict[str, str] = {
    "product_id": "商品编码",
    "name": "商品名称",
    "department": "部门",
    "category": "品类",
    "subcategory": "子品类",
    "brand": "品牌",
    "unit_price": "零售价",
    "unit_cost": "成本价",
    "launch_date": "上市日期",
}
PRODUCT_SHEET = "商品主数据"

POS_HEADERS: dict[str, str] = {
    "order_id": "receipt_no",
    "line_number": "line_no",
    "order_ts": "sale_time",
    "customer_id": "member_no",
    "store_id": "shop_code",
    "channel": "pos_channel",
    "product_id": "sku",
    "quantity": "qty",
    "unit_price": "price",
    "discount_amount": "disc",
    "promotion_id": "promo_code",
}
POS_CHANNEL_CODES = {
    "store": "POS",
    "unmanned": "UNM",
    "online": "WEB",
    "app": "APP",
    "mini_program": "MP",
}
POS_TIME_FORMAT = "%Y/%m/%d %H:%M"
CUSTOMER_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
CUSTOMER_DATE_FORMAT = "%Y/%m/%d"


def money(cents: np.ndarray) -> pa.Array:
    """Format integer fen as decimal text with two places (exact, no float)."""
    return _decimal(cents, 2)


def quantity(milli: np.ndarray) -> pa.Array:
    """Format integer thousandths as decimal text with three places."""
    return _decimal(milli, 3)


def _decimal(units: np.ndarray, scale: int) -> pa.Array:
    units = np.ascontiguousarray(units, dtype=np.int64)
    words = np.empty(2 * len(units), dtype=np.int64)
    words[0::2] = units
    words[1::2] = np.where(units < 0, -1, 0)
    arr = pa.Array.from_buffers(pa.decimal128(18, scale), len(units), [None, pa.py_buffer(words)])
    return arr.cast(pa.string())


_FIELDS = {"Y": (0, 4), "m": (5, 7), "d": (8, 10), "H": (11, 13), "M": (14, 16), "S": (17, 19)}


def timestamps(origin: date, seconds: np.ndarray, fmt: str, *, offset_minutes: int = 0) -> pa.Array:
    """Format seconds since local midnight of ``origin`` as text in a time zone.

    ``offset_minutes`` is the zone's offset from local (Asia/Shanghai) time: 0 keeps local
    time, ``-LOCAL_OFFSET_MINUTES`` gives UTC. ``fmt`` may use ``%Y %m %d %H %M %S`` and
    literal text; the fields are cut from Arrow's ISO rendering (much faster than strftime).

    >>> timestamps(date(2025, 3, 1), np.array([3600]), "%d/%m/%Y %Hh").to_pylist()
    ['01/03/2025 01h']
    """
    base = np.datetime64(origin, "s").astype(np.int64)
    epoch = base + np.asarray(seconds, dtype=np.int64) + offset_minutes * 60
    iso = pa.array(epoch).cast(pa.timestamp("s")).cast(pa.string())  # "YYYY-MM-DD HH:MM:SS"
    parts: list[pa.Array | pa.Scalar] = []
    for k, piece in enumerate(fmt.split("%")):
        literal = piece if k == 0 else piece[1:]
        if k > 0:
            start, stop = _FIELDS[piece[0]]
            parts.append(pc.utf8_slice_codeunits(iso, start, stop))
        if literal:
            parts.append(pa.scalar(literal))
    return pc.binary_join_element_wise(*parts, "")


def dates(origin: date, days: np.ndarray) -> pa.Array:
    """Format day offsets from ``origin`` as ISO dates."""
    return timestamps(origin, np.asarray(days, dtype=np.int64) * 86_400, "%Y-%m-%d")


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Ids like ``R000001234``: a prefix and a zero-padded number."""
    digits = pc.utf8_lpad(
        pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width=width, padding="0"
    )
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def take_labels(
    labels: list[str] | np.ndarray, codes: np.ndarray, missing: np.ndarray | None = None
) -> pa.Array:
    """Text of integer ``codes`` in ``labels``; null where ``missing`` (or the code < 0)."""
    dictionary = pa.array(list(labels), pa.string())
    codes = np.asarray(codes, dtype=np.int64)
    null = codes < 0 if missing is None else (missing | (codes < 0))
    return dictionary.take(pa.array(np.where(null, 0, codes), mask=null))


def take_text(values: pa.Array, index: np.ndarray) -> pa.Array:
    """``values[index]``, null where ``index`` < 0."""
    index = np.asarray(index, dtype=np.int64)
    null = index < 0
    return values.take(pa.array(np.where(null, 0, index), mask=null if null.any() else None))


def text(values: np.ndarray) -> pa.Array:
    """Object array of str/None as an Arrow string array."""
    return pa.array(values, pa.string(), from_pandas=True)


def mask_nulls(arr: pa.Array, null: np.ndarray) -> pa.Array:
    """Set ``arr`` to null where ``null`` is true."""
    return pc.if_else(pa.array(null), pa.nulls(len(arr), arr.type), arr)
