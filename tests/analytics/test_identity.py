"""Identity resolution: connected components of records <-> normalised identifiers."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from omnicrm.analytics.identity import (
    KEY_COLUMNS,
    build_customer_keys,
    identifier_links,
    link_path,
    load_identity_rules,
    resolve_identities,
    unify,
)
from omnicrm.analytics.pii import hmac_hex
from omnicrm.errors import ConvergenceError, InputError
from omnicrm.schema import TABLES
from omnicrm.warehouse import ensure_table

KEY = "test-key-0123456789abcdef"

# The crafted graph (threshold 3 records per identifier):
#
#   C01 --member_card MC1001-- C02            ("MC-1001" and "mc 1001" normalise alike)
#   C10 --email-- C11 --phone-- C12           chain through two different identifiers
#   C12 --app_device-- APP7                   APP7 exists only in identities
#   W1, W2, W3, W4 share the store phone 13800000000: a super-node (4 > 3), not a link
#   W1 --wechat_openid-- W2                   so W1 and W2 still merge, through WeChat
#   C99                                       no identifier: its own customer
#   E1 / E2 hold "oAbC" and "OABC": openids are case-sensitive, so they stay apart
CUSTOMERS = pd.DataFrame(
    [
        ("C01", "138 0013 8000", None),
        ("C02", None, None),
        ("C10", None, "Wang.Fang@Example.com"),
        ("C11", "+86 139-0000-1111", " wang.fang@example.com "),
        ("C12", "0086 13900001111", None),
        ("W1", "13800000000", None),
        ("W2", "138-0000-0000", None),
        ("W3", "+8613800000000", None),
        ("W4", "13800000000", None),
        ("C99", None, None),
        ("E1", None, None),
        ("E2", None, None),
    ],
    columns=["customer_id", "phone", "email"],
)
IDENTITIES = pd.DataFrame(
    [
        ("C01", "member_card", "MC-1001", "pos"),
        ("C02", "member_card", "mc 1001", "app"),
        ("C12", "app_device", "3F2A-BEEF-0001", "app"),
        ("APP7", "app_device", "3f2a-beef-0001", "app"),
        ("W1", "wechat_openid", "oWx_001", "mini_program"),
        ("W2", "wechat_openid", " oWx_001", "mini_program"),
        ("E1", "wechat_openid", "oAbC", "mini_program"),
        ("E2", "wechat_openid", "OABC", "mini_program"),
    ],
    columns=["customer_id", "id_type", "id_value", "source"],
)

# Expected (customer_id, unified_id, component_size, hops, linked_to, link_type).
EXPECTED = [
    ("APP7", "APP7", 4, 0, None, None),  # smallest id of {APP7, C10, C11, C12} is "APP7"
    ("C01", "C01", 2, 0, None, None),
    ("C02", "C01", 2, 1, "C01", "member_card"),
    ("C10", "APP7", 4, 3, "C11", "email"),
    ("C11", "APP7", 4, 2, "C12", "phone"),
    ("C12", "APP7", 4, 1, "APP7", "app_device"),
    ("C99", "C99", 1, 0, None, None),
    ("E1", "E1", 1, 0, None, None),
    ("E2", "E2", 1, 0, None, None),
    ("W1", "W1", 2, 0, None, None),
    ("W2", "W1", 2, 1, "W1", "wechat_openid"),
    ("W3", "W3", 1, 0, None, None),
    ("W4", "W4", 1, 0, None, None),
]

RULES = load_identity_rules(max_records_per_identifier=3)


def _resolve(customers=CUSTOMERS, identities=IDENTITIES, rules=RULES):
    return resolve_identities(
        ibis.memtable(customers), ibis.memtable(identities), rules=rules, key=KEY
    )


@pytest.fixture(scope="module")
def crafted():
    """The crafted graph resolved once on DuckDB (tests only read it)."""
    with _resolve() as result:
        yield result


def _rows(keys) -> list[tuple]:
    return _frame_rows(keys.execute())


def _frame_rows(df: pd.DataFrame) -> list[tuple]:
    df = df.sort_values("customer_id")
    df = df.astype(object).where(df.notna(), None)
    return [
        (r.customer_id, r.unified_id, int(r.component_size), int(r.hops), r.linked_to, r.link_type)
        for r in df.itertuples()
    ]


def test_crafted_graph_components_and_evidence(crafted):
    result = crafted
    assert _rows(result.keys) == EXPECTED
    assert result.keys.columns == KEY_COLUMNS


def test_evidence_hash_is_the_hmac_of_the_normalised_identifier(crafted):
    keys = crafted.keys.execute().set_index("customer_id")
    assert keys.link_hash["C11"] == hmac_hex(["13900001111"], KEY.encode())[0]
    assert keys.link_hash["C02"] == hmac_hex(["MC1001"], KEY.encode())[0]
    assert pd.isna(keys.link_hash["C01"])


def test_super_node_is_dropped_and_reported(crafted):
    result = crafted
    sn = result.supernodes.execute()
    assert sn[["id_type", "n_records", "max_records"]].values.tolist() == [["phone", 4, 3]]
    assert sn.id_hash[0] == hmac_hex(["13800000000"], KEY.encode())[0]
    assert result.supernode_examples == [
        {"id_type": "phone", "id_masked": "138****0000", "n_records": 4, "max_records": 3}
    ]


def test_raising_the_threshold_lets_the_shared_phone_merge_everyone():
    result = _resolve(rules=load_identity_rules(max_records_per_identifier=4))
    keys = result.keys.execute().set_index("customer_id")
    assert set(keys.unified_id[["W1", "W2", "W3", "W4"]]) == {"W1"}
    assert result.supernodes.count().execute() == 0


def test_per_type_threshold_overrides_the_global_one():
    # identity.toml trusts a device id for at most 4 records (a family tablet), phones for 10
    identities = pd.DataFrame(
        [(f"F{i}", "app_device", "ipad-42", "app") for i in range(5)]
        + [(f"F{i}", "phone", "13911112222", "app") for i in range(5, 10)],
        columns=["customer_id", "id_type", "id_value", "source"],
    )
    result = resolve_identities(None, ibis.memtable(identities), key=KEY)
    keys = result.keys.execute().set_index("customer_id")
    assert keys.component_size[[f"F{i}" for i in range(5)]].tolist() == [1] * 5
    assert keys.component_size[[f"F{i}" for i in range(5, 10)]].tolist() == [5] * 5
    assert result.supernode_examples == [
        {"id_type": "app_device", "id_masked": "ip****42", "n_records": 5, "max_records": 4}
    ]


def test_result_does_not_depend_on_input_order(crafted):
    expected = _rows(crafted.keys)
    for seed in (1, 2):
        shuffled = _resolve(
            CUSTOMERS.sample(frac=1, random_state=seed),
            IDENTITIES.sample(frac=1, random_state=seed),
        )
        assert _rows(shuffled.keys) == expected


def test_long_chain_converges_in_few_rounds_thanks_to_pointer_jumping():
    # R00 -p0- R01 -p1- R02 ... R15: each neighbour pair shares its own phone, and the ids are
    # listed from the far end so that the smallest label has the whole chain to travel.
    n = 16
    rows = []
    for i in reversed(range(n)):
        ids = [i - 1, i] if 0 < i < n - 1 else ([i] if i == 0 else [i - 1])
        rows += [(f"R{i:02d}", "phone", f"1390000{j:04d}", "pos") for j in ids]
    identities = pd.DataFrame(rows, columns=["customer_id", "id_type", "id_value", "source"])
    result = resolve_identities(None, ibis.memtable(identities), rules=RULES, key=KEY)
    keys = result.keys.order_by("customer_id").execute()
    assert set(keys.unified_id) == {"R00"}
    assert keys.hops.tolist() == list(range(n))  # BFS depth = position in the chain
    assert keys.linked_to.tolist()[1:] == [f"R{i:02d}" for i in range(n - 1)]
    assert keys.component_size.tolist() == [n] * n
    # plain propagation moves the label one record per round (15 rounds + 1 to see no change)
    assert result.iterations <= 6


def test_non_convergence_is_reported():
    identities = pd.DataFrame(
        [(f"R{i}", "phone", f"1390000{j:04d}", "pos") for i in range(6) for j in (i, i + 1)],
        columns=["customer_id", "id_type", "id_value", "source"],
    )
    rules = load_identity_rules(max_iterations=1)
    with pytest.raises(ConvergenceError, match=r"did not converge in max_iterations = 1 rounds"):
        resolve_identities(None, ibis.memtable(identities), rules=rules, key=KEY)


def test_identifier_links_are_normalised_and_deduplicated():
    links = identifier_links(ibis.memtable(CUSTOMERS), ibis.memtable(IDENTITIES), RULES)
    df = links.execute()
    c11 = df[df.customer_id == "C11"].sort_values("id_type")
    assert c11[["id_type", "id_value", "source"]].values.tolist() == [
        ["email", "wang.fang@example.com", "customers"],
        ["phone", "13900001111", "customers"],
    ]
    assert len(df) == len(df.drop_duplicates(["customer_id", "id_type", "id_value"]))


def test_unify_maps_sales_to_the_unified_customer(crafted):
    keys = crafted.keys
    lines = ibis.memtable(
        pd.DataFrame(
            {
                "order_id": ["O1", "O2", "O3", "O4"],
                "customer_id": ["C12", "C01", "ZZZ", None],
                "amount": [10, 20, 30, 40],
            }
        )
    )
    out = unify(lines, keys, keep_source=True).order_by("order_id").execute()
    assert list(out.columns) == ["order_id", "customer_id", "amount", "source_customer_id"]
    assert out.customer_id.tolist()[:3] == ["APP7", "C01", "ZZZ"]  # unknown id kept as is
    assert pd.isna(out.customer_id[3])  # anonymous stays anonymous
    assert out.source_customer_id.tolist()[:3] == ["C12", "C01", "ZZZ"]


def test_link_path_explains_a_merge_back_to_the_root(crafted):
    path = link_path(crafted.keys, "C10")
    assert [(p["customer_id"], p["link_type"], p["linked_to"]) for p in path] == [
        ("C10", "email", "C11"),
        ("C11", "phone", "C12"),
        ("C12", "app_device", "APP7"),
    ]


def test_rules_file_overrides_and_validation(tmp_path):
    good = tmp_path / "identity.toml"
    good.write_text(
        'max_records_per_identifier = 5\n[id_types.loyalty_app]\nnormalizer = "code"\n'
        "[id_types.phone]\nmax_records = 2\n"
    )
    rules = load_identity_rules(good)
    assert rules.threshold("email") == 5
    assert rules.threshold("phone") == 2
    assert rules.rule("phone").normalizer == "phone"  # merged key by key
    assert rules.rule("loyalty_app").normalizer == "code"

    bad = tmp_path / "bad.toml"
    bad.write_text('[id_types.phone]\nnormalizer = "digits"\n')
    with pytest.raises(InputError, match=r"\[id_types.phone\]: normalizer = 'digits' is unknown"):
        load_identity_rules(bad)
    bad.write_text("max_record_per_identifier = 5\n")
    with pytest.raises(InputError, match=r"unknown setting\(s\) max_record_per_identifier"):
        load_identity_rules(bad)
    with pytest.raises(InputError, match=r"does not exist"):
        load_identity_rules(tmp_path / "missing.toml")
    with pytest.raises(InputError, match=r"max_records_per_identifier = 1 must be an integer >= 2"):
        load_identity_rules(max_records_per_identifier=1)


def test_build_customer_keys_writes_the_tables(warehouse):
    customers = ensure_table(warehouse, TABLES["customers"])
    identities = ensure_table(warehouse, TABLES["identities"])
    warehouse.insert("customers", CUSTOMERS.reindex(columns=customers.columns))
    warehouse.insert("identities", IDENTITIES.reindex(columns=identities.columns))
    result = build_customer_keys(warehouse, rules=RULES, key=KEY)
    assert {"customer_keys", "identity_supernodes"} <= set(warehouse.list_tables())
    # APP7 is only in identities: it is keyed too; the stored table equals the lazy result
    assert _rows(warehouse.table("customer_keys")) == EXPECTED
    assert warehouse.table("identity_supernodes").count().execute() == 1
    assert result.iterations >= 1


def test_missing_columns_are_named():
    identities = ibis.memtable({"customer_id": ["C1"], "value": ["x"]})
    with pytest.raises(
        InputError,
        match=r"the identities table lacks column\(s\) id_type, "
        r"id_value; identity resolution needs customer_id",
    ):
        resolve_identities(None, identities, key=KEY)


def test_build_customer_keys_needs_source_tables(warehouse):
    with pytest.raises(InputError, match=r"neither a customers nor an identities table"):
        build_customer_keys(warehouse, key=KEY)


@pytest.mark.spark
@pytest.mark.slow
def test_duckdb_and_spark_give_identical_keys(spark_warehouse, crafted):
    spark = spark_warehouse
    spark.create_view("identity_test_customers", ibis.memtable(CUSTOMERS), overwrite=True)
    spark.create_view("identity_test_identities", ibis.memtable(IDENTITIES), overwrite=True)
    with resolve_identities(
        spark.table("identity_test_customers"),
        spark.table("identity_test_identities"),
        rules=RULES,
        key=KEY,
    ) as on_spark:
        a = on_spark.keys.execute()[list(KEY_COLUMNS)]
        spark_examples = on_spark.supernode_examples
        scratch = list(on_spark.scratch.names)
    on_duckdb = crafted
    b = on_duckdb.keys.execute()[list(KEY_COLUMNS)]
    a = a.sort_values("customer_id").reset_index(drop=True)
    b = b.sort_values("customer_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    assert _frame_rows(a) == EXPECTED
    assert spark_examples == on_duckdb.supernode_examples
    # scratch tables are dropped on release
    assert scratch
    assert not set(scratch) & set(spark.list_tables())


def _reference_components(identities: pd.DataFrame, records: list[str], threshold: int):
    """Independent implementation: scipy connected components on the record graph."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    index = {r: i for i, r in enumerate(records)}
    held = identities.groupby(["id_type", "id_value"]).customer_id.agg(lambda s: sorted(set(s)))
    rows, cols = [], []
    for holders in held:
        if 2 <= len(holders) <= threshold:
            first = index[holders[0]]
            rows += [first] * (len(holders) - 1)
            cols += [index[h] for h in holders[1:]]
    n = len(records)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    members: dict[int, list[str]] = {}
    for record, label in zip(records, labels, strict=True):
        members.setdefault(label, []).append(record)
    return {r: min(members[labels[index[r]]]) for r in records}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_match_an_independent_implementation(seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    n_records, n_links = 120, 160
    records = [f"K{i:03d}" for i in rng.permutation(n_records)]
    identities = pd.DataFrame(
        {
            "customer_id": rng.choice(records, n_links),
            "id_type": rng.choice(["wechat_unionid", "alipay_id", "online_account"], n_links),
            # few distinct values, so that some identifiers are shared by many records
            "id_value": [f"v{v}" for v in rng.integers(0, 40, n_links)],
            "source": "pos",
        }
    )
    customers = pd.DataFrame({"customer_id": records})
    rules = load_identity_rules(max_records_per_identifier=3)
    keys = resolve_identities(
        ibis.memtable(customers), ibis.memtable(identities), rules=rules, key=KEY
    ).keys.execute()
    # the values are already in normal form for these types (trimmed, lower-case)
    expected = _reference_components(identities, records, threshold=3)
    assert dict(zip(keys.customer_id, keys.unified_id, strict=True)) == expected
    # every link of the evidence tree is one hop closer to the root, inside the component
    by_id = keys.set_index("customer_id")
    for row in keys.itertuples():
        if row.linked_to is not None and not pd.isna(row.linked_to):
            assert by_id.hops[row.linked_to] == row.hops - 1
            assert by_id.unified_id[row.linked_to] == row.unified_id
        else:
            assert row.customer_id == row.unified_id


@pytest.mark.postgres
def test_postgres_gives_the_same_keys(postgres_url, crafted):
    from omnicrm.warehouse import connect

    con = connect(postgres_url)
    names = {"customers": "identity_test_customers", "identities": "identity_test_identities"}
    try:
        con.create_table(names["customers"], CUSTOMERS, overwrite=True)
        con.create_table(names["identities"], IDENTITIES, overwrite=True)
        with resolve_identities(
            con.table(names["customers"]), con.table(names["identities"]), rules=RULES, key=KEY
        ) as result:
            keys = result.keys.execute()
            assert _frame_rows(keys) == EXPECTED
            assert result.supernode_examples == crafted.supernode_examples
        duck = crafted.keys.execute().set_index("customer_id").link_hash
        assert keys.set_index("customer_id").link_hash.equals(duck.loc[keys.customer_id])
    finally:
        for name in names.values():
            con.drop_table(name, force=True)
        con.disconnect()
