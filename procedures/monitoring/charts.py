"""The monitoring charts: SVG drawn on the server by pygal, made safe to embed under the site's CSP.

pygal writes a ``<style>`` and a ``<script>`` into every chart (and a hidden tooltip with a
``style=`` attribute); the site's Content-Security-Policy allows neither inline script nor inline
style. So the chart is drawn without its JavaScript (``js=[]``), then cleaned: every ``<script>``,
``<style>``, ``style=`` and ``on…=`` attribute and comment removed. Its look comes from
static/css/monitoring-charts.css instead, which is pygal's own stylesheet scoped to
``.pygal-chart`` (``chart_css()`` writes it; a test checks the file is current). Text from users
(SOP names, activities) reaches the SVG as lxml text nodes, escaped on serialising.
"""

from __future__ import annotations

import base64
import functools
import re

import pygal
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from lxml import etree

from procedures.monitoring.figures import StepRow, WeekRow

# Colours of the series, in order: median, 90th percentile, standard (Bootstrap's primary, warning, secondary).
STYLE = pygal.style.Style(
    background="transparent", plot_background="transparent", foreground="#212529", foreground_strong="#212529",
    foreground_subtle="#6c757d", colors=("#0d6efd", "#fd7e14", "#6c757d", "#198754"),
    font_family="DejaVu Sans, sans-serif", opacity=".9", opacity_hover="1", transition="none",
)
CONFIG = dict(js=[], disable_xml_declaration=True, no_prefix=True, style=STYLE, explicit_size=False,
              width=720, height=320, legend_at_bottom=True, print_values=False, truncate_label=18)


def _clean(svg: str, label: str) -> SafeString:
    """The chart without script, inline style or comments, labelled for screen readers."""
    root = etree.fromstring(svg.encode())
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # comments, processing instructions
            element.getparent().remove(element)
            continue
        name = etree.QName(element).localname
        if name in ("script", "style") or "tooltip" in (element.get("class") or "").split():
            element.getparent().remove(element)
            continue
        for attribute in list(element.attrib):
            if attribute == "style" or attribute.lower().startswith("on"):
                del element.attrib[attribute]
    root.set("role", "img")
    root.set("aria-label", label)
    root.set("class", "pygal-chart monitoring-chart")
    root.attrib.pop("id", None)
    return mark_safe(etree.tostring(root, encoding="unicode"))


def _hours(minutes: float | None) -> float | None:
    return None if minutes is None else round(minutes / 60, 2)


@functools.lru_cache(maxsize=256)
def _render(kind: str, title: str, x_labels: tuple[str, ...], series: tuple[tuple[str, tuple], ...],
            options: tuple[tuple[str, object], ...], label: str) -> SafeString:
    """Draw and clean a chart; the same figures give the same SVG, so a page shown again (or by a
    colleague) costs no drawing (some 30 ms a chart)."""
    return _clean(_draw(kind, title, x_labels, series, options), label)


def _draw(kind: str, title: str, x_labels, series, options) -> str:
    chart = getattr(pygal, kind)(**CONFIG, **dict(options))
    chart.title = title
    chart.x_labels = list(x_labels)
    for name, values in series:
        chart.add(name, list(values))
    return chart.render(is_unicode=True)


def _step_series(steps: list[StepRow]) -> tuple:
    return ((_("Median"), tuple(_hours(row.median_worked) for row in steps)),
            (_("90th percentile"), tuple(_hours(row.p90_worked) for row in steps)),
            (_("Standard"), tuple(_hours(row.standard) for row in steps)))


def _for_print(svg: str) -> str:
    """pygal's SVG with its look as presentation attributes instead of a stylesheet: WeasyPrint draws
    an SVG without applying the stylesheet inside it (every shape would be black)."""
    root = etree.fromstring(svg.encode())
    root.set("font-family", STYLE.font_family)
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            element.getparent().remove(element)
            continue
        name = etree.QName(element).localname
        classes = set((element.get("class") or "").split())
        if name in ("script", "style") or "tooltip" in classes:
            element.getparent().remove(element)
            continue
        element.attrib.pop("style", None)
        around = {cls for ancestor in element.iterancestors() for cls in (ancestor.get("class") or "").split()}
        color = next((cls for cls in classes if cls.startswith("color-")), None)
        if color is not None:
            index = int(color.split("-")[1]) % len(STYLE.colors)
            element.set("fill", STYLE.colors[index])
            element.set("stroke", STYLE.colors[index])
        if "background" in classes:
            element.set("fill", "none")
        if name == "path" and "axis" in around:
            element.set("fill", "none")
            major = classes & {"major", "axis"} and "guide" not in classes
            element.set("stroke", "#212529" if major else "#adb5bd")
            element.set("stroke-width", "1" if major else "0.5")
        elif name == "path" and "nofill" in classes:
            element.set("fill", "none")
        if name == "text":
            element.set("fill", "#212529")
            element.set("stroke", "none")
            size = "16" if "title" in classes else "14" if "legends" in around else "10"
            element.set("font-size", size)
            if "title" in classes or "x" in around:
                element.set("text-anchor", "middle")
            elif "y" in around:
                element.set("text-anchor", "end")
    return etree.tostring(root, encoding="unicode")


def step_chart_image(sop_name: str, steps: list[StepRow]) -> str:
    """The step chart for a PDF, as a data: image (the same figures and series as the page's)."""
    svg = _for_print(_draw("Bar", sop_name, tuple(str(row.nomor) for row in steps), _step_series(steps),
                           (("y_title", _("hours")),)))
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def step_chart(sop_name: str, steps: list[StepRow]) -> SafeString:
    """Per step of one SOP: the median and 90th percentile of the time taken against the standard (hours)."""
    return _render(
        "Bar", sop_name, tuple(str(row.nomor) for row in steps), _step_series(steps),
        (("y_title", _("hours")),),
        _("Time taken per step of %(sop)s against the standard; the table beside it gives the figures.")
        % {"sop": sop_name})


def trend_chart(weeks: list[WeekRow]) -> SafeString:
    """Week by week: the share of steps done within the standard (percent)."""
    return _render(
        "Line", _("Share of steps within the standard, week by week"), tuple(f"{row.week:%d-%m}" for row in weeks),
        ((_("Within standard"), tuple(row.within_share for row in weeks)),),
        (("range", (0, 100)), ("y_title", "%"), ("show_dots", True)),
        _("Share of steps done within the standard per week; the table beside it gives the figures."))


def chart_css() -> str:
    """pygal's stylesheet for ``STYLE``, every rule scoped to ``.pygal-chart`` (static/css/monitoring-charts.css)."""
    chart = pygal.Bar(**CONFIG)
    for index in range(len(STYLE.colors)):  # pygal writes the colour rules of the series drawn
        chart.add(str(index), [1])
    svg = chart.render(is_unicode=True)
    css = "\n".join(re.findall(r"<style[^>]*>(.*?)</style>", svg, re.S)).replace("&gt;", ">")
    rules = []
    for selectors, body in re.findall(r"([^{}]*)\{([^{}]*)\}", css):
        scoped = ", ".join(f".pygal-chart {selector.strip()}".rstrip() for selector in selectors.split(","))
        rules.append(f"{scoped} {{{body.strip()}}}")
    return "/* Written by procedures.monitoring.charts.chart_css(): pygal's chart style, scoped. */\n" + \
        "\n".join(rules) + "\n.pygal-chart {max-width: 100%; height: auto;}\n"


# A step is coloured on the SOP's flowchart by the share of its tasks done within the standard.
WITHIN_FROM, SLOW_FROM = 80.0, 50.0


def lateness_states(steps: list[StepRow]) -> dict[int, str]:
    """Step number → "within" (≥ 80 %), "slow" (≥ 50 %) or "late", for the steps with figures."""
    states = {}
    for row in steps:
        if row.within_share is None:
            continue
        states[row.nomor] = ("within" if row.within_share >= WITHIN_FROM
                             else "slow" if row.within_share >= SLOW_FROM else "late")
    return states


def bottleneck_flowchart(sop, steps: list[StepRow]) -> SafeString | None:
    """The SOP's own flowchart (its latest revision), each step coloured by its lateness."""
    from procedures import flowchart

    revision = sop.latest_revision
    if revision is None:
        return None
    return mark_safe(flowchart.flow_svg(revision, states=lateness_states(steps)))  # noqa: S308 (drawn by lxml)
