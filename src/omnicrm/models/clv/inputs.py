"""Validation of CLV summaries and their compression to sufficient statistics.

The BG/NBD and Pareto/NBD likelihoods depend on a customer only through ``(x, t_x, T)``, and
the Gamma-Gamma likelihood only through ``(x, m)``. Customers sharing those values are fitted as
one row weighted by their count, which is exact and makes fits on millions of customers with
day-level dates cost as much as a fit on the few thousand distinct rows.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"frequency": [0, 0, 2], "recency": [0.0, 0.0, 3.0], "T": [5.0, 5.0, 5.0]})
>>> stats = compress(purchase_arrays(s), ("frequency", "recency", "T"))
>>> stats.column("frequency").tolist(), stats.weights.tolist()
([0.0, 2.0], [2.0, 1.0])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from omnicrm.errors import InputError

MIN_CUSTOMERS = 10
"""Fewest customers a CLV model is fitted on (4 parameters need far more; this stops typos)."""

_MAX_LISTED = 5


def row_labels(summary: pd.DataFrame, mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)
    ids = summary["customer_id"].to_numpy() if "customer_id" in summary.columns else None
    labels = [
        f"row {i}" + (f" (customer_id {ids[i]!r})" if ids is not None else "")
        for i in idx[:_MAX_LISTED]
    ]
    more = f" and {len(idx) - _MAX_LISTED} more" if len(idx) > _MAX_LISTED else ""
    return ", ".join(labels) + more


def numeric_column(summary: pd.DataFrame, name: str) -> np.ndarray:
    if not isinstance(summary, pd.DataFrame):
        raise InputError(
            f"summary must be a pandas DataFrame, not {type(summary).__name__}; build it with "
            "omnicrm.models.clv.rfm_summary(...) or rfm_summary_expr(...).to_pandas()"
        )
    if name not in summary.columns:
        raise InputError(
            f"summary has no column {name!r} (columns: {list(summary.columns)}); build it with "
            "omnicrm.models.clv.rfm_summary(...) or rename your columns to frequency, recency, "
            "T and monetary_value"
        )
    values = pd.to_numeric(summary[name], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(
            f"summary column {name!r} is missing, not a number or infinite in "
            f"{row_labels(summary, bad)}; drop or fix those rows"
        )
    return values


def purchase_arrays(summary: pd.DataFrame) -> dict[str, np.ndarray]:
    """Validated ``frequency, recency, T`` arrays of a summary (see :mod:`.summary`)."""
    x = numeric_column(summary, "frequency")
    t_x = numeric_column(summary, "recency")
    T = numeric_column(summary, "T")
    checks = (
        (x < 0, "frequency is negative; frequency counts repeat purchases (>= 0)"),
        (x != np.round(x), "frequency is not a whole number; it counts repeat purchases"),
        (t_x < 0, "recency is negative; recency is the time from first to last purchase"),
        (T < 0, "T is negative; T is the time from the first purchase to the observation end"),
        (
            t_x > T * (1 + 1e-12) + 1e-12,
            "recency > T; the last purchase cannot be after the observation end "
            "(check observation_period_end and the time unit of both columns)",
        ),
        (
            (x == 0) & (t_x != 0),
            "frequency is 0 but recency is not 0; with no repeat purchase recency must be 0",
        ),
    )
    for mask, reason in checks:
        if mask.any():
            raise InputError(f"summary {row_labels(summary, mask)}: {reason}")
    return {"frequency": x, "recency": np.minimum(t_x, T), "T": T}


def spend_arrays(summary: pd.DataFrame) -> dict[str, np.ndarray]:
    """Validated ``frequency, monetary_value`` arrays for the Gamma-Gamma spend model."""
    x = numeric_column(summary, "frequency")
    m = numeric_column(summary, "monetary_value")
    if (x <= 0).any():
        raise InputError(
            f"summary {row_labels(summary, x <= 0)}: frequency must be > 0 for the Gamma-Gamma "
            "spend model; fit it on repeat buyers only: summary[summary.frequency > 0]"
        )
    if (m <= 0).any():
        raise InputError(
            f"summary {row_labels(summary, m <= 0)}: monetary_value must be > 0 for the "
            "Gamma-Gamma spend model; fit it on repeat buyers with positive spend only: "
            "summary[(summary.frequency > 0) & (summary.monetary_value > 0)]"
        )
    return {"frequency": x, "monetary_value": m}


def weight_column(summary: pd.DataFrame, name: str) -> np.ndarray:
    """Validated column of customer counts (whole numbers >= 0) of a grouped summary."""
    counts = numeric_column(summary, name)
    bad = (counts < 0) | (counts != np.round(counts))
    if bad.any():
        raise InputError(
            f"summary {row_labels(summary, bad)}: weights column {name!r} must hold whole "
            "numbers >= 0 (how many customers the row stands for)"
        )
    return counts


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """Inner product of two 1-D arrays, without BLAS.

    ``a @ b`` calls a multi-threaded BLAS ``ddot``; on a busy machine waking its threads costs
    milliseconds per call, more than the arithmetic of a whole likelihood evaluation.
    """
    return float(np.einsum("i,i->", a, b))


@dataclass(frozen=True)
class SufficientStats:
    """Distinct rows of the statistics a likelihood needs, with how many customers share each.

    Each column is stored as its distinct values (``values[name]``) and, per distinct row, the
    position of the row's value among them (``codes[name]``), so a likelihood can evaluate
    expensive functions once per distinct value (e.g. ``gammaln(r + x)`` once per frequency).
    """

    values: dict[str, np.ndarray]
    codes: dict[str, np.ndarray]
    weights: np.ndarray
    _pairs: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_customers(self) -> int:
        """Number of customers represented."""
        return int(self.weights.sum())

    def column(self, name: str) -> np.ndarray:
        """The column ``name`` with one value per distinct row."""
        return self.values[name][self.codes[name]]

    def pairs(self, first: str, second: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct ``(first, second)`` value pairs among the rows (computed once, cached).

        Returns the two columns' values for each distinct pair and, per row, the index of its
        pair: a function of the two columns is then evaluated once per pair and gathered.
        """
        key = (first, second)
        if key not in self._pairs:
            n_second = len(self.values[second])
            row_pair, distinct = pd.factorize(
                self.codes[first] * n_second + self.codes[second], sort=False
            )
            code_first, code_second = np.divmod(np.asarray(distinct, dtype="int64"), n_second)
            self._pairs[key] = (
                self.values[first][code_first],
                self.values[second][code_second],
                row_pair,
            )
        return self._pairs[key]

    def weight_by(self, name: str) -> np.ndarray:
        """Customers per distinct value of column ``name`` (aligned with ``values[name]``)."""
        return np.bincount(self.codes[name], weights=self.weights, minlength=len(self.values[name]))


def compress(
    arrays: dict[str, np.ndarray], names: tuple[str, ...], weights: np.ndarray | None = None
) -> SufficientStats:
    """Group identical rows of ``arrays[names]``; weights are the group sizes (exact).

    Vectorised hashing: each column is factorised, the codes are combined into one integer key
    per row and the keys are factorised again. With ``weights`` (customers per row, for rows
    already grouped), a group's weight is the sum of its rows' weights.
    """
    codes, values = [], []
    for name in names:
        code, uniq = pd.factorize(arrays[name], sort=False)
        codes.append(code.astype("int64"))
        values.append(np.asarray(uniq, dtype="float64"))
    sizes = [len(v) for v in values]
    if float(np.prod(np.array(sizes, dtype="float64"))) >= 2.0**62:  # key would overflow
        frame = pd.DataFrame(dict(zip(names, codes, strict=True)))
        frame["_w"] = 1.0 if weights is None else weights
        counts = frame.groupby(list(names), sort=False)["_w"].sum()
        index = counts.index.to_frame(index=False)
        row_codes = {n: index[n].to_numpy(dtype="int64") for n in names}
        weights = counts.to_numpy(dtype="float64")
    else:
        key = codes[0]
        for code, size in zip(codes[1:], sizes[1:], strict=True):
            key = key * size + code
        row_of, distinct = pd.factorize(key, sort=False)
        weights = np.bincount(row_of, weights=weights).astype("float64")
        distinct = np.asarray(distinct, dtype="int64")
        row_codes = {}
        for name, size in zip(reversed(names), reversed(sizes), strict=True):
            distinct, row_codes[name] = np.divmod(distinct, size)
    return SufficientStats(
        values=dict(zip(names, values, strict=True)),
        codes={n: row_codes[n] for n in names},
        weights=weights,
    )


def distinct_rows(
    arrays: dict[str, np.ndarray], names: tuple[str, ...]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Distinct rows of ``arrays[names]`` and, per row, the index of its distinct row.

    A prediction that depends on a customer only through these columns is computed once per
    distinct row and gathered with the index (identical values, fewer evaluations).

    Examples
    --------
    >>> import numpy as np
    >>> rows, inverse = distinct_rows({"x": np.array([1.0, 2.0, 1.0])}, ("x",))
    >>> rows["x"].tolist(), inverse.tolist()
    ([1.0, 2.0], [0, 1, 0])
    """
    n = len(arrays[names[0]])
    codes, sizes = [], []
    for name in names:
        code, uniq = pd.factorize(arrays[name], sort=False)
        codes.append(code.astype("int64"))
        sizes.append(len(uniq))
    if float(np.prod(np.array(sizes, dtype="float64"))) >= 2.0**62:  # key would overflow
        return {name: arrays[name] for name in names}, np.arange(n)
    key = codes[0]
    for code, size in zip(codes[1:], sizes[1:], strict=True):
        key = key * size + code
    inverse, distinct = pd.factorize(key, sort=False)
    first = np.empty(len(distinct), dtype="int64")
    first[inverse[::-1]] = np.arange(n - 1, -1, -1)  # the first row of each distinct row
    return {name: arrays[name][first] for name in names}, inverse


def fit_settings(
    penalizer_coef: object, initial_params: object, names: tuple[str, ...]
) -> tuple[float, np.ndarray]:
    """Validated penalty and starting log-parameters (zeros, i.e. all 1, by default)."""
    if (
        isinstance(penalizer_coef, bool)
        or not isinstance(penalizer_coef, (int, float))
        or not (np.isfinite(penalizer_coef) and penalizer_coef >= 0)
    ):
        raise InputError(f"penalizer_coef = {penalizer_coef!r} must be a number >= 0 (0 = none)")
    if initial_params is None:
        return float(penalizer_coef), np.zeros(len(names))
    if not isinstance(initial_params, dict) or set(initial_params) != set(names):
        raise InputError(
            f"initial_params must be a dict with keys {list(names)}, got {initial_params!r}"
        )
    try:
        values = np.array([float(initial_params[n]) for n in names])
    except (TypeError, ValueError):
        values = np.array([np.nan])
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise InputError(f"initial_params must all be numbers > 0, got {initial_params!r}")
    return float(penalizer_coef), np.log(values)


def require_fit_size(n_customers: int, n_repeaters: int, model: str) -> None:
    """Refuse fits that cannot identify the model's parameters."""
    if n_customers < MIN_CUSTOMERS:
        raise InputError(
            f"{model} needs at least {MIN_CUSTOMERS} customers to fit, got {n_customers}; "
            "use a longer period or more customers (hundreds give stable parameters)"
        )
    if n_repeaters == 0:
        raise InputError(
            f"{model}: no customer has a repeat purchase (all frequency == 0), so purchase "
            "rates cannot be estimated; use a longer observation period"
        )
