"""What the CLI imports: a light command loads no numeric stack, ``statarb pair`` no compiler.

Each check runs in a fresh interpreter (``sys.modules`` of the test process holds everything).
"""

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "pandas", "scipy", "statsmodels", "numba", "pyarrow", "fastapi", "streamlit")

_PROBE = """
import json, sys
from statarb.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _loaded(*argv: str) -> tuple[int, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, check=True
    )
    last = json.loads(out.stdout.strip().splitlines()[-1])
    return last["code"], set(last["modules"])


def _tops(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


@pytest.mark.parametrize("argv", [["version"], ["--help"], ["pair", "--help"]])
def test_light_commands_import_no_numeric_stack(argv):
    code, mods = _loaded(*argv)
    assert code == 0
    assert not _tops(mods) & set(HEAVY), sorted(_tops(mods) & set(HEAVY))


def test_pair_loads_no_compiler_and_no_statsmodels(kline_store):
    url = kline_store(("AVAXUSDT", "LINKUSDT"), 2000)
    code, mods = _loaded("pair", "AVAXUSDT", "LINKUSDT", "--json", "--store", url)
    assert code == 0
    assert "statarb.analytics.pair" in mods  # the analysis did run
    slow = {"numba", "statsmodels", "scipy.stats", "scipy.linalg"} & mods
    assert not slow, sorted(slow)
