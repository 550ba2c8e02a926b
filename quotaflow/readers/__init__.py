"""Which evaluation step reads each scenario setting, and the check that every what-if reaches what a command runs.

A what-if (``--set path=value`` of ``simulate`` and ``compare``, a swept path of ``sweep``) means something only
if a step the command runs reads that path: the simulator never sees ``budget.total``, an ``[optimizer]`` weight
matters only when accounts are re-allocated, and ``[behaviour]`` reaches no rep on a flat commission. `FAMILIES`
maps every settings path family and every table column to the steps that read it (found by reading the code; each
entry's note says where), `check_whatifs` refuses a what-if that no step of the run reads, naming the command or
flag that does read it, and `sweep_steps` decides which optional steps (quotas, budget) a sweep runs at every
point. ``tests/quotaflow/test_readers.py`` proves the table: a what-if on every family moves a result at a fixed
seed where the table says it is read, and leaves every figure unchanged where it says it is not.
"""

from __future__ import annotations

from quotaflow.readers._check import check_whatifs, sweep_steps
from quotaflow.readers._docs import markdown
from quotaflow.readers._families import FAMILIES, Family, family_of
from quotaflow.readers._steps import Evaluation, Step

__all__ = ["FAMILIES", "Evaluation", "Family", "Step", "check_whatifs", "family_of", "markdown", "sweep_steps"]
