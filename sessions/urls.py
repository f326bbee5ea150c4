from django.urls import path

from sessions.views import account, history, live, logbook, planning, report

urlpatterns = [
    path("groups/<str:code>/sessions/new/", planning.session_plan, name="session_plan"),
    # The short URL the QR code carries.
    path("s/<str:code>/", live.session_detail, name="session_detail"),
    path("s/<str:code>/qr.svg", live.session_qr, name="session_qr"),
    path("s/<str:code>/state/", live.session_state, name="session_state"),
    path("s/<str:code>/salle/", live.session_room, name="session_room"),
    path("s/<str:code>/roles/", live.session_roles, name="session_roles"),
    path("s/<str:code>/start/", live.session_start, name="session_start"),
    path("s/<str:code>/step/", live.session_move, name="session_move"),
    path("s/<str:code>/time/", live.session_add_time, name="session_add_time"),
    path("s/<str:code>/timer/", live.session_timer, name="session_timer"),
    path("s/<str:code>/close/", live.session_close, name="session_close"),
    path("s/<str:code>/no-trace/", live.session_no_trace, name="session_no_trace"),
    path("s/<str:code>/kept/", live.session_kept, name="session_kept"),
    path("s/<str:code>/expose/", live.expose_save, name="expose_save"),
    path("s/<str:code>/questions/", live.question_post, name="question_post"),
    path("s/<str:code>/questions/<str:item>/", live.question_mark, name="question_mark"),
    path("s/<str:code>/demand/", live.demand_save, name="demand_save"),
    path("s/<str:code>/demand/check/", live.demand_check, name="demand_check"),
    path(
        "s/<str:code>/demand/reformulations/",
        live.reformulation_post,
        name="reformulation_post",
    ),
    path("s/<str:code>/demand/validate/", live.demand_validate, name="demand_validate"),
    path("s/<str:code>/demand/reopen/", live.demand_reopen, name="demand_reopen"),
    path("s/<str:code>/contributions/", live.contribution_post, name="contribution_post"),
    path(
        "s/<str:code>/contributions/<str:item>/tag/", live.contribution_tag, name="contribution_tag"
    ),
    path("s/<str:code>/contributions/<str:item>/theme/", live.card_place, name="card_place"),
    path("s/<str:code>/themes/", live.theme_create, name="theme_create"),
    path("s/<str:code>/themes/<str:item>/", live.theme_rename, name="theme_rename"),
    path("s/<str:code>/themes/<str:item>/remove/", live.theme_remove, name="theme_remove"),
    path("s/<str:code>/themes/<str:item>/tag/", live.theme_tag, name="theme_tag"),
    path("s/<str:code>/actions/", live.action_add, name="action_add"),
    path("s/<str:code>/learnings/", live.learning_post, name="learning_post"),
    path("s/<str:code>/feedback/", live.feedback_post, name="feedback_post"),
    path("s/<str:code>/notes/", live.note_post, name="note_post"),
    path("s/<str:code>/hand/", live.hand_toggle, name="hand_toggle"),
    path("s/<str:code>/hands/clear/", live.hands_clear, name="hands_clear"),
    path("s/<str:code>/hands/<str:item>/floor/", live.floor_give, name="floor_give"),
    path("s/<str:code>/hands/<str:item>/clear/", live.hand_clear, name="hand_clear"),
    # The written trace of a closed session (compte rendu).
    path("s/<str:code>/report/", report.session_report, name="session_report"),
    path("s/<str:code>/report.md", report.session_report_markdown, name="session_report_markdown"),
    path("s/<str:code>/report/cards/", report.report_cards_toggle, name="report_cards_toggle"),
    path("groups/<str:code>/history/", history.group_history, name="group_history"),
    # The carnet de bord: one per person, across their groups.
    path("carnet/", logbook.logbook, name="logbook"),
    path("carnet/export.md", logbook.logbook_markdown, name="logbook_markdown"),
    path("carnet/notes/", logbook.note_create, name="note_create"),
    path("carnet/notes/<str:item>/", logbook.note_edit, name="note_edit"),
    path("carnet/notes/<str:item>/delete/", logbook.note_delete, name="note_delete"),
    path("carnet/actions/<str:item>/", logbook.action_progress, name="action_progress"),
    # Everything a person wrote, and leaving for good.
    path("accounts/data.json", account.data_json, name="account_data_json"),
    path("accounts/data.md", account.data_markdown, name="account_data_markdown"),
    path("accounts/delete/", account.account_delete, name="account_delete"),
]
