"""RL study: can a small learned agent improve on LR-MMT's migrations in CloudSim's PlanetLab
experiment? Trained on some days, evaluated on held-out days against the built-in policies.

Environment: ``dcsim/Consolidation-v0`` on the PlanetLab days in ``compat: cloudsim`` mode (800
hosts, the day's VMs, 5-minute steps; the same config builder as
``experiments/planetlab_consolidation/run.py``), LR-MMT 1.2 as the configured policy. Reward per
step: ``REWARD`` on the summary metrics (kWh of IT energy, MI of demand of running guests left
unmet), so an episode's return is ``-(energy_it_kwh + 1e-6 unmet_mi)``.

Agent (numpy, tabular Q-learning): at every step LR-MMT plans its moves (``PolicyAgent``); the
agent chooses how many of them to start — a migration budget of ``BUDGETS`` (0, 10, 40, all) —
from a state of three binned features of the observation: the share of active hosts the detector
finds overloaded, the mean utilisation of active hosts, and the time of day. "All" at every step
is LR-MMT exactly. One-step Q-learning, epsilon-greedy (epsilon from 0.3 down to 0.05 over the
training episodes), learning rate 0.2, discount 0.9.

Compared on the held-out days: the learned agent (greedy), LR-MMT 1.2, THR-MMT 0.8 (``dcsim
run`` with that policy) and no consolidation (no-op agent: PABFD placement only). Writes to
``--out``: ``learning.csv`` (one row per training episode), ``results.csv`` (one row per test
day and policy), ``summary.md`` (means with 95 % t confidence intervals over the days, and the
paired difference to LR-MMT) and ``learning.png``.

    python experiments/rl_consolidation/study.py --out experiments/rl_consolidation
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
TRAIN_DAYS = ("20110303", "20110306", "20110309", "20110322", "20110325")
TEST_DAYS = ("20110403", "20110409", "20110411", "20110412", "20110420")
BUDGETS = (0, 10, 40, None)  # None: all the planned moves
REWARD = {"energy_it_kwh": -1.0, "unmet_mi": -1e-6}
OVER_BINS = (0.0, 0.02, 0.05)  # share of active hosts overloaded: 0 | <= 2 % | <= 5 % | more
UTIL_BINS = (0.4, 0.6, 0.8)  # mean utilisation of active hosts
HOUR_BINS = 4  # time of day in 6-hour blocks
N_STATES = (len(OVER_BINS) + 1) * (len(UTIL_BINS) + 1) * HOUR_BINS
MAX_MOVES = 2000


def planetlab_config(day: str, policy: str = "lr-mmt-1.2") -> dict[str, Any]:
    """The compat-mode config of one PlanetLab day (experiments/planetlab_consolidation)."""
    path = REPO / "experiments" / "planetlab_consolidation" / "run.py"
    spec = importlib.util.spec_from_file_location("planetlab_run", path)
    assert spec is not None
    assert spec.loader is not None
    mod = sys.modules.get("planetlab_run") or importlib.util.module_from_spec(spec)
    if "planetlab_run" not in sys.modules:
        sys.modules["planetlab_run"] = mod
        spec.loader.exec_module(mod)
    cfg: dict[str, Any] = mod.build_config("compat", day, policy)
    return cfg


def state_of(hosts: np.ndarray, time_s: float) -> int:
    """The state index of an observation's ``hosts`` array at ``time_s`` (columns: see
    ``dcsim.rl.CONS_HOST_FEATURES``: utilization 3, awake 4, guests 5, overloaded 10)."""
    active = (hosts[:, 4] > 0) & (hosts[:, 5] > 0)
    n = int(active.sum())
    over = float(hosts[active, 10].sum()) / n if n else 0.0
    util = float(hosts[active, 3].mean()) if n else 0.0
    o = int(np.searchsorted(OVER_BINS, over, side="left"))  # 0 exactly -> bin 0
    u = int(np.searchsorted(UTIL_BINS, util, side="right"))
    h = min(int(time_s // 21600) % HOUR_BINS, HOUR_BINS - 1)
    return (o * (len(UTIL_BINS) + 1) + u) * HOUR_BINS + h


def budgeted(plan: np.ndarray, budget: int | None, n_guests: int) -> np.ndarray:
    """The first ``budget`` moves of ``plan`` (an action array; None: all of them)."""
    if budget is None:
        return plan
    out = plan.copy()
    out[budget:, 0] = n_guests  # no move
    return out


class QAgent:
    """Tabular Q-learning over ``N_STATES`` × ``BUDGETS`` (see the module docstring)."""

    def __init__(self, seed: int, alpha: float = 0.2, gamma: float = 0.9) -> None:
        self.q = np.zeros((N_STATES, len(BUDGETS)))
        self.rng = np.random.default_rng(seed)
        self.alpha, self.gamma = alpha, gamma

    def act(self, s: int, eps: float) -> int:
        if self.rng.random() < eps:
            return int(self.rng.integers(len(BUDGETS)))
        row = self.q[s]
        return int(self.rng.choice(np.flatnonzero(row == row.max())))  # ties at random

    def learn(self, s: int, a: int, r: float, s2: int | None) -> None:
        target = r + (self.gamma * float(self.q[s2].max()) if s2 is not None else 0.0)
        self.q[s, a] += self.alpha * (target - self.q[s, a])


def run_episode(env: Any, agent: QAgent | None, eps: float, *,
                fixed: int | None = -1) -> tuple[dict[str, Any], float, list[int]]:
    """One episode; ``agent`` chooses budgets (learning when ``eps`` > 0), or ``fixed`` is the
    budget index at every step (-1: the agent's). Returns summary, return, budget counts."""
    obs, info = env.reset()
    u = env.unwrapped
    s = state_of(obs["hosts"], info["time_s"])
    total, counts = 0.0, [0] * len(BUDGETS)
    done = u.done
    while not done:
        a = agent.act(s, eps) if agent is not None and fixed == -1 else int(fixed or 0)
        a = a % len(BUDGETS)
        counts[a] += 1
        budget = BUDGETS[a]
        action = u.no_op() if budget == 0 else budgeted(u.builtin_action(), budget, u.n_guests)
        obs, r, done, _, info = env.step(action)
        total += r
        s2 = None if done else state_of(obs["hosts"], info["time_s"])
        if agent is not None and eps > 0:
            agent.learn(s, a, r, s2)
        if s2 is not None:
            s = s2
    return info["summary"], total, counts


def mean_ci(x: list[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95 % t confidence interval (nan for one value)."""
    from scipy import stats

    a = np.asarray(x, dtype=np.float64)
    if a.shape[0] < 2:
        return float(a.mean()), math.nan
    half = float(stats.t.ppf(0.975, a.shape[0] - 1) * a.std(ddof=1) / math.sqrt(a.shape[0]))
    return float(a.mean()), half


def make_env(day: str) -> Any:
    import dcsim.rl

    return dcsim.rl.ConsolidationEnv(planetlab_config(day), reward=REWARD, max_moves=MAX_MOVES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-days", default=",".join(TRAIN_DAYS))
    ap.add_argument("--test-days", default=",".join(TEST_DAYS))
    args = ap.parse_args()
    import dcsim

    train = [d for d in args.train_days.split(",") if d]
    test = [d for d in args.test_days.split(",") if d]
    args.out.mkdir(parents=True, exist_ok=True)
    agent = QAgent(args.seed)
    envs = {d: make_env(d) for d in train}
    n_ep = args.epochs * len(train)
    learning: list[dict[str, Any]] = []
    lr_return: dict[str, float] = {}
    for d in train:  # the reference: LR-MMT (budget "all" at every step) on each training day
        _, lr_return[d], _ = run_episode(envs[d], None, 0.0, fixed=len(BUDGETS) - 1)
    k = 0
    for epoch in range(args.epochs):
        for d in train:
            eps = 0.3 + (0.05 - 0.3) * k / max(1, n_ep - 1)
            t0 = time.perf_counter()
            summ, ret, counts = run_episode(envs[d], agent, eps)
            learning.append({"episode": k, "epoch": epoch, "day": d, "epsilon": round(eps, 4),
                             "return": ret, "lr_mmt_return": lr_return[d],
                             "energy_kwh": summ["energy_it_kwh"], "unmet_mi": summ["unmet_mi"],
                             "migrations": summ["migrations"],
                             **{f"steps_budget_{b}": c for b, c in
                                zip(("0", "10", "40", "all"), counts, strict=True)}})
            print(f"train {k:2d} {d} eps {eps:.2f}: return {ret:9.3f} (LR-MMT "
                  f"{lr_return[d]:9.3f}) budgets {counts} {time.perf_counter() - t0:5.1f} s",
                  flush=True)
            k += 1
    _write(args.out / "learning.csv", learning)
    np.save(args.out / "q_table.npy", agent.q)

    rows: list[dict[str, Any]] = []
    for d in test:
        env = make_env(d)
        runs: dict[str, tuple[dict[str, Any], float]] = {}
        summ, ret, counts = run_episode(env, agent, 0.0)
        runs["learned"] = (summ, ret)
        summ, ret, _ = run_episode(env, None, 0.0, fixed=len(BUDGETS) - 1)
        runs["lr-mmt-1.2"] = (summ, ret)
        summ, ret, _ = run_episode(env, None, 0.0, fixed=0)
        runs["no consolidation"] = (summ, ret)
        ref = dcsim.run(planetlab_config(d, "thr-mmt-0.8")).summary
        runs["thr-mmt-0.8"] = (ref, sum(w * float(ref[m]) for m, w in REWARD.items()))
        for pol, (s, r) in runs.items():
            rows.append({"day": d, "policy": pol, "return": r, "energy_kwh": s["energy_it_kwh"],
                         "unmet_mi": s["unmet_mi"], "migrations": s["migrations"],
                         "slav": s["slav"], "unserved_fraction": s["unserved_fraction"]})
            print(f"test {d} {pol:<17}: return {r:9.3f}, {s['energy_it_kwh']:8.2f} kWh, "
                  f"unmet {s['unmet_mi']:.4g} MI, {s['migrations']} migrations", flush=True)
        print(f"  learned budgets on {d}: {counts}", flush=True)
    _write(args.out / "results.csv", rows)
    (args.out / "summary.md").write_text(summary_table(rows))
    plot_learning(learning, args.out / "learning.png")
    print((args.out / "summary.md").read_text())


def summary_table(rows: list[dict[str, Any]]) -> str:
    """Markdown: per policy, mean ± 95 % CI over days; then learned − LR-MMT, paired."""
    pols = list(dict.fromkeys(r["policy"] for r in rows))
    cols = ("return", "energy_kwh", "unmet_mi", "migrations")
    out = ["| policy | days | " + " | ".join(cols) + " |", "|---|---|" + "---|" * len(cols)]
    for p in pols:
        sel = [r for r in rows if r["policy"] == p]
        cells = []
        for c in cols:
            m, h = mean_ci([float(r[c]) for r in sel])
            cells.append(f"{m:.4g} ± {h:.2g}")
        out.append(f"| {p} | {len(sel)} | " + " | ".join(cells) + " |")
    by = {(r["day"], r["policy"]): r for r in rows}
    days = list(dict.fromkeys(r["day"] for r in rows))
    if all((d, "learned") in by and (d, "lr-mmt-1.2") in by for d in days):
        cells = []
        for c in cols:
            m, h = mean_ci([float(by[(d, "learned")][c]) - float(by[(d, "lr-mmt-1.2")][c])
                            for d in days])
            cells.append(f"{m:+.4g} ± {h:.2g}")
        out.append(f"| learned − LR-MMT (paired) | {len(days)} | " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def plot_learning(learning: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ep = [r["episode"] for r in learning]
    gap = [r["return"] - r["lr_mmt_return"] for r in learning]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(ep, gap, marker="o")
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_xlabel("training episode (one PlanetLab day each)")
    ax.set_ylabel("return − LR-MMT's return, same day")
    ax.set_title("Q-learned migration budget on LR-MMT's plan (CloudSim mode)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


if __name__ == "__main__":
    main()
