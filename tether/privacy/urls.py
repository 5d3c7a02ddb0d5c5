from django.urls import path

from tether.privacy.views import audit_reports, break_glass, my_record

app_name = "privacy"
urlpatterns = [
    # ONC (d)(3) audit reports, for privacy officers and clinical leads
    path("audit/", audit_reports.audit_report, name="audit_report"),
    path("audit.csv", audit_reports.audit_report_csv, name="audit_report_csv"),
    # "Who viewed my record", for patients
    path("my-record/", my_record.who_viewed, name="who_viewed"),
    # Break-glass emergency access (ONC (d)(6), 42 CFR 2.51)
    path("emergency-access/<int:patient_id>/", break_glass.request_access, name="break_glass"),
]
