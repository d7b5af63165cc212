"""Batch runs: many planning questions from one TOML plan, as tasks on dask.distributed.

:mod:`~integrationsatlas.batch.plan` reads the plan (areas × layers × modes ×
thresholds × scenarios) into requests; :mod:`~integrationsatlas.batch.run`
answers them on a local or existing dask cluster with the one pipeline;
:mod:`~integrationsatlas.batch.folder` keeps the results (GeoParquet per
task) and the summary table. The CLI is ``integrationsatlas batch PLAN.toml``.
"""

from integrationsatlas.batch.folder import BatchFolder
from integrationsatlas.batch.plan import BatchPlan, Task, read_plan
from integrationsatlas.batch.run import BatchOutcome, run_batch

__all__ = ["BatchFolder", "BatchOutcome", "BatchPlan", "Task", "read_plan", "run_batch"]
