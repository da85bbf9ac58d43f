from django.urls import path

from twofactor import views

app_name = "twofactor"
urlpatterns = [
    path("code/", views.verify, name="verify"),
    path("enrol/", views.enrol, name="enrol"),
]
