from django.contrib import admin
from django.urls import include, path

handler404 = "procedures.views.errors.page_not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("procedures.urls")),
]
