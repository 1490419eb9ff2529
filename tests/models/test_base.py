"""Shared estimator helpers: fitted-state checks and JSON save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from omnicrm.errors import InputError, NotFittedError
from omnicrm.models.base import JSONModel, check_is_fitted


class Shift(JSONModel):
    _fitted_attributes = ("offset_", "history_")

    def __init__(self, scale=1.0, label="x"):
        self.scale = scale
        self.label = label

    def fit(self, values):
        self.offset_ = np.float64(np.mean(values) * self.scale)
        self.history_ = {"n": np.int64(len(values)), "values": np.asarray(values)}
        return self


class Other(Shift):
    pass


def test_unfitted_estimator_is_refused_with_its_name():
    with pytest.raises(NotFittedError, match="Shift is not fitted yet: call fit"):
        check_is_fitted(Shift())


def test_not_fitted_error_is_also_a_value_and_attribute_error():
    with pytest.raises(AttributeError):
        check_is_fitted(Shift())


def test_explicit_attribute_list():
    est = Shift().fit([1.0])
    check_is_fitted(est, ["offset_"])
    with pytest.raises(NotFittedError):
        check_is_fitted(est, ["missing_"])


def test_get_params_and_repr_show_settings_unchanged():
    est = Shift(scale=2, label="y")
    assert est.get_params() == {"scale": 2, "label": "y"}
    assert repr(est) == "Shift(scale=2, label='y')"


def test_save_load_round_trip_with_numpy_values(tmp_path):
    est = Shift(scale=0.1).fit([0.1, 0.2, 0.7])
    loaded = Shift.load(est.save(tmp_path / "m.json"))
    assert loaded.get_params() == est.get_params()
    assert loaded.offset_ == est.offset_  # floats are written exactly
    assert loaded.history_ == {"n": 3, "values": [0.1, 0.2, 0.7]}


def test_save_before_fit_is_refused(tmp_path):
    with pytest.raises(NotFittedError):
        Shift().save(tmp_path / "m.json")


def test_loading_another_model_class_is_refused(tmp_path):
    path = Shift().fit([1.0]).save(tmp_path / "m.json")
    with pytest.raises(InputError, match=r"holds a 'Shift', not a 'Other'; load it with Shift\."):
        Other.load(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "is not valid JSON"),
        ('{"a": 1}', "is not an omnicrm model file"),
        ('{"format": "omnicrm-model", "version": 99, "class": "Shift"}', "has version 99"),
        (
            '{"format": "omnicrm-model", "version": 1, "class": "Shift", "settings": {}, '
            '"fitted": {"offset_": 1.0}}',
            r"lacks fitted values \['history_'\]",
        ),
    ],
)
def test_bad_model_files_are_explained(tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        Shift.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        Shift.load(tmp_path / "nope.json")


def test_file_records_class_settings_and_fitted_values(tmp_path):
    doc = json.loads(Shift(scale=3).fit([2.0]).save(tmp_path / "m.json").read_text())
    assert doc["class"] == "Shift"
    assert doc["settings"] == {"scale": 3, "label": "x"}
    assert doc["fitted"]["offset_"] == 6.0
