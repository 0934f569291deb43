"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) over the case catalogue and cases.

* ``services`` — the county's active categories; ``service_code`` is the category code.
* ``services/{code}`` — the category's extra questions (``ServiceAttribute``; none for most).
* ``requests`` POST — files a case (channel ``open311``, or the api_key client's channel) through
  ``intake.services.intake_submit``: idempotent with an ``Idempotency-Key`` header, rate-limited
  per IP (anonymous) or per client (api_key), all-or-nothing.
* ``requests`` GET (filters ``service_request_id``, ``service_code``, ``start_date``, ``end_date``,
  ``status``), ``requests/{id}`` — public, so they never show who raised a case, and publish
  only what the spec needs (see ``public_request``); ``tokens/{token}`` → the request id.
* Errors: ``[{"code": <HTTP status>, "description": "…"}]`` (``<errors><error>`` in XML) with that
  HTTP status — 400 bad input, 403 api_key, 404 unknown jurisdiction/service/request, 409/422
  idempotency conflicts, 413 too large, 415 unsupported body, 429 too many requests.

``jurisdiction_id`` is the county's 12-digit division code; it may be left out while the
platform serves one county. ``service_request_id`` is the case number (GZ-2026-000123).
"""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from gongzhi.cases.choices import CaseStatus, Ledger
from gongzhi.cases.models import Case, CaseCategory

from .. import conf, ratelimit, receipts, reference, selectors
from ..forms import clean_email, clean_phone, clean_point
from ..idempotency import KeyInvalid, KeyReused, validate_key
from ..models import CaseMerge, IntakeClient, IntakeSubmission, ReceivedSubmission, ServiceAttribute
from ..parsing import field_errors
from ..text import clean, mask_personal, summary
from ..web import BAD_BODY, content_length
from .render import Open311Error, error_response, respond

MAX_BODY = 256 * 1024  # Open311 POST carries text and a media_url, never files
MAX_RESULTS = 1000
DEFAULT_DAYS = 90
S = CaseStatus


def w3c(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def _guard(view):
    """Every Open311 view: Open311Error → the spec's error answer; nothing escapes as a 500."""
    def wrapped(request, *args, fmt: str = "json", **kwargs):
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error_response(exc, fmt)
        except BAD_BODY:
            return error_response(Open311Error(400, "请求格式不正确 (malformed request)"), fmt)
    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return csrf_exempt(wrapped)


def _param(request, name: str, data=None) -> str:
    source = data if data is not None else request.GET
    value = source.get(name, "")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else ""
    return clean(value if isinstance(value, str) else str(value))


def _jurisdiction(request, data=None, client: IntakeClient | None = None) -> reference.CountyRef:
    """The county a request is about, from memory (``reference``): ``jurisdiction_id``, else the
    county an api_key is bound to, else the deployment's only county."""
    code = _param(request, "jurisdiction_id", data)
    if code:
        county = reference.county_by_code(code[:15])
        if county is None:
            raise Open311Error(404, f"jurisdiction_id 不存在 (jurisdiction_id not found): {code[:20]}")
    else:  # an api_key bound to a county need not repeat it
        county = next((c for c in reference.counties().values() if client is not None and c.id == client.county_id),
                      None) or reference.single_county()
    if county is None:
        raise Open311Error(400, "请提供 jurisdiction_id（县级区划代码）(jurisdiction_id required)")
    if client is not None and client.county_id and client.county_id != county.id:
        raise Open311Error(403, "此 api_key 不能向该辖区提交 (api_key not valid for this jurisdiction)")
    return county


def _limited(request, scope: str, ident: str | None = None) -> None:
    if not ratelimit.allow(scope, ident or ratelimit.client_ip(request)):
        raise Open311Error(429, "请求太频繁，请稍后再试 (too many requests)")


# ---------------------------------------------------------------------------------------------
# services


@_guard
def discovery(request, fmt):
    base = request.build_absolute_uri("/open311/v2/")
    data = {"changeset": "2026-01-01T00:00:00+08:00", "contact": "", "key_service": "",
            "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2", "url": base,
                           "changeset": "2026-01-01T00:00:00+08:00", "type": "production",
                           "formats": ["application/json", "text/xml"]}]}
    return respond(data, fmt, "discovery", cors=True)


def _catalogue(county: reference.CountyRef):
    return CaseCategory.objects.for_county(county.id).filter(active=True).order_by("sort_order", "code")


@_guard
def services(request, fmt):
    _limited(request, "open311_get")
    county = _jurisdiction(request)
    categories = list(_catalogue(county))
    with_questions = set(ServiceAttribute.objects.filter(category__in=categories).values_list("category_id", flat=True))
    data = [{"service_code": c.code, "service_name": c.name, "description": c.description or c.name,
             "metadata": c.pk in with_questions, "type": "realtime", "keywords": c.get_kind_display(),
             "group": Ledger(c.ledger).label} for c in categories]
    return respond(data, fmt, "services", cors=True)


def _attribute(a: ServiceAttribute) -> dict:
    return {"variable": True, "code": a.code, "datatype": a.datatype, "required": a.required,
            "datatype_description": a.datatype_description or None, "order": a.order, "description": a.description,
            "values": [{"key": str(v.get("key")), "name": v.get("name", "")} for v in a.values or []]}


@_guard
def service_definition(request, fmt, code):
    _limited(request, "open311_get")
    county = _jurisdiction(request)
    category = _catalogue(county).filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"service_code 不存在 (service_code not found): {clean(code)[:40]}")
    data = {"service_code": category.code,
            "attributes": [_attribute(a) for a in services_.attribute_definitions(category)]}
    return respond(data, fmt, "service_definition", cors=True)


# ---------------------------------------------------------------------------------------------
# requests: reading


def public_detail(case: Case) -> bool:
    """May the case's summary and (rounded) point be published? 意见建议 and public-works
    categories yes; personal matters (help, disputes, other demands) and complaints no."""
    return case.ledger == Ledger.OPINION or case.category.code in conf.open311_public_detail_codes()


def _status_notes(case: Case, merge: CaseMerge | None) -> str:
    if merge is not None:
        return f"已与相同问题合并办理，见 {merge.primary.number}"
    return selectors.resident_status(case)


def _round(value: Decimal | None) -> float | None:
    return None if value is None else round(float(value), 3)


def public_request(case: Case) -> dict:
    """A case as the public may see it. Never the requester, the household address, internal
    notes or the answer to the requester. Complaints (投诉举报): no text, no place below the
    county, no unit (it may be the one complained about). Personal matters: no text (the service
    name stands in), the village, no point. Public-interest matters: the title (phones and ID
    numbers masked) and the point rounded to 0.001° (≈100 m)."""
    merge = getattr(case, "_merge", None)
    submission = getattr(case, "_submission", None)
    complaint = case.ledger == Ledger.COMPLAINT
    detail = not complaint and public_detail(case)
    if complaint:
        address, address_id = (case.county.name if case.county_id else ""), ""
    else:
        address, address_id = selectors.place_name(case), case.region.code
    return {
        "service_request_id": case.number,
        "status": "closed" if case.status == S.CLOSED else "open",
        "status_notes": _status_notes(case, merge),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": mask_personal(case.title) if detail else case.category.name,
        "agency_responsible": "" if complaint else case.assignee_label(),
        "service_notice": "",
        "requested_datetime": w3c(case.received_at),
        "updated_datetime": w3c(case.updated_at),
        "expected_datetime": w3c(case.resolution_due_at) if case.status != S.CLOSED else None,
        "address": address,
        "address_id": address_id,
        "zipcode": "",
        "lat": _round(case.latitude) if detail else None,
        "long": _round(case.longitude) if detail else None,
        "media_url": submission.media_url if (detail and submission is not None) else "",
    }


def _with_extras(cases: list[Case]) -> list[Case]:
    """Attach the merge and the submission of each case (two queries for any number)."""
    ids = [c.pk for c in cases]
    merges = {m.duplicate_id: m for m in CaseMerge.objects.filter(duplicate_id__in=ids).select_related("primary")}
    subs = {s.case_id: s for s in IntakeSubmission.objects.filter(case_id__in=ids).only("case_id", "media_url")}
    for case in cases:
        case._merge, case._submission = merges.get(case.pk), subs.get(case.pk)
    return cases


def _cases(county: reference.CountyRef):
    return (Case.objects.filter(county_id=county.id)
            .select_related("category", "region", "town", "village", "county", "assignee_grid", "assignee_region",
                            "assignee_department"))


def _when(raw: str, name: str, *, end: bool = False) -> dt.datetime | None:
    if not raw:
        return None
    raw = raw.replace(" ", "+") if re.search(r"\d \d{2}:?\d{2}$", raw) else raw  # '+' decoded as space
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is None:
                raise ValueError
            value = dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time.min)
    except ValueError:
        raise Open311Error(400, f"{name} 不是 W3C 日期时间格式，例如 2026-01-01T00:00:00+08:00 "
                                f"({name} must be a W3C datetime)") from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _list(request, fmt):
    _limited(request, "open311_get")
    county = _jurisdiction(request)
    qs = _cases(county)
    ids = _param(request, "service_request_id")
    if ids:
        wanted = [i.strip() for i in ids.split(",") if i.strip()][:MAX_RESULTS]
        qs = qs.filter(number__in=wanted)
    else:
        codes = [c.strip() for c in _param(request, "service_code").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category__code__in=codes)
        start = _when(_param(request, "start_date"), "start_date")
        end = _when(_param(request, "end_date"), "end_date", end=True)
        if start and end and start > end:
            raise Open311Error(400, "start_date 晚于 end_date (start_date is after end_date)")
        if start is None and end is None:
            start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
        if start is not None:
            qs = qs.filter(received_at__gte=start)
        if end is not None:
            qs = qs.filter(received_at__lte=end)
        statuses = {s.strip().lower() for s in _param(request, "status").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, "status 只能是 open 或 closed (status must be open or closed)")
        if statuses == {"open"}:
            qs = qs.exclude(status=S.CLOSED)
        elif statuses == {"closed"}:
            qs = qs.filter(status=S.CLOSED)
    cases = _with_extras(list(qs.order_by("-received_at", "-pk")[:MAX_RESULTS]))
    return respond([public_request(c) for c in cases], fmt, "service_requests", cors=True)


@_guard
def request_detail(request, fmt, request_id):
    _limited(request, "open311_get")
    county = _jurisdiction(request)
    case = _cases(county).filter(number=clean(request_id)).first()
    if case is None:
        raise Open311Error(404, f"service_request_id 不存在 (service_request_id not found): {clean(request_id)[:40]}")
    return respond([public_request(_with_extras([case])[0])], fmt, "service_requests", cors=True)


@_guard
def token_detail(request, fmt, token):
    _limited(request, "open311_get")
    token = clean(token)
    submission = IntakeSubmission.objects.filter(token=token).select_related("case").first()
    if submission is not None:
        return respond([{"service_request_id": submission.case.number, "token": submission.token}], fmt,
                       "service_requests", cors=True)
    # received, not registered yet: the spec's answer is the token without an id (ask again)
    if not ReceivedSubmission.objects.filter(token=token).exclude(state=ReceivedSubmission.State.REGISTERED).exists():
        raise Open311Error(404, "token 不存在 (token not found)")
    return respond([{"service_request_id": None, "token": token}], fmt, "service_requests", cors=True)


@csrf_exempt
def not_found(request, rest=""):
    return error_response(Open311Error(404, "没有这个接口：请使用 services、requests、tokens，并以 .json 或 .xml 结尾 "
                                            "(unknown endpoint)"), "xml" if rest.endswith(".xml") else "json")


# ---------------------------------------------------------------------------------------------
# requests: filing


def _body(request) -> tuple[dict, dict[str, list[str]]]:
    """The POST's fields and its attribute[...] answers."""
    if content_length(request) > MAX_BODY:
        raise Open311Error(413, "请求太大 (request too large)")
    ctype = (request.content_type or "").lower()
    attributes: dict[str, list[str]] = {}
    if ctype in ("application/x-www-form-urlencoded", "multipart/form-data", ""):
        post = request.POST
        data = dict({k: post.get(k) for k in post.keys() if not k.startswith("attribute[")})
        for key in post.keys():
            match = re.fullmatch(r"attribute\[([^\]]{1,50})\](\[\])?", key)
            if match:
                attributes.setdefault(match.group(1), []).extend(clean(v) for v in post.getlist(key))
        return data, attributes
    if ctype == "application/json":
        try:
            raw = json.loads(request.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise Open311Error(400, "JSON 格式不正确 (invalid JSON)") from None
        if not isinstance(raw, dict):
            raise Open311Error(400, "JSON 应为一个对象 (JSON body must be an object)")
        data = {}
        for key, value in raw.items():
            if key == "attribute" and isinstance(value, dict):
                for code, answer in value.items():
                    answers = answer if isinstance(answer, list) else [answer]
                    attributes[str(code)[:50]] = [clean(a) for a in answers if isinstance(a, (str, int, float))]
            elif key.startswith("attribute["):
                match = re.fullmatch(r"attribute\[([^\]]{1,50})\](\[\])?", key)
                if match:
                    answers = value if isinstance(value, list) else [value]
                    attributes.setdefault(match.group(1), []).extend(clean(a) for a in answers
                                                                     if isinstance(a, (str, int, float)))
            elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
                data[key] = str(value)
            elif value is not None:
                raise Open311Error(400, f"{key[:40]} 应为文本或数字 ({key[:40]} must be a string or number)")
        return data, attributes
    raise Open311Error(415, "只接受 application/x-www-form-urlencoded、multipart/form-data 或 application/json "
                            "(unsupported content type)")


def _client(request, data) -> IntakeClient | None:
    raw = clean(data.get("api_key") or request.GET.get("api_key") or request.headers.get("X-Api-Key", ""))
    if not raw:
        if conf.open311_require_api_key():
            raise Open311Error(403, "需要 api_key (api_key required)")
        return None
    client = IntakeClient.authenticate(raw)
    if client is None:
        raise Open311Error(403, "api_key 无效 (api_key invalid)")
    return client


def _locate(county: reference.CountyRef, data) -> tuple[int, int | None, Decimal | None, Decimal | None, str]:
    """address_id (region or grid code) → address_string (a village or community named in it)
    → lat/long only: the county itself, for the dispatcher to place. Returns (region id, grid id,
    lat, long, address text); read from the county's place codes in memory (``reference``)."""
    try:
        lat, lon = clean_point(_param(None, "lat", data), _param(None, "long", data))
    except ValidationError:
        raise Open311Error(400, "lat/long 不正确 (lat/long invalid)") from None
    address_id = _param(None, "address_id", data)
    address = _param(None, "address_string", data)[:200]
    if address_id:
        place = reference.county_data(county.id).places.get(address_id[:32])
        if place is None:
            raise Open311Error(400, f"address_id 不存在 (address_id not found): {address_id[:40]}")
        return place.region_id, place.grid_id, lat, lon, address
    if address:
        return reference.match_village(county.id, address) or county.id, None, lat, lon, address
    if lat is not None:
        return county.id, None, lat, lon, ""
    raise Open311Error(400, "需要地点：lat/long、address_string 或 address_id "
                            "(location required: lat/long, address_string or address_id)")


def _name(data) -> str:
    first, last = _param(None, "first_name", data)[:25], _param(None, "last_name", data)[:25]
    if re.search(r"[\u3400-\u9fff]", first + last):
        return f"{last}{first}"
    return " ".join(p for p in (first, last) if p)


@_guard
def requests_view(request, fmt):
    if request.method == "GET":
        return _list(request, fmt)
    if request.method != "POST":
        raise Open311Error(405, "只支持 GET 和 POST (method not allowed)")
    return _file(request, fmt)


def _file(request, fmt):
    """File a request: validated here, acknowledged with one INSERT, registered by the worker
    (``receipts``). Bad input is answered now, never accepted and dropped later."""
    data, answers = _body(request)
    client = _client(request, data)
    if client is not None:
        _limited(request, "open311_client_post", f"client:{client.pk}")
    else:
        _limited(request, "open311_post")
    try:
        key = validate_key(request.headers.get("Idempotency-Key"))
    except KeyInvalid:
        raise Open311Error(400, "Idempotency-Key 应为8到128个字母、数字或 -_:. (invalid Idempotency-Key)") from None
    county = _jurisdiction(request, data, client)
    code = _param(None, "service_code", data)
    if not code:
        raise Open311Error(400, "需要 service_code (service_code was not provided)")
    category = reference.county_data(county.id).categories.get(code[:63])
    if category is None:
        raise Open311Error(404, f"service_code 不存在 (service_code not found): {code[:40]}")
    errors = []
    region_id, grid_id, lat, lon, address = _locate(county, data)
    description = clean(data.get("description", ""), multiline=True)
    if len(description) > conf.max_description():
        errors.append(f"description 最多{conf.max_description()}字 (description too long)")
    media_url = _param(None, "media_url", data)
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
            if len(media_url) > 500:
                raise ValidationError("too long")
        except ValidationError:
            errors.append("media_url 不是有效的 http(s) 地址 (media_url invalid)")
    try:
        phone = clean_phone(_param(None, "phone", data))
    except ValidationError:
        phone = ""
        errors.append("phone 不正确：11位手机号或带区号的座机号 (phone invalid)")
    try:
        email = clean_email(_param(None, "email", data))
    except ValidationError:
        email = ""
        errors.append("email 不正确 (email invalid)")
    try:
        attributes = services_.validate_attributes(CaseCategory(pk=category.id), answers) if (
            answers or category.has_questions) else {}
    except ValidationError as exc:
        attributes = {}
        errors.extend(f"{k}: {'；'.join(v)}" for k, v in field_errors(exc).items())
    if errors:
        raise Open311Error(400, *errors)
    account_id = _param(None, "account_id", data)[:100]
    payload = {
        "county": county.id, "category": category.id, "region": region_id, "grid": grid_id,
        "description": description or f"（未填写说明）{category.name}",
        "title": summary(description) if description else category.name, "address": address,
        "lat": str(lat) if lat is not None else None, "long": str(lon) if lon is not None else None,
        "requester_name": _name(data)[:50], "phone": phone, "email": email, "media_url": media_url,
        "device_id": _param(None, "device_id", data)[:100], "account_id": account_id, "attributes": attributes}
    try:
        receipt = receipts.receive(scope=f"open311:{client.pk if client else 'anon'}", key=key,
                                   channel=client.channel if client else "open311",
                                   client_id=client.pk if client else None, payload=payload)
    except KeyReused:
        raise Open311Error(422, "Idempotency-Key 已用于另一个不同的请求 (Idempotency-Key reused with a different "
                                "request)") from None
    if not receipt.replayed:
        receipts.kick()
    # The answer is the receipt, the same on every retry (GeoReport v2: a token when the id is
    # not known yet); ``GET tokens/{token}`` gives the case number once it is registered.
    answer = {"token": receipt.token,
              "service_notice": f"已收到。查询码 {receipt.tracking_code}（群众可凭此在 /r/t/ 查看进展、评价）；"
                                f"受理编号可凭 token 查询 (case number: GET tokens/{{token}})",
              "account_id": account_id or None}
    response = respond([answer], fmt, "service_requests", status=201)
    if receipt.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


from .. import services as services_  # noqa: E402  (the module name ``services`` is the view above)
