"""Scores from the same data are the same bits; the risk list, its CSV and the report figures."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.churn import (
    ChurnTables,
    fit_churn_model,
    plot_calibration,
    plot_lift,
    plot_risk_list,
    risk_list,
    score_customers,
    write_risk_list_csv,
)
from omnicrm.models.churn.plots import lift_table

from .conftest import busy_lines, products_table


@pytest.mark.slow
def test_two_runs_on_the_same_data_give_the_same_model_scores_and_reasons():
    # the features were float64 sums in whatever order DuckDB's threads added the rows, so
    # LightGBM's thresholds, the CLV fits, probabilities and reasons moved between runs
    def run(threads: int) -> tuple[str, pd.DataFrame]:
        con = ibis.duckdb.connect(threads=threads)
        tables = ChurnTables(lines=busy_lines(con), products=products_table())
        model = fit_churn_model(tables, as_of="2026-02-05")
        return model.booster_text_, score_customers(tables, as_of="2026-02-05", model=model)

    booster, scores = run(1)
    assert len(scores) > 2_000
    assert (scores["churn_reasons_json"] != "[]").any()
    again, rescored = run(4)
    assert again == booster
    pd.testing.assert_frame_equal(rescored, scores, check_exact=True)


@pytest.fixture
def scored() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "clv_12m": [100.0, 900.0, 50.0, 400.0],
            "churn_prob": [0.9, 0.5, 0.2, 0.25],
            "p_alive": [0.2, 0.7, 0.9, 0.95],
            "churn_reasons": ["已75天未购买", "spend down 60% vs previous 90 days", "", "x"],
        }
    )


def test_risk_list_is_sorted_by_value_at_risk(scored):
    risk = risk_list(scored)
    assert risk.customer_id.tolist() == ["b", "d", "a", "c"]
    assert risk.value_at_risk.tolist() == [450.0, 100.0, 90.0, 10.0]
    assert risk["rank"].tolist() == [1, 2, 3, 4]
    assert list(risk.columns) == [
        "rank",
        "customer_id",
        "value_at_risk",
        "churn_prob",
        "clv_12m",
        "p_alive",
        "churn_reasons",
    ]
    assert risk_list(scored, top=2).customer_id.tolist() == ["b", "d"]


def test_ties_in_value_at_risk_are_ordered_by_customer_id():
    tied = pd.DataFrame(
        {"customer_id": ["z", "y"], "clv_12m": [10.0, 20.0], "churn_prob": [0.5, 0.25]}
    )
    assert risk_list(tied).customer_id.tolist() == ["y", "z"]


def test_csv_keeps_chinese_reasons_readable_in_excel(scored, tmp_path):
    path = write_risk_list_csv(risk_list(scored), tmp_path / "out" / "risk.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    assert back.churn_reasons.tolist()[2] == "已75天未购买"
    assert back.value_at_risk.tolist() == [450.0, 100.0, 90.0, 10.0]


def test_risk_list_needs_the_score_columns(scored):
    with pytest.raises(InputError, match="lacks churn_prob"):
        risk_list(scored.drop(columns="churn_prob"))
    with pytest.raises(InputError, match="top = 0 must be"):
        risk_list(scored, top=0)


def test_unwritable_csv_path_is_explained(scored, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write the risk list"):
        write_risk_list_csv(risk_list(scored), blocker / "risk.csv")


def test_figures(scored):
    fig = plot_risk_list(risk_list(scored), top=3)
    assert list(fig.data[0].y) == ["a", "d", "b"]  # largest bar on top
    y = np.array([1, 0, 1, 0, 1, 0, 0, 0, 1, 0] * 10)
    p = np.linspace(0.9, 0.1, 100)
    cal = plot_calibration(y, {"churn model": p}, bins=5)
    assert [t.name for t in cal.data] == ["perfect", "churn model"]
    lift = plot_lift(y, {"model": p, "baseline": p[::-1]})
    assert len(lift.data) == 2


def test_lift_table_deciles():
    y = np.array([1] * 10 + [0] * 90)
    table = lift_table(y, -np.arange(100.0))
    assert table.lift.tolist()[0] == pytest.approx(10.0)
    assert table.lift.tolist()[1:] == [0] * 9
