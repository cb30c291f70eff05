"""The timeline as one self-contained HTML page: inline CSS and inline SVG, no script, no external resource (it opens
from a file, from a CI artifact, or a mail attachment, offline).

Top to bottom: a summary header (sagas, outcomes, time span, optional checks), the chart
(``ecs_events.tools.timeline_svg``: one lane per instance on a UTC axis) and its legend, optional sections from the
caller (the demo's final state), then each lane's history as a list, the same facts as text for screen readers, search
and tests.

Every string from the store is escaped (``esc``): event data is untrusted, an instance name or a step detail may
hold markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ecs_events.tools.timeline import Timeline, hms, saga_line
from ecs_events.tools.timeline_svg import chart, esc, legend, utc

if TYPE_CHECKING:
    from ecs_events.store.base import Store

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
        sagas = "".join(f"<li>{esc(saga_line(s))}</li>" for s in lane.sagas)
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
    from ecs_events.tools.timeline import from_store

    timeline = from_store(store, now=now) if store is not None else Timeline((), None, None)
    subtitle = f"read from the store at {utc(now)}" if now is not None else "read from the store"
    return render_html(timeline, subtitle=subtitle, now=now)
