"""Multi-phase workflows: a YAML file of phases run as one resumable command (docs/workflows.md)."""

from __future__ import annotations

from .runner import WorkflowReport, run_workflow, workflow_status
from .spec import PhaseSpec, WorkflowSpec, load_workflow
from .state import list_workflows

__all__ = [
    "PhaseSpec",
    "WorkflowReport",
    "WorkflowSpec",
    "list_workflows",
    "load_workflow",
    "run_workflow",
    "workflow_status",
]
