"""Use cases of the SOP SIGAP lifecycle: intake, verification, assignment, field steps,
resolution and evaluation data; users and tokens; live events.

Every use case is a plain function taking the :class:`~geo_sigap.services.Services`
(or a database) and an :class:`~geo_sigap.dispatch.actors.Actor`; it checks what the
actor may do, writes one transaction (incident row, audit entry and outbox event
together) and raises :mod:`geo_sigap.errors` exceptions. No HTTP here.
"""

from geo_sigap.dispatch.actors import Actor

__all__ = ["Actor"]
