"""Page tokens: the protocol library's offset form, base64url (padded) of {"offset": N, "limit": M},
or opaque cursors that only the server can resolve (``page_tokens: cursor``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading

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


class Cursors:
    """Opaque tokens handed out by the server, each standing for an (offset, limit) it remembers.

    A client can neither build nor predict them: they are digests of a counter, so the only way
    to the next page is the token the server sent.
    """

    # Listings of 5,000,000 numbers in pages of 1 stay resolvable; older cursors are forgotten.
    LIMIT = 100000

    def __init__(self, seed=0):
        self.seed = seed
        self.issued = {}
        self.count = 0
        self.lock = threading.Lock()

    def issue(self, offset, limit):
        with self.lock:
            self.count += 1
            digest = hashlib.sha256(("%s/%d" % (self.seed, self.count)).encode()).hexdigest()
            token = "cur_" + digest[:24]
            if len(self.issued) >= self.LIMIT:
                self.issued.pop(next(iter(self.issued)))
            self.issued[token] = (offset, limit)
            return {"token": token}

    def resolve(self, token):
        if not token:
            return 0, 0
        with self.lock:
            found = self.issued.get(token)
        if found is None:
            raise invalid(f"invalid page_token: {token!r}", field="page_token")
        return found


def window(request, max_page_size, cursors=None):
    """Offset and limit of the page a List/Search request asks for (cursors: in cursor mode)."""
    token = request.get("page_token")
    offset, token_limit = cursors.resolve(token) if cursors is not None else decode(token)
    return offset, page_limit(request.get("limit"), token_limit, max_page_size)


def next_token(offset, limit, returned, more, cursors=None):
    if not more:
        return None
    if cursors is not None:
        return cursors.issue(offset + returned, limit)
    return encode(offset + returned, limit)
