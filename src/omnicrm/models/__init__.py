"""Estimators on customer data: CLV, churn, recommenders, basket rules, forecasting, uplift.

Every estimator follows the scikit-learn contract: settings are stored unchanged in
``__init__``; ``fit(...)`` validates its input and returns ``self``; learned attributes end in
``_``; prediction methods raise :class:`omnicrm.errors.NotFittedError` before ``fit``; fitted
models can be saved and loaded (see :mod:`omnicrm.models.base`). Models take pandas DataFrames
(or Ibis expressions that they execute once) and never import the CLI, API or a concrete
warehouse backend.
"""
