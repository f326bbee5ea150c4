from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from groups import services
from groups.access import get_group_for
from groups.forms import TopicForm
from groups.models import Topic


@login_required
@require_http_methods(["GET", "POST"])
def topic_list(request, code):
    group, _membership = get_group_for(request, code)
    data = request.POST if request.method == "POST" else None
    form = TopicForm(data)
    if request.method == "POST" and form.is_valid():
        form.instance.group = group
        form.instance.proposed_by = request.user
        form.save()
        messages.success(request, _("Sujet ajouté au stock du groupe."))
        return redirect("topic_list", code=group.code)
    topics = group.topics.filter(status=Topic.Status.OPEN).select_related("proposed_by")
    return render(
        request,
        "groups/topic_list.html",
        {"group": group, "topics": topics, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def topic_withdraw(request, code, topic_code):
    group, _membership = get_group_for(request, code)
    topic = get_object_or_404(group.topics, code=topic_code)
    try:
        services.topic_withdraw(topic=topic, by=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Sujet retiré."))
    return redirect("topic_list", code=group.code)
