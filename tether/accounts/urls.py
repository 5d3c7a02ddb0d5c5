from django.urls import path

from tether.accounts import language, mfa, notices, onboarding, pauses, reset, staff_two_step, views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.SignInView.as_view(), name="login"),
    path("sign-out/", views.sign_out, name="logout"),
    path("timed-out/", views.session_timed_out, name="timed_out"),
    # English / Español, signed in (saved on the account) or out (a cookie)
    path("language/", language.set_language, name="language"),
    # Something about their own account a person must read at sign-in
    path("notice/", notices.account_notice, name="account_notice"),
    # Multi-factor (TOTP)
    path("two-step/set-up/", mfa.setup, name="mfa_setup"),
    path("two-step/check/", mfa.verify, name="mfa_verify"),
    path("two-step/enrol/<str:token>/", mfa.enrol, name="mfa_enrol"),
    # A program admin resets a colleague's two-step sign-in (lost or new phone)
    path("staff/two-step/", staff_two_step.staff_list, name="staff_two_step"),
    path(
        "staff/two-step/<int:staff_id>/reset/",
        staff_two_step.staff_reset,
        name="staff_two_step_reset",
    ),
    path(
        "staff/two-step/<int:staff_id>/link/",
        staff_two_step.staff_enrolment_link,
        name="staff_enrolment_link",
    ),
    # A program admin or the privacy officer lifts a sign-in pause (audited)
    path("staff/sign-in-pauses/", pauses.sign_in_pauses, name="sign_in_pauses"),
    # Onboarding at intake: the invite link a patient opens on their phone
    path("invite/<str:token>/", onboarding.accept_invite, name="invite"),
    # Forgotten password: by email link, or by a code the front desk hands over
    path("reset/", reset.PasswordResetRequestView.as_view(), name="password_reset"),
    path("reset/sent/", reset.PasswordResetSentView.as_view(), name="password_reset_done"),
    path(
        "reset/link/<uidb64>/<token>/",
        reset.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", reset.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("reset/code/", reset.reset_with_code, name="reset_code"),
]
