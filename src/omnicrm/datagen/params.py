"""Parameters of the behavioural model, as data.

One frozen :class:`Behaviour` holds every number of the simulation that is not a calendar or
catalogue fact, so that ``docs/datagen.md`` can quote them and tests can vary them.

The purchase process is BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy
way", Marketing Science 24(2)): while alive, a person buys as a Poisson process of rate
``lambda ~ Gamma(rate_shape, rate_scale_per_week)`` (here modulated by the day's traffic), and
after each purchase drops out with probability ``p ~ Beta(dropout_a, dropout_b)``, shifted on
the logit scale by the person's latent satisfaction ``z ~ N(0, 1)``:
``logit(p) = logit(p0) - satisfaction_dropout_effect * z``. Inter-purchase times are Gamma
with shape ``k = 1 + Gamma(regularity_shape, regularity_scale)`` (Pareto/GGG regularity;
``k = 1`` would be Poisson).

Examples
--------
>>> round(DEFAULT_BEHAVIOUR.rate_shape * DEFAULT_BEHAVIOUR.rate_scale_per_week, 2)  # per week
0.23
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHANNEL_CODES: tuple[str, ...] = ("store", "unmanned", "online", "app", "mini_program")
"""Channels persons buy through (a subset of :data:`omnicrm.schema.CHANNELS`)."""

SYSTEMS: tuple[str, ...] = ("pos", "eshop", "app", "mini_program")
"""Source systems that hold customer records; one record per person and system used."""

CHANNEL_SYSTEM: tuple[int, ...] = (0, 0, 1, 2, 3)
"""System of each channel in :data:`CHANNEL_CODES` (store and unmanned share the POS)."""

SYSTEM_PREFIX: tuple[str, ...] = ("M", "E", "A", "W")
"""First letter of the customer ids of each system."""


@dataclass(frozen=True)
class Segment:
    """A channel-preference segment: its share and Dirichlet concentrations per channel."""

    name: str
    share: float
    channel_alpha: tuple[float, float, float, float, float]


@dataclass(frozen=True)
class Behaviour:
    """Every parameter of the customer model (see the module docstring for the process)."""

    rate_shape: float = 0.9
    rate_scale_per_week: float = 0.26
    regularity_shape: float = 2.0
    regularity_scale: float = 1.0
    dropout_a: float = 1.2
    dropout_b: float = 22.0
    satisfaction_dropout_effect: float = 0.6
    existing_share: float = 0.45
    burn_in_days: int = 365
    future_days: int = 365
    acquisition_growth: float = 1.0
    records_min_share: float = 0.3
    segments: tuple[Segment, ...] = field(
        default_factory=lambda: (
            Segment("store_loyal", 0.45, (8.0, 0.4, 0.4, 0.5, 0.5)),
            Segment("omnichannel", 0.35, (3.0, 0.4, 1.5, 2.0, 2.0)),
            Segment("digital", 0.20, (0.4, 0.1, 3.0, 3.0, 2.0)),
        )
    )
    member_share_by_system: tuple[float, float, float, float] = (0.75, 0.3, 0.5, 0.4)
    home_store_share: float = 0.8
    affinity_concentration: float = 12.0
    staples_mean: float = 2.5
    staple_cycle_sigma: float = 0.25
    staple_gap_cv: float = 0.15
    staple_wait_cycles: float = 1.0
    seasonal_lines: bool = True
    quantity_extra_mean: float = 0.25
    weighed_kg_median: float = 0.6
    promo_uptake: float = 0.55
    coupon_share: float = 0.08
    cancel_share_digital: float = 0.02
    cancel_delay_mean_minutes: float = 45.0
    cancel_delay_max_minutes: int = 360
    return_line_share: float = 0.025
    return_max_days: int = 30
    anonymous_share_of_store: float = 0.18
    survey_share: float = 0.04
    nps_mean: float = 7.4
    nps_satisfaction_effect: float = 1.9
    family_phone_share: float = 0.005
    tiers: tuple[tuple[str, int], ...] = (("diamond", 800_000), ("gold", 300_000), ("silver", 0))
    browse_sessions_per_digital_order: float = 0.8
    store_visit_tracking_share: float = 0.25
    review_share: float = 0.04
    share_rate: float = 0.01
    like_rate: float = 0.03


DEFAULT_BEHAVIOUR = Behaviour()
"""The parameters ``omnicrm datagen`` uses. ``tiers`` thresholds are 12-month spend in fen."""

HOUR_PROFILE: dict[str, tuple[float, ...]] = {
    "store": (
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0.3,
        0.8,
        1.2,
        1.6,
        1.7,
        1.3,
        1.0,
        0.9,
        1.0,
        1.3,
        1.8,
        2.0,
        1.8,
        1.3,
        0.8,
        0.3,
        0,
    ),
    "convenience": (
        0.1,
        0.05,
        0.02,
        0.02,
        0.02,
        0.1,
        0.4,
        1.5,
        2.0,
        1.0,
        0.7,
        0.9,
        1.6,
        1.0,
        0.7,
        0.7,
        0.8,
        1.4,
        1.8,
        1.5,
        1.2,
        1.0,
        0.6,
        0.3,
    ),
    "unmanned": (
        0.2,
        0.1,
        0.05,
        0.05,
        0.05,
        0.1,
        0.3,
        1.0,
        1.8,
        1.0,
        0.7,
        1.0,
        1.7,
        1.0,
        0.7,
        0.7,
        0.9,
        1.5,
        1.9,
        1.6,
        1.3,
        1.1,
        0.7,
        0.4,
    ),
    "digital": (
        0.5,
        0.3,
        0.15,
        0.1,
        0.1,
        0.15,
        0.3,
        0.6,
        0.8,
        0.9,
        1.0,
        1.1,
        1.2,
        1.0,
        0.9,
        0.9,
        1.0,
        1.0,
        1.1,
        1.3,
        1.7,
        2.0,
        1.8,
        1.0,
    ),
}
"""Relative orders per hour of the day (local time) by kind of outlet."""
