"""The report's "Baskets and recommendations" section: rules explorer and examples.

Reads ``basket_rules`` and ``recommendations`` (written by ``omnicrm recommend`` /
``omnicrm basket-rules`` through :mod:`omnicrm.jobs.recommend`).
"""

from __future__ import annotations

import pandas as pd
from ibis.backends import BaseBackend

from omnicrm.models.recommend.plots import plot_rules_network, top_rules
from omnicrm.report.i18n import t
from omnicrm.report.page import Block, Section, figure_block, table_block

EXAMPLE_CUSTOMERS = 5
EXAMPLE_ITEMS = 5
NETWORK_PAIRS = 25
MIN_SHOWN_SUPPORT = 0.001
"""Rules rarer than 0.1% of baskets are left out of the report (huge lifts on a handful of
baskets are noise to a reader); the tables keep them all."""


def _supported(rules: pd.DataFrame) -> pd.DataFrame:
    frequent = rules[rules["support"] >= MIN_SHOWN_SUPPORT]
    return frequent if len(frequent) >= 10 else rules


def build(con: BaseBackend, lang: str) -> Section | None:
    """Return the section, or ``None`` when neither table exists yet."""
    tables = set(con.list_tables())
    if not tables & {"basket_rules", "recommendations"}:
        return None
    section = Section("baskets", t(lang, "baskets_section"), intro=t(lang, "baskets_intro"))
    if "basket_rules" in tables:
        rules = _supported(con.table("basket_rules").execute())
        section.blocks.append(_rules(rules, "product", t(lang, "top_rules"), lang))
        network = plot_rules_network(rules, level="product", top=NETWORK_PAIRS)
        network.update_layout(title=None)
        section.blocks.append(
            figure_block(t(lang, "rules_network"), network, height=600, wide=True)
        )
        if (rules["level"] == "category").any():
            section.blocks.append(_rules(rules, "category", t(lang, "top_category_rules"), lang))
    if "recommendations" in tables:
        section.blocks.append(_examples(con, lang))
    return section


def _rules(rules: pd.DataFrame, level: str, title: str, lang: str) -> Block:
    top = top_rules(rules, level=level, top=15)
    shown = pd.DataFrame(
        {
            t(lang, "rule"): top["rule"],
            t(lang, "support"): top["support"].map("{:.2%}".format),
            t(lang, "confidence"): top["confidence"].map("{:.0%}".format),
            t(lang, "lift"): top["lift"].round(2),
        }
    )
    return table_block(title, shown)


def _examples(con: BaseBackend, lang: str) -> Block:
    recs = con.table("recommendations")
    chosen = recs.select("customer_id").distinct().order_by("customer_id").limit(EXAMPLE_CUSTOMERS)
    rows = (
        recs.semi_join(chosen, "customer_id")
        .filter(recs["rank"] <= EXAMPLE_ITEMS)
        .order_by(["customer_id", "rank"])
        .execute()
    )
    item = rows["item_name"] if "item_name" in rows.columns else rows["item_id"]
    shown = pd.DataFrame(
        {
            t(lang, "customer"): rows["customer_id"],
            t(lang, "rank"): rows["rank"],
            t(lang, "item"): item,
            t(lang, "churn_reasons"): rows["reason"],
        }
    )
    return table_block(t(lang, "recommendation_examples"), shown, wide=True)
