"""Benchmark of the network model: routing and one max-min recomputation at scale.

10,000 concurrent flows between random host pairs on a k=16 fat-tree (1,024 hosts, 320
switches, 6,144 directed links), ECMP routing. Prints wall times; asserts nothing.

Run: ``python experiments/benchmarks/network.py [--seed N] [--flows N] [--k K]``.
"""

from __future__ import annotations

import argparse
import math
import time

import _checkout  # noqa: F401  (this checkout's dcsim, not an installed one)
import numpy as np

from dcsim.network.flows import FlowNetwork, maxmin_rates
from dcsim.network.routing import Router
from dcsim.network.topology import attach_hosts, fat_tree


def _best_of(fn: object, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--flows", type=int, default=10_000)
    parser.add_argument("--k", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()
    graph = fat_tree(args.k)
    n_hosts = args.k**3 // 4
    topo = attach_hosts(graph, n_hosts)
    issues = topo.validate()
    t_topo = time.perf_counter() - t0
    src = rng.integers(0, n_hosts, args.flows)
    dst = rng.integers(0, n_hosts - 1, args.flows)
    dst = np.where(dst >= src, dst + 1, dst)  # distinct pairs

    t0 = time.perf_counter()
    router = Router(topo)
    t_router = time.perf_counter() - t0
    t0 = time.perf_counter()
    pairs = list(enumerate(zip(src.tolist(), dst.tolist(), strict=True)))
    paths = [router.path_links(s, d, i) for i, (s, d) in pairs]
    t_paths = time.perf_counter() - t0
    t0 = time.perf_counter()
    for i, (s, d) in pairs:
        router.path_links(s, d, i)
    t_paths_cached = time.perf_counter() - t0

    net = FlowNetwork(topo, router)
    t0 = time.perf_counter()
    for i, (s, d) in pairs:
        net.add_flow(0.0, s, d, math.inf, key=i)
    t_add = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.next_event()
    t_first = time.perf_counter() - t0

    import scipy.sparse as sp

    lens = np.array([p.size for p in paths])
    rows = np.concatenate(paths)
    cols = np.repeat(np.arange(args.flows), lens)
    inc = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(topo.n_links, args.flows))
    caps = np.full(args.flows, np.inf)
    best, median = _best_of(lambda: maxmin_rates(inc, topo.capacity_bps, caps), args.repeat)
    rates = maxmin_rates(inc, topo.capacity_bps, caps)

    def recompute() -> None:
        # benchmark only: force a filling of every flow of the same set (no stored rates, no
        # incremental filling: nothing changed, so it would fill none)
        memo, inc = net.memo_size, net.incremental
        net.memo_size, net.incremental = 0, False
        net._memo.clear()
        net._dirty = True
        try:
            net._refresh()
        finally:
            net.memo_size, net.incremental = memo, inc

    best_net, median_net = _best_of(recompute, args.repeat)

    # One flow ending among 10,000: the per-event cost a simulation pays.
    def one_change() -> None:
        fid = net.add_flow(0.0, int(src[0]), int(dst[0]), math.inf)
        net.next_event()
        net.remove_flow(0.0, fid)
        net.next_event()

    best_ev, median_ev = _best_of(one_change, args.repeat)

    load = inc @ rates
    print(f"fat-tree k={args.k}: {graph.number_of_nodes()} nodes, {topo.n_links} directed links, "
          f"{n_hosts} hosts; build+attach {t_topo * 1e3:.1f} ms; issues: {len(issues)}")
    print(f"flows: {args.flows} random pairs, seed {args.seed}, "
          f"{rows.size} (link, flow) entries, mean path {lens.mean():.2f} links")
    print(f"router build:                    {t_router * 1e3:8.1f} ms")
    print(f"paths, first computation:        {t_paths * 1e3:8.1f} ms "
          f"({t_paths / args.flows * 1e6:.1f} us/flow)")
    print(f"paths, cached:                   {t_paths_cached * 1e3:8.1f} ms")
    print(f"add_flow x {args.flows} (routing cached): {t_add * 1e3:8.1f} ms")
    print(f"first rates (flush + max-min):   {t_first * 1e3:8.1f} ms")
    print(f"maxmin_rates (CSR input):        best {best * 1e3:6.1f} ms, "
          f"median {median * 1e3:6.1f} ms  [target <= 50 ms]")
    print(f"FlowNetwork full recompute:      best {best_net * 1e3:6.1f} ms, "
          f"median {median_net * 1e3:6.1f} ms")
    print(f"one flow start + end (2 recomputes): best {best_ev * 1e3:6.1f} ms, "
          f"median {median_ev * 1e3:6.1f} ms")
    print(f"rates: min {rates.min() / 1e6:.1f} Mbps, median {np.median(rates) / 1e6:.1f} Mbps, "
          f"max {rates.max() / 1e6:.1f} Mbps; distinct levels {np.unique(rates).size}; "
          f"max link load / capacity {np.max(load / topo.capacity_bps):.12f}")


if __name__ == "__main__":
    main()
