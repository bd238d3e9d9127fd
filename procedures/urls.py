from django.contrib.auth import views as auth_views
from django.urls import path

from procedures import views

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("masuk/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("akun/kata-sandi/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("akun/kata-sandi/selesai/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("tugas/<int:pk>/", views.task_detail, name="task-detail"),
    path("tugas/<int:pk>/ambil/", views.task_claim, name="task-claim"),
    path("tugas/<int:pk>/lepas/", views.task_release, name="task-release"),
    path("tugas/<int:pk>/selesaikan/", views.task_complete, name="task-complete"),
    path("pelaksanaan/mulai/", views.run_start, name="run-start"),
    path("pelaksanaan/<int:pk>/", views.run_detail, name="run-detail"),
    path("pelaksanaan/<int:pk>/batalkan/", views.run_cancel, name="run-cancel"),
]
