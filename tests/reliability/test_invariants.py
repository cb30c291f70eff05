"""The promises as invariants over random histories (issue "guarantees"): a hypothesis state machine drives the
engine on localcloud (in-process, the real SDKs over HTTP, a sqlite store shared by the history's consumers) through
events, duplicates, outages, crashes, lost messages, people and clock jumps, on a fleet behind CLBs (default and
VServer groups), an ALB server group and an NLB server group shared by two NLBs (asynchronous jobs, slow ones
too, and a group a person is configuring at the moment we drain or restore); after every history the clock runs on
with faults cleared and reconciler passes, and the end state is checked from localcloud's state and call log:

- I1 every backend set to 0 is back at its original weight (unless gone or its instance released), by max_drain
  past its latest claim plus a reconciler interval, or that long after the API answered again;
- I2 no instance rebooted twice for one event;
- I3 voluntary drains within the budget (max(1, 10%) per load balancer, replayed call by call), urgent ones never
  deferred;
- I4 every voluntary reboot that was feasible happened before notBefore;
- I5 no event lost: each has a saga, an "ignored" reason or a dead letter; no wake is ever dead-lettered;
- I6 drained before rebooted: at each reboot of ours every backend entry the instance still has is at weight 0 and
  no ALB/NLB job setting it is still configuring.

A budget unit is a CLB (default and VServer groups together) or an ALB/NLB server group (a group behind two NLBs
counts once), as the engine counts them.

The driver and the invariants are in ``invariants_support.py``. ``make test`` runs a few histories (seeded,
``derandomize``: the same every run); ``ECS_EVENTS_SOAK=1`` (``make soak``) many more and longer ones.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import timedelta
from unittest import mock

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from tests.reliability.harness import report
from tests.reliability.invariants_support import MAX_STOPS, History, check

from localcloud.cloud import LocalCloud

SOAK = os.environ.get("ECS_EVENTS_SOAK") == "1"
EXAMPLES = int(os.environ.get("ECS_EVENTS_HISTORIES", "200" if SOAK else "20"))
SHRINK = os.environ.get("ECS_EVENTS_SHRINK", "1") != "0"  # 0: report the first counterexample as found
STEPS = int(os.environ.get("ECS_EVENTS_HISTORY_STEPS", "50" if SOAK else "25"))

# ALB/NLB job lengths an ``alb_configuring`` rule draws. 180 s (longer than the drain period) found two engine bugs,
# both fixed and kept as scenario tests in test_invariants_alb_nlb.py (I6: a reboot before the weight-0 job ended; a
# drain refused by a configuring group taken for done).
JOB_SECONDS = [5, 180]

MINUTE, HOUR, DAY = 60, 3600, 86400
instance = st.integers(0, 6)  # web x3, api x2, batch, stray


class Stats:
    histories = 0
    rules = 0
    stops = 0
    most_stops = 0  # the longest history, in clock stops (the livelock guard's bound is History.max_stops)
    crashes = 0
    stalls = 0
    sagas = 0
    reboots = 0
    drains = 0
    server_group_drains = 0  # ALB/NLB weight-0 calls
    refused = 0  # ALB/NLB calls refused on a configuring group
    first_failure: float | None = None
    started = 0.0


class Histories(RuleBasedStateMachine):
    cloud: LocalCloud

    def __init__(self) -> None:
        super().__init__()
        self.h = History(self.cloud, max_stops=MAX_STOPS * max(1, STEPS // 25))  # longer histories stop more
        Stats.histories += 1

    def pick(self, n: int) -> str:
        return self.h.instances[n % len(self.h.instances)]

    def after(self) -> None:
        Stats.rules += 1

    # -- events --
    @rule(n=instance, redeploy=st.booleans(), delay=st.integers(35 * MINUTE, 10 * DAY))
    def maintenance(self, n: int, redeploy: bool, delay: int) -> None:
        iid = self.pick(n)
        if self.h.alive(iid):
            kind = "SystemMaintenance.Redeploy" if redeploy else "SystemMaintenance.Reboot"
            self.h.cloud.ecs.create_system_event(iid, kind, self.h.now() + timedelta(seconds=delay))
        self.after()

    @rule(n=instance)
    def failure(self, n: int) -> None:
        iid = self.pick(n)
        if self.h.alive(iid):
            self.h.cloud.ecs.create_system_event(iid, "SystemFailure.Reboot", self.h.now())
        self.after()

    @rule(n=instance, impaired=st.booleans())
    def health(self, n: int, impaired: bool) -> None:
        """The instance never comes back healthy (its drain lasts until max_drain), or is healthy again."""
        iid = self.pick(n)
        if self.h.alive(iid):
            self.h.cloud.ecs.set_health(iid, "Impaired" if impaired else None)
        self.after()

    @rule(n=instance, minutes=st.integers(2, 90))
    def disk_stall(self, n: int, minutes: int) -> None:
        iid = self.pick(n)
        if self.h.alive(iid):
            disk = self.h.cloud.ecs.instance(iid).disk_ids[-1]
            self.h.cloud.ecs.inject_disk_event(disk, "Stalled", duration_seconds=minutes * MINUTE)
        self.after()

    @rule()
    def preempt(self) -> None:
        self.h.preempt()
        self.after()

    @rule(index=st.integers(0, 10_000), fresh_id=st.booleans())
    def redeliver(self, index: int, fresh_id: bool) -> None:
        self.h.redeliver(index, fresh_id)
        self.after()

    # -- failures --
    @rule(product=st.sampled_from(["Slb", "Ecs", "Alb", "Nlb"]))
    def outage(self, product: str) -> None:
        self.h.outage(product)
        self.after()

    @rule()
    def clear_faults(self) -> None:
        self.h.clear_faults()
        self.after()

    @rule()
    def crash(self) -> None:
        self.h.arm_crash()
        self.after()

    @rule()
    def stall(self) -> None:
        self.h.arm_stall()
        self.after()

    @rule()
    def lose_messages(self) -> None:
        self.h.lose_messages()
        self.after()

    # -- people --
    @rule(n=instance, which=st.integers(0, 3))
    def remove_backend(self, n: int, which: int) -> None:
        self.h.remove_backend(self.pick(n), which)
        self.after()

    @rule(n=instance)
    def remove_from_alb(self, n: int) -> None:
        self.h.remove_from_alb(self.pick(n))
        self.after()

    @rule(job_seconds=st.sampled_from(JOB_SECONDS))
    def alb_configuring(self, job_seconds: int) -> None:
        self.h.arm_configuring(job_seconds)
        self.after()

    @precondition(lambda self: not self.h.deleted_lbs)
    @rule()
    def delete_load_balancer(self) -> None:
        self.h.delete_lb()
        self.after()

    @rule(n=instance, skip=st.booleans())
    def opt_out(self, n: int, skip: bool) -> None:
        iid = self.pick(n)
        if self.h.alive(iid):
            self.h.opt_out(iid, skip)
        self.after()

    # -- time --
    @rule(seconds=st.integers(10, 3 * HOUR))
    def advance(self, seconds: int) -> None:
        self.h.run_until(self.h.now() + timedelta(seconds=seconds))
        self.after()

    @rule(hours=st.integers(3, 30))
    def jump(self, hours: int) -> None:
        self.h.jump(hours * HOUR)
        self.after()

    @rule()
    def reconcile(self) -> None:
        self.h.reconcile()
        self.after()

    @invariant()
    def never_crashes_the_harness(self) -> None:
        assert not self.h.errors, self.h.errors

    def teardown(self) -> None:
        try:
            self.h.finish()
            problems = check(self.h)
            Stats.stops += self.h.steps
            Stats.most_stops = max(Stats.most_stops, self.h.steps)
            Stats.crashes += self.h.crashes
            Stats.stalls += self.h.stalls
            Stats.sagas += len(self.h.app.store.scan("saga/"))
            Stats.reboots += len([c for c in self.h.cloud.call_log.calls("RebootInstance") if c.code == "OK"])
            Stats.drains += sum(
                1
                for c in self.h.cloud.call_log.calls()
                if c.action in ("SetBackendServers", "SetVServerGroupAttribute")
                and any(int(b.get("Weight", 1)) == 0 for b in json.loads(c.params["BackendServers"]))
            )
            Stats.server_group_drains += sum(
                1
                for c in self.h.cloud.call_log.calls("UpdateServerGroupServersAttribute")
                if c.code == "OK" and any(k.endswith(".Weight") and v == "0" for k, v in c.params.items())
            )
            Stats.refused += len([c for c in self.h.cloud.call_log.calls() if c.code.startswith("IncorrectStatus.")])
            if problems and Stats.first_failure is None:
                Stats.first_failure = time.monotonic() - Stats.started
                print(  # visible with -s: how fast the first counterexample came, before any shrinking
                    f"\nfirst counterexample after {Stats.first_failure:.1f} s, history {Stats.histories}",
                    file=sys.stderr,
                )
            assert not problems, "\n".join(problems[:20])
        finally:
            self.h.close()


def test_the_promises_hold_over_random_histories(localcloud: LocalCloud) -> None:
    Histories.cloud = localcloud
    Stats.started = time.monotonic()
    with mock.patch("ecs_events.retry.sleep"):  # retries never wait for real
        run_state_machine_as_test(
            Histories,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
                phases=[p for p in Phase if SHRINK or p is not Phase.shrink],
            ),
        )
    report(
        f"invariants ({'soak' if SOAK else 'default'})",
        [
            f"{Stats.histories} histories, {Stats.rules} rules, {Stats.stops} clock stops "
            f"(at most {Stats.most_stops} in one), "
            f"{Stats.crashes} crashes, {Stats.stalls} stalls, {time.monotonic() - Stats.started:.1f} s",
            f"{Stats.sagas} sagas, {Stats.drains} CLB and {Stats.server_group_drains} ALB/NLB weight-0 calls, "
            f"{Stats.refused} refused on a configuring group, {Stats.reboots} reboots of ours",
        ],
    )
