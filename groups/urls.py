from django.contrib.auth import views as auth_views
from django.urls import path

from groups.views import accounts, calendar, cycles, groups, topics

urlpatterns = [
    path("", groups.home, name="home"),
    path("accounts/login/", accounts.SignInView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path(
        "accounts/password/change/",
        accounts.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/", accounts.account, name="account"),
    path("accounts/calendar/revoke/", accounts.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path("invitations/<str:token>/", accounts.invitation_accept, name="invitation_accept"),
    path("groups/new/", groups.group_create, name="group_create"),
    path("groups/<str:code>/", groups.group_detail, name="group_detail"),
    path("groups/<str:code>/edit/", groups.group_edit, name="group_edit"),
    path("groups/<str:code>/leave/", groups.group_leave, name="group_leave"),
    path("groups/<str:code>/invitations/", groups.invitation_create, name="invitation_create"),
    path(
        "groups/<str:code>/invitations/<str:token>/revoke/",
        groups.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "groups/<str:code>/members/<str:membership_code>/remove/",
        groups.membership_remove,
        name="membership_remove",
    ),
    path("groups/<str:code>/cycles/new/", cycles.cycle_start, name="cycle_start"),
    path(
        "groups/<str:code>/cycles/<int:number>/lancement/",
        cycles.cycle_launch,
        name="cycle_launch",
    ),
    path(
        "groups/<str:code>/cycles/<int:number>/lancement/adopt/",
        cycles.charter_adopt,
        name="charter_adopt",
    ),
    path(
        "groups/<str:code>/cycles/<int:number>/lancement/charter/",
        cycles.charter_amend,
        name="charter_amend",
    ),
    path(
        "groups/<str:code>/cycles/<int:number>/lancement/settings/",
        cycles.cycle_settle,
        name="cycle_settle",
    ),
    path(
        "groups/<str:code>/cycles/<int:number>/lancement/close/",
        cycles.charter_close,
        name="charter_close",
    ),
    path("groups/<str:code>/cycles/<int:number>/bilan/", cycles.cycle_review, name="cycle_review"),
    # My review of a cycle is part of my carnet.
    path(
        "carnet/cycles/<str:code>/<int:number>/",
        cycles.my_cycle_review,
        name="my_cycle_review",
    ),
    path("groups/<str:code>/topics/", topics.topic_list, name="topic_list"),
    path(
        "groups/<str:code>/topics/<str:topic_code>/withdraw/",
        topics.topic_withdraw,
        name="topic_withdraw",
    ),
]
