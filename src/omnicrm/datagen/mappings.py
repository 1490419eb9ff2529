"""Column-mapping TOML files for the layouts that differ from the contract.

The mappings are built from the same constants the layouts use (:mod:`omnicrm.datagen.layouts`),
so a layout and its mapping cannot drift apart.

Examples
--------
>>> import tomllib
>>> m = tomllib.loads(ORDER_LINES_MAPPING)
>>> m["flags"]["is_return"], m["source"]["delimiter"]
({'column': 'order_id', 'startswith': 'C'}, ';')
"""

from __future__ import annotations

import json

from omnicrm.datagen import layouts as lay

TIMEZONE = "Asia/Shanghai"


def _s(value: str) -> str:
    """A TOML basic string (JSON string syntax is valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def _inline(pairs: dict[str, str]) -> str:
    return "{ " + ", ".join(f"{_s(k)} = {_s(v)}" for k, v in pairs.items()) + " }"


def _columns(headers: dict[str, str]) -> str:
    return "\n".join(f"{k} = {_s(v)}" for k, v in headers.items())


def _invert(labels: dict[object, str], as_text: bool = False) -> dict[str, str]:
    return {v: (str(k).lower() if as_text else str(k)) for k, v in labels.items()}


PRODUCTS_MAPPING = f"""\
# products.xlsx: the ERP's product master, exported to Excel with Chinese headers.
table = "products"

[source]
format = "xlsx"
sheet = {_s(lay.PRODUCT_SHEET)}

[columns]
{_columns(lay.PRODUCT_HEADERS)}
"""

CUSTOMERS_MAPPING = f"""\
# customers.csv: the member system's export, GBK-encoded, Chinese headers and labels,
# local (Asia/Shanghai) times.
table = "customers"

[source]
format = "csv"
encoding = "gbk"
delimiter = ","

[columns]
{_columns(lay.CUSTOMER_HEADERS)}

[timestamps]
signup_ts = {{ format = {_s(lay.CUSTOMER_TIME_FORMAT)}, timezone = {_s(TIMEZONE)} }}
birth_date = {{ format = {_s(lay.CUSTOMER_DATE_FORMAT)} }}

[values]
gender = {_inline(_invert(lay.GENDER_LABELS))}
signup_channel = {_inline(_invert(lay.SIGNUP_LABELS))}
is_member = {_inline(_invert(lay.MEMBER_LABELS, as_text=True))}
member_tier = {_inline(_invert(lay.TIER_LABELS))}
"""

ORDER_LINES_MAPPING = f"""\
# order_lines.csv.gz: the POS line export. ';'-delimited, local time, channel codes,
# no amount column (computed), return receipts numbered "C..." with positive quantities.
table = "order_lines"

[source]
format = "csv"
delimiter = ";"
encoding = "utf-8"

[columns]
{_columns(lay.POS_HEADERS)}

[timestamps]
order_ts = {{ format = {_s(lay.POS_TIME_FORMAT)}, timezone = {_s(TIMEZONE)} }}

[values]
channel = {_inline(_invert(lay.POS_CHANNEL_CODES))}

[expressions]
amount = "quantity * unit_price - discount_amount"

[flags]
is_return = {{ column = "order_id", startswith = "C" }}
"""

MAPPINGS: dict[str, str] = {
    "products": PRODUCTS_MAPPING,
    "customers": CUSTOMERS_MAPPING,
    "order_lines": ORDER_LINES_MAPPING,
}
"""Mapping text per contract table (tables absent here use contract names)."""
