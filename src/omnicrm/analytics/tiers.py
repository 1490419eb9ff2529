"""Value tiers: the top 1% / top 10% / rest of customers by spend, thresholds as data.

Tiers are read from a TOML file (``config/value_tiers.toml`` by default) listing tiers from
the most valuable down, each with a ``top_share``. With ``n`` customers ranked by spend
(highest first) and ``position`` the number of customers who spent strictly more, a customer
is in the first tier with ``position < top_share * n``. So the top 1% of 250 customers holds
3 customers (positions 0, 1, 2 < 2.5), customers with equal spend always share a tier, and the
best customer is in the first tier even when there are fewer than 100 customers. The
comparison is done in exact integer arithmetic (shares are read as fractions), so results are
the same on every backend.

Examples
--------
>>> import ibis
>>> from omnicrm.analytics.tiers import ValueTiers, value_tiers
>>> tiers = ValueTiers.default()
>>> [t.name for t in tiers.tiers]
['top_1', 'top_10', 'rest']
>>> scores = ibis.memtable({"customer_id": list("abcdefghijk"),
...                         "monetary": [500, 90, 80, 70, 60, 50, 40, 30, 20, 10, 5]})
>>> out = value_tiers(scores, tiers).order_by(ibis.desc("monetary")).execute()
>>> out.value_tier.tolist()[:3]
['top_1', 'top_10', 'rest']
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from pathlib import Path

import ibis

from omnicrm.analytics.rfm import require_columns, value_ranks
from omnicrm.errors import InputError


@dataclass(frozen=True)
class ValueTier:
    """One tier: an id, display labels and the share of top customers it reaches down to."""

    name: str
    top_share: Fraction
    label: str = ""
    label_zh: str = ""


@dataclass(frozen=True)
class ValueTiers:
    """Validated tiers, most valuable first; the last one has ``top_share == 1``."""

    tiers: tuple[ValueTier, ...]
    source: str = "value tiers"

    def __post_init__(self) -> None:
        src = self.source
        if not self.tiers:
            raise InputError(f"{src}: no tiers given; list at least one, ending with top_share = 1")
        names = [t.name for t in self.tiers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise InputError(f"{src}: tier name(s) {', '.join(dupes)} used twice; names are ids")
        previous = Fraction(0)
        for tier in self.tiers:
            if not previous < tier.top_share <= 1:
                raise InputError(
                    f"{src}: tier {tier.name!r} has top_share {float(tier.top_share):g}; shares "
                    f"must increase down the list, above {float(previous):g} and at most 1"
                )
            previous = tier.top_share
        if previous != 1:
            raise InputError(
                f"{src}: the last tier {self.tiers[-1].name!r} has top_share "
                f"{float(previous):g}; end with a tier of top_share = 1 so every customer has a "
                "tier"
            )

    @classmethod
    def default(cls) -> ValueTiers:
        """The shipped tiers: top 1%, top 10%, rest (``config/value_tiers.toml``)."""
        ref = resources.files("omnicrm.analytics").joinpath("config/value_tiers.toml")
        return cls.from_text(ref.read_text(encoding="utf-8"), source="value_tiers.toml")

    @classmethod
    def from_toml(cls, path: str | Path) -> ValueTiers:
        """Read and validate tiers from a TOML file with a ``[[tiers]]`` array."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(
                f"value tiers file {str(path)!r} does not exist: give the path of a TOML file "
                "like omnicrm/analytics/config/value_tiers.toml"
            ) from None
        return cls.from_text(text, source=path.name)

    @classmethod
    def from_text(cls, text: str, *, source: str = "value tiers") -> ValueTiers:
        """Parse and validate TOML text."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{source} is not valid TOML: {exc}") from None
        records = data.get("tiers")
        if not isinstance(records, list):
            raise InputError(
                f"{source}: no [[tiers]] array; write one [[tiers]] block per tier with name and "
                "top_share"
            )
        return cls.from_records(records, source=source)

    @classmethod
    def from_records(
        cls, records: Iterable[Mapping[str, object]], *, source: str = "value tiers"
    ) -> ValueTiers:
        """Build from dicts with ``name``, ``top_share`` and optional ``label``, ``label_zh``."""
        tiers = []
        for i, rec in enumerate(records, start=1):
            name = str(rec.get("name") or "").strip()
            if not name:
                raise InputError(f"{source}: tier {i} has no name; give each tier a name")
            share = rec.get("top_share")
            if isinstance(share, bool) or not isinstance(share, int | float | str):
                raise InputError(
                    f"{source}: tier {name!r} top_share {share!r} is not a number; write a "
                    "fraction such as 0.1 for the top 10%"
                )
            try:
                fraction = Fraction(str(share))
            except ValueError:
                raise InputError(
                    f"{source}: tier {name!r} top_share {share!r} is not a number; write a "
                    "fraction such as 0.1 for the top 10%"
                ) from None
            tiers.append(
                ValueTier(
                    name=name,
                    top_share=fraction,
                    label=str(rec.get("label") or name),
                    label_zh=str(rec.get("label_zh") or rec.get("label") or name),
                )
            )
        return cls(tuple(tiers), source=source)

    def labels(self, lang: str = "en") -> dict[str, str]:
        """Display label of each tier in English (``en``) or Chinese (``zh``)."""
        if lang not in ("en", "zh"):
            raise InputError(f"language {lang!r} has no tier labels; use 'en' or 'zh'")
        return {t.name: (t.label if lang == "en" else t.label_zh) for t in self.tiers}


def value_tiers(
    scores: ibis.Table,
    tiers: ValueTiers | None = None,
    *,
    by: str = "monetary",
    ranked: ibis.Table | None = None,
) -> ibis.Table:
    """Add the column ``value_tier`` (a tier name) ranking customers by ``by`` (spend).

    Parameters
    ----------
    scores : ibis.Table
        One row per customer, with the column ``by``.
    tiers : ValueTiers, optional
        Default :meth:`ValueTiers.default`.
    by : str
        Column to rank by, highest first (default ``monetary``, the net spend).
    ranked : ibis.Table, optional
        The customers to rank ``scores`` among, with the column ``by``; default ``scores``
        itself. Pass the table ``scores`` was built from by adding columns (same customers,
        same ``by``) so that the ranking reads that table rather than ``scores`` and its joins
        (:func:`omnicrm.analytics.scores.customer_scores` passes its metrics table).

    Returns
    -------
    ibis.Table
        ``scores`` plus ``value_tier`` (null where ``by`` is null).
    """
    tiers = tiers or ValueTiers.default()
    require_columns(scores, (by,), "the customer table")
    if ranked is None:
        ranked = scores
    else:
        require_columns(ranked, (by,), "the table of ranked customers")
    ranks = value_ranks(ranked, by, higher_is_better=False)  # _rank: customers spending more
    branches = [
        (ranks._rank * t.top_share.denominator < ranks._n * t.top_share.numerator, t.name)
        for t in tiers.tiers
    ]
    ranks = ranks.select("_value", value_tier=ibis.cases(*branches, else_=ibis.null("string")))
    # customers with a null value find no match: null tier
    return scores.left_join(ranks, scores[by] == ranks._value).drop("_value")
