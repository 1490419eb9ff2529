"""Personal data: normalise, hash with a secret key, and mask for display.

Names, phones, e-mails and identifier values enter analytics tables only as keyed hashes
(HMAC-SHA256, RFC 2104) of their *normalised* form, so ``+86 138-1234-5678`` and
``13812345678`` hash the same while nobody without the key can test a guessed phone number
against the hash (a plain SHA-256 of an 11-digit phone is reversed by enumeration in minutes).

The key comes from configuration (``$OMNICRM_PII_KEY``, see :func:`omnicrm.config.pii_key`).
The built-in demo key is refused unless demo mode is on (``$OMNICRM_DEMO=1`` or ``demo=True``).

Normalisation runs in the warehouse as Ibis expressions (it is also what identity resolution
matches on). Hashing does not: HMAC is not an SQL function of DuckDB, Spark or PostgreSQL, and
composing it from ``sha256`` differs per backend. Instead the *distinct* normalised values are
fetched once as Arrow, hashed in one list comprehension with :mod:`hmac` (about a microsecond per
value: one million distinct identifiers take about two seconds) and joined back as an in-memory
table, which works unchanged on every backend.

Examples
--------
>>> import ibis
>>> from omnicrm.analytics.pii import normalize_phone, hmac_hex, mask_phone
>>> t = ibis.memtable({"phone": ["+86 138-1234-8000", "138 1234 8000"]})
>>> t.select(p=normalize_phone(t.phone)).execute()["p"].tolist()
['13812348000', '13812348000']
>>> key = b"0123456789abcdef-test"
>>> a, b = hmac_hex(["13812348000", "13812348000"], key)
>>> a == b and len(a) == 64
True
>>> mask_phone("13812348000")
'138****8000'
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable

import ibis
import ibis.expr.types as ir

from omnicrm import config
from omnicrm.errors import InputError
from omnicrm.schema import Table, get_table

MIN_KEY_LENGTH = 16
"""Shortest key accepted (characters); 32 random hex characters or more are recommended."""

_NAME_NORMALIZER = "name"


# ---------------------------------------------------------------------------------------------
# Key
# ---------------------------------------------------------------------------------------------


def resolve_key(key: str | bytes | None = None, *, demo: bool | None = None) -> bytes:
    """Return the HMAC key as bytes, refusing the built-in demo key outside demo mode.

    Parameters
    ----------
    key : str or bytes, optional
        Explicit key; default ``$OMNICRM_PII_KEY``, else the built-in demo key.
    demo : bool, optional
        Demo mode; default ``$OMNICRM_DEMO``. Only demo mode accepts the built-in key.

    Raises
    ------
    InputError
        For the demo key outside demo mode, or a key shorter than 16 characters.

    Examples
    --------
    >>> resolve_key("a-long-enough-secret-key")[:6]
    b'a-long'
    >>> resolve_key(None, demo=True) == b"omnicrm-demo-pii-key-not-a-secret"
    True
    """
    text = key.decode("utf-8") if isinstance(key, bytes) else config.pii_key(key)
    how = (
        "set the environment variable OMNICRM_PII_KEY to a random secret, e.g. the output of "
        'python -c "import secrets; print(secrets.token_hex(32))", and keep it: hashes made '
        "with another key will not match"
    )
    if text == config.DEMO_PII_KEY and not config.demo_mode(demo):
        raise InputError(
            "no PII key configured: personal data (names, phones, e-mails, identifiers) is "
            f"hashed with a secret key and the built-in demo key is only allowed in demo mode; "
            f"{how} (or set OMNICRM_DEMO=1 for demo data only)"
        )
    if len(text) < MIN_KEY_LENGTH:
        raise InputError(
            f"OMNICRM_PII_KEY is {len(text)} characters long; it must have at least "
            f"{MIN_KEY_LENGTH}: {how}"
        )
    return text.encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Normalisation (Ibis expressions, portable across DuckDB, Spark and PostgreSQL)
# ---------------------------------------------------------------------------------------------


def normalize_phone(value: ir.StringValue) -> ir.StringValue:
    """Canonical form of a phone number, or null when it has fewer than 6 digits.

    Rules, in order: keep digits (and a leading ``+``); drop a ``+86`` / ``0086`` country
    prefix, then any other ``+``; a mainland mobile number (``1[3-9]`` + 9 digits) written with
    a bare ``86`` prefix or a trunk ``0`` becomes its 11 digits. Other numbers (landlines,
    foreign numbers) keep all their digits.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"p": ["(+86) 138 1234 5678", "0086-13812345678", "8613812345678",
    ...                          "021-6234 5678", "n/a"]})
    >>> t.select(n=normalize_phone(t.p)).execute()["n"].tolist()
    ['13812345678', '13812345678', '13812345678', '02162345678', None]
    """
    digits = value.strip().re_replace(r"[^0-9+]", "")
    digits = digits.re_replace(r"^(\+86|0086)", "").re_replace(r"\+", "")
    canonical = ibis.cases(
        (digits.re_search(r"^861[3-9][0-9]{9}$"), digits.substr(2)),
        (digits.re_search(r"^01[3-9][0-9]{9}$"), digits.substr(1)),
        else_=digits,
    )
    return ibis.ifelse(canonical.length() >= 6, canonical, ibis.null("string"))


def normalize_email(value: ir.StringValue, *, fold_gmail: bool = True) -> ir.StringValue:
    """Canonical form of an e-mail address, or null when it is not ``local@domain.tld``.

    Trimmed and lower-cased. With ``fold_gmail`` (the default), Gmail addresses lose the dots
    and any ``+tag`` of their local part and ``googlemail.com`` becomes ``gmail.com``: Gmail
    delivers all these spellings to one mailbox, so they are one person. Other providers give
    dots and ``+`` no such guarantee, so their addresses are only trimmed and lower-cased.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"e": [" Li.Na+shop@GoogleMail.com", "LI.NA@example.COM", "nope"]})
    >>> t.select(n=normalize_email(t.e)).execute()["n"].tolist()
    ['lina@gmail.com', 'li.na@example.com', None]
    """
    email = value.strip().lower()
    valid = email.re_search(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    if fold_gmail:
        local = email.re_extract(r"^([^@]+)@", 1)
        domain = email.re_extract(r"@(.+)$", 1)
        is_gmail = domain.isin(["gmail.com", "googlemail.com"])
        folded = local.re_replace(r"\+.*$", "").replace(".", "") + "@gmail.com"
        email = ibis.ifelse(is_gmail, folded, email)
    return ibis.ifelse(valid.fill_null(False), email, ibis.null("string"))


def normalize_name(value: ir.StringValue) -> ir.StringValue:
    """Trimmed, lower-cased name with runs of white space collapsed; null when empty.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"n": ["  Li   Na ", "LI NA", "  "]})
    >>> t.select(n=normalize_name(t.n)).execute()["n"].tolist()
    ['li na', 'li na', None]
    """
    return value.strip().lower().re_replace(r"\s+", " ").nullif("")


def normalize_trim(value: ir.StringValue) -> ir.StringValue:
    """Surrounding white space removed; case kept (WeChat openids are case-sensitive)."""
    return value.strip().nullif("")


def normalize_trim_lower(value: ir.StringValue) -> ir.StringValue:
    """Trimmed and lower-cased (case-insensitive ids such as device ids and logins)."""
    return value.strip().lower().nullif("")


def normalize_code(value: ir.StringValue) -> ir.StringValue:
    """Upper-cased with spaces and dashes removed (card numbers printed in groups).

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"c": ["mc-0001 2345", "MC00012345"]})
    >>> t.select(c=normalize_code(t.c)).execute()["c"].tolist()
    ['MC00012345', 'MC00012345']
    """
    return value.strip().upper().re_replace(r"[\s\-]", "").nullif("")


NORMALIZERS: dict[str, Callable[..., ir.StringValue]] = {
    "phone": normalize_phone,
    "email": normalize_email,
    "name": normalize_name,
    "trim": normalize_trim,
    "trim_lower": normalize_trim_lower,
    "code": normalize_code,
}
"""Normaliser names usable in ``identity.toml`` (``[id_types.<type>] normalizer = ...``)."""


def normalize(value: ir.StringValue, normalizer: str, *, fold_gmail: bool = True) -> ir.StringValue:
    """Apply the normaliser called ``normalizer`` (a key of :data:`NORMALIZERS`)."""
    try:
        func = NORMALIZERS[normalizer]
    except KeyError:
        raise InputError(
            f"unknown normalizer {normalizer!r}; use one of {', '.join(sorted(NORMALIZERS))}"
        ) from None
    value = value.cast("string")
    if func is normalize_email:
        return func(value, fold_gmail=fold_gmail)
    return func(value)


# ---------------------------------------------------------------------------------------------
# Hashing
# ---------------------------------------------------------------------------------------------


def hmac_hex(values: Iterable[str | None], key: bytes) -> list[str | None]:
    """HMAC-SHA256 of each value (UTF-8) as 64 hex characters; ``None`` stays ``None``.

    Examples
    --------
    >>> hmac_hex(["a", None], b"0123456789abcdef")[1] is None
    True
    """
    return [
        None if v is None else hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()
        for v in values
    ]


def hash_column(table: ir.Table, column: str, *, key: bytes, output: str | None = None) -> ir.Table:
    """Add ``output`` (default ``<column>_hash``): the HMAC-SHA256 of ``column``.

    The distinct non-null values are fetched once as Arrow, hashed in Python and joined back
    as an in-memory table (see the module notes); the result stays a lazy Ibis table.

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"v": ["x", "x", None]})
    >>> h = hash_column(t, "v", key=b"0123456789abcdef").execute()
    >>> int(h["v_hash"].nunique()), int(h["v_hash"].isna().sum())
    (1, 1)
    """
    output = output or f"{column}_hash"
    distinct = table.select(column).filter(table[column].notnull()).distinct()
    values = distinct.to_pyarrow()[column].to_pylist()
    lookup = ibis.memtable(
        {"_pii_value": values, output: hmac_hex(values, key)},
        schema={"_pii_value": "string", output: "string"},
    )
    joined = table.left_join(lookup, table[column] == lookup._pii_value)
    return joined.select(*table.columns, output)


def pseudonymize(
    table: ir.Table,
    contract: Table | str,
    *,
    key: str | bytes | None = None,
    demo: bool | None = None,
    fold_gmail: bool = True,
) -> ir.Table:
    """Replace every PII column of a contract table by the keyed hash of its normalised value.

    PII columns are those marked ``pii=True`` in :mod:`omnicrm.schema` (``customers.name``,
    ``customers.phone``, ``customers.email``, ``identities.id_value``); column ``c`` becomes
    ``c_hash``. Phones and e-mails are normalised as in identity resolution; ``id_value`` with
    the normaliser of its ``id_type`` (:mod:`omnicrm.analytics.identity` rules).

    Examples
    --------
    >>> import ibis
    >>> t = ibis.memtable({"customer_id": ["C1", "C2"], "name": ["Li Na", " li  na"],
    ...                    "phone": ["138 1234 8000", "+8613812348000"], "email": [None, None]})
    >>> out = pseudonymize(t, "customers", key="0123456789abcdef-k").execute()
    >>> sorted(out.columns)
    ['customer_id', 'email_hash', 'name_hash', 'phone_hash']
    >>> bool(out.phone_hash[0] == out.phone_hash[1] and out.name_hash[0] == out.name_hash[1])
    True
    """
    contract = get_table(contract) if isinstance(contract, str) else contract
    secret = resolve_key(key, demo=demo)
    pii = [c.name for c in contract.columns if c.pii and c.name in table.columns]
    if not pii:
        return table
    normalized = {}
    for name in pii:
        normalized[name] = _normalized_pii(table, name, fold_gmail=fold_gmail)
    out = table.mutate(**normalized)
    for name in pii:
        out = hash_column(out, name, key=secret)
    keep = [c for c in table.columns if c not in pii]
    return out.select(*keep, *(f"{name}_hash" for name in pii))


def _normalized_pii(table: ir.Table, name: str, *, fold_gmail: bool) -> ir.StringValue:
    if name == "id_value" and "id_type" in table.columns:
        from omnicrm.analytics.identity_rules import load_identity_rules, normalize_identifier

        return normalize_identifier(table.id_type, table.id_value, load_identity_rules())
    if name in ("phone", "email"):
        return normalize(table[name], name, fold_gmail=fold_gmail)
    return normalize(table[name], _NAME_NORMALIZER)


# ---------------------------------------------------------------------------------------------
# Masking (display only)
# ---------------------------------------------------------------------------------------------


def mask_phone(value: str | None) -> str | None:
    """Show the first 3 and last 4 digits of a normalised phone (fewer for short numbers).

    Examples
    --------
    >>> mask_phone("13812348000"), mask_phone("654321")
    ('138****8000', '6****1')
    """
    if not value:
        return value
    if len(value) >= 9:
        return f"{value[:3]}****{value[-4:]}"
    return f"{value[0]}****{value[-1]}"


def mask_email(value: str | None) -> str | None:
    """Show the first letter of the local part and the domain.

    Examples
    --------
    >>> mask_email("lina@example.com")
    'l***@example.com'
    """
    if not value or "@" not in value:
        return mask_value(value)
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}"


def mask_name(value: str | None) -> str | None:
    """Show the first character of each word (``Li Na`` -> ``L* N*``; ``王小明`` -> ``王**``).

    Examples
    --------
    >>> mask_name("Li Na"), mask_name("王小明")
    ('L* N*', '王**')
    """
    if not value:
        return value
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in value.split())


def mask_value(value: str | None) -> str | None:
    """Show the first 2 and last 2 characters of an identifier (all stars when short).

    Examples
    --------
    >>> mask_value("oXyZ1234abcd"), mask_value("abc")
    ('oX****cd', '****')
    """
    if not value:
        return value
    if len(value) <= 6:
        return "****"
    return f"{value[:2]}****{value[-2:]}"


def mask_identifier(id_type: str, value: str | None) -> str | None:
    """Mask a normalised identifier according to its type.

    Examples
    --------
    >>> mask_identifier("phone", "13812348000"), mask_identifier("email", "ab@x.org")
    ('138****8000', 'a***@x.org')
    """
    if id_type == "phone":
        return mask_phone(value)
    if id_type == "email":
        return mask_email(value)
    return mask_value(value)
