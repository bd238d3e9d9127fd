"""Changing and resetting one's password: Django's views with sopflow's limits (procedures.accounts).

- The password change counts wrong old passwords as failed sign-ins (django-axes).
- A password reset by email, once the new password is set, lifts every lockout of the user.
"""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from procedures.accounts import AccountPasswordResetForm, LimitedPasswordChangeForm, lockouts_lift


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = LimitedPasswordChangeForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever knew the old password is the user: earlier mistakes no longer count.
        lockouts_lift(form.user.get_username())
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a link by email; the answer is the same whether the address is known or not."""

    form_class = AccountPasswordResetForm  # imported people without a password yet may ask too
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        # Links go to the address people use (SITE_URL), not to whatever Host the request named.
        self.extra_email_context = {"site_url": settings.SITE_URL, "hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # The owner of the mailbox set a new password: lift the lockout wherever it holds.
        lockouts_lift(form.user.get_username())
        return response
