"""The office's logo in the admin: uploaded once per office on the office's page, printed in the
kop box of its SOP sheets.

The upload is made safe by :func:`procedures.logos.logo_sanitise` before anything is stored; the
page shows the logo as stored (a ``data:`` image, which the Content-Security-Policy allows), not a
link into the media folder, which sopflow does not serve.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.admin_people import OfficeForm
from procedures.logos import CONTENT_TYPES, data_uri, logo_sanitise
from procedures.models import Office


class LogoField(forms.FileField):
    """A PNG, JPEG or SVG file, returned sanitised (a ``ContentFile`` named ``logo.<ext>``)."""

    widget = forms.FileInput(attrs={"accept": ".png,.jpg,.jpeg,.svg,image/png,image/jpeg,image/svg+xml"})

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if not upload or upload is initial:
            return upload
        if upload.size is not None and upload.size > settings.LOGO_MAX_BYTES:
            # Refused by its size, unread (a file past every limit arrives empty: procedures.uploads).
            raise forms.ValidationError(
                _("The logo is %(size)s KB; a logo may be at most %(limit)s KB.")
                % {"size": round(upload.size / 1024), "limit": round(settings.LOGO_MAX_BYTES / 1024)},
                code="too_large",
            )
        upload.seek(0)
        logo = logo_sanitise(upload.read(), name=upload.name)
        return ContentFile(logo.content, name=f"logo.{logo.extension}")


class OfficeLogoForm(OfficeForm):
    """The office form with its logo: a new file replaces the old one, "remove" clears it."""

    logo = LogoField(label=gettext_lazy("logo"), required=False,
                     help_text=gettext_lazy("PNG, JPEG or SVG, at most 1 MB, printed in the letterhead box of "
                                            "the office's SOP sheets. It is stored re-encoded: scripts, links "
                                            "and hidden data are removed."))
    logo_remove = forms.BooleanField(label=gettext_lazy("remove the logo"), required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("logo_remove") and not self.files.get(self.add_prefix("logo")):
            cleaned["logo"] = False  # FileField.save_form_data: False clears the field
        return cleaned


class OfficeLogoAdmin(admin.ModelAdmin):
    """Mixin for the office's ModelAdmin: the logo fields and a preview of the stored logo."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # Viewers see the logo, not the upload fields (nor a link into the unserved media folder).
            return [(name, {**options, "fields": [f for f in options["fields"] if f not in ("logo", "logo_remove")]})
                    for name, options in fieldsets]
        return fieldsets

    def save_model(self, request, obj: Office, form, change: bool) -> None:
        old = Office.objects.filter(pk=obj.pk).values_list("logo", flat=True).first() if obj.pk else ""
        super().save_model(request, obj, form, change)
        if old and old != obj.logo.name:
            # Replaced or removed: keep no unused file, once the new row is committed.
            storage = obj.logo.storage
            transaction.on_commit(lambda: storage.delete(old))

    @admin.display(description=gettext_lazy("current logo"))
    def logo_preview(self, office: Office) -> str:
        if not office.logo:
            return _("none: the letterhead box stays empty")
        extension = office.logo.name.rsplit(".", 1)[-1].lower()
        try:
            with office.logo.open("rb") as file:
                content = file.read()
        except OSError:
            return _("the stored file is missing; upload the logo again")
        return format_html('<img src="{}" alt="{}" height="96">',
                           data_uri(content, CONTENT_TYPES.get(extension, "image/png")), _("logo"))
