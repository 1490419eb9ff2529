"""The canonical warehouse tables: the single source of truth for the data contract.

Grain first: each table states what one row is and which columns form its natural key. Ids are
strings. Money is ``DECIMAL(18,2)``, quantities ``DECIMAL(18,3)`` (weighed goods), timestamps are
timezone-aware and stored in UTC.

Examples
--------
>>> from omnicrm.schema import TABLES
>>> TABLES["order_lines"].key
('order_id', 'line_number')
>>> TABLES["order_lines"].column("quantity").checks[0].describe()
'!= 0'
"""

from __future__ import annotations

from omnicrm.schema.types import Column, NotZero, OneOf, Range, Table

CHANNELS: tuple[str, ...] = ("store", "online", "app", "mini_program", "marketplace", "unmanned")
"""Sales and contact channels. ``mini_program`` is a WeChat/Alipay mini-program storefront."""

ID_TYPES: tuple[str, ...] = (
    "member_card",
    "phone",
    "email",
    "online_account",
    "app_device",
    "wechat_openid",
    "wechat_unionid",
    "alipay_id",
    "pos_customer",
)
"""Kinds of identifier that can link records of one person across systems."""

EVENT_TYPES: tuple[str, ...] = (
    "view",
    "search",
    "add_to_cart",
    "remove_from_cart",
    "store_visit",
    "review",
    "share",
    "like",
    "sign_in",
)
"""Behaviour events. ``store_visit`` carries the zone and the dwell time in seconds."""

GENDERS: tuple[str, ...] = ("F", "M", "U")

STORE_FORMATS: tuple[str, ...] = (
    "hypermarket",
    "supermarket",
    "convenience",
    "mall",
    "department_store",
    "unmanned",
    "ecommerce",
)

_channel = OneOf(CHANNELS)
_non_negative = Range(min=0)

CUSTOMERS = Table(
    name="customers",
    grain="one row per customer record in a source system (before identity resolution)",
    key=("customer_id",),
    description="Customer master data from the member system, e-shop, app or POS.",
    columns=(
        Column("customer_id", "string", required=True, description="Source customer id."),
        Column("name", "string", pii=True, description="Full name as registered."),
        Column("phone", "string", pii=True, description="Mobile number, any formatting."),
        Column("email", "string", pii=True, description="E-mail address."),
        Column("gender", "string", checks=(OneOf(GENDERS),), description="F, M or U."),
        Column("birth_date", "date", description="Date of birth (for birthday rewards)."),
        Column("city", "string", description="Home city."),
        Column("region", "string", description="Region or province."),
        Column("signup_ts", "timestamp", description="When the customer registered."),
        Column(
            "signup_channel", "string", checks=(_channel,), description="Channel of registration."
        ),
        Column(
            "is_member", "boolean", default=False, description="Enrolled in the loyalty programme."
        ),
        Column("member_tier", "string", description="Loyalty tier code at export time."),
    ),
)

IDENTITIES = Table(
    name="identities",
    grain="one row per link between an identifier and a source customer record",
    key=("customer_id", "id_type", "id_value"),
    description="Identifiers seen for each customer record; identity resolution joins "
    "records that share an identifier.",
    columns=(
        Column(
            "customer_id",
            "string",
            required=True,
            references="customers.customer_id",
            description="Source customer id carrying the identifier.",
        ),
        Column(
            "id_type",
            "string",
            required=True,
            checks=(OneOf(ID_TYPES),),
            description="Kind of identifier.",
        ),
        Column(
            "id_value",
            "string",
            required=True,
            pii=True,
            description="Identifier value as recorded (normalised during resolution).",
        ),
        Column("source", "string", description="System the link was seen in."),
        Column("first_seen_ts", "timestamp", description="First time the link was seen."),
    ),
)

PRODUCTS = Table(
    name="products",
    grain="one row per product (SKU)",
    key=("product_id",),
    description="The catalogue, with its category hierarchy, brand and list price.",
    columns=(
        Column("product_id", "string", required=True, description="SKU id."),
        Column("name", "string", required=True, description="Product name (any language)."),
        Column("department", "string", description="Top of the hierarchy (e.g. Fresh)."),
        Column("category", "string", required=True, description="Category (e.g. Dairy)."),
        Column("subcategory", "string", description="Subcategory (e.g. Yogurt)."),
        Column("brand", "string", description="Brand name."),
        Column("unit_price", "money", checks=(_non_negative,), description="List price."),
        Column("unit_cost", "money", checks=(_non_negative,), description="Unit cost."),
        Column("launch_date", "date", description="First day on sale."),
    ),
)

STORES = Table(
    name="stores",
    grain="one row per store or online storefront",
    key=("store_id",),
    description="Physical stores and digital storefronts; online channels are stores too.",
    columns=(
        Column("store_id", "string", required=True, description="Store id."),
        Column("name", "string", required=True, description="Store name."),
        Column(
            "channel",
            "string",
            required=True,
            checks=(_channel,),
            description="Channel the store sells through.",
        ),
        Column("format", "string", checks=(OneOf(STORE_FORMATS),), description="Store format."),
        Column("city", "string", description="City."),
        Column("region", "string", description="Region or province."),
        Column("opened_date", "date", description="Opening date."),
        Column("area_sqm", "integer", checks=(_non_negative,), description="Sales area."),
    ),
)

ORDERS = Table(
    name="orders",
    grain="one row per order (a POS receipt, an e-shop or app order, or a return receipt)",
    key=("order_id",),
    description="Order headers. Amounts are after discounts; return receipts are negative.",
    columns=(
        Column("order_id", "string", required=True, description="Order or receipt id."),
        Column(
            "customer_id",
            "string",
            references="customers.customer_id",
            description="Buyer; empty for anonymous walk-in sales.",
        ),
        Column("store_id", "string", references="stores.store_id", description="Store."),
        Column("channel", "string", required=True, checks=(_channel,), description="Channel."),
        Column("order_ts", "timestamp", required=True, description="Time of the order."),
        Column("gross_amount", "money", description="Sum of lines before discounts."),
        Column(
            "discount_amount",
            "money",
            checks=(_non_negative,),
            default=0,
            description="Total discount granted (>= 0).",
        ),
        Column(
            "net_amount",
            "money",
            required=True,
            description="Amount paid (negative for a return receipt).",
        ),
        Column("payment_method", "string", description="Cash, card, wechat_pay, alipay, …"),
        Column("coupon_code", "string", description="Coupon redeemed, if any."),
        Column(
            "is_cancelled",
            "boolean",
            default=False,
            description="The order was cancelled after being placed.",
        ),
    ),
)

ORDER_LINES = Table(
    name="order_lines",
    grain="one row per order line; a negative quantity is a returned line",
    key=("order_id", "line_number"),
    description="Line-level sales. The order's time, customer, store and channel are repeated "
    "on each line so that a line-level POS export loads in one pass.",
    columns=(
        Column(
            "order_id",
            "string",
            required=True,
            references="orders.order_id",
            description="Order id.",
        ),
        Column(
            "line_number",
            "integer",
            required=True,
            checks=(Range(min=1),),
            description="Position of the line within the order (1, 2, …).",
        ),
        Column("order_ts", "timestamp", required=True, description="Time of the order."),
        Column(
            "customer_id",
            "string",
            references="customers.customer_id",
            description="Buyer; empty for anonymous sales.",
        ),
        Column("store_id", "string", references="stores.store_id", description="Store."),
        Column("channel", "string", checks=(_channel,), description="Channel."),
        Column(
            "product_id",
            "string",
            required=True,
            references="products.product_id",
            description="SKU.",
        ),
        Column(
            "quantity",
            "quantity",
            required=True,
            checks=(NotZero(),),
            description="Units (or kg); negative for a return.",
        ),
        Column(
            "unit_price",
            "money",
            required=True,
            checks=(_non_negative,),
            description="Price per unit before discounts.",
        ),
        Column(
            "discount_amount",
            "money",
            checks=(_non_negative,),
            default=0,
            description="Discount on the line (>= 0).",
        ),
        Column(
            "amount",
            "money",
            required=True,
            description="Net line amount: quantity x unit_price - discount (negative for returns).",
        ),
        Column("promotion_id", "string", description="Promotion applied to the line."),
        Column(
            "is_return",
            "boolean",
            default=False,
            description="Returned or cancelled line (derived: quantity < 0).",
        ),
    ),
)

EVENTS = Table(
    name="events",
    grain="one row per behaviour event",
    key=("event_id",),
    description="Online and in-store behaviour: views, searches, carts, store visits with zone "
    "dwell time, reviews, shares, likes and sign-ins.",
    columns=(
        Column("event_id", "string", required=True, description="Event id."),
        Column(
            "customer_id",
            "string",
            references="customers.customer_id",
            description="Who; empty for anonymous sessions.",
        ),
        Column(
            "event_type",
            "string",
            required=True,
            checks=(OneOf(EVENT_TYPES),),
            description="Kind of event.",
        ),
        Column("event_ts", "timestamp", required=True, description="When."),
        Column("channel", "string", checks=(_channel,), description="Channel."),
        Column("store_id", "string", references="stores.store_id", description="Store."),
        Column(
            "product_id",
            "string",
            references="products.product_id",
            description="Product viewed, carted, reviewed …",
        ),
        Column("zone", "string", description="In-store zone of a store_visit (e.g. fresh)."),
        Column(
            "dwell_seconds",
            "integer",
            checks=(_non_negative,),
            description="Seconds spent in the zone (store_visit).",
        ),
        Column("search_query", "string", description="Search text (search)."),
        Column(
            "rating", "integer", checks=(Range(min=1, max=5),), description="Stars given (review)."
        ),
    ),
)

FEEDBACK = Table(
    name="feedback",
    grain="one row per survey or feedback response",
    key=("feedback_id",),
    description="NPS and CSAT answers with free-text comments in any language.",
    columns=(
        Column("feedback_id", "string", required=True, description="Response id."),
        Column(
            "customer_id", "string", references="customers.customer_id", description="Respondent."
        ),
        Column("response_ts", "timestamp", required=True, description="When answered."),
        Column("channel", "string", checks=(_channel,), description="Channel asked through."),
        Column("store_id", "string", references="stores.store_id", description="Store."),
        Column("order_id", "string", description="Order the survey was about."),
        Column(
            "nps",
            "integer",
            checks=(Range(min=0, max=10),),
            description="Likelihood to recommend, 0-10.",
        ),
        Column("csat", "integer", checks=(Range(min=1, max=5),), description="Satisfaction, 1-5."),
        Column("comment", "string", description="Free-text comment."),
        Column("language", "string", description="Language of the comment (en, zh, …)."),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (CUSTOMERS, IDENTITIES, PRODUCTS, STORES, ORDERS, ORDER_LINES, EVENTS, FEEDBACK)
}
"""Every contract table by name, in load order (dimensions before facts)."""

QUARANTINE = Table(
    name="quarantine",
    grain="one row per rejected source row",
    key=("run_id", "source_file", "line_number"),
    description="Rows that failed validation, kept with their raw content and the reason.",
    columns=(
        Column("run_id", "string", required=True, description="Ingestion run."),
        Column("table_name", "string", required=True, description="Target table."),
        Column("source_file", "string", required=True, description="File the row came from."),
        Column(
            "line_number",
            "integer",
            required=True,
            description="Line of the row in the file (header = line 1).",
        ),
        Column("raw", "string", required=True, description="The row as read, as JSON."),
        Column("reason", "string", required=True, description="Why it was rejected."),
        Column("quarantined_at", "timestamp", required=True, description="When."),
    ),
)

INGEST_RUNS = Table(
    name="ingest_runs",
    grain="one row per file ingested",
    key=("run_id", "source_file"),
    description="Audit trail of ingestion: what was read and what became of it.",
    columns=(
        Column("run_id", "string", required=True, description="Ingestion run."),
        Column("table_name", "string", required=True, description="Target table."),
        Column("source_file", "string", required=True, description="File path."),
        Column("file_sha256", "string", required=True, description="Content hash."),
        Column("started_at", "timestamp", required=True, description="Start."),
        Column("finished_at", "timestamp", required=True, description="End."),
        Column("rows_read", "integer", required=True, description="Rows read."),
        Column("rows_loaded", "integer", required=True, description="Rows loaded."),
        Column("rows_quarantined", "integer", required=True, description="Rows quarantined."),
        Column("rows_duplicate", "integer", required=True, description="Duplicates skipped."),
    ),
)

SYSTEM_TABLES: dict[str, Table] = {t.name: t for t in (QUARANTINE, INGEST_RUNS)}
"""Tables omnicrm writes for its own book-keeping."""


def get_table(name: str) -> Table:
    """Return the contract table called ``name``.

    Raises
    ------
    InputError
        For an unknown name; the message lists the known tables.

    Examples
    --------
    >>> get_table("orders").grain
    'one row per order (a POS receipt, an e-shop or app order, or a return receipt)'
    """
    from omnicrm.errors import InputError

    try:
        return TABLES[name]
    except KeyError:
        raise InputError(
            f"unknown table {name!r}: choose one of {', '.join(TABLES)} (see docs/data-model.md)"
        ) from None
