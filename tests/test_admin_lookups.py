"""The admin filters by nothing private, from any of its pages.

Django's changelist accepts `?field__lookup=value` on any field of its model:
`?text__startswith=J` on the private notes would say, prefix by prefix, what
a note says. Every registered admin, every path to a private field (the
model's own, and through one or two relations), every kind of lookup: each
is refused before it filters (Django's DisallowedModelAdminLookup, a 400).
"""

import pytest
from django.contrib import admin
from django.core import checks
from django.urls import reverse

from groups.admin import PrivateFieldsAdmin
from groups.models import CalendarFeed, Invitation, User
from sessions.models import Contribution, ContributionTag, Feedback, PrivateNote, Session
from tests.conftest import tag_card

SECRET = "Je crois que je vais quitter mon poste"

# What nobody reads through the admin: (model, field). A tag is private as a
# whole: even that a card has one (`tags__isnull`) is the client's.
PRIVATE = {
    (PrivateNote, "text"),
    (Feedback, "comment"),
    (ContributionTag, "tag"),
    (ContributionTag, "user"),
    (ContributionTag, "contribution"),
    (User, "password"),
    (Invitation, "token"),
    (CalendarFeed, "token"),
}
PRIVATE_MODELS = {ContributionTag}

LOOKUPS = {
    "": SECRET,
    "__exact": SECRET,
    "__iexact": SECRET,
    "__startswith": "J",
    "__istartswith": "j",
    "__contains": "quitter",
    "__icontains": "QUITTER",
    "__endswith": "poste",
    "__regex": "^J",
    "__iregex": "^j",
    "__gt": "A",
    "__lt": "z",
    "__in": f"{SECRET},autre",
    "__isnull": "False",
}
# Past the model's own fields, a few lookups are enough to prove the path is shut.
FAR_LOOKUPS = ("__startswith", "__regex", "__isnull")


def private_paths(model, hops=2, seen=()):
    """Every lookup path from `model` to a private field, through at most `hops` relations."""
    for field in model._meta.get_fields():
        if not hasattr(field, "name") or field.name in seen:
            continue
        target = field.related_model if field.is_relation else None
        if target in PRIVATE_MODELS:
            yield field.name
            for inner in target._meta.concrete_fields:
                yield f"{field.name}__{inner.name}"
        elif (model, field.name) in PRIVATE:
            yield field.name
        elif target is not None and hops > 0:
            for rest in private_paths(target, hops - 1, (*seen, field.remote_field.name)):
                yield f"{field.name}__{rest}"


def cases():
    for model in admin.site._registry:
        for path in private_paths(model):
            far = "__" in path
            for lookup, value in LOOKUPS.items():
                if not far or lookup in FAR_LOOKUPS:
                    yield model, f"{path}{lookup}", value


CASES = list(cases())


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(
        email="admin@test.codev", password="x", full_name="Ada Admin"
    )


@pytest.fixture
def secrets(planned_session, member, client_user):
    card = Contribution.objects.create(session=planned_session, author=member, text="Carte")
    tag_card(card, client_user, "keep")
    PrivateNote.objects.create(session=planned_session, author=member, text=SECRET)
    Feedback.objects.create(session=planned_session, author=member, rating=4, comment=SECRET)


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def test_every_admin_of_the_project_refuses_private_lookups():
    ours = {
        model: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ("groups", "codev_sessions")
    }
    assert ours
    for model, model_admin in ours.items():
        assert isinstance(model_admin, PrivateFieldsAdmin), model


def test_the_paths_reach_the_notes_the_comments_and_the_tags():
    paths = {(model, lookup) for model, lookup, _value in CASES}

    assert (PrivateNote, "text__startswith") in paths
    assert (Session, "privatenotes__text__startswith") in paths
    assert (Feedback, "comment__contains") in paths
    assert (Contribution, "tags__tag__startswith") in paths
    assert (Contribution, "tags__isnull") in paths
    assert (User, "private_notes__text__regex") in paths


def test_the_private_fields_are_declared_on_their_models():
    for model, name in PRIVATE:
        assert name in model.private_fields, (model, name)


@pytest.mark.parametrize(
    ("model", "lookup", "value"), CASES, ids=lambda c: getattr(c, "__name__", c)
)
def test_a_lookup_on_a_private_field_is_refused(client, superuser, secrets, model, lookup, value):
    client.force_login(superuser)

    response = client.get(changelist(model), {lookup: value})

    # Django refuses a lookup it does not allow with a 400 before any query;
    # a lookup it cannot apply sends back to the unfiltered list (?e=1).
    refused = response.status_code == 400 or (
        response.status_code == 302 and response.url.endswith("?e=1")
    )
    assert refused, (response.status_code, lookup)
    assert SECRET not in response.content.decode()


def test_searching_any_admin_for_a_private_text_finds_nothing(client, superuser, secrets):
    client.force_login(superuser)

    for model, model_admin in admin.site._registry.items():
        if not model_admin.search_fields:
            continue
        response = client.get(changelist(model), {"q": "quitter mon poste"})
        assert response.status_code == 200, model
        assert list(response.context["cl"].result_list) == [], model


def test_a_private_field_in_search_fields_fails_the_system_check():
    class Leaky(PrivateFieldsAdmin):
        search_fields = ["author__full_name", "text"]
        list_filter = ["session__feedbacks__comment"]

    errors = Leaky(PrivateNote, admin.site).check()

    leaks = [error.msg for error in errors if error.id == "codev.E001"]
    assert len(leaks) == 2 and all(isinstance(e, checks.Error) for e in errors)


def test_the_feedback_admin_shows_the_rating_but_not_the_comment(client, superuser, secrets):
    client.force_login(superuser)
    feedback = Feedback.objects.get()

    listing = client.get(changelist(Feedback))
    page = client.get(reverse("admin:codev_sessions_feedback_change", args=[feedback.pk]))

    assert listing.status_code == 200 and page.status_code == 200
    for response in (listing, page):
        assert SECRET not in response.content.decode()
    assert 'name="comment"' not in page.content.decode()


def test_the_contribution_admin_has_no_tag_column_filter_or_field(client, superuser, secrets):
    client.force_login(superuser)
    card = Contribution.objects.get()

    listing = client.get(changelist(Contribution)).content.decode()
    page = client.get(
        reverse("admin:codev_sessions_contribution_change", args=[card.pk])
    ).content.decode()

    for content in (listing, page):
        assert "je retiens" not in content
        assert "keep" not in content
    assert ContributionTag not in admin.site._registry
