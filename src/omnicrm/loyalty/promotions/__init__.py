"""Promotions and coupons as data: conditions, benefits, stacking, budgets, coupon codes.

* :mod:`~omnicrm.loyalty.promotions.cart` — the priced cart and exact allocation of money;
* :mod:`~omnicrm.loyalty.promotions.conditions` — condition classes (registry ``CONDITIONS``);
* :mod:`~omnicrm.loyalty.promotions.benefits` — benefit classes (registry ``BENEFITS``);
* :mod:`~omnicrm.loyalty.promotions.definition` — a promotion from TOML / JSON / the API;
* :mod:`~omnicrm.loyalty.promotions.engine` — pure pricing with stacking and reasons;
* :mod:`~omnicrm.loyalty.promotions.coupons` — single-use and shared codes, stored hashed;
* :mod:`~omnicrm.loyalty.promotions.store` — promotions in the operational database.

Checkout pricing is :mod:`omnicrm.loyalty.checkout`; committing an order (coupons, budgets,
limits, points in one transaction) is :mod:`omnicrm.loyalty.orders`.
"""
