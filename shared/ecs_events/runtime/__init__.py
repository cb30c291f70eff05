"""What runs on Function Compute: the FC entry logic (``handlers``), the wiring (``app``), the queue consumer
(``consumer``), the FC runtime stand-in (``fc``), settings, credentials and SDK clients (``clients``), the clock,
dead letters, and ``triage`` (the events a store read answers before the engine is built). Nothing beneath it
(models, sources, policy, store, actions, engine, notify) imports it.

``ecs_events.errors``, ``ecs_events.retry`` and ``ecs_events.logs`` stay at the package root: every layer raises the
first, the actions retry through the second, and notify masks secrets with the third; in here they would make the
library import the runtime (and moving errors would touch every module).
"""
