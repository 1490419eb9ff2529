"""Identity-resolution rules as data: normaliser, trust threshold and evidence rank per type.

The shipped defaults live in ``config/identity.toml``; :func:`load_identity_rules` reads them,
then a user file over them, then keyword overrides, and validates everything with messages
that name the file, the key and the value.

Examples
--------
>>> rules = load_identity_rules(max_records_per_identifier=5)
>>> rules.threshold("email"), rules.rule("member_card").normalizer
(5, 'code')
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from omnicrm.analytics.pii import NORMALIZERS, normalize
from omnicrm.errors import InputError

_DEFAULT_RULES = "identity.toml"
_TOP_KEYS = {"max_records_per_identifier", "max_iterations", "fold_gmail", "id_types"}
_TYPE_KEYS = {"normalizer", "rank", "max_records"}
FALLBACK_NORMALIZER = "trim"
FALLBACK_RANK = 100


# ---------------------------------------------------------------------------------------------
# Rules (data)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdTypeRule:
    """How one kind of identifier is normalised and trusted."""

    normalizer: str = FALLBACK_NORMALIZER
    rank: int = FALLBACK_RANK
    max_records: int | None = None


@dataclass(frozen=True)
class IdentityRules:
    """Identity-resolution settings; see ``config/identity.toml`` for their meaning."""

    id_types: Mapping[str, IdTypeRule] = field(default_factory=dict)
    max_records_per_identifier: int = 10
    max_iterations: int = 30
    fold_gmail: bool = True

    def rule(self, id_type: str) -> IdTypeRule:
        """The rule of ``id_type`` (an unlisted type is trimmed and ranked last)."""
        return self.id_types.get(id_type, IdTypeRule())

    def threshold(self, id_type: str) -> int:
        """Largest number of records one identifier of this type may link."""
        own = self.rule(id_type).max_records
        return self.max_records_per_identifier if own is None else own


def load_identity_rules(path: str | Path | None = None, **overrides: Any) -> IdentityRules:
    """Load the shipped rules, then ``path`` (a TOML file) over them, then ``overrides``.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file in the format of ``omnicrm/analytics/config/identity.toml``. Top-level keys
        replace the defaults; ``[id_types.<type>]`` tables are merged key by key.
    **overrides
        Top-level settings, e.g. ``max_records_per_identifier=3``.

    Raises
    ------
    InputError
        For an unreadable file, an unknown key or normaliser, or an out-of-range value.

    Examples
    --------
    >>> rules = load_identity_rules(max_records_per_identifier=3)
    >>> rules.threshold("phone"), rules.threshold("app_device"), rules.rule("phone").normalizer
    (3, 4, 'phone')
    """
    text = (
        resources.files("omnicrm.analytics")
        .joinpath("config", _DEFAULT_RULES)
        .read_text(encoding="utf-8")
    )
    data = tomllib.loads(text)
    origin = "built-in identity.toml"
    if path is not None:
        user = _read_toml(Path(path))
        _check_keys(user, _TOP_KEYS, str(path))
        for id_type, settings in user.pop("id_types", {}).items():
            if not isinstance(settings, dict):
                raise InputError(f"{path}: [id_types.{id_type}] must be a table of settings")
            data["id_types"].setdefault(id_type, {}).update(settings)
        data.update(user)
        origin = str(path)
    _check_keys(overrides, _TOP_KEYS - {"id_types"}, "overrides")
    data.update(overrides)
    return _validate(data, origin)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"identity rules file {str(path)!r} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"identity rules file {str(path)!r} is not valid TOML: {exc}") from None


def _check_keys(data: Mapping[str, Any], allowed: set[str], origin: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InputError(
            f"{origin}: unknown setting(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


def _int_setting(value: Any, name: str, minimum: int, origin: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(f"{origin}: {name} = {value!r} must be an integer >= {minimum}")
    return value


def _validate(data: dict[str, Any], origin: str) -> IdentityRules:
    types: dict[str, IdTypeRule] = {}
    for id_type, settings in data.get("id_types", {}).items():
        _check_keys(settings, _TYPE_KEYS, f"{origin} [id_types.{id_type}]")
        normalizer = settings.get("normalizer", FALLBACK_NORMALIZER)
        if normalizer not in NORMALIZERS:
            raise InputError(
                f"{origin} [id_types.{id_type}]: normalizer = {normalizer!r} is unknown; "
                f"use one of {', '.join(sorted(NORMALIZERS))}"
            )
        rank = _int_setting(
            settings.get("rank", FALLBACK_RANK), f"[id_types.{id_type}] rank", 0, origin
        )
        max_records = settings.get("max_records")
        if max_records is not None:
            _int_setting(max_records, f"[id_types.{id_type}] max_records", 2, origin)
        types[id_type] = IdTypeRule(normalizer, rank, max_records)
    fold = data.get("fold_gmail", True)
    if not isinstance(fold, bool):
        raise InputError(f"{origin}: fold_gmail = {fold!r} must be true or false")
    return IdentityRules(
        id_types=types,
        max_records_per_identifier=_int_setting(
            data.get("max_records_per_identifier", 10), "max_records_per_identifier", 2, origin
        ),
        max_iterations=_int_setting(data.get("max_iterations", 30), "max_iterations", 1, origin),
        fold_gmail=fold,
    )


def normalize_identifier(
    id_type: ir.StringValue, id_value: ir.StringValue, rules: IdentityRules | None = None
) -> ir.StringValue:
    """Normalise ``id_value`` with the normaliser configured for its ``id_type``.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"t": ["phone", "member_card", "wechat_openid"],
    ...                    "v": ["0086 138-1234-5678", "mc 0001", " oAbC "]})
    >>> t.select(v=normalize_identifier(t.t, t.v)).execute()["v"].tolist()
    ['13812345678', 'MC0001', 'oAbC']
    """
    rules = rules or load_identity_rules()
    branches = [
        (id_type == name, normalize(id_value, rule.normalizer, fold_gmail=rules.fold_gmail))
        for name, rule in sorted(rules.id_types.items())
    ]
    fallback = normalize(id_value, FALLBACK_NORMALIZER)
    return ibis.cases(*branches, else_=fallback) if branches else fallback
