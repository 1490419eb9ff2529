"""Reasons worded from crafted contributions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.churn import ReasonTemplates, reason_texts


def frame(**values) -> pd.DataFrame:
    return pd.DataFrame({k: [v] for k, v in values.items()})


def test_strongest_drivers_first_in_both_languages():
    f = frame(
        recency_days=75.0,
        gap_median_days=12.0,
        spend_trend_90d=0.4,
        last_nps=3.0,
        last_nps_date=pd.Timestamp("2026-05-02"),
        visits_30d=0.0,
    )
    c = frame(
        recency_days=0.2, gap_median_days=0.0, spend_trend_90d=0.9, last_nps=0.5, visits_30d=0.1
    )
    out = reason_texts(c, f)
    assert out.churn_reasons[0] == (
        "spend down 60% vs previous 90 days · gave NPS 3 on 2026-05-02 · "
        "no purchase for 75 days — usually buys every 12"
    )
    assert reason_texts(c, f, lang="zh").churn_reasons[0] == (
        "消费比前90天下降60% · 2026-05-02给出NPS 3分 · 已75天未购买——平时每12天买一次"
    )
    reasons = json.loads(out.churn_reasons_json[0])
    assert [r["feature"] for r in reasons] == ["spend_trend_90d", "last_nps", "recency_days"]
    assert reasons[0]["contribution"] == 0.9


def test_top_and_threshold_limit_the_reasons():
    f = frame(recency_days=75.0, gap_median_days=12.0, visits_30d=0.0, spend_trend_90d=0.5)
    c = frame(recency_days=0.6, gap_median_days=0.0, visits_30d=0.04, spend_trend_90d=0.3)
    assert reason_texts(c, f, top=1).churn_reasons[0] == (
        "no purchase for 75 days — usually buys every 12"
    )
    # visits_30d (0.04) is under the 0.05 default and never shows
    assert "store visit" not in reason_texts(c, f, top=5).churn_reasons[0]
    assert (
        reason_texts(c, f, min_contribution=0.01, top=5)
        .churn_reasons[0]
        .endswith("no store visit in the last 30 days")
    )


def test_conditions_and_missing_values_choose_the_template():
    # no median gap: the shorter recency wording; spend up: no "spend down" reason
    f = frame(recency_days=40.0, gap_median_days=np.nan, spend_trend_90d=1.5)
    c = frame(recency_days=0.5, gap_median_days=0.0, spend_trend_90d=0.4)
    assert reason_texts(c, f).churn_reasons[0] == "no purchase for 40 days"


def test_features_pushing_towards_retention_are_not_reasons():
    f = frame(recency_days=3.0, gap_median_days=10.0)
    c = frame(recency_days=-1.5, gap_median_days=-0.2)
    out = reason_texts(c, f)
    assert out.churn_reasons[0] == ""
    assert out.churn_reasons_json[0] == "[]"


def test_the_same_text_from_two_features_is_shown_once():
    f = frame(orders_trend_90d=0.0, spend_trend_90d=0.0, orders_90d=0.0, orders_prev_90d=2.0)
    c = frame(orders_trend_90d=0.4, spend_trend_90d=0.3, orders_90d=0.0, orders_prev_90d=0.0)
    assert reason_texts(c, f).churn_reasons[0] == (
        "no purchase in the last 90 days after buying in the 90 before"
    )


def test_a_user_template_file(tmp_path):
    path = tmp_path / "reasons.csv"
    path.write_text(
        "feature,when,en,zh\nrecency_days,> 30,quiet for {value:.0f} d,{value:.0f}天未买\n",
        encoding="utf-8",
    )
    out = reason_texts(
        frame(recency_days=0.5), frame(recency_days=45.0), templates=ReasonTemplates.from_csv(path)
    )
    assert out.churn_reasons[0] == "quiet for 45 d"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("feature,when,en\nx,< 1,a\n", "columns must include"),
        ("feature,when,en,zh\nx,about 1,a,b\n", "line 2: when 'about 1' is not a condition"),
        ("feature,when,en,zh\nx,< 1,{oops,b\n", "line 2: the en text '{oops' is not a valid"),
    ],
)
def test_bad_template_files_are_explained(tmp_path, body, message):
    path = tmp_path / "reasons.csv"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        ReasonTemplates.from_csv(path)


def test_unknown_placeholder_and_language_are_refused(tmp_path):
    path = tmp_path / "reasons.csv"
    path.write_text("feature,when,en,zh\nrecency_days,*,{nope},x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"placeholder \{nope\}"):
        reason_texts(
            frame(recency_days=1.0),
            frame(recency_days=1.0),
            templates=ReasonTemplates.from_csv(path),
        )
    with pytest.raises(InputError, match="lang = 'fr' is not supported"):
        reason_texts(frame(recency_days=1.0), frame(recency_days=1.0), lang="fr")


def test_every_shipped_template_names_real_columns():
    from omnicrm.models.churn import MODEL_FEATURES
    from omnicrm.models.churn.features import DISPLAY_COLUMNS
    from omnicrm.models.churn.reasons import _DERIVED, _fields

    templates = ReasonTemplates.default()
    known = {*MODEL_FEATURES, *DISPLAY_COLUMNS, *_DERIVED}
    for feature, _, _, words in templates.rows:
        assert feature in MODEL_FEATURES, feature
        for text in words.values():
            assert set(_fields(text)) <= known, text


def test_many_customers_get_the_same_texts_and_json_as_one_at_a_time():
    rng = np.random.default_rng(3)
    n = 300
    f = pd.DataFrame(
        {
            "recency_days": rng.integers(1, 200, n).astype(float),
            "gap_median_days": rng.choice([np.nan, 7.0, 12.0], n),
            "spend_trend_90d": rng.choice([0.0, 0.25, 0.5, 1.5], n),
            "last_nps": rng.choice([np.nan, 3.0, 9.0], n),
            "last_nps_date": pd.Timestamp("2026-05-02"),
        }
    )
    c = pd.DataFrame(rng.normal(0.1, 0.3, (n, 4)), columns=list(f.columns[:4]))
    for lang in ("en", "zh"):
        together = reason_texts(c, f, lang=lang)
        for i in range(0, n, 37):
            alone = reason_texts(c.iloc[[i]], f.iloc[[i]], lang=lang)
            assert together.churn_reasons[i] == alone.churn_reasons[0]
            reasons = json.loads(together.churn_reasons_json[i])
            assert together.churn_reasons_json[i] == json.dumps(reasons, ensure_ascii=False)
            assert " · ".join(r["text"] for r in reasons) == together.churn_reasons[i]
            assert [r["contribution"] for r in reasons] == sorted(
                (r["contribution"] for r in reasons), reverse=True
            )
