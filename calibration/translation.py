"""Estimates onto a scenario: which estimate fills which key or column, what comes from the base scenario, and
what the scenario format cannot hold (said in the returned notes, never silently dropped).

- ``[[funnel.stages]]``: every open stage with an observed exit: ``conversion`` (Aalen-Johansen), ``mean_days``
  and ``spread`` (dwell), ``no_decision_share`` (the plateau of the time to any exit, when above 0);
  ``effort_hours`` from the base's stage of the same id, else 0 (an export records stage dates, not rep hours:
  the observed dwell already holds the rep's work).
- ``[tiers.*].skill``: median shrunk skill of the tier's reps; the rest of each tier from the base (quota bounds
  dropped without an explicit ``--base``: they are in the base's currency scale).
- ``reps.csv``: one rep per owner with deals: tier (the export's, or shrunk-skill quantiles), ``skill_<stage>`` =
  shrunk skill, region (owners table, else the rep's deals), ``hire_date`` = first deal (an upper bound), hours
  and salary = the base tier's, role ``hybrid`` (not in an export).
- ``accounts.csv``: one account per account id: ``annual_potential`` = expected value of the deals it brings a
  year (gamma-Poisson pooled deal rate x mean won deal value), rescaled by one factor so that the simulator's
  lead value (``scenarios.account_demand``: potential over the account's leads a year, at least one) averages the
  mean won deal value over the leads: simulated won deals are then worth what the export's won deals are worth,
  and an account's expected won value a year is its potential x the win probability. Tier A/B/C by potential
  (top 10 % / next 30 % / rest, the generator's convention), ``status`` = customer when it ever won, region and
  ``current_rep_id`` = the rep with most of its deals.
- ``[products.*]``: ``price`` = mean won deal value, ``mix`` = share of opportunities, ``margin`` from the base.
- demand: customers' deals become ``simulation.repeat_orders_per_year`` by account tier (with
  ``repeat_skip_stages = 0``); deals on accounts that never won become the channels' new-business leads;
  ``calendar.seasonality`` from the arrivals' seasonal effects when the history supports them.
- ``simulation.value_cv``: within-product spread of won deal values, net of the spread of the simulator's lead
  value between accounts.
- ``simulation.routing``: ``owner`` when most deals of an account go to one rep, else ``region_pool``.

Not held by the format (reported, with the smallest extension that would hold it): an arrivals trend
(``calendar.trend``), per-rep dwell multipliers separate from conversion skill (``skill_days_<stage>``), deal values
that do not scale with account potential (``simulation.value_by_potential``), missing geography (optional
latitude/longitude). None is implemented here: the simulator does not read any of them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

import scenarios
from calibration.arrivals import ArrivalModel
from calibration.errors import CalibrationError, Problem
from calibration.mapping import stage_id
from calibration.model import CrmModel

__all__ = ["OWNER_SHARE_FOR_OWNER_ROUTING", "translate"]

OWNER_SHARE_FOR_OWNER_ROUTING = 0.8
"""Share of deals that must go to their account's main rep for ``routing = "owner"``."""
_ACCOUNT_TIER_SHARES = (0.1, 0.3)  # A, B: the generator's convention (scenarios.generate)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``frame`` as dicts (typed access for the checker, unlike ``itertuples``)."""
    return [{str(k): v for k, v in rec.items()} for rec in frame.to_dict(orient="records")]


def _unique_slugs(names: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        slug = stage_id(name)
        base, k = slug, 2
        while slug in used:
            slug, k = f"{base}_{k}", k + 1
        used.add(slug)
        out[name] = slug
    return out


def _fill(values: pd.Series, other: object) -> pd.Series:
    """``values`` with missing entries taken from ``other`` (a value or an aligned series), kept as objects."""
    return values.astype(object).where(values.notna(), other)


def _main_rep(opps: pd.DataFrame) -> pd.Series:
    """Account -> the rep with most of its deals (ties: the rep with the latest deal, then by id)."""
    sub = opps[opps["account"].notna() & opps["owner"].notna()]
    if sub.empty:
        return pd.Series(dtype=object)
    g = sub.groupby(["account", "owner"]).agg(n=("row", "size"), last=("created", "max")).reset_index()
    g = g.sort_values(["account", "n", "last", "owner"], ascending=[True, False, False, True], kind="stable")
    return g.drop_duplicates("account").set_index("account")["owner"].astype(str)


def _first_plan(base: scenarios.Scenario) -> str:
    counts = base.reps["pay_plan_id"].value_counts()
    return str(counts.index[0]) if len(counts) else next(iter(base.settings.pay_plans))


def translate(model: CrmModel, *, funnel: pd.DataFrame, skills: pd.DataFrame, tiers: pd.DataFrame,
              arrivals: ArrivalModel, account_rates: pd.DataFrame, deal_sizes: pd.DataFrame,
              base: scenarios.Scenario, explicit_base: bool, name: str) -> tuple[scenarios.Scenario, list[str]]:
    """Build the calibrated scenario (see the module docstring); return it with notes on every default and gap.

    Raises
    ------
    CalibrationError
        When no stage of the export has an observed exit (nothing to put in a funnel).
    """
    notes: list[str] = []
    bs = base.settings
    opps = model.opportunities

    # --- funnel
    usable = funnel[funnel["conversion"].notna() & (funnel["conversion"] > 0)]
    if usable.empty:
        raise CalibrationError(Problem("funnel", "no open stage has a deal that left it on a known date",
                                       "export stage history or close dates (see the cleaning report)"))
    for row in _rows(funnel[~funnel.index.isin(usable.index)]):
        notes.append(f"stage {row['stage']}: no dated exits, so it is not in the scenario's funnel")
    base_effort = {s.id: s.effort_hours for s in bs.funnel.stages}
    stages = []
    for row in _rows(usable):
        effort = base_effort.get(str(row['stage_id']), 0.0)
        silent = row.get('no_decision_share', float('nan'))
        no_decision = float(round(min(silent, 0.99), 6)) if pd.notna(silent) and silent > 0 else None
        stages.append(scenarios.StageSettings(
            id=str(row['stage_id']), name=str(row['stage']), conversion=float(min(max(row['conversion'], 1e-4), 1.0)),
            mean_days=float(max(row['mean_days'], 0.01)), spread=float(max(row['spread'], 0.0)), effort_hours=effort,
            distribution="lognormal", no_decision_share=no_decision))
        if no_decision is not None:
            notes.append(f"stage {row['stage']}: {no_decision:.1%} of its deals never get a decision (open past the "
                         f"last exit at {row['last_exit_days']:.0f} days); conversion is among decided deals")
    if any(s.effort_hours == 0.0 for s in stages):
        notes.append("effort_hours = 0 for stages the base does not have: an export records stage dates, not rep "
                     "hours; the observed dwell already contains the rep's work (set effort_hours to study capacity)")
    stage_ids = [s.id for s in stages]
    win_probability = float(np.prod([s.conversion * (1.0 - (s.no_decision_share or 0.0)) for s in stages]))

    # --- tiers and reps
    tier_ids = sorted(bs.tiers, key=lambda t: bs.tiers[t].rank)
    wide = skills[skills["stage_id"].isin(stage_ids)].pivot_table(index="rep", columns="stage_id",
                                                                    values="skill", aggfunc="first")
    tier_of = dict(zip(tiers["rep"], tiers["tier"], strict=True)) if len(tiers) else {}
    reps_with_deals = sorted(opps["owner"].dropna().astype(str).unique())
    if not reps_with_deals:
        raise CalibrationError(Problem("opportunities", "no deal has an owner", "map the owner column"))
    middle = tier_ids[(len(tier_ids) - 1) // 2]
    rep_tier = pd.Series({r: tier_of.get(r, middle) for r in reps_with_deals})
    new_tiers = {}
    for t in tier_ids:
        members = rep_tier.index[rep_tier == t]
        med = wide.reindex(members).median() if len(members) else pd.Series(dtype=float)
        skill = {sid: float(round(med.get(sid, 1.0), 6)) if pd.notna(med.get(sid, np.nan)) else 1.0
                 for sid in stage_ids}
        update: dict[str, Any] = {"skill": skill}
        if not explicit_base:
            update.update(min_quota=None, max_quota=None)
        new_tiers[t] = bs.tiers[t].model_copy(update=update)
    owners = model.owners
    rep_region = owners["region"].reindex(reps_with_deals) if "region" in owners.columns else pd.Series(
        index=reps_with_deals, dtype=object)
    with_region = opps.dropna(subset=["owner", "region"])
    deal_region = with_region.groupby("owner")["region"].agg(lambda s: s.mode().iloc[0])
    rep_region = _fill(_fill(rep_region, deal_region.reindex(reps_with_deals)), "All").astype(str)
    if (rep_region == "All").all():
        notes.append("no region in the export: every rep and account is in region 'All'")
    salary_by_tier = base.reps.groupby("tier")["base_salary"].mean()
    hours_by_tier = {t: bs.tiers[t].hours_per_week for t in tier_ids}
    first_deal = opps.dropna(subset=["owner"]).groupby("owner")["created"].min()
    names = owners["name"].reindex(reps_with_deals) if "name" in owners.columns else pd.Series(
        index=reps_with_deals, dtype=object)
    plan = _first_plan(base)
    reps = pd.DataFrame({
        "rep_id": reps_with_deals,
        "name": _fill(names, pd.Series(reps_with_deals, index=reps_with_deals)).astype(str).to_numpy(),
        "tier": rep_tier.to_numpy(), "role": "hybrid", "region": rep_region.to_numpy(), "latitude": 0.0,
        "longitude": 0.0, "hours_per_week": [hours_by_tier[t] for t in rep_tier],
        "base_salary": [float(round(salary_by_tier.get(t, base.reps["base_salary"].mean()), 2)) for t in rep_tier],
        "hire_date": pd.to_datetime(first_deal.reindex(reps_with_deals).dt.normalize()).to_numpy(
            dtype="datetime64[ns]"),
        "pay_plan_id": plan}).set_index("rep_id")
    for sid in stage_ids:
        if sid in wide.columns:
            reps[f"skill_{sid}"] = wide[sid].reindex(reps.index).round(6).to_numpy()
    notes.append("reps: role 'hybrid', hours and base salary of the base tier, hire_date = first deal in the "
                 "export (an upper bound); latitude/longitude 0 (an export has no geography: travel plays no part)")

    # --- accounts
    has_accounts = opps["account"].notna().any() or len(model.accounts)
    main = _main_rep(opps)
    if has_accounts:
        account_ids = sorted(set(opps["account"].dropna().astype(str)) | set(model.accounts.index.astype(str)))
    else:
        account_ids = [f"All accounts ({r})" for r in sorted(set(rep_region))]
        notes.append("no account in the export: one account per region stands for all of its customers")
    acc_opps = opps.assign(account=opps["account"].where(opps["account"].notna(), None))
    if not has_accounts:
        acc_opps = acc_opps.assign(account="All accounts (" + _fill(acc_opps["owner"].map(rep_region),
                                                                         "All").astype(str) + ")")
        main = _main_rep(acc_opps)
    region_reps = rep_region.groupby(rep_region).size().sort_values(ascending=False)
    owner_of = main.reindex(account_ids)
    load = owner_of.value_counts()
    biggest = str(region_reps.index[0])
    for acc in owner_of.index[owner_of.isna()]:
        # An account without deals goes to the least-loaded rep of the largest region, so every account has an
        # owner (an unowned customer is neglected and churns in the simulator).
        cands = rep_region.index[rep_region == biggest]
        pick = min(cands, key=lambda r: (load.get(r, 0), r))
        owner_of[acc] = pick
        load[pick] = load.get(pick, 0) + 1
    won_accounts = set(acc_opps.loc[acc_opps["kind"] == "won", "account"].dropna().astype(str))
    mean_value = float(np.nansum(deal_sizes["mean"].fillna(0) * deal_sizes["mix"]) /
                       max(deal_sizes.loc[deal_sizes["mean"].notna(), "mix"].sum(), 1e-12))
    rate = account_rates.set_index("group")["rate"].reindex(account_ids) if len(account_rates) else pd.Series(
        np.nan, index=account_ids)
    if rate.isna().all():
        counts = acc_opps["account"].value_counts().reindex(account_ids, fill_value=0)
        months = max(float(arrivals.counts["exposure"].sum()), 1.0)
        rate = counts / months
    rate = rate.fillna(rate[rate > 0].min() if (rate > 0).any() else 1.0)
    potential = rate * 12.0 * mean_value  # rescaled to the simulator's lead value below
    order = potential.sort_values(ascending=False, kind="stable").index
    n_acc = len(order)
    n_a = round(_ACCOUNT_TIER_SHARES[0] * n_acc)
    n_ab = round(sum(_ACCOUNT_TIER_SHARES) * n_acc)
    acc_tier = pd.Series("C", index=order)
    acc_tier.iloc[:n_a] = "A"
    acc_tier.iloc[n_a:n_ab] = "B"
    acc_names = model.accounts["name"] if "name" in model.accounts.columns else pd.Series(dtype=object)
    segments = model.accounts["segment"] if "segment" in model.accounts.columns else pd.Series(dtype=object)
    status = pd.Series(["customer" if a in won_accounts else "prospect" for a in account_ids], index=account_ids)
    accounts = pd.DataFrame({
        "account_id": account_ids,
        "name": _fill(acc_names.reindex(account_ids), pd.Series(account_ids, index=account_ids)).astype(str).to_numpy(),
        "tier": acc_tier.reindex(account_ids).to_numpy(),
        "segment": _fill(segments.reindex(account_ids), "unknown").astype(str).to_numpy(),
        "region": owner_of.map(rep_region).to_numpy(), "latitude": 0.0, "longitude": 0.0,
        "annual_potential": potential.to_numpy(dtype=float), "service_hours_per_year": 0.0,
        "status": status.to_numpy(), "current_rep_id": owner_of.to_numpy()}).set_index("account_id")
    notes.append("accounts: service_hours_per_year 0 (not in an export), latitude/longitude 0")

    # --- demand: customers' deals as repeat orders by tier, the rest as new-business leads
    in_window = acc_opps[(acc_opps["created"] >= model.observed_from)]
    on_customer = in_window["account"].isin(won_accounts)
    share_repeat = float(on_customer.mean()) if len(in_window) else 0.0
    level = arrivals.level
    cust_rate = rate[status == "customer"]
    tier_sum = cust_rate.groupby(acc_tier.reindex(cust_rate.index)).sum()
    tier_n = cust_rate.groupby(acc_tier.reindex(cust_rate.index)).size()
    repeat = {}
    for t in ("A", "B", "C"):
        if tier_n.get(t, 0) and tier_sum.sum() > 0:
            per_acc = level * share_repeat * 12.0 * float(tier_sum[t] / tier_sum.sum()) / float(tier_n[t])
            repeat[t] = float(round(per_acc, 6))
        else:
            repeat[t] = 0.0
    new_level = level * (1.0 - share_repeat)
    weights = scenarios.region_weights({r: float(accounts.loc[accounts["region"] == r, "annual_potential"].sum())
                                        for r in sorted(set(accounts["region"]) | set(reps["region"]))})
    n_regions = len(weights)
    channels, budget = _channels(bs, explicit_base, new_level, weights, notes)
    # The simulator values a lead at its account's potential over the account's leads a year (at least one), times
    # the product's price over the mean price and mean-1 noise. Potential is scaled by one factor so that this lead
    # value averages the mean won deal value over where leads land (a uniform factor moves neither the prospects'
    # shares of new leads nor the region weights); its spread between accounts is taken out of value_cv.
    lam = np.where(status == "customer", acc_tier.reindex(account_ids).map(repeat).to_numpy(dtype=float), 0.0)
    prospects = (status == "prospect").to_numpy()
    pot = accounts["annual_potential"].to_numpy(dtype=float)
    region = accounts["region"].to_numpy()
    for r, w in weights.items():
        in_r = region == r
        pool = in_r & prospects if (in_r & prospects).any() and pot[in_r & prospects].sum() > 0 else in_r
        if pot[pool].sum() > 0:
            lam[pool] += new_level * 12.0 * w / n_regions * pot[pool] / pot[pool].sum()
    lead_value = pot / np.maximum(lam, 1.0)
    kappa = float((lam * lead_value).sum() / lam.sum()) if lam.sum() > 0 else 0.0
    scale = mean_value / kappa if kappa > 0 and mean_value > 0 else 1.0
    accounts["annual_potential"] = (accounts["annual_potential"] * scale).round(2)
    vs = lead_value / kappa if kappa > 0 else np.ones_like(pot)
    second = float((lam * vs ** 2).sum() / lam.sum()) if lam.sum() > 0 else 1.0
    won_n = deal_sizes["won_deals"].fillna(0).to_numpy(dtype=float)
    cvs = deal_sizes["cv"].to_numpy(dtype=float)
    ok = np.isfinite(cvs) & (won_n > 1)
    cv_data = float(np.sqrt(np.average(cvs[ok] ** 2, weights=won_n[ok]))) if ok.any() else bs.simulation.value_cv
    ratio = second
    cv2 = (1.0 + cv_data ** 2) / ratio - 1.0
    value_cv = float(round(math.sqrt(cv2), 6)) if cv2 > 0 else 0.0
    if cv2 <= 0:
        notes.append(f"deal values: the simulator's lead value differs between accounts, which alone "
                     f"spreads values by a CV of {math.sqrt(max(ratio - 1.0, 0.0)):.3f}, more than the export's "
                     f"within-product CV of {cv_data:.3f}; value_cv is 0 and simulated values vary more than the "
                     "export's (smallest format extension: simulation.value_by_potential = false)")

    # --- products
    base_margin = {p: s.margin for p, s in bs.products.items()}
    mean_margin = float(np.mean(list(base_margin.values())))
    priced = deal_sizes[deal_sizes["mean"].notna() & (deal_sizes["mean"] > 0)]
    slugs = _unique_slugs(list(priced["product"]))
    products = {}
    for row in _rows(priced):
        pid = slugs[str(row['product'])]
        products[pid] = scenarios.ProductSettings(
            name=str(row['product']), price=float(round(row['mean'], 4)),
            margin=base_margin.get(pid, mean_margin), mix=float(round(max(row['mix'], 0.0), 6)))
    if sum(p.mix for p in products.values()) <= 0:
        products = {pid: p.model_copy(update={"mix": 1.0}) for pid, p in products.items()}
    dropped = deal_sizes[~deal_sizes.index.isin(priced.index)]
    for row in _rows(dropped):
        notes.append(f"product {row['product']}: no won deal with a value, not in the scenario")
    notes.append(f"product margins from the base scenario (an export has no costs); account potentials scaled by "
                 f"{scale:.4f} so that simulated leads are worth the mean won deal value ({mean_value:,.2f})")

    # --- targets, calendar, simulation settings
    first_month = (model.as_of + pd.offsets.MonthBegin(1)).date()
    season = arrivals.seasonality_12()
    if arrivals.season_kind == "none":
        seasonality = list(bs.calendar.seasonality) if explicit_base else [1.0] * 12
        notes.append("the history does not support seasonal effects: calendar seasonality "
                     + ("kept from the base" if explicit_base else "is flat"))
    else:
        seasonality = season
    if arrivals.trend_per_year is not None:
        notes.append(f"arrivals trend of x{arrivals.trend_per_year:.3f} a year is not in the scenario (the level is "
                     "the last 12 months'); smallest format extension: calendar.trend")
    calendar = bs.calendar.model_copy(update={"start": first_month, "seasonality": seasonality})
    expected = 12.0 * level * win_probability * mean_value
    won = opps[opps["kind"] == "won"]
    by_product: dict[str, float] = {}
    by_region: dict[str, float] = {}
    if explicit_base:
        targets = bs.targets
        if set(targets.by_product) - set(products):
            notes.append("targets.by_product of the base names products the export does not have: dropped")
            targets = targets.model_copy(update={"by_product": {}})
        if set(targets.by_region) - set(weights):
            notes.append("targets.by_region of the base names regions the export does not have: dropped")
            targets = targets.model_copy(update={"by_region": {}})
    else:
        value_by_product = won.groupby(_fill(won["product"], "all").astype(str))["amount"].sum()
        value_by_product = value_by_product[value_by_product.index.isin(slugs)]
        by_product = _shares({slugs[str(k)]: float(v) for k, v in value_by_product.items() if v > 0})
        value_by_region = won.assign(r=won["owner"].map(rep_region)).groupby("r")["amount"].sum()
        by_region = _shares({str(k): float(v) for k, v in value_by_region.items() if v > 0 and k in weights})
        targets = scenarios.TargetSettings(annual=float(max(round(expected, -2), 1.0)),
                                           over_assignment=bs.targets.over_assignment,
                                           by_product=by_product, by_region=by_region)
        notes.append(f"targets.annual = expected bookings of the calibrated funnel over 12 months "
                     f"({expected:,.0f} {model.currency}); over_assignment from the base")
    share_main = float((opps["owner"] == opps["account"].map(main)).mean()) if len(main) else 1.0
    routing = "owner" if share_main >= OWNER_SHARE_FOR_OWNER_ROUTING else "region_pool"
    notes.append(f"routing = {routing}: {share_main:.0%} of deals go to their account's main rep")
    simulation = bs.simulation.model_copy(update={
        "repeat_orders_per_year": repeat, "repeat_skip_stages": 0, "tier_conversion": {"A": 1.0, "B": 1.0, "C": 1.0},
        "value_cv": value_cv, "routing": routing, "base_churn_per_year": 0.0})
    notes.append("simulation: base_churn_per_year 0 and tier_conversion 1 (the export's arrival rates and "
                 "conversion already contain churn and the account mix)")
    optimizer = bs.optimizer
    if optimizer.locks or optimizer.exclusions:
        optimizer = optimizer.model_copy(update={"locks": {}, "exclusions": {}})
        notes.append("optimizer locks and exclusions of the base name its own reps and accounts: dropped")
    funnel_settings = scenarios.FunnelSettings(stages=stages, stall_days=bs.funnel.stall_days)
    settings = bs.model_copy(update={
        "name": name, "description": f"Calibrated from a CRM export as of {model.as_of.date()} "
        f"({len(opps)} opportunities){'; base ' + base.name if explicit_base else ''}.",
        "currency": model.currency or bs.currency, "calendar": calendar, "funnel": funnel_settings,
        "tiers": new_tiers, "products": products, "targets": targets, "channels": channels, "budget": budget,
        "simulation": simulation, "optimizer": optimizer, "tables": scenarios.TablesSettings()})
    try:
        settings = scenarios.Settings.model_validate(settings.model_dump(mode="python"))
    except Exception as exc:  # pydantic ValidationError: a bug in this mapping, not the user's export
        raise RuntimeError(f"calibrated settings do not validate: {exc}") from exc
    scenario = scenarios.Scenario(settings=settings, reps=reps, accounts=accounts, source="calibrated")
    scenarios.check(scenario)
    return scenario, notes


def _shares(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values())
    if total <= 0 or len(values) < 2:
        return {}
    raw = {k: round(v / total, 6) for k, v in values.items()}
    biggest = max(raw, key=lambda k: raw[k])
    raw[biggest] = round(raw[biggest] + 1.0 - sum(raw.values()), 10)
    return raw


def _channels(bs: scenarios.Settings, explicit_base: bool, new_level: float, weights: dict[str, float],
              notes: list[str]) -> tuple[dict[str, scenarios.ChannelSettings], scenarios.BudgetSettings]:
    """New-business leads: the base's channels scaled to the estimated level (explicit base with spend), else one
    ``crm`` channel whose nominal spend axis saturates at its default spend."""
    n_regions = len(weights)
    if explicit_base and bs.channels:
        expected = 0.0
        for ch in bs.channels.values():
            for w in weights.values():
                expected += float(np.mean([scenarios.expected_leads(ch, ch.default_monthly_spend, m, w)
                                           for m in range(1, 13)]))
        if expected > 0:
            factor = new_level / expected
            scaled = {k: ch.model_copy(
                update={"curve_leads": [float(round(x * factor, 6)) for x in ch.curve_leads]})
                for k, ch in bs.channels.items()}
            notes.append(f"channels of the base kept, lead curves scaled by {factor:.4f} so their leads at today's "
                         f"spend match the export's new-business arrivals ({new_level:.2f} a month); lead_quality "
                         "kept (it multiplies the entry stage's conversion)")
            return scaled, bs.budget
        notes.append("the base's channels bring no leads at their default spend: replaced by one 'crm' channel")
    top = max(weights.values()) if weights else 1.0
    spend = float(math.ceil(top * 100.0) / 100.0)
    per_region = max(new_level / max(n_regions, 1), 0.0)
    channel = scenarios.ChannelSettings(
        name="Opportunities as recorded in the CRM export (no spend data)", curve_spend=[0.0, 1.0],
        curve_leads=[0.0, float(round(per_region, 6))], lead_quality=1.0, default_monthly_spend=spend)
    notes.append("channels: one 'crm' channel; an export has no marketing spend, so its spend axis is nominal "
                 "(saturated at the default spend); use --base with real channels to study budgets")
    budget = scenarios.BudgetSettings(total=float(round(spend * n_regions * 12, 2)))
    return {"crm": channel}, budget
