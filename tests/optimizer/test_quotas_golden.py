"""Equal-attainment-probability quotas on real sales: the Maven CRM export's won deals (../shared/benchmarks).

Each of the 30 agents with won deals becomes a rep; their simulated annual sales are a bootstrap of their own
monthly won totals (12 months drawn with replacement from the observed ones), so the distributions are real:
skewed and very different between agents. Skips cleanly when ../shared is absent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scenarios
from optimizer.quotas import set_quotas


def _agent_samples(shared: Path, n: int, rng: np.random.Generator) -> pd.DataFrame:
    deals = pd.read_csv(shared / "crm" / "maven" / "sales_pipeline.csv", encoding="utf-8-sig")
    won = deals[deals["deal_stage"] == "Won"].copy()
    won["month"] = won["close_date"].str[:7]
    monthly = won.pivot_table(index="sales_agent", columns="month", values="close_value", aggfunc="sum",
                              fill_value=0.0)
    draws = rng.integers(0, monthly.shape[1], size=(len(monthly), n, 12))
    annual = np.take_along_axis(monthly.to_numpy()[:, None, :].repeat(n, axis=1), draws, axis=2).sum(axis=2)
    return pd.DataFrame(annual, index=monthly.index)


@pytest.fixture(scope="module")
def maven(shared_benchmarks: Path) -> tuple[scenarios.Scenario, pd.DataFrame]:
    samples = _agent_samples(shared_benchmarks, 400, np.random.default_rng(2017))
    base = scenarios.generate(reps=len(samples), accounts=300, seed=2, regions=1, products=1)
    loose = {f"tiers.{t}.{k}": v for t in base.settings.tiers for k, v in (("min_quota", 0.0), ("max_quota", 1e9))}
    # target = the agents' observed run-rate (mean simulated year), before 10 % over-assignment
    run_rate = float(samples.mean(axis=1).sum())
    s = scenarios.modify(base, {"targets.annual": round(run_rate / 1.1), "targets.over_assignment": 1.1,
                                "targets.by_region": {}, "quotas.ramp": False, **loose})
    samples.index = s.reps.index  # agents in alphabetical order become R0001, R0002, ...
    return s, samples


def test_every_rep_gets_the_same_chance_on_real_sales(maven: tuple[scenarios.Scenario, pd.DataFrame]) -> None:
    s, samples = maven
    r = set_quotas(s, scenarios.Plan.current(s).assignment, method="equal_probability",
                   sales_distribution=samples)
    total = round(s.settings.targets.annual * 1.1)
    assert r.quotas["quota"].sum() == total
    p = r.attainment_probability["(all)"]
    assert 0.35 < p < 0.65  # a run-rate target is reached about half the time
    assert np.abs(r.reps["attainment_probability"] - p).max() <= 1.5 / samples.shape[1]
    # independent: numpy's own quantiles at 1 - p add up to the target
    q = np.quantile(samples.to_numpy(), 1.0 - p, axis=1)
    assert q.sum() == pytest.approx(total, rel=1e-6)
    # the quotas differ a lot between agents: equal chances, not equal quotas
    assert r.reps["quota"].max() / r.reps["quota"].min() > 2


def test_a_higher_target_lowers_the_common_chance(maven: tuple[scenarios.Scenario, pd.DataFrame]) -> None:
    s, samples = maven
    a = scenarios.Plan.current(s).assignment
    chances = []
    for factor in (0.8, 1.0, 1.2):
        t = scenarios.modify(s, {"targets.annual": round(s.settings.targets.annual * factor)})
        chances.append(set_quotas(t, a, method="equal_probability",
                                  sales_distribution=samples).attainment_probability["(all)"])
    assert chances[0] > chances[1] > chances[2]
