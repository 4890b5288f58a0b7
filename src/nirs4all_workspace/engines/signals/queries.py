"""What ``nirs4all analytics`` and ``nirs4all replay`` do: read what the workspace stored.

Each function opens the stored files (``_analytics/``, ``signals.parquet``,
``_classifiers/``, the catalog) through the workspace layout and returns plain
values; the CLI only renders them. Nothing here writes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ...errors import InputError, IntegrityError, PipelineNotFound
from ...facade import Workspace
from .analytics import ANALYTICS_FOLDER
from .bars import Bars, load_bars
from .cache import CLASSIFIERS_FOLDER, dataset_cache
from .engine import METRIC_DIRECTIONS
from .evaluate import METRICS
from .replay import replay
from .sparse import SparseSignal, read_regime_table, read_signal_table

ENGINE = "signals"
REGIME_METRIC = "regime_aware_sharpe"  # ranks regime cells by their sharpe


def _analytics_file(ws: Workspace, dataset: str, name: str) -> Path:
    path = ws.layout.dataset_shared_file(dataset, f"{ANALYTICS_FOLDER}/{name}")
    if not path.is_file():
        if not ws.layout.dataset_dir(dataset).is_dir():
            known = ", ".join(ws.datasets()) or "none"
            raise PipelineNotFound(f"no dataset {dataset!r} in {ws.layout.runs_dir}; datasets: {known}")
        raise PipelineNotFound(
            f"dataset {dataset!r} has no analytics ({path} is missing); "
            f"run 'nirs4all run --engine signals --dataset ...' to compute them"
        )
    return path


def analytics_table(ws: Workspace, dataset: str, name: str) -> pl.DataFrame:
    """One of ``performance_matrix``, ``regime_performance``, ``correlation_matrix``."""
    return pl.read_parquet(_analytics_file(ws, dataset, f"{name}.parquet"))


def summary(ws: Workspace, dataset: str) -> dict[str, Any]:
    """``summary_stats.json`` of a dataset."""
    return json.loads(_analytics_file(ws, dataset, "summary_stats.json").read_text(encoding="utf-8"))


def _check_metric(metric: str, columns: Sequence[str]) -> None:
    if metric not in columns:
        known = [c for c in columns if c in METRIC_DIRECTIONS]
        raise InputError(f"unknown metric {metric!r}; choose one of: {', '.join(known)}")


def analyze_grid(
    ws: Workspace, dataset: str, metric: str = REGIME_METRIC, top: int = 10, min_trades: int = 10
) -> pl.DataFrame:
    """The ``top`` rows of the grid by ``metric``, best first.

    ``regime_aware_sharpe`` (default) ranks variant x classifier x regime cells
    by the sharpe of the trades opened in the regime (cells with fewer than
    ``min_trades`` trades are left out); any other metric ranks the variants.
    """
    if top < 1:
        raise InputError("--top must be at least 1")
    if metric == REGIME_METRIC:
        frame = analytics_table(ws, dataset, "regime_performance").filter(pl.col("n_trades") >= min_trades)
        frame = frame.rename({"sharpe": REGIME_METRIC})
    else:
        frame = analytics_table(ws, dataset, "performance_matrix")
    _check_metric(metric, frame.columns)
    descending = METRIC_DIRECTIONS.get(metric, "max") == "max"
    usable = frame.filter(pl.col(metric).is_not_null() & pl.col(metric).is_finite())
    return usable.sort(metric, descending=descending).head(top)


def scan(
    roots: Sequence[Path | str | None],
    min_sharpe: float | None = None,
    metric: str = "sharpe",
    dataset: str | None = None,
    top: int | None = None,
) -> pl.DataFrame:
    """Signals variants of every dataset of every workspace in ``roots``, best ``metric`` first.

    Reads each workspace's catalog (so deleted runs that were archived still
    count). ``min_sharpe`` keeps the variants whose sharpe is at least that.
    """
    frames = []
    for root in roots or [None]:
        ws = Workspace.open(root, create=False)
        frame = ws.predictions.frame(dataset=dataset, partition="val", status="completed")
        frame = frame.filter(pl.col("engine") == ENGINE)
        if frame.height:
            frames.append(frame.with_columns(pl.lit(str(ws.root)).alias("workspace")))
    if not frames:
        return pl.DataFrame(schema={"workspace": pl.String, "dataset": pl.String})
    frame = pl.concat(frames, how="diagonal_relaxed")
    _check_metric(metric, frame.columns)
    if min_sharpe is not None:
        frame = frame.filter(pl.col("sharpe") >= min_sharpe)
    front = ["workspace", "dataset", "pipeline_folder", "pipeline_name", "model", "preprocessing"]
    metrics = [c for c in (*METRICS, REGIME_METRIC) if c in frame.columns]
    frame = frame.select(front + metrics + ["params", "session", "created_at"])
    frame = frame.sort(metric, descending=METRIC_DIRECTIONS.get(metric) == "max", nulls_last=True)
    return frame.head(top) if top else frame


# -- replay ---------------------------------------------------------------------


@dataclass
class StoredSignal:
    """One stored strategy variant, ready to replay."""

    folder: str
    variant: str
    record: dict[str, Any]
    signal: SparseSignal
    meta: dict[str, Any]
    metrics: dict[str, Any]


@dataclass
class ReplayReport:
    """What ``nirs4all replay`` prints."""

    dataset: str
    members: list[dict[str, Any]]
    regime: dict[str, Any] | None
    weights: list[float]
    fees: float
    metrics: dict[str, float]
    changes: int
    events: int
    total_bars: int
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "members": self.members,
            "regime": self.regime,
            "weights": self.weights,
            "fees": self.fees,
            "metrics": self.metrics,
            "changes": self.changes,
            "events": self.events,
            "total_bars": self.total_bars,
            "notes": self.notes,
        }


def _completed(ws: Workspace, dataset: str) -> list[dict[str, Any]]:
    records = []
    for folder in ws.manifests.list_folders(dataset):
        if ws.manifests.status(dataset, folder.folder) == "completed":
            records.append(ws.manifests.read_pipeline(dataset, folder.folder))
    return records


def stored_signal(ws: Workspace, dataset: str, reference: str) -> StoredSignal:
    """A variant by folder name, number, hash or variant name (``ma_5_20``: its newest run)."""
    try:
        folder = ws.manifests.resolve(dataset, reference)
        record = ws.manifests.read_pipeline(dataset, folder)
    except PipelineNotFound:
        named = [r for r in _completed(ws, dataset) if r.get("name") == reference]
        if not named:
            raise PipelineNotFound(
                f"no strategy {reference!r} in dataset {dataset!r}; give a variant name (ma_5_20), "
                f"a folder, a number or a hash ('nirs4all analytics summary {dataset}' lists the best)"
            ) from None
        record = named[-1]
        folder = record["folder"]
    if record.get("engine") != ENGINE:
        raise InputError(f"{dataset}/{folder} was run by engine {record.get('engine')!r}, not by signals")
    paths = ws.layout.pipeline(dataset, folder)
    path = paths.engine_file("signals.parquet")
    try:
        signal, meta = read_signal_table(path)
    except Exception as exc:  # missing, truncated or foreign file: pyarrow, JSON or key errors
        raise IntegrityError(
            f"{path} is not a readable signals table ({type(exc).__name__}: {exc}); "
            "run 'nirs4all workspace verify' or run the strategy again"
        ) from None
    metrics = json.loads(paths.metrics_json.read_text(encoding="utf-8")).get("val", {})
    return StoredSignal(folder, record.get("name") or folder, record, signal, meta, metrics)


def parse_regime(text: str) -> tuple[str, str]:
    """``CLASSIFIER=LABEL`` -> (classifier, label); InputError otherwise."""
    classifier, sep, label = (text or "").partition("=")
    if not sep or not classifier.strip() or not label.strip():
        raise InputError(f"--regime {text!r} must be CLASSIFIER=LABEL, e.g. vol_30_390_1.25=low")
    return classifier.strip(), label.strip()


def _regimes(ws: Workspace, dataset: str, member: StoredSignal, classifier: str) -> Any:
    shared = member.record.get("dataset_files") or []
    prefix = f"{CLASSIFIERS_FOLDER}/{classifier}_"
    found = [name for name in shared if name.startswith(prefix) and name[len(prefix) :].count("_") == 0]
    if not found:
        known = sorted({n.split("/", 1)[1].rsplit("_", 1)[0] for n in shared})
        raise InputError(
            f"{member.folder} was not evaluated with classifier {classifier!r}; "
            f"its classifiers are: {', '.join(known) or 'none'}"
        )
    return read_regime_table(ws.layout.dataset_shared_file(dataset, found[0]))[0]


def bars_for(
    ws: Workspace, dataset: str, fingerprint: str, session: str | None, data: Path | str | None = None
) -> Bars:
    """The bars the stored signals were computed on: ``data``, else the source the session recorded."""
    from ...workspace.dataset_info import dataset_info
    from .demo import DEMO_NAME, make_demo_bars

    candidates: list[str] = [str(data)] if data else []
    if not data:
        info = dataset_info(ws.layout, dataset, session)
        candidates += [info.source] if info is not None else []
    for source in candidates:
        if source == "builtin:demo":
            bars = make_demo_bars(name=DEMO_NAME)
        elif source and (Path(source).is_file() or source.endswith("]")):
            bars = load_bars(source)
        else:
            continue
        if bars.fingerprint == fingerprint:
            return bars
    where = f"'{data}'" if data else "the source recorded by the run"
    raise InputError(
        f"the bars of {where} are not the ones the signals of {dataset!r} were computed on "
        f"(fingerprint {fingerprint}); give the same data with --data"
    )


def replay_stored(
    ws: Workspace,
    dataset: str,
    strategies: Sequence[str],
    regime: str | None = None,
    weights: Sequence[float] | None = None,
    data: Path | str | None = None,
    fees: float | None = None,
    bars: Bars | None = None,
) -> ReplayReport:
    """Replay stored signals of ``dataset``: regime-filtered (``CLASSIFIER=LABEL``), weighted.

    Raises InputError / PipelineNotFound naming what is missing.
    """
    if not strategies:
        raise InputError("give at least one strategy with --strategies")
    if weights is not None and len(weights) != len(strategies):
        raise InputError(f"{len(strategies)} strategies but {len(weights)} weights; give one weight each")
    members = [stored_signal(ws, dataset, ref) for ref in strategies]
    fingerprints = {m.meta.get("data_fingerprint") for m in members}
    if len(fingerprints) != 1:
        raise InputError("these strategies were computed on different bars; replay them separately")
    fingerprint = fingerprints.pop()
    if bars is None or bars.fingerprint != fingerprint:
        bars = bars_for(ws, dataset, fingerprint, members[0].record.get("session"), data)
    config = members[0].record["config"]
    fee = float(config.get("fees", 0.0)) if fees is None else float(fees)
    ctx = dataset_cache(bars).context(float(config.get("bars_per_year") or bars.bars_per_year))
    target, regimes, regime_info = None, None, None
    if regime:
        classifier, label = parse_regime(regime)
        regimes = _regimes(ws, dataset, members[0], classifier)
        try:
            target = regimes.code_of(label)
        except ValueError as exc:
            raise InputError(f"classifier {classifier!r}: {exc}") from None
        regime_info = {"classifier": classifier, "regime": label}
    result = replay(ctx, [m.signal for m in members], regimes, target, weights, fee)
    used = list(weights) if weights is not None else [1.0 / len(members)] * len(members)
    return ReplayReport(
        dataset=dataset,
        members=[
            {
                "folder": m.folder,
                "variant": m.variant,
                "weight": w,
                "changes": m.signal.changes,
                **{f"stored_{k}": m.metrics.get(k) for k in ("sharpe", "total_return", "n_trades")},
            }
            for m, w in zip(members, used, strict=True)
        ],
        regime=regime_info,
        weights=used,
        fees=fee,
        metrics=result.evaluation.metrics,
        changes=result.signal.changes,
        events=result.events,
        total_bars=bars.n_samples,
    )
