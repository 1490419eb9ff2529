"""Identity resolution: link customer records that share an identifier into one customer.

One person appears as several source records: a member-card record at the POS, an e-shop
account, an app install, a WeChat mini-program user. Records are joined when they share a
*normalised* identifier (phone, e-mail, member card, WeChat unionid, …; from the ``identities``
table and the ``phone``/``email`` columns of ``customers``). The customers are the connected
components of the bipartite graph record <-> identifier.

Algorithm (all in the warehouse, one Ibis expression per round, each round materialised as a scratch
table so it runs unchanged on DuckDB, PostgreSQL and Spark):

1. Normalise identifiers per type (rules in ``config/identity.toml``) and drop *super-nodes*:
   identifiers held by more records than the threshold (a store's default phone typed for every
   walk-in would otherwise merge thousands of strangers). They are reported, not used.
2. Label propagation with pointer jumping: every record starts with its own id as label; each
   round every identifier takes the smallest label of its records, every record the smallest
   label of its identifiers, then jumps to its label's label. Labels only decrease and stay
   inside the component, so the loop stops when no label changes (``O(log diameter)`` rounds
   thanks to the jumps on chains; a handful on real data).
3. Evidence: a breadth-first search from each component's root records which identifier linked
   each record and to which record (``linked_to``), so every merge can be followed back to the
   root. Among several shared identifiers the lowest ``rank`` of the rules wins, then the
   smallest parent id: the explanation is deterministic.

The **unified id** of a customer is the smallest source ``customer_id`` of its component
(string order). It is deterministic whatever the input order, readable, and stays the same as
long as that record exists; a new record with a smaller id joining the component takes over.

Examples
--------
>>> import ibis
>>> from omnicrm.analytics.identity import resolve_identities
>>> customers = ibis.memtable({"customer_id": ["C1", "C2", "C3"],
...                            "phone": ["138 1234 5678", "+86 13812345678", None],
...                            "email": [None, "li@example.com", "LI@example.com "]})
>>> res = resolve_identities(customers, None, key="0123456789abcdef-docs")
>>> res.keys.order_by("customer_id").execute()[["customer_id", "unified_id", "link_type"]]
  customer_id unified_id link_type
0          C1         C1      None
1          C2         C1     phone
2          C3         C1     email
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from omnicrm.analytics.identity_rules import (
    FALLBACK_RANK,
    IdentityRules,
    IdTypeRule,
    load_identity_rules,
    normalize_identifier,
)
from omnicrm.analytics.pii import hash_column, mask_identifier, normalize, resolve_key
from omnicrm.errors import ConvergenceError, InputError

__all__ = [
    "KEY_COLUMNS",
    "IdTypeRule",
    "IdentityGraph",
    "IdentityResolution",
    "IdentityRules",
    "build_customer_keys",
    "identifier_links",
    "link_path",
    "load_identity_rules",
    "normalize_identifier",
    "resolve_graph",
    "resolve_identities",
    "unify",
]

_UTC = dt.Timestamp(timezone="UTC")

KEY_COLUMNS = (
    "customer_id",
    "unified_id",
    "component_size",
    "hops",
    "linked_to",
    "link_type",
    "link_hash",
)
"""Columns of ``customer_keys`` (one row per source customer record)."""


# ---------------------------------------------------------------------------------------------
# Identifier links
# ---------------------------------------------------------------------------------------------


def identifier_links(
    customers: ir.Table | None,
    identities: ir.Table | None,
    rules: IdentityRules | None = None,
) -> ir.Table:
    """All (record, normalised identifier) pairs: one row per distinct link.

    Links come from ``identities`` and from the ``phone`` and ``email`` columns of
    ``customers`` (type ``phone``/``email``, source ``customers``). Values that normalise to
    null (empty, too short, not an e-mail) are dropped.

    Returns
    -------
    ibis.Table
        ``customer_id, id_type, id_value`` (normalised), ``source`` (smallest source seen),
        ``first_seen_ts`` (earliest).
    """
    rules = rules or load_identity_rules()
    _require(identities, "identities", ("customer_id", "id_type", "id_value"))
    _require(customers, "customers", ("customer_id",))
    parts = []
    if identities is not None:
        parts.append(
            identities.select(
                customer_id=identities.customer_id.strip(),
                id_type=identities.id_type.strip(),
                id_value=normalize_identifier(
                    identities.id_type.strip(), identities.id_value, rules
                ),
                source=identities.source.cast("string")
                if "source" in identities.columns
                else ibis.null("string"),
                first_seen_ts=identities.first_seen_ts.cast(_UTC)
                if "first_seen_ts" in identities.columns
                else ibis.null(_UTC),
            )
        )
    if customers is not None:
        signup = (
            customers.signup_ts.cast(_UTC) if "signup_ts" in customers.columns else ibis.null(_UTC)
        )
        for column in ("phone", "email"):
            if column in customers.columns:
                parts.append(
                    customers.select(
                        customer_id=customers.customer_id.strip(),
                        id_type=ibis.literal(column),
                        id_value=normalize(
                            customers[column],
                            rules.rule(column).normalizer,
                            fold_gmail=rules.fold_gmail,
                        ),
                        source=ibis.literal("customers"),
                        first_seen_ts=signup,
                    )
                )
    if not parts:
        raise InputError("identity resolution needs a customers or an identities table")
    links = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    links = links.filter(
        links.customer_id.notnull() & (links.customer_id != "") & links.id_value.notnull()
    )
    return links.group_by("customer_id", "id_type", "id_value").aggregate(
        source=links.source.min(), first_seen_ts=links.first_seen_ts.min()
    )


def _require(table: ir.Table | None, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if table is not None and c not in table.columns]
    if missing:
        raise InputError(
            f"the {name} table lacks column(s) {', '.join(missing)}; identity resolution needs "
            f"{', '.join(columns)} (see docs/data-model.md)"
        )


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------


class Scratch:
    """Intermediate tables of one resolution, materialised in the warehouse and dropped later.

    Each round of the iteration is written as a table so that the next round starts from data,
    not from the whole history of expressions (Spark's ``cache()`` keeps that history and its
    plans grow exponentially over rounds). Tables are temporary where the backend supports it
    (DuckDB, PostgreSQL) and otherwise ordinary tables named ``_omnicrm_identity_*``, which
    :func:`omnicrm.warehouse.user_tables` hides; :meth:`release` drops them.
    """

    def __init__(self, con: Any) -> None:
        self.con = con
        self.prefix = f"_omnicrm_identity_{uuid.uuid4().hex[:12]}"
        self.names: list[str] = []
        self._made = 0

    def materialize(self, expr: ir.Table) -> ir.Table:
        """Write ``expr`` to a new scratch table and return that table."""
        name = f"{self.prefix}_{self._made}"
        self._made += 1
        try:
            table = self.con.create_table(name, expr, temp=True)
        except NotImplementedError:  # e.g. Spark: no temporary tables through Ibis
            table = self.con.create_table(name, expr)
        self.names.append(name)
        return table

    def drop(self, table: ir.Table) -> None:
        """Drop one scratch table early (when a later round replaced it)."""
        name = table.get_name()
        if name in self.names:
            self.con.drop_table(name, force=True)
            self.names.remove(name)

    def release(self) -> None:
        """Drop every scratch table still held."""
        while self.names:
            self.con.drop_table(self.names.pop(), force=True)


@dataclass
class IdentityResolution:
    """Result of :func:`resolve_identities`.

    ``keys`` and ``supernodes`` are lazy tables over scratch tables in the warehouse: use them
    (or store them, as :func:`build_customer_keys` does), then call :meth:`release`, or use the
    result as a context manager.

    Attributes
    ----------
    keys : ibis.Table
        ``customer_keys``: one row per source record with ``customer_id, unified_id,
        component_size, hops`` (links from the root record), ``linked_to`` (the record it was
        linked to, null for the root), ``link_type`` and ``link_hash`` (HMAC of the normalised
        identifier that linked them).
    supernodes : ibis.Table
        Identifiers dropped from linking: ``id_type, id_hash, n_records, max_records``.
    supernode_examples : list of dict
        The same, masked for display (``138****0000``), largest first.
    iterations : int
        Label-propagation rounds until no label changed.
    """

    keys: ir.Table
    supernodes: ir.Table
    supernode_examples: list[dict[str, Any]]
    iterations: int
    scratch: Scratch | None = field(default=None, repr=False)

    def release(self) -> None:
        """Drop the intermediate tables; ``keys``/``supernodes`` are unusable afterwards."""
        if self.scratch is not None:
            self.scratch.release()

    def __enter__(self) -> IdentityResolution:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass
class IdentityGraph:
    """Result of :func:`resolve_graph`: like :class:`IdentityResolution`, not hashed.

    ``keys`` has ``link_value`` (the normalised identifier) instead of ``link_hash``;
    ``supernodes`` has ``id_type, id_value, n_records, max_records``. Call
    ``scratch.release()`` when done.
    """

    keys: ir.Table
    supernodes: ir.Table
    iterations: int
    scratch: Scratch


def resolve_identities(
    customers: ir.Table | None,
    identities: ir.Table | None,
    *,
    rules: IdentityRules | None = None,
    key: str | bytes | None = None,
    demo: bool | None = None,
) -> IdentityResolution:
    """Resolve source customer records into unified customers.

    Parameters
    ----------
    customers, identities : ibis.Table or None
        The contract tables (either may be None). Every ``customers`` record gets a key, also
        one without any identifier (it is its own customer).
    rules : IdentityRules, optional
        Default :func:`load_identity_rules`.
    key, demo : optional
        PII key for the evidence hashes (see :func:`omnicrm.analytics.pii.resolve_key`).

    Returns
    -------
    IdentityResolution
        Lazy ``keys`` and ``supernodes`` tables over materialised intermediate results; call
        ``release()`` when done with them.

    Raises
    ------
    ConvergenceError
        If labels still change after ``rules.max_iterations`` rounds.
    """
    secret = resolve_key(key, demo=demo)
    graph = resolve_graph(customers, identities, rules or load_identity_rules())
    keys = hash_column(graph.keys, "link_value", key=secret, output="link_hash")
    supernodes = hash_column(graph.supernodes, "id_value", key=secret, output="id_hash")
    examples = [
        {
            "id_type": row["id_type"],
            "id_masked": mask_identifier(row["id_type"], row["id_value"]),
            "n_records": int(row["n_records"]),
            "max_records": int(row["max_records"]),
        }
        for row in graph.supernodes.order_by(ibis.desc("n_records"), "id_type", "id_value")
        .to_pyarrow()
        .to_pylist()
    ]
    return IdentityResolution(
        keys=keys.select(*KEY_COLUMNS),
        supernodes=supernodes.select("id_type", "id_hash", "n_records", "max_records"),
        supernode_examples=examples,
        iterations=graph.iterations,
        scratch=graph.scratch,
    )


def resolve_graph(
    customers: ir.Table | None, identities: ir.Table | None, rules: IdentityRules
) -> IdentityGraph:
    """Components and evidence with the *normalised* identifier values (not hashed).

    For in-process use that must not store identifiers (the customer profile masks them for
    display); analytics tables come from :func:`resolve_identities`. ``keys`` carries
    ``link_value`` instead of ``link_hash``; ``supernodes`` carries ``id_value``.
    """
    links = identifier_links(customers, identities, rules)
    scratch = Scratch(links.get_backend())
    try:
        return _resolve_graph(scratch, links, customers, rules)
    except BaseException:
        scratch.release()
        raise


def _resolve_graph(
    scratch: Scratch, links: ir.Table, customers: ir.Table | None, rules: IdentityRules
) -> IdentityGraph:
    links = scratch.materialize(links)
    degree = links.group_by("id_type", "id_value").aggregate(n_records=links.customer_id.nunique())
    limit = _per_type(
        degree.id_type, rules, lambda name: rules.threshold(name), rules.max_records_per_identifier
    )
    degree = degree.mutate(max_records=limit)
    supernodes = scratch.materialize(degree.filter(degree.n_records > degree.max_records))
    linking = degree.filter((degree.n_records >= 2) & (degree.n_records <= degree.max_records))
    edges = scratch.materialize(
        links.semi_join(linking, ["id_type", "id_value"]).select(
            "customer_id", "id_type", "id_value"
        )
    )
    nodes = links.select("customer_id")
    if customers is not None:
        ids = customers.customer_id.strip()
        nodes = ibis.union(
            customers.filter(ids.notnull() & (ids != "")).select(customer_id=ids), nodes
        )
    labels, iterations = _propagate(scratch, nodes.distinct(), edges, rules.max_iterations)
    tree = _evidence_tree(scratch, labels, edges, rules)
    sizes = labels.group_by("label").aggregate(component_size=labels.customer_id.count())
    keys = (
        tree.join(labels, "customer_id")
        .join(sizes, "label")
        .select(
            "customer_id",
            unified_id="label",
            component_size="component_size",
            hops="hops",
            linked_to="linked_to",
            link_type="link_type",
            link_value="link_value",
        )
    )
    return IdentityGraph(keys=keys, supernodes=supernodes, iterations=iterations, scratch=scratch)


def _per_type(column: ir.StringValue, rules: IdentityRules, value, default) -> ir.Value:
    branches = [(column == name, value(name)) for name in sorted(rules.id_types)]
    return ibis.cases(*branches, else_=default) if branches else ibis.literal(default)


def _count(table: ir.Table) -> int:
    return int(table.count().to_pyarrow().as_py())


def _propagate(
    scratch: Scratch, nodes: ir.Table, edges: ir.Table, max_iterations: int
) -> tuple[ir.Table, int]:
    """Min-label propagation with pointer jumping; returns ``customer_id, label`` and rounds."""
    labels = scratch.materialize(nodes.mutate(label=nodes.customer_id))
    for iteration in range(1, max_iterations + 1):
        with_label = edges.join(labels, "customer_id")
        ident_min = with_label.group_by("id_type", "id_value").aggregate(m=with_label.label.min())
        via = edges.join(ident_min, ["id_type", "id_value"])
        rec_min = via.group_by("customer_id").aggregate(m=via.m.min())
        both = ibis.union(labels, rec_min.select("customer_id", label="m"), distinct=False)
        step = both.group_by("customer_id").aggregate(label=both.label.min())
        # pointer jump: take the (previous) label of one's new label, also in the component
        prev = labels.view().select(p="customer_id", pl="label")
        jumped = scratch.materialize(
            step.left_join(prev, step.label == prev.p).select(
                customer_id=step.customer_id,
                label=ibis.least(step.label, prev.pl.fill_null(step.label)),
            )
        )
        old = labels.select(customer_id_old="customer_id", label_old="label")
        changed = _count(
            jumped.join(old, jumped.customer_id == old.customer_id_old).filter(
                lambda t: t.label != t.label_old
            )
        )
        scratch.drop(labels)
        labels = jumped
        if changed == 0:
            return labels, iteration
    raise ConvergenceError(
        f"identity resolution did not converge in max_iterations = {max_iterations} rounds; "
        "raise max_iterations in your identity.toml (long chains of shared identifiers need "
        "more rounds) or lower max_records_per_identifier"
    )


def _evidence_tree(
    scratch: Scratch, labels: ir.Table, edges: ir.Table, rules: IdentityRules
) -> ir.Table:
    """Breadth-first spanning forest from each component's root (its smallest record id)."""
    child = edges.select(child="customer_id", id_type="id_type", id_value="id_value")
    parent = edges.view().select(parent="customer_id", p_type="id_type", p_value="id_value")
    pairs = child.join(
        parent,
        (child.id_type == parent.p_type)
        & (child.id_value == parent.p_value)
        & (child.child != parent.parent),
    ).select("child", "parent", "id_type", "id_value")
    pairs = scratch.materialize(
        pairs.mutate(
            rank=_per_type(pairs.id_type, rules, lambda name: rules.rule(name).rank, FALLBACK_RANK)
        )
    )
    roots = labels.filter(labels.customer_id == labels.label)
    levels = [
        scratch.materialize(
            roots.select(
                customer_id="customer_id",
                hops=ibis.literal(0, "int64"),
                linked_to=ibis.null("string"),
                link_type=ibis.null("string"),
                link_value=ibis.null("string"),
            )
        )
    ]
    while True:
        front = levels[-1].select(front_id="customer_id")
        seen = ibis.union(*(lv.select(seen_id="customer_id") for lv in levels), distinct=False)
        cand = pairs.semi_join(front, pairs.parent == front.front_id)
        cand = cand.anti_join(seen, cand.child == seen.seen_id)
        order = [cand.rank, cand.parent, cand.id_type, cand.id_value]
        cand = cand.mutate(rn=ibis.row_number().over(group_by=cand.child, order_by=order))
        new = scratch.materialize(
            cand.filter(cand.rn == 0).select(
                customer_id="child",
                hops=ibis.literal(len(levels), "int64"),
                linked_to="parent",
                link_type="id_type",
                link_value="id_value",
            )
        )
        if _count(new) == 0:
            scratch.drop(new)
            scratch.drop(pairs)
            return scratch.materialize(ibis.union(*levels, distinct=False))
        levels.append(new)


# ---------------------------------------------------------------------------------------------
# Using the keys
# ---------------------------------------------------------------------------------------------


def build_customer_keys(
    con: Any,
    *,
    rules: IdentityRules | None = None,
    key: str | bytes | None = None,
    demo: bool | None = None,
) -> IdentityResolution:
    """Resolve the warehouse's ``customers`` and ``identities`` and store the result.

    Writes (replacing) the tables ``customer_keys`` (grain: one row per source customer
    record) and ``identity_supernodes`` (one row per identifier dropped from linking).

    Examples
    --------
    >>> from omnicrm.warehouse import connect, ensure_table
    >>> from omnicrm.schema import TABLES
    >>> con = connect("duckdb://:memory:")
    >>> _ = ensure_table(con, TABLES["customers"]), ensure_table(con, TABLES["identities"])
    >>> build_customer_keys(con, demo=True).keys.count().execute()
    0
    """
    tables = set(con.list_tables())
    if not tables & {"customers", "identities"}:
        raise InputError(
            "the warehouse has neither a customers nor an identities table: load them first "
            "with 'omnicrm ingest'"
        )
    customers = con.table("customers") if "customers" in tables else None
    identities = con.table("identities") if "identities" in tables else None
    with resolve_identities(customers, identities, rules=rules, key=key, demo=demo) as result:
        keys = con.create_table("customer_keys", result.keys, overwrite=True)
        supernodes = con.create_table("identity_supernodes", result.supernodes, overwrite=True)
    return replace(result, keys=keys, supernodes=supernodes, scratch=None)


def unify(lines: ir.Table, keys: ir.Table, *, keep_source: bool = False) -> ir.Table:
    """Replace ``customer_id`` of a table by the unified id (records without a key keep theirs).

    Parameters
    ----------
    lines : ibis.Table
        Any table with a ``customer_id`` column (sales lines, events, feedback).
    keys : ibis.Table
        ``customer_keys`` (``customer_id -> unified_id``).
    keep_source : bool
        Also keep the original id as ``source_customer_id``.

    Examples
    --------
    >>> import ibis
    >>> lines = ibis.memtable({"customer_id": ["C2", "C9", None], "amount": [1, 2, 3]})
    >>> keys = ibis.memtable({"customer_id": ["C1", "C2"], "unified_id": ["C1", "C1"]})
    >>> unify(lines, keys).execute()["customer_id"].tolist()
    ['C1', 'C9', None]
    """
    k = keys.select(_key_customer="customer_id", _key_unified="unified_id")
    joined = lines.left_join(k, lines.customer_id == k._key_customer)
    unified = joined._key_unified.fill_null(joined.customer_id)
    columns = {c: (unified if c == "customer_id" else joined[c]) for c in lines.columns}
    if keep_source:
        columns["source_customer_id"] = joined.customer_id
    return joined.select(**columns)


def link_path(keys: ir.Table, customer_id: str) -> list[dict[str, Any]]:
    """How ``customer_id`` was merged: the chain of links from the record up to its root.

    Returns one dict per link (``customer_id, linked_to, link_type, hops``), starting with the
    record itself; an empty list for a root record or an unknown id.

    Examples
    --------
    >>> import ibis
    >>> keys = ibis.memtable({"customer_id": ["A", "B", "C"], "unified_id": ["A"] * 3,
    ...                       "hops": [0, 1, 2], "linked_to": [None, "A", "B"],
    ...                       "link_type": [None, "email", "phone"]})
    >>> [(p["customer_id"], p["link_type"], p["linked_to"]) for p in link_path(keys, "C")]
    [('C', 'phone', 'B'), ('B', 'email', 'A')]
    """
    mine = keys.filter(keys.customer_id == customer_id).select("unified_id")
    rows = (
        keys.semi_join(mine, "unified_id")
        .select("customer_id", "linked_to", "link_type", "hops")
        .to_pyarrow()
        .to_pylist()
    )
    by_id = {r["customer_id"]: r for r in rows}
    path, current = [], by_id.get(customer_id)
    while current is not None and current["linked_to"] is not None:
        path.append(current)
        current = by_id.get(current["linked_to"])
    return path
