from django.urls import path

from tether.consent import views

app_name = "consent"
urlpatterns = [
    path("me/sharing/", views.patient_list, name="patient_list"),
    path("me/sharing/new/", views.patient_new, name="patient_new"),
    path("me/sharing/family/", views.patient_family, name="patient_family"),
    path("me/sharing/<int:consent_id>/", views.patient_detail, name="patient_detail"),
    path("me/sharing/<int:consent_id>/revoke/", views.patient_revoke, name="patient_revoke"),
    path("me/sharing/<int:consent_id>/pdf/", views.patient_pdf, name="patient_pdf"),
    path("me/device/", views.device, name="device"),
    path("me/quick/", views.quick_view, name="quick_view"),
    path("me/quick/unlock/", views.unlock, name="unlock"),
    path("me/quick/substance-use/", views.show_part2, name="show_part2"),
    path("me/corrections/", views.patient_amendments, name="patient_amendments"),
    path(
        "staff/patients/<int:patient_id>/corrections/",
        views.staff_amendments,
        name="staff_amendments",
    ),
    path("staff/patients/<int:patient_id>/family/", views.staff_family, name="staff_family"),
    path(
        "staff/patients/<int:patient_id>/consent/new/",
        views.staff_consent_new,
        name="staff_consent_new",
    ),
    path(
        "staff/patients/<int:patient_id>/consent/<int:consent_id>/pdf/",
        views.staff_consent_pdf,
        name="staff_consent_pdf",
    ),
    path("staff/recipients/", views.staff_recipients, name="staff_recipients"),
    path(
        "staff/patients/<int:patient_id>/coordination/export/",
        views.staff_measure_export,
        name="staff_measure_export",
    ),
    path(
        "staff/patients/<int:patient_id>/coordination/ur-packet/",
        views.staff_ur_packet,
        name="staff_ur_packet",
    ),
    path(
        "staff/patients/<int:patient_id>/coordination/<int:disclosure_id>/packet.pdf",
        views.staff_ur_packet_pdf,
        name="staff_ur_packet_pdf",
    ),
    path(
        "staff/patients/<int:patient_id>/coordination/<int:disclosure_id>/file/",
        views.staff_disclosure_file,
        name="staff_disclosure_file",
    ),
    path(
        "staff/patients/<int:patient_id>/coordination/",
        views.staff_coordination,
        name="staff_coordination",
    ),
    path(
        "staff/patients/<int:patient_id>/coordination/<int:disclosure_id>/",
        views.staff_disclosure,
        name="staff_disclosure",
    ),
]
