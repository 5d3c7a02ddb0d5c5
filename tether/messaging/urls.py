from django.urls import path

from tether.messaging import views

app_name = "messaging"
urlpatterns = [
    path("", views.patient_thread, name="thread"),
    path("send/", views.patient_send, name="send"),
    path("family/<int:patient_id>/", views.family_thread, name="family_thread"),
    path("family/<int:patient_id>/send/", views.family_send, name="family_send"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:thread_id>/", views.staff_thread, name="staff_thread"),
    path("inbox/<int:thread_id>/reply/", views.staff_reply, name="staff_reply"),
    path("inbox/<int:thread_id>/note/", views.staff_note, name="staff_note"),
    path("crisis-phrases/", views.crisis_phrases, name="crisis_phrases"),
]
