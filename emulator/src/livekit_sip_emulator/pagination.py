"""Page tokens in the protocol library's offset form: base64url (padded) of {"offset": N, "limit": M}."""

from __future__ import annotations

import base64
import binascii
import json

from .wire import invalid

DEFAULT_LIMIT = 50


def encode(offset, limit, **extra):
    """A token; ``extra`` keys (ignored by decode) make otherwise equal tokens differ."""
    raw = json.dumps(dict({"offset": offset, "limit": limit}, **extra), separators=(",", ":"))
    raw = raw.encode()
    return {"token": base64.urlsafe_b64encode(raw).decode("ascii")}


def decode(token):
    """Return (offset, limit) from a token string; an empty token means the first page."""
    if not token:
        return 0, 0
    try:
        # Accept the unpadded form too: some clients strip the padding when they store tokens.
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        offset, limit = data.get("offset", 0), data.get("limit", 0)
    except (binascii.Error, ValueError, AttributeError):
        raise invalid(f"invalid page_token: {token!r}", field="page_token") from None
    valid = all(
        isinstance(value, int) and not isinstance(value, bool) and value >= 0
        for value in (offset, limit)
    )
    if not valid:
        raise invalid(f"invalid page_token: {token!r}", field="page_token")
    return offset, limit


def page_limit(requested, token_limit, max_page_size):
    """The page size: the request's limit, else the token's, else 50; capped at the server maximum."""
    if requested is not None and requested < 0:
        raise invalid("limit must not be negative, got %d" % requested, field="limit")
    limit = requested or token_limit or DEFAULT_LIMIT
    return min(limit, max_page_size)


def window(request, max_page_size):
    """Offset and limit of the page a List/Search request asks for."""
    offset, token_limit = decode(request.get("page_token"))
    return offset, page_limit(request.get("limit"), token_limit, max_page_size)


def next_token(offset, limit, returned, more):
    return encode(offset + returned, limit) if more else None
