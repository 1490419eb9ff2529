"""Behavioural clusters: feature extraction (golden), planted clusters recovered, k chosen,
profiles and names, the estimator contract and bad input."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score

from omnicrm.analytics.clusters import FEATURES, CustomerClusters, cluster_features, cluster_name
from omnicrm.errors import InputError, NotFittedError
from omnicrm.schema import TABLES
from omnicrm.warehouse import connect, ensure_table


def planted(sizes=(120, 80, 50), seed=1) -> tuple[pd.DataFrame, np.ndarray]:
    """Three behaviours: frequent small online baskets; rare big store baskets; returners."""
    rng = np.random.default_rng(seed)
    n0, n1, n2 = sizes
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(sum(sizes))],
            "frequency": np.r_[
                rng.normal(25, 2, n0), rng.normal(3, 0.5, n1), rng.normal(10, 1, n2)
            ],
            "avg_basket_value": np.r_[
                rng.normal(20, 3, n0), rng.normal(150, 15, n1), rng.normal(60, 5, n2)
            ],
            "online_share": np.r_[
                rng.uniform(0.8, 1, n0), rng.uniform(0, 0.1, n1), rng.uniform(0.4, 0.6, n2)
            ],
            "return_rate": np.r_[
                rng.normal(0.02, 0.005, n0), rng.normal(0.02, 0.005, n1), rng.normal(0.2, 0.02, n2)
            ],
        }
    )
    truth = np.repeat([0, 1, 2], sizes)
    order = rng.permutation(len(frame))
    return frame.iloc[order].reset_index(drop=True), truth[order]


@pytest.fixture(scope="module")
def fitted():
    """The planted frame, its true groups, and a model fitted with k_range (2, 8)."""
    frame, truth = planted()
    return frame, truth, CustomerClusters(k_range=(2, 8), random_state=0).fit(frame)


def test_planted_clusters_are_recovered_and_k_is_chosen_by_silhouette(fitted):
    _, truth, model = fitted
    assert model.k_ == 3
    assert adjusted_rand_score(truth, model.labels_) == 1.0
    assert set(model.silhouette_scores_) == set(range(2, 9))
    assert max(model.silhouette_scores_, key=model.silhouette_scores_.get) == 3


def test_clusters_are_numbered_by_size_and_named_by_what_distinguishes_them(fitted):
    _, truth, model = fitted
    # Largest planted group (120) is cluster 0, then 80, then 50.
    assert model.profiles_["size"].tolist() == [120, 80, 50]
    assert (model.labels_ == truth).all()
    names = model.names_
    assert "high-frequency" in names[0]
    assert "online" in names[0]
    assert "high-basket" in names[1]
    assert "in-store" in names[1]
    assert names[2].startswith("high-return")
    assert len(set(names.values())) == 3


def test_profiles_hold_raw_means_and_z_scores(fitted):
    frame, _, model = fitted
    profiles = model.profiles_.set_index("cluster")
    raw = frame.drop(columns="customer_id").groupby(model.labels_).mean()
    np.testing.assert_allclose(profiles["mean_frequency"], raw["frequency"])
    assert profiles["share"].sum() == pytest.approx(1.0)
    # z-scores are means of standardised features, so size-weighted they average to 0.
    weighted = (profiles["z_online_share"] * profiles["share"]).sum()
    assert weighted == pytest.approx(0.0, abs=1e-9)
    assert profiles.loc[0, "z_online_share"] > 0.5 > -0.5 > profiles.loc[1, "z_online_share"]
    assert model.overall_means_["frequency"] == pytest.approx(frame.frequency.mean())


def test_five_blobs_give_five_clusters_even_with_a_silhouette_sample():
    rng = np.random.default_rng(3)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10], [5, 20]])
    points = np.vstack([c + rng.normal(0, 0.7, (60, 2)) for c in centres])
    frame = pd.DataFrame(points, columns=["x", "y"])
    model = CustomerClusters(k_range=(2, 7), log_features=(), silhouette_sample=100).fit(frame)
    assert model.k_ == 5
    assert np.bincount(model.labels_).tolist() == [60] * 5


def test_fits_are_deterministic_for_a_seed():
    frame, _ = planted()
    a = CustomerClusters(random_state=7, silhouette_sample=60).fit(frame)
    b = CustomerClusters(random_state=7, silhouette_sample=60).fit(frame)
    assert a.silhouette_scores_ == b.silhouette_scores_
    assert (a.labels_ == b.labels_).all()
    pd.testing.assert_frame_equal(a.profiles_, b.profiles_)


def test_predict_reproduces_training_labels_and_places_new_customers(fitted):
    frame, _, model = fitted
    assert (model.predict(frame) == model.labels_).all()
    new = pd.DataFrame(
        {"frequency": [24, 3], "avg_basket_value": [18, 160], "online_share": [0.95, 0.02],
         "return_rate": [0.02, 0.02], "customer_id": ["n1", "n2"]}
    )  # fmt: skip
    assert model.predict(new).tolist() == [0, 1]


def test_estimator_contract():
    model = CustomerClusters(k_range=(2, 3), random_state=5)
    assert model.get_params()["k_range"] == (2, 3)
    assert clone(model).get_params() == model.get_params()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.predict(pd.DataFrame({"x": [1.0]}))
    frame, _ = planted()
    assert model.fit(frame) is model
    assert list(model.feature_names_in_) == [
        "frequency", "avg_basket_value", "online_share", "return_rate",
    ]  # fmt: skip
    assert (model.fit_predict(frame) == model.labels_).all()


def test_cluster_name_uses_the_strongest_features_in_words():
    z = pd.Series(
        {"frequency": 1.8, "avg_basket_value": -1.2, "online_share": 0.9, "monetary": 0.1}
    )
    assert cluster_name(z) == "high-frequency, low-basket, online"
    assert cluster_name(z, words=1) == "high-frequency"
    assert cluster_name(pd.Series({"frequency": 0.2})) == "average"
    assert cluster_name(pd.Series({"visits": -2.0})) == "low-visits"


@pytest.mark.parametrize(
    ("kwargs", "data", "message"),
    [
        ({}, [[1.0, 2.0]], "must be a pandas DataFrame"),
        ({"k_range": (1, 4)}, None, r"k_range \(1, 4\) is not valid"),
        ({"k_range": (5, 3)}, None, r"k_range \(5, 3\) is not valid"),
        ({"k_range": "2-8"}, None, r"k_range '2-8' is not valid"),
        ({"features": ["frequency", "visits"]}, None, r"lack column\(s\) visits"),
    ],
)
def test_bad_settings_and_data_are_rejected(kwargs, data, message):
    frame, _ = planted()
    with pytest.raises(InputError, match=message):
        CustomerClusters(**kwargs).fit(frame if data is None else data)


def test_missing_values_are_named_with_their_count():
    frame, _ = planted()
    frame.loc[[3, 5], "online_share"] = np.nan
    frame.loc[7, "frequency"] = np.inf
    with pytest.raises(InputError, match=r"frequency \(1 rows\), online_share \(2 rows\)"):
        CustomerClusters().fit(frame)


def test_too_few_customers_for_the_smallest_k():
    frame, _ = planted()
    with pytest.raises(InputError, match="3 customers cannot form 3 clusters"):
        CustomerClusters(k_range=(3, 5)).fit(frame.head(3))


def test_identical_customers_cannot_be_clustered():
    frame = pd.DataFrame({"frequency": [1.0, 1.0, 1.0, 2.0, 2.0]})
    with pytest.raises(InputError, match="only 2 distinct feature rows: they cannot form 2"):
        CustomerClusters().fit(frame)
    frame.loc[5] = 9.0
    assert CustomerClusters(k_range=(2, 8)).fit(frame).silhouette_scores_.keys() == {2}


def test_k_range_is_capped_below_the_number_of_customers():
    frame, _ = planted()
    model = CustomerClusters(k_range=(2, 50)).fit(frame.head(6))
    assert max(model.silhouette_scores_) == 5


def test_non_numeric_feature_columns_are_rejected():
    frame = pd.DataFrame({"frequency": ["a", "b", "c"]})
    with pytest.raises(InputError, match="must be numeric"):
        CustomerClusters(features=["frequency"]).fit(frame)
    with pytest.raises(InputError, match="no numeric feature columns"):
        CustomerClusters().fit(frame)


# -- feature extraction --------------------------------------------------------------------
#
#   order line time (UTC)         cust chan   prod qty amount promo  note
#   o1    1   2024-07-01 10:00    A    store  p1    2  20.00  P1
#   o1    2   2024-07-01 10:00    A    store  p2    1  10.00
#   o2    1   2024-07-21 10:00    A    online p3    1  30.00
#   o3    1   2024-07-22 10:00    A    store  p1   -1 -10.00         return
#   o4    1   2024-07-31 10:00    B    app    p2    3   9.00
#   o4    2   2024-07-31 10:00    B    app    p9    1   1.00         p9 not in the catalogue
#
# Catalogue: p1, p2 Dairy; p3 Bakery. As of 2024-08-01:
#   A: recency 11, 2 orders, net 50, purchased 60 -> basket 30, units 4 -> 2 per order,
#      categories {Dairy, Bakery} = 2 (3 products), returned 10/60, online 1/2, promo 20/60
#   B: recency 1, 1 order, net 10, basket 10, units 4, categories {Dairy, p9} = 2,
#      no returns, online 1/1 (app), no promotion


def feature_lines(con, load_lines):
    rows = [
        ("o1", 1, "2024-07-01 10:00", "A", "store", "p1", 2, "20.00", "P1", False),
        ("o1", 2, "2024-07-01 10:00", "A", "store", "p2", 1, "10.00", None, False),
        ("o2", 1, "2024-07-21 10:00", "A", "online", "p3", 1, "30.00", None, False),
        ("o3", 1, "2024-07-22 10:00", "A", "store", "p1", -1, "-10.00", None, True),
        ("o4", 1, "2024-07-31 10:00", "B", "app", "p2", 3, "9.00", None, False),
        ("o4", 2, "2024-07-31 10:00", "B", "app", "p9", 1, "1.00", None, False),
    ]
    df = pd.DataFrame(
        rows,
        columns=["order_id", "line_number", "order_ts", "customer_id", "channel", "product_id",
                 "quantity", "amount", "promotion_id", "is_return"],
    )  # fmt: skip
    df["order_ts"] = pd.to_datetime(df["order_ts"], utc=True)
    df["unit_price"] = "1.00"
    return load_lines(con, df)


def test_cluster_features_golden(load_lines):
    con = connect("duckdb://:memory:")
    ensure_table(con, TABLES["products"])
    con.insert(
        "products",
        pd.DataFrame(
            {"product_id": ["p1", "p2", "p3"], "name": ["milk", "yogurt", "bread"],
             "category": ["Dairy", "Dairy", "Bakery"]}
        ),
    )  # fmt: skip
    lines = feature_lines(con, load_lines)
    out = cluster_features(lines, as_of="2024-08-01", products=con.table("products"))
    got = out.execute().set_index("customer_id").sort_index()
    assert list(got.columns) == list(FEATURES)
    expected = pd.DataFrame(
        {
            "recency_days": [11.0, 1.0],
            "frequency": [2.0, 1.0],
            "monetary": [50.0, 10.0],
            "avg_basket_value": [30.0, 10.0],
            "items_per_order": [2.0, 4.0],
            "category_breadth": [2.0, 2.0],
            "return_rate": [10 / 60, 0.0],
            "online_share": [0.5, 1.0],
            "promo_share": [20 / 60, 0.0],
        },
        index=pd.Index(["A", "B"], name="customer_id"),
    )
    pd.testing.assert_frame_equal(got, expected)
    without_catalogue = cluster_features(lines, as_of="2024-08-01").execute()
    assert sorted(without_catalogue.category_breadth) == [2.0, 3.0]  # distinct products
    con.disconnect()


def planted_lines(seed: int = 5) -> tuple[pd.DataFrame, dict[str, int]]:
    """Sales lines of three planted behaviours, built without per-row loops.

    0: 60 online regulars: 10 small orders (2 lines of 3-8.00) over five months, many products.
    1: 40 store big-basket buyers: 2 orders of 3 lines of 60-90.00, one category of products.
    2: 30 returners: 4 store orders of 2 lines of 20-30.00, half of the lines returned later.
    """
    rng = np.random.default_rng(seed)
    groups = np.repeat([0, 1, 2], [60, 40, 30])
    orders_per = np.array([10, 2, 4])[groups]
    lines_per = np.array([2, 3, 2])[groups]
    customer = np.repeat(np.arange(len(groups)), orders_per)
    group_of_order = groups[customer]
    day = rng.integers(0, 150, len(customer))
    order_ts = pd.Timestamp("2024-02-01", tz="UTC") + pd.to_timedelta(day, unit="D")
    line_order = np.repeat(np.arange(len(customer)), lines_per[customer])
    g = group_of_order[line_order]
    low = np.array([300, 6000, 2000])[g]
    high = np.array([800, 9000, 3000])[g]
    cents = rng.integers(low, high)
    product = np.where(g == 0, rng.integers(0, 40, len(g)), rng.integers(0, 4, len(g)))
    channel = np.array(["online", "store", "store"])[g]
    purchases = pd.DataFrame(
        {
            "order_id": [f"o{i}" for i in line_order],
            "order_ts": order_ts[line_order],
            "customer_id": [f"c{i}" for i in customer[line_order]],
            "channel": channel,
            "product_id": [f"p{k}" for k in product],
            "quantity": 1,
            "amount": cents / 100,
            "is_return": False,
        }
    )
    purchases["line_number"] = purchases.groupby("order_id").cumcount() + 1
    returned = purchases[(g == 2) & (rng.random(len(g)) < 0.5)].copy()
    returned["order_id"] = "r" + returned["order_id"] + "_" + returned["line_number"].astype(str)
    returned["order_ts"] = returned["order_ts"] + pd.Timedelta(days=3)
    returned["quantity"] = -1
    returned["amount"] = -returned["amount"]
    returned["is_return"] = True
    df = pd.concat([purchases, returned], ignore_index=True)
    df["amount"] = df["amount"].map(lambda v: Decimal(f"{v:.2f}"))
    df["unit_price"] = df["amount"].map(abs)
    truth = {f"c{i}": int(k) for i, k in enumerate(groups)}
    return df, truth


def test_planted_behaviours_in_sales_lines_are_recovered(load_lines):
    con = connect("duckdb://:memory:")
    df, truth = planted_lines()
    lines = load_lines(con, df)
    features = cluster_features(lines, as_of="2024-08-01").execute()
    model = CustomerClusters(k_range=(2, 6), random_state=0).fit(features)
    expected = features.customer_id.map(truth).to_numpy()
    assert model.k_ == 3
    assert adjusted_rand_score(expected, model.labels_) == 1.0
    names = model.names_
    assert "online" in names[0]  # the 60 online regulars are the largest cluster
    assert "high-basket" in names[1]
    assert "high-return" in names[2]
    con.disconnect()
