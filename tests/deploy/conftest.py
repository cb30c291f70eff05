"""Deploy tests reuse the functional harness: ``world`` (a fleet on localcloud, events routed to the queue)."""

from tests.functional.conftest import world

__all__ = ["world"]
