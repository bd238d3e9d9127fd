"""The admin a Kasubag Organisasi uses: readiness of SOPs, holders of positions, importing people,
and pickers that show (and offer only) the offices concerned.

The ModelAdmins of procedures.admin and procedures.admin_accounts take these as mixins; the rules
live elsewhere: holders in procedures.staffing, readiness in procedures.readiness, the people's
file in procedures.people_import, Plt/Plh in engine.acting_appoint.

- **Pickers** (``ScopedPickers``): a position picker labels each position with its office, a user
  picker with NIP, username and office; both offer only what the signed-in admin administers
  (``staffing.admin_office_ids``: a superuser every office). Their search runs through
  ``ScopedAutocompleteView``, Django's autocomplete with these labels and limits.
- **Holders** (``PositionHoldersAdmin``): a position's page lists its holders and links to
  "Pemegang jabatan", where users of its office are searched by name, NIP or username and added or
  removed.
- **Readiness** (``SopReadinessAdmin``): an SOP's page and "Kesiapan SOP" say which positions of its
  sheet nobody holds and which the import created; the "Impor SOP" page shows it after importing.
- **Importing people** (``UserImportAdmin``): "Impor pengguna" on the list of users.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from procedures import people_import, staffing
from procedures.models import ActingAssignment, Office, Position, Profile
from procedures.readiness import sop_readiness

User = get_user_model()

# ---------------------------------------------------------------------------------------------
# Pickers
# ---------------------------------------------------------------------------------------------


def picker_label(obj) -> str:
    """A position with its office; a user with NIP, username and office."""
    if isinstance(obj, Position):
        return f"{obj.name} — {obj.office.name}"
    if isinstance(obj, User):
        return staffing.user_label(obj)
    return str(obj)


def scoped_queryset(model, user):
    """What a picker of ``model`` offers ``user``: the positions, users or offices they administer."""
    offices = staffing.admin_office_ids(user)
    if model is Position:
        positions = Position.objects.select_related("office")
        return positions if offices is None else positions.filter(office_id__in=offices)
    if model is User:
        users = User.objects.filter(is_active=True).select_related("profile__office")
        return users if offices is None else users.filter(pk__in=staffing.users_of(offices).values("pk"))
    if model is Office:
        return staffing.offices_for(user)
    raise ValueError(model)


class ScopedAutocompleteView(AutocompleteJsonView):
    """Django's autocomplete, limited to what the admin administers and labelled with offices."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if queryset.model in (Position, User):
            queryset = queryset.filter(pk__in=scoped_queryset(queryset.model, self.request.user).values("pk"))
            queryset = queryset.select_related("office" if queryset.model is Position else "profile__office")
        return queryset

    def serialize_result(self, obj, to_field_name) -> dict:
        return {"id": str(getattr(obj, to_field_name)), "text": picker_label(obj)}


class ScopedAutocomplete(AutocompleteSelect):
    url_name = "%s:procedures_scoped_autocomplete"


class ScopedPickers:
    """ModelAdmin/inline mixin: its position, user and office pickers are scoped and labelled."""

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        model = db_field.remote_field.model
        if model not in (Position, User, Office):
            return super().formfield_for_foreignkey(db_field, request, **kwargs)
        kwargs.setdefault("queryset", scoped_queryset(model, request.user))
        if model is not Office and db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault("widget", ScopedAutocomplete(db_field, self.admin_site, using=kwargs.get("using")))
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None:
            field.label_from_instance = picker_label
        return field


def scoped_autocomplete_url(admin_site) -> list:
    return [path("scoped-autocomplete/", admin_site.admin_view(ScopedAutocompleteView.as_view(admin_site=admin_site)),
                 name="procedures_scoped_autocomplete")]


# ---------------------------------------------------------------------------------------------
# Offices and Plt/Plh
# ---------------------------------------------------------------------------------------------


class OfficeForm(forms.ModelForm):
    """An office; its superior office may not be itself or an office below it."""

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is not None and self.instance.pk is not None and self.instance.pk in staffing.lineage(parent.pk):
            raise forms.ValidationError(_("%(parent)s is this office or an office below it; an office cannot be "
                                          "above itself") % {"parent": parent.name})
        return parent


class ActingOfficeForm(forms.Form):
    """The office part of the Plt/Plh form: the office first, and a position of that office only."""

    office = forms.ModelChoiceField(
        label=gettext_lazy("office"), queryset=Office.objects.none(),
        help_text=gettext_lazy("The office whose position gets a Plt/Plh; the position must be one of its own."),
    )
    appointed_by = None  # the requesting user, set by the ModelAdmin's get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "office" in self.fields and self.appointed_by is not None:
            offices = staffing.offices_for(self.appointed_by)
            self.fields["office"].queryset = offices
            if "office" not in self.initial:
                only = list(offices[:2])
                if len(only) == 1:
                    self.initial["office"] = only[0].pk

    def clean(self):
        cleaned = super().clean()
        office, position = cleaned.get("office"), cleaned.get("position")
        if office is not None and position is not None and position.office_id != office.pk:
            self.add_error("position", _("%(position)s is a position of %(other)s, not of %(office)s: choose a "
                                         "position of %(office)s") % {
                "position": position.name, "other": position.office.name, "office": office.name})
        return cleaned


# ---------------------------------------------------------------------------------------------
# Holders of a position
# ---------------------------------------------------------------------------------------------


class PositionHoldersAdmin(ScopedPickers):
    """PositionAdmin mixin: holders shown on the position's page and managed on "Pemegang jabatan"."""

    exclude = ["holders"]
    readonly_fields = ["holders_list"]

    def get_urls(self):
        holders = path("<path:object_id>/holders/", self.admin_site.admin_view(self.holders_view),
                       name="procedures_position_holders")
        return [*scoped_autocomplete_url(self.admin_site), holders, *super().get_urls()]

    @admin.display(description=gettext_lazy("holders"))
    def holders_list(self, position: Position) -> str:
        if position.pk is None:
            return _("Save the position first; then give it holders.")
        holders = position.holders.select_related("profile__office").order_by("first_name", "username")
        names = format_html_join(", ", "{}", ((staffing.user_label(user),) for user in holders))
        url = reverse("admin:procedures_position_holders", args=[position.pk])
        return format_html('{} <a class="button" href="{}">{}</a>', names or _("nobody yet"), url,
                           _("Manage holders"))

    def holders_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """List the holders of a position, search its office's users, add and remove holders."""
        position = self.get_object(request, object_id)
        if position is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, position) or not staffing.administers(request.user,
                                                                                         position.office_id):
            raise PermissionDenied
        term = request.GET.get("q", "").strip()[:100]
        here = reverse("admin:procedures_position_holders", args=[position.pk])
        if request.method == "POST":
            ids = [value for value in request.POST.getlist("user") if value.isascii() and value.isdigit()][:200]
            users = list(User.objects.filter(pk__in=ids))
            action = request.POST.get("action")
            try:
                if action == "add" and users:
                    staffing.holders_add(position=position, users=users, by=request.user)
                    messages.success(request, ngettext(
                        "%(names)s now holds %(position)s.", "%(names)s now hold %(position)s.", len(users)) % {
                        "names": ", ".join(staffing.user_label(user) for user in users), "position": position.name})
                elif action == "remove" and users:
                    staffing.holders_remove(position=position, users=users, by=request.user)
                    messages.success(request, _("%(names)s no longer hold %(position)s.") % {
                        "names": ", ".join(staffing.user_label(user) for user in users), "position": position.name})
                else:
                    messages.warning(request, _("Tick at least one person first."))
            except staffing.StaffingError as error:
                messages.error(request, str(error))
            return HttpResponseRedirect(f"{here}?{urlencode({'q': term})}" if term else here)
        holders = list(position.holders.select_related("profile__office").order_by("first_name", "username"))
        candidates = list(staffing.holder_candidates(position, term)[:50])
        acting = list(ActingAssignment.objects.filter(position=position).select_related("user")
                      .order_by("-starts_on")[:10])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Holders of %(position)s") % {"position": position.name},
            "opts": self.opts,
            "original": position,
            "position": position,
            "holders": [(user, staffing.profile_of(user)) for user in holders],
            "candidates": [(user, staffing.profile_of(user)) for user in candidates],
            "term": term,
            "acting": acting,
            "appoint_url": reverse("admin:procedures_actingassignment_add") + "?" + urlencode(
                {"office": position.office_id, "position": position.pk}),
            "import_url": reverse("admin:auth_user_import") + "?" + urlencode({"office": position.office_id}),
        }
        return TemplateResponse(request, "admin/procedures/position/holders.html", context)


# ---------------------------------------------------------------------------------------------
# Readiness of SOPs
# ---------------------------------------------------------------------------------------------


def readiness_context(request: HttpRequest, sop_ids: list[int]) -> dict:
    """What the readiness table needs: the SOPs' readiness and whether to link to the holders' pages."""
    return {
        "readiness": sop_readiness(sop_ids),
        "can_manage_holders": request.user.has_perm("procedures.change_position"),
    }


class SopReadinessAdmin:
    """SopAdmin mixin: "Kesiapan SOP" for one or many SOPs, and on each SOP's page."""

    def get_urls(self):
        readiness = path("readiness/", self.admin_site.admin_view(self.readiness_view),
                         name="procedures_sop_readiness")
        return [readiness, *super().get_urls()]

    def readiness_view(self, request: HttpRequest) -> TemplateResponse:
        """The readiness of the SOPs named by ``?sop=…`` (several allowed), or of every SOP of the admin's offices."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        ids = [int(value) for value in request.GET.getlist("sop") if value.isascii() and value.isdigit()
               and int(value) < 2**63][:200]
        sops = self.get_queryset(request).order_by("office__name", "kode")
        offices = staffing.admin_office_ids(request.user)
        if offices is not None:
            sops = sops.filter(office_id__in=offices)
        sops = sops.filter(pk__in=ids) if ids else sops
        context = {
            **self.admin_site.each_context(request),
            "title": _("SOP readiness"),
            "opts": self.opts,
            **readiness_context(request, list(sops.values_list("pk", flat=True)[:200])),
        }
        return TemplateResponse(request, "admin/procedures/sop/readiness.html", context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(readiness_context(request, [obj.pk]))
        return super().render_change_form(request, context, add, change, form_url, obj)


# ---------------------------------------------------------------------------------------------
# Importing people
# ---------------------------------------------------------------------------------------------


class UserImportForm(forms.Form):
    office = forms.ModelChoiceField(label=gettext_lazy("office"), queryset=Office.objects.none(),
                                    help_text=gettext_lazy("Everyone in the file is a user of this office; "
                                                           "the positions in the file are its positions."))
    file = forms.FileField(label=gettext_lazy("File (CSV or XLSX)"), allow_empty_file=True,
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}))
    check_only = forms.BooleanField(label=gettext_lazy("Check only (do not save)"), required=False)
    send_invitations = forms.BooleanField(
        label=gettext_lazy("Email each new user a link to choose their password"), required=False, initial=True,
        help_text=gettext_lazy("New users get no password: they choose one from this link (or an admin sets one "
                               "on their page). Users without an email address get no link."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        offices = staffing.offices_for(user)
        self.fields["office"].queryset = offices
        only = list(offices[:2])
        if len(only) == 1 and "office" not in self.initial:
            self.initial["office"] = only[0].pk
        self.fields["file"].help_text = _(
            "One person a row, under the headings of the template: %(columns)s. Only nama is required; the "
            "username is the NIP when left empty; several positions in one cell go one a line. At most %(rows)s "
            "rows and %(size)s KB. A file with a bad row is refused whole, each bad row named."
        ) % {"columns": ", ".join(people_import.COLUMNS), "rows": people_import.MAX_ROWS,
             "size": people_import.MAX_BYTES // 1024}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > people_import.MAX_BYTES:
            raise forms.ValidationError(_("the file is %(size)s KB; it may be at most %(limit)s KB") % {
                "size": upload.size // 1024, "limit": people_import.MAX_BYTES // 1024})
        return upload


class UserImportAdmin:
    """UserAdmin mixin: "Impor pengguna" and its templates."""

    def get_urls(self):
        urls = [
            path("import/", self.admin_site.admin_view(self.import_view), name="auth_user_import"),
            path("import/template.<str:kind>", self.admin_site.admin_view(self.template_view),
                 name="auth_user_import_template"),
        ]
        return [*urls, *super().get_urls()]

    def has_import_permission(self, request: HttpRequest) -> bool:
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {**(extra_context or {}), "has_import_permission": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def template_view(self, request: HttpRequest, kind: str) -> HttpResponse:
        """The template to fill in: CSV, or XLSX with the office's positions on a second sheet."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if kind == "csv":
            return HttpResponse(people_import.template_csv(), content_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": content_disposition_header(True, "pengguna.csv")})
        if kind != "xlsx":
            raise PermissionDenied
        value = request.GET.get("office", "")
        office = (staffing.offices_for(request.user).filter(pk=int(value)).first()
                  if value.isascii() and value.isdigit() and int(value) < 2**63 else None)
        return HttpResponse(
            people_import.template_xlsx(office),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": content_disposition_header(True, "pengguna.xlsx")})

    def import_view(self, request: HttpRequest) -> TemplateResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        outcome, file_name, invited = None, "", 0
        initial = {"office": request.GET["office"]} if request.GET.get("office", "").isdigit() else {}
        form = UserImportForm(request.POST or None, request.FILES or None, user=request.user, initial=initial)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            file_name = upload.name
            outcome = people_import.users_import(
                office=form.cleaned_data["office"], name=upload.name, data=upload.read(), by=request.user,
                check_only=form.cleaned_data["check_only"])
            if not outcome.refused and not form.cleaned_data["check_only"] and form.cleaned_data["send_invitations"]:
                # The users are committed (users_import's own transaction): the links work at once.
                invited, failed = people_import.invite_send(users=outcome.created)
                if failed:
                    messages.error(request, _("The email to %(addresses)s could not be sent; send them the "
                                              "link from “Forgot your password?” later, or set a password on "
                                              "their page.") % {"addresses": ", ".join(failed)})
        office_value = form["office"].value()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import users"),
            "opts": self.opts,
            "form": form,
            "outcome": outcome,
            "file_name": file_name,
            "check_only": form.is_bound and form.is_valid() and form.cleaned_data["check_only"],
            "invited": invited,
            "template_csv": reverse("admin:auth_user_import_template", args=["csv"]),
            "template_xlsx": reverse("admin:auth_user_import_template", args=["xlsx"]) + (
                f"?{urlencode({'office': office_value})}" if office_value else ""),
            "reset_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
        }
        return TemplateResponse(request, "admin/auth/user/import.html", context, status=400 if outcome and
                                outcome.refused else 200)


class ProfileInline(ScopedPickers, admin.StackedInline):
    """NIP, pangkat and office on the user's page."""

    model = Profile
    fields = ["nip", "pangkat", "office"]
    can_delete = False
    extra = 1
    max_num = 1
    verbose_name_plural = Profile._meta.verbose_name

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "nip":  # typed with its spaces ("19800101 200501 2 001"), stored without
            return forms.CharField(label=db_field.verbose_name, help_text=db_field.help_text, required=False,
                                   max_length=40)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type("ProfileForm", (formset.form,), {"clean_nip": _clean_nip})
        return formset


def _clean_nip(form) -> str:
    nip, problem = staffing.nip_clean(form.cleaned_data.get("nip", ""))
    if problem:
        raise forms.ValidationError(problem)
    if nip and Profile.objects.filter(nip=nip).exclude(pk=form.instance.pk).exists():
        raise forms.ValidationError(_("another user has the NIP %(nip)s") % {"nip": nip})
    return nip
