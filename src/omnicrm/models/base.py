"""Helpers shared by every estimator: fitted-state checks, settings, JSON save/load.

Examples
--------
>>> from omnicrm.models.base import JSONModel, check_is_fitted
>>> class Mean(JSONModel):
...     _fitted_attributes = ("mean_",)
...     def __init__(self, shift=0.0):
...         self.shift = shift
...     def fit(self, values):
...         self.mean_ = sum(values) / len(values) + self.shift
...         return self
>>> Mean(shift=1.0).get_params()
{'shift': 1.0}
>>> check_is_fitted(Mean())
Traceback (most recent call last):
...
omnicrm.errors.NotFittedError: Mean is not fitted yet: call fit(...) before using it
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from omnicrm.errors import InputError, NotFittedError

FORMAT = "omnicrm-model"
FORMAT_VERSION = 1


def check_is_fitted(estimator: object, attributes: Iterable[str] | None = None) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has its fitted attributes.

    Parameters
    ----------
    estimator : object
        Any estimator.
    attributes : iterable of str, optional
        Names that must exist. Default: the class's ``_fitted_attributes`` if it declares them,
        else any instance attribute ending in ``_``.

    Examples
    --------
    >>> class Model:
    ...     pass
    >>> m = Model()
    >>> m.params_ = {"r": 1.0}
    >>> check_is_fitted(m, ["params_"])
    """
    names = (
        list(attributes)
        if attributes is not None
        else list(getattr(estimator, "_fitted_attributes", ()))
    )
    if names:
        fitted = all(hasattr(estimator, name) for name in names)
    else:
        fitted = any(k.endswith("_") and not k.startswith("__") for k in vars(estimator))
    if not fitted:
        raise NotFittedError(
            f"{type(estimator).__name__} is not fitted yet: call fit(...) before using it"
        )


def _to_json(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples to plain JSON values (floats round-trip exactly)."""
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _to_json(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


class JSONModel:
    """Mixin: ``get_params`` from ``__init__``'s signature and ``save``/``load`` as JSON.

    Subclasses declare ``_fitted_attributes`` (names ending in ``_``); their values must be JSON
    friendly (numbers, strings, lists, dicts). The file records the class name, the settings and
    the fitted attributes, so a model reloads without refitting.
    """

    _fitted_attributes: ClassVar[tuple[str, ...]] = ()

    def get_params(self) -> dict[str, Any]:
        """Return the settings given to ``__init__`` (unchanged)."""
        sig = inspect.signature(type(self).__init__)
        return {
            name: getattr(self, name)
            for name, p in sig.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def save(self, path: str | Path) -> Path:
        """Write settings and fitted attributes to a JSON file; return its path."""
        check_is_fitted(self)
        path = Path(path)
        doc = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "class": type(self).__name__,
            "settings": _to_json(self.get_params()),
            "fitted": {name: _to_json(getattr(self, name)) for name in self._fitted_attributes},
        }
        path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Self:
        """Read a model written by :meth:`save`; the file must hold this class."""
        path = Path(path)
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError(f"model file '{path}' does not exist; check the path") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(
                f"model file '{path}' is not valid JSON ({exc}); save the model again"
            ) from exc
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise InputError(f"file '{path}' is not an omnicrm model file (no format '{FORMAT}')")
        if doc.get("version") != FORMAT_VERSION:
            raise InputError(
                f"model file '{path}' has version {doc.get('version')!r}; this omnicrm reads "
                f"version {FORMAT_VERSION}: refit and save the model again"
            )
        if doc.get("class") != cls.__name__:
            raise InputError(
                f"model file '{path}' holds a {doc.get('class')!r}, not a {cls.__name__!r}; "
                f"load it with {doc.get('class')}.load"
            )
        obj = cls(**doc["settings"])
        fitted = doc.get("fitted", {})
        missing = [n for n in cls._fitted_attributes if n not in fitted]
        if missing:
            raise InputError(f"model file '{path}' lacks fitted values {missing}; save it again")
        for name in cls._fitted_attributes:
            setattr(obj, name, fitted[name])
        return obj
