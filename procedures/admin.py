"""The Django admin: offices and their calendars, Plt/Plh, the SOP library with the "Impor SOP"
page, and the runs with their tasks and audit events. Users, their positions and sign-in lockouts
are in procedures.admin_accounts (imported here, so the admin finds them).

The admin holds no rules of its own: importing and exporting go through ``procedures.library``,
the same services as the ``import_sops`` and ``export_sop`` commands; appointing a Plt/Plh and
cancelling a run go through ``procedures.engine``, like the views. Revisions, runs, tasks and
events are history, so the admin shows them but never edits them.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from procedures import admin_accounts  # noqa: F401 (registers users and lockouts)
from procedures import engine
from procedures.admin_people import (
    ActingOfficeForm,
    PositionHoldersAdmin,
    ScopedPickers,
    SopReadinessAdmin,
    readiness_context,
)
from procedures.admin_logo import OfficeLogoAdmin, OfficeLogoForm
from procedures.import_report import imported_sops, with_step_names
from procedures.library import ImportResult, Outcome, sop_export, sop_import_files
from procedures.models import (
    ActingAssignment,
    Event,
    Holiday,
    Office,
    Position,
    Run,
    Sop,
    SopColumn,
    SopRevision,
    Step,
    Task,
    WorkingHours,
)
from procedures.sopfile import END, Problem

# The admin's title bar and browser tab name the product, in the user's language ("Administrasi
# sopflow"), not Django's "Django administration".
admin.site.site_header = gettext_lazy("sopflow administration")
admin.site.site_title = gettext_lazy("sopflow administration")
admin.site.index_title = gettext_lazy("Site administration")

# ---------------------------------------------------------------------------------------------
# Organisation
# ---------------------------------------------------------------------------------------------


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class PositionInline(admin.TabularInline):
    model = Position
    fields = ["name", "level"]
    extra = 0
    show_change_link = True  # holders are chosen on the position's own page


@admin.register(Office)
class OfficeAdmin(OfficeLogoAdmin, admin.ModelAdmin):
    list_display = ["name", "time_zone", "sop_count", "position_count"]
    search_fields = ["name"]
    # Explicit: the counts below group the rows, and a grouped query drops Meta.ordering (the
    # office autocomplete's pages would come in no fixed order).
    ordering = ["name"]
    form = OfficeLogoForm
    readonly_fields = ["logo_preview"]
    fieldsets = [
        (None, {
            "fields": ["name", "time_zone", "parent"],
            "description": gettext_lazy(
                "An office without working hours works Monday to Thursday 07:30–16:00 and "
                "Friday 07:30–16:30; national public holidays need no rows."
            ),
        }),
        (gettext_lazy("Letterhead"), {"fields": ["logo_preview", "logo", "logo_remove"]}),
    ]
    inlines = [WorkingHoursInline, PositionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Office]:
        # distinct: the two joins multiply each other's rows.
        return super().get_queryset(request).annotate(
            sop_count=Count("sops", distinct=True), position_count=Count("positions", distinct=True)
        )

    @admin.display(description=gettext_lazy("SOPs"), ordering="sop_count")
    def sop_count(self, office: Office) -> int:
        return office.sop_count

    @admin.display(description=gettext_lazy("positions"), ordering="position_count")
    def position_count(self, office: Office) -> int:
        return office.position_count


@admin.register(Position)
class PositionAdmin(PositionHoldersAdmin, admin.ModelAdmin):
    """Holders are managed on the position's "Pemegang jabatan" page (procedures.admin_people)."""

    list_display = ["name", "office", "level"]
    list_select_related = ["office"]
    list_filter = ["office", "level"]
    search_fields = ["name", "office__name"]
    autocomplete_fields = ["office"]


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["date", "name", "office"]
    list_select_related = ["office"]
    list_filter = ["office"]
    search_fields = ["name"]
    date_hierarchy = "date"
    # A holiday without an office is a day off everywhere; say so in the list and in the filter.
    empty_value_display = gettext_lazy("(every office)")


# ---------------------------------------------------------------------------------------------
# Acting officials (Plt/Plh); users and sign-in lockouts are in procedures.admin_accounts
# ---------------------------------------------------------------------------------------------


class ActingAppointForm(ActingOfficeForm, forms.ModelForm):
    """Name a Plt/Plh: ``engine.acting_appoint`` checks and writes it, a refusal is a form error.

    Validating and writing are one step on purpose: the rules (dates in order, who may appoint)
    live in the engine and the admin must not repeat them, so ``clean()`` asks the engine and
    keeps the row it wrote, and ``save()`` hands that row over. The admin's ``changeform_view``
    runs the whole POST in one transaction, so the row and its log entry commit together, and a
    refused appointment writes nothing.
    """

    appointed_by = None  # the requesting user, set by ActingAssignmentAdmin.get_form

    class Meta:
        model = ActingAssignment
        fields = ["position", "user", "kind", "starts_on", "ends_on", "reason"]

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned  # a field is missing or malformed: nothing to ask the engine yet
        try:
            self.appointment = engine.acting_appoint(
                position=cleaned["position"], user=cleaned["user"], kind=cleaned["kind"],
                starts_on=cleaned["starts_on"], ends_on=cleaned["ends_on"],
                appointed_by=self.appointed_by, reason=cleaned["reason"],
            )
        except engine.EngineError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned

    def save(self, commit: bool = True) -> ActingAssignment:
        return self.appointment

    def save_m2m(self) -> None:
        """Nothing more to write: an appointment has no many-to-many fields."""


class ActingEndForm(forms.ModelForm):
    """End an appointment early or correct its reason; a longer one is a new appointment."""

    class Meta:
        model = ActingAssignment
        fields = ["ends_on", "reason"]

    def clean_ends_on(self):
        ends_on = self.cleaned_data["ends_on"]
        # Extending here would skip the engine's check of who may appoint: appoint again instead.
        if ends_on > self.instance.ends_on:
            raise forms.ValidationError(
                _("an appointment can only be ended early here; to extend it, appoint again"))
        # The check constraint acting_dates_in_order, in words rather than by its name.
        if ends_on < self.instance.starts_on:
            raise forms.ValidationError(_("the end date is before the start date"))
        return ends_on


@admin.register(ActingAssignment)
class ActingAssignmentAdmin(ScopedPickers, admin.ModelAdmin):
    list_display = [
        "position", "office", "user", "kind", "starts_on", "ends_on", "appointed_by", "active_today",
    ]
    list_select_related = ["position__office", "user", "appointed_by"]
    list_filter = ["kind", "position__office"]
    search_fields = [
        "position__name", "user__username", "user__first_name", "user__last_name",
        "appointed_by__username", "appointed_by__first_name", "appointed_by__last_name",
    ]
    autocomplete_fields = ["position", "user"]
    date_hierarchy = "starts_on"

    def get_fields(self, request: HttpRequest, obj=None) -> list[str]:
        fields = ["position", "user", "kind", "starts_on", "ends_on", "reason"]
        return ["office", *fields] if obj is None else [*fields, "appointed_by", "created_at"]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        # Once made, an appointment is history (tasks and events point at it) except its end.
        return [] if obj is None else ["position", "user", "kind", "starts_on", "appointed_by", "created_at"]

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        kwargs["form"] = ActingEndForm if obj is not None else ActingAppointForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form = type(form.__name__, (form,), {"appointed_by": request.user})
        return form

    def save_model(self, request: HttpRequest, obj: ActingAssignment, form, change: bool) -> None:
        # A new appointment was written by engine.acting_appoint while its form was validated.
        if change:
            super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Only a superuser deletes one made by mistake; tasks and events that used it protect it.
        return request.user.is_superuser

    @admin.display(description=Position._meta.get_field("office").verbose_name, ordering="position__office__name")
    def office(self, acting: ActingAssignment) -> Office:
        return acting.position.office

    @admin.display(description=gettext_lazy("active today"), boolean=True)
    def active_today(self, acting: ActingAssignment) -> bool:
        # "Today" in the office's time zone, as procedures.permissions reads it.
        today = timezone.localdate(timezone=acting.position.office.zoneinfo)
        return acting.starts_on <= today <= acting.ends_on


# ---------------------------------------------------------------------------------------------
# Read-only history: revisions, their columns, steps and kelengkapan items
# ---------------------------------------------------------------------------------------------


class ReadOnlyInline(admin.TabularInline):
    """Rows that belong to history: shown to whoever may view the parent, never edited here."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        # The steps are part of the sheet: whoever may see a revision may see its steps.
        opts = self.parent_model._meta
        return any(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in ("view", "change")
        )


class SopColumnInline(ReadOnlyInline):
    model = SopColumn
    fields = readonly_fields = ["order", "label", "position"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SopColumn]:
        return super().get_queryset(request).select_related("position")


class StepInline(ReadOnlyInline):
    model = Step
    fields = readonly_fields = [
        "nomor", "kegiatan", "pelaksana", "simbol", "kelengkapan_items", "waktu", "output",
        "ya_target", "tidak_target", "keterangan",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Step]:
        return (
            super().get_queryset(request)
            .select_related("column", "ya_step", "tidak_step")
            .prefetch_related("kelengkapan")
        )

    @admin.display(description=Step._meta.get_field("column").verbose_name)
    def pelaksana(self, step: Step) -> str:
        return step.column.label

    @admin.display(description=gettext_lazy("required inputs"))
    def kelengkapan_items(self, step: Step) -> str:
        return format_html_join(mark_safe("<br>"), "{}", ((item.text,) for item in step.kelengkapan.all()))

    @admin.display(description=gettext_lazy("if yes"))
    def ya_target(self, step: Step) -> str:
        return _decision_target(step, step.ya_step)

    @admin.display(description=gettext_lazy("if no"))
    def tidak_target(self, step: Step) -> str:
        return _decision_target(step, step.tidak_step)


def _decision_target(step: Step, target: Step | None) -> str:
    """The step number a decision leads to, or "selesai" as the SOP file writes the end."""
    if not step.is_decision:
        return ""
    return str(target.nomor) if target is not None else END


def _list_section(field_name: str) -> Callable[[admin.ModelAdmin, SopRevision], str]:
    """A read-only field showing one of the six list sections as a bulleted list."""

    @admin.display(description=SopRevision._meta.get_field(field_name).verbose_name)
    def show(model_admin: admin.ModelAdmin, revision: SopRevision) -> str:
        items = getattr(revision, field_name)
        if not items:
            return model_admin.get_empty_value_display()
        return format_html(
            '<ul class="sheet-list">{}</ul>', format_html_join("", "<li>{}</li>", ((item,) for item in items))
        )

    return show


class SopFilter(admin.SimpleListFilter):
    """Filter by SOP code: ``Sop.__str__`` reads the latest revision, one query per choice."""

    title = gettext_lazy("SOP")
    parameter_name = "sop"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(str(pk), kode) for pk, kode in Sop.objects.values_list("pk", "kode")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        # An id from the address: anything but one is the admin's "bad filter" (back to the list).
        if not (value.isascii() and value.isdigit() and int(value) < 2**63):
            raise IncorrectLookupParameters(value)
        return queryset.filter(sop_id=int(value))


@admin.register(SopRevision)
class SopRevisionAdmin(admin.ModelAdmin):
    list_display = ["nama", "sop_kode", "office", "number", "step_count", "tanggal_efektif", "imported_at"]
    list_display_links = ["nama"]
    list_select_related = ["sop__office"]
    list_filter = ["sop__office", SopFilter]
    search_fields = ["nama", "nomor", "sop__kode"]
    fieldsets = [
        (gettext_lazy("Identity"), {"fields": [
            "sop", "number", "nama", "nomor", "revisi",
            "tanggal_pembuatan", "tanggal_revisi", "tanggal_efektif",
        ]}),
        (gettext_lazy("Approved by"), {"fields": [
            "disahkan_jabatan", "disahkan_nama", "disahkan_pangkat", "disahkan_nip",
        ]}),
        (gettext_lazy("Lists"), {"fields": [
            "dasar_hukum_list", "kualifikasi_pelaksana_list", "keterkaitan_list",
            "peralatan_list", "peringatan_list", "pencatatan_list",
        ]}),
        (gettext_lazy("Time"), {"fields": ["jumlah_waktu", "total_waktu", "zona_waktu"]}),
        (gettext_lazy("Import"), {"fields": [
            "source_name", "imported_at", "imported_by", "content_hash",
        ]}),
    ]
    readonly_fields = [
        "dasar_hukum_list", "kualifikasi_pelaksana_list", "keterkaitan_list",
        "peralatan_list", "peringatan_list", "pencatatan_list",
    ]
    inlines = [SopColumnInline, StepInline]

    dasar_hukum_list = _list_section("dasar_hukum")
    kualifikasi_pelaksana_list = _list_section("kualifikasi_pelaksana")
    keterkaitan_list = _list_section("keterkaitan")
    peralatan_list = _list_section("peralatan")
    peringatan_list = _list_section("peringatan")
    pencatatan_list = _list_section("pencatatan")

    # Revisions are written by import only and never changed: runs point at them.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[SopRevision]:
        return super().get_queryset(request).select_related("sop__office", "imported_by").annotate(
            step_count=Count("steps")
        )

    @admin.display(description=gettext_lazy("code"), ordering="sop__kode")
    def sop_kode(self, revision: SopRevision) -> str:
        return revision.sop.kode

    @admin.display(description=gettext_lazy("office"), ordering="sop__office__name")
    def office(self, revision: SopRevision) -> Office:
        return revision.sop.office

    @admin.display(description=gettext_lazy("steps"), ordering="step_count")
    def step_count(self, revision: SopRevision) -> int:
        return revision.step_count

    def get_urls(self):
        export = path(
            "<path:object_id>/export/",
            self.admin_site.admin_view(self.export_view),
            name="procedures_soprevision_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Download the revision as an SOP file; importing it again changes nothing."""
        revision = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_permission(request, revision):
            raise PermissionDenied
        filename = f"{revision.sop.kode}-r{revision.number}.yaml"
        return HttpResponse(
            sop_export(revision=revision),
            content_type="application/yaml; charset=utf-8",
            headers={"Content-Disposition": content_disposition_header(True, filename)},
        )


# ---------------------------------------------------------------------------------------------
# SOPs and the "Impor SOP" page
# ---------------------------------------------------------------------------------------------


class SopRevisionInline(ReadOnlyInline):
    model = SopRevision
    fields = readonly_fields = [
        "revision_link", "nama", "nomor", "revisi", "tanggal_efektif", "step_count",
        "source_name", "imported_at", "imported_by",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[SopRevision]:
        return (
            super().get_queryset(request)
            .select_related("imported_by")
            .annotate(step_count=Count("steps"))
            .order_by("-number")
        )

    @admin.display(description=SopRevision._meta.get_field("number").verbose_name)
    def revision_link(self, revision: SopRevision) -> str:
        url = reverse("admin:procedures_soprevision_change", args=[revision.pk])
        return format_html('<a href="{}">{}</a>', url, revision.number)

    @admin.display(description=gettext_lazy("steps"))
    def step_count(self, revision: SopRevision) -> int:
        return revision.step_count


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files and cleans to a list of them."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ".yaml,.yml"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None) -> list[UploadedFile]:
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        if not files and self.required:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(file, initial) for file in files]


class SopImportForm(forms.Form):
    # Empty files are not a form error: the library refuses them per file, with its reason.
    files = MultipleFileField(label=gettext_lazy("SOP files"), allow_empty_file=True)
    check_only = forms.BooleanField(
        label=gettext_lazy("Check only (do not save)"),
        required=False,
        help_text=gettext_lazy("Validate the files and report what is wrong; nothing is written."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = _(
            "YAML files (*.yaml) in the SOP file format, at most %(limit)s KB each; choose several "
            "at once. A file with problems is refused as a whole and the others are still imported."
        ) % {"limit": settings.SOP_FILE_MAX_BYTES // 1024}


def _too_large(upload: UploadedFile, limit: int) -> ImportResult:
    """The result for a file refused by its size before reading it; same text as the library's."""
    message = _("the file is %(size)s KB; an SOP file may be at most %(limit)s KB") % {
        "size": upload.size // 1024, "limit": limit // 1024}
    return ImportResult(upload.name, Outcome.REFUSED, problems=[Problem("", message)])


def _result_row(result: ImportResult) -> dict:
    """One file on the results page: the command's lines, problems apart from warnings."""
    lines = [line.strip() for line in result.lines()]
    details = lines[1:]
    return {
        "refused": result.refused,
        "summary": lines[0],
        "problems": details[: len(result.problems)],
        "warnings": details[len(result.problems):],
    }


@admin.register(Sop)
class SopAdmin(SopReadinessAdmin, admin.ModelAdmin):
    list_display = ["kode", "latest_nama", "office", "latest_number", "step_count"]
    list_select_related = ["office"]
    list_filter = ["office"]
    search_fields = ["kode", "revisions__nama"]
    fields = ["kode", "office", "latest_nama", "created_at"]
    readonly_fields = ["latest_nama"]
    inlines = [SopRevisionInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Sop]:
        # Subqueries on the latest revision keep the list at a constant number of queries.
        latest = SopRevision.objects.filter(sop=OuterRef("pk")).order_by("-number")
        steps = (
            Step.objects.filter(revision=OuterRef("latest_revision_id"))
            .order_by()
            .values("revision")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).prefetch_related(
            # Sop.__str__ (the label of each row's checkbox) reads the latest revision: one query
            # for the page instead of one per row. An SOP has a handful of revisions.
            Prefetch("revisions", queryset=SopRevision.objects.only("sop", "number", "nama"))
        ).annotate(
            latest_revision_id=Subquery(latest.values("pk")[:1]),
            latest_nama=Subquery(latest.values("nama")[:1]),
            latest_number=Subquery(latest.values("number")[:1]),
            step_count=Coalesce(Subquery(steps, output_field=IntegerField()), Value(0)),
        )

    @admin.display(description=SopRevision._meta.get_field("nama").verbose_name, ordering="latest_nama")
    def latest_nama(self, sop: Sop) -> str:
        return sop.latest_nama

    @admin.display(description=SopRevision._meta.get_field("number").verbose_name, ordering="latest_number")
    def latest_number(self, sop: Sop) -> int:
        return sop.latest_number

    @admin.display(description=gettext_lazy("steps"), ordering="step_count")
    def step_count(self, sop: Sop) -> int:
        return sop.step_count

    # An SOP comes into being by importing its file, and its code and office are what the next
    # import of that file matches on, so neither is edited here. Deleting stays possible: runs
    # will protect the revisions they started on.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_import_permission(self, request: HttpRequest) -> bool:
        """Importing is what changing an SOP means: the ``procedures.change_sop`` permission."""
        return super().has_change_permission(request)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        import_ = path("import/", self.admin_site.admin_view(self.import_view), name="procedures_sop_import")
        return [import_, *super().get_urls()]

    def import_view(self, request: HttpRequest) -> TemplateResponse:
        """Import uploaded SOP files and show one result per file, as ``import_sops`` prints."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        results, refused, readiness = [], 0, {}
        if request.method == "POST":
            form = SopImportForm(request.POST, request.FILES)
            if form.is_valid():
                results = self._import(request, form.cleaned_data["files"], form.cleaned_data["check_only"])
                refused = sum(result.refused for result in results)
                if not form.cleaned_data["check_only"]:  # what the imported SOPs still lack
                    readiness = readiness_context(request, imported_sops(results))
                form = SopImportForm(initial={"check_only": form.cleaned_data["check_only"]})
        else:
            form = SopImportForm()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import SOPs"),
            "opts": self.model._meta,
            "form": form,
            "rows": [_result_row(result) for result in results],
            "refused_summary": _("%(refused)s of %(total)s file(s) refused") % {
                "refused": refused, "total": len(results)} if refused else "",
            **readiness,
        }
        return TemplateResponse(request, "admin/procedures/sop/import.html", context)

    def _import(self, request: HttpRequest, uploads: list[UploadedFile], check_only: bool) -> list[ImportResult]:
        limit = settings.SOP_FILE_MAX_BYTES
        # A file that is too large is refused by its size alone, before reading it into memory.
        readable = [(upload.name, upload.read()) for upload in uploads if upload.size <= limit]
        # Problems name each step by its nomor beside the key path (procedures.import_report).
        imported = iter(with_step_names(result, data) for result, (_name, data) in zip(sop_import_files(
            files=readable, user=request.user, check_only=check_only
        ), readable))
        return [next(imported) if upload.size <= limit else _too_large(upload, limit) for upload in uploads]


# ---------------------------------------------------------------------------------------------
# Runs, their tasks and audit events: read-only; cancelling goes through the engine
# ---------------------------------------------------------------------------------------------


def _run_link(run: Run) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:procedures_run_change", args=[run.pk]), run)


def _states(source: str, target: str) -> str:
    return f"{source or '—'} → {target}"


class RunTaskInline(ReadOnlyInline):
    model = Task
    fields = readonly_fields = [
        "step_nomor", "kegiatan_short", "position", "status", "visit", "assignee", "due_at",
        "completed_by", "decision", "reason",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Task]:
        return (
            super().get_queryset(request)
            .select_related("step", "position", "assignee", "completed_by")
            .order_by("created_at", "pk")
        )

    @admin.display(description=gettext_lazy("step"))
    def step_nomor(self, task: Task) -> int:
        return task.step.nomor

    @admin.display(description=Step._meta.get_field("kegiatan").verbose_name)
    def kegiatan_short(self, task: Task) -> str:
        return Truncator(task.step.kegiatan).chars(70)


class RunEventInline(ReadOnlyInline):
    model = Event
    fields = readonly_fields = [
        "created_at", "task_step", "actor", "acting_title", "transition", "states", "reason", "file_names",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return super().get_queryset(request).select_related("actor", "task__step").order_by("created_at", "pk")

    @admin.display(description=gettext_lazy("step"))
    def task_step(self, event: Event) -> int | str:
        return event.task.step.nomor if event.task_id else self.get_empty_value_display()

    @admin.display(description=gettext_lazy("from → to"))
    def states(self, event: Event) -> str:
        return _states(event.source, event.target)

    @admin.display(description=Event._meta.get_field("files").verbose_name)
    def file_names(self, event: Event) -> str:
        return ", ".join(event.files) or self.get_empty_value_display()


class RunCancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Recorded in the run's history and shown to everyone working on it."),
    )


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "perihal", "sop", "office", "status", "started_by", "started_at", "ended_at"]
    list_display_links = ["id", "perihal"]
    list_select_related = ["revision__sop", "office", "started_by"]
    list_filter = ["status", "office"]
    search_fields = ["perihal"]
    date_hierarchy = "started_at"
    fields = readonly_fields = [
        "perihal", "sop", "revision", "office", "status", "started_by", "started_at", "ended_at",
        "cancel_reason",
    ]
    inlines = [RunTaskInline, RunEventInline]
    actions = ["cancel_runs"]

    # Runs are started and moved on by the engine only: the admin shows them, and cancels through
    # engine.run_cancel, which decides who may.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Run]:
        return super().get_queryset(request).select_related("revision__sop", "office", "started_by")

    @admin.display(description=gettext_lazy("SOP"), ordering="revision__nama")
    def sop(self, run: Run) -> str:
        return f"{run.revision.nama} ({run.revision.sop.kode})"

    def render_change_form(self, request: HttpRequest, context: dict, add=False, change=False, form_url="",
                           obj=None):
        context["show_cancel"] = obj is not None and obj.status == Run.Status.RUNNING
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        cancel = path("<path:object_id>/cancel/", self.admin_site.admin_view(self.cancel_view),
                      name="procedures_run_cancel")
        return [cancel, *super().get_urls()]

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The "Cancel run" button of a run's page: ask for the reason, then cancel."""
        run = self.get_object(request, object_id)
        if run is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        done = reverse("admin:procedures_run_change", args=[run.pk])
        return self._cancel(request, [run], done=done) or HttpResponseRedirect(done)

    @admin.action(description=gettext_lazy("Cancel run"))
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[Run]) -> HttpResponse | None:
        """The same for the runs chosen in the list; the admin then returns to the list."""
        return self._cancel(request, list(queryset), done=None)

    def _cancel(self, request: HttpRequest, runs: list[Run], *, done: str | None) -> HttpResponse | None:
        """Show the reason form, or cancel each run through the engine and return None."""
        form = RunCancelForm(request.POST if "post" in request.POST else None)
        if form.is_valid():
            cancelled = 0
            for run in runs:
                try:
                    engine.run_cancel(run=run, user=request.user, reason=form.cleaned_data["reason"])
                except engine.EngineError as error:
                    if error.field in form.fields:
                        form.add_error(error.field, error.message)
                        break
                    messages.error(request, f"{run}: {error.message}")
                else:
                    cancelled += 1
            if cancelled:
                messages.success(request, ngettext(
                    "%(count)s run cancelled.", "%(count)s runs cancelled.", cancelled) % {"count": cancelled})
            if not form.errors:
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Cancel run"),
            "opts": self.opts,
            "form": form,
            "runs": runs,
            "single": done is not None,
            "back_url": done or reverse("admin:procedures_run_changelist"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/procedures/run/cancel.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """History rows: listed, never added, changed or deleted here (nor by a bulk action)."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """The audit trail. Event rows refuse changes themselves; the admin does not even offer them."""

    list_display = [
        "created_at", "run_link", "task_step", "actor", "acting_title", "transition", "states", "reason",
    ]
    list_display_links = None
    list_select_related = ["run", "task__step", "actor"]
    list_filter = ["transition"]
    search_fields = ["reason", "actor__username"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-pk"]

    @admin.display(description=Event._meta.get_field("run").verbose_name, ordering="run")
    def run_link(self, event: Event) -> str:
        return _run_link(event.run)

    @admin.display(description=gettext_lazy("step"))
    def task_step(self, event: Event) -> int | str:
        return event.task.step.nomor if event.task_id else self.get_empty_value_display()

    @admin.display(description=gettext_lazy("from → to"))
    def states(self, event: Event) -> str:
        return _states(event.source, event.target)


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("overdue")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("Open and past its due time"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Task]) -> QuerySet[Task]:
        if self.value() == "yes":
            return queryset.filter(status__in=Task.OPEN, due_at__lt=timezone.now())
        return queryset


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    """Tasks across runs, to find what is stuck; each run's page shows its tasks in order."""

    list_display = ["run_link", "step_nomor", "position", "status", "assignee", "due_at", "overdue"]
    list_display_links = None
    list_select_related = ["run", "step", "position", "assignee"]
    list_filter = ["status", "position__office", OverdueFilter]
    search_fields = ["run__perihal", "position__name"]
    ordering = ["due_at", "pk"]

    @admin.display(description=Task._meta.get_field("run").verbose_name, ordering="run")
    def run_link(self, task: Task) -> str:
        return _run_link(task.run)

    @admin.display(description=gettext_lazy("step"), ordering="step__nomor")
    def step_nomor(self, task: Task) -> int:
        return task.step.nomor

    @admin.display(description=gettext_lazy("overdue"), boolean=True)
    def overdue(self, task: Task) -> bool:
        return task.is_overdue()
