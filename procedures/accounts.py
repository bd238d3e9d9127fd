"""Accounts: sign-in lockouts (django-axes), what lifts them, and the password forms' limits.

- A lockout holds one username from one address (settings: ``AXES_LOCKOUT_PARAMETERS``), so a
  colleague behind the same office NAT still signs in. It lifts after the cool-off, by a password
  reset by email (``lockouts_lift``), or by an admin's "unlock" (procedures.admin_accounts).
- A wrong old password on the password-change form is a failed sign-in of that user from that
  address: someone at a session left open cannot guess its password there either. At the limit
  the session is signed out and the lockout page shown (``lockout_response``).
"""

from __future__ import annotations

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model, logout
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, _unicode_ci_compare
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def lockouts_lift(username: str) -> int:
    """Forget the failed sign-ins of ``username`` from every address; how many rows went."""
    # Any case: the attempts keep the name as it was typed, and sign-in forms are typed by hand.
    deleted, _per_model = AccessAttempt.objects.filter(username__iexact=username).delete()
    return deleted


def lockout_response(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """The lockout page (``AXES_LOCKOUT_CALLABLE``); a session that locked itself out is signed out."""
    if request.user.is_authenticated:
        logout(request)
    cool_off = get_cool_off(request)
    return render(request, "registration/locked.html", {
        "minutes": int(cool_off.total_seconds() // 60) if cool_off else None,
    }, status=settings.AXES_HTTP_RESPONSE_CODE)


class LimitedPasswordChangeForm(PasswordChangeForm):
    """Django's password change, its old password checked as a sign-in that django-axes counts."""

    def __init__(self, user, *args, request: HttpRequest, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old_password = self.cleaned_data["old_password"]
        # authenticate() with the request: a wrong password is a failed sign-in (user_login_failed)
        # of this username from this address; once locked it refuses even the right one.
        found = authenticate(self.request, username=self.user.get_username(), password=old_password)
        if found is None or found.pk != self.user.pk:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password



class AccountPasswordResetForm(PasswordResetForm):
    """Django's reset form, also for accounts that never had a password.

    Django leaves those out (they may sign in elsewhere, e.g. LDAP); in sopflow they are people
    imported by an admin (procedures.people_import), whose emailed link may have expired unused.
    """

    def get_users(self, email: str):
        User = get_user_model()
        email_field = User.get_email_field_name()
        users = User._default_manager.filter(**{f"{email_field}__iexact": email, "is_active": True})
        return (user for user in users if _unicode_ci_compare(email, getattr(user, email_field)))
