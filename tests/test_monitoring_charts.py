"""The monitoring charts (procedures.monitoring.charts): safe to embed under the CSP, styled from static/."""

import datetime as dt
from pathlib import Path

from django.conf import settings
from lxml import etree

from procedures.monitoring.charts import chart_css, step_chart, trend_chart
from procedures.monitoring.figures import StepRow, WeekRow

SVG = "{http://www.w3.org/2000/svg}"


def steps(name="Patroli"):
    return [StepRow(1, name, 1, "Memerintahkan", "Kepala", False, worked=[10, 20], standards=[15, 15]),
            StepRow(1, name, 2, "<b>Melaksanakan</b>", "Staf", False, worked=[600], standards=[510])]


def test_the_static_stylesheet_is_pygals_current_one():
    css = Path(settings.BASE_DIR, "static", "css", "monitoring-charts.css").read_text()
    assert css == chart_css(), "run chart_css() into static/css/monitoring-charts.css"


def test_a_chart_has_no_script_style_or_handlers():
    for svg in (step_chart("Patroli", steps()), trend_chart([WeekRow(dt.date(2026, 8, 3), 4, 3)])):
        root = etree.fromstring(svg.encode())
        for element in root.iter():
            assert isinstance(element.tag, str), "no comments"
            assert etree.QName(element).localname not in ("script", "style", "foreignObject")
            assert not [name for name in element.attrib if name == "style" or name.lower().startswith("on")]
        assert root.get("role") == "img" and root.get("aria-label")


def test_user_text_is_escaped_in_the_svg():
    svg = step_chart('<script>alert("x")</script>', steps('<script>alert("x")</script>'))
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg


def test_the_print_chart_carries_its_look_as_attributes():
    import base64

    from procedures.monitoring.charts import STYLE, step_chart_image

    uri = step_chart_image("Patroli", steps())
    assert uri.startswith("data:image/svg+xml;base64,")
    root = etree.fromstring(base64.b64decode(uri.split(",", 1)[1]))
    assert not [e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname in ("style", "script")]
    fills = {e.get("fill") for e in root.iter() if isinstance(e.tag, str)}
    assert set(STYLE.colors[:3]) <= fills
