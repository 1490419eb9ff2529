"""Each customer's top churn reasons, in words a marketer understands.

LightGBM splits a customer's score (log-odds of churning) into one contribution per feature
(``pred_contrib=True``, TreeSHAP; Lundberg et al. 2020). The features pushing hardest towards
churn become the reasons. A **template table** (``reason_templates.csv``, business rules as
data) says how to word each feature:

========  =================================================================================
column    meaning
========  =================================================================================
feature   model feature the row words
when      condition on the feature's value: ``<``, ``<=``, ``>``, ``>=``, ``==`` or ``!=``
          then a number (e.g. ``< 1``); ``*`` always holds
en, zh    text with ``{placeholders}``: any feature or display column of the customer
          (``{recency_days:.0f}``, ``{last_nps_date}``), ``{value}`` (the feature's value),
          ``{pct}`` (100 x value), ``{drop_pct}`` (100 x (1 - value)), ``{rise_pct}``
          (100 x (value - 1)), ``{horizon_days}``
========  =================================================================================

For each customer the candidate features are those whose contribution exceeds
``min_contribution``, strongest first; a feature is worded by its first template row whose
condition holds and whose placeholders all have values. A feature with no usable row is
passed over (the next one is tried), and so is a text already given by a stronger feature.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"recency_days": [75.0], "gap_median_days": [12.0],
...                       "spend_trend_90d": [0.4], "last_nps": [3.0],
...                       "last_nps_date": [pd.Timestamp("2026-05-02")]})
>>> contrib = pd.DataFrame({"recency_days": [1.2], "gap_median_days": [0.0],
...                         "spend_trend_90d": [0.6], "last_nps": [0.3]})
>>> out = reason_texts(contrib, frame)
>>> for text in out.churn_reasons[0].split(" · "):
...     print(text)
no purchase for 75 days — usually buys every 12
spend down 60% vs previous 90 days
gave NPS 3 on 2026-05-02
>>> print(reason_texts(contrib, frame, lang="zh").churn_reasons[0])
已75天未购买——平时每12天买一次 · 消费比前90天下降60% · 2026-05-02给出NPS 3分
"""

from __future__ import annotations

import csv
import json
import operator
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from omnicrm.errors import InputError

SEPARATOR = " · "
"""Between the reasons of one customer in ``churn_reasons``."""

LANGUAGES: tuple[str, ...] = ("en", "zh")

_OPS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_DERIVED = ("value", "pct", "drop_pct", "rise_pct", "horizon_days")


@dataclass(frozen=True)
class ReasonTemplates:
    """The wording table (one row per feature and condition, first matching row wins)."""

    rows: tuple[tuple[str, str, float | None, dict[str, str]], ...]
    source: str

    @classmethod
    def default(cls) -> ReasonTemplates:
        """The shipped table (``omnicrm/models/churn/reason_templates.csv``)."""
        ref = resources.files("omnicrm.models.churn") / "reason_templates.csv"
        return cls._parse(ref.read_text(encoding="utf-8"), "reason_templates.csv (shipped)")

    @classmethod
    def from_csv(cls, path: str | Path) -> ReasonTemplates:
        """Read a user-edited table with the columns ``feature, when, en, zh``."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(
                f"reason template file '{path}' does not exist; check the path"
            ) from None
        return cls._parse(text, str(path))

    @classmethod
    def _parse(cls, text: str, source: str) -> ReasonTemplates:
        reader = csv.DictReader(text.splitlines())
        need = {"feature", "when", *LANGUAGES}
        if not need <= set(reader.fieldnames or ()):
            raise InputError(
                f"{source}: columns must include {sorted(need)}, found {reader.fieldnames}"
            )
        rows = []
        for line, rec in enumerate(reader, start=2):
            op, threshold = _parse_when(rec["when"], source, line)
            texts = {lang: rec[lang] for lang in LANGUAGES}
            for lang, template in texts.items():
                _check_template(template, source, line, lang)
            rows.append((rec["feature"].strip(), op, threshold, texts))
        return cls(rows=tuple(rows), source=source)

    def features(self) -> set[str]:
        """Features that have at least one template row."""
        return {feature for feature, *_ in self.rows}


def _parse_when(when: str, source: str, line: int) -> tuple[str, float | None]:
    text = (when or "").strip()
    if text == "*":
        return "*", None
    for op in sorted(_OPS, key=len, reverse=True):
        if text.startswith(op):
            try:
                return op, float(text[len(op) :])
            except ValueError:
                break
    raise InputError(
        f"{source} line {line}: when {when!r} is not a condition; write an operator "
        f"({', '.join(_OPS)}) and a number, e.g. '< 1', or '*' for always"
    )


def _check_template(template: str, source: str, line: int, lang: str) -> None:
    try:
        list(string.Formatter().parse(template))
    except ValueError as exc:
        raise InputError(
            f"{source} line {line}: the {lang} text {template!r} is not a valid "
            f"template ({exc}); write placeholders as {{name}} or {{name:.0f}}"
        ) from None


def _fields(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _display(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def reason_texts(
    contributions: pd.DataFrame,
    frame: pd.DataFrame,
    *,
    lang: str = "en",
    top: int = 3,
    min_contribution: float = 0.05,
    horizon_days: int = 90,
    templates: ReasonTemplates | None = None,
) -> pd.DataFrame:
    """Word the strongest churn drivers of each customer.

    Parameters
    ----------
    contributions : pandas.DataFrame
        One column per feature: the log-odds contribution towards churn, row-aligned with
        ``frame``.
    frame : pandas.DataFrame
        The customers' feature values (and display columns such as ``last_nps_date``).
    lang : {"en", "zh"}
        Language of the texts.
    top : int, default 3
        Most reasons per customer.
    min_contribution : float, default 0.05
        Smallest contribution (log-odds) that counts as a reason.
    horizon_days : int, default 90
        Value of the ``{horizon_days}`` placeholder.
    templates : ReasonTemplates, optional
        Default :meth:`ReasonTemplates.default`.

    Returns
    -------
    pandas.DataFrame
        Row-aligned with ``frame``: ``churn_reasons`` (texts joined by ``" · "``, empty when
        nothing pushes towards churn) and ``churn_reasons_json`` (JSON list of
        ``{"feature", "contribution", "text"}``).
    """
    if lang not in LANGUAGES:
        raise InputError(f"lang = {lang!r} is not supported; use one of {list(LANGUAGES)}")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise InputError(f"top = {top!r} must be a whole number >= 1")
    if len(contributions) != len(frame):
        raise InputError(
            f"contributions have {len(contributions)} rows but the frame has "
            f"{len(frame)}; pass row-aligned tables"
        )
    templates = templates or ReasonTemplates.default()
    shown = _display(frame.reset_index(drop=True))
    worded = [c for c in contributions.columns if c in templates.features()]
    values = contributions[worded].to_numpy(dtype="float64")
    rows, cols = np.nonzero(values > min_contribution)
    order = np.lexsort((-values[rows, cols], rows))  # by row, strongest first
    rows, cols = rows[order], cols[order]
    texts = np.full(len(rows), None, dtype=object)
    unset = np.ones(len(rows), dtype=bool)
    position = {feature: k for k, feature in enumerate(worded)}
    for feature, op, threshold, words in templates.rows:  # a feature's first usable row wins
        if feature not in position:
            continue
        at = np.flatnonzero((cols == position[feature]) & unset)
        if len(at) == 0:
            continue
        who = rows[at]
        value = shown[feature].to_numpy(dtype="float64")[who]
        ok = ~np.isnan(value)
        if op != "*":
            ok &= _OPS[op](np.nan_to_num(value), threshold)
        template = words[lang]
        fields = _fields(template)
        derived = {
            "value": value,
            "pct": np.round(100 * value),
            "drop_pct": np.round(100 * (1 - value)),
            "rise_pct": np.round(100 * (value - 1)),
            "horizon_days": np.full(len(value), horizon_days),
        }
        columns = {}
        for name in fields:
            if name in _DERIVED:
                columns[name] = derived[name]
            elif name in shown.columns:
                columns[name] = shown[name].to_numpy()[who]
                ok &= pd.notna(columns[name])
            else:
                raise InputError(
                    f"{templates.source}: placeholder {{{name}}} of feature "
                    f"{feature!r} is not a column; use a feature name or one of "
                    f"{list(_DERIVED)}"
                )
        for name in ("pct", "drop_pct", "rise_pct"):
            if name in columns:
                columns[name] = np.nan_to_num(columns[name]).astype("int64")
        idx = np.flatnonzero(ok)
        texts[at[idx]] = _render(template, {k: v[idx] for k, v in columns.items()}, len(idx))
        unset[at[idx]] = False
    kept = ~unset
    cand = pd.DataFrame(
        {
            "row": rows[kept],
            "feature": np.asarray(worded, dtype=object)[cols[kept]],
            "contribution": values[rows[kept], cols[kept]],
            "text": texts[kept],
        }
    )
    cand = cand.drop_duplicates(["row", "text"])
    cand = cand.groupby("row", sort=False).head(top)
    return _assemble(cand, len(frame), top)


def _render(template: str, columns: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``template`` formatted with each of the ``n`` rows of ``columns``; each distinct row is
    formatted once.

    Reason texts repeat a lot (the same recency and usual gap, the same percentage), so
    formatting the distinct value combinations and mapping back costs a fraction of one
    ``str.format`` per customer.
    """
    if not columns:
        return np.full(n, template, dtype=object)
    keys = pd.DataFrame({k: pd.Series(v) for k, v in columns.items()})
    codes = keys.groupby(list(columns), sort=False, dropna=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    names = list(columns)
    unique_rows = keys.iloc[first].itertuples(index=False, name=None)
    rendered = np.array(
        [template.format(**dict(zip(names, row, strict=True))) for row in unique_rows], dtype=object
    )
    return rendered[codes]


def _json_string(values: np.ndarray) -> np.ndarray:
    """``json.dumps`` of each string (non-ASCII kept), computed once per distinct string."""
    codes, uniques = pd.factorize(values)
    dumped = np.array([json.dumps(v, ensure_ascii=False) for v in uniques], dtype=object)
    return dumped[codes]


def _json_number(values: np.ndarray) -> np.ndarray:
    """``json.dumps(round(float(v), 4))`` of each value, computed once per distinct value."""
    codes, uniques = pd.factorize(np.round(values.astype("float64"), 4))
    dumped = np.array([json.dumps(round(float(v), 4)) for v in uniques], dtype=object)
    return dumped[codes]


def _assemble(cand: pd.DataFrame, n: int, top: int) -> pd.DataFrame:
    """Join the kept reasons of each row (at most ``top``, strongest first) into the two columns.

    Vectorised: the k-th reason of every row is placed in the k-th of ``top`` aligned columns,
    which are then concatenated, instead of one Python call per customer.
    """
    reasons = np.full(n, "", dtype=object)
    as_json = np.full(n, "", dtype=object)
    if not cand.empty:
        rows = cand["row"].to_numpy()
        rank = cand.groupby("row", sort=False).cumcount().to_numpy()
        text = cand["text"].to_numpy(dtype=object)
        item = (
            '{"feature": '
            + _json_string(cand["feature"].to_numpy(dtype=object))
            + ', "contribution": '
            + _json_number(cand["contribution"].to_numpy())
            + ', "text": '
            + _json_string(text)
            + "}"
        )
        for k in range(top):
            at = rank == k
            if not at.any():
                break
            sep_text, sep_json = (SEPARATOR, ", ") if k else ("", "")
            reasons[rows[at]] = reasons[rows[at]] + sep_text + text[at]
            as_json[rows[at]] = as_json[rows[at]] + sep_json + item[at]
    return pd.DataFrame({"churn_reasons": reasons, "churn_reasons_json": "[" + as_json + "]"})
