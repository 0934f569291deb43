"""Small helpers shared by the public views (the residents' page and Open311)."""
from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware

try:  # Django ≥ 5.0
    from django.core.exceptions import TooManyFilesSent
except ImportError:  # pragma: no cover
    TooManyFilesSent = TooManyFieldsSent

#: What parsing a hostile or broken request body can raise: answered as bad input, never a 500.
BAD_BODY = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent, MultiPartParserError, SuspiciousOperation,
            UnicodeDecodeError, ValueError, OSError)


def content_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def csrf_failed(request) -> bool:
    """Run Django's CSRF check ourselves (the view is ``csrf_exempt``) so that a failure gets a
    friendly Chinese page with the resident's text kept, instead of the generic 403."""
    checker = CsrfViewMiddleware(lambda r: None)
    return checker.process_view(request, None, (), {}) is not None


def parse_body(request):
    """(POST, FILES) or raises one of ``BAD_BODY``."""
    return request.POST, request.FILES
