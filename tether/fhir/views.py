"""The FHIR R4 API (bearer tokens, no sessions) and its token endpoint.

Thin views: authenticate the bearer token, check the scope, ask ``search`` for the rows
the client may receive, build the resources, record the release (``release``), answer
in ``application/fhir+json``. Every refusal is an ``OperationOutcome`` with the FHIR
status code, and audited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from fhir.resources.R4B.resource import Resource

from tether.fhir import auth, capability, export, inbound, release, resources, search, services
from tether.fhir.models import ExportFile, ExportJob
from tether.privacy.policy import Action, Category

FHIR_JSON = "application/fhir+json"


def fhir_response(resource: Resource, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(
        resource.model_dump_json(exclude_none=True), status=status, content_type=FHIR_JSON
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def outcome(status: int, code: str, text: str, **headers: str) -> HttpResponse:
    severity = "information" if status < 400 else "error"
    return fhir_response(resources.operation_outcome(severity, code, text), status, **headers)


def outcome_of(refused: inbound.Refused) -> HttpResponse:
    return fhir_response(
        resources.operation_outcome_issues("error", refused.code, refused.texts), refused.status
    )


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:metadata")).removesuffix("/metadata")


def _unauthorized() -> HttpResponse:
    return outcome(
        401,
        "login",
        "A valid bearer access token is required.",
        WWW_Authenticate='Bearer realm="fhir", error="invalid_token"',
    )


def api(
    mode: str = "read",
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Bearer token required, and a scope for the resource type (``resource_type`` kwarg)."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            caller = auth.bearer(request)
            if caller is None:
                release.record_refused(request=request, client=None)
                return _unauthorized()
            resource_type = kwargs.get("resource_type")
            if resource_type is None:  # $export: the types are checked by the export
                request.fhir_caller = caller  # type: ignore[attr-defined]
                return view(request, *args, **kwargs)
            if resource_type not in search.KINDS:
                return outcome(404, "not-supported", "This resource type is not served here.")
            if not caller.may(resource_type, mode):
                release.record_refused(request=request, client=caller.client)
                return outcome(403, "forbidden", "The token's scopes do not cover this.")
            request.fhir_caller = caller  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def only(
    *methods: str,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Like ``require_http_methods``, but any other method is a FHIR 405 with an
    OperationOutcome (no CSRF: no session or cookie ever authenticates this API)."""
    allowed = list(methods)

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in allowed:
                return _not_allowed(tuple(allowed))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


@only("GET")
def metadata(request: HttpRequest) -> HttpResponse:
    return fhir_response(capability.capability_statement(base_url(request)))


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    """SMART Backend Services token endpoint (form-encoded, RFC 6749 errors)."""
    try:
        issued = services.token_request(
            grant_type=request.POST.get("grant_type", ""),
            assertion_type=request.POST.get("client_assertion_type", ""),
            assertion=request.POST.get("client_assertion", ""),
            scope=request.POST.get("scope", ""),
            audience=request.build_absolute_uri(reverse("fhir:token")),
        )
    except auth.TokenRefused as refused:
        release.record_refused(request=request, client=refused.client, action=Action.CREATE)
        status = 400 if refused.error != "invalid_client" else 401
        return JsonResponse(
            {"error": refused.error, "error_description": refused.description}, status=status
        )
    return JsonResponse(
        {
            "access_token": issued.token,
            "token_type": "bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        }
    )


def _params(request: HttpRequest) -> dict[str, list[str]]:
    return {key: request.GET.getlist(key) for key in request.GET}


def _page_url(request: HttpRequest, params: dict[str, list[str]], offset: int) -> str:
    query = {k: v for k, v in params.items() if k != "_offset"}
    query["_offset"] = [str(offset)]
    return request.build_absolute_uri(request.path) + "?" + urlencode(query, doseq=True)


def _filter_codes(found: list[Resource], params: dict[str, list[str]]) -> list[Resource]:
    if not params.get("code"):
        return found
    codes = search.observation_codes(params["code"])
    return [
        r
        for r in found
        if any(c.code in codes for c in (getattr(r, "code", None).coding or []))  # type: ignore[union-attr]
    ]


# Resource types a client may write, and how: POST (create), PUT (update).
WRITABLE = {"Appointment": ("POST", "PUT"), "Patient": ("PUT",)}


def _not_allowed(allowed: tuple[str, ...]) -> HttpResponse:
    return outcome(
        405, "not-supported", "This interaction is not supported.", Allow=", ".join(allowed)
    )


@csrf_exempt
def type_endpoint(request: HttpRequest, resource_type: str) -> HttpResponseBase:
    """``[type]``: GET search, POST create, PUT conditional update."""
    if request.method == "GET":
        return search_type(request, resource_type=resource_type)
    if request.method in WRITABLE.get(resource_type, ()):
        return write(request, resource_type=resource_type)
    return _not_allowed(("GET", *WRITABLE.get(resource_type, ())))


@csrf_exempt
def instance_endpoint(
    request: HttpRequest, resource_type: str, resource_id: str
) -> HttpResponseBase:
    """``[type]/[id]``: GET read, PUT update."""
    if request.method == "GET":
        return read(request, resource_type=resource_type, resource_id=resource_id)
    if request.method == "PUT" and "PUT" in WRITABLE.get(resource_type, ()):
        return write(request, resource_type=resource_type, resource_id=resource_id)
    allowed = ("GET", "PUT") if "PUT" in WRITABLE.get(resource_type, ()) else ("GET",)
    return _not_allowed(allowed)


@api("write")
def write(request: HttpRequest, resource_type: str, resource_id: str | None = None) -> HttpResponse:
    """Create or update from the client (``inbound``): 201 or 200 with the resource's
    Location and an OperationOutcome; refusals are audited."""
    caller: auth.Caller = request.fhir_caller  # type: ignore[attr-defined]
    action = Action.CREATE if request.method == "POST" else Action.UPDATE
    content_type = request.content_type or ""
    if content_type not in ("application/fhir+json", "application/json"):
        release.record_refused(request=request, client=caller.client, action=action)
        return outcome(415, "not-supported", "Send application/fhir+json.")
    params = _params(request)
    try:
        if request.method == "POST":
            if params:
                raise inbound.Refused(400, "not-supported", "POST takes no parameters.")
            stored = inbound.appointment_create(client=caller.client, body=request.body)
        elif resource_id is not None:
            update = (
                inbound.appointment_update
                if resource_type == "Appointment"
                else inbound.patient_update
            )
            stored = update(client=caller.client, resource_id=resource_id, body=request.body)
        else:
            conditional = (
                inbound.appointment_conditional_update
                if resource_type == "Appointment"
                else inbound.patient_conditional_update
            )
            stored = conditional(client=caller.client, params=params, body=request.body)
    except inbound.Refused as refused:
        release.record_refused(
            request=request, client=caller.client, patient=refused.patient, action=action
        )
        return outcome_of(refused)
    location = f"{base_url(request)}/{stored.resource_type}/{stored.resource_id}"
    return outcome(stored.status, "informational", stored.message, Location=location)


@only("GET")
@api("read")
def search_type(request: HttpRequest, resource_type: str) -> HttpResponse:
    caller: auth.Caller = request.fhir_caller  # type: ignore[attr-defined]
    kind = search.KINDS[resource_type]
    params = _params(request)
    try:
        page, _ = search.search(kind, caller.client, params)
    except search.BadSearch as bad:
        release.record_refused(request=request, client=caller.client)
        return outcome(400, "invalid", f"{bad.parameter}: {bad.message}")
    part2 = search.part2_ids({search.patient_of(row) for row in page.rows})
    base = base_url(request)
    found = _filter_codes(kind.build(page.rows, part2, base), params)
    release.release(
        request=request,
        client=caller.client,
        resources=found,
        part2=part2,
        base_category=kind.category,
    )
    next_offset = page.offset + page.count
    withheld = None
    if page.withheld:
        release.record_refused(request=request, client=caller.client, category=Category.PART2)
        withheld = resources.operation_outcome(
            "information",
            "suppressed",
            "Some results were withheld by policy.",
        )
    bundle = resources.searchset(
        resources=found,
        total=page.total if resource_type != "Observation" else None,  # type: ignore[arg-type]
        self_url=request.build_absolute_uri(),
        next_url=_page_url(request, params, next_offset)
        if next_offset < page.total and page.count
        else None,
        base=base,
        outcome=withheld,
    )
    return fhir_response(bundle)


@only("GET")
@api("read")
def read(request: HttpRequest, resource_type: str, resource_id: str) -> HttpResponse:
    caller: auth.Caller = request.fhir_caller  # type: ignore[attr-defined]
    kind = search.KINDS[resource_type]
    row_id = resource_id.split("-", 1)[0] if resource_type == "Observation" else resource_id
    if not row_id.isdigit() or len(row_id) > 18:
        return outcome(404, "not-found", "No such resource.")
    page, _ = search.search(kind, caller.client, {"_id": [row_id]})
    part2 = search.part2_ids({search.patient_of(row) for row in page.rows})
    found = [r for r in kind.build(page.rows, part2, base_url(request)) if r.id == resource_id]
    if not found:
        # Unknown, another program's, or withheld by policy: the same answer.
        release.record_refused(request=request, client=caller.client)
        return outcome(404, "not-found", "No such resource.")
    release.release(
        request=request,
        client=caller.client,
        resources=found,
        part2=part2,
        base_category=kind.category,
    )
    return fhir_response(found[0])


@only("GET")
@api("read")
def export_kick_off(request: HttpRequest, group_id: str) -> HttpResponse:
    """``Group/<program id>/$export``: 202 and a status URL (Bulk Data IG kick-off)."""
    caller: auth.Caller = request.fhir_caller  # type: ignore[attr-defined]
    if "respond-async" not in request.headers.get("Prefer", ""):
        return outcome(400, "invalid", "Send Prefer: respond-async.")
    output_format = request.GET.get("_outputFormat", "application/fhir+ndjson")
    if output_format not in ("application/fhir+ndjson", "application/ndjson", "ndjson"):
        return outcome(400, "not-supported", "Only NDJSON is written.")
    since = None
    if request.GET.get("_since"):
        try:
            since = parse_datetime(request.GET["_since"])
        except ValueError:
            since = None
        if since is None or since.tzinfo is None:
            release.record_refused(request=request, client=caller.client, action=Action.EXPORT)
            return outcome(400, "invalid", "_since must be an instant with its time zone offset.")
    types = [t for raw in request.GET.getlist("_type") for t in raw.split(",") if t]
    try:
        job = export.export_kick_off(
            client=caller.client,
            scopes=caller.scopes,
            group_id=group_id,
            types=types,
            request_url=request.build_absolute_uri(),
            since=since,
        )
    except export.ExportRefused as refused:
        release.record_refused(request=request, client=caller.client, action=Action.EXPORT)
        if str(refused) == "group":
            return outcome(404, "not-found", "No such group.")
        return outcome(403, "forbidden", "A type is not served or not in the token's scopes.")
    status_url = request.build_absolute_uri(reverse("fhir:export_status", args=[job.key]))
    return outcome(202, "informational", "Export accepted.", Content_Location=status_url)


def _own_job(request: HttpRequest, key: str) -> ExportJob | None:
    caller: auth.Caller = request.fhir_caller  # type: ignore[attr-defined]
    return ExportJob.objects.filter(key=key, client=caller.client).first()


@only("GET")
@api("read")
def export_status(request: HttpRequest, key: str) -> HttpResponse:
    job = _own_job(request, key)
    if job is None:
        return outcome(404, "not-found", "No such export.")
    if job.status in (ExportJob.Status.ACCEPTED, ExportJob.Status.RUNNING):
        response = HttpResponse(status=202)
        response["X-Progress"] = str(job.get_status_display())
        response["Retry-After"] = "10"
        return response
    if job.status == ExportJob.Status.FAILED:
        return outcome(500, "exception", "The export failed; kick off a new one.")
    manifest = {
        "transactionTime": job.requested_at.isoformat(),
        "request": job.request_url,
        "requiresAccessToken": True,
        "output": [
            {
                "type": f["resource_type"],
                "url": request.build_absolute_uri(
                    reverse("fhir:export_file", args=[job.key, f["resource_type"]])
                ),
                "count": f["count"],
            }
            for f in job.files.values("resource_type")
            .annotate(count=Sum("count"))
            .order_by("resource_type")
        ],
        "error": [],
    }
    return JsonResponse(manifest)


@only("GET")
@api("read")
def export_file(request: HttpRequest, key: str, file_type: str) -> HttpResponseBase:
    job = _own_job(request, key)
    parts = (
        list(
            ExportFile.objects.filter(job=job, resource_type=file_type)
            .order_by("part")
            .values_list("pk", flat=True)
        )
        if job
        else []
    )
    if not parts:
        return outcome(404, "not-found", "No such file.")
    return StreamingHttpResponse(_parts(parts), content_type="application/fhir+ndjson")


def _parts(ids: list[int]) -> Iterator[str]:
    """The file's parts in order, one decrypted part in memory at a time."""
    for pk in ids:
        yield ExportFile.objects.only("content").get(pk=pk).content
