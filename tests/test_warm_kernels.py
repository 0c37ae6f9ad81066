"""``python -m statarb.warm`` compiles every kernel group without a failing step."""

from __future__ import annotations

from statarb.warm import STEPS, warm_all


def test_every_warm_up_step_runs() -> None:
    res = warm_all()
    assert set(res) == set(STEPS)
    assert all(isinstance(v, float) for v in res.values()), res
