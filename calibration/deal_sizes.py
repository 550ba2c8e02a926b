"""Deal sizes by product: empirical where a product has enough won deals, log-normal where it has few.

Won deals with a known positive amount are grouped by product (one group, ``all``, when the export has no
product). A product with at least ``MIN_EMPIRICAL`` such deals keeps its empirical distribution: mean (90 %
interval by the central limit theorem), median, 10th and 90th percentiles and coefficient of variation. A sparser
product gets a log-normal with its own log-mean and the log-spread pooled over all products (weighted by deals),
so one or two deals do not decide a product's spread; its mean's interval is Cox's for a log-normal mean. A
product with no won deal at all keeps its list price when the export has a products table, marked as such.

Deal values are heavy-tailed (the notes: the top 10 % of deals often carry a quarter to half of won value), so
the share of won value in the top 10 % of deals is reported too.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from calibration.funnel import LEVEL
from calibration.model import CrmModel

__all__ = ["MIN_EMPIRICAL", "estimate_deal_sizes", "top_decile_share"]

MIN_EMPIRICAL = 30
"""Won deals a product needs for its empirical distribution (below it: log-normal with pooled spread); 30 is the
usual rule of thumb for the central limit theorem to make the mean's interval trustworthy."""


def top_decile_share(values: np.ndarray) -> float:
    """Share of the total carried by the largest 10 % of values.

    Examples
    --------
    >>> top_decile_share(np.array([1.0] * 9 + [91.0]))
    0.91
    """
    v = np.sort(np.asarray(values, dtype=float))[::-1]
    if len(v) == 0 or v.sum() <= 0:
        return float("nan")
    k = max(1, int(np.ceil(0.1 * len(v))))
    return float(v[:k].sum() / v.sum())


def estimate_deal_sizes(model: CrmModel, *, level: float = LEVEL) -> pd.DataFrame:
    """Deal size per product with intervals and sample sizes (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        ``product, opportunities, mix, won_deals, method, mean, mean_low, mean_high, median, p10, p90, cv,
        log_mu, log_sigma, top10_share``; ``mix`` is the product's share of all opportunities.
    """
    opps = model.opportunities
    product = opps["product"].astype(object).where(opps["product"].notna(), "all").astype(str)
    won = (opps["kind"] == "won").to_numpy() & (opps["amount"] > 0).to_numpy()
    values = pd.DataFrame({"product": product[won].to_numpy(), "amount": opps["amount"].to_numpy()[won]})
    values["log"] = np.log(values["amount"])
    z = stats.norm.ppf(0.5 + level / 2.0)
    groups = values.groupby("product")
    stats_ = groups["log"].agg(["size", "mean", "std"])
    multi = stats_[stats_["size"] > 1]
    pooled_sigma = float(np.sqrt(np.average(multi["std"] ** 2, weights=multi["size"] - 1))) if len(multi) else 1.0
    all_products = sorted(set(product) | set(model.products.index.astype(str)))
    mix = product.value_counts(normalize=True).reindex(all_products, fill_value=0.0)
    n_opps = product.value_counts().reindex(all_products, fill_value=0)
    rows = []
    for name in all_products:
        amounts = values.loc[values["product"] == name, "amount"].to_numpy(dtype=float)
        n = len(amounts)
        row: dict[str, object] = {"product": name, "opportunities": int(n_opps[name]), "mix": float(mix[name]),
                                  "won_deals": n}
        if n >= MIN_EMPIRICAL:
            mean = float(amounts.mean())
            sd = float(amounts.std(ddof=1))
            logs = np.log(amounts)
            row.update(method="empirical", mean=mean, mean_low=mean - z * sd / np.sqrt(n),
                       mean_high=mean + z * sd / np.sqrt(n), median=float(np.median(amounts)),
                       p10=float(np.quantile(amounts, 0.1)), p90=float(np.quantile(amounts, 0.9)), cv=sd / mean,
                       log_mu=float(logs.mean()), log_sigma=float(logs.std(ddof=1)),
                       top10_share=top_decile_share(amounts))
        elif n > 0:
            mu = float(np.log(amounts).mean())
            s2 = pooled_sigma ** 2
            mean = float(np.exp(mu + s2 / 2.0))
            se = float(np.sqrt(s2 / n + s2 ** 2 / (2.0 * max(n - 1, 1))))
            row.update(method="lognormal (pooled spread)", mean=mean, mean_low=float(np.exp(mu + s2 / 2 - z * se)),
                       mean_high=float(np.exp(mu + s2 / 2 + z * se)), median=float(np.exp(mu)),
                       p10=float(np.exp(mu - 1.2816 * pooled_sigma)), p90=float(np.exp(mu + 1.2816 * pooled_sigma)),
                       cv=float(np.sqrt(np.expm1(s2))), log_mu=mu, log_sigma=pooled_sigma,
                       top10_share=top_decile_share(amounts))
        else:
            price = model.products["price"].get(name) if "price" in model.products.columns else None
            if price is not None and pd.notna(price) and float(price) > 0:
                row.update(method="list price (no won deal)", mean=float(price), median=float(price))
            else:
                row.update(method="no won deal")
        rows.append(row)
    cols = ["product", "opportunities", "mix", "won_deals", "method", "mean", "mean_low", "mean_high", "median",
            "p10", "p90", "cv", "log_mu", "log_sigma", "top10_share"]
    return pd.DataFrame(rows).reindex(columns=cols)
