"""The Django admin: offices and their calendars, the SOP library, and the "Impor SOP" page.

The admin holds no rules of its own: importing and exporting go through ``procedures.library``,
the same services as the ``import_sops`` and ``export_sop`` commands. Revisions and everything
under them are history (runs point at them), so the admin shows them but never edits them.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.library import ImportResult, Outcome, sop_export, sop_import_files
from procedures.models import Holiday, Office, Position, Sop, SopColumn, SopRevision, Step, WorkingHours
from procedures.sopfile import END, Problem

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
class OfficeAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "sop_count", "position_count"]
    search_fields = ["name"]
    fieldsets = [
        (None, {
            "fields": ["name", "time_zone"],
            "description": gettext_lazy(
                "An office without working hours works Monday to Thursday 07:30–16:00 and "
                "Friday 07:30–16:30; national public holidays need no rows."
            ),
        }),
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
class PositionAdmin(admin.ModelAdmin):
    list_display = ["name", "office", "level"]
    list_select_related = ["office"]
    list_filter = ["office", "level"]
    search_fields = ["name", "office__name"]
    autocomplete_fields = ["office"]
    filter_horizontal = ["holders"]


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
        return queryset.filter(sop_id=self.value()) if self.value() else queryset


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
class SopAdmin(admin.ModelAdmin):
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
        results, refused = [], 0
        if request.method == "POST":
            form = SopImportForm(request.POST, request.FILES)
            if form.is_valid():
                results = self._import(request, form.cleaned_data["files"], form.cleaned_data["check_only"])
                refused = sum(result.refused for result in results)
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
        }
        return TemplateResponse(request, "admin/procedures/sop/import.html", context)

    def _import(self, request: HttpRequest, uploads: list[UploadedFile], check_only: bool) -> list[ImportResult]:
        limit = settings.SOP_FILE_MAX_BYTES
        # A file that is too large is refused by its size alone, before reading it into memory.
        readable = [upload for upload in uploads if upload.size <= limit]
        imported = iter(sop_import_files(
            files=[(upload.name, upload.read()) for upload in readable], user=request.user, check_only=check_only
        ))
        return [next(imported) if upload.size <= limit else _too_large(upload, limit) for upload in uploads]
