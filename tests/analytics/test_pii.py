"""PII: normalisation, keyed hashing, the key policy and masking."""

from __future__ import annotations

import hashlib
import hmac

import ibis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnicrm import config
from omnicrm.analytics.pii import (
    hash_column,
    hmac_hex,
    mask_email,
    mask_identifier,
    mask_name,
    mask_phone,
    normalize,
    normalize_email,
    normalize_phone,
    pseudonymize,
    resolve_key,
)
from omnicrm.errors import InputError

KEY = "test-key-0123456789abcdef"


def _normalized(func, values, **kwargs):
    t = ibis.memtable({"v": values}, schema={"v": "string"})
    return t.select(n=func(t.v, **kwargs)).execute()["n"].tolist()


PHONE_VARIANTS = [
    # (as typed, normalised)
    ("13812345678", "13812345678"),
    (" 138 1234 5678 ", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("(138) 1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("+86-13812345678", "13812345678"),
    ("0086 138 1234 5678", "13812345678"),
    ("8613812345678", "13812345678"),  # country code without '+'
    ("013812345678", "13812345678"),  # trunk 0 before a mobile
    ("+86 (21) 6234-5678", "2162345678"),  # Shanghai landline, country code dropped
    ("021-6234 5678", "02162345678"),  # landline keeps its area code
    ("+44 20 7946 0958", "442079460958"),  # foreign number: digits only
    ("12345", None),  # too short to identify anyone
    ("n/a", None),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("typed", "expected"), PHONE_VARIANTS)
def test_phone_normalisation(typed, expected):
    assert _normalized(normalize_phone, [typed]) == [expected]


EMAIL_VARIANTS = [
    ("li.na@example.com", "li.na@example.com"),
    ("  Li.Na@Example.COM ", "li.na@example.com"),  # trim + lower
    ("li.na+news@example.com", "li.na+news@example.com"),  # other providers keep dots and +
    ("Li.Na+shop@gmail.com", "lina@gmail.com"),  # Gmail: dots and +tag folded
    ("l.i.n.a@googlemail.com", "lina@gmail.com"),
    ("not-an-email", None),
    ("li@localhost", None),  # no top-level domain
    ("", None),
    (None, None),
]


@pytest.mark.parametrize(("typed", "expected"), EMAIL_VARIANTS)
def test_email_normalisation(typed, expected):
    assert _normalized(normalize_email, [typed]) == [expected]


def test_gmail_folding_can_be_turned_off():
    assert _normalized(normalize_email, ["Li.Na+x@Gmail.com"], fold_gmail=False) == [
        "li.na+x@gmail.com"
    ]


@pytest.mark.parametrize(
    ("normalizer", "typed", "expected"),
    [
        ("trim", "  oAbCdEf123 ", "oAbCdEf123"),  # WeChat openid: case kept
        ("trim_lower", " 3F2A-BEEF ", "3f2a-beef"),  # device id
        ("code", "mc 0001-2345", "MC00012345"),  # card printed in groups
        ("name", "  Li   NA ", "li na"),
    ],
)
def test_other_normalisers(normalizer, typed, expected):
    t = ibis.memtable({"v": [typed]})
    assert t.select(n=normalize(t.v, normalizer)).execute()["n"].tolist() == [expected]


def test_unknown_normaliser_is_named():
    t = ibis.memtable({"v": ["x"]})
    with pytest.raises(InputError, match=r"unknown normalizer 'soundex'; use one of code"):
        normalize(t.v, "soundex")


# --- key policy ---------------------------------------------------------------------------


def test_default_key_is_refused_outside_demo_mode(monkeypatch):
    monkeypatch.delenv(config.PII_KEY_ENV, raising=False)
    monkeypatch.delenv(config.DEMO_ENV, raising=False)
    with pytest.raises(
        InputError,
        match=r"no PII key configured.*set the environment variable "
        r"OMNICRM_PII_KEY.*OMNICRM_DEMO=1",
    ):
        resolve_key()


def test_default_key_is_refused_even_when_given_explicitly(monkeypatch):
    monkeypatch.delenv(config.DEMO_ENV, raising=False)
    with pytest.raises(InputError, match="no PII key configured"):
        resolve_key(config.DEMO_PII_KEY)


@pytest.mark.parametrize("flag", ["1", "true", "YES"])
def test_demo_mode_from_the_environment_accepts_the_default_key(monkeypatch, flag):
    monkeypatch.delenv(config.PII_KEY_ENV, raising=False)
    monkeypatch.setenv(config.DEMO_ENV, flag)
    assert resolve_key() == config.DEMO_PII_KEY.encode()


def test_demo_argument_accepts_the_default_key(monkeypatch):
    monkeypatch.delenv(config.PII_KEY_ENV, raising=False)
    monkeypatch.delenv(config.DEMO_ENV, raising=False)
    assert resolve_key(demo=True) == config.DEMO_PII_KEY.encode()


def test_key_from_the_environment(monkeypatch):
    monkeypatch.setenv(config.PII_KEY_ENV, KEY)
    monkeypatch.delenv(config.DEMO_ENV, raising=False)
    assert resolve_key() == KEY.encode()


def test_short_key_is_refused(monkeypatch):
    monkeypatch.delenv(config.DEMO_ENV, raising=False)
    with pytest.raises(
        InputError,
        match=r"OMNICRM_PII_KEY is 6 characters long; it must have "
        r"at least 16",
    ):
        resolve_key("secret")


# --- hashing ------------------------------------------------------------------------------


def test_hmac_matches_the_standard_library():
    expected = hmac.new(KEY.encode(), b"13812345678", hashlib.sha256).hexdigest()
    assert hmac_hex(["13812345678"], KEY.encode()) == [expected]


def test_different_keys_give_different_hashes():
    a = hmac_hex(["13812345678"], b"first-key-0123456789")
    b = hmac_hex(["13812345678"], b"second-key-012345678")
    assert a != b


def test_hash_is_not_a_plain_sha256():
    plain = hashlib.sha256(b"13812345678").hexdigest()
    assert hmac_hex(["13812345678"], KEY.encode()) != [plain]


def test_hash_column_keeps_rows_and_nulls():
    t = ibis.memtable({"id": [1, 2, 3, 4], "v": ["a", "b", "a", None]})
    out = hash_column(t, "v", key=KEY.encode()).order_by("id").execute()
    assert list(out.columns) == ["id", "v", "v_hash"]
    assert out.v_hash[0] == out.v_hash[2] == hmac_hex(["a"], KEY.encode())[0]
    assert out.v_hash[1] != out.v_hash[0]
    assert out.v_hash.isna().tolist() == [False, False, False, True]


def test_same_phone_in_two_formats_hashes_the_same_after_pseudonymisation():
    customers = ibis.memtable(
        {
            "customer_id": ["C1", "C2", "C3"],
            "name": ["Li Na", "  LI  na", "Wang Fang"],
            "phone": ["+86 138-1234-5678", "13812345678", "139 0000 1111"],
            "email": ["Li.Na@Example.com", "li.na@example.com ", None],
            "city": ["Shanghai", "Shanghai", "Beijing"],
        }
    )
    out = pseudonymize(customers, "customers", key=KEY).order_by("customer_id").execute()
    assert list(out.columns) == ["customer_id", "city", "name_hash", "phone_hash", "email_hash"]
    assert out.phone_hash[0] == out.phone_hash[1] == hmac_hex(["13812345678"], KEY.encode())[0]
    assert out.name_hash[0] == out.name_hash[1] != out.name_hash[2]
    assert out.email_hash[0] == out.email_hash[1]
    assert out.email_hash.isna().tolist() == [False, False, True]
    # no raw PII survives anywhere in the output
    flat = " ".join(map(str, out.to_numpy().ravel()))
    assert "138" not in flat.replace(out.phone_hash[0], "")
    assert "Li" not in flat


def test_identity_values_are_hashed_with_the_normaliser_of_their_type():
    identities = ibis.memtable(
        {
            "customer_id": ["C1", "C2"],
            "id_type": ["member_card", "member_card"],
            "id_value": ["mc-0001 23", "MC000123"],
            "source": ["pos", "app"],
        }
    )
    out = pseudonymize(identities, "identities", key=KEY).execute()
    assert "id_value" not in out.columns
    assert out.id_value_hash.nunique() == 1


def test_pseudonymisation_refuses_the_demo_key(monkeypatch):
    monkeypatch.delenv(config.PII_KEY_ENV, raising=False)
    monkeypatch.delenv(config.DEMO_ENV, raising=False)
    t = ibis.memtable({"customer_id": ["C1"], "phone": ["13812345678"]})
    with pytest.raises(InputError, match="no PII key configured"):
        pseudonymize(t, "customers")


# --- masking ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("func", "value", "expected"),
    [
        (mask_phone, "13812348000", "138****8000"),
        (mask_phone, "02162345678", "021****5678"),
        (mask_phone, "654321", "6****1"),
        (mask_email, "wang.fang@example.com", "w***@example.com"),
        (mask_name, "Wang Fang", "W*** F***"),
        (mask_name, "王芳", "王*"),
        (mask_phone, None, None),
    ],
)
def test_masking(func, value, expected):
    assert func(value) == expected


def test_mask_identifier_uses_the_type():
    assert mask_identifier("wechat_openid", "oAbCdEfGh123") == "oA****23"
    assert mask_identifier("member_card", "MC01") == "****"


mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
separators = st.sampled_from(["", " ", "-", " - ", "."])
prefixes = st.sampled_from(["", "+86", "+86 ", "0086", "0086-", "(+86) ", "86"])


@settings(max_examples=25, deadline=None)
@given(number=mobiles, prefix=prefixes, sep=separators, pad=st.sampled_from(["", " ", "\t"]))
def test_any_formatting_of_a_mobile_number_normalises_to_its_11_digits(number, prefix, sep, pad):
    typed = [
        f"{pad}{prefix}{number[:3]}{sep}{number[3:7]}{sep}{number[7:]}{pad}",
        f"{prefix}({number[:3]}){sep}{number[3:]}",
        number,
    ]
    assert _normalized(normalize_phone, typed) == [number] * 3
