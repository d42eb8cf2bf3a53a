"""Utilisation models, each evaluated for a whole group of guests in one numpy call.

Protocol: a model covers ``n`` guests and answers ``values(t_s) -> (n,) float64`` in [0, 1], the
fraction of each guest's requested CPU it wants at time ``t_s``. Calls come in non-decreasing
time order (the engine never goes back), which lets stochastic models draw lazily, one step at a
time, from their own named stream; a value depends only on (seed, stream name, step), never on how
often or at which instants the engine asks. (Asking for an earlier time still works: the model
replays its steps from the start.)

Stochastic models are piecewise constant over steps of ``period_s`` (default: the scheduling
interval); step ``k`` covers [k·period, (k+1)·period) and its draws come from
``streams.fresh(name, k)``. Models with memory (autoregressive noise, Markov states) advance
step by step, so a first call at step ``k`` costs k small draws.

Memory utilisation: models that know it (trace replay of Google, Bitbrains or generic traces with
a memory column) also satisfy :class:`MemoryUtilizationModel` (``mem_values(t_s)``); use
:func:`has_memory`. Guest sizes a trace gives (``vcpus``, ``ram_bytes``, ``mips_per_vcpu``) are
attributes of :class:`TraceReplay`.

Imports: numpy, scipy.stats/special, dcsim.config.workloads, dcsim.rng, dcsim.errors,
dcsim.workload.{kinds, traces}. Importing it registers the built-in kinds in
:data:`dcsim.workload.kinds.WORKLOADS`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from dcsim.config.workloads import (
    BUILTIN_WORKLOADS,
    BetaWorkload,
    ConstantWorkload,
    DiurnalWorkload,
    FirstN,
    JobsWorkload,
    LognormalWorkload,
    NormalWorkload,
    OnOffWorkload,
    PluginWorkload,
    SampleN,
    TraceWorkload,
    UniformWorkload,
    WorkloadSpec,
)
from dcsim.errors import ConfigError, Issue
from dcsim.rng import RandomStreams
from dcsim.workload.kinds import WORKLOADS, CheckedModel, WorkloadContext, WorkloadKind
from dcsim.workload.traces import TraceData, load_trace

__all__ = [
    "Constant",
    "Diurnal",
    "MemoryUtilizationModel",
    "OnOff",
    "RandomStep",
    "StepwiseRandom",
    "TraceReplay",
    "UtilizationModel",
    "build_workload",
    "has_memory",
    "select_rows",
]

F64 = NDArray[np.float64]
DAY_S = 86400.0
WEEK_S = 7 * DAY_S
_ZGRID = np.linspace(-8.0, 8.0, 16001)
"""Latent normal grid of the copula lookup table (interpolation error < 1e-6 for smooth ppf)."""


class UtilizationModel(Protocol):
    """CPU utilisation of ``n`` guests as a function of time."""

    n: int

    def values(self, t_s: float) -> F64:
        """(n,) utilisation fractions in [0, 1] at ``t_s`` seconds."""
        ...


@runtime_checkable
class MemoryUtilizationModel(Protocol):
    """A model that also knows each guest's memory utilisation (fraction of its RAM)."""

    n: int

    def values(self, t_s: float) -> F64:
        """(n,) CPU utilisation fractions at ``t_s``."""
        ...

    def mem_values(self, t_s: float) -> F64:
        """(n,) memory utilisation fractions in [0, 1] at ``t_s`` seconds."""
        ...


def has_memory(model: UtilizationModel) -> bool:
    """Whether ``model`` gives memory utilisation too (``mem_values``)."""
    return isinstance(model, MemoryUtilizationModel) and bool(getattr(model, "has_memory", True))


class Constant:
    """Every guest at the same fixed utilisation."""

    def __init__(self, n: int, utilization: float) -> None:
        self.n = n
        self._v = np.full(n, utilization, dtype=np.float64)
        self._v.setflags(write=False)

    def values(self, t_s: float) -> F64:
        """(n,) constant utilisation."""
        return self._v


class _Stepped:
    """Base of piecewise-constant stochastic models: caches the current step's vector."""

    def __init__(self, n: int, streams: RandomStreams, name: str, period_s: float) -> None:
        if period_s <= 0:
            raise ValueError("period_s must be > 0")
        self.n = n
        self._streams = streams
        self._name = name
        self._period = float(period_s)
        self._step = -1
        self._v: F64 = np.zeros(n)

    def _rng(self, step: int) -> np.random.Generator:
        return self._streams.fresh(self._name, step)

    def _advance(self, step: int) -> F64:  # pragma: no cover - abstract
        raise NotImplementedError

    def values(self, t_s: float) -> F64:
        """(n,) utilisation at ``t_s``: the vector of step ``floor(t_s / period_s)``."""
        step = max(math.floor(t_s / self._period), 0)
        if step != self._step:
            v = self._advance(step)
            v.setflags(write=False)
            self._v = v
            self._step = step
        return self._v


class RandomStep(_Stepped):
    """Random utilisation drawn from a scipy.stats distribution, clipped to [0, 1].

    Parameters
    ----------
    n
        Number of guests.
    streams, name
        Random streams and this group's stream name; step k uses ``streams.fresh(name, k)``.
    period_s
        Seconds each draw holds.
    dist
        A frozen ``scipy.stats`` distribution (the marginal of every guest at every step).
    phi
        AR(1) coefficient in [0, 1). Every draw is an inverse transform of a latent standard
        normal, ``x = dist.ppf(Φ(z_k))``, with ``z_k = e_k`` for independent steps and
        ``z_k = phi·z_{k−1} + sqrt(1 − phi²)·e_k`` otherwise (a Gaussian copula: the marginal
        is ``dist`` exactly, lag-1 correlation ≈ phi), ``e_k ~ N(0, 1)`` from
        ``streams.fresh(name, k)``.

    Notes
    -----
    A normal marginal is affine in ``z``; other distributions use ``ppf(Φ(z))`` tabulated once
    on 16,001 points of z ∈ [−8, 8] and interpolated (error < 1e-7 for uniform, beta and
    lognormal): exact ``ppf`` or ``rvs`` of a beta costs 5–80 ms per 100,000 guests, the table
    about 1 ms. Cost per step: O(n).
    """

    def __init__(self, n: int, streams: RandomStreams, name: str, period_s: float,
                 dist: Any, phi: float = 0.0) -> None:
        super().__init__(n, streams, name, period_s)
        if not 0.0 <= phi < 1.0:
            raise ValueError("phi must be in [0, 1)")
        self.dist = dist
        self.phi = float(phi)
        self._z: F64 | None = None
        self._zstep = -1
        self._quantiles: F64 | None = None
        self._slopes: F64 = np.zeros(0)
        dname = getattr(getattr(dist, "dist", None), "name", "")
        args, kwds = getattr(dist, "args", ()), getattr(dist, "kwds", {})
        self._affine: tuple[float, float] | None = None
        if dname == "norm" and not args:
            self._affine = (float(kwds.get("loc", 0.0)), float(kwds.get("scale", 1.0)))

    def _advance(self, step: int) -> F64:
        if self.phi == 0.0:
            out = self._from_normal(self._rng(step).standard_normal(self.n))
            return np.clip(out, 0.0, 1.0, out=out)
        if self._z is None or step < self._zstep:
            self._z, self._zstep = self._rng(0).standard_normal(self.n), 0
        c = math.sqrt(1.0 - self.phi * self.phi)
        z = self._z
        for k in range(self._zstep + 1, step + 1):
            e = self._rng(k).standard_normal(self.n)
            e *= c
            z = self.phi * z
            z += e
        self._z, self._zstep = z, step
        out = self._from_normal(z)
        return np.clip(out, 0.0, 1.0, out=out)

    def _from_normal(self, z: F64) -> F64:
        from scipy import special  # lazy: slow to import
        if self._affine is not None:
            loc, scale = self._affine
            return loc + scale * z
        if self._quantiles is None:
            # ppf(Φ(z)) tabulated once: exact ppf costs ~1 µs per value, far too slow per step
            q = np.asarray(self.dist.ppf(special.ndtr(_ZGRID)), dtype=np.float64)
            self._quantiles = q
            self._slopes = np.append(np.diff(q), 0.0)
        # the grid is uniform: index arithmetic instead of np.interp's binary search
        x: F64 = z - _ZGRID[0]
        x *= (_ZGRID.size - 1) / (_ZGRID[-1] - _ZGRID[0])
        np.clip(x, 0.0, _ZGRID.size - 1, out=x)
        i = x.astype(np.intp)
        x -= i
        x *= self._slopes[i]
        x += self._quantiles[i]
        return x


class StepwiseRandom(RandomStep):
    """Uniform utilisation in [low, high], a fresh vector every ``period_s`` seconds.

    Independent steps draw ``rng.uniform(low, high, n)`` from ``streams.fresh(name, k)``.
    """

    def __init__(self, n: int, streams: RandomStreams, name: str, period_s: float,
                 low: float, high: float, phi: float = 0.0) -> None:
        dist = None  # independent steps draw rng.uniform: no scipy.stats (~1 s to import)
        if phi != 0.0:
            from scipy import stats  # lazy: slow to import

            dist = stats.uniform(loc=low, scale=high - low)
        super().__init__(n, streams, name, period_s, dist, phi)
        self._low, self._high = low, high

    def _advance(self, step: int) -> F64:
        if self.phi == 0.0:
            return self._rng(step).uniform(self._low, self._high, self.n)
        return super()._advance(step)


class Diurnal(_Stepped):
    """Daily and weekly seasonality plus piecewise-constant normal noise, clipped to [0, 1].

    ``u_i(t) = mean + amplitude·cos(2π(t − peak_s − δ_i)/86400)
    + weekly_amplitude·cos(2π(t − weekly_peak_s)/604800) + σ·e_{i,k}``, with per-guest phase
    shifts ``δ_i ~ N(0, phase_jitter_s²)`` drawn once (stream ``name + "/phase"``) and noise
    ``e_{i,k} ~ N(0, 1)`` drawn per step k from ``streams.fresh(name, k)``.
    """

    def __init__(self, n: int, streams: RandomStreams, name: str, period_s: float, *,
                 mean: float, amplitude: float, peak_s: float, weekly_amplitude: float = 0.0,
                 weekly_peak_s: float = 2.5 * DAY_S, noise_sd: float = 0.0,
                 phase_jitter_s: float = 0.0) -> None:
        super().__init__(n, streams, name, period_s)
        self.mean, self.amplitude, self.noise_sd = mean, amplitude, noise_sd
        self.weekly_amplitude, self.weekly_peak_s = weekly_amplitude, weekly_peak_s
        shift = (streams.fresh(name + "/phase").normal(0.0, phase_jitter_s, n)
                 if phase_jitter_s > 0 else np.zeros(n))
        self._phase = (peak_s + shift) * (2 * np.pi / DAY_S)
        self._noise: F64 = np.zeros(n)
        self._t = math.nan
        self._out: F64 = np.zeros(n)

    def _advance(self, step: int) -> F64:
        if self.noise_sd > 0:
            return self.noise_sd * self._rng(step).standard_normal(self.n)
        return self._noise

    def values(self, t_s: float) -> F64:
        """(n,) utilisation at ``t_s`` (smooth seasonality, noise held per step)."""
        if t_s == self._t:
            return self._out
        noise = super().values(t_s)
        base = self.mean + self.weekly_amplitude * math.cos(
            2 * math.pi * (t_s - self.weekly_peak_s) / WEEK_S)
        out = np.cos(t_s * (2 * np.pi / DAY_S) - self._phase)
        out *= self.amplitude
        out += base
        out += noise
        np.clip(out, 0.0, 1.0, out=out)
        out.setflags(write=False)
        self._t, self._out = t_s, out
        return out


class OnOff(_Stepped):
    """Markov-modulated on/off bursts: one two-state chain per guest, stepped every period.

    Leaving probabilities per step are ``1 − exp(−period/mean_on)`` (on → off) and
    ``1 − exp(−period/mean_off)`` (off → on). Step 0 is drawn from the stationary distribution
    (on with probability mean_on / (mean_on + mean_off)). Step k uses ``streams.fresh(name, k)``.
    """

    def __init__(self, n: int, streams: RandomStreams, name: str, period_s: float, *,
                 on_level: float, off_level: float, mean_on_s: float, mean_off_s: float) -> None:
        super().__init__(n, streams, name, period_s)
        self.on_level, self.off_level = on_level, off_level
        self.p_leave_on = -math.expm1(-period_s / mean_on_s)
        self.p_leave_off = -math.expm1(-period_s / mean_off_s)
        self.p_on = mean_on_s / (mean_on_s + mean_off_s)
        self._state: NDArray[np.bool_] | None = None
        self._sstep = -1

    def state(self, t_s: float) -> NDArray[np.bool_]:
        """(n,) True where the guest is in its on state at ``t_s``."""
        self.values(t_s)
        assert self._state is not None
        return self._state

    def _advance(self, step: int) -> F64:
        if self._state is None or step < self._sstep:
            self._state, self._sstep = self._rng(0).random(self.n) < self.p_on, 0
        s = self._state
        for k in range(self._sstep + 1, step + 1):
            u = self._rng(k).random(self.n)
            s = np.where(s, u >= self.p_leave_on, u < self.p_leave_off)
        self._state, self._sstep = s, step
        return np.where(s, self.on_level, self.off_level)


def _snap(a: NDArray[np.float32]) -> F64:
    """float64 copy; values stored at 1e-4 resolution are snapped to the nearest double of
    k/10000 (so integer percents equal ``p / 100.0`` exactly, as CloudSim computes them)."""
    x = a.astype(np.float64)
    snapped = np.rint(x * 1e4) / 1e4
    return snapped if np.allclose(snapped, x, rtol=0.0, atol=5e-7) else x


class TraceReplay:
    """Replay of recorded series, CloudSim style.

    ``u(t)`` is linear between samples ``floor(t'/Δ)`` and ``floor(t'/Δ) + 1`` with
    ``t' = t + offset_s``, computed as CloudSim's ``u0 + (u1 − u0)/Δ · (t' − i0·Δ)``; past the
    last sample the last value holds, or with ``loop`` the series wraps around.

    Parameters
    ----------
    trace
        The series; only rows listed in ``rows`` are used.
    rows
        (n,) row of ``trace`` that drives each guest (rows may repeat).
    offset_s, loop
        Start offset into the trace, wrap-around.
    column
        ``"cpu"`` or ``"memory"``: which series ``values`` returns.

    Notes
    -----
    The series are stored transposed, (n_samples, n_rows), so one instant reads two contiguous
    rows and gathers ``n`` values: O(n) per call, cached per instant.
    """

    def __init__(self, trace: TraceData, rows: NDArray[np.intp], *, offset_s: float = 0.0,
                 loop: bool = False, column: str = "cpu") -> None:
        rows = np.asarray(rows, dtype=np.intp)
        self.n = int(rows.size)
        self.rows = rows
        self.trace = trace
        self.interval_s = float(trace.interval_s)
        self.offset_s = float(offset_s)
        self.loop = loop
        uniq, inv = np.unique(rows, return_inverse=True)
        identity = uniq.size == rows.size and bool(np.all(rows == uniq))
        self._gather: NDArray[np.intp] | None = None if identity else inv.astype(np.intp)
        if column == "memory" and trace.mem_util is None:
            raise ConfigError([Issue("column", f"trace {trace.name!r} has no memory series")])
        cpu = np.ascontiguousarray(_snap(trace.util[uniq]).T)
        mem = (np.ascontiguousarray(_snap(trace.mem_util[uniq]).T)
               if trace.mem_util is not None else None)
        self._cpu: F64 = mem if column == "memory" and mem is not None else cpu
        self._mem: F64 | None = mem
        self.has_memory = mem is not None
        self.n_samples = int(self._cpu.shape[0])
        self.guest_names = [trace.guest_names[i] for i in rows.tolist()]

        def pick(a: Any) -> Any:
            return None if a is None else np.asarray(a)[rows]

        self.vcpus: NDArray[np.int64] | None = pick(trace.vcpus)
        self.ram_bytes: F64 | None = pick(trace.ram_bytes)
        self.mips_per_vcpu: F64 | None = pick(trace.mips_per_vcpu)
        self._cache: dict[int, tuple[float, F64]] = {}

    def _at(self, table: F64, t_s: float) -> F64:
        dt = self.interval_s
        t = t_s + self.offset_s
        i0 = math.floor(t / dt)
        s = self.n_samples
        if self.loop:
            j0, j1 = i0 % s, (i0 + 1) % s
        elif i0 >= s - 1:
            j0 = j1 = s - 1
        else:
            j0, j1 = max(i0, 0), max(i0 + 1, 0)
        u0 = table[j0]
        if j1 == j0 or t == i0 * dt:
            out = u0.copy()
        else:
            u1 = table[j1]
            out = u1 - u0
            out /= dt
            out *= t - i0 * dt
            out += u0
        if self._gather is not None:
            out = out[self._gather]
        out.setflags(write=False)
        return np.asarray(out, dtype=np.float64)

    def values(self, t_s: float) -> F64:
        """(n,) utilisation of the chosen column at ``t_s``."""
        hit = self._cache.get(0)
        if hit is None or hit[0] != t_s:
            hit = (t_s, self._at(self._cpu, t_s))
            self._cache[0] = hit
        return hit[1]

    def mem_values(self, t_s: float) -> F64:
        """(n,) memory utilisation at ``t_s``; raises if the trace has none."""
        if self._mem is None:
            raise ValueError(f"trace {self.trace.name!r} has no memory series")
        hit = self._cache.get(1)
        if hit is None or hit[0] != t_s:
            hit = (t_s, self._at(self._mem, t_s))
            self._cache[1] = hit
        return hit[1]


def select_rows(spec: TraceWorkload, trace: TraceData, n: int | None,
                streams: RandomStreams, name: str) -> NDArray[np.intp]:
    """Rows of ``trace`` for the guests of a group, per ``spec.selection`` and ``spec.repeat``.

    ``{first: k}`` keeps the first k series, ``{sample: k}`` k series drawn without replacement
    from stream ``name + "/selection"`` (kept in trace order). Guest i then uses the i-th kept
    series; ``n=None`` means one guest per kept series. More guests than series is refused
    unless ``repeat`` (guest i uses series i mod k).

    Raises
    ------
    ConfigError
        Selection larger than the trace, or too few series without ``repeat``.
    """
    m = trace.n_guests
    idx = np.arange(m, dtype=np.intp)
    sel = spec.selection
    if isinstance(sel, FirstN | SampleN):
        k = sel.first if isinstance(sel, FirstN) else sel.sample
        skip = sel.skip if isinstance(sel, FirstN) else 0
        if k + skip > m:
            raise ConfigError([Issue("selection", f"asks for {k} series after skipping {skip}; "
                                     f"trace {trace.name!r} (day {trace.day or 'all'}) has {m}")])
        if isinstance(sel, FirstN):
            idx = idx[skip:skip + k]
        else:
            idx = np.sort(streams.fresh(name + "/selection").choice(m, size=k, replace=False))
    if n is None:
        return idx
    if n > idx.size:
        if not spec.repeat:
            raise ConfigError([Issue("", f"{n} guests but trace {trace.name!r} (day "
                                     f"{trace.day or 'all'}) gives {idx.size} series; lower the "
                                     "count or set repeat: true")])
        return idx[np.arange(n) % idx.size]
    return idx[:n]


def _resolve(path: str | None, base_dir: str | Path | None) -> Path | None:
    if path is None:
        return None
    p = Path(path).expanduser()
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p


def build_workload(spec: WorkloadSpec, n: int, streams: RandomStreams, name: str,
                   interval_s: float, *, base_dir: str | Path | None = None
                   ) -> UtilizationModel:
    """The model for ``n`` guests described by ``spec``; ``name`` names its random stream.

    Parameters
    ----------
    spec
        A workload spec (any kind of :data:`WorkloadSpec`).
    n
        Number of guests in the group.
    streams, name
        Random streams and the group's stream name (e.g. ``"workload.web"``).
    interval_s
        Scheduling interval, the default ``period`` of stochastic models.
    base_dir
        Folder that relative trace paths are resolved against (the config's folder).

    Raises
    ------
    ConfigError
        A trace that cannot be loaded or selected (issue paths relative to the spec).

    Notes
    -----
    Dispatches through the registry :data:`dcsim.workload.kinds.WORKLOADS`: a plugin kind's
    params are validated with its model (``dcsim.validate`` has already reported bad ones) and
    its model is wrapped in :class:`~dcsim.workload.kinds.CheckedModel`.
    """
    ctx = WorkloadContext(streams, name, float(interval_s),
                          None if base_dir is None else Path(base_dir))
    entry = WORKLOADS.get(spec.kind)
    if isinstance(spec, PluginWorkload):
        model = entry.build(entry.params.model_validate(spec.params()), n, ctx)
        return CheckedModel(model, n, spec.kind)
    return entry.build(spec, n, ctx)  # type: ignore[no-any-return]


def _build_builtin(spec: Any, n: int, ctx: WorkloadContext) -> UtilizationModel:
    """The model of a built-in kind (``spec`` is its config model)."""
    streams, name, interval_s, base_dir = ctx.streams, ctx.name, ctx.interval_s, ctx.base_dir
    if isinstance(spec, ConstantWorkload):
        return Constant(n, spec.utilization)
    if isinstance(spec, JobsWorkload):
        return Constant(n, 1.0)  # CPU-bound while work remains; the engine tracks the work
    if isinstance(spec, UniformWorkload):
        return StepwiseRandom(n, streams, name, spec.period or interval_s, spec.low, spec.high,
                              spec.autocorrelation)
    if isinstance(spec, NormalWorkload | BetaWorkload | LognormalWorkload):
        from scipy import stats  # lazy: slow to import, and only these kinds need it
    if isinstance(spec, NormalWorkload):
        return RandomStep(n, streams, name, spec.period or interval_s,
                          stats.norm(loc=spec.mean, scale=spec.sd), spec.autocorrelation)
    if isinstance(spec, BetaWorkload):
        return RandomStep(n, streams, name, spec.period or interval_s,
                          stats.beta(spec.a, spec.b), spec.autocorrelation)
    if isinstance(spec, LognormalWorkload):
        s2 = math.log1p((spec.sd / spec.mean) ** 2)
        dist = stats.lognorm(s=math.sqrt(s2), scale=spec.mean * math.exp(-s2 / 2))
        return RandomStep(n, streams, name, spec.period or interval_s, dist,
                          spec.autocorrelation)
    if isinstance(spec, DiurnalWorkload):
        return Diurnal(n, streams, name, spec.period or interval_s, mean=spec.mean,
                       amplitude=spec.amplitude, peak_s=spec.peak_time,
                       weekly_amplitude=spec.weekly_amplitude, weekly_peak_s=spec.weekly_peak,
                       noise_sd=spec.noise_sd, phase_jitter_s=spec.phase_jitter)
    if isinstance(spec, OnOffWorkload):
        return OnOff(n, streams, name, spec.period or interval_s, on_level=spec.on_level,
                     off_level=spec.off_level, mean_on_s=spec.mean_on,
                     mean_off_s=spec.mean_off)
    if isinstance(spec, TraceWorkload):
        trace = load_trace(spec.name, spec.day, _resolve(spec.path, base_dir))
        rows = select_rows(spec, trace, n, streams, name)
        return TraceReplay(trace, rows, offset_s=spec.offset, loop=spec.loop, column=spec.column)
    raise TypeError(f"no model for workload kind {spec.kind!r}")


for _kind, _cls in BUILTIN_WORKLOADS.items():
    WORKLOADS.register(_kind)(WorkloadKind(_cls, _build_builtin,
                                           (_cls.__doc__ or "").strip().split("\n")[0]))
