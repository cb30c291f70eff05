"""The timeline as one self-contained HTML page: inline CSS and inline SVG, no script, no external resource (it opens
from a file, from a CI artifact, or a mail attachment, offline).

Top to bottom: a summary header (sagas, outcomes, time span, optional checks), the chart (one lane per instance on a
UTC time axis: drain and snapshot spans, reboot / restore / removal points, the event's notBefore as a vertical
marker, deferred and failed steps marked), its legend, optional sections from the caller (the demo's final state),
then each lane's history as a list, the same facts as text for screen readers, search and tests.

Every string from the store is escaped (``esc``): event data is untrusted, an instance name or a step detail may
hold markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from ecs_events.errors import printable
from ecs_events.timeline import Lane, Mark, Timeline, hms

if TYPE_CHECKING:
    from ecs_events.store.base import Store

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

CSS = """
:root { color-scheme: light; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0; padding: 20px 28px 40px; color: #0f172a; background: #f8fafc; }
h1 { font-size: 21px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 22px 0 8px; }
h3 { font-size: 14px; margin: 14px 0 4px; }
.sub { color: #475569; margin: 0 0 10px; }
.summary { display: flex; flex-wrap: wrap; gap: 8px; list-style: none; padding: 0; margin: 8px 0; }
.summary li { background: #fff; border: 1px solid #e2e8f0; border-radius: 6px; padding: 4px 10px; }
.summary b { font-size: 16px; }
.checks { list-style: none; padding: 0; margin: 6px 0 0; columns: 2; column-gap: 28px; }
.checks li { margin: 2px 0; break-inside: avoid; }
.ok::before { content: "\\2713"; color: #16a34a; font-weight: 700; margin-right: 6px; }
.fail { color: #b91c1c; font-weight: 600; }
.fail::before { content: "\\2717"; margin-right: 6px; }
.chart { background: #fff; border: 1px solid #e2e8f0; border-radius: 8px; padding: 6px 6px 2px; margin-top: 12px; }
svg { display: block; width: 100%; height: auto; }
svg text { font-family: inherit; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; list-style: none; padding: 0; margin: 8px 2px;
  color: #334155; }
.legend svg { display: inline-block; width: 22px; height: 14px; vertical-align: -2px; margin-right: 5px; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 0 28px; }
.final ul, .history ol { margin: 0; padding-left: 20px; }
.history ol { list-style: none; padding-left: 0; }
.history ol li { display: grid; grid-template-columns: 66px 122px 1fr; gap: 0 6px; margin: 1px 0;
  overflow-wrap: anywhere; }
.history .cols { grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); }
time, code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.kind { color: #475569; }
.lane-sagas { color: #334155; margin: 0 0 4px; padding-left: 18px; overflow-wrap: anywhere; }
.empty { color: #64748b; font-style: italic; }
"""


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
        note = "; ".join(f"{s.event_type}: {s.outcome or s.status}" for s in lane.sagas)
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


# -- the page ----------------------------------------------------------------------------------------------------
def _summary(timeline: Timeline) -> str:
    sagas = timeline.sagas
    items = [f"<li><b>{len(sagas)}</b> saga{'s' if len(sagas) != 1 else ''}</li>"]
    items += [f"<li><b>{n}</b> {esc(outcome)}</li>" for outcome, n in sorted(timeline.outcomes().items())]
    touched = sum(1 for lane in timeline.lanes if lane.sagas)
    items.append(
        f"<li><b>{touched}</b> of {len(timeline.lanes)} instance{'s' if len(timeline.lanes) != 1 else ''} acted on</li>"
    )
    if timeline.start is not None and timeline.end is not None:
        items.append(f"<li>{esc(utc(timeline.start))} \u2013 {esc(utc(timeline.end))}</li>")
    if timeline.unreadable:
        items.append(f"<li><b>{len(timeline.unreadable)}</b> unreadable saga documents</li>")
    return f'<ul class="summary">{"".join(items)}</ul>'


def _checks(checks: Sequence[tuple[bool, str]]) -> str:
    if not checks:
        return ""
    items = "".join(f'<li class="{"ok" if ok else "fail"}">{esc(text)}</li>' for ok, text in checks)
    return f'<ul class="checks" aria-label="checks">{items}</ul>'


def _sections(sections: Sequence[tuple[str, Sequence[str]]]) -> str:
    out = []
    for title, items in sections:
        lis = "".join(f"<li>{esc(item)}</li>" for item in items) or '<li class="empty">none</li>'
        out.append(f"<section><h2>{esc(title)}</h2><ul>{lis}</ul></section>")
    return f'<div class="final cols">{"".join(out)}</div>' if out else ""


def _history(timeline: Timeline) -> str:
    blocks = []
    for lane in timeline.lanes:
        sagas = "".join(f"<li>{esc(s.line())}</li>" for s in lane.sagas)
        rows = "".join(
            f'<li><time datetime="{esc(utc(e.at))}">{esc(hms(e.at))}</time> <span class="kind">{esc(e.kind)}</span> '
            f"<span>{esc(e.text)}</span></li>"
            for e in lane.entries
        )
        state = " \u2014 not managed (no opt-in tag): untouched" if lane.managed is False else ""
        body = f'<ul class="lane-sagas">{sagas}</ul><ol>{rows}</ol>' if rows else '<p class="empty">nothing done</p>'
        head = f"<h3>{esc(lane.title)}{esc(state)}</h3>"
        blocks.append(f'<article class="lane-history" aria-label="{esc(lane.title)}">{head}{body}</article>')
    heading = "<h2>History per instance (UTC)</h2>"
    return f'<section class="history">{heading}<div class="cols">{"".join(blocks)}</div></section>'


def render_html(
    timeline: Timeline,
    *,
    title: str = "ecs-events remediation timeline",
    subtitle: str = "",
    checks: Sequence[tuple[bool, str]] = (),
    sections: Sequence[tuple[str, Sequence[str]]] = (),
    now: datetime | None = None,
) -> str:
    """The whole page. ``checks``: (held, what) lines shown under the summary; ``sections``: (title, lines) shown
    under the chart; ``now``: a vertical line at that time (``ecs-events status``)."""
    sub = f'<p class="sub">{esc(subtitle)}</p>' if subtitle else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1>{sub}{_summary(timeline)}{_checks(checks)}</header>"
        f'<main><section class="chart" aria-label="chart">{chart(timeline, now)}</section>{legend()}'
        f"{_sections(sections)}{_history(timeline)}</main></body></html>\n"
    )


def page_from_store(store: Store | None, now: datetime | None = None) -> str:
    """The page for ``ecs-events status --html``: every saga in ``store`` (None: an empty store), ``now`` marked."""
    from ecs_events.timeline import from_store

    timeline = from_store(store, now=now) if store is not None else Timeline((), None, None)
    subtitle = f"read from the store at {utc(now)}" if now is not None else "read from the store"
    return render_html(timeline, subtitle=subtitle, now=now)
