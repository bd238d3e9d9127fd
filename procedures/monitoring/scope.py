"""Who sees which monitoring figures, and the filters of the monitoring pages.

* an admin (superuser): every office;
* a head (holds or acts for a position above staff): the offices where they are a head, and the
  offices below them (``Office.parent``) side by side;
* a user with the ``procedures.view_monitoring`` permission ("monev"): their own offices;
* everyone else: only their own figures (the tasks they did, in their offices).

A filter naming an SOP, a position, a person or an office outside that scope is refused with 403;
dates that make no sense (a reversed range, a period in the future) are a form error.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures import staffing
from procedures.models import Office, Position, Sop

MONEV_PERMISSION = "procedures.view_monitoring"
# How many semesters back the period list offers (any older range: the date fields).
SEMESTERS_OFFERED = 6
# The longest range one page reads: a report is per semester; a year on each side is plenty.
MAX_RANGE_DAYS = 2 * 366


@dataclass(frozen=True)
class Scope:
    """The offices whose figures the user sees, and whether only their own work."""

    office_ids: frozenset[int]
    own_user_id: int | None = None  # set: only this user's own figures

    @property
    def own_only(self) -> bool:
        return self.own_user_id is not None

    @property
    def side_by_side(self) -> bool:
        return len(self.office_ids) > 1 and not self.own_only


def monitoring_scope(user, standing) -> Scope:
    """The scope of ``user`` (``standing`` as ``selectors.standing_of`` reads it)."""
    if user.is_superuser:
        return Scope(frozenset(Office.objects.values_list("pk", flat=True)))
    offices = set(standing.offices) | staffing.user_office_ids(user)
    wide: set[int] = set()
    if standing.head_offices:
        wide |= staffing.with_offices_below(standing.head_offices)
    if user.has_perm(MONEV_PERMISSION):
        wide |= offices
    if wide:
        return Scope(frozenset(wide))
    return Scope(frozenset(offices), own_user_id=user.pk)


def may_see_monitoring(user, standing) -> bool:
    """Whether the navigation shows Pemantauan as an office's figures (a head, monev or admin)."""
    return user.is_superuser or standing.head or user.has_perm(MONEV_PERMISSION)


# ---------------------------------------------------------------------------------------------
# Periods
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: dt.date  # first day, included
    end: dt.date  # last day, included
    key: str = ""  # "2026-2" for a semester, "" for a range

    @property
    def label(self) -> str:
        if self.key:
            year, half = self.key.split("-")
            return _("Semester %(half)s %(year)s") % {"half": "I" if half == "1" else "II", "year": year}
        return f"{self.start:%d-%m-%Y} – {self.end:%d-%m-%Y}"

    def bounds(self, zone) -> tuple[dt.datetime, dt.datetime]:
        """The period as [start, end) moments in an office's zone."""
        return (dt.datetime.combine(self.start, dt.time.min, tzinfo=zone),
                dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tzinfo=zone))


def semester(key: str) -> Period:
    year, half = (int(part) for part in key.split("-"))
    if half == 1:
        return Period(dt.date(year, 1, 1), dt.date(year, 6, 30), key)
    return Period(dt.date(year, 7, 1), dt.date(year, 12, 31), key)


def semester_of(day: dt.date) -> Period:
    return semester(f"{day.year}-{1 if day.month <= 6 else 2}")


def semesters_until(day: dt.date, count: int = SEMESTERS_OFFERED) -> list[Period]:
    """The current semester and the ones before it, newest first."""
    found, current = [], semester_of(day)
    for _index in range(count):
        found.append(current)
        current = semester_of(current.start - dt.timedelta(days=1))
    return found


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    period: Period
    office_ids: frozenset[int]
    sop: Sop | None = None
    position: Position | None = None
    person: object | None = None  # a user

    def header_rows(self) -> list[tuple[str, str]]:
        """The filters as the exports' header rows (label, value)."""
        from procedures.permissions import display_name

        rows = [(_("Period"), self.period.label)]
        rows.append((_("Offices"), ", ".join(Office.objects.filter(pk__in=self.office_ids)
                                             .order_by("name").values_list("name", flat=True))))
        rows.append((_("SOP"), str(self.sop) if self.sop else _("all")))
        rows.append((_("Position"), self.position.name if self.position else _("all")))
        rows.append((_("Person"), display_name(self.person) if self.person else _("all")))
        return rows


class MonitoringFilterForm(forms.Form):
    """The filters as the page's GET form sends them; objects are checked against the scope after."""

    # Text, not a ChoiceField: a semester not offered gets our message, not Django's "valid choice".
    periode = forms.CharField(label=gettext_lazy("Period"), required=False, max_length=10, widget=forms.Select)
    dari = forms.DateField(label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sampai = forms.DateField(label=gettext_lazy("Until"), required=False,
                             widget=forms.DateInput(attrs={"type": "date"}))
    kantor = forms.IntegerField(label=gettext_lazy("Office"), required=False, min_value=1,
                                widget=forms.Select)
    sop = forms.IntegerField(label=gettext_lazy("SOP"), required=False, min_value=1, widget=forms.Select)
    jabatan = forms.IntegerField(label=gettext_lazy("Position"), required=False, min_value=1, widget=forms.Select)
    orang = forms.IntegerField(label=gettext_lazy("Person"), required=False, min_value=1, widget=forms.Select)

    def __init__(self, data, *, today: dt.date, scope: Scope):
        super().__init__(data)
        self.today, self.scope = today, scope
        self.semesters = semesters_until(today)
        self.fields["periode"].widget.choices = [("", _("Current semester"))] + [
            (period.key, period.label) for period in self.semesters] + [("rentang", _("Date range"))]
        offices = Office.objects.filter(pk__in=scope.office_ids).order_by("name")
        self.fields["kantor"].widget.choices = [("", _("All my offices"))] + [(o.pk, o.name) for o in offices]
        sops = Sop.objects.filter(office_id__in=scope.office_ids).prefetch_related("revisions").order_by("kode")
        self.fields["sop"].widget.choices = [("", _("All SOPs"))] + [(sop.pk, str(sop)) for sop in sops]
        if scope.own_only:
            for name in ("jabatan", "orang"):
                del self.fields[name]
        else:
            positions = Position.objects.filter(office_id__in=scope.office_ids).order_by("name")
            self.fields["jabatan"].widget.choices = [("", _("All positions"))] + [
                (p.pk, p.name) for p in positions]
            people = (staffing.users_of(scope.office_ids).filter(is_active=True).select_related("profile__office")
                      .order_by("first_name", "username"))
            self.fields["orang"].widget.choices = [("", _("Everyone"))] + [
                (u.pk, staffing.user_label(u)) for u in people[:500]]

        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-select form-select-sm" if name in (
                "periode", "kantor", "sop", "jabatan", "orang") else "form-control form-control-sm"

    def clean_periode(self) -> str:
        key = self.cleaned_data.get("periode") or ""
        if key in ("", "rentang"):
            return key
        try:
            period = semester(key)
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Choose a semester from the list.")) from None
        if period.start > self.today:
            raise forms.ValidationError(_("That semester has not begun yet."))
        return key

    def clean(self):
        data = super().clean()
        start, end = data.get("dari"), data.get("sampai")
        if data.get("periode") == "rentang" or start or end:
            if not (start and end):
                raise forms.ValidationError(_("Give both dates of the range (from and until)."))
            if end < start:
                raise forms.ValidationError(_("The range ends before it starts: %(start)s is after %(end)s.") % {
                    "start": f"{start:%d-%m-%Y}", "end": f"{end:%d-%m-%Y}"})
            if start > self.today:
                raise forms.ValidationError(_("The range starts in the future; nothing has been done then yet."))
            if (end - start).days > MAX_RANGE_DAYS:
                raise forms.ValidationError(_("Choose a range of at most two years."))
            data["period"] = Period(start, min(end, self.today))
        elif data.get("periode"):
            data["period"] = semester(data["periode"])
        else:
            data["period"] = semester_of(self.today)
        return data

    def filters(self, user) -> Filters:
        """The valid form's filters; an object outside the user's scope is refused (403)."""
        data = self.cleaned_data
        scope = self.scope
        offices = scope.office_ids
        if data.get("kantor"):
            if data["kantor"] not in offices:
                raise PermissionDenied(_("That office's figures are not yours to see."))
            offices = frozenset({data["kantor"]})
        sop = position = person = None
        if data.get("sop"):
            sop = Sop.objects.filter(pk=data["sop"], office_id__in=offices).first()
            if sop is None:
                raise PermissionDenied(_("That SOP is not one of the offices whose figures you see."))
        if data.get("jabatan"):
            position = Position.objects.filter(pk=data["jabatan"], office_id__in=offices).first()
            if position is None:
                raise PermissionDenied(_("That position is not one of the offices whose figures you see."))
        if scope.own_only:
            person = user
        elif data.get("orang"):
            person = staffing.users_of(offices).filter(pk=data["orang"]).first()
            if person is None:
                raise PermissionDenied(_("That person does not belong to the offices whose figures you see."))
        return Filters(period=data["period"], office_ids=offices, sop=sop, position=position, person=person)


def today_for(offices: frozenset[int]) -> dt.date:
    """Today in the easternmost zone among the offices (WIT's day begins first), else the server's."""
    zones = set(Office.objects.filter(pk__in=offices).values_list("time_zone", flat=True))
    for zone in (Office.TimeZone.WIT, Office.TimeZone.WITA, Office.TimeZone.WIB):
        if zone in zones:
            return timezone.localdate(timezone=Office(time_zone=zone).zoneinfo)
    return timezone.localdate()


