from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    default = True  # the app's config, among the others this module holds
    default_auto_field = "django.db.models.BigAutoField"
    name = "procedures"
    verbose_name = _("Standard operating procedures")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from procedures import history

        # SQLite's trigger on the event table asks each connection whether it is in maintenance.
        connection_created.connect(history.install_sqlite_function, dispatch_uid="sopflow_history_function")


class SignInSecurityConfig(AxesConfig):
    """django-axes as the admin shows it: "Keamanan masuk", not "Axes" (see procedures.admin_accounts)."""

    default = False  # named in INSTALLED_APPS instead of "axes"
    verbose_name = _("Sign-in security")
