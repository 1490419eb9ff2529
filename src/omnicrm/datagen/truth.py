"""The ground truth: what each customer record really is, and what it will do next.

One row per customer record. ``purchases_*`` count orders that are purchases (sales, not
cancelled; return and cancellation receipts excluded) attributed to the record; ``spend_*``
sum their net amounts (returns are not subtracted). ``*_observed`` cover the data window and
match the data files; ``*_next_*`` cover the days after ``end_date`` that only the simulation
saw. Sum over ``person_id`` for person-level figures (identity resolution's target).

Columns
-------
customer_id, person_id, source
    The record, the person behind it and the system holding it.
is_member
    Loyalty member at export time.
transaction_rate_per_week
    The person's BG/NBD purchase rate while alive (all channels), per ordinary week.
record_rate_per_week
    The part of that rate expected on this record's channels.
regularity
    Gamma shape ``k`` of the person's inter-purchase times (1 = Poisson, as BG/NBD assumes).
dropout_prob
    Probability of dropping out after each repeat purchase (BG/NBD ``p``).
satisfaction
    The latent satisfaction ``z`` driving NPS, CSAT, ratings and dropout.
first_purchase_date, dropout_date
    Arrival of the person; day of the purchase after which the person dropped out (empty when
    still alive at the end of the simulated future).
alive_at_end
    The person had not dropped out by ``end_date``.
purchases_observed, spend_observed
    In the data window.
purchases_next_90d, spend_next_90d, spend_next_365d
    After ``end_date``.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from omnicrm.datagen import layouts as lay
from omnicrm.datagen.baskets import MINUTES_PER_DAY
from omnicrm.datagen.params import CHANNEL_SYSTEM, SYSTEMS
from omnicrm.datagen.sales import SALE
from omnicrm.datagen.simulate import Simulation


def _window_sums(
    sim: Simulation, net: np.ndarray, lo: int, hi: int
) -> tuple[np.ndarray, np.ndarray]:
    s = sim.sales
    n = len(sim.record_id)
    sel = (s.kind == SALE) & ~s.cancelled & (s.record >= 0) & (s.minute >= lo) & (s.minute < hi)
    count = np.bincount(s.record[sel], minlength=n)
    spend = np.bincount(s.record[sel], weights=net[sel], minlength=n)
    return count, np.rint(spend).astype(np.int64)


def truth_table(sim: Simulation) -> pa.Table:
    """Build the truth table (see the module docstring for the columns)."""
    pop = sim.population
    person, system = pop.record_person, pop.record_system
    share = np.zeros((pop.n_persons, len(SYSTEMS)))
    for ch, sysno in enumerate(CHANNEL_SYSTEM):
        share[:, sysno] += pop.channel_w[:, ch]
    share /= share.sum(axis=1, keepdims=True)
    rate = pop.rate_per_day * 7
    end = sim.end_minute
    net = sim.sale_net()
    obs_n, obs_s = _window_sums(sim, net, sim.start_minute, end)
    n90, s90 = _window_sums(sim, net, end, end + 90 * MINUTES_PER_DAY)
    _, s365 = _window_sums(sim, net, end, end + 365 * MINUTES_PER_DAY)
    dropout = sim.sales.dropout_day[person]
    dropped = ~np.isnan(dropout)
    alive = ~dropped | (dropout >= sim.window[1])
    first = np.floor(pop.arrival_day[person]).astype(np.int64)
    drop_day = np.where(dropped, np.floor(np.nan_to_num(dropout)), 0).astype(np.int64)
    origin = sim.origin
    return pa.table(
        {
            "customer_id": lay.text(sim.record_id),
            "person_id": lay.prefixed_ids("P", person + 1, 7),
            "source": lay.text(np.asarray(SYSTEMS, dtype=object)[system]),
            "is_member": lay.take_labels(["false", "true"], pop.record_member.astype(np.int64)),
            "transaction_rate_per_week": pa.array(np.round(rate[person], 5)),
            "record_rate_per_week": pa.array(np.round(rate[person] * share[person, system], 5)),
            "regularity": pa.array(np.round(pop.regularity[person], 4)),
            "dropout_prob": pa.array(np.round(pop.dropout_p[person], 5)),
            "satisfaction": pa.array(np.round(pop.satisfaction[person], 4)),
            "first_purchase_date": lay.dates(origin, first),
            "dropout_date": lay.mask_nulls(lay.dates(origin, drop_day), ~dropped),
            "alive_at_end": lay.take_labels(["false", "true"], alive.astype(np.int64)),
            "purchases_observed": pa.array(obs_n),
            "spend_observed": lay.money(obs_s),
            "purchases_next_90d": pa.array(n90),
            "spend_next_90d": lay.money(s90),
            "spend_next_365d": lay.money(s365),
        }
    )
