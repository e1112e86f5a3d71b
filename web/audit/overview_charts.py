"""The overviews' charts as the pages show them: each an SVG (web.audit.charts), its text alternative in words, and
the table of the same numbers beside it. The table is built from the same counts as the chart, so the two
cannot disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from markupsafe import Markup

from assistant.overview import ENDINGS, RATINGS, AuditorOverview, Daily, ManagerOverview
from web.audit.charts import Series, bars, columns, shares

Translate = Callable[..., str]


@dataclass(frozen=True)
class ChartView:
    """One chart: its id, title, text alternative, the SVG, and the table beside it."""

    id: str
    title: str
    summary: str
    svg: Markup
    headers: list[str]
    rows: list[list[str]]
    totals: list[str] = field(default_factory=list)  # the table's last row, when it has one


def short_day(day: str) -> str:
    """A day as the axis shows it: 20-11 for 2026-11-20."""
    return f"{int(day[8:10])}-{int(day[5:7])}"


def percent(share: float) -> str:
    """A share as a whole percentage."""
    return f"{round(share * 100)}%"


def _daily(chart_id: str, title: str, daily: Daily, labels: dict[str, str], t: Translate, *,
           extra: tuple[str, Callable[[str], str]] | None = None) -> ChartView:
    """Stacked columns per day, and the table: a row per day, a column per series, the day's total."""
    series = [Series(labels[key], [daily.count(day, key) for day in daily.days]) for key in daily.series]
    busiest = max(daily.days, key=daily.day_total) if daily.days else ""
    if daily.total():
        parts = ", ".join(f"{labels[k]} {daily.total(k)}" for k in daily.series if daily.total(k))
        summary = t("overview.daily_summary", days=len(daily.days), total=daily.total(), parts=parts,
                    day=busiest, most=daily.day_total(busiest))
    else:
        summary = t("overview.daily_empty", days=len(daily.days))
    headers = [t("overview.day"), *(labels[k] for k in daily.series), t("overview.total")]
    rows = [[day, *(str(daily.count(day, k)) for k in daily.series), str(daily.day_total(day))]
            for day in daily.days]
    totals = [t("overview.total"), *(str(daily.total(k)) for k in daily.series), str(daily.total())]
    if extra is not None:
        headers.append(extra[0])
        rows = [[*row, extra[1](row[0])] for row in rows]
        totals.append(extra[1](""))
    svg = columns(chart_id, title, summary, daily.days, series, [short_day(d) for d in daily.days])
    return ChartView(chart_id, title, summary, svg, headers, rows, totals)


def _endings(t: Translate) -> dict[str, str]:
    return {key: t(f"overview.ending_{key}") for key in ENDINGS}


def _shares(chart_id: str, daily: Daily, labels: dict[str, str], t: Translate) -> ChartView:
    """The period's shares of each series as one bar, and the table: count and share per series."""
    title = t("overview.shares")
    parts = ", ".join(f"{labels[k]} {percent(daily.share(k))}" for k in daily.series)
    summary = t("overview.shares_summary", total=daily.total(), parts=parts) if daily.total() \
        else t("overview.daily_empty", days=len(daily.days))
    svg = shares(chart_id, title, summary, [Series(labels[k], [daily.total(k)]) for k in daily.series])
    rows = [[labels[k], str(daily.total(k)), percent(daily.share(k))] for k in daily.series]
    return ChartView(chart_id, title, summary, svg, [t("overview.ending"), t("overview.count"),
                                                     t("overview.share")], rows,
                     [t("overview.total"), str(daily.total()), "100%" if daily.total() else "0%"])


def manager_charts(overview: ManagerOverview, t: Translate) -> dict[str, object]:
    """The information manager's charts, and per collection the chart of its most cited documents."""
    endings = _endings(t)
    ratings = {key: t(f"overview.rating_{key}") for key in RATINGS}
    feedback = overview.feedback

    def useful_share(day: str) -> str:
        done = feedback.day_total(day) if day else feedback.total()
        useful = feedback.count(day, "useful") if day else feedback.total("useful")
        return percent(useful / done) if done else "–"

    documents = {}
    for collection in overview.collections:
        labels = [d.title or t("overview.deleted_document", id=d.doc_id[:8]) for d in collection.most_cited]
        cited = [d.cited for d in collection.most_cited]
        chart_id = f"cited-{collection.name}"
        title = t("overview.most_cited", collection=collection.name)
        summary = t("overview.cited_summary", collection=collection.name, top=labels[0], n=cited[0]) if labels \
            else t("overview.cited_none", collection=collection.name)
        documents[collection.name] = ChartView(
            chart_id, title, summary, bars(chart_id, title, summary, labels, cited),
            [t("overview.document"), t("overview.cited"), t("overview.given")],
            [[label, str(d.cited), str(d.given)] for label, d in zip(labels, collection.most_cited, strict=True)])
    return {
        "questions": _daily("questions", t("overview.questions"), overview.questions, endings, t),
        "shares": _shares("shares", overview.questions, endings, t),
        "feedback": _daily("feedback", t("overview.feedback"), feedback, ratings, t,
                           extra=(t("overview.useful_share"), useful_share)),
        "documents": documents,
    }


def auditor_charts(overview: AuditorOverview, t: Translate) -> dict[str, object]:
    """The auditor's charts: outcomes, redacted kinds of personal data, and readings of the log, per day."""
    kinds = {key: key or t("overview.unknown") for key in overview.redactions.series}
    actions = {key: t(f"overview.reading_{key.replace('audit.', '')}") for key in overview.readings.series}
    return {
        "outcomes": _daily("outcomes", t("overview.outcomes"), overview.outcomes, _endings(t), t),
        "redactions": _daily("redactions", t("overview.redactions"), overview.redactions, kinds, t),
        "readings": _daily("readings", t("overview.readings"), overview.readings, actions, t),
        "reading_labels": actions,
    }
