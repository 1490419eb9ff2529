"""The HTML report is self-contained, bilingual and shows what the warehouse holds."""

from __future__ import annotations

import re

import pytest

from omnicrm.errors import InputError
from omnicrm.report import build_report, write_report


def test_report_is_one_offline_file_with_plotly_embedded_once(small_warehouse, tmp_path):
    html = write_report(tmp_path / "r.html", build_report(small_warehouse))
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == html
    assert html.count("Plotly.newPlot") >= 2
    assert len(re.findall(r"plotly\.js v\d", html)) == 1, "plotly.js must be embedded once"
    assert not re.search(r"<script[^>]+src=", html), "no external scripts: it must open offline"


def test_data_section_counts_rows_and_quarantine_kinds(small_warehouse):
    report = build_report(small_warehouse)
    data = report.sections[0]
    html = "".join(b.html for b in data.blocks)
    assert "order_lines" in html
    # both quarantined rows share one kind of reason once the quoted values are blanked
    assert "quantity: &#x27;…&#x27; must be != 0" in html
    assert "lines.csv" in html


def test_chinese_report_uses_chinese_labels(small_warehouse):
    html = write_report(None, build_report(small_warehouse, lang="zh"))
    assert '<html lang="zh-CN">' in html
    assert "数据概览" in html
    assert "各渠道月度销售额" in html


def test_empty_warehouse_says_what_to_do(warehouse):
    report = build_report(warehouse)
    assert "omnicrm ingest" in report.sections[0].intro


def test_unknown_language_is_refused(warehouse):
    with pytest.raises(InputError, match="--lang 'fr' is not supported: choose one of en, zh"):
        build_report(warehouse, lang="fr")
