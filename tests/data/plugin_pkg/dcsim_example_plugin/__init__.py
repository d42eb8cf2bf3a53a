"""An example dcsim plugin (see ``dcsim.plugins`` for the protocol).

It registers, through the ``api`` dcsim passes to :func:`register`:

* placement ``last_fit``: the highest-numbered host that fits (first fit, mirrored);
* workload kind ``step``: utilisation ``before`` until ``at`` seconds, ``after`` from then on;
* workload kind ``replay``: utilisations read from a text file (``table``, one value per line,
  each held for ``step`` seconds, the last one to the end): a parameter naming an input file;
* power model ``cubic``: ``idle + (max - idle) * u**3`` W at utilisation u;
* guest selection ``max_ram``: the guest with the most RAM (``<detector>-max_ram[-<p>]``);
* virtualization profile ``example_hv``: a type-1 layer without overheads;
* engine extension ``tick_counter``: counts the scheduling intervals into the summary key
  ``example_ticks`` (only in runs whose config enables it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from dcsim.plugins import InputPath
from dcsim.units import Duration, Power


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class LastFit:
    """Highest-numbered feasible host for each guest, in arrival order."""

    Params = _Params

    def __init__(self, params: BaseModel, rng: np.random.Generator) -> None:
        self.params = params

    def place(self, view: Any, guests: np.ndarray) -> np.ndarray:
        out = np.full(guests.shape[0], -1, dtype=np.intp)
        for i, g in enumerate(guests.tolist()):
            ok = view.feasible(g)
            if ok.any():
                h = int(np.flatnonzero(ok)[-1])
                view.place(g, h)  # the sandbox the engine passes: later guests see it
                out[i] = h
        return out


class MaxRam:
    """Migrate the guest with the most RAM first (first wins ties)."""

    Params = _Params

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else _Params()

    def select(self, guests: Any, rng: np.random.Generator) -> int | None:
        return None if guests.n == 0 else int(np.argmax(guests.ram_mb))


class StepParams(_Params):
    before: float = Field(ge=0, le=1, description="utilisation before `at`")
    after: float = Field(ge=0, le=1, description="utilisation from `at` on")
    at: Duration = Field(gt=0, description="time of the step, s (units accepted: '30m')")


class Step:
    def __init__(self, params: StepParams, n: int) -> None:
        self.n = n
        self._before = np.full(n, params.before)
        self._after = np.full(n, params.after)
        self._at = params.at

    def values(self, t_s: float) -> np.ndarray:
        return self._before if t_s < self._at else self._after


class ReplayParams(_Params):
    table: InputPath = Field(description="text file, one utilisation in [0, 1] per line")
    step: Duration = Field(300.0, gt=0, description="seconds each value is held")


class Replay:
    def __init__(self, params: ReplayParams, n: int, base_dir: Path | None) -> None:
        path = Path(params.table)
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        self.n = n
        self._values = [float(x) for x in path.read_text().split()]
        self._step = params.step

    def values(self, t_s: float) -> np.ndarray:
        i = min(int(t_s // self._step), len(self._values) - 1)
        return np.full(self.n, self._values[i])


class CubicParams(_Params):
    idle: Power = Field(ge=0, description="W at 0 % load")
    max: Power = Field(ge=0, description="W at 100 % load")


def cubic_table(p: CubicParams) -> list[float]:
    return [p.idle + (p.max - p.idle) * (k / 10) ** 3 for k in range(11)]


class TickParams(_Params):
    key: str = "example_ticks"


class TickCounter:
    def __init__(self, params: TickParams) -> None:
        self.key = params.key
        self.ticks = 0

    def start(self, sim: Any) -> None:
        sim.tick_hooks.append(self._tick)

    def _tick(self, now: float) -> None:
        self.ticks += 1

    def finish(self, sim: Any, result: Any) -> None:
        result.summary[self.key] = self.ticks


def register(api: Any) -> None:
    """Entry point of the ``dcsim.plugins`` group."""
    api.placement("last_fit", LastFit)
    api.selection("max_ram", MaxRam)
    api.workload("step", StepParams, lambda params, n, ctx: Step(params, n),
                 "utilisation `before` until `at` s, `after` from then on")
    api.workload("replay", ReplayParams,
                 lambda params, n, ctx: Replay(params, n, ctx.base_dir),
                 "utilisations from a text file, one per `step` s")
    api.power_model("cubic", CubicParams, cubic_table, "idle + (max - idle) * u^3")
    api.virtualization_profile("example_hv", {
        "kind": "type1",
        "description": "example type-1 layer without overheads",
        "live_migration": True,
        "sources": {"*": "[E] an example for tests: no overheads by construction"},
    })
    api.extension("tick_counter", lambda sim, params: TickCounter(params), TickParams)
