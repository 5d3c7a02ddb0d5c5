from django.urls import include, path

from tether.portal import views as portal_views

urlpatterns = [
    path("", portal_views.home, name="home"),
    path("healthz", portal_views.healthz, name="healthz"),
    path("healthz/live", portal_views.healthz_live, name="healthz_live"),
    path("healthz/background", portal_views.healthz_background, name="healthz_background"),
    path("accounts/", include("tether.accounts.urls")),
    path("crisis/", include("tether.crisis.urls")),
    path("me/", include("tether.portal.urls")),
    path("staff/", include("tether.staff.urls")),
    path("privacy/", include("tether.privacy.urls")),
    path("notifications/", include("tether.notifications.urls")),
    path("messages/", include("tether.messaging.urls")),
    path("", include("tether.checkins.urls")),
    path("", include("tether.safetyplan.urls")),
    path("", include("tether.homework.urls")),
    path("", include("tether.consent.urls")),
    path("", include("tether.family.urls")),
    path("", include("tether.flags.urls")),
    path("", include("tether.scheduling.urls")),
    path("", include("tether.patients.urls")),
    path("", include("tether.organizations.urls")),
    path("", include("tether.outreach.urls")),
    path("", include("tether.reports.urls")),
    path("fhir/R4/", include("tether.fhir.urls")),
    path("", include("tether.fhir.staff_urls")),
]

# On a staff patient page, a clinician's 404 offers emergency (break-glass) access.
handler404 = "tether.privacy.views.break_glass.page_not_found"
# The database unreachable: a 503 page with the person's crisis lines and what they typed.
handler500 = "tether.crisis.views.server_error"
