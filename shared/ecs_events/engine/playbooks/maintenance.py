"""Instance system events the platform schedules: reboot ourselves before notBefore, or drain and snapshot ahead
of a redeploy / stop, and put the instance back when it is healthy again.

| status | playbook |
|---|---|
| Scheduled (*Reboot*) | first window slot ending >= lead before notBefore (else notBefore - lead, else now): drain ->
  drain period -> pre-reboot command -> snapshots -> RebootInstance -> Running + health OK -> restore. The event turns
  Avoided. |
| Scheduled (Redeploy, Stop) | the platform acts, not us: the window does not apply (it governs our own disruption).
  Snapshots from notBefore - 2 x lead, the drain at notBefore - lead, held until the platform is done (its deadline
  is max_drain past notBefore) -> healthy -> restore. |
| Inquiring | notify; accept (AcceptInquiredSystemEvent) in the window when the policy says so. |
| Executing / Executed | the platform acts: make sure drained, then healthy -> restore. |
| Avoided / Canceled | close; restore anything drained (unless our own reboot avoided it: then finish the script). |
| Failed | restore, notify (critical). |
"""

from __future__ import annotations

from ecs_events.engine.playbooks.common import (
    Decision,
    Situation,
    after_platform,
    close,
    notify,
    restore_and_close,
    step,
    when,
)
from ecs_events.engine.saga import Action, Step, StepState
from ecs_events.policy import reboot_at

NAME = "maintenance"


def is_reboot(event_type: str) -> bool:
    """Reboot-class maintenance a reboot of our own avoids (RebootAndIsolateErrorDisk and the like included)."""
    return "Reboot" in event_type.rpartition(".")[2]


def _prepare(s: Situation, *, reboot: bool) -> list[Step]:
    """Drain, wait the drain period, the optional command (reboot only), snapshots."""
    p = s.policy
    steps = [step(Action.DRAIN, urgent=False), step(Action.WAIT, after=p.drain_period.total_seconds())]
    if reboot and p.pre_reboot_command is not None:
        cmd = p.pre_reboot_command
        steps.append(step(Action.COMMAND, content=cmd.content, type=cmd.type, timeout=int(cmd.timeout.total_seconds())))
    if p.snapshot:
        steps.append(step(Action.SNAPSHOT, data_only=False, wait=True))
    return steps


def platform_scheduled(s: Situation) -> Decision:
    """Redeploy / Stop: the platform's action, at notBefore. Snapshot first, then drain ``lead`` before it."""
    event, p, iid = s.event, s.policy, s.event.instance_id or "?"
    not_before = event.not_before or s.now
    drain_at = max(s.now, not_before - p.lead)
    steps = [
        notify(
            "planned",
            "info",
            f"{iid}: {event.event_type} by the platform at {when(not_before)}; "
            + ("we snapshot and " if p.snapshot else "we ")
            + f"drain it from {when(drain_at)} until the platform is done",
            not_before=when(not_before),
            start=when(drain_at),
        ),
    ]
    if p.snapshot:
        steps += [
            step(Action.WAIT, at=max(s.now, not_before - 2 * p.lead)),
            step(Action.SNAPSHOT, data_only=False, wait=True),
        ]
    steps += [
        step(Action.WAIT, at=drain_at),
        notify("started", "info", f"{iid}: draining for {event.event_type}"),
        step(Action.DRAIN, urgent=False, hold_until=when(not_before)),
        step(Action.WAIT, after=p.drain_period.total_seconds()),
        notify("info", "info", f"{iid}: ready for {event.event_type} at {when(not_before)}"),
        step(Action.WAIT_EVENT_DONE),
        step(Action.WAIT_HEALTHY),
        *restore_and_close(f"{iid}: {event.event_type} done, instance healthy, weights restored"),
    ]
    return Decision(NAME, steps, f"{event.event_type} scheduled: drain at {when(drain_at)}")


def scheduled(s: Situation) -> Decision:
    event, p, iid = s.event, s.policy, s.event.instance_id or "?"
    if not is_reboot(event.event_type):
        return platform_scheduled(s)
    not_before = event.not_before or s.now
    start = reboot_at(not_before, s.now, p.window, p.lead)
    steps = [
        notify(
            "planned",
            "info",
            f"{iid}: {event.event_type} at {when(not_before)}; we reboot it first, starting {when(start)}",
            not_before=when(not_before),
            start=when(start),
        ),
        step(Action.WAIT, at=start),
        notify("started", "info", f"{iid}: draining for {event.event_type}"),
        *_prepare(s, reboot=True),
        # Look at the health once the instance had time to come back; its StateChange Running pokes it sooner.
        step(Action.REBOOT),
        step(Action.WAIT_HEALTHY, after=p.poll_interval.total_seconds()),
        *restore_and_close(f"{iid}: rebooted before {when(not_before)}, healthy, weights restored"),
    ]
    return Decision(NAME, steps, f"{event.event_type} scheduled: act at {when(start)}")


def inquiring(s: Situation) -> Decision:
    event, p, iid = s.event, s.policy, s.event.instance_id or "?"
    not_before = event.not_before or s.now
    text = f"{iid}: {event.event_type} asks for consent (notBefore {when(not_before)})"
    if not p.accept_inquiring:
        return Decision(NAME, [notify("received", "warning", text), close("closed")], "inquiring: consent is manual")
    start = reboot_at(not_before, s.now, p.window, p.lead)
    steps = [
        notify("planned", "info", f"{text}; we accept it at {when(start)}"),
        step(Action.WAIT, at=start),
        step(Action.ACCEPT),
        notify("info", "info", f"{iid}: accepted {event.event_type}"),
    ]  # the event then turns Scheduled and arrives again: that status scripts the rest
    return Decision(NAME, steps, f"inquiring: accept at {when(start)}")


def decide(s: Situation) -> Decision:
    status, iid, saga = s.event.status, s.event.instance_id or "?", s.saga
    # Our reboot caused what the platform now reports: recorded, or sent by a consumer that died before recording it.
    ours = saga is not None and (
        saga.rebooted_at is not None
        or any(st.action is Action.REBOOT and st.state is StepState.RUNNING for st in saga.steps)
    )
    if status == "Scheduled":
        return scheduled(s)
    if status == "Inquiring":
        return inquiring(s)
    if status in ("Avoided", "Canceled", "Executed") and ours:
        return Decision(NAME, None, f"{status} after our reboot: finish the script")
    if status == "Executed" and saga is not None and saga.event_status == "Executing":
        return Decision(NAME, None, "Executed: the script already waits for the platform")
    if status in ("Executing", "Executed"):
        steps = after_platform(iid, s.event.event_type)
        planned = saga is not None and any(st.action is Action.REBOOT for st in saga.steps)
        if planned:  # we meant to reboot it first and did not: say so, loudly
            nb = when(saga.not_before if saga else None)
            steps.insert(0, notify("missed", "critical", f"{iid}: notBefore {nb} missed: the platform acts ({status})"))
        return Decision(NAME, steps, f"{status}: the platform acts")
    if status in ("Avoided", "Canceled"):
        steps = restore_and_close(f"{iid}: {s.event.event_type} {status.lower()}", outcome="closed")
        return Decision(NAME, steps, f"{status}: nothing left to do")
    if status == "Failed":
        steps = restore_and_close(f"{iid}: {s.event.event_type} failed", outcome="failed", level="critical")
        return Decision(NAME, steps, "the platform's maintenance failed")
    return Decision(NAME, [notify("received", "info", f"{iid}: {s.event.name}"), close("closed")], "no status")
