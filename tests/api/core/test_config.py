"""Settings refuse default or weak secrets outside demo/test, and explain bad values."""

from __future__ import annotations

import pytest

from omnicrm.api.core.config import DEFAULT_SECRET, Settings
from omnicrm.errors import InputError


def test_production_refuses_the_default_secret():
    with pytest.raises(InputError, match="OMNICRM_SECRET_KEY is not set"):
        Settings.from_env({"OMNICRM_ENV": "production"})


def test_demo_and_test_accept_the_default_secret():
    assert Settings.from_env({"OMNICRM_ENV": "demo"}).secret_key == DEFAULT_SECRET


def test_short_secrets_are_refused():
    with pytest.raises(InputError, match="has 6 characters; use at least 32"):
        Settings.from_env({"OMNICRM_SECRET_KEY": "abcdef"})


def test_values_come_from_the_environment():
    s = Settings.from_env(
        {
            "OMNICRM_SECRET_KEY": "s" * 40,
            "OMNICRM_RATE_PER_SECOND": "2.5",
            "OMNICRM_RATE_BURST": "7",
            "OMNICRM_DATABASE_URL": "sqlite:///x.db",
        }
    )
    assert (s.rate_per_second, s.rate_burst, s.database_url) == (2.5, 7, "sqlite:///x.db")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OMNICRM_RATE_BURST": "many"}, "OMNICRM_RATE_BURST='many'"),
        ({"OMNICRM_RATE_PER_SECOND": "0"}, "OMNICRM_RATE_PER_SECOND='0': Input should be greater"),
        ({"OMNICRM_ENV": "staging"}, "OMNICRM_ENV='staging'"),
    ],
)
def test_bad_values_name_the_variable_and_the_value(env, message):
    with pytest.raises(InputError, match=message):
        Settings.from_env({"OMNICRM_ENV": "test", **env})
