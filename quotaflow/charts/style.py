"""What every chart quotaflow draws shares: the `Chart` a report shows, `MissingData` for a table a folder lacks, the
Okabe-Ito palette, money axes, titles that never break between a number and its unit, and PNG rendering.
Colours are the Okabe-Ito palette, distinguishable with the common colour-vision deficiencies (Okabe & Ito 2008,
"Color Universal Design"; the palette Wong 2011, Nature Methods 8:441, recommends). Figures are drawn without
pyplot (``matplotlib.figure.Figure`` renders with Agg), so a notebook's backend is untouched.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from quotaflow.decision import format_amount

__all__ = ["OKABE_ITO", "Chart", "MissingData", "colour", "money_axis", "png_bytes", "require", "wrap_title"]

OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe-Ito colours, blue first; yellow comes late as it is faint on white."""

_DPI = 110


class MissingData(LookupError):
    """The folder lacks the table a chart needs; the message is the one-line note the report shows."""


@dataclass(frozen=True, eq=False)
class Chart:
    """One chart of the report: its key, the finding its title states, how to read it, and the figure."""

    key: str
    title: str
    caption: str
    figure: Figure

    @cached_property
    def png(self) -> bytes:
        """The figure as PNG bytes (rendered once)."""
        return png_bytes(self.figure)


def png_bytes(fig: Figure, dpi: int = _DPI, *, tight: bool = False) -> bytes:
    """``fig`` rendered as PNG (Agg); ``tight`` crops to the drawn area (for figures without constrained layout,
    whose labels would otherwise be clipped)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
    return buf.getvalue()


def colour(i: int) -> str:
    """The ``i``-th Okabe-Ito colour (cycling)."""
    return OKABE_ITO[i % len(OKABE_ITO)]


def money_axis(ax: Axes, currency: str, axis: str = "y", *, signed: bool = False) -> None:
    """K / M tick labels (the axis label names the currency, so ticks stay short), at most 5 of them."""
    fmt = FuncFormatter(lambda v, _pos: format_amount(float(v), signed=signed) if v else "0")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(5))
    target.set_major_formatter(fmt)


def wrap_title(text: str, width: int = 110) -> str:
    """``text`` wrapped to ``width`` characters, never between a number and its unit."""
    # a no-break space keeps "29.2 %" and "+806 K" on one line (textwrap breaks only at ASCII whitespace)
    return "\n".join(textwrap.wrap(re.sub(r"(\d) (%|pp\b|K\b|M\b|B\b)", "\\1\u00a0\\2", text), width))


def require(frame: pd.DataFrame | None, what: str, columns: Sequence[str] = ()) -> pd.DataFrame:
    """``frame`` when it holds ``columns``; else `MissingData` naming ``what`` is missing."""
    if frame is None or not len(frame):
        raise MissingData(f"{what}: the folder holds no such table")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MissingData(f"{what}: the table lacks column(s) {', '.join(missing)}")
    return frame
