"""Request id: every request gets one, echoed in the response and written into audit rows."""
from __future__ import annotations

import contextvars
import re
import uuid

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("gongzhi_request_id", default="")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return _request_id.get()


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-Id", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-Id"] = request_id
        return response


class RejectNulBytesMiddleware:
    """Answer 400 to any request carrying a NUL character in its parameters.

    PostgreSQL cannot store U+0000 in text, so such input would otherwise surface as a 500 deep in
    whatever query or write first touched it. No legitimate form, filter or JSON body needs it.
    """

    MESSAGE = "输入含有不允许的空字符（\\0），请删除后重试。"
    # Residents' intake cleans control characters out of what residents send and keeps the rest:
    # an elderly resident's matter is not refused for an invisible stray byte.
    FORGIVING_PREFIXES = ("/r/", "/open311/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(self.FORGIVING_PREFIXES) and self._has_nul(request):
            return self._reject(request)
        return self.get_response(request)

    def _has_nul(self, request) -> bool:
        from urllib.parse import unquote_to_bytes

        if b"\x00" in unquote_to_bytes(request.META.get("QUERY_STRING", "")):
            return True
        if request.method not in ("POST", "PUT", "PATCH"):
            return False
        content_type = request.content_type or ""
        if content_type == "application/x-www-form-urlencoded":
            return b"\x00" in unquote_to_bytes(request.body.replace(b"+", b" "))
        if "json" in content_type or "xml" in content_type:
            return b"\x00" in request.body or b"\\u0000" in request.body
        if content_type == "multipart/form-data":
            return any("\x00" in value for values in request.POST.lists() for value in values[1])
        return False

    def _reject(self, request):
        from django.http import HttpResponse, JsonResponse

        if request.path.startswith("/api/"):
            return JsonResponse({"error": {"code": "invalid", "message": self.MESSAGE}}, status=400,
                                json_dumps_params={"ensure_ascii": False})
        return HttpResponse(f"<!doctype html><meta charset=utf-8><p>{self.MESSAGE}</p>", status=400,
                            content_type="text/html; charset=utf-8")
