"""Report labels in English and Simplified Chinese.

Examples
--------
>>> from omnicrm.report.i18n import t
>>> t("zh", "revenue")
'销售额'
>>> t("en", "no_such_label")
'no_such_label'
"""

from __future__ import annotations

from omnicrm.errors import InputError

LANGUAGES = ("en", "zh")

LABELS: dict[str, dict[str, str]] = {
    "report_title": {"en": "omnicrm customer report", "zh": "omnicrm 客户分析报告"},
    "generated": {"en": "Generated", "zh": "生成时间"},
    "warehouse": {"en": "Warehouse", "zh": "数据仓库"},
    "contents": {"en": "Contents", "zh": "目录"},
    "data_section": {"en": "Data", "zh": "数据概览"},
    "data_intro": {
        "en": "What the warehouse holds: rows per table, the period covered, sales by channel "
        "and the rows that ingestion put in quarantine.",
        "zh": "数据仓库中的内容：各表行数、覆盖时间段、各渠道销售情况，以及导入时被隔离的数据行。",
    },
    "rows_per_table": {"en": "Rows per table", "zh": "各表行数"},
    "table": {"en": "Table", "zh": "表"},
    "rows": {"en": "Rows", "zh": "行数"},
    "period": {"en": "Period covered", "zh": "覆盖时间段"},
    "first_order": {"en": "First order", "zh": "首笔订单"},
    "last_order": {"en": "Last order", "zh": "最后订单"},
    "lines": {"en": "Order lines", "zh": "订单行"},
    "orders": {"en": "Orders", "zh": "订单数"},
    "returned_lines": {"en": "Returned lines", "zh": "退货行"},
    "customers": {"en": "Customers", "zh": "顾客数"},
    "revenue": {"en": "Revenue", "zh": "销售额"},
    "month": {"en": "Month", "zh": "月份"},
    "channel": {"en": "Channel", "zh": "渠道"},
    "revenue_by_channel": {"en": "Monthly revenue by channel", "zh": "各渠道月度销售额"},
    "orders_by_channel": {"en": "Orders by channel", "zh": "各渠道订单数"},
    "quarantine": {"en": "Quarantined rows", "zh": "隔离数据行"},
    "quarantine_none": {
        "en": "No row was quarantined: every row read was loaded or was a duplicate.",
        "zh": "没有被隔离的数据行：所有读取的行均已导入或为重复行。",
    },
    "reason": {"en": "Reason", "zh": "原因"},
    "ingest_runs": {"en": "Ingestion runs", "zh": "导入记录"},
    "file": {"en": "File", "zh": "文件"},
    "read": {"en": "Read", "zh": "读取"},
    "loaded": {"en": "Loaded", "zh": "导入"},
    "quarantined": {"en": "Quarantined", "zh": "隔离"},
    "duplicates": {"en": "Duplicates", "zh": "重复"},
    "empty_warehouse": {
        "en": "The warehouse has no order lines yet: run 'omnicrm ingest' first.",
        "zh": "数据仓库中还没有订单行：请先运行 'omnicrm ingest'。",
    },
    # channel codes
    "store": {"en": "Store", "zh": "门店"},
    "online": {"en": "Online shop", "zh": "网上商城"},
    "app": {"en": "App", "zh": "App"},
    "mini_program": {"en": "Mini-program", "zh": "小程序"},
    "marketplace": {"en": "Marketplace", "zh": "第三方平台"},
    "unmanned": {"en": "Unmanned store", "zh": "无人店"},
    "unknown": {"en": "Unknown", "zh": "未知"},
}


def check_language(lang: str) -> str:
    """Return ``lang`` if supported, else raise :class:`InputError` listing the choices."""
    if lang not in LANGUAGES:
        raise InputError(f"--lang {lang!r} is not supported: choose one of {', '.join(LANGUAGES)}")
    return lang


def t(lang: str, key: str) -> str:
    """The label ``key`` in ``lang``; unknown keys are returned unchanged (e.g. data values)."""
    entry = LABELS.get(key)
    if entry is None:
        return key
    return entry.get(lang, entry["en"])
