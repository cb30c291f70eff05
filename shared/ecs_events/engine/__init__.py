"""The remediation engine: sagas per (instance, event), pure playbooks that script them, steps that act through the
actions, timers that bring them back. ``Engine`` is the entry point; ``build_engine`` wires it from settings."""

from ecs_events.engine.engine import BusyError, Engine, RejectedError, Result
from ecs_events.engine.saga import Action, Saga, SagaStatus, Step

__all__ = ["Action", "BusyError", "Engine", "RejectedError", "Result", "Saga", "SagaStatus", "Step"]
