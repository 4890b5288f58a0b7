"""The contract every engine keeps, as a reusable test base.

An engine's test class subclasses :class:`EngineContractTests` and provides three
pytest fixtures: ``engine`` (an instance), ``dataset`` (one it can execute on,
quickly) and ``config`` (a small grid for that engine). The base then proves
what the workspace relies on: concrete, distinct, JSON-serializable specs; a
completed result whose metrics and prediction blocks agree; fitted steps; a
picklable engine; and identical numbers when a spec is executed twice.
"""

from __future__ import annotations

import json
import pickle
from typing import Any

import numpy as np
import pytest

from nirs4all_workspace.engines.base import (
    DatasetLike,
    Engine,
    PipelineResult,
    PipelineSpec,
)
from nirs4all_workspace.engines.declaration import EngineDeclaration, dataset_task, declaration_of_engine
from nirs4all_workspace.experiment import resolve_metric

GENERATOR_KEYS = ("_or_", "_range_", "_log_range_")


def generator_keys_in(node: Any) -> list[str]:
    """Every generator key left anywhere in a nested structure."""
    found: list[str] = []
    if isinstance(node, dict):
        found.extend(key for key in node if key in GENERATOR_KEYS)
        for value in node.values():
            found.extend(generator_keys_in(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(generator_keys_in(item))
    return found


def result_numbers(result: PipelineResult) -> dict[str, Any]:
    """The numbers of a result (metrics, folds, predictions), comparable with ``==``."""
    return {
        "metrics": result.metrics,
        "folds": result.folds,
        "blocks": [
            (
                b.partition,
                b.fold,
                np.asarray(b.y_true).tolist(),
                np.asarray(b.y_pred).tolist(),
                np.asarray(b.sample_ids).tolist(),
                b.metrics,
            )
            for b in result.predictions
        ],
        "classes": result.classes,
    }


class EngineContractTests:
    """Tests any engine must pass; subclass and provide ``engine``, ``dataset`` and ``config``."""

    @pytest.fixture
    def specs(self, engine: Any, config: Any) -> list[PipelineSpec]:
        return engine.expand(config)

    @pytest.fixture
    def result(self, engine: Any, specs: list[PipelineSpec], dataset: Any) -> PipelineResult:
        return engine.execute(specs[0], dataset)

    def test_engine_implements_the_protocol(self, engine: Any) -> None:
        assert isinstance(engine, Engine)
        assert isinstance(engine.name, str)
        assert engine.name

    def test_dataset_is_dataset_like(self, dataset: Any) -> None:
        assert isinstance(dataset, DatasetLike)
        assert dataset.n_samples >= 2
        assert dataset.n_features >= 1
        assert dataset.name

    def test_expand_returns_indexed_specs(self, specs: list[PipelineSpec]) -> None:
        assert len(specs) >= 1
        assert all(isinstance(spec, PipelineSpec) for spec in specs)
        assert [spec.index for spec in specs] == list(range(len(specs)))

    def test_spec_configs_are_concrete_json(self, specs: list[PipelineSpec]) -> None:
        for spec in specs:
            text = json.dumps(spec.config, sort_keys=True, allow_nan=False)
            assert json.loads(text) == spec.config
            assert generator_keys_in(spec.config) == []

    def test_spec_configs_are_distinct(self, specs: list[PipelineSpec]) -> None:
        canonical = [json.dumps(spec.config, sort_keys=True) for spec in specs]
        assert len(set(canonical)) == len(canonical)

    def test_spec_descriptions_are_filled(self, specs: list[PipelineSpec]) -> None:
        for spec in specs:
            assert spec.params, f"spec {spec.index} has no params"
            json.dumps(spec.params, allow_nan=False)
            assert spec.model
            assert isinstance(spec.preprocessing, str)
            assert spec.preprocessing

    def test_expand_is_repeatable(self, engine: Any, config: Any, specs: list[PipelineSpec]) -> None:
        again = engine.expand(config)
        assert [s.config for s in again] == [s.config for s in specs]
        assert [s.name for s in again] == [s.name for s in specs]

    def test_execute_completes(self, result: PipelineResult) -> None:
        assert result.status == "completed"
        assert result.error is None
        assert result.task
        assert result.duration_s > 0

    @pytest.fixture
    def declaration(self, engine: Any) -> EngineDeclaration:
        return declaration_of_engine(engine)

    def test_metrics_match_prediction_blocks(
        self, result: PipelineResult, declaration: EngineDeclaration
    ) -> None:
        whole = {b.partition: b for b in result.predictions if b.fold is None}
        assert set(whole) == set(result.metrics)
        assert "val" in result.metrics or "test" in result.metrics
        for partition, block in whole.items():
            assert block.metrics == result.metrics[partition]
            assert set(block.metrics) <= set(declaration.metrics), "every metric needs a declared direction"
            assert block.metrics
        fold_scores = [b.metrics for b in result.predictions if b.fold is not None]
        assert fold_scores == result.folds

    def test_prediction_arrays_have_matching_lengths(self, result: PipelineResult) -> None:
        assert result.predictions
        for block in result.predictions:
            n = len(block.y_true)
            assert n > 0
            assert np.asarray(block.y_pred).shape == (n,)
            assert np.asarray(block.sample_ids).shape == (n,)

    def test_fitted_steps_are_present(self, result: PipelineResult) -> None:
        assert result.fitted
        steps = [f.step for f in result.fitted]
        assert steps == sorted(set(steps))
        assert all(f.operator and f.obj is not None for f in result.fitted)

    def test_engine_pickles(self, engine: Any, config: Any, specs: list[PipelineSpec]) -> None:
        clone = pickle.loads(pickle.dumps(engine))
        assert clone.name == engine.name
        assert [s.config for s in clone.expand(config)] == [s.config for s in specs]

    def test_execute_is_deterministic(self, engine: Any, specs: list[PipelineSpec], dataset: Any) -> None:
        first = engine.execute(specs[-1], dataset)
        second = engine.execute(specs[-1], dataset)
        assert result_numbers(first) == result_numbers(second)

    def test_default_metric_is_reported(
        self, engine: Any, result: PipelineResult, declaration: EngineDeclaration
    ) -> None:
        metric, direction = engine.default_metric(result.task)
        assert declaration.metrics[metric] == direction
        assert declaration.default_metric(result.task) == (metric, direction)
        assert result.task in declaration.tasks
        assert all(metric in scores for scores in result.metrics.values())

    def test_declaration_is_consistent(self, engine: Any, declaration: EngineDeclaration) -> None:
        assert declaration.name == engine.name
        assert declaration.tasks
        for task in declaration.tasks:
            metric, direction = declaration.default_metric(task)
            assert engine.default_metric(task) == (metric, direction)
        if declaration.demo_dataset:
            assert engine.demo_dataset().name == declaration.demo_dataset

    def test_default_config_expands_for_every_task(self, engine: Any, declaration: EngineDeclaration) -> None:
        for task in declaration.tasks:
            assert len(engine.expand(engine.default_config(task=task))) >= 1

    def test_demo_runs_as_the_cli_calls_it(self, engine: Any) -> None:
        """``nirs4all run --engine NAME`` with no dataset and no pipeline, call for call."""
        data = engine.demo_dataset()
        task = dataset_task(engine, data)
        metric, direction, partition = resolve_metric(engine, task, None)
        specs = engine.expand(engine.default_config(task=task))
        assert specs
        result = engine.execute(specs[0], data)
        assert result.status == "completed"
        assert metric in result.metrics[partition]
        assert direction in ("min", "max")
