"""Benchmarks of nirs4all-workspace, side by side with MLflow where it is installed.

Run ``python -m bench --quick`` (under 2 minutes) or ``python -m bench`` (the
full sizes), from the repository root; ``--json PATH`` writes the summary.
"""
