"""Policies: pure decisions over read-only views of state; no simpy, no mutation of the simulation.

Families, each with a :class:`~dcsim.policies.registry.Registry` users can extend:

* ``placement.PLACEMENT`` — admission placement (first/best/worst fit, random, PABFD);
* ``overload.OVERLOAD`` — host overload detection (``thr``, ``iqr``, ``mad``, ``lr``, ``lrr``);
* ``selection.SELECTION`` — guest selection for migration (``mmt``, ``mc``, ``rs``, ``mu``);
* ``consolidation.PLACEMENT_MIGRATION`` — placement of migrating guests (``pabfd``), plus
  :func:`~dcsim.policies.consolidation.plan_migrations`, one dynamic-consolidation step.

Submodules are imported explicitly (``from dcsim.policies.overload import OVERLOAD``); this
package imports nothing so that importing one family never pulls in the others.
"""
