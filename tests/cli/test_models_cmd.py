"""``omnicrm models evaluate``: model cards as tables or as one JSON object keyed by model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omnicrm.cli.main import main
from omnicrm.warehouse import connect


def _url(path: Path) -> str:
    return f"duckdb:///{path}"


@pytest.fixture
def tiny_warehouse(tmp_path) -> str:
    """Two purchases of one customer, 2025-01-01 and 2025-06-30."""
    import ibis
    import pandas as pd

    path = tmp_path / "tiny.duckdb"
    con = connect(_url(path))
    lines = pd.DataFrame(
        {
            "order_id": ["o1", "o2"],
            "line_number": [1, 1],
            "order_ts": pd.to_datetime(["2025-01-01 10:00", "2025-06-30 10:00"], utc=True),
            "customer_id": ["a", "a"],
            "store_id": ["S1", "S1"],
            "channel": ["store", "store"],
            "product_id": ["p1", "p1"],
            "quantity": [1.0, 1.0],
            "unit_price": [5.0, 5.0],
            "discount_amount": [0.0, 0.0],
            "amount": [5.0, 5.0],
            "promotion_id": pd.Series([None, None], dtype="string"),
            "is_return": [False, False],
        }
    )
    con.create_table("order_lines", ibis.memtable(lines))
    con.disconnect()
    return _url(path)


def test_as_of_without_a_full_horizon_is_one_clear_line(tiny_warehouse, capsys):
    code = main(["models", "evaluate", "--warehouse", tiny_warehouse, "--as-of", "2025-06-15"])
    err = capsys.readouterr().err
    assert code == 2
    assert (
        "as_of 2025-06-15 leaves 16 days of data from it (to 2025-06-30); the churn "
        "horizon needs 90: choose an as_of on or before 2025-04-02"
    ) in " ".join(err.split())
    assert "Traceback" not in err


def test_bad_flags_are_named(tiny_warehouse, tmp_path, capsys):
    assert main(["models", "evaluate", "-w", tiny_warehouse, "--as-of", "15/06/2025"]) == 2
    assert "--as-of '15/06/2025' is not a date: use YYYY-MM-DD" in capsys.readouterr().err
    assert main(["models", "evaluate", "-w", tiny_warehouse, "--model", "clv"]) == 2
    assert "unknown model(s) clv; choose from bgnbd" in capsys.readouterr().err
    assert (
        main(["models", "evaluate", "-w", tiny_warehouse, "--truth", str(tmp_path / "none.csv")])
        == 2
    )
    assert "truth file" in capsys.readouterr().err


def test_a_warehouse_without_sales_lines(tmp_path, capsys):
    assert main(["models", "evaluate", "-w", _url(tmp_path / "empty.duckdb")]) == 2
    assert "no table 'order_lines'" in capsys.readouterr().err


def test_too_little_history_for_the_models_is_an_error_not_a_traceback(tiny_warehouse, capsys):
    assert main(["models", "evaluate", "-w", tiny_warehouse, "-m", "bgnbd"]) == 2
    err = capsys.readouterr().err
    assert "at least 10 customers" in err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def retailer(tmp_path_factory) -> tuple[str, Path]:
    from omnicrm.datagen import generate
    from omnicrm.ingest import ingest_files

    root = tmp_path_factory.mktemp("models_cmd")
    shop = generate(root / "data", customers=2500, days=730, seed=11)
    path = root / "warehouse.duckdb"
    con = connect(_url(path))
    for f in shop.files:
        ingest_files(con, [f.path], table=f.table, mapping=f.mapping_path)
    con.disconnect()
    return _url(path), shop.truth_path


@pytest.mark.slow
def test_json_is_one_object_keyed_by_model_with_ground_truth(retailer, capsys):
    url, truth = retailer
    assert main(["models", "evaluate", "-w", url, "--truth", str(truth), "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    assert list(cards) == [
        "bgnbd",
        "pareto_nbd",
        "gamma_gamma",
        "churn",
        "forecast",
        "recommenders",
    ]
    for name, card in cards.items():
        assert card["name"] == name
        assert {"data_window", "split", "metrics", "baselines", "ground_truth"} <= set(card)
        assert card["data_window"]["last_day"] == "2026-06-30"
    bg = cards["bgnbd"]
    assert bg["split"]["holdout"] == "2026-04-02 to 2026-06-30"
    assert bg["metrics"]["mae_purchases"] < bg["baselines"]["naive_rate"]["mae_purchases"]
    assert abs(bg["metrics"]["tracking_error_pct"]) < abs(
        bg["baselines"]["naive_rate"]["tracking_error_pct"]
    )
    assert bg["ground_truth"]["auc_dead_by_1_minus_p_alive"] > 0.75
    gg = cards["gamma_gamma"]["ground_truth"]
    assert gg["spearman_clv_12m_vs_spend_next_365d"] > 0.6
    assert gg["spearman_clv_12m_vs_spend_next_365d"] > gg["baseline_spearman_last_365d_spend"]
    churn = cards["churn"]
    assert churn["split"]["test_as_of"] == "2026-04-02"
    assert churn["split"]["calibration_origin"] == "2026-01-02"
    assert churn["metrics"]["roc_auc"] > churn["baselines"]["bgnbd_p_alive"]["roc_auc"] + 0.1
    assert churn["ground_truth"]["auc_dead_by_churn_prob"] > 0.85


@pytest.mark.slow
def test_text_output_prints_one_card_per_model(retailer, capsys):
    url, _ = retailer
    assert main(["models", "evaluate", "-w", url, "-m", "bgnbd", "-m", "gamma_gamma"]) == 0
    out = capsys.readouterr().out
    assert "BG/NBD purchase model" in out
    assert "Gamma-Gamma spend model" in out
    assert "naive_rate" in out
    assert "Churn" not in out
