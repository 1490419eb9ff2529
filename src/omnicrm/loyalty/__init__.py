"""The loyalty domain: members, tiers, points ledger and rewards, on the operational DB.

Services (one transaction each, see :mod:`omnicrm.loyalty.operations`):

* :mod:`~omnicrm.loyalty.members` — ``enrol``, ``get_member``, ``update`` (consents, birthday);
* :mod:`~omnicrm.loyalty.points` — ``earn``, ``bonus``, ``adjust``;
* :mod:`~omnicrm.loyalty.returns` — ``return_lines`` (clawback);
* :mod:`~omnicrm.loyalty.redemption` — ``redeem``;
* :mod:`~omnicrm.loyalty.maintenance` — ``expire_all``, ``review_all`` (scheduled jobs);
* :mod:`~omnicrm.loyalty.verify` — ``verify_ledger`` (hash chain and balances);
* :mod:`~omnicrm.loyalty.history` — ``ledger_page``.

Rules (tiers, earning, bonus events, expiry, rewards) are TOML data, see
:mod:`omnicrm.loyalty.rules` and ``docs/loyalty.md``.
"""
