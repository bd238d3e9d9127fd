from django.contrib.auth import views as auth_views
from django.urls import path

from procedures.forms import SignInForm
from procedures.views import accounts, authoring, catalogue, heads, monitoring, pdf, work

urlpatterns = [
    path("", work.inbox, name="inbox"),
    path("masuk/", auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm), name="login"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("akun/kata-sandi/", accounts.PasswordChangeView.as_view(), name="password_change"),
    path("akun/kata-sandi/selesai/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("akun/lupa-kata-sandi/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path("akun/lupa-kata-sandi/terkirim/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("akun/atur-ulang/<uidb64>/<token>/", accounts.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("akun/atur-ulang/selesai/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    # Work
    path("tugas/<int:pk>/", work.task_detail, name="task-detail"),
    path("tugas/<int:pk>/ambil/", work.task_claim, name="task-claim"),
    path("tugas/<int:pk>/lepas/", work.task_release, name="task-release"),
    path("tugas/<int:pk>/selesaikan/", work.task_complete, name="task-complete"),
    path("tugas/<int:pk>/kembalikan/", work.task_return, name="task-return"),
    path("tugas/<int:pk>/alihkan/", work.task_reassign, name="task-reassign"),
    path("berkas/<int:pk>/", work.task_file, name="task-file"),
    path("pelaksanaan/", catalogue.run_list, name="run-list"),
    path("pelaksanaan/mulai/", work.run_start, name="run-start"),
    path("pelaksanaan/<int:pk>/", work.run_detail, name="run-detail"),
    path("pelaksanaan/<int:pk>/batalkan/", work.run_cancel, name="run-cancel"),
    path("pelaksanaan/<int:pk>/pdf", pdf.run_pdf, name="run-pdf"),
    # Heads
    path("persetujuan/", heads.approvals, name="approvals"),
    path("persetujuan/setujui/", heads.approvals_bulk, name="approvals-bulk"),
    path("akan-datang/", heads.upcoming, name="upcoming"),
    path("terlambat/", heads.overdue, name="overdue"),
    # Monitoring (monev)
    path("pemantauan/", monitoring.monitoring, name="monitoring"),
    path("pemantauan/unduh/<slug:table>.<slug:fmt>", monitoring.monitoring_export, name="monitoring-export"),
    path("pemantauan/formulir/", monitoring.monitoring_sheets, name="monitoring-sheets"),
    path("pemantauan/formulir/<int:pk>/", monitoring.monitoring_sheet, name="monitoring-sheet"),
    path("pemantauan/formulir/<int:pk>/ganti/", monitoring.monitoring_sheet_supersede, name="monitoring-sheet-supersede"),
    path("pemantauan/formulir/<int:pk>/pdf", monitoring.monitoring_sheet_pdf, name="monitoring-sheet-pdf"),
    # SOP catalogue
    path("sop/", catalogue.sop_list, name="sop-list"),
    path("sop/<slug:kode>/ubah/", authoring.sop_revise, name="draft-revise"),
    path("sop/<slug:kode>/salin/", authoring.sop_copy, name="draft-copy"),
    path("sop/<slug:kode>/", catalogue.sop_detail, name="sop-detail"),
    path("sop/<slug:kode>/pdf", pdf.sop_pdf, name="sop-pdf"),
    # SOP editor and pengesahan (procedures.authoring)
    path("draf/", authoring.draft_list, name="draft-list"),
    path("draf/baru/", authoring.draft_create, name="draft-create"),
    path("draf/impor-word/", authoring.draft_import_word, name="draft-word"),
    path("draf/<int:pk>/", authoring.draft_edit, name="draft-edit"),
    path("draf/<int:pk>/pratinjau/", authoring.draft_preview, name="draft-preview"),
    path("draf/<int:pk>/pengesahan/", authoring.draft_review, name="draft-review"),
    path("draf/<int:pk>/sahkan/", authoring.draft_approve, name="draft-approve"),
    path("draf/<int:pk>/kembalikan/", authoring.draft_return, name="draft-return"),
]
