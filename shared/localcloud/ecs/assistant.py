"""Cloud Assistant: commands and invocations. A command "runs" on each instance for ``delays.command`` seconds
of the localcloud clock and finishes with the output and exit code configured per instance
(``EcsService.set_command_output``); a non-zero exit code makes the invocation Failed."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from localcloud.ecs.errors import command_not_found, incorrect_instance_status
from localcloud.errors import invalid_parameter

if TYPE_CHECKING:
    from localcloud.ecs.state import Backend

COMMAND_TYPES = ("RunShellScript", "RunBatScript", "RunPowerShellScript")


@dataclass
class Command:
    command_id: str
    name: str
    command_type: str
    content: str  # base64, as the API takes and returns it
    timeout: int
    creation_time: datetime


@dataclass
class InvocationResult:
    invoke_id: str
    command_id: str
    instance_id: str
    start_time: datetime
    status: str = "Running"  # InvokeRecordStatus: Running | Finished | Failed | Stopped
    output: str = ""
    exit_code: int = 0
    finished_time: datetime | None = None

    @property
    def invocation_status(self) -> str:
        return {"Finished": "Success", "Running": "Running", "Failed": "Failed"}.get(self.status, "Stopped")


def decode_content(content: str, encoding: str) -> str:
    """CommandContent is base64 unless ContentEncoding=PlainText; return the base64 form."""
    if encoding == "PlainText":
        return base64.b64encode(content.encode()).decode()
    try:
        base64.b64decode(content, validate=True)
    except ValueError:
        raise invalid_parameter("CommandContent", content, "not base64 (set ContentEncoding=PlainText)") from None
    return content


class Assistant:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.commands: dict[str, Command] = {}
        self.results: list[InvocationResult] = []
        self.outputs: dict[str, tuple[str, int]] = {}

    def create_command(self, name: str, command_type: str, content: str, timeout: int = 60) -> str:
        if command_type not in COMMAND_TYPES:
            raise invalid_parameter("Type", command_type, "must be one of " + ", ".join(COMMAND_TYPES))
        b = self.backend
        command = Command(b.ctx.ids.new("c", infix="hz0"), name, command_type, content, timeout, b.now())
        self.commands[command.command_id] = command
        return command.command_id

    def invoke(self, command_id: str, instance_ids: list[str]) -> str:
        b = self.backend
        if command_id not in self.commands:
            raise command_not_found(command_id)
        instances = [b.instance(i) for i in instance_ids]
        for inst in instances:
            if inst.status != "Running":
                raise incorrect_instance_status(inst.status)
        invoke_id = b.ctx.ids.new("t", infix="hz0")
        for inst in instances:
            result = InvocationResult(invoke_id, command_id, inst.instance_id, b.now())
            self.results.append(result)
            b.later(b.delays.command, self._finisher(result), f"{invoke_id}:{inst.instance_id}")
        return invoke_id

    def _finisher(self, result: InvocationResult) -> Callable[[], None]:
        return lambda: self._finish(result)

    def _finish(self, result: InvocationResult) -> None:
        output, exit_code = self.outputs.get(result.instance_id, ("", 0))
        result.output = output
        result.exit_code = exit_code
        result.status = "Finished" if exit_code == 0 else "Failed"
        result.finished_time = self.backend.now()

    def find(
        self, invoke_id: str | None, instance_id: str | None, command_id: str | None, status: str | None
    ) -> list[InvocationResult]:
        return [
            r
            for r in self.results
            if (invoke_id is None or r.invoke_id == invoke_id)
            and (instance_id is None or r.instance_id == instance_id)
            and (command_id is None or r.command_id == command_id)
            and (status is None or r.status == status)
        ]
