from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from groups import services, throttle
from groups.forms import CharterForm, JoinForm, SignInForm, ThrottledPasswordChangeForm
from groups.models import CalendarFeed, Invitation
from groups.tokens import secret_token


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        if not form.cleaned_data.get("remember_me"):
            # Ends with the browser; otherwise SESSION_COOKIE_AGE (30 days).
            self.request.session.set_expiry(0)
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        # Too soon after repeated failures: the form again, the email kept, a 429.
        for error in form.errors.as_data().get("__all__", []):
            if error.code == "throttled":
                response.status_code = 429
                response["Retry-After"] = str(error.params["retry_after"])
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        # Whoever reads the mailbox owns the account: failed sign-ins no longer
        # lock it (the lockout page sends people here).
        throttle.forget(form.user.email)
        return response


@require_http_methods(["GET", "POST"])
def invitation_accept(request, token):
    invitation = get_object_or_404(
        Invitation.objects.select_related("group", "invited_by"), token=token
    )
    try:
        services.invitation_check_usable(invitation)
    except ValidationError as error:
        return render(
            request,
            "groups/invitation_unusable.html",
            {"invitation": invitation, "reason": error.messages[0]},
            status=410,
        )

    form_class = CharterForm if request.user.is_authenticated else JoinForm
    data = request.POST if request.method == "POST" else None
    form = form_class(data, initial={"email": invitation.email})
    if request.method == "POST" and form.is_valid():
        try:
            if request.user.is_authenticated:
                services.invitation_accept(invitation=invitation, user=request.user)
            else:
                user = services.user_join_by_invitation(
                    invitation=invitation,
                    full_name=form.cleaned_data["full_name"],
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Bienvenue dans le groupe « %(name)s ».") % {"name": invitation.group}
            )
            return redirect("group_detail", code=invitation.group.code)
    if isinstance(form, JoinForm):
        form.keep_passwords_if_valid()
    return render(
        request, "groups/invitation_accept.html", {"invitation": invitation, "form": form}
    )


@login_required
def account(request):
    feed, _created = CalendarFeed.objects.get_or_create(user=request.user)
    feed_url = request.build_absolute_uri(reverse("calendar_feed", args=[feed.token]))
    return render(request, "groups/account.html", {"feed_url": feed_url})


@login_required
@require_POST
def calendar_feed_revoke(request):
    # A new token: the old URL stops answering at once.
    CalendarFeed.objects.update_or_create(user=request.user, defaults={"token": secret_token()})
    messages.success(
        request,
        _("Nouvelle adresse d'agenda créée : l'ancienne ne fonctionne plus."),
    )
    return redirect("account")
