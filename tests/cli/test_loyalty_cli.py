"""Loyalty commands: db upgrade/status, keys create/list/revoke, ledger verify, loyalty jobs,
serve refusing to start on a bad configuration."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from omnicrm.cli.main import main
from omnicrm.db import make_engine, make_session_factory
from omnicrm.loyalty import members, points
from omnicrm.loyalty.operations import Context
from omnicrm.loyalty.rules import load_rules


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("OMNICRM_ENV", "test")
    monkeypatch.delenv("OMNICRM_SECRET_KEY", raising=False)
    url = f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    monkeypatch.setenv("OMNICRM_DATABASE_URL", url)
    return url


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_db_upgrade_then_status(db, capsys):
    assert run(capsys, "db", "status")[1].startswith("revision none (newest 0004): needs")
    code, out, _ = run(capsys, "db", "upgrade")
    assert (code, out.strip()) == (0, f"{db}: migrated from empty to 0004")
    assert "already at revision 0004" in run(capsys, "db", "upgrade")[1]
    assert "up to date" in run(capsys, "db", "status")[1]


def test_commands_refuse_an_unmigrated_database(db, capsys):
    code, _, err = run(capsys, "keys", "list")
    assert code == 2
    assert "has never been migrated" in err
    assert "omnicrm db upgrade" in err


def test_keys_create_prints_the_key_once_and_list_never_shows_it(db, capsys):
    run(capsys, "db", "upgrade")
    code, out, err = run(capsys, "keys", "create", "--scope", "pos", "--name", "store-42")
    key = out.strip()
    assert code == 0
    assert key.startswith("ocrm_")
    assert "cannot be shown again" in err
    code, out, _ = run(capsys, "keys", "list", "--json")
    (listed,) = json.loads(out)
    assert (listed["scope"], listed["name"], listed["revoked_at"]) == ("pos", "store-42", None)
    assert key not in out
    assert "revoked at" in run(capsys, "keys", "revoke", str(listed["id"]))[1]
    code, _, err = run(capsys, "keys", "create", "--scope", "root")
    assert code == 2
    assert "scope 'root' is unknown" in err


def test_keys_create_refuses_the_default_secret_in_production(db, capsys, monkeypatch):
    run(capsys, "db", "upgrade")
    monkeypatch.setenv("OMNICRM_ENV", "production")
    code, _, err = run(capsys, "keys", "create", "--scope", "pos")
    assert code == 2
    assert "OMNICRM_SECRET_KEY is not set" in err


def seed(url: str) -> str:
    engine = make_engine(url)
    rules = load_rules()
    with make_session_factory(engine)() as s:
        m = members.enrol(s, members.MemberInput(customer_id="C-1"), Context("cli"), rules)
        points.adjust(s, m["member_id"], 500, "seed", Context("cli"), rules)
    engine.dispose()
    return m["member_id"]


def test_ledger_verify_says_ok_then_names_the_tampered_entry(db, capsys):
    run(capsys, "db", "upgrade")
    seed(db)
    code, out, _ = run(capsys, "ledger", "verify")
    assert (code, out.strip()) == (0, "ok, 1 entries")
    engine = make_engine(db)
    with engine.begin() as conn:
        conn.execute(text("drop trigger loyalty_ledger_no_update"))  # the first line of defence
        conn.execute(text("update loyalty_ledger set points = 5000, balance_after = 5000"))
    engine.dispose()
    code, out, _ = run(capsys, "ledger", "verify")
    assert code == 1
    assert out.startswith("TAMPERED: entry 1 (member m_")
    code, out, _ = run(capsys, "ledger", "verify", "--json")
    report = json.loads(out)
    assert report["ok"] is False
    assert report["problems"][0]["entry_id"] == 1


def test_loyalty_expire_and_review_jobs(db, capsys):
    run(capsys, "db", "upgrade")
    seed(db)
    code, out, _ = run(capsys, "loyalty", "expire", "--as-of", "2099-01-01T00:00:00Z")
    assert (code, out.strip()) == (0, "expired 500 points of 1 member(s) in 1 ledger entry")
    assert "0 member(s) changed tier" in run(capsys, "loyalty", "review-tiers")[1]
    assert (
        "purged 0 idempotency record(s) older than 7"
        in run(capsys, "loyalty", "purge-keys", "--days", "7")[1]
    )
    code, _, err = run(capsys, "loyalty", "expire", "--as-of", "next tuesday")
    assert code == 2
    assert "is not an ISO 8601 time" in err


def test_serve_refuses_an_unmigrated_database_before_starting(db, capsys):
    code, _, err = run(capsys, "serve", "--port", "1")
    assert code == 2
    assert "run `omnicrm db upgrade`" in err
