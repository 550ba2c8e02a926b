"""Parameter recovery on synthetic exports with known truth (tests/calibration/synthetic_export.py, independent of
the simulator): intervals cover the truth near their nominal 90 %, censoring and delayed entry are handled where
the naive estimates are biased, and shrinkage beats raw per-rep rates."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import synthetic_export as se

import calibration


def _coverage(tmp: Path, seeds: range) -> dict[str, list[bool]]:
    truth = se.Truth(months=12, arrivals_per_month=80.0)
    hits: dict[str, list[bool]] = {"conversion": [], "mean_days": [], "arrivals": []}
    for seed in seeds:
        folder = se.write_export(tmp / f"s{seed}", truth, seed)
        model, _, _ = calibration.build_model(folder, se.mapping())
        funnel = calibration.estimate_funnel(model).set_index("stage")
        for k, stage in enumerate(se.STAGES):
            row = funnel.loc[stage]
            hits["conversion"].append(bool(row["conversion_low"] <= truth.conversion[k] <= row["conversion_high"]))
            hits["mean_days"].append(bool(row["mean_days_low"] <= truth.mean_days[k] <= row["mean_days_high"]))
        arr = calibration.estimate_arrivals(model)
        hits["arrivals"].append(bool(arr.level_low <= truth.arrivals_per_month <= arr.level_high))
    return hits


def test_intervals_cover_the_truth(tmp_path: Path) -> None:
    hits = _coverage(tmp_path, range(8))
    everything = [h for v in hits.values() for h in v]
    rate = float(np.mean(everything))
    # 56 checks at a nominal 90 %: 0.75 is almost four standard errors below it, and all 56 inside would
    # happen with probability 0.9^56 < 0.003 (intervals far too wide).
    assert 0.75 <= rate < 1.0, {k: float(np.mean(v)) for k, v in hits.items()}


@pytest.mark.slow
def test_intervals_cover_the_truth_at_the_nominal_rate(tmp_path: Path) -> None:
    hits = _coverage(tmp_path, range(120))
    for kind, values in hits.items():
        rate = float(np.mean(values))
        se_rate = np.sqrt(0.9 * 0.1 / len(values))
        assert abs(rate - 0.9) < 3.5 * se_rate + 0.01, (kind, rate, len(values))


def test_censoring_matters_naive_won_among_closed_is_biased(tmp_path: Path) -> None:
    # Lost deals leave each stage four times faster than passed ones: at the export day the open deals are
    # mostly future wins, so "won among closed" understates the win rate; the competing-risks estimate does not.
    truth = se.Truth(months=4, arrivals_per_month=400.0, lost_days_factor=0.25)
    true_win = float(np.prod(truth.conversion))
    naive, ours, covered = [], [], []
    for seed in range(4):
        folder = se.write_export(tmp_path / f"s{seed}", truth, seed)
        model, _, _ = calibration.build_model(folder, se.mapping())
        kinds = model.opportunities["kind"].value_counts()
        naive.append(kinds["won"] / (kinds["won"] + kinds["lost"]))
        funnel = calibration.estimate_funnel(model).set_index("stage").loc[se.STAGES]
        ours.append(float(funnel["conversion"].prod()))
        covered.extend((funnel["conversion_low"].to_numpy() <= truth.conversion) &
                       (np.asarray(truth.conversion) <= funnel["conversion_high"].to_numpy()))
    assert np.mean(naive) < true_win - 0.03, (np.mean(naive), true_win)
    assert abs(np.mean(ours) - true_win) < 0.015, (np.mean(ours), true_win)
    assert np.mean(covered) >= 0.75


def test_delayed_entry_matters(tmp_path: Path) -> None:
    # The export lacks every deal that closed before observed_from (as Maven's does before March 2017); deals
    # open on that day are in it only because they lasted, so their spells enter late.
    truth = se.Truth(months=10, arrivals_per_month=200.0, observed_from=dt.date(2022, 5, 1))
    folder = se.write_export(tmp_path / "trunc", truth, 5)
    known = se.mapping().model_copy(update={"observed_from": truth.observed_from})
    ignoring = se.mapping().model_copy(update={"observed_from": truth.start})
    good = calibration.estimate_funnel(calibration.build_model(folder, known)[0]).set_index("stage")
    naive = calibration.estimate_funnel(calibration.build_model(folder, ignoring)[0]).set_index("stage")
    first = se.STAGES[0]
    assert good.loc[first, "late_entries"] > 0 and naive.loc[first, "late_entries"] == 0
    assert good.loc[first, "mean_days_low"] <= truth.mean_days[0] <= good.loc[first, "mean_days_high"]
    assert naive.loc[first, "mean_days_low"] > truth.mean_days[0]  # survivors only: dwell overstated
    # Without being told, the truncation is detected: few deals were created before the first close.
    inferred, _, info = calibration.build_model(folder, se.mapping())
    assert inferred.observed_from >= pd.Timestamp(truth.observed_from)
    assert any("left truncation" in n for n in info.notes)
    complete, _, info = calibration.build_model(se.write_export(tmp_path / "full", truth.__class__(months=10,
                                                arrivals_per_month=200.0), 5), se.mapping())
    assert complete.observed_from == pd.Timestamp(truth.start) and not any("truncation" in n for n in info.notes)


def test_shrinkage_lowers_per_rep_error(tmp_path: Path) -> None:
    truth = se.Truth(months=5, arrivals_per_month=140.0, reps=40, rep_skill_sd=0.25)
    for seed in range(3):
        t = dataclasses.replace(truth)
        folder = se.write_export(tmp_path / f"s{seed}", t, seed)
        model, _, _ = calibration.build_model(folder, se.mapping())
        spells = calibration.stage_spells(model)
        ids = {s: calibration.mapping.stage_id(s) for s in se.STAGES}
        skills, pooling = calibration.estimate_rep_skills(spells, ids)
        rep_index = skills["rep"].str[4:].astype(int).to_numpy()
        stage_index = skills["stage"].map({s: k for k, s in enumerate(se.STAGES)}).to_numpy()
        true_rate = np.minimum(np.asarray(t.conversion)[stage_index] * t.rep_skills[rep_index, stage_index], 1.0)
        raw = np.sqrt(np.mean((skills["raw_rate"].to_numpy() - true_rate) ** 2))
        shrunk = np.sqrt(np.mean((skills["shrunk_rate"].to_numpy() - true_rate) ** 2))
        assert shrunk < raw, (seed, shrunk, raw)
        assert (pooling["shrunk_rate_sd"] < pooling["raw_rate_sd"]).all()


def test_identical_reps_are_reported_indistinguishable(tmp_path: Path) -> None:
    # The test of "no between-rep variance" is at the 5 % level, so among identical reps it should flag nearly
    # every stage; where all stages are flagged nobody is promoted or demoted on noise.
    truth = se.Truth(months=6, arrivals_per_month=150.0, reps=20, rep_skill_sd=0.0)
    flags = []
    for seed in range(6):
        folder = se.write_export(tmp_path / f"s{seed}", truth, seed)
        model, _, _ = calibration.build_model(folder, se.mapping())
        ids = {s: calibration.mapping.stage_id(s) for s in se.STAGES}
        skills, pooling = calibration.estimate_rep_skills(calibration.stage_spells(model), ids)
        flags.extend(pooling["indistinguishable"])
        if pooling["indistinguishable"].all():
            tiers = calibration.rep_tiers(skills, pooling, ["junior", "mid", "senior"])
            assert set(tiers["tier"]) == {"mid"}
    assert np.mean(flags) >= 0.8, flags


def test_month_of_quarter_arrivals_are_detected(tmp_path: Path) -> None:
    truth = se.Truth(months=24, arrivals_per_month=120.0, month_of_quarter=(0.7, 1.0, 1.3))
    folder = se.write_export(tmp_path / "moq", truth, 11)
    model, _, _ = calibration.build_model(folder, se.mapping())
    arr = calibration.estimate_arrivals(model)
    assert arr.season_kind == "month_of_quarter"
    season = arr.season.set_index("position")
    for k, true in enumerate(truth.month_of_quarter, start=1):
        # One export: within four standard errors (on the log scale) rather than inside one 90 % interval.
        se_log = np.log(season.loc[k, "high"] / season.loc[k, "low"]) / (2 * 1.645)
        assert abs(np.log(season.loc[k, "multiplier"] / true)) < 4 * se_log, (k, season)
    assert arr.seasonality_12()[:3] == pytest.approx(list(season["multiplier"]), abs=1e-3)


def test_deal_sizes_by_product_and_sparse_fallback(tmp_path: Path) -> None:
    truth = se.Truth(months=12, arrivals_per_month=150.0,
                     products={"Basic": (1000.0, 0.3), "Pro": (5000.0, 0.5), "Rare": (20000.0, 0.4)},
                     product_mix=(0.69, 0.3, 0.01))
    folder = se.write_export(tmp_path / "sizes", truth, 2)
    model, _, _ = calibration.build_model(folder, se.mapping())
    sizes = calibration.estimate_deal_sizes(model).set_index("product")
    for name in ("Basic", "Pro"):
        assert sizes.loc[name, "method"] == "empirical"
        se_mean = (sizes.loc[name, "mean_high"] - sizes.loc[name, "mean_low"]) / (2 * 1.645)
        assert abs(sizes.loc[name, "mean"] - truth.products[name][0]) < 4 * se_mean, sizes.loc[name]
    assert sizes.loc["Rare", "won_deals"] < calibration.deal_sizes.MIN_EMPIRICAL
    assert sizes.loc["Rare", "method"].startswith("lognormal")
    assert sizes["mix"].sum() == pytest.approx(1.0)


def test_long_dwell_falls_back_to_a_censored_lognormal_fit(tmp_path: Path) -> None:
    # Dwell far longer than the history: most spells are still open, so the mean comes from a log-normal fitted
    # with censoring rather than from the Kaplan-Meier curve, which stops long before its tail.
    truth = se.Truth(months=8, arrivals_per_month=150.0, mean_days=(150.0, 20.0, 15.0))
    folder = se.write_export(tmp_path / "long", truth, 8)
    model, _, _ = calibration.build_model(folder, se.mapping())
    row = calibration.estimate_funnel(model).set_index("stage").loc[se.STAGES[0]]
    assert row["duration_method"] == "lognormal" and row["unresolved_share"] > 0.05
    se_log = np.log(row["mean_days_high"] / row["mean_days_low"]) / (2 * 1.645)
    assert abs(np.log(row["mean_days"] / truth.mean_days[0])) < 4 * se_log, row
    assert row["spread"] == pytest.approx(truth.cv[0], abs=0.15)
