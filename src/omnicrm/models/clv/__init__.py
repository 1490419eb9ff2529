"""Customer lifetime value: purchase models (BG/NBD, Pareto/NBD) and the Gamma-Gamma spend model.

Typical use::

    summary = rfm_summary(tx, customer_id_col="customer_id", datetime_col="ts",
                          monetary_value_col="amount", observation_period_end="2024-06-30")
    bg = BetaGeoModel().fit(summary)
    gg = GammaGammaModel().fit(summary[summary.frequency > 0])
    value = gg.clv(summary, bg, horizon=12, discount_rate=0.01, margin=0.3, period=52 / 12)

See ``docs/clv.md`` for the formulas, the reproduction of the published CDNOW results and the
benchmark against ``lifetimes``.
"""

from omnicrm.models.clv.beta_geo import BetaGeoModel
from omnicrm.models.clv.gamma_gamma import GammaGammaModel
from omnicrm.models.clv.pareto_nbd import ParetoNBDModel
from omnicrm.models.clv.scoring import CLVFit, add_clv, fit_clv
from omnicrm.models.clv.summary import calibration_holdout_summary, rfm_summary, rfm_summary_expr
from omnicrm.models.clv.value import customer_lifetime_value

__all__ = [
    "BetaGeoModel",
    "CLVFit",
    "GammaGammaModel",
    "ParetoNBDModel",
    "add_clv",
    "calibration_holdout_summary",
    "customer_lifetime_value",
    "fit_clv",
    "rfm_summary",
    "rfm_summary_expr",
]
