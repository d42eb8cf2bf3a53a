"""Config model of guest migration: which model moves a guest, and with what parameters.

``MigrationSpec`` is the ``migration:`` block of a scenario. It only describes; the planners that
turn it into copy rounds live in ``dcsim.model.migration``, and the SimPy process that runs the
rounds as network flows in ``dcsim.engine.migration``.

Models (``model``):

``precopy``
    Live pre-copy (Clark et al., NSDI 2005; QEMU/KVM ``ram_save_live``, Xen ``xc_domain_save``):
    copy all RAM, then the pages dirtied meanwhile, round after round, then stop-and-copy.
``postcopy``
    Switch execution to the destination first, then pull the RAM while the guest runs there.
``cold``
    Stop the guest, copy RAM and disk image, start it on the destination.
``checkpoint``
    Container checkpoint/restore (CRIU style): freeze, dump, transfer, restore.
``cloudsim``
    CloudSim 3.0.3: a fixed delay ``RAM / (host bandwidth / 2)``, no network traffic, no downtime.

Defaults and their sources (evidence markers as in the project's reference notes: [V] checked,
[D] derived, [E] estimate):

* ``max_downtime`` 300 ms: QEMU ``DEFAULT_MIGRATE_SET_DOWNTIME`` [V] (QEMU 1.x and SimGrid: 30 ms).
* ``max_rounds`` 30 and ``max_traffic_factor`` 3: Xen ``DEF_MAX_ITERS`` / ``DEF_MAX_FACTOR`` [V].
  QEMU has neither; ``max_rounds: 0`` with a traffic factor comes closest (a run without any
  bound could never end, so one of the two is required).
* ``bandwidth_cap`` ``null`` (uncapped). QEMU's default cap is 128 MiB/s (``MAX_THROTTLE``) [V];
  write ``bandwidth_cap: 128MiB/s`` to reproduce it.
* ``working_set`` 0.9 of RAM: SimGrid's ``sg_vm_create_migratable`` helper [V].
* ``dirty_rate`` 0 B/s: SimGrid's default [V]. Real guests dirty memory; set it per workload
  (fits to Clark et al.'s web and game servers in ``experiments/migration_validation`` give
  1.7–3.5 MB/s averaged over whole rounds [D]).
* ``slowdown`` 0.10: CloudSim gives a migrating VM 90 % of its MIPS [V]; Clark et al. measured
  12–20 % lower web throughput during migration [V].
* ``resume_time`` 9 ms: Clark et al., SPECweb99 run (210 ms downtime = 201 ms last copy + 9 ms) [V].
* ``cpu_cost_source`` / ``cpu_cost_destination`` 0.10: CloudSim charges the source host the full
  MIPS of a VM that only gets 90 %, and reserves 10 % of its MIPS on the destination [V].

Imports: pydantic, dcsim.units.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from dcsim.config.migration_models import MIGRATION_MODELS
from dcsim.units import (
    Bitrate,
    Byterate,
    Duration,
    Fraction,
    Integer,
    Number,
    StrictModel,
    off_default,
)

__all__ = [
    "MIGRATION_MODELS",
    "READ_BY",
    "ROUNDS",
    "MigrationModelName",
    "MigrationSpec",
    "unread_fields",
]

MigrationModelName = Literal["precopy", "postcopy", "cold", "checkpoint", "cloudsim"]


class MigrationSpec(StrictModel):
    """How guests are migrated. Immutable; unknown keys are refused.

    All quantities are stored in SI base units after parsing: seconds, bytes/s for memory
    dirtying, bit/s for network rates.
    """

    model: MigrationModelName = Field("precopy", description="migration model")
    max_downtime: Duration = Field(
        0.3, gt=0, description="pre-copy stops when the rest can be sent within this time (s)"
    )
    max_rounds: Integer = Field(
        30, ge=0, description="pre-copy rounds before stop-and-copy, round 0 included; 0 = no limit"
    )
    max_traffic_factor: Number | None = Field(
        3.0, ge=1.0, description="stop-and-copy once more than this × RAM was sent; null = no limit"
    )
    bandwidth_cap: Bitrate | None = Field(
        None, gt=0, description="rate cap of migration flows (bit/s); null = uncapped"
    )
    dirty_rate: Byterate = Field(
        0.0, ge=0, description="bytes/s a guest dirties (at full CPU activity if scaled)"
    )
    working_set: Fraction = Field(
        0.9, ge=0, le=1, description="writable working set, fraction of RAM: cap on dirty bytes"
    )
    dirty_scales_with_cpu: bool = Field(
        True, description="scale the dirty rate by the guest's CPU activity (0..1); idle = clean"
    )
    slowdown: Fraction = Field(
        0.10, ge=0, le=1, description="fraction of guest throughput lost while migrating live"
    )
    resume_time: Duration = Field(
        0.009, ge=0, description="time to resume (or start) the guest on the destination (s)"
    )
    cpu_cost_source: Fraction = Field(
        0.10, ge=0, le=1, description="extra CPU on the source, fraction of the guest's MIPS"
    )
    cpu_cost_destination: Fraction = Field(
        0.10, ge=0, le=1, description="CPU reserved on the destination, fraction of guest MIPS"
    )
    checkpoint_rate: Byterate | None = Field(
        None,
        gt=0,
        description="checkpoint dump and restore rate (bytes/s); null = streamed, no extra time",
    )

    @model_validator(mode="after")
    def _bounded_copy(self) -> Self:
        if self.max_rounds == 0 and self.max_traffic_factor is None:
            # Unbounded, a guest that dirties faster than the link gets never stops copying.
            raise ValueError("pre-copy needs a bound: set max_rounds > 0 or max_traffic_factor")
        return self


_LIVE_COPY = frozenset({"precopy"})

#: The models that read each parameter not every model reads (``dcsim.model.migration`` plans
#: the copy; ``dcsim.engine.moves`` slows a guest while it runs during a migration): with any
#: other model, a value other than the default changes nothing. Every model reads
#: ``bandwidth_cap`` (also read by the consolidation's migration-time estimates) and the CPU
#: costs. Runs confirm each entry (``tests/unit/config/test_fields_that_change_nothing.py``).
READ_BY: dict[str, frozenset[str]] = {
    # the pre-copy rounds: when to stop copying, and how fast pages are dirtied meanwhile
    "max_downtime": _LIVE_COPY,
    "max_rounds": _LIVE_COPY,
    "max_traffic_factor": _LIVE_COPY,
    "dirty_rate": _LIVE_COPY,
    "working_set": _LIVE_COPY,
    "dirty_scales_with_cpu": _LIVE_COPY,
    "checkpoint_rate": frozenset({"checkpoint"}),
    # a guest runs during pre-copy, post-copy and CloudSim's delay; cold and checkpoint
    # migrations stop it for the whole move
    "slowdown": frozenset({"precopy", "postcopy", "cloudsim"}),
    # CloudSim's delay has no resume step
    "resume_time": frozenset({"precopy", "postcopy", "cold", "checkpoint"}),
}


#: Pre-copy parameters that only matter once pages are dirtied: with ``dirty_rate`` 0 the first
#: round leaves nothing to copy, and pre-copy stops there whatever they say.
ROUNDS: tuple[str, ...] = ("max_downtime", "max_rounds", "max_traffic_factor", "working_set",
                           "dirty_scales_with_cpu")


def unread_fields(spec: MigrationSpec) -> list[tuple[str, str]]:
    """``(field, why)`` for each field of ``spec`` set to another value than its default that
    changes nothing: one ``spec.model`` never reads (:data:`READ_BY`), or one of the pre-copy
    rounds (:data:`ROUNDS`) while no page is dirtied. In field order."""
    out = []
    for name in type(spec).model_fields:
        if name not in READ_BY or not off_default(spec, name):
            continue
        if spec.model not in READ_BY[name]:
            out.append((name, f"changes nothing with migration model {spec.model!r}, which "
                              "does not read it"))
        elif name in ROUNDS and spec.dirty_rate == 0:
            out.append((name, "changes nothing while dirty_rate is 0: no page is dirtied, so "
                              "pre-copy ends after its first round (set dirty_rate)"))
    return out
