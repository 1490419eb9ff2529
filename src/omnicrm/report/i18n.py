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
    # customers section
    "customers_section": {"en": "Customers", "zh": "客户分析"},
    "customers_intro": {
        "en": "Who the customers are as of {as_of}: RFM segments (recency, frequency, monetary "
        "scores 1-5), value tiers, lifecycle stages and behavioural clusters.",
        "zh": "截至 {as_of} 的客户结构：RFM 分群（最近一次消费、消费频率、消费金额，1-5 分）、"
        "价值层级、生命周期阶段和行为聚类。",
    },
    "segment": {"en": "Segment", "zh": "客户分群"},
    "segment_sizes": {"en": "Segment sizes and value", "zh": "各分群人数与价值"},
    "share_customers": {"en": "Share of customers", "zh": "客户占比"},
    "share_revenue": {"en": "Share of spend", "zh": "消费占比"},
    "avg_spend": {"en": "Average spend", "zh": "人均消费"},
    "action": {"en": "Suggested action", "zh": "建议行动"},
    "value_tiers": {"en": "Value tiers", "zh": "价值层级"},
    "tier": {"en": "Tier", "zh": "层级"},
    "lifecycle_funnel": {"en": "Lifecycle stages", "zh": "生命周期阶段"},
    "stage": {"en": "Stage", "zh": "阶段"},
    "new": {"en": "New", "zh": "新客"},
    "active": {"en": "Active", "zh": "活跃"},
    "at_risk": {"en": "At risk", "zh": "有流失风险"},
    "lapsed": {"en": "Lapsed", "zh": "已流失"},
    "reactivated": {"en": "Reactivated", "zh": "已召回"},
    "cluster_profiles": {"en": "Behavioural clusters", "zh": "行为聚类画像"},
    "cluster": {"en": "Cluster", "zh": "聚类"},
    "name": {"en": "Name", "zh": "名称"},
    "size": {"en": "Customers", "zh": "人数"},
    "share": {"en": "Share", "zh": "占比"},
    # KPI section
    "kpi_section": {"en": "KPIs", "zh": "关键指标"},
    "kpi_intro": {
        "en": "Monthly KPIs (definitions in docs/metrics.md) and the gaps to the targets set in "
        "configuration. The last month may be partial.",
        "zh": "月度关键指标（定义见 docs/metrics.md）以及与配置目标的差距。最后一个月可能不完整。",
    },
    "revenue_active": {
        "en": "Revenue and active customers per month",
        "zh": "每月销售额与活跃客户数",
    },
    "rates": {"en": "Retention, repurchase and churn rates", "zh": "留存率、复购率与流失率"},
    "aov_frequency": {"en": "Average order value and purchase frequency", "zh": "客单价与购买频次"},
    "kpi_gaps": {"en": "Gaps to targets", "zh": "目标差距"},
    "metric": {"en": "Metric", "zh": "指标"},
    "actual": {"en": "Actual", "zh": "实际"},
    "target": {"en": "Target", "zh": "目标"},
    "gap": {"en": "Gap", "zh": "差距"},
    "status": {"en": "Status", "zh": "状态"},
    "value": {"en": "Value", "zh": "数值"},
    "active_customers": {"en": "Active customers", "zh": "活跃客户"},
    "new_customers": {"en": "New customers", "zh": "新客户"},
    "retention_rate": {"en": "Retention rate", "zh": "留存率"},
    "repurchase_rate": {"en": "Repurchase rate", "zh": "复购率"},
    "churn_rate": {"en": "Churn rate", "zh": "流失率"},
    "average_order_value": {"en": "Average order value", "zh": "客单价"},
    "purchase_frequency": {"en": "Purchase frequency", "zh": "购买频次"},
    "return_rate": {"en": "Return rate", "zh": "退货率"},
    "members_revenue_share": {"en": "Members' share of revenue", "zh": "会员销售占比"},
    "on track": {"en": "on track", "zh": "达标"},
    "below target": {"en": "below target", "zh": "未达标"},
    "period_start": {"en": "Period", "zh": "周期"},
    # cohorts section
    "cohorts_section": {"en": "Cohorts and migration", "zh": "同期群与分群迁移"},
    "cohorts_intro": {
        "en": "Retention of each monthly cohort (customers by month of first purchase) and how "
        "customers moved between segments.",
        "zh": "各月度同期群（按首次购买月份划分）的留存情况，以及客户在各分群之间的迁移。",
    },
    "cohort_heatmap": {
        "en": "Cohort retention (share of the cohort active)",
        "zh": "同期群留存率（同期群中活跃客户占比）",
    },
    "cohort_month": {"en": "First purchase month", "zh": "首购月份"},
    "months_since": {"en": "Months since first purchase", "zh": "首购后月数"},
    "retention": {"en": "Retention", "zh": "留存率"},
    "migration_matrix": {
        "en": "Segment migration from {start} to {end}",
        "zh": "分群迁移（{start} 至 {end}）",
    },
    "segment_from": {"en": "Segment at start", "zh": "期初分群"},
    "segment_to": {"en": "Segment at end", "zh": "期末分群"},
    "gone": {"en": "Gone", "zh": "流失"},
    # value and risk section
    "value_section": {"en": "Value and churn risk", "zh": "客户价值与流失风险"},
    "value_intro": {
        "en": "Customer lifetime value from BG/NBD and Gamma-Gamma (12 months, see docs/clv.md) "
        "and the churn model's risk (no purchase in the next 90 days, see docs/churn.md). "
        "Value at risk = 12-month CLV x churn probability.",
        "zh": "基于 BG/NBD 与 Gamma-Gamma 模型的客户终身价值（12 个月，见 docs/clv.md），"
        "以及流失模型给出的风险（未来 90 天内不再购买，见 docs/churn.md）。"
        "风险价值 = 12 个月 CLV × 流失概率。",
    },
    "risk_list": {"en": "Customers with the most value at risk", "zh": "风险价值最高的客户"},
    "risk_chart": {"en": "Top 20 by value at risk", "zh": "风险价值前 20 名"},
    "customer": {"en": "Customer", "zh": "客户"},
    "clv_12m": {"en": "CLV 12 months", "zh": "12个月CLV"},
    "churn_prob": {"en": "Churn probability", "zh": "流失概率"},
    "value_at_risk": {"en": "Value at risk", "zh": "风险价值"},
    "churn_reasons": {"en": "Why", "zh": "原因"},
    "p_alive": {"en": "P(alive)", "zh": "存活概率"},
    "clv_holdout": {
        "en": "BG/NBD holdout check: purchases after {date} by calibration frequency",
        "zh": "BG/NBD 留出期检验：{date} 之后的购买次数（按校准期购买次数分组）",
    },
    "clv_tracking": {
        "en": "Cumulative repeat purchases: actual vs BG/NBD (holdout after {date})",
        "zh": "累计重复购买：实际与 BG/NBD 预测（{date} 之后为留出期）",
    },
    "calibration_frequency": {"en": "Repeat purchases in calibration", "zh": "校准期重复购买次数"},
    "holdout_purchases": {"en": "Mean purchases in holdout", "zh": "留出期平均购买次数"},
    "model": {"en": "Model", "zh": "模型"},
    "week": {"en": "Week", "zh": "周"},
    "repeat_purchases": {"en": "Repeat purchases", "zh": "重复购买次数"},
    "clv_distribution": {"en": "12-month CLV by segment", "zh": "各分群 12 个月 CLV"},
    # baskets and recommendations
    "baskets_section": {"en": "Baskets and recommendations", "zh": "购物篮与个性化推荐"},
    "baskets_intro": {
        "en": "Products bought together (association rules: support, confidence, lift; see "
        "docs/basket.md) and examples of personal recommendations with their reasons.",
        "zh": "经常一起购买的商品（关联规则：支持度、置信度、提升度，见 docs/basket.md），"
        "以及个性化推荐示例及其推荐理由。",
    },
    "top_rules": {"en": "Strongest product rules", "zh": "最强的商品关联规则"},
    "top_category_rules": {"en": "Strongest category rules", "zh": "最强的品类关联规则"},
    "rule": {"en": "Rule", "zh": "规则"},
    "support": {"en": "Support", "zh": "支持度"},
    "confidence": {"en": "Confidence", "zh": "置信度"},
    "lift": {"en": "Lift", "zh": "提升度"},
    "rules_network": {"en": "Products bought together", "zh": "经常一起购买的商品"},
    "recommendation_examples": {"en": "Recommendation examples", "zh": "推荐示例"},
    "item": {"en": "Item", "zh": "商品"},
    "rank": {"en": "#", "zh": "#"},
    # forecasts and alerts
    "forecast_section": {"en": "Forecasts and alerts", "zh": "需求预测与异常预警"},
    "forecast_intro": {
        "en": "Demand forecasts with 80% and 95% intervals (see docs/forecasting.md) and KPI "
        "values that fell outside their expected range.",
        "zh": "带 80% 与 95% 预测区间的需求预测（见 docs/forecasting.md），"
        "以及超出预期范围的关键指标异常。",
    },
    "forecast_total": {
        "en": "Total demand: history and forecast (units)",
        "zh": "总需求：历史与预测（件）",
    },
    "forecast_category": {
        "en": "Forecast by category, next {n} days (units)",
        "zh": "各品类未来 {n} 天预测（件）",
    },
    "alerts_timeline": {"en": "KPI alerts", "zh": "关键指标预警"},
    "alerts_table": {"en": "Latest alerts", "zh": "最新预警"},
    "severity": {"en": "Severity", "zh": "级别"},
    "message": {"en": "Explanation", "zh": "说明"},
    "day": {"en": "Day", "zh": "日期"},
    "delivered": {"en": "Delivered", "zh": "已推送"},
    "no_alerts": {
        "en": "No KPI was outside its expected range.",
        "zh": "没有关键指标超出预期范围。",
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
