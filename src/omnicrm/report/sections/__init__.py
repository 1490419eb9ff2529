"""Report sections, in page order. Each builder takes the warehouse and a language and returns a
:class:`~omnicrm.report.page.Section`, or ``None`` when its data is not there yet (for example,
scores before ``omnicrm analyze`` has run).
"""

from __future__ import annotations

from collections.abc import Callable

from ibis.backends import BaseBackend

from omnicrm.report.i18n import check_language, t
from omnicrm.report.page import Report, Section
from omnicrm.report.sections import (
    baskets,
    cohorts,
    customers,
    data,
    forecasts,
    kpis,
    value,
)

SectionBuilder = Callable[[BaseBackend, str], Section | None]

SECTIONS: list[SectionBuilder] = [
    data.build,
    kpis.build,
    customers.build,
    value.build,
    cohorts.build,
    baskets.build,
    forecasts.build,
]
"""Builders in page order; later features append theirs."""


def build_report(con: BaseBackend, *, lang: str = "en", subtitle: str = "") -> Report:
    """Build every section that has data.

    Parameters
    ----------
    con : ibis backend
        The warehouse.
    lang : {"en", "zh"}
        Language of labels and texts.
    subtitle : str
        Shown under the title (e.g. the warehouse location).
    """
    check_language(lang)
    sections = [s for s in (build(con, lang) for build in SECTIONS) if s is not None]
    report = Report(lang=lang, sections=sections, subtitle=subtitle)
    if not sections:
        report.sections.append(
            Section("empty", t(lang, "data_section"), intro=t(lang, "empty_warehouse"))
        )
    return report
