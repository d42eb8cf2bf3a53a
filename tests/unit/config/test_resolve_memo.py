"""``resolve_parts`` resolves host groups that share their values once: the same models, and
every group's problems still reported at its own path."""

from __future__ import annotations

from pathlib import Path

import dcsim
from dcsim.config import resolve
from dcsim.config.catalog import host_models
from dcsim.config.compat import cloudsim_config
from dcsim.config.resolve import resolve_parts
from dcsim.config.schema import Config

CONFIGS = Path(__file__).resolve().parents[3] / "configs"


def test_cloudsim_layout_resolves_each_host_as_without_the_memo() -> None:
    sc = dcsim.load_config(CONFIGS / "planetlab-cloudsim.yaml")
    eff = cloudsim_config(sc.written)
    hosts = eff.datacenters[0].hosts
    assert len(hosts) == 800
    models = host_models()
    for j, (grp, got) in enumerate(zip(hosts, sc.host_groups, strict=True)):
        inline = {k: getattr(grp, k) for k in resolve._HOST_FIELDS
                  if getattr(grp, k) is not None}
        issues: list[object] = []
        want = resolve._host_model(grp, models, f"h{j}", issues, inline)  # type: ignore[arg-type]
        assert want is not None
        assert not issues
        assert got.model == want  # every field
    # two distinct models (G4, G5), each resolved once
    assert len({id(g.model) for g in sc.host_groups}) == 2


def test_problems_of_shared_groups_are_reported_at_every_path() -> None:
    cfg = Config.model_validate({
        "name": "x", "duration": "1h", "interval": "5m",
        "datacenters": [{"hosts": [{"model": "hp_ml110_g5", "count": 1,
                                    "power": {"kind": "spec", "watts": [1, 2, 3]}}]}],
        "guests": [{"count": 1, "mips": 500, "ram": "1GiB", "disk": "1GB"}]})
    dc = cfg.datacenters[0]
    g = dc.hosts[0]
    # three groups sharing one power object: a memo hit for the second and third
    cfg = cfg.model_copy(update={"datacenters": [dc.model_copy(update={"hosts": [
        g, g.model_copy(update={"count": 2}), g.model_copy(update={"count": 3})]})]})
    _, issues = resolve_parts(cfg)
    assert [i.path for i in issues] == [f"datacenters[0].hosts[{j}].power.watts"
                                        for j in range(3)]
    assert len({i.message for i in issues}) == 1
    assert "got 3" in issues[0].message


def test_a_host_models_power_problem_is_reported_where_the_power_is_written() -> None:
    """Once, at ``host_models.<name>.power``: the groups that use the model (directly or through
    a ``base`` chain) write no ``power`` of their own, so their paths pointed nowhere."""
    cfg = Config.model_validate({
        "name": "x", "duration": "1h", "interval": "5m",
        "host_models": {
            "hx": {"base": "hp_ml110_g5", "power": {"kind": "linear", "idle": 300, "max": 200}},
            "hy": {"base": "hx", "cores": 4},  # inherits hx's power
            "hz": {"base": "hp_ml110_g5", "cores": 4},  # the catalog's power: fine
        },
        "datacenters": [{"hosts": [{"model": "hx", "count": 1}, {"model": "hy", "count": 1},
                                   {"model": "hz", "count": 1}, {"model": "hx", "count": 2}]}],
        "guests": [{"count": 1, "mips": 500, "ram": "1GiB", "disk": "1GB"}]})
    _, issues = resolve_parts(cfg)
    assert [(i.path, i.message) for i in issues] == [
        ("host_models.hx.power.max", "must be >= idle")]
    # a group's own power is still its own
    own = Config.model_validate({
        "name": "x", "duration": "1h", "interval": "5m",
        "host_models": {"hz": {"base": "hp_ml110_g5", "cores": 4}},
        "datacenters": [{"hosts": [{"model": "hz", "count": 1,
                                    "power": {"kind": "linear", "idle": 300, "max": 200}}]}],
        "guests": [{"count": 1, "mips": 500, "ram": "1GiB", "disk": "1GB"}]})
    _, issues = resolve_parts(own)
    assert [i.path for i in issues] == ["datacenters[0].hosts[0].power.max"]
