"""Run the whole simulation: calendar, stores, catalogue, persons, orders, events, feedback.

Time runs in days (and minutes) from ``origin``, local Asia/Shanghai time. The span is a
burn-in (customers who existed before the data window), the data window itself, and a future
stretch that only the truth file sees.

Examples
--------
>>> from datetime import date
>>> sim = simulate(customers=300, days=60, seed=1, end_date=date(2026, 6, 30))
>>> len(sim.record_id), sim.window[1] - sim.window[0]
(300, 60)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from omnicrm.datagen.baskets import MINUTES_PER_DAY
from omnicrm.datagen.behaviour import Events, Feedback, simulate_events, simulate_feedback
from omnicrm.datagen.catalog import Catalogue, make_catalogue
from omnicrm.datagen.params import DEFAULT_BEHAVIOUR, SYSTEM_PREFIX, SYSTEMS, Behaviour
from omnicrm.datagen.people import Population, make_population
from omnicrm.datagen.retail_calendar import DayProfile, day_profile
from omnicrm.datagen.sales import CANCELLATION, DIGITAL, RETURN, SALE, Sales, simulate_sales
from omnicrm.datagen.stores import make_stores

STAGES: tuple[str, ...] = (
    "calendar and catalogue",
    "customers",
    "orders and baskets",
    "events and feedback",
)


@dataclass
class Simulation:
    """Everything simulated, before it is rendered into files."""

    origin: date
    window: tuple[int, int]
    profile: DayProfile
    stores: pd.DataFrame
    catalogue: Catalogue
    population: Population
    sales: Sales
    events: Events
    feedback: Feedback
    record_id: np.ndarray
    record_signup: np.ndarray
    record_tier: np.ndarray
    order_id: pa.Array
    behaviour: Behaviour

    @property
    def end_minute(self) -> int:
        """First minute after the data window."""
        return self.window[1] * MINUTES_PER_DAY

    @property
    def start_minute(self) -> int:
        """First minute of the data window."""
        return self.window[0] * MINUTES_PER_DAY

    def sale_net(self) -> np.ndarray:
        """Net amount (fen) of every order that counts as a purchase, 0 for the others.

        A purchase is a sale (not a return or cancellation receipt) that was not cancelled.
        """
        net = self.sales.totals()[2]
        return np.where((self.sales.kind == SALE) & ~self.sales.cancelled, net, 0)


def _seeds(seed: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]


def _order_ids(sales: Sales) -> pa.Array:
    """``R`` store receipts, ``O`` digital orders, ``C`` return receipts, numbered by time; a
    cancellation receipt is ``C`` followed by the id of the order it cancels (``CO000001234``).
    """
    digital = np.isin(sales.channel, DIGITAL)
    cancellation = sales.kind == CANCELLATION
    number = np.cumsum(~cancellation)
    prefix = np.where(sales.kind == RETURN, 2, np.where(digital, 1, 0))
    own = np.where(cancellation, sales.reverses, np.arange(len(prefix)))
    digits = pc.utf8_lpad(pa.array(number[own]).cast(pa.string()), width=9, padding="0")
    return pc.binary_join_element_wise(
        pa.array(np.where(cancellation, "C", "")),
        pa.array(["R", "O", "C"]).take(pa.array(prefix[own])),
        digits,
        "",
    )


def _records(
    rng: np.random.Generator, pop: Population, sales: Sales, window: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Customer ids (numbered by signup within each system) and signup minutes."""
    n = len(pop.record_person)
    end = window[1] * MINUTES_PER_DAY
    first = np.full(n, np.iinfo(np.int64).max)
    known = sales.record >= 0
    np.minimum.at(first, sales.record[known], sales.minute[known])
    arrival = pop.arrival_day[pop.record_person] * MINUTES_PER_DAY
    fallback = arrival + rng.uniform(0, 60 * MINUTES_PER_DAY, n)
    fallback = np.minimum(fallback, end - rng.integers(60, 7 * MINUTES_PER_DAY, n))
    at_till = first - rng.integers(1, 20, n)
    signup = np.where(first < end, at_till, np.minimum(at_till, fallback)).astype(np.int64)
    order = np.lexsort((signup, pop.record_system))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    sys_start = np.searchsorted(pop.record_system[order], np.arange(len(SYSTEMS)))
    number = rank - sys_start[pop.record_system] + 10_000_001
    prefix = np.asarray(SYSTEM_PREFIX)[pop.record_system]
    return np.char.add(prefix, number.astype(str)).astype(object), signup


def _tiers(
    sim_net: np.ndarray, sales: Sales, pop: Population, end_minute: int, b: Behaviour
) -> np.ndarray:
    last_year = (
        (sales.minute >= end_minute - 365 * MINUTES_PER_DAY)
        & (sales.minute < end_minute)
        & (sales.record >= 0)
    )
    spend = np.bincount(
        sales.record[last_year], weights=sim_net[last_year], minlength=len(pop.record_person)
    )
    tier = np.full(len(spend), None, dtype=object)
    for name, threshold in sorted(b.tiers, key=lambda t: t[1]):
        tier[pop.record_member & (spend >= threshold)] = name
    return tier


def simulate(
    *,
    customers: int,
    days: int,
    seed: int,
    end_date: date,
    behaviour: Behaviour = DEFAULT_BEHAVIOUR,
    progress: Callable[[str, int, int], None] | None = None,
) -> Simulation:
    """Simulate the retailer (no files written).

    Parameters
    ----------
    customers : int
        Customer records in the data.
    days : int
        Length of the data window, ending on ``end_date`` (inclusive).
    seed : int
        Seed of every random draw: the same arguments give the same simulation.
    end_date : date
        Last day of the data window.
    behaviour : Behaviour
    progress : callable, optional
        Called as ``progress(stage, index, n_stages)`` when a stage starts.

    Returns
    -------
    Simulation
    """
    b = behaviour
    report = progress or (lambda *_: None)
    rngs = _seeds(seed)
    burn, future = b.burn_in_days, b.future_days
    origin = end_date - timedelta(days=days + burn - 1)
    span = burn + days + future
    window = (burn, burn + days)
    report(STAGES[0], 0, len(STAGES))
    profile = day_profile(origin, span)
    ordinals = origin.toordinal() + np.arange(span)
    jan1 = np.array([date(date.fromordinal(int(o)).year, 1, 1).toordinal() for o in ordinals])
    doy = ordinals - jan1 + 1
    stores = make_stores(rngs[0])
    cat = make_catalogue(rngs[1], launch_window=window)
    report(STAGES[1], 1, len(STAGES))
    pop = make_population(
        rngs[2], customers, stores, profile.traffic, burn_in=burn, days=days, behaviour=b
    )
    report(STAGES[2], 2, len(STAGES))
    sales = simulate_sales(rngs[3], pop, cat, stores, profile, doy, window=window, behaviour=b)
    record_id, signup = _records(rngs[4], pop, sales, window)
    order_id = _order_ids(sales)
    report(STAGES[3], 3, len(STAGES))
    events = simulate_events(rngs[5], pop, cat, sales, window, b)
    feedback = simulate_feedback(rngs[6], pop, sales, window, b)
    sim = Simulation(
        origin,
        window,
        profile,
        stores,
        cat,
        pop,
        sales,
        events,
        feedback,
        record_id,
        signup,
        np.empty(0),
        order_id,
        b,
    )
    sim.record_tier = _tiers(sim.sale_net(), sales, pop, sim.end_minute, b)
    return sim
