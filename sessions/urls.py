from django.urls import path

from sessions import views

urlpatterns = [
    path("groups/<str:code>/sessions/new/", views.session_plan, name="session_plan"),
    path("s/<str:code>/", views.session_detail, name="session_detail"),
]
