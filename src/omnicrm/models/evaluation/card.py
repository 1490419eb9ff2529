"""Model cards: what a model was fitted on, how it was split, how well it did, against what.

A card is plain data (JSON friendly). Interfaces render it: ``omnicrm models evaluate`` prints
each card as a table and ``--json`` prints ``{name: card.to_dict(), ...}``.

Examples
--------
>>> card = ModelCard(name="demo", title="Demo model",
...                  data_window={"first_day": "2024-07-01", "last_day": "2026-06-30"},
...                  split={"as_of": "2026-04-02"}, metrics={"mae": 0.41},
...                  baselines={"naive": {"mae": 0.55}})
>>> card.to_dict()["metrics"]
{'mae': 0.41}
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _plain(value: Any) -> Any:
    """Numbers, strings, lists and dicts only; NaN and infinity become ``None``."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class ModelCard:
    """One model's evaluation.

    Attributes
    ----------
    name : str
        Registry key (``bgnbd``, ``churn`` ...).
    title : str
        Human name.
    data_window : dict
        First and last day of the data used, number of customers.
    split : dict
        How training and evaluation data were separated in time.
    metrics : dict
        The model's figures on the evaluation data (name -> number).
    baselines : dict
        Baseline name -> the same metrics, on the same split.
    ground_truth : dict, optional
        Comparison with a known truth (e.g. the synthetic retailer's ``truth.csv``).
    parameters : dict
        Fitted parameters worth showing.
    details : dict
        Larger tables (lists of rows) for reports.
    notes : list of str
        Caveats and definitions.
    """

    name: str
    title: str
    data_window: dict[str, Any]
    split: dict[str, Any]
    metrics: dict[str, Any]
    baselines: dict[str, dict[str, Any]] = field(default_factory=dict)
    ground_truth: dict[str, Any] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-friendly data (NaN becomes ``None``)."""
        return _plain(
            {
                "name": self.name,
                "title": self.title,
                "data_window": self.data_window,
                "split": self.split,
                "metrics": self.metrics,
                "baselines": self.baselines,
                "ground_truth": self.ground_truth,
                "parameters": self.parameters,
                "details": self.details,
                "notes": self.notes,
            }
        )
