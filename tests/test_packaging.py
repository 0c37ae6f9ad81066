"""The core install: ``pip install statarb`` in a clean venv pulls no server/dashboard stack.

Builds the wheel, installs it into a fresh venv with pip's normal dependency resolution from the
local wheel files (no network), then runs ``import statarb``, ``statarb --help``, an import of a
CSV file and a backtest with that venv's own interpreter, and checks that a command needing an
extra names it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
#: local wheel directories pip may resolve from (the machine's PyPI mirror)
WHEEL_DIRS = [Path(p) for p in os.environ.get(
    "STATARB_WHEELHOUSE", "/opt/pypi/files:/opt/pypi-more/files").split(":") if p]  # fmt: skip
FORBIDDEN = {"streamlit", "plotly", "psycopg", "psycopg-binary", "redis", "fastapi", "uvicorn",
             "starlette", "prometheus-client", "fastapi-offline"}  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not any(d.is_dir() for d in WHEEL_DIRS),
        reason="no local wheel files (set STATARB_WHEELHOUSE)",
    ),
]


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PIP_FIND_LINKS": "", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("STATARB_STORE_URL", None)
    return subprocess.run(args, capture_output=True, text=True, timeout=600, env=env,
                          **kw)  # type: ignore[call-overload]  # fmt: skip


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def _registry_wheels(dest: Path) -> Path | None:
    """Wheels of the core dependencies that the local mirror lacks (with what they need), fetched
    from the package registry at the version installed here (skips the test when the registry is
    out of reach)."""
    import tomllib
    from importlib.metadata import version

    from packaging.requirements import Requirement

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    have = {f.name.split("-")[0].lower().replace("_", "-") for d in WHEEL_DIRS if d.is_dir()
            for f in d.glob("*.whl")}  # fmt: skip
    missing = [Requirement(r).name for r in deps]
    missing = [n for n in missing if n.lower().replace("_", "-") not in have]
    if not missing:
        return None
    pins = [f"{n}=={version(n)}" for n in missing]
    links = [a for d in WHEEL_DIRS if d.is_dir() for a in ("--find-links", str(d))]
    got = _run([sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:", "-d",
                str(dest), *links, *pins])  # fmt: skip
    if got.returncode != 0:
        pytest.skip(f"{pins} are not in the local wheel mirror and the registry is out of reach")
    return dest


def test_core_install_works_without_the_optional_stacks(tmp_path: Path) -> None:
    pip = [sys.executable, "-m", "pip"]
    _ok(_run([*pip, "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(ROOT)]))
    wheel = next((tmp_path / "dist").glob("statarb-*.whl"))
    venv.create(tmp_path / "venv", with_pip=False)
    py = str(tmp_path / "venv" / "bin" / "python")
    links = [a for d in WHEEL_DIRS if d.is_dir() for a in ("--find-links", str(d))]
    extra = _registry_wheels(tmp_path / "extra")
    if extra is not None:
        links += ["--find-links", str(extra)]
    _ok(_run([*pip, "--python", py, "install", "-q", "--no-compile", "--no-index", *links,
              str(wheel)]))  # fmt: skip
    listed = json.loads(_ok(_run([*pip, "--python", py, "list", "--format", "json"])))
    names = {p["name"].lower() for p in listed}
    assert "statarb" in names and "numpy" in names
    assert not names & FORBIDDEN, names & FORBIDDEN

    cli = str(tmp_path / "venv" / "bin" / "statarb")
    assert "backtest" in _ok(_run([cli, "--help"]))
    rng = np.random.default_rng(1)
    x = 50 + np.cumsum(rng.normal(0, 0.05, 3000))
    legs = {"AAAUSDT": 2 * x + rng.normal(0, 0.05, 3000), "BBBUSDT": x}
    for sym, prices in legs.items():
        lines = ["ts,price,size"] + [f"{1_723_118_400_000 + i * 1000},{p:.5f},1.0"
                                     for i, p in enumerate(prices)]  # fmt: skip
        (tmp_path / f"{sym}.csv").write_text("\n".join(lines) + "\n")
    store = f"sqlite:///{tmp_path / 'core.db'}"
    out = _ok(_run([cli, "import", "--store", store, str(tmp_path / "AAAUSDT.csv"),
                    str(tmp_path / "BBBUSDT.csv")]))  # fmt: skip
    assert "6,000" in out or "6000" in out, out
    bt = json.loads(_ok(_run([cli, "backtest", "AAAUSDT", "BBBUSDT", "--tf", "1s", "--store",
                              store, "--json"])))  # fmt: skip
    assert bt, bt
    code = ("import statarb, statarb.client, statarb.analytics.pair, sys; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            f"{sorted(FORBIDDEN | {'psycopg'})!r}))")  # fmt: skip
    assert _ok(_run([py, "-c", code])).strip() == "[]"

    served = _run([cli, "serve", "--store", store])
    assert served.returncode == 2 and "pip install 'statarb[server]'" in served.stderr
