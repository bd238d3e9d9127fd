from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    # The browser app (issue "Browser app") mounts here; until then the admin is the home page.
    path("", RedirectView.as_view(url="/admin/", permanent=False), name="home"),
]
