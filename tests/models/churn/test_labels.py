"""The churn label on crafted histories, and the checks on the label window."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from omnicrm.errors import InputError
from omnicrm.models.churn import churn_labels, label_origins
from omnicrm.models.churn.data import check_label_window

from .conftest import lines_table

AS_OF = "2025-02-20"  # day 50


def labels(rows, horizon_days=30):
    out = churn_labels(lines_table(rows), as_of=AS_OF, horizon_days=horizon_days).execute()
    return {r.customer_id: (r.purchases_in_window, r.churned) for r in out.itertuples()}


def test_a_purchase_inside_the_window_means_retained():
    rows = [
        {"order_id": "o1", "customer_id": "a", "day": 1},
        {"order_id": "o2", "customer_id": "a", "day": 60},
        {"order_id": "o3", "customer_id": "a", "day": 61},
    ]
    assert labels(rows) == {"a": (2, False)}


def test_window_starts_at_midnight_of_as_of_and_excludes_its_end():
    rows = [
        {"order_id": "o1", "customer_id": "a", "day": 1},
        {"order_id": "o2", "customer_id": "a", "day": 50, "hour": 0},  # first instant
        {"order_id": "o3", "customer_id": "b", "day": 1},
        {"order_id": "o4", "customer_id": "b", "day": 80, "hour": 0},  # as_of + 30 days
        {"order_id": "o5", "customer_id": "c", "day": 1},
        {"order_id": "o6", "customer_id": "c", "day": 49, "hour": 23},
    ]  # before as_of
    assert labels(rows) == {"a": (1, False), "b": (0, True), "c": (0, True)}


def test_returns_in_the_window_do_not_count_as_activity():
    rows = [
        {"order_id": "o1", "customer_id": "a", "day": 1},
        {"order_id": "r1", "customer_id": "a", "day": 55, "quantity": -1},
    ]
    assert labels(rows) == {"a": (0, True)}


def test_only_customers_who_bought_before_as_of_are_labelled():
    rows = [
        {"order_id": "o1", "customer_id": "a", "day": 1},
        {"order_id": "o2", "customer_id": "new", "day": 55},
        {"order_id": "r1", "customer_id": "returner", "day": 2, "quantity": -1},
        {"order_id": "x", "customer_id": None, "day": 3},
    ]
    assert labels(rows) == {"a": (0, True)}


def test_horizon_must_be_a_sensible_number_of_days():
    rows = [{"order_id": "o1", "customer_id": "a", "day": 1}]
    with pytest.raises(InputError, match="horizon_days = 0 must be a whole number of days"):
        labels(rows, horizon_days=0)


def test_as_of_without_a_full_window_names_the_latest_usable_day():
    with pytest.raises(
        InputError,
        match=(
            r"as_of 2026-06-15 leaves 16 days of data from it \(to 2026-06-30\); the churn "
            r"horizon needs 90: choose an as_of on or before 2026-04-02"
        ),
    ):
        check_label_window(date(2026, 6, 15), 90, date(2026, 6, 30))
    check_label_window(date(2026, 4, 2), 90, date(2026, 6, 30))  # exactly 90 days: fine


def test_origins_step_back_by_the_horizon_so_windows_never_overlap():
    origins = label_origins(date(2026, 6, 30), horizon_days=90, n_origins=4)
    assert origins[-1] == date(2026, 4, 2)
    assert all((b - a).days == 90 for a, b in itertools.pairwise(origins))
    short = label_origins(date(2026, 6, 30), n_origins=8, first_day=date(2025, 6, 1))
    assert all((o - date(2025, 6, 1)).days >= 90 for o in short)
    assert len(short) == 3
