"""The building blocks of the model: calendar, catalogue, purchase process, population."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from omnicrm.datagen.catalog import ean13, make_catalogue, round_price
from omnicrm.datagen.catalog_data import COMPLEMENTS, TAXONOMY
from omnicrm.datagen.people import make_population
from omnicrm.datagen.purchases import purchase_days
from omnicrm.datagen.retail_calendar import anchor_date, day_profile
from omnicrm.datagen.stores import make_stores
from omnicrm.errors import InputError


class TestCalendar:
    def test_spring_festival_moves_with_the_lunar_calendar(self):
        assert anchor_date("spring_festival", 2025) == date(2025, 1, 29)
        assert anchor_date("spring_festival", 2026) == date(2026, 2, 17)
        assert anchor_date("mid_autumn", 2025) == date(2025, 10, 6)

    def test_years_outside_the_table_are_refused(self):
        with pytest.raises(InputError, match=r"year 2040 is outside the holiday calendar"):
            anchor_date("spring_festival", 2040)

    def test_festivals_lift_traffic_and_open_promotions(self):
        p = day_profile(date(2025, 1, 1), 365)
        d11 = date(2025, 11, 11).toordinal() - date(2025, 1, 1).toordinal()
        d618 = date(2025, 6, 18).toordinal() - date(2025, 1, 1).toordinal()
        ordinary = date(2025, 3, 12).toordinal() - date(2025, 1, 1).toordinal()  # a Wednesday
        assert p.traffic[d11] > 2 * p.traffic[ordinary]
        assert p.online_lift[d11] > 3
        assert p.promotions[p.promo[d618]].promotion_id == "P2025-618"
        assert p.promo[ordinary] == -1
        assert p.promotions[p.member_promo[ordinary]].promotion_id == "P-MEMBERDAY"

    def test_weekends_are_busier(self):
        p = day_profile(date(2025, 3, 3), 7)  # Monday..Sunday, no festival
        assert p.traffic[5] > 1.3 * p.traffic[1]
        assert p.traffic[6] > 1.3 * p.traffic[1]


@pytest.fixture(scope="module")
def cat():
    return make_catalogue(np.random.default_rng(3), launch_window=(400, 1100))


@pytest.fixture(scope="module")
def pop():
    rng = np.random.default_rng(5)
    return make_population(rng, 5000, make_stores(rng), np.ones(1200), burn_in=365, days=730)


class TestCatalogue:
    def test_products_follow_the_hierarchy_with_valid_ean13_codes(self, cat):
        assert len(set(cat.product_id)) == cat.n
        digits = np.array([[int(c) for c in code] for code in cat.product_id])
        weights = np.tile([1, 3], 7)[:13]
        assert (digits @ weights % 10 == 0).all()
        assert (np.diff(cat.sub) >= 0).all()

    def test_prices_are_shelf_prices_and_costs_leave_a_margin(self, cat):
        assert (cat.price_cents % 10 == 0).all()
        assert (cat.cost_cents < cat.price_cents).all()
        assert (cat.cost_cents > 0).all()
        k = [s.subcategory for s in TAXONOMY].index("Infant formula")
        assert np.median(cat.price_cents[cat.sub == k]) > 10 * np.median(
            cat.price_cents[cat.sub == [s.subcategory for s in TAXONOMY].index("Soft drinks")]
        )

    def test_popularity_is_zipf_within_a_subcategory(self, cat):
        draws = cat.draw_in_sub(
            np.zeros(100_000, dtype=np.int64), np.random.default_rng(0).random(100_000)
        )
        counts = np.bincount(draws, minlength=cat.sub_start[1])
        assert (cat.sub[draws] == 0).all()
        assert counts[0] > 1.8 * counts[1] > 1.8 * counts[4] / 1.8

    def test_complement_anchors_have_companions_in_the_partner_subcategory(self, cat):
        index = {s.subcategory: k for k, s in enumerate(TAXONOMY)}
        for rule in COMPLEMENTS:
            anchors = cat.sub == index[rule.anchor]
            for partner in rule.partners:
                companion = cat.companion[index[partner]][anchors]
                assert (cat.sub[companion] == index[partner]).all()

    def test_round_price_and_ean13_examples(self):
        assert round_price(np.array([0.3, 9.99, 55.2, 1234.4])).tolist() == [50, 1000, 5590, 123400]
        assert str(ean13(np.array([400638133393]))[0]) == "4006381333931"


class TestPurchaseProcess:
    def test_without_dropout_the_count_follows_the_rate(self):
        n = 4000
        rng = np.random.default_rng(1)
        days = purchase_days(
            rng,
            arrival=np.zeros(n),
            rate=np.full(n, 0.1),
            dropout_p=np.zeros(n),
            traffic=np.ones(365),
        )
        counts = np.bincount(days.person, minlength=n) - 1  # minus the first purchase
        assert counts.mean() == pytest.approx(36.5, rel=0.03)
        assert counts.var() == pytest.approx(36.5, rel=0.15)  # Poisson: variance = mean
        assert np.isnan(days.dropout_day).all()

    def test_regular_shoppers_have_less_variable_gaps(self):
        n = 2000
        kwargs = {
            "arrival": np.zeros(n),
            "rate": np.full(n, 0.2),
            "dropout_p": np.zeros(n),
            "traffic": np.ones(400),
        }
        cv = []
        for k in (1.0, 6.0):
            d = purchase_days(np.random.default_rng(2), regularity=np.full(n, k), **kwargs)
            same = d.person[1:] == d.person[:-1]
            gaps = np.diff(d.day)[same]
            cv.append(gaps.std() / gaps.mean())
        assert cv[0] == pytest.approx(1.0, abs=0.08)
        assert cv[1] < 0.55

    def test_dropout_happens_after_a_geometric_number_of_repeat_purchases(self):
        n = 5000
        rng = np.random.default_rng(3)
        days = purchase_days(
            rng,
            arrival=np.zeros(n),
            rate=np.full(n, 1.0),
            dropout_p=np.full(n, 0.2),
            traffic=np.ones(200),
        )
        repeats = np.bincount(days.person, minlength=n) - 1
        assert repeats.mean() == pytest.approx(5.0, rel=0.05)  # 1 / p
        assert not np.isnan(days.dropout_day).any()
        last = np.maximum.reduceat(days.day, np.searchsorted(days.person, np.arange(n)))
        assert np.allclose(last, days.dropout_day)

    def test_traffic_shifts_purchases_towards_busy_days(self):
        n = 3000
        traffic = np.tile([1.0, 3.0], 100)
        days = purchase_days(
            np.random.default_rng(4),
            arrival=np.zeros(n),
            rate=np.full(n, 0.05),
            dropout_p=np.zeros(n),
            traffic=traffic / traffic.mean(),
        )
        repeat = np.floor(days.day[days.day > 0]).astype(int)
        busy = (repeat % 2 == 1).mean()
        assert busy == pytest.approx(0.75, abs=0.02)


class TestPopulation:
    def test_records_add_up_exactly_and_belong_to_persons(self, pop):
        assert len(pop.record_person) == 5000
        per_person = np.bincount(pop.record_person, minlength=pop.n_persons)
        assert per_person.min() >= 1
        assert 1.1 < per_person.mean() < 1.6
        linked = pop.person_record[pop.record_person, pop.record_system]
        assert (linked == np.arange(5000)).all()

    def test_channel_weights_only_cover_systems_the_person_uses(self, pop):
        uses = pop.person_record >= 0
        channel_system = np.array([0, 0, 1, 2, 3])
        assert ((pop.channel_w > 0) <= uses[:, channel_system]).all()

    def test_satisfaction_raises_dropout_probability_for_the_unhappy(self, pop):
        low = pop.satisfaction < -1
        high = pop.satisfaction > 1
        assert pop.dropout_p[low].mean() > 1.5 * pop.dropout_p[high].mean()

    def test_only_customers_near_an_unmanned_store_use_one(self, pop):
        from omnicrm.datagen.stores import CITIES

        cities = list(CITIES)
        near = np.isin(pop.city, [cities.index("上海"), cities.index("深圳")])
        assert (pop.channel_w[~near, 1] == 0).all()
        assert (pop.channel_w[near, 1] > 0).any()
