"""The goals table of docs/benchmarks.md from one ``python -m bench --json`` summary.

``python -m bench.to_markdown SUMMARY.json [-o OUT.md]`` (or ``python -m bench --markdown OUT.md``)
writes the machine, the date, the load average before and after the run, one row per
gate of that run (the figure measured, and ``met`` / ``missed`` exactly as the bench's
own gates printed ``ok`` / ``MISSED``), the 1,000-run reference table and the figures of
the 100,000-pipeline dataset. Nothing is typed by hand, so the tables cannot disagree
with the run.

When OUT.md exists and holds the two markers below (docs/benchmarks.md does), only the
text between them is replaced.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Figure = Callable[[dict[str, Any]], str]
START = "<!-- bench:generated:start (python -m bench --markdown docs/benchmarks.md) -->"
END = "<!-- bench:generated:end -->"


def _get(summary: dict[str, Any], *keys: str) -> Any:
    value: Any = summary
    for key in keys:
        value = value[key]
    return value


def _ms(*keys: str) -> Figure:
    return lambda s: f"{_get(s, *keys):.2f} ms"


def _s(*keys: str) -> Figure:
    return lambda s: f"{_get(s, *keys):.3f} s"


def _times(*keys: str) -> Figure:
    return lambda s: f"×{_get(s, *keys):.1f}"


def _on_rows(key: str) -> Figure:
    return lambda s: f"{s['catalog'][key]:.2f} ms on {s['catalog']['rows']:,} rows"


def _sweep(name: str) -> Figure:
    def figure(s: dict[str, Any]) -> str:
        part = s["sweeps"][name]
        return f"×{part['ratio']:.1f} ({part['plain_loop_s']:.2f} s / {part['ours_s']:.2f} s)"

    return figure


def _bookkeeping(kind: str) -> Figure:
    def figure(s: dict[str, Any]) -> str:
        ratio = s["ratios"][f"bookkeeping_vs_mlflow_{kind}_ratio"]
        if ratio is None:
            return "MLflow not installed"
        theirs = s["reference"][f"mlflow_{kind}"]["logging_ms"]
        return f"×{ratio:.1f} ({s['reference']['ours']['bookkeeping_ms']:.2f} ms vs {theirs:.1f} ms)"

    return figure


def _growth(kind: str) -> Figure:
    def figure(s: dict[str, Any]) -> str:
        rows = s["scale"]["maintenance"]
        per = ", ".join(f"{m[f'{kind}_ms_per_1000']:.0f}" for m in rows)
        sizes = "/".join(f"{m['pipelines'] // 1000}k" for m in rows)
        return (
            f"{per} ms per 1,000 pipelines at {sizes} (×{s['scale'][f'{kind}_per_pipeline_growth']:.2f}; "
            f"fixed cost {s['scale']['maintenance_base'][f'{kind}_s']:.2f} s)"
        )

    return figure


# goal -> (what, target, the figure measured). Goals not listed here still get a row.
GOALS: dict[str, tuple[str, str, Figure]] = {
    "bookkeeping_ms<=1.5": (
        "bookkeeping per pipeline (200 predictions, no fit), median",
        "≤ 1.5 ms",
        _ms("reference", "ours", "bookkeeping_ms"),
    ),
    "bookkeeping>=20x_mlflow_file": (
        "… against MLflow's file store, same run",
        "≥ 20×",
        _bookkeeping("file"),
    ),
    "bookkeeping>=25x_mlflow_sqlite": (
        "… against MLflow's sqlite store, same run",
        "≥ 25×",
        _bookkeeping("sqlite"),
    ),
    "storage<=1/5_mlflow_file": (
        "workspace bytes against MLflow's file store (same content)",
        "≤ 1/5",
        lambda s: (
            "-"
            if s["ratios"]["storage_vs_mlflow_file_ratio"] is None
            else f"1/{s['ratios']['storage_vs_mlflow_file_ratio']:.1f}"
        ),
    ),
    "best_1M<=100ms": (
        "`best` for one dataset (1,000,000 rows in the full run)",
        "≤ 100 ms",
        _on_rows("best_ms"),
    ),
    "top10_1M<=100ms": ("filtered top-10", "≤ 100 ms", _on_rows("top10_filtered_ms")),
    "arrays_one<=50ms": ("arrays of one prediction", "≤ 50 ms", _on_rows("arrays_one_ms")),
    "append_150<=50ms": ("append 150 rows", "≤ 50 ms", _on_rows("append_150_ms")),
    "compact>=1M_rows_per_s": (
        "`catalog compact`",
        "≥ 1 M rows/s",
        lambda s: f"{s['catalog']['compact_rows_per_s'] / 1e6:.2f} M rows/s",
    ),
    "cli_best<=0.5s": (
        "`nirs4all catalog best`, 100,000 rows, whole process",
        "≤ 0.5 s",
        _s("cli", "catalog_best_process_s"),
    ),
    "run_overhead_j1<=5%": (
        "`nirs4all run` (`-j 1`, report included) over the plain loop fitting each pipeline (demo)",
        "≤ 5 %",
        lambda s: _overhead(s["run"]),
    ),
    "report_step<=0.3s": (
        "end-of-run report and figures (demo, inside that run)",
        "≤ 0.3 s",
        _s("run", "report_step_s"),
    ),
    "jobs_j2/j1<=1.05_every_grid": (
        "`-j 2` / `-j 1` wall time, worst grid (whole commands)",
        "≤ 1.05",
        lambda s: _worst_jobs(s["run"]["jobs"]),
    ),
    "jobs_j2>=1.7x_on_a_30s_grid": (
        "`-j 2` speed-up on a grid of ≥ 30 s",
        "≥ 1.7×",
        lambda s: _large_jobs(s["run"]["jobs"]),
    ),
    "signals_grid<60s": (
        "signals: 238 strategies × 65 classifiers end to end (best of `-j 1`, `-j 2`)",
        "< 60 s",
        lambda s: f"{min(s['signals']['run_j1']['seconds'], s['signals']['run_j2']['seconds']):.1f} s",
    ),
    "signals_grid<4GB": (
        "… peak memory",
        "< 4 GB",
        lambda s: (
            f"{max(s['signals']['run_j1']['peak_tree_mib'], s['signals']['run_j2']['peak_tree_mib']):.0f} MiB"
        ),
    ),
    "signals_replay>=48x": (
        "signals: replay against a per-bar loop",
        "≥ 48×",
        _times("signals", "replay", "speedup_vs_loop"),
    ),
    "signals_vectorbt_agree_1e-9": (
        "signals: agreement with vectorbt, long-only",
        "≤ 1e-9",
        lambda s: f"{max(s['signals']['vectorbt']['long_only_max_difference'].values()):.1e}",
    ),
    "sweeps_sweep>=20x": ("PLS sweep: plain loop / `run_experiment`", "≥ 20×", _sweep("sweep")),
    "sweeps_sweep_scores_1e-8": (
        "… scores against the plain loop",
        "≤ 1e-8",
        lambda s: f"{s['sweeps']['sweep']['max_rel_diff']:.1e}",
    ),
    "sweeps_demo>=5x": ("demo grid: plain loop / ours", "≥ 5×", _sweep("demo")),
    "sweeps_grid>=10x": ("preprocessings × PLS sizes: plain loop / ours", "≥ 10×", _sweep("grid")),
    "sweeps_cache_peak<=cap": (
        "preprocessing cache peak",
        "≤ its cap",
        lambda s: (
            f"{s['sweeps']['cache']['peak_bytes'] / 2**20:.0f} MiB of "
            f"{s['sweeps']['cache']['cap_bytes'] / 2**20:.0f} MiB"
        ),
    ),
    "scale_allocation_last<=1.5x_first": (
        "allocation of the last 1,000 pipelines against the first 1,000",
        "≤ 1.5×",
        lambda s: (
            f"×{s['scale']['allocate_last_over_first']:.2f} ({s['scale']['allocate_first_ms']:.3f} → "
            f"{s['scale']['allocate_last_ms']:.3f} ms)"
        ),
    ),
    "scale_runs_list<0.5s": ("`nirs4all runs list`, whole process", "< 0.5 s", _s("scale", "runs_list_s")),
    "scale_runs_show_top10<0.5s": (
        "`nirs4all runs show DS --top 10`, whole process",
        "< 0.5 s",
        _s("scale", "runs_show_top10_s"),
    ),
    "scale_catalog_best<0.5s": (
        "`nirs4all catalog best DS`, whole process",
        "< 0.5 s",
        _s("scale", "catalog_best_s"),
    ),
    "scale_verify_linear": ("`workspace verify`, time per pipeline", "flat (≤ 1.5×)", _growth("verify")),
    "scale_report_linear": ("`catalog report`, time per pipeline", "flat (≤ 1.5×)", _growth("report")),
}


SWEEP_PARTS = {  # issue-14 gates of bench/nirs_sweeps.py: which timings explain each ratio
    "sweep: whole `nirs4all run` vs plain loop": ("sweep", "cli_s"),
    "sweep: run_experiment vs plain loop": ("sweep", "ours_s"),
    "demo grid (78 pipelines)": ("demo", "ours_s"),
    "10 preprocessings x PLS 1..20": ("grid", "ours_s"),
}


def _declared_gate(summary: dict[str, Any], key: str) -> tuple[str, str, Figure]:
    """A gate a bench module declares with its own figure and target (``sweeps``), or the bare key."""
    name = key.removeprefix("sweeps_")
    gate = summary.get("sweeps", {}).get("gates", {}).get(name)
    if not key.startswith("sweeps_") or gate is None:
        return f"`{key}`", "", lambda _s: ""
    value, target = gate[0], gate[1].replace(">=", "≥").replace("<=", "≤")

    def figure(s: dict[str, Any]) -> str:
        if name in SWEEP_PARTS:
            part, ours = SWEEP_PARTS[name]
            numbers = s["sweeps"][part]
            return f"×{value:.1f} ({numbers['plain_loop_s']:.2f} s / {numbers[ours]:.2f} s)"
        if "bytes" in name:
            return f"{value / 2**20:.0f} MiB"
        return f"{value:.1e}"

    return f"PLS sweeps (issue 14): {name}", target, figure


def _overhead(run: dict[str, Any]) -> str:
    """The gate's figure, then the workspace's own cost over the same grouped fits (not a gate)."""
    text = f"{run['overhead_j1'] * 100:+.1f} % ({run['plain_loop_s']:.2f} s → {run['run_j1_s']:.2f} s)"
    if "own_cost_j1" in run:
        text += (
            f"; over the same grouped fits kept nowhere ({run['grouped_fits_s']:.2f} s): "
            f"{run['own_cost_j1'] * 100:+.0f} %, {run['own_cost_ms_per_pipeline']:.2f} ms a pipeline"
        )
    return text


def _worst_jobs(rows: list[dict[str, Any]]) -> str:
    worst = max(rows, key=lambda row: row["j2_over_j1"])
    return f"{worst['j2_over_j1']:.3f} ({worst['grid']})"


def _large_jobs(rows: list[dict[str, Any]]) -> str:
    large = [row for row in rows if row["j1_s"] >= 30]
    if not large:
        return "no grid of 30 s in this run"
    best = max(large, key=lambda row: row["j1_s"] / row["j2_s"])
    return f"×{best['j1_s'] / best['j2_s']:.2f} ({best['j1_s']:.1f} s → {best['j2_s']:.1f} s, {best['grid']})"


def _jobs(summary: dict[str, Any]) -> list[str]:
    rows = summary["run"]["jobs"]
    title = "`-j 2` against `-j 1` (`bench/run_overhead.py`; the decision is what `-j 2`'s run.log said):"
    lines = ["", title, ""]
    lines += ["| grid | `-j 1` | `-j 2` | `-j 2` / `-j 1` | decision |", "|---|---|---|---|---|"]
    for row in rows:
        decision = (row.get("decision") or "-").replace("|", "\\|")
        times = f"{row['j1_s']:.2f} s | {row['j2_s']:.2f} s | {row['j2_over_j1']:.3f}"
        lines.append(f"| {row['grid']} | {times} | {decision} |")
    limit = summary["run"].get("jobs_ceiling")
    if limit:
        lines += [
            "",
            f"The machine's own limit for demo-grid-large, measured in the same run: its fits alone "
            f"({limit['groups']} groups, nothing stored) take {limit['fits_one_process_s']:.1f} s in one "
            f"process and {limit['fits_two_processes_s']:.1f} s in two (one group at a time from one "
            f"queue): ×{limit['fits_ratio']:.2f} from a second process before any bookkeeping. "
            f"The whole command adds {limit['serial_s']:.1f} s that only the writing process does "
            f"(start-up, reading the data, writing the files): with it, about "
            f"×{limit['best_speedup']:.2f} is what two processes can give this grid here.",
        ]
    return lines


def _load(summary: dict[str, Any], key: str) -> str:
    load = summary.get(key)
    return "-" if not load else " / ".join(f"{x:.2f}" for x in load)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _reference(summary: dict[str, Any]) -> list[str]:
    ref = summary["reference"]
    ours, same = ref["ours"], ref["ours_same_content"]
    mfile, msql = ref.get("mlflow_file") or {}, ref.get("mlflow_sqlite") or {}
    rows = [
        (
            "logging per run, median (ms)",
            ours["bookkeeping_ms"],
            mfile.get("logging_ms"),
            msql.get("logging_ms"),
        ),
        ("… without predictions (ms)", same["bookkeeping_ms"], None, None),
        (
            "best run by test RMSE (s)",
            ours["best_query_s"],
            mfile.get("best_query_s"),
            msql.get("best_query_s"),
        ),
        ("files (same content)", same["files"], mfile.get("files"), msql.get("files")),
        ("bytes (same content)", same["bytes"], mfile.get("bytes"), msql.get("bytes")),
        ("disk, `du` (same content)", same["disk_bytes"], mfile.get("disk_bytes"), msql.get("disk_bytes")),
        (
            "identical artifact copies",
            ours["artifact_copies"],
            mfile.get("artifact_copies"),
            msql.get("artifact_copies"),
        ),
    ]
    lines = [
        "",
        f"{ref['n_runs']:,}-run reference (`bench/reference.py`):",
        "",
        f"| {ref['n_runs']:,} runs | ours | MLflow file store | MLflow sqlite store |",
        "|---|---|---|---|",
    ]
    lines += [f"| {label} | " + " | ".join(_fmt(v) for v in values) + " |" for label, *values in rows]
    return lines


def _scale(summary: dict[str, Any]) -> list[str]:
    scale = summary["scale"]
    listing = scale["listing"]
    lines = [
        "",
        f"{scale['pipelines']:,} pipelines in one dataset (`bench/scale_100k.py`), built in "
        f"{scale['build_s']:.0f} s; one save (allocation, files, catalog batch, best) "
        f"{scale['save_first_ms']:.3f} ms for the first {scale['first_last_window']:,}, "
        f"{scale['save_last_ms']:.3f} ms for the last.",
        "",
        "| pipelines | `workspace verify` | per 1,000 | `catalog report` | per 1,000 |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {m['pipelines']:,} | {m['verify_s']:.2f} s | {m['verify_ms_per_1000']:.0f} ms | "
        f"{m['report_s']:.2f} s | {m['report_ms_per_1000']:.0f} ms |"
        for m in scale["maintenance"]
    ]
    lines += [
        "",
        f"`runs/<dataset>/` holds {listing['entries']:,} entries: `os.scandir` lists them in "
        f"{listing['scandir_s'] * 1000:.0f} ms, and with a `stat` of each (what a file manager "
        f"shows) in {listing['scandir_and_stat_s'] * 1000:.0f} ms.",
    ]
    return lines


def render(summary: dict[str, Any]) -> str:
    """The markdown of one run: machine, load, the goals table and the detailed tables."""
    machine = summary["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in summary.get("versions", {}).items() if v)
    lines = [
        f"Run of `python -m bench{' --quick' if summary.get('quick') else ''}`: {machine['date']}, "
        f"{machine['cpu']} ({machine['cores']} cores, {machine['memory_gib']} GiB), "
        f"{machine['platform']}, Python {machine['python']}; {versions}.",
        "",
        f"Load average (1, 5, 15 min) before the run: {_load(summary, 'load_before')}; "
        f"after: {_load(summary, 'load_after')}.",
        "",
        "| goal | target | measured | |",
        "|---|---|---|---|",
    ]
    for key, met in summary["goals"].items():
        what, target, figure = GOALS.get(key) or _declared_gate(summary, key)
        try:
            measured = figure(summary)
        except (KeyError, TypeError, ZeroDivisionError):
            measured = "-"
        lines.append(f"| {what} | {target} | {measured} | {'met' if met else '**missed**'} |")
    for section in (_jobs, _reference, _scale):
        try:
            lines += section(summary)
        except (KeyError, TypeError):
            continue
    return "\n".join(lines) + "\n"


def write(text: str, output: Path) -> None:
    """Write ``text`` to ``output``, between the markers if the file has them."""
    if output.is_file():
        current = output.read_text()
        start, end = current.find(START), current.find(END)
        if 0 <= start < end:
            output.write_text(current[: start + len(START)] + "\n\n" + text + "\n" + current[end:])
            return
    output.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.to_markdown", description=__doc__)
    parser.add_argument("summary", type=Path, help="the JSON written by python -m bench --json")
    parser.add_argument("-o", "--output", type=Path, help="write here (default: print)")
    args = parser.parse_args(argv)
    text = render(json.loads(args.summary.read_text()))
    if args.output:
        write(text, args.output)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
