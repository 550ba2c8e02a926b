"""quotaflow's application layer: the CLI, runs that join the optimizer and the simulator, comparisons,
sweeps, exports and plots. It is the only package that knows both engines.
"""

from __future__ import annotations

from quotaflow.exit_codes import ExitCode
from quotaflow.output import OutputClaim, OutputError, claim_output, staged_output
from quotaflow.overview import overview, overview_text
from quotaflow.writer import neutralise, write_csv, write_json

__all__ = ["ExitCode", "OutputClaim", "OutputError", "claim_output", "neutralise", "overview", "overview_text",
           "staged_output", "write_csv", "write_json"]
