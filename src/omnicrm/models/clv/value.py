"""Customer lifetime value: discounted expected purchases times expected spend times margin.

For a horizon of ``H`` periods of length ``L`` (in the summary's time unit) and a discount rate
``d`` per period, the value of customer ``i`` is (as in ``lifetimes``'
``GammaGammaFitter.customer_lifetime_value``, with the margin made explicit)::

    CLV_i = margin * E[M_i] * sum_{k=1..H} (E[Y_i(k L)] - E[Y_i((k - 1) L)]) / (1 + d)^k

where ``E[Y_i(t)]`` is the purchase model's conditional expected number of purchases in the next
``t`` (BG/NBD or Pareto/NBD) and ``E[M_i]`` the Gamma-Gamma conditional expected average spend.
Purchases expected in period ``k`` are discounted as if paid at its end. The result is a model
estimate in the currency of ``monetary_value`` (a float, not an accounting amount).

Examples
--------
>>> import pandas as pd
>>> from omnicrm.models.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value
>>> bg, gg = BetaGeoModel(), GammaGammaModel()
>>> bg.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
>>> gg.params_ = {"p": 6.25, "q": 3.74, "v": 15.44}
>>> for m in (bg, gg):
...     m.log_likelihood_, m.n_customers_ = 0.0, 1
>>> s = pd.DataFrame({"customer_id": ["a"], "frequency": [2], "recency": [30.43],
...                   "T": [38.86], "monetary_value": [22.35]})
>>> customer_lifetime_value(bg, gg, s, horizon=12, discount_rate=0.01, margin=0.3,
...                         period=52 / 12).round(2).tolist()
[10.86]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from omnicrm.errors import InputError
from omnicrm.models.clv.gamma_gamma import GammaGammaModel
from omnicrm.models.clv.purchase import PurchaseModel, _index


def customer_lifetime_value(
    purchase_model: PurchaseModel,
    spend_model: GammaGammaModel,
    summary: pd.DataFrame,
    *,
    horizon: int,
    discount_rate: float,
    margin: float = 1.0,
    period: float = 1.0,
) -> pd.Series:
    """Discounted CLV of each customer over ``horizon`` periods (formula in the module doc).

    Parameters
    ----------
    purchase_model : BetaGeoModel or ParetoNBDModel
        Fitted purchase model.
    spend_model : GammaGammaModel
        Fitted spend model.
    summary : pandas.DataFrame
        ``frequency, recency, T, monetary_value`` per customer (all customers, including
        ``frequency == 0``).
    horizon : int
        Number of periods (e.g. 12 months).
    discount_rate : float
        Discount rate per period (e.g. 0.01 a month).
    margin : float, default 1
        Profit margin applied to spend, in (0, 1]; 1 gives revenue.
    period : float, default 1
        Period length in the summary's time unit (e.g. ``52 / 12`` weeks for a month).

    Returns
    -------
    pandas.Series
        ``clv`` indexed by ``customer_id`` when the summary has it.
    """
    if not isinstance(purchase_model, PurchaseModel):
        raise InputError(
            f"purchase_model must be a fitted BetaGeoModel or ParetoNBDModel, got "
            f"{type(purchase_model).__name__}"
        )
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise InputError(f"horizon = {horizon!r} must be a whole number of periods >= 1")
    if not np.isfinite(discount_rate) or discount_rate <= -1:
        raise InputError(f"discount_rate = {discount_rate!r} must be a number > -1 (e.g. 0.01)")
    if not np.isfinite(margin) or not 0 < margin <= 1:
        raise InputError(f"margin = {margin!r} must be in (0, 1] (e.g. 0.3 for 30 %)")
    if not np.isfinite(period) or period <= 0:
        raise InputError(f"period = {period!r} must be a length > 0 in the summary's time unit")
    spend = spend_model.expected_spend(summary).to_numpy()
    times = period * np.arange(horizon + 1, dtype="float64")
    cumulative = purchase_model.expected_purchase_curve(times, summary)
    per_period = np.diff(cumulative, axis=1)
    discount = (1.0 + discount_rate) ** -np.arange(1, horizon + 1, dtype="float64")
    values = margin * spend * np.einsum("nk,k->n", per_period, discount)  # no BLAS threads
    return pd.Series(values, index=_index(summary), name="clv")
