"""The flag queue: open flags across the user's programs, ranked, and the steps taken
on each (acknowledge, assign, document, resolve). Thin views over the services."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tether.flags import selectors, services
from tether.flags.models import Flag
from tether.staff.access import staff_required


def _clinical_only(request: HttpRequest) -> None:
    if not selectors._is_clinical(request.user):  # type: ignore[arg-type]
        raise Http404


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    _clinical_only(request)
    flags = selectors.open_queue(user=request.user)  # type: ignore[arg-type]
    figures = selectors.figures_for(
        user=request.user,  # type: ignore[arg-type]
        since=timezone.now() - dt.timedelta(weeks=8),
    )
    return render(
        request,
        "flags/queue.html",
        {"nav": "flags", "flags": flags, "figures": figures, "actions": Flag.Action.choices},
    )


@staff_required
@require_POST
def act(request: HttpRequest, flag_id: int) -> HttpResponse:
    _clinical_only(request)
    flag = selectors.queue_for(user=request.user).filter(pk=flag_id).first()  # type: ignore[arg-type]
    if flag is None:
        raise Http404
    step = request.POST.get("step", "")
    user = request.user
    try:
        if step == "acknowledge":
            services.flag_acknowledge(actor=user, flag=flag)  # type: ignore[arg-type]
            messages.success(request, _("Flag acknowledged."))
        elif step == "assign_me":
            services.flag_assign(actor=user, flag=flag, assignee=user)  # type: ignore[arg-type]
            messages.success(request, _("Flag assigned to you."))
        elif step == "resolve":
            services.flag_resolve(
                actor=user,  # type: ignore[arg-type]
                flag=flag,
                action=request.POST.get("action", ""),
                note=request.POST.get("note", ""),
            )
            messages.success(request, _("Flag resolved and the action documented."))
        else:
            messages.error(request, _("Choose what to do with the flag."))
    except (ValidationError, PermissionDenied) as error:
        text = error.messages[0] if isinstance(error, ValidationError) else str(error)
        messages.error(request, text)
    return redirect("flags:queue")
