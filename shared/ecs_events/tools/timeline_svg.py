"""The timeline chart as inline SVG (no script, no external resource): one lane per instance on a UTC time axis,
drain / snapshot / command spans, event / reboot / restore / removal points, deferred waits, failed steps, the
event's notBefore as a dashed vertical marker, and its legend. ``ecs_events.tools.timeline_html`` puts it in the page.

Every string from the store goes through ``esc`` (event data is untrusted); each mark carries an SVG ``<title>``
(the browser's tooltip) with its time and text.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

from ecs_events.errors import printable
from ecs_events.tools.timeline import Lane, Mark, Timeline, hms

WIDTH, LABEL_W, RIGHT_PAD = 1320, 280, 36
AXIS_H, LANE_H = 40, 62
TICKS = (60, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)

COLORS = {
    "drain": "#f59e0b",
    "snapshot": "#3b82f6",
    "command": "#8b5cf6",
    "event": "#334155",
    "reboot": "#dc2626",
    "restore": "#16a34a",
    "remove": "#64748b",
    "deadline": "#b91c1c",
    "deferred": "#eab308",
    "failed": "#dc2626",
}
LEGEND = (
    ("event", "event received"),
    ("drain", "drained (weight 0) until restored"),
    ("snapshot", "snapshot being taken"),
    ("command", "Cloud Assistant command"),
    ("reboot", "reboot"),
    ("restore", "weights restored"),
    ("remove", "removed from the load balancer"),
    ("deferred", "step deferred, waiting"),
    ("failed", "step failed / saga aborted"),
    ("deadline", "notBefore: the platform acts from here"),
)


def esc(value: object) -> str:
    """Text for HTML or SVG: control characters made visible, then ``& < > " '`` escaped."""
    return html.escape(printable(str(value)), quote=True)


def utc(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Scale:
    """Time to x: the timeline's span, padded, onto the plot width."""

    def __init__(self, start: datetime, end: datetime) -> None:
        span = max((end - start).total_seconds(), 600.0)
        pad = timedelta(seconds=span * 0.03)
        self.start, self.end = start - pad, start + timedelta(seconds=span) + pad
        self.x0, self.x1 = LABEL_W + 10, WIDTH - RIGHT_PAD

    def x(self, at: datetime) -> float:
        total = (self.end - self.start).total_seconds()
        return round(self.x0 + (at - self.start).total_seconds() / total * (self.x1 - self.x0), 1)

    def ticks(self) -> list[datetime]:
        span = (self.end - self.start).total_seconds()
        step = next((t for t in TICKS if span / t <= 10), TICKS[-1])
        epoch = int(self.start.timestamp())
        first = datetime.fromtimestamp((epoch // step + 1) * step, timezone.utc)
        out, at = [], first
        while at <= self.end:
            out.append(at)
            at += timedelta(seconds=step)
        return out


def _tick_label(at: datetime, span: timedelta) -> str:
    at = at.astimezone(timezone.utc)
    return at.strftime("%m-%d %H:%M") if span > timedelta(days=1) else at.strftime("%H:%M")


# -- the chart ---------------------------------------------------------------------------------------------------
def _span_svg(mark: Mark, scale: Scale, top: int, title: str, note: str = "") -> str:
    color, x = COLORS.get(mark.kind, "#334155"), scale.x(mark.start)
    end = scale.x(mark.end or mark.start)
    mid = top + 25
    if mark.kind == "deferred":  # waiting: a dashed line from the deferral to when the step ran
        return (
            f'<g class="deferred"><line x1="{x}" y1="{mid}" x2="{end}" y2="{mid}" stroke="#ca8a04" stroke-width="3" '
            f'stroke-dasharray="3 3">{title}</line><path d="M{x},{mid - 8} L{x + 8},{mid + 6} L{x - 8},{mid + 6} Z" '
            f'fill="{color}" stroke="#854d0e">{title}</path></g>'
        )
    width = max(end - x, 4.0)
    y, h = (top + 16, 18) if mark.kind == "drain" else (top + 38, 10)
    dash = ' stroke-dasharray="4 3"' if mark.open else ""
    rect = (
        f'<rect class="span {mark.kind}" x="{x}" y="{y}" width="{width:.1f}" height="{h}" rx="3" fill="{color}" '
        f'fill-opacity="0.85" stroke="{color}"{dash}>{title}</rect>'
    )
    if mark.kind != "drain" or mark.end is None:
        return rect
    text = f"drained {_duration(mark.end - mark.start)}" + (" so far" if mark.open else "") + note
    if width >= 110:  # the duration inside the bar, else just past its end (and past the point that ends it)
        label = f'<text x="{x + 8}" y="{y + 13}" font-size="12" fill="#451a03">{esc(text)}</text>'
    else:
        halo = 'paint-order="stroke" stroke="#fff" stroke-width="4" stroke-linejoin="round"'  # over grid and deadline
        label = f'<text x="{x + width + 14}" y="{y + 13}" font-size="12" fill="#92400e" {halo}>{esc(text)}</text>'
    return rect + label


def _duration(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    if minutes < 1:
        return f"{int(span.total_seconds())} s"
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d} min"


def _mark_svg(mark: Mark, scale: Scale, top: int, note: str = "") -> str:
    color, x = COLORS.get(mark.kind, "#334155"), scale.x(mark.start)
    title = f"<title>{esc(hms(mark.start))} {esc(mark.kind)}: {esc(mark.label)}</title>"
    if mark.end is not None:
        return _span_svg(mark, scale, top, title, note)
    mid = top + 25
    if mark.kind == "deadline":
        return (
            f'<g class="deadline"><line x1="{x}" y1="{top + 2}" x2="{x}" y2="{top + LANE_H - 2}" stroke="{color}" '
            f'stroke-width="2" stroke-dasharray="6 4">{title}</line>'
            f'<text x="{x - 5}" y="{top + 13}" text-anchor="end" font-size="11" fill="{color}">'
            f"notBefore {esc(hms(mark.start))}</text></g>"
        )
    shapes = {
        "event": f'<path d="M{x - 5},{top + 3} L{x + 5},{top + 3} L{x},{top + 11} Z" fill="{color}">{title}</path>',
        "reboot": f'<circle cx="{x}" cy="{mid}" r="6.5" fill="{color}" stroke="#fff" stroke-width="1.5">'
        f"{title}</circle>",
        "restore": f'<path d="M{x},{mid - 8} L{x + 8},{mid} L{x},{mid + 8} L{x - 8},{mid} Z" fill="{color}" '
        f'stroke="#fff" stroke-width="1.5">{title}</path>',
        "remove": f'<path d="M{x - 6},{mid - 6} L{x + 6},{mid + 6} M{x + 6},{mid - 6} L{x - 6},{mid + 6}" '
        f'stroke="{color}" stroke-width="3">{title}</path>',
        "failed": f'<path d="M{x - 7},{mid - 7} L{x + 7},{mid + 7} M{x + 7},{mid - 7} L{x - 7},{mid + 7}" '
        f'stroke="{color}" stroke-width="4">{title}</path>',
    }
    return shapes.get(mark.kind, f'<circle cx="{x}" cy="{mid}" r="4" fill="{color}">{title}</circle>')


def _drain_note(lane: Lane, drain: Mark) -> str:
    """What happened while drained, said next to the bar (the points themselves may sit too close to tell apart)."""
    if drain.kind != "drain" or drain.end is None:
        return ""
    inside = [m for m in lane.marks if m.saga == drain.saga and drain.start <= m.start <= drain.end]
    said = [f"rebooted {hms(m.start)}" for m in inside if m.kind == "reboot"]
    said += ["removed" for m in inside if m.kind == "remove"]
    return "".join(f", {what}" for what in said)


def _lane_label(lane: Lane, top: int) -> str:
    name = lane.name or lane.instance_id
    lines = [f'<text x="12" y="{top + 20}" font-size="14" font-weight="600">{esc(_cut(name, 28))}</text>']
    if lane.name:
        lines.append(
            f'<text x="12" y="{top + 36}" font-size="11" class="mono" fill="#64748b">{esc(lane.instance_id)}</text>'
        )
    if lane.managed is False:
        note = "not managed: untouched"
    elif lane.sagas:
        note = "; ".join(f"{s.event_type}: {s.outcome or s.status.value}" for s in lane.sagas)
    else:
        note = "no event"
    lines.append(f'<text x="12" y="{top + 52}" font-size="11" fill="#334155">{esc(_cut(note, 44))}</text>')
    return "".join(lines)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def chart(timeline: Timeline, now: datetime | None = None) -> str:
    if timeline.start is None or timeline.end is None or not timeline.lanes:
        return '<p class="empty">no saga in the store: nothing to draw</p>'
    scale = Scale(timeline.start, timeline.end)
    height = AXIS_H + LANE_H * len(timeline.lanes) + 6
    span = scale.end - scale.start
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="chart-title"><title id="chart-title">Remediation timeline, one lane per instance, '
        f"UTC</title>",
        '<text x="12" y="24" font-size="12" fill="#475569">instance</text>',
        f'<text x="{WIDTH - RIGHT_PAD}" y="12" font-size="11" text-anchor="end" fill="#475569">UTC</text>',
    ]
    for n in range(len(timeline.lanes)):
        top = AXIS_H + n * LANE_H
        fill = "#f8fafc" if n % 2 else "#ffffff"
        parts.append(f'<rect x="0" y="{top}" width="{WIDTH}" height="{LANE_H}" fill="{fill}"/>')
    for at in scale.ticks():
        x = scale.x(at)
        parts.append(f'<line x1="{x}" y1="{AXIS_H - 6}" x2="{x}" y2="{height - 6}" stroke="#e2e8f0"/>')
        parts.append(f'<text x="{x}" y="{AXIS_H - 12}" font-size="12" text-anchor="middle" fill="#334155">'
                     f"{esc(_tick_label(at, span))}</text>")  # fmt: skip
    parts.append(f'<line x1="{LABEL_W}" y1="{AXIS_H}" x2="{LABEL_W}" y2="{height - 6}" stroke="#cbd5e1"/>')
    for n, lane in enumerate(timeline.lanes):
        top = AXIS_H + n * LANE_H
        parts.append(f'<g class="lane" data-instance="{esc(lane.instance_id)}">{_lane_label(lane, top)}')
        parts.append(f'<line x1="{scale.x0}" y1="{top + 25}" x2="{scale.x1}" y2="{top + 25}" stroke="#e2e8f0"/>')
        order = {"deadline": 0, "drain": 1, "snapshot": 1, "command": 1, "deferred": 2}  # spans under points
        for mark in sorted(lane.marks, key=lambda m: (order.get(m.kind, 3), m.start)):
            parts.append(_mark_svg(mark, scale, top, _drain_note(lane, mark)))
        parts.append("</g>")
    if now is not None and scale.start <= now <= scale.end:
        x = scale.x(now)
        parts.append(f'<line x1="{x}" y1="{AXIS_H - 4}" x2="{x}" y2="{height - 6}" stroke="#0f172a" stroke-width="1.5">'
                     f"<title>now {esc(hms(now))}</title></line>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _swatch(kind: str) -> str:
    """The legend's small picture of each mark, in a 22 x 14 box."""
    c = COLORS[kind]
    return {
        "event": f'<path d="M6,3 L16,3 L11,11 Z" fill="{c}"/>',
        "drain": f'<rect x="1" y="2" width="20" height="10" rx="2" fill="{c}"/>',
        "snapshot": f'<rect x="1" y="4" width="20" height="6" rx="2" fill="{c}"/>',
        "command": f'<rect x="1" y="4" width="20" height="6" rx="2" fill="{c}"/>',
        "reboot": f'<circle cx="11" cy="7" r="6" fill="{c}"/>',
        "restore": f'<path d="M11,0 L18,7 L11,14 L4,7 Z" fill="{c}"/>',
        "remove": f'<path d="M6,2 L16,12 M16,2 L6,12" stroke="{c}" stroke-width="2.5"/>',
        "deferred": f'<path d="M6,1 L12,12 L0,12 Z" fill="{c}" stroke="#854d0e"/><line x1="9" y1="8" x2="22" y2="8" '
        'stroke="#ca8a04" stroke-width="2.5" stroke-dasharray="2 2"/>',
        "failed": f'<path d="M5,1 L17,13 M17,1 L5,13" stroke="{c}" stroke-width="3.5"/>',
        "deadline": f'<line x1="11" y1="0" x2="11" y2="14" stroke="{c}" stroke-width="2" stroke-dasharray="4 2"/>',
    }[kind]


def legend() -> str:
    items = "".join(
        f'<li><svg viewBox="0 0 22 14" aria-hidden="true">{_swatch(kind)}</svg>{esc(text)}</li>'
        for kind, text in LEGEND
    )
    return f'<ul class="legend" aria-label="legend">{items}</ul>'
