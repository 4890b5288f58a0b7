"""Generate tests/data/tiny_nirs/, a small regression dataset in the nirs4all folder convention.

40 calibration + 12 validation spectra of 50 wavelengths, ``;``-separated, with
a header row in every file. Run once from the repository root; the output is
committed so that tests read real files:

    python tests/data/make_tiny_nirs.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N_CAL, N_VAL, N_WAVELENGTHS = 40, 12, 50
OUT = Path(__file__).with_name("tiny_nirs")


def main() -> None:
    rng = np.random.default_rng(7)
    wavelengths = np.linspace(1000, 2470, N_WAVELENGTHS)
    bands = np.array([np.exp(-0.5 * ((wavelengths - c) / 90) ** 2) for c in (1200, 1450, 1940, 2300)])
    n = N_CAL + N_VAL
    conc = rng.uniform(0.1, 1.0, size=(n, len(bands)))
    scatter = rng.uniform(0.8, 1.2, size=(n, 1))
    X = (
        scatter * (conc @ bands)
        + rng.normal(0, 0.05, size=(n, 1))
        + rng.normal(0, 0.001, size=(n, N_WAVELENGTHS))
    )
    y = 5 + 10 * conc[:, 1] + rng.normal(0, 0.05, size=n)
    header = ";".join(str(round(w)) for w in wavelengths)
    OUT.mkdir(exist_ok=True)
    for name, rows in (("cal", slice(0, N_CAL)), ("val", slice(N_CAL, n))):
        lines = [header] + [";".join(f"{v:.6g}" for v in row) for row in X[rows]]
        (OUT / f"X{name}.csv").write_text("\n".join(lines) + "\n")
        (OUT / f"Y{name}.csv").write_text("\n".join(["moisture"] + [f"{v:.6g}" for v in y[rows]]) + "\n")


if __name__ == "__main__":
    main()
