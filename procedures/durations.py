"""Time standards (waktu) of SOP steps: the grammar, and the total of a sheet.

``waktu`` is ``N UNIT`` or ``N-M UNIT`` (a range); ``jumlah_waktu`` may combine several terms
(``5 hari 4 jam 45 menit``). Totals add as the sheets print them: ``menit`` and ``jam`` together,
``hari``, ``minggu`` and ``bulan`` each on their own, nothing carried from ``jam`` into ``hari``.
Deadlines on the working calendar live in :mod:`procedures.working_calendar`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Canonical units, in the order a total is written.
MINUTE, HOUR, DAY, WEEK, MONTH = "menit", "jam", "hari", "minggu", "bulan"
UNITS = (MONTH, WEEK, DAY, HOUR, MINUTE)

# The words a step's waktu may use (format page), case-insensitive.
UNIT_WORDS = {
    "menit": MINUTE, "minute": MINUTE, "minutes": MINUTE,
    "jam": HOUR, "hour": HOUR, "hours": HOUR,
    "hari": DAY, "day": DAY, "days": DAY,
    "minggu": WEEK, "week": WEEK, "weeks": WEEK,
    "bulan": MONTH, "month": MONTH, "months": MONTH,
}
# A step's waktu is at most one year: as many of its unit as a calendar year holds. A deadline
# is then a few years ahead at most, whatever the office's working hours, and quick to compute
# (``999999 hari`` took seconds and ``99999 bulan`` lay beyond the calendar's last year).
MAX_PER_UNIT = {MINUTE: 365 * 24 * 60, HOUR: 365 * 24, DAY: 365, WEEK: 52, MONTH: 12}

# Printed totals also abbreviate ("5 hr 4 jam 45 Menit"); steps do not.
TOTAL_UNIT_WORDS = UNIT_WORDS | {"hr": DAY, "mnt": MINUTE, "mgg": WEEK, "bln": MONTH}

_TERM = r"(?P<low>\d+)\s*(?:[-\u2013]\s*(?P<high>\d+)\s*)?(?P<unit>[A-Za-z]+)"
_WAKTU_RE = re.compile(rf"^\s*{_TERM}\s*$")
_TERM_RE = re.compile(rf"\s*{_TERM}\s*")


class DurationError(ValueError):
    """A waktu text that does not follow the grammar; the message says why, in the UI language."""


@dataclass(frozen=True)
class Duration:
    """A parsed time standard: ``low``–``high`` of ``unit`` (low == high unless a range)."""

    low: int
    high: int
    unit: str

    def __str__(self) -> str:
        amount = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        return f"{amount} {self.unit}"


def _parse_term(low: str, high: str | None, unit_word: str, words: dict[str, str], text: str,
                *, bounded: bool = False) -> Duration:
    unit = words.get(unit_word.lower())
    if unit is None:
        raise DurationError(
            _("“%(text)s”: unknown unit “%(unit)s” (use menit, jam, hari, minggu or bulan)")
            % {"text": text, "unit": unit_word}
        )
    low_n = int(low)
    high_n = int(high) if high is not None else low_n
    if low_n < 1 or high_n < 1:
        raise DurationError(_("“%(text)s”: a time must be at least 1") % {"text": text})
    if high_n < low_n:
        raise DurationError(
            _("“%(text)s”: the range runs backwards (%(low)s is more than %(high)s)")
            % {"text": text, "low": low_n, "high": high_n}
        )
    if bounded and high_n > MAX_PER_UNIT[unit]:
        raise DurationError(
            _("“%(text)s”: a step may take at most one year (%(limit)s %(unit)s)")
            % {"text": text, "limit": MAX_PER_UNIT[unit], "unit": unit}
        )
    return Duration(low_n, high_n, unit)


def parse_waktu(text: str) -> Duration:
    """Parse a step's time standard such as ``15 menit``, ``3-4 jam`` or ``1 Bulan`` (at most a year)."""
    match = _WAKTU_RE.match(text or "")
    if not match:
        raise DurationError(
            _("“%(text)s” is not a time standard: write a number and a unit, e.g. “15 menit” or “3-4 jam”")
            % {"text": text}
        )
    return _parse_term(match["low"], match["high"], match["unit"], UNIT_WORDS, text, bounded=True)


@dataclass(frozen=True)
class Total:
    """A sum of time standards: per unit group, the lower and upper bound.

    ``minutes`` holds menit and jam together (60 menit = 1 jam); the others count their own unit.
    """

    minutes: tuple[int, int] = (0, 0)
    days: tuple[int, int] = (0, 0)
    weeks: tuple[int, int] = (0, 0)
    months: tuple[int, int] = (0, 0)

    GROUP_OF_UNIT = {MINUTE: "minutes", HOUR: "minutes", DAY: "days", WEEK: "weeks", MONTH: "months"}
    FACTOR = {MINUTE: 1, HOUR: 60, DAY: 1, WEEK: 1, MONTH: 1}

    def __add__(self, other: Total) -> Total:
        return Total(**{
            group: (getattr(self, group)[0] + getattr(other, group)[0],
                    getattr(self, group)[1] + getattr(other, group)[1])
            for group in ("minutes", "days", "weeks", "months")
        })

    @classmethod
    def of(cls, duration: Duration) -> Total:
        factor = cls.FACTOR[duration.unit]
        return cls(**{cls.GROUP_OF_UNIT[duration.unit]: (duration.low * factor, duration.high * factor)})

    def contains(self, other: Total) -> bool:
        """Whether every bound of ``other`` lies within this total's bounds."""
        return all(
            getattr(self, group)[0] <= getattr(other, group)[0]
            and getattr(other, group)[1] <= getattr(self, group)[1]
            for group in ("minutes", "days", "weeks", "months")
        )

    def _bound_text(self, index: int) -> str:
        minutes = self.minutes[index]
        parts = [
            (self.months[index], MONTH),
            (self.weeks[index], WEEK),
            (self.days[index], DAY),
            (minutes // 60, HOUR),
            (minutes % 60, MINUTE),
        ]
        return " ".join(f"{amount} {unit}" for amount, unit in parts if amount) or f"0 {MINUTE}"

    def __str__(self) -> str:
        low, high = self._bound_text(0), self._bound_text(1)
        return low if low == high else f"{low} – {high}"


def sum_durations(durations: list[Duration]) -> Total:
    """Add up time standards the way the sheets print their total."""
    total = Total()
    for duration in durations:
        total = total + Total.of(duration)
    return total


def parse_total(text: str) -> Total:
    """Parse a printed total such as ``5 hari 4 jam 45 menit`` or ``5 hr 4 jam 45 Menit``."""
    position, terms, seen = 0, [], set()
    text = text or ""
    while position < len(text.rstrip()):
        match = _TERM_RE.match(text, position)
        if not match:
            raise DurationError(
                _("“%(text)s” is not a total time: write terms such as “5 hari 4 jam 45 menit”")
                % {"text": text}
            )
        term = _parse_term(match["low"], match["high"], match["unit"], TOTAL_UNIT_WORDS, text)
        if term.unit in seen:
            raise DurationError(
                _("“%(text)s” names the unit “%(unit)s” twice") % {"text": text, "unit": term.unit}
            )
        seen.add(term.unit)
        terms.append(term)
        position = match.end()
    if not terms:
        raise DurationError(_("the total time is empty"))
    return sum_durations(terms)


def normal_total(text: str) -> str:
    """A printed total as the sums are written: ``75 menit`` as ``1 jam 15 menit``, units from
    bulan down to menit, abbreviations written out (``5 hr`` as ``5 hari``). Nothing is carried
    from jam into hari (a hari is a working day, whose hours the office's calendar sets), so
    ``27 jam`` stays. Text that is no total is returned as written."""
    try:
        return str(parse_total(text))
    except DurationError:
        return text


@dataclass
class TotalCheck:
    """The computed total of a sheet and, when the printed one disagrees, a warning."""

    computed: Total
    warning: str | None = field(default=None)


def check_total(durations: list[Duration], stated: str | None) -> TotalCheck:
    """Compute the total of the steps and compare it with the printed ``jumlah_waktu``."""
    computed = sum_durations(durations)
    if not stated:
        return TotalCheck(computed)
    if computed.contains(parse_total(stated)):
        return TotalCheck(computed)
    return TotalCheck(
        computed,
        _("jumlah_waktu says “%(stated)s” but the steps add up to “%(computed)s”")
        % {"stated": stated, "computed": computed},
    )
