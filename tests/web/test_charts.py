"""The SVG charts: well-formed SVG with a title and a text alternative, bars in proportion to the data, text
escaped; and the overview's tables hold the very numbers the charts are drawn from."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from assistant.overview import ENDINGS, CollectionFigures, Daily, DocumentFigure, ManagerOverview
from web.audit.charts import PALETTE, Series, bars, columns, nice_top, shares
from web.audit.overview_charts import manager_charts, short_day
from web.i18n import translator

SVG = "{http://www.w3.org/2000/svg}"


def parsed(markup: str) -> ET.Element:
    """The chart as XML (raises when it is not well-formed)."""
    return ET.fromstring(str(markup))


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20),
                                             (230, 500)])
def test_the_axis_ends_at_a_round_number_at_or_above_the_largest_value(value: int, top: int) -> None:
    assert nice_top(value) == top


def test_columns_are_valid_svg_with_a_title_a_description_and_an_accessible_name() -> None:
    svg = parsed(columns("c1", "Vragen per dag", "Tien vragen", ["2026-11-01", "2026-11-02"],
                         [Series("beantwoord", [3, 5]), Series("geen bron", [2, 0])]))
    assert svg.tag == f"{SVG}svg" and svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "c1-title c1-desc"
    assert svg.find(f"{SVG}title").text == "Vragen per dag"
    assert svg.find(f"{SVG}desc").text == "Tien vragen"


def test_column_segments_are_in_proportion_to_their_values_and_zero_draws_nothing() -> None:
    svg = parsed(columns("c", "t", "d", ["a", "b"], [Series("x", [3, 5]), Series("y", [2, 0])]))
    bars_ = [r for r in svg.iter(f"{SVG}rect") if float(r.get("width", 0)) > 12]  # not the legend's swatches
    heights = [float(r.get("height")) for r in bars_]
    assert len(heights) == 3  # the zero draws no rect
    assert heights[0] / heights[2] == pytest.approx(3 / 5, rel=0.01)  # x on a, x on b
    assert heights[1] / heights[2] == pytest.approx(2 / 5, rel=0.01)
    legend = [t.text for t in svg.iter(f"{SVG}text")]
    assert "x" in legend and "y" in legend  # every series is named, not only coloured


def test_text_in_a_chart_is_escaped() -> None:
    markup = str(bars("b", "<script>", "a & b", ["<img src=x onerror=alert(1)>"], [4]))
    svg = parsed(markup)
    assert "<script>" not in markup and "<img" not in markup
    assert svg.find(f"{SVG}title").text == "<script>"


def test_shares_split_one_bar_by_share_and_an_empty_period_draws_only_the_frame() -> None:
    svg = parsed(shares("s", "t", "d", [Series("a", [3]), Series("b", [1])]))
    filled = [float(r.get("width")) for r in svg.iter(f"{SVG}rect") if r.get("fill") in PALETTE[:2]
              and float(r.get("width")) > 10]
    assert filled[0] / filled[1] == pytest.approx(3.0, rel=0.01)
    empty = parsed(shares("s", "t", "d", [Series("a", [0])]))
    assert [r.get("fill") for r in empty.iter(f"{SVG}rect")] == ["#f2f2f2", PALETTE[0]]  # frame, legend


def _overview() -> ManagerOverview:
    days = ("2026-11-01", "2026-11-02")
    questions = Daily(days, ENDINGS, {("2026-11-01", "answered"): 4, ("2026-11-02", "no_source"): 2,
                                      ("2026-11-02", "withheld"): 1})
    feedback = Daily(days, ("useful", "not_useful"), {("2026-11-01", "useful"): 3, ("2026-11-01", "not_useful"): 1})
    docs = CollectionFigures("algemeen", [DocumentFigure("d1", "Thuiswerkbeleid", 5, 4)],
                             [DocumentFigure("d2", "Archiefbeleid", 1, 0)])
    return ManagerOverview(2, "2026-11-01T00:00:00.000000Z", questions, feedback, [], [docs])


def test_the_tables_beside_the_charts_hold_the_numbers_they_are_drawn_from() -> None:
    overview = _overview()
    charts = manager_charts(overview, translator("nl"))
    questions = charts["questions"]
    assert questions.headers[0] == "Dag" and questions.headers[-1] == "Totaal"
    for row in questions.rows:
        day = row[0]
        assert row[1:-1] == [str(overview.questions.count(day, k)) for k in ENDINGS]
        assert row[-1] == str(overview.questions.day_total(day))
    assert questions.totals == ["Totaal", "4", "1", "2", "0", "7"]
    assert "7 in totaal" in questions.summary and "2026-11-01 met 4" in questions.summary
    shares_ = charts["shares"]
    assert [r[1:] for r in shares_.rows] == [["4", "57%"], ["1", "14%"], ["2", "29%"], ["0", "0%"]]
    assert charts["feedback"].rows[0][-1] == "75%" and charts["feedback"].totals[-1] == "75%"
    cited = charts["documents"]["algemeen"]
    assert cited.rows == [["Thuiswerkbeleid", "4", "5"]]
    assert "Thuiswerkbeleid" in cited.summary
    parsed(cited.svg)


def test_the_english_overview_speaks_english() -> None:
    charts = manager_charts(_overview(), translator("en"))
    assert charts["questions"].headers[0] == "Day" and "busiest day" in charts["questions"].summary


def test_a_day_is_shown_as_day_and_month() -> None:
    assert short_day("2026-11-05") == "5-11"


def test_a_long_legend_wraps_inside_the_chart_and_the_chart_grows_to_hold_it() -> None:
    labels = [f"een heel lange naam van reeks {n}" for n in range(6)]
    one = parsed(columns("c", "t", "d", ["a"], [Series(labels[0], [1])]))
    many = parsed(columns("c", "t", "d", ["a"], [Series(label, [1]) for label in labels]))
    swatches = [r for r in many.iter(f"{SVG}rect") if r.get("width") == "10"]
    assert len({r.get("y") for r in swatches}) > 1  # more than one row
    assert all(float(r.get("x")) + 14 + 7 * len(labels[0]) <= 640 for r in swatches)
    assert int(many.get("height")) > int(one.get("height"))
    assert many.get("viewBox") == f"0 0 640 {many.get('height')}"
