"""Summary validation (messages name the rows) and compression to sufficient statistics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from omnicrm.errors import InputError
from omnicrm.models.clv import BetaGeoModel, ParetoNBDModel
from omnicrm.models.clv.inputs import compress, purchase_arrays


def _summary(frequency, recency, T):
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(frequency))],
            "frequency": frequency,
            "recency": recency,
            "T": T,
        }
    )


@pytest.mark.parametrize("model", [BetaGeoModel, ParetoNBDModel])
class TestBadSummariesAreRefused:
    def test_recency_after_T(self, model):
        s = _summary([1, 2], [3.0, 9.0], [5.0, 5.0])
        with pytest.raises(InputError, match=r"row 1 \(customer_id 'c1'\): recency > T"):
            model().fit(s)

    def test_negative_frequency(self, model):
        s = _summary([-1, 2], [0.0, 1.0], [5.0, 5.0])
        with pytest.raises(
            InputError,
            match=r"row 0 \(customer_id 'c0'\): frequency is "
            "negative",
        ):
            model().fit(s)

    def test_zero_frequency_with_recency(self, model):
        s = _summary([0, 2], [1.0, 1.0], [5.0, 5.0])
        with pytest.raises(InputError, match="frequency is 0 but recency is not 0"):
            model().fit(s)

    def test_missing_values(self, model):
        s = _summary([1, 2], [1.0, np.nan], [5.0, 5.0])
        with pytest.raises(
            InputError,
            match=r"column 'recency' is missing, not a number or "
            r"infinite in row 1 \(customer_id 'c1'\)",
        ):
            model().fit(s)

    def test_fractional_frequency(self, model):
        s = _summary([1.5, 2], [1.0, 1.0], [5.0, 5.0])
        with pytest.raises(InputError, match="frequency is not a whole number"):
            model().fit(s)

    def test_too_few_customers(self, model):
        s = _summary([1, 2], [1.0, 2.0], [5.0, 5.0])
        with pytest.raises(InputError, match="needs at least 10 customers to fit, got 2"):
            model().fit(s)

    def test_nobody_came_back(self, model):
        s = _summary([0] * 20, [0.0] * 20, [5.0] * 20)
        with pytest.raises(InputError, match="no customer has a repeat purchase"):
            model().fit(s)

    def test_missing_column_says_how_to_build_the_summary(self, model):
        with pytest.raises(InputError, match=r"summary has no column 'T'.*rfm_summary"):
            model().fit(_summary([1], [1.0], [2.0]).drop(columns="T"))

    def test_not_a_dataframe(self, model):
        with pytest.raises(InputError, match="summary must be a pandas DataFrame, not dict"):
            model().fit({"frequency": [1]})


def test_long_lists_of_bad_rows_are_truncated():
    s = _summary([-1] * 8, [0.0] * 8, [1.0] * 8)
    with pytest.raises(InputError, match=r"row 4 \(customer_id 'c4'\) and 3 more"):
        purchase_arrays(s)


def test_compression_keeps_counts_exact():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, 1000).astype(float)
    arrays = {
        "frequency": x,
        "recency": np.where(x > 0, rng.integers(1, 3, 1000), 0.0),
        "T": rng.integers(3, 5, 1000).astype(float),
    }
    stats = compress(arrays, ("frequency", "recency", "T"))
    assert stats.n_customers == 1000
    assert len(stats.weights) <= 3 * 3 * 2
    raw = pd.DataFrame(arrays).value_counts()
    for i in range(len(stats.weights)):
        key = tuple(stats.column(c)[i] for c in ("frequency", "recency", "T"))
        assert raw[key] == stats.weights[i]
    by_frequency = stats.weight_by("frequency")
    for value, count in zip(stats.values["frequency"], by_frequency, strict=True):
        assert count == (x == value).sum()


def test_fit_on_compressed_rows_equals_fit_on_raw_rows(cdnow_summary):
    """Weighting distinct rows by their counts is exact: the log-likelihood is the same."""
    model = BetaGeoModel().fit(cdnow_summary)
    per_customer = model.log_likelihood(cdnow_summary).sum()
    assert model.log_likelihood_ == pytest.approx(per_customer, rel=1e-12)
