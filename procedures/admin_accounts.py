"""The admin of accounts: users with the positions they hold, deactivating a user, and sign-in lockouts.

Deactivating goes through ``engine.user_deactivate`` (their claimed tasks go back to their
positions, with events saying why), from the "Deactivate" action — which shows what it will do
and asks to confirm when open tasks would be left to nobody — or from unticking "active" on the
user's page, which refuses in that case and points at the action. Lockouts are django-axes'
failed attempts, shown under "Keamanan masuk" with an "Unlock" action.
"""

from __future__ import annotations

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from procedures import engine, permissions
from procedures.admin_people import ProfileInline, ScopedPickers, UserImportAdmin
from procedures.models import Position, Task

User = get_user_model()


# ---------------------------------------------------------------------------------------------
# Users and their positions
# ---------------------------------------------------------------------------------------------


class PositionHolderInline(ScopedPickers, admin.TabularInline):
    """The positions a user holds: the other side of ``Position.holders``."""

    model = Position.holders.through
    fields = ["position", "position_office"]
    readonly_fields = ["position_office"]
    autocomplete_fields = ["position"]
    extra = 0
    verbose_name = Position._meta.verbose_name
    verbose_name_plural = Position._meta.verbose_name_plural

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("position__office")

    @admin.display(description=Position._meta.get_field("office").verbose_name)
    def position_office(self, holding) -> str:
        # Two offices may both have a "Kasi Trantib"; the office tells them apart.
        return holding.position.office.name if holding.position_id else ""


class AccountChangeForm(UserChangeForm):
    """Django's user form; unticking "active" deactivates through the engine, never silently."""

    changed_by = None  # the requesting user, set by UserAdmin.get_form

    def clean_is_active(self) -> bool:
        is_active = self.cleaned_data["is_active"]
        if self.instance.pk is None or is_active or not self.instance.is_active:
            return is_active
        refusal = permissions.deactivate_refusal(self.instance, self.changed_by)
        if refusal:
            raise forms.ValidationError(refusal)
        warning = permissions.left_to_nobody_warning(self.instance)
        if warning:
            raise forms.ValidationError(_("%(warning)s. To deactivate anyway, use the action “%(action)s” in the "
                                          "list of users, which asks you to confirm.") % {
                "warning": warning, "action": UserAdmin.deactivate_users.short_description})
        return is_active


class DeactivateForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=gettext_lazy("Recorded with each task that goes back to its position, e.g. “pindah tugas”."),
    )
    leave_to_nobody = forms.BooleanField(
        label=gettext_lazy("I know: these open tasks wait for nobody until the position has a holder or a Plt/Plh"),
        required=False,
    )


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(UserImportAdmin, DjangoUserAdmin):
    form = AccountChangeForm
    list_display = [*DjangoUserAdmin.list_display, "is_active", "position_names"]
    list_filter = [*DjangoUserAdmin.list_filter, "positions__office"]
    search_fields = [*DjangoUserAdmin.search_fields, "positions__name", "profile__nip"]
    inlines = [PositionHolderInline, ProfileInline]
    actions = ["deactivate_users"]
    # Set by sign-in and creation, never typed (and Django's split date/time inputs have no labels).
    readonly_fields = ["last_login", "date_joined"]

    def get_inlines(self, request: HttpRequest, obj) -> list:
        # The add page asks for a username and password only; positions follow on the user's page.
        return self.inlines if obj is not None else []

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        # One query for the positions of the whole page, not one per row.
        return super().get_queryset(request).prefetch_related(
            Prefetch("positions", queryset=Position.objects.select_related("office"))
        )

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None:
            form = type(form.__name__, (form,), {"changed_by": request.user})
        return form

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if change and "is_active" in form.changed_data and not obj.is_active:
            # The form checked the rules; the engine releases the tasks and writes the events.
            try:
                released = engine.user_deactivate(user=obj, by=request.user)
            except engine.EngineError as error:  # changed since the form was checked
                obj.is_active = True
                messages.error(request, error.message)
            else:
                _say_released(request, obj, released)
        super().save_model(request, obj, form, change)

    @admin.display(description=Position._meta.verbose_name_plural)
    def position_names(self, user) -> str:
        return ", ".join(position.name for position in user.positions.all())

    @admin.action(description=gettext_lazy("Deactivate (their claimed tasks go back to their positions)"),
                  permissions=["change"])
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        """Show what deactivating the chosen users does, then do it through the engine."""
        users = list(queryset.filter(is_active=True).order_by("username"))
        form = DeactivateForm(request.POST if "post" in request.POST else None)
        rows = [{
            "user": user,
            "refusal": permissions.deactivate_refusal(user, request.user),
            "claimed": list(Task.objects.filter(assignee=user, status=Task.Status.IN_PROGRESS)
                            .select_related("run", "step", "position").order_by("run_id", "pk")),
            "left": permissions.positions_left_to_nobody(user),
        } for user in users]
        any_left = any(row["left"] for row in rows if not row["refusal"])
        if form.is_valid() and any_left and not form.cleaned_data["leave_to_nobody"]:
            form.add_error("leave_to_nobody", _("Confirm that these open tasks wait for nobody, or give their "
                                                "positions another holder first."))
        if form.is_valid():
            for row in rows:
                if row["refusal"]:
                    messages.error(request, f"{row['user']}: {row['refusal']}")
                    continue
                try:
                    released = engine.user_deactivate(
                        user=row["user"], by=request.user, reason=form.cleaned_data["reason"],
                        leave_to_nobody=form.cleaned_data["leave_to_nobody"])
                except engine.EngineError as error:
                    if error.field in form.fields:
                        form.add_error(error.field, f"{row['user']}: {error.message}")
                    else:
                        messages.error(request, f"{row['user']}: {error.message}")
                    continue
                _say_released(request, row["user"], released)
            if not form.errors:
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Deactivate users"),
            "opts": self.opts,
            "form": form,
            "rows": rows,
            "any_left": any_left,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/auth/user/deactivate.html", context)


def _say_released(request: HttpRequest, user, released: list[Task]) -> None:
    messages.success(request, ngettext(
        "%(name)s deactivated; %(count)s claimed task went back to its position.",
        "%(name)s deactivated; %(count)s claimed tasks went back to their positions.",
        len(released)) % {"name": permissions.display_name(user), "count": len(released)})


# ---------------------------------------------------------------------------------------------
# Sign-in lockouts (django-axes)
# ---------------------------------------------------------------------------------------------


class LockedFilter(admin.SimpleListFilter):
    title = gettext_lazy("locked")
    parameter_name = "locked"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("Locked now"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() != "yes":
            return queryset
        locked = queryset.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
        cool_off = get_cool_off()
        return locked.filter(attempt_time__gt=timezone.now() - cool_off) if cool_off else locked


@admin.register(AccessAttempt)
class LockoutAdmin(admin.ModelAdmin):
    """Failed sign-ins per username and address; five lock that pair until the cool-off ends or an admin unlocks."""

    list_display = ["username", "ip_address", "failures_since_start", "attempt_time", "locked_until"]
    list_display_links = None
    list_filter = [LockedFilter]
    search_fields = ["username", "ip_address"]
    ordering = ["-attempt_time"]
    actions = ["unlock"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "unlock" says what deleting these rows means
        return actions

    @admin.display(description=gettext_lazy("locked until"))
    def locked_until(self, attempt: AccessAttempt) -> str:
        if attempt.failures_since_start < settings.AXES_FAILURE_LIMIT:
            return _("not locked (%(left)s attempt(s) left)") % {
                "left": settings.AXES_FAILURE_LIMIT - attempt.failures_since_start}
        cool_off = get_cool_off()
        if cool_off is None:
            return _("until an admin unlocks it")
        until = attempt.attempt_time + cool_off
        if until <= timezone.now():
            return _("not locked (the cool-off has passed)")
        return date_format(timezone.localtime(until), "DATETIME_FORMAT")  # as the list writes attempt times

    @admin.action(description=gettext_lazy("Unlock (forget these failed sign-ins)"), permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet) -> None:
        pairs = sorted({(attempt.username or "", attempt.ip_address or "") for attempt in queryset})
        queryset.delete()
        messages.success(request, ngettext(
            "%(count)s sign-in unlocked: %(pairs)s.", "%(count)s sign-ins unlocked: %(pairs)s.", len(pairs)) % {
            "count": len(pairs), "pairs": ", ".join(f"{username} ({address})" for username, address in pairs)})

