"""What the signals engine declares: read by the catalog, reports and workflows without importing it."""

from __future__ import annotations

from ..declaration import EngineDeclaration

_PHASES = "nirs4all_workspace.engines.signals.phases"
_COMMANDS = "nirs4all_workspace.engines.signals.commands"

DECLARATION = EngineDeclaration(
    name="signals",
    factory="nirs4all_workspace.engines.signals.engine:SignalsEngine",
    tasks=("trading",),
    metrics={
        "total_return": "max",
        "sharpe": "max",
        "sortino": "max",
        "max_drawdown": "min",
        "win_rate": "max",
        "profit_factor": "max",
        "n_trades": "max",
        "avg_trade_bars": "max",
        "regime_aware_sharpe": "max",
    },
    default_metrics={"trading": "sharpe"},
    report_metrics={"trading": ("sharpe", "total_return", "max_drawdown", "n_trades")},
    words={
        "model": "strategy",
        "preprocessing": "stop loss",
        "n_samples": "trades",
        "n_features": "price columns",
        "pipeline": "variant",
    },
    # The session report of the best strategy: equity, drawdown, price with regimes, trades.
    figures={"session": "nirs4all_workspace.engines.signals.report:session_sections"},
    # The workflow phases of price bars replace the generic ones (engines/signals/phases.py).
    phase_kinds={
        "grid": f"{_PHASES}:run_signals_grid",
        "analysis": f"{_PHASES}:run_signals_analysis",
        "ensemble": f"{_PHASES}:run_signals_ensemble",
        "validation": f"{_PHASES}:run_signals_validation",
    },
    phase_options={
        "keys": {"grid": ("bars",), "analysis": ("classifier", "min_trades"), "validation": ("bars",)},
        "inputs": {"ensemble": ("analysis",)},
        "check": f"{_PHASES}:check_phase_options",
    },
    # nirs4all analytics scan|summary|analyze-grid and nirs4all replay (engines/signals/commands.py).
    analytics={
        "scan": f"{_COMMANDS}:scan",
        "summary": f"{_COMMANDS}:summary",
        "analyze_grid": f"{_COMMANDS}:analyze_grid",
        "replay": f"{_COMMANDS}:replay",
    },
    demo_dataset="SYNTH_1m",
)
