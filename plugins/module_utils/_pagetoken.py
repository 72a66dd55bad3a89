# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Predicting the page tokens of a listing, so that its pages can be asked for at once. Pure.

Page tokens are opaque to a client, and a listing stays correct only by sending back the token
the server gave. LiveKit's protocol library writes its offset tokens as base64url of
``{"offset": N, "limit": M}`` (the ``lk`` CLI builds such tokens itself from ``--offset``), so
once the first page is read, the tokens of the pages after it can be predicted and the pages
asked for in parallel. A prediction is only ever a guess: the listing still follows the tokens
the server sends, and uses a page asked for in advance only when the server's token for it is,
character for character, the token predicted. A token of any other form (a cursor) predicts
nothing, and the listing reads its pages one after the other.
"""

from __future__ import annotations

import base64
import binascii
import json

# Key orders and spacing seen in such tokens; a token is reproduced exactly or not predicted.
_SEPARATORS = ((",", ":"), (", ", ": "))


class OffsetToken:
    """A token of the offset form, with what is needed to write its successors the same way."""

    def __init__(self, offset, limit, keys, separators, padded):
        self.offset = offset
        self.limit = limit
        self.keys = keys
        self.separators = separators
        self.padded = padded

    def at(self, offset):
        """The token of the same form for ``offset``."""
        values = {"offset": offset, "limit": self.limit}
        text = json.dumps({key: values[key] for key in self.keys}, separators=self.separators)
        token = base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii")
        return token if self.padded else token.rstrip("=")


def _whole(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def parse(token):
    """The OffsetToken that ``token`` is, or None when it is of any other form."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw.decode("ascii"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or sorted(data) != ["limit", "offset"]:
        return None
    if not _whole(data["offset"]) or not _whole(data["limit"]):
        return None
    keys = tuple(data)
    padded = token.endswith("=") or len(token) % 4 == 0
    for separators in _SEPARATORS:
        parsed = OffsetToken(data["offset"], data["limit"], keys, separators, padded)
        # Only a token that can be written again exactly gives predictions worth asking for.
        if parsed.at(parsed.offset) == token:
            return parsed
    return None


def following(token, first_page, total_count):
    """Tokens of the pages after the first, predicted from its token; [] when none can be.

    ``first_page`` is how many records the first page held and ``total_count`` what the server
    says the listing holds. The first token must point just past the first page (its offset is
    the page's length), which shows that offsets count records and pages are that long.
    """
    parsed = parse(token)
    if parsed is None or first_page <= 0 or parsed.offset != first_page:
        return []
    if not _whole(total_count) or total_count <= first_page:
        return []
    return [parsed.at(offset) for offset in range(first_page, total_count, first_page)]
