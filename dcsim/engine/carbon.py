"""Carbon accounting: operational emissions from each data center's grid intensity, and the
embodied emissions of its hosts. An engine extension, active when a data center has ``carbon:``
or a host group ``embodied_kgco2e``.

Operational emissions of data center ``d``: ``∫ I_d(t) · PUE_d · (P_hosts,d(t) + P_network,d(t))
dt``. ``I_d`` is stepwise between breakpoints (``dcsim.workload.carbon.pieces``), so the integral is
``Σ_k I_d,k · ΔE_d,k``: the facility energy of each piece times its intensity. A SimPy process
wakes at every breakpoint (events scale with the series' points, not with guests or hosts) and
reads the facility energy so far without changing any state: each host's settled energy plus
its current power × the time since it was settled (power is constant between a host's
changes), and the network's meter. The last piece ends at ``duration`` with the run's final
energies, so the pieces' energies add up to ``energy_facility_kwh``. At each breakpoint the
current intensities are also published as ``ClusterState.carbon_now`` (g/kWh per data center)
for carbon-aware policies.

Embodied emissions: ``Σ_hosts embodied_kgco2e × duration / lifetime`` (every host is installed
for the whole run).

Summary: ``emissions_operational_kg``, ``emissions_embodied_kg``, ``emissions_kg`` (their sum),
``carbon_intensity_mean_g_per_kwh`` (operational emissions per facility kWh),
``emissions_migration_kg`` (an estimate of the migrations' share, already inside the
operational emissions: see ``Carbon.migration_kg``); table ``carbon``: one row per data center
and piece.

Imports: numpy, dcsim.workload.carbon, dcsim.config.carbon, dcsim.engine.extensions,
dcsim.metrics.result (the table as a Frame).
"""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from dcsim.config.carbon import LIU_J_FIXED, LIU_J_PER_MB, reads_series, zone
from dcsim.engine.extensions import EXTENSIONS
from dcsim.metrics.result import Frame
from dcsim.units import JOULES_PER_KWH
from dcsim.workload.carbon import Series, integral_at, load_series, pieces, read_file

if TYPE_CHECKING:
    import simpy

    from dcsim.config.schema import Config
    from dcsim.engine.simulation import Simulation
    from dcsim.metrics.result import Result

F64 = NDArray[np.float64]


def dc_pieces(cfg: Config, base_dir: Path | None
              ) -> tuple[list[tuple[F64, F64]], list[Series | float]] | None:
    """Per data center, the breakpoints (s) and intensities (g/kWh) of its pieces over the run,
    and the series they come from (``dc_series``, read once); None when no data center has
    ``carbon:``. Raises ConfigError (file and line, or the config path) for a bad or short
    series, a missing clock or a data center without ``carbon:``."""
    from dcsim.errors import ConfigError, Issue

    specs = [dc.carbon for dc in cfg.datacenters]
    if all(s is None for s in specs):
        return None
    issues = [Issue(f"datacenters[{i}].carbon", "missing: when one data center has a carbon "
                    "intensity, every one needs one (emissions would be undercounted)")
              for i, s in enumerate(specs) if s is None]
    if reads_series(cfg.datacenters) and cfg.clock is None:
        issues.append(Issue("clock", "missing: a carbon intensity series needs clock.start "
                            "(the date and time of t = 0)"))
    if issues:
        raise ConfigError(issues)
    out: list[tuple[F64, F64]] = []
    all_series = dc_series(cfg, base_dir)
    for i, (spec, series) in enumerate(zip(specs, all_series, strict=True)):
        assert spec is not None
        if isinstance(series, float):
            out.append((np.zeros(1), np.asarray([series])))
            continue
        assert cfg.clock is not None
        out.append(pieces(series, cfg.clock.epoch_s(), float(cfg.duration),
                          float(cfg.interval), spec.interpolation, f"datacenters[{i}].carbon"))
    return out, all_series


def run_series(sim: Simulation) -> list[Series | float]:
    """The run's intensity per data center, as the carbon extension read it (once per run);
    for the carbon-aware policies, which need it only with carbon accounting."""
    for ext in sim.extensions:
        if isinstance(ext, Carbon) and ext.series is not None:
            return ext.series
    raise RuntimeError("no carbon intensities in this run (validate requires carbon:)")


def dc_series(cfg: Config, base_dir: Path | None) -> list[Series | float]:
    """Per data center (each has ``carbon:``), its series, or its constant intensity."""
    out: list[Series | float] = []
    for i, dc in enumerate(cfg.datacenters):
        spec = dc.carbon
        assert spec is not None
        where = f"datacenters[{i}].carbon"
        if spec.intensity is not None:
            out.append(float(spec.intensity))
        elif spec.series is not None:
            out.append(load_series(spec.series, f"{where}.series"))
        else:
            assert spec.file is not None
            path = Path(spec.file)
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            out.append(read_file(path, spec.time_column, spec.value_column,
                                 zone(spec.timezone), f"{where}.file"))
    return out


def defer(sim: Simulation, times: F64) -> F64:
    """Arrival instants with the deferrable groups' guests shifted (``DeferSpec``): each to the
    instant ``a + k × interval`` (k = 0, 1, ...; within ``slack`` and before the end of the run)
    that minimises the lowest expected effective intensity ``PUE_d × mean I_d`` over the
    guest's expected run time (its jobs' work at its bare-metal speed; else its lifetime, at
    most the run; else one interval) among the data centers; ties: the earliest.
    ``sim.submit_s`` keeps the submission instants (jobs' response times count from them)."""
    cfg = sim.cfg
    series = run_series(sim)
    t0 = cfg.clock.epoch_s() if cfg.clock is not None else 0.0
    out = times.copy()
    st = sim.state
    for sl, gg in zip(sim.slices, sim.sc.guest_groups, strict=True):
        spec = gg.spec.deferrable
        if spec is None:
            continue
        ids = np.arange(sl.start, sl.stop)
        a = times[ids]
        ok = np.isfinite(a)
        ids, a = ids[ok], a[ok]
        if not ids.shape[0]:
            continue
        speed = st.vcpus[ids] * st.mips[ids]
        run = np.where(sim.has_jobs[ids], sim.job_total[ids] / speed,
                       np.minimum(sim.lifetime_s[ids], sim.duration))
        run = np.where(np.isfinite(run) & (run > 0), run, sim.interval)
        k = np.arange(int(spec.slack // sim.interval) + 1, dtype=np.float64) * sim.interval
        cand = a[:, None] + k[None, :]  # (guests, candidates), s of simulated time
        valid = cand < sim.duration
        shift = -86400.0 if spec.forecast == "persistence" else 0.0
        lo = t0 + cand + shift
        hi = lo + run[:, None]
        best = np.full(cand.shape, np.inf)
        for d, s_d in enumerate(series):
            if isinstance(s_d, float):
                mean = np.full(cand.shape, s_d)
            else:
                mean = (integral_at(s_d, hi.ravel()) - integral_at(s_d, lo.ravel())).reshape(
                    cand.shape) / run[:, None]
            best = np.minimum(best, sim.dc_pue[d] * mean)
        best = np.where(valid, best, np.inf)
        pick = np.argmin(best, axis=1)  # first minimum: the earliest
        out[ids] = cand[np.arange(ids.shape[0]), pick]
        sim.submit_s[ids] = a
    return out


class Carbon:
    """See the module docstring."""

    def __init__(self, sim: Simulation,
                 loaded: tuple[list[tuple[F64, F64]], list[Series | float]] | None) -> None:
        self.sim = sim
        self.per_dc: list[tuple[F64, F64]] | None = None
        self.series: list[Series | float] | None = None
        if loaded is not None:
            self.per_dc, self.series = loaded
        per_dc = self.per_dc
        n_dc = sim.dc_pue.shape[0]
        self.emissions_g = np.zeros(n_dc)
        self.e_last = np.zeros(n_dc)  # facility energy at the last breakpoint, J
        self.t_last = 0.0  # the last breakpoint, s
        self.rows: list[tuple[float, float, int, float, float, float]] = []
        st = sim.state
        embodied = lifetime = np.zeros(0)
        groups = sim.sc.host_groups
        if any(g.model.embodied_kgco2e is not None for g in groups):
            embodied = np.asarray([g.model.embodied_kgco2e or 0.0 for g in groups])
            lifetime = np.asarray([g.model.lifetime or np.inf for g in groups])
        counts = np.asarray([g.count for g in groups], dtype=np.float64)
        self.embodied_kg = (float((counts * embodied * sim.duration / lifetime).sum())
                            if embodied.shape[0] else float("nan"))
        if per_dc is not None:
            self.breaks = np.unique(np.concatenate([b for b, _ in per_dc]))
            st.carbon_now = self._values_at(0.0)

    def _values_at(self, t: float) -> F64:
        """(n_dc,) intensity in force at simulated time ``t``, g/kWh."""
        assert self.per_dc is not None
        return np.asarray([v[int(np.searchsorted(b, t, side="right")) - 1]
                           for b, v in self.per_dc])

    def _facility_j(self, t: float) -> F64:
        """(n_dc,) facility energy from 0 to ``t`` (now), J; reads, changes no host."""
        sim = self.sim
        st = sim.state
        hosts = sim.energy_j + sim.power * (t - sim.last_t)
        e: F64 = np.bincount(st.datacenter, weights=hosts,
                             minlength=sim.dc_pue.shape[0]).astype(np.float64)
        if sim.network_energy:
            e = e + sim.network_energy_j(t)
        out: F64 = e * sim.dc_pue
        return out

    def _close(self, t: float, e_now: F64) -> None:
        """Close the piece ending at ``t`` (facility energies ``e_now``)."""
        st = self.sim.state
        de = e_now - self.e_last
        v = np.asarray(st.carbon_now, dtype=np.float64)
        self.emissions_g += v * de / JOULES_PER_KWH
        t0 = self.t_last
        for d in range(de.shape[0]):
            self.rows.append((t0, t, d, float(v[d]), float(de[d]) / JOULES_PER_KWH,
                              float(v[d] * de[d] / JOULES_PER_KWH) / 1000.0))
        self.e_last = e_now
        self.t_last = t

    def start(self, sim: Simulation) -> None:
        if self.per_dc is not None and self.breaks.shape[0] > 1:
            sim.env.process(self._run())

    def _run(self) -> Generator[simpy.events.Event, Any, None]:
        sim = self.sim
        for t in self.breaks[1:].tolist():
            sim.events += 1
            yield sim.env.timeout(t - sim.env.now)
            self._close(t, self._facility_j(t))
            sim.state.carbon_now = self._values_at(t)

    def migration_kg(self, sim: Simulation) -> float:
        """Estimated emissions of the run's finished migrations, kg: each migration's energy by
        Liu et al.'s linear model (HPDC 2011: 0.512 J per MB sent + 20.165 J) times the mean of
        its two data centers' PUE × intensity at its start. An estimate reported apart: the
        migrations' real energy is inside the hosts' and the network's energy."""
        if self.per_dc is None or not sim.migration_records:
            return 0.0
        st = sim.state
        total_g = 0.0
        for r in sim.migration_records:
            now = self._values_at(float(r.start_s)) * sim.dc_pue
            ends = [int(st.datacenter[int(h)]) for h in (r.source, r.destination)]
            e_kwh = (LIU_J_PER_MB * float(r.bytes_sent) / 1e6 + LIU_J_FIXED) \
                / JOULES_PER_KWH
            total_g += e_kwh * float(now[ends].mean())
        return total_g / 1000.0

    def finish(self, sim: Simulation, result: Result) -> None:
        s = result.summary
        if self.per_dc is not None:
            # every host is settled at the end: the last piece closes on the run's final
            # energies, so the pieces add up to the summary's facility energy
            self._close(sim.duration, self._facility_j(sim.duration))
            op_kg = float(self.emissions_g.sum()) / 1000.0
            fac = s["energy_facility_kwh"]
            s["emissions_operational_kg"] = op_kg
            s["carbon_intensity_mean_g_per_kwh"] = 1000.0 * op_kg / fac if fac > 0 else 0.0
            result.tables["carbon"] = Frame(  # a DataFrame when read (dcsim.metrics.result)
                self.rows, columns=["start_s", "end_s", "datacenter", "intensity_g_per_kwh",
                                    "facility_kwh", "emissions_kg"])
            s["emissions_migration_kg"] = self.migration_kg(sim)
        deferred = ~np.isnan(sim.submit_s) & ~np.isnan(sim.arrival_s)
        s["deferred_guests"] = int(deferred.sum())
        s["mean_deferral_s"] = (float((sim.arrival_s[deferred] - sim.submit_s[deferred]).mean())
                                if deferred.any() else float("nan"))
        s["emissions_embodied_kg"] = self.embodied_kg
        parts = [s.get("emissions_operational_kg", float("nan")), self.embodied_kg]
        known = [p for p in parts if p == p]
        s["emissions_kg"] = float(sum(known)) if known else float("nan")


def _factory(sim: Simulation) -> Carbon | None:
    loaded = dc_pieces(sim.cfg, sim.sc.base_dir)
    has_embodied = any(g.model.embodied_kgco2e is not None for g in sim.sc.host_groups)
    if loaded is None and not has_embodied:
        return None
    return Carbon(sim, loaded)


EXTENSIONS.register("carbon")(_factory)
