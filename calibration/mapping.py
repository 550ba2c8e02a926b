"""The mapping from a CRM export's files and columns to the tidy long model, as a TOML file validated by pydantic.

A mapping names the tables (opportunities, optional stage history, owners, accounts and products), the column
of each field, the stages in funnel order with their kind (open / won / lost), how dates and numbers are
written and the currency table. Presets (``calibration/presets/*.toml``) are mappings shipped with the package:
data, not code paths, so any other CRM works by writing one more file.

A column may be given as one name or as a list of alternatives (the first one present in the file is used),
which lets one preset read both the API-name and the label variants of an export. Names match case-insensitively
and ignore surrounding spaces.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from calibration.errors import CalibrationError, Problem
from scenarios.base import Strict
from scenarios.scenario import settings_problems

__all__ = [
    "AccountColumns",
    "CurrencySettings",
    "DateSettings",
    "HistoryColumns",
    "Mapping",
    "OpportunityColumns",
    "OwnerColumns",
    "ProductColumns",
    "StageSpec",
    "load_mapping",
    "normalise",
    "preset_names",
    "stage_id",
]

Column = str | list[str]
"""One column name or alternatives, the first present in the file wins."""


def normalise(text: str) -> str:
    """The form names and stage values are compared in: lower case, inner whitespace collapsed, trimmed.

    Examples
    --------
    >>> normalise("  Closed   Won ")
    'closed won'
    """
    return " ".join(str(text).split()).casefold()


def stage_id(name: str) -> str:
    """A scenario stage id from a stage name: lower case ASCII letters, digits and underscores.

    Examples
    --------
    >>> stage_id("Proposal/Price Quote"), stage_id("Id. Decision Makers")
    ('proposal_price_quote', 'id_decision_makers')
    """
    slug = re.sub(r"[^0-9a-z]+", "_", normalise(name).encode("ascii", "ignore").decode()).strip("_")
    return slug or "stage"


class StageSpec(Strict):
    """One stage of the export's pipeline (``[[stages]]``, in funnel order).

    Parameters
    ----------
    name
        The stage as the export writes it.
    kind
        ``open`` (the deal is still being worked), ``won`` or ``lost``.
    aliases
        Other spellings of the same stage in the export (e.g. a HubSpot stage id such as ``closedwon``).
    id
        Stage id in the calibrated scenario (default: derived from the name).
    """

    name: str = Field(min_length=1)
    kind: Literal["open", "won", "lost"]
    aliases: list[str] = Field(default_factory=list)
    id: str = ""

    @property
    def scenario_id(self) -> str:
        """The id the stage gets in the scenario."""
        return self.id or stage_id(self.name)


def _default_status() -> dict[Literal["open", "won", "lost"], list[str]]:
    return {"open": ["open"], "won": ["won"], "lost": ["lost"]}


class OpportunityColumns(Strict):
    """The opportunities table (``[opportunities]``): one row per deal.

    Parameters
    ----------
    file
        File name (matched case-insensitively inside the export folder); a list gives alternatives.
    id, stage
        Required columns: the deal's id and its current stage.
    owner, account, product, region, amount, currency, created, closed
        Optional columns: owner (rep), account, product, the deal's region, value, its currency, the
        creation date and the close date.
    is_closed, is_won
        Optional boolean columns (Salesforce ``IsClosed`` / ``IsWon``) that decide open / won / lost when the
        stage alone does not.
    status
        Optional status column (Pipedrive: open / won / lost), read through ``status_values``.
    status_values
        Export values of ``status`` for each kind.
    stage_entered
        Stage name -> column holding the date the deal entered that stage (Maven's ``engage_date``).
    stage_entered_prefix
        Columns whose header starts with this text hold the date a stage was entered, the stage named in the
        rest of the header (HubSpot's wide ``Date entered "<stage> (<pipeline>)"`` columns).
    created_stage
        The stage a deal is in when it is created, when no stage history says otherwise ("" = the first
        open stage).
    """

    file: Column
    id: Column
    stage: Column
    owner: Column | None = None
    account: Column | None = None
    product: Column | None = None
    region: Column | None = None
    amount: Column | None = None
    currency: Column | None = None
    created: Column | None = None
    closed: Column | None = None
    is_closed: Column | None = None
    is_won: Column | None = None
    status: Column | None = None
    status_values: dict[Literal["open", "won", "lost"], list[str]] = Field(default_factory=_default_status)
    stage_entered: dict[str, Column] = Field(default_factory=dict)
    stage_entered_prefix: str = ""
    created_stage: str = ""


class HistoryColumns(Strict):
    """The stage history table (``[history]``): one row per change (Salesforce ``OpportunityHistory``).

    Parameters
    ----------
    file
        File name (alternatives allowed).
    opportunity_id, changed, stage
        The deal, when the change happened, and the stage after the change.
    amount
        Optional amount after the change (what a back-test may use as the amount on that day).
    field, field_value
        For field-history tables (``OpportunityFieldHistory``): only rows whose ``field`` column equals
        ``field_value`` are stage changes, and ``stage`` then names the new-value column.
    """

    file: Column
    opportunity_id: Column
    changed: Column
    stage: Column
    amount: Column | None = None
    field: Column | None = None
    field_value: str = "StageName"


class OwnerColumns(Strict):
    """The owners (reps) table (``[owners]``).

    Parameters
    ----------
    file
        File name.
    id
        Owner id as the opportunities table writes it.
    name, region, tier, manager
        Optional columns.
    """

    file: Column
    id: Column
    name: Column | None = None
    region: Column | None = None
    tier: Column | None = None
    manager: Column | None = None


class AccountColumns(Strict):
    """The accounts table (``[accounts]``).

    Parameters
    ----------
    file
        File name.
    id
        Account id as the opportunities table writes it.
    name, segment, region
        Optional columns.
    """

    file: Column
    id: Column
    name: Column | None = None
    segment: Column | None = None
    region: Column | None = None


class ProductColumns(Strict):
    """The products table (``[products]``).

    Parameters
    ----------
    file
        File name.
    id
        Product as the opportunities table writes it.
    price
        Optional list price.
    """

    file: Column
    id: Column
    price: Column | None = None


class DateSettings(Strict):
    """How dates are written (``[dates]``).

    Parameters
    ----------
    format
        ``auto`` (ISO 8601, or one of the common day/month orders when every value parses with it) or a
        strftime format such as ``%d.%m.%Y``.
    day_first
        Resolve ``auto`` in favour of day-first (``31/01/2024``) when both orders read every value.
    """

    format: str = "auto"
    day_first: bool = False


class CurrencySettings(Strict):
    """Mixed currencies (``[currency]``).

    Parameters
    ----------
    base
        The currency every amount is converted to (and the scenario's currency).
    rates
        Units of ``base`` per unit of each other currency (a fixed table; e.g. ``EUR = 1.08`` for USD base).
    """

    base: str = ""
    rates: dict[str, float] = Field(default_factory=dict)

    @field_validator("rates")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not x > 0}
        if bad:
            raise ValueError(f"currency rates must be > 0; got {bad}")
        return v


class Mapping(Strict):
    """Everything a mapping TOML holds.

    Parameters
    ----------
    name, description
        Identification.
    opportunities
        The deals table (required).
    history, owners, accounts, products
        Optional tables.
    stages
        The export's stages in funnel order, each with its kind.
    dates, currency
        How dates and amounts are read.
    decimal
        Decimal mark of numbers: ``auto`` (a comma when the file is semicolon-separated and numbers use it),
        ``.`` or ``,``.
    observed_from
        First day the export covers completely. Deals that ended before it are missing from the export, so
        those still open on that day enter the estimates late (left truncation). Default: the first close when
        fewer deals were created before it than the later creation rate predicts (a truncated export), else the
        first creation (see ``calibration.cleaning``).
    placeholder_ids
        Values that mean "no id" (e.g. Salesforce's ``000000000000000AAA``).
    product_aliases
        Export product -> product name, for spellings that differ between tables (``GTXPro`` -> ``GTX Pro``).
    """

    name: str = Field(min_length=1)
    description: str = ""
    opportunities: OpportunityColumns
    history: HistoryColumns | None = None
    owners: OwnerColumns | None = None
    accounts: AccountColumns | None = None
    products: ProductColumns | None = None
    stages: list[StageSpec] = Field(min_length=2)
    dates: DateSettings = Field(default_factory=DateSettings)
    currency: CurrencySettings = Field(default_factory=CurrencySettings)
    decimal: Literal["auto", ".", ","] = "auto"
    observed_from: dt.date | None = None
    placeholder_ids: list[str] = Field(default_factory=lambda: ["000000000000000AAA", "000000000000000"])
    product_aliases: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _stages(self) -> Mapping:
        kinds = [s.kind for s in self.stages]
        if "open" not in kinds:
            raise ValueError("stages need at least one open stage (a deal still being worked)")
        if "won" not in kinds and self.opportunities.is_won is None and self.opportunities.status is None:
            raise ValueError("no stage has kind 'won' and there is no is_won or status column: nothing tells a "
                             "won deal")
        seen: dict[str, str] = {}
        ids: dict[str, str] = {}
        for s in self.stages:
            for value in [s.name, *s.aliases]:
                key = normalise(value)
                if key in seen:
                    raise ValueError(f"stage value '{value}' is listed twice (stages '{seen[key]}' and '{s.name}')")
                seen[key] = s.name
            if s.scenario_id in ids:
                raise ValueError(f"stages '{ids[s.scenario_id]}' and '{s.name}' get the same id "
                                 f"'{s.scenario_id}'; give one of them an explicit id")
            ids[s.scenario_id] = s.name
        names = {normalise(s.name) for s in self.stages} | {normalise(a) for s in self.stages for a in s.aliases}
        for stage in self.opportunities.stage_entered:
            if normalise(stage) not in names:
                raise ValueError(f"opportunities.stage_entered names unknown stage '{stage}'")
        created = self.opportunities.created_stage
        if created and normalise(created) not in names:
            raise ValueError(f"opportunities.created_stage names unknown stage '{created}'")
        return self

    def stage_lookup(self) -> dict[str, StageSpec]:
        """Normalised export value (name or alias) -> stage."""
        return {normalise(v): s for s in self.stages for v in [s.name, *s.aliases]}

    @property
    def open_stages(self) -> list[StageSpec]:
        """Open stages in funnel order."""
        return [s for s in self.stages if s.kind == "open"]


_PRESETS = "presets"


def preset_names() -> list[str]:
    """Names of the mapping presets shipped with the package.

    Examples
    --------
    >>> {"salesforce", "salesforce-report", "hubspot", "pipedrive", "maven"} <= set(preset_names())
    True
    """
    root = resources.files("calibration").joinpath(_PRESETS)
    return sorted(p.name.removesuffix(".toml") for p in root.iterdir() if p.name.endswith(".toml"))


def load_mapping(*, preset: str | None = None, path: str | Path | None = None) -> Mapping:
    """Read a mapping from a preset name or a TOML file.

    Raises
    ------
    CalibrationError
        Unknown preset, unreadable file, invalid TOML or an invalid key (named with its dotted path).

    Examples
    --------
    >>> load_mapping(preset="maven").opportunities.id
    'opportunity_id'
    """
    if (preset is None) == (path is None):
        raise CalibrationError(Problem("--preset/--mapping", "give exactly one of --preset NAME and --mapping FILE",
                                       f"presets: {', '.join(preset_names())}"))
    if preset is not None:
        if preset not in preset_names():
            raise CalibrationError(Problem("--preset", f"'{preset}' is not a preset",
                                           f"use one of {', '.join(preset_names())}, or --mapping FILE.toml",
                                           value=preset))
        label = f"preset {preset}"
        data = resources.files("calibration").joinpath(_PRESETS, f"{preset}.toml").read_bytes()
    else:
        assert path is not None
        label = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise CalibrationError(Problem(label, f"cannot be read ({exc.strerror})",
                                           "give the path of a mapping TOML file")) from None
    try:
        raw = tomllib.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CalibrationError(Problem(label, "is not UTF-8 text", "save the mapping as UTF-8")) from None
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise CalibrationError(Problem(label, f"is not valid TOML ({exc})", "fix the syntax",
                                       line=int(match.group(1)) if match else None)) from None
    try:
        return Mapping.model_validate(raw)
    except ValidationError as exc:
        raise CalibrationError(settings_problems(exc, label)) from None
