"""``nirs4all run --from-zip``: run the pipelines of a zip again and compare the scores.

A ``fullrun`` zip carries its training data (read in memory, checked against
its fingerprint) and the concrete configuration of every pipeline; running
them again into a workspace gives the same scores, because the engine seeds
everything (``docs/configuration.md``). Other zips need ``--dataset``.

The configurations of a zip are untrusted input too: building a step may
instantiate a class, so the engine that made the zip checks them
(``untrusted_classes``: what it would not create from an untrusted zip unless
the user passes ``--trust``). Engines that do not declare the ``rerun`` capability are refused.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ArchiveRefused, InputError, TrustRequired
from ..experiment import ExperimentReport, run_experiment
from ..facade import Workspace
from ..workspace.dataset_info import fingerprint
from .contents import TrainedZip, config_refusal, open_trained
from .zip_engine import zip_engine

RELATIVE_TOLERANCE = 1e-9


@dataclass
class ScoreComparison:
    """One pipeline of the zip: its recorded score and the score of the re-run."""

    folder: str
    new_folder: str | None
    metric: str
    partition: str
    recorded: float | None
    rerun: float | None

    @property
    def same(self) -> bool:
        if self.recorded is None or self.rerun is None:
            return self.recorded is None and self.rerun is None
        return math.isclose(self.recorded, self.rerun, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)


@dataclass
class Reproduction:
    """The session that re-ran a zip, and how its scores compare."""

    report: ExperimentReport
    comparisons: list[ScoreComparison] = field(default_factory=list)
    same_data: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def all_same(self) -> bool:
        return all(c.same for c in self.comparisons)


def check_config_classes(config: Any, label: str, trust: bool, engine: Any = None) -> list[str]:
    """Refuse classes a configuration would instantiate unless trusted; returns warnings.

    The engine lists and vets them (optional ``untrusted_classes(config, trusted)``;
    ``engine`` defaults to the default engine) without importing any untrusted module.
    Raises TrustRequired for what it would not create without ``--trust``.
    """
    from .safe_objects import trusted_types

    if engine is None:
        from ..engines.registry import get_engine

        engine = get_engine()
    vet = getattr(engine, "untrusted_classes", None)
    refused = list(dict.fromkeys(vet(config, trusted_types()))) if vet is not None else []
    if refused and not trust:
        raise TrustRequired(config_refusal(label, sorted(refused)))
    return [f"{label}: creating {path} because of --trust" for path in sorted(refused)]


def _zip_dataset(trained: TrainedZip, engine: Any) -> Any:
    data = trained.manifest["data"]
    dataset = engine.dataset_from_files(
        str(data.get("name") or (trained.manifest.get("source") or {}).get("dataset") or "dataset"),
        f"zip:{trained.label}",
        trained.data_files(),
        data.get("target"),
        data.get("task"),
    )
    if fingerprint(dataset) != data.get("fingerprint"):
        raise ArchiveRefused(f"{trained.label}: its training data does not match its recorded fingerprint")
    return dataset


def rerun_zip(
    ws: Workspace,
    source: Path,
    *,
    dataset: Any | None = None,
    session: str | None = None,
    n_jobs: int = 1,
    metric: str | None = None,
    trust: bool = False,
    progress: Callable[..., None] | None = None,
    **run_options: Any,
) -> Reproduction:
    """Run every pipeline of zip ``source`` on its training data (or ``dataset``) into ``ws``.

    Raises ArchiveRefused/TrustRequired for an unsafe zip, InputError for a zip
    without data and no ``dataset``. Scores are compared when the data is the
    data the zip was fitted on. ``run_options`` go to ``run_experiment`` (e.g. ``plots``).
    """
    trained = open_trained(Path(source))
    engine = zip_engine(trained.label, trained.predict_info.get("engine"), "rerun")
    # Objects and configurations: every class a configuration names is vetted before any is imported.
    notes = trained.require_trust(trust)
    configs = list(trained.configs().values())
    if dataset is None:
        if trained.kind != "fullrun":
            raise InputError(
                f"{trained.label} is a {trained.kind!r} zip without training data; give --dataset, or "
                "use a fullrun zip (library save --type fullrun, export --include-data)"
            )
        dataset = _zip_dataset(trained, engine)
    recorded_fp = (trained.manifest.get("data") or {}).get("fingerprint") or trained.predict_info.get(
        "dataset_fingerprint"
    )
    specs = [spec for config in configs for spec in engine.expand(config)]
    config_record: Any = configs[0] if len(configs) == 1 else configs
    report = run_experiment(
        ws,
        engine,
        dataset,
        config_record,
        session=session,
        n_jobs=n_jobs,
        metric=metric,
        specs=specs,
        progress=progress,
        **run_options,
    )
    result = Reproduction(report, same_data=recorded_fp is not None and fingerprint(dataset) == recorded_fp)
    result.notes = notes
    score = trained.manifest.get("score") or {}
    metric_name, partition = score.get("metric") or report.metric, score.get("partition") or "val"
    by_hash = {saved.record["hash"]: saved for saved in report.saved}
    for entry in trained.pipelines:
        saved = by_hash.get(entry.get("hash"))
        recorded = (entry.get("metrics") or {}).get(partition, {}).get(metric_name)
        result.comparisons.append(
            ScoreComparison(
                folder=entry["folder"],
                new_folder=saved.handle.folder if saved else None,
                metric=metric_name,
                partition=partition,
                recorded=recorded,
                rerun=saved.score(metric_name, partition) if saved else None,
            )
        )
    return result
