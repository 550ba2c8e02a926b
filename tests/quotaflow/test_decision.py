"""The decision table: its arithmetic against the per-replication results, its ranking line against its own rows,
and number formats a person reads (no scientific notation)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

import scenarios
from quotaflow.comparison import ComparisonResult, compare
from quotaflow.decision import DECISION_MEASURES, format_amount, format_share, ranking_line


@pytest.fixture(scope="module")
def result() -> ComparisonResult:
    return compare(scenarios.load("tiny"), ["flat_commission", "annual_bonus", "capped"], replications=4, seed=3)


def test_profit_after_pay_is_margin_minus_pay_in_every_replication(result: ComparisonResult) -> None:
    r = result.replications
    np.testing.assert_allclose(r["profit_after_pay"], r["gross_margin"] - r["compensation_cost"], rtol=0, atol=1e-6)


def test_decision_rows_are_the_paired_statistics_of_the_replications(result: ComparisonResult) -> None:
    table = result.decision()
    assert table["plan"].tolist() == ["flat_commission", "annual_bonus", "capped"]
    assert table["reference"].tolist() == [True, False, False]
    r = result.replications
    ref = r[r["plan"] == "flat_commission"]
    for _, row in table.iloc[1:].iterrows():
        mine = r[r["plan"] == row["plan"]]
        for m in DECISION_MEASURES:
            d = mine[m.metric].to_numpy() - ref[m.metric].to_numpy()
            assert row[m.metric] == pytest.approx(mine[m.metric].mean())
            assert row[f"{m.metric}_delta"] == pytest.approx(d.mean(), abs=1e-9)
            if d.std(ddof=1) > 0:
                half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
                assert row[f"{m.metric}_delta_ci_low"] == pytest.approx(d.mean() - half)
                assert row[f"{m.metric}_delta_ci_high"] == pytest.approx(d.mean() + half)
    # the reference has no difference against itself
    assert table.iloc[0][[f"{m.metric}_delta" for m in DECISION_MEASURES]].isna().all()
    assert table["over_budget"].tolist() == (table["payout_vs_budget"] > 1).tolist()
    budgets = result.info["compensation_budget"]
    assert table["compensation_budget"].tolist() == [budgets[p] for p in table["plan"]]
    cost = r.groupby("plan", sort=False)["compensation_cost"].mean()
    np.testing.assert_allclose(table["payout_vs_budget"], [cost[p] / budgets[p] for p in table["plan"]])


def test_ranking_line_names_the_row_with_the_most_profit(result: ComparisonResult) -> None:
    table = result.decision()
    line = ranking_line(table, "EUR")
    best = table.loc[table["profit_after_pay"].idxmax()]
    assert line.startswith(str(best["plan"]))
    if not best["reference"]:
        assert format_amount(float(best["profit_after_pay_delta"]), "EUR", signed=True) in line
    payout = float(best["payout_vs_budget"])
    assert ("over its compensation budget" in line) == (payout > 1)
    text = result.decision_text()
    assert text.splitlines()[-1] == line
    assert "Profit after pay" in text and "EUR" in text
    assert not re.search(r"\d[eE][+-]?\d", text)


def test_ranking_line_flags_an_over_budget_winner_and_an_uncertain_difference() -> None:
    t = pd.DataFrame({"plan": ["a", "b"], "reference": [True, False], "profit_after_pay": [1.0, 2.0e5],
                      "profit_after_pay_delta": [np.nan, 2.0e5], "profit_after_pay_delta_ci_low": [np.nan, -1.0e4],
                      "profit_after_pay_delta_ci_high": [np.nan, 4.1e5], "payout_vs_budget": [0.9, 1.25]})
    line = ranking_line(t, "USD")
    assert line == ("b earns the most profit after pay: +200 K USD (-10.0 K to +410 K) against a (the 95 % interval "
                    "includes no difference), but pays 25.0 % over its compensation budget.")
    t.loc[1, "profit_after_pay"] = -1.0
    assert ranking_line(t, "USD").startswith("a (the reference) earns the most profit after pay; the next best, b")


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False))
def test_amounts_never_use_scientific_notation(x: float) -> None:
    for text in (format_amount(x, "EUR"), format_amount(x, signed=True), format_share(x / 1e12),
                 format_share(x / 1e12, signed=True)):
        assert not re.search(r"\d[eE][+-]?\d", text) and "nan" not in text and "inf" not in text
