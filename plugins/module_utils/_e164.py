# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""E.164 input normalisation.

Buying the wrong number costs money, so the rules are strict and explained:

* Formatting people commonly type is accepted and removed: spaces, dashes, dots, slashes and
  parentheses (``+1 (415) 555-0100`` -> ``+14155550100``).
* The number must start with ``+``. A ``00`` international prefix is refused rather than
  rewritten: the prefix differs between countries (``011`` in North America), so guessing could
  turn a typo into a purchase of some other number.
* After the ``+``: 8 to 15 ASCII digits, the first not ``0`` (ITU-T E.164 country codes never
  start with 0; 15 digits is the E.164 maximum).
"""

from __future__ import annotations

import re
from typing import List, Sequence

from ansible_collections.livekit.sip.plugins.module_utils._errors import InvalidPhoneNumber

MIN_DIGITS = 8
MAX_DIGITS = 15

# Characters people use to group digits; removed before validation.
_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
_E164 = re.compile(r"\+[1-9][0-9]{%d,%d}" % (MIN_DIGITS - 1, MAX_DIGITS - 1))


def normalize_e164(value: str) -> str:
    """Return ``value`` as canonical E.164 (``+`` and digits) or raise InvalidPhoneNumber."""
    if not isinstance(value, str):
        raise InvalidPhoneNumber(
            f"phone number {value!r} is not a string; write it quoted, starting with '+'"
        )
    compact = _SEPARATORS.sub("", value)
    if _E164.fullmatch(compact):
        return compact
    raise InvalidPhoneNumber(f"phone number {value!r} is not E.164: {_why(compact)}")


def _why(compact):
    if not compact:
        return "it is empty"
    if compact.startswith("00"):
        return "write the international prefix as '+', not '00'"
    if not compact.startswith("+"):
        return "it must start with '+' and the country code"
    digits = compact[1:]
    if not re.fullmatch(r"[0-9]*", digits):
        return "only digits, spaces, dashes, dots and parentheses are allowed after '+'"
    if digits.startswith("0"):
        return "the country code cannot start with 0"
    if len(digits) < MIN_DIGITS:
        return "it has %d digits, at least %d are needed" % (len(digits), MIN_DIGITS)
    return "it has %d digits, at most %d are allowed" % (len(digits), MAX_DIGITS)


# How many bad numbers a message explains before it counts the rest.
MESSAGE_PROBLEMS = 10


def normalize_many(values: Sequence[str]) -> List[str]:
    """Normalise a list, keeping the first occurrence of duplicates, in input order.

    Every bad number is reported at once (the first MESSAGE_PROBLEMS explained, with their
    positions, and the rest counted), so that one run shows all there is to fix.
    """
    seen = set()
    result = []
    problems = []
    for index, value in enumerate(values):
        try:
            number = normalize_e164(value)
        except InvalidPhoneNumber as exc:
            problems.append("[%d] %s" % (index, exc))
            continue
        if number not in seen:
            seen.add(number)
            result.append(number)
    if len(problems) == 1:
        raise InvalidPhoneNumber(problems[0].split("] ", 1)[1])
    if problems:
        raise InvalidPhoneNumber(
            "%d of the %d phone numbers are not E.164: %s"
            % (len(problems), len(values), bounded(problems, MESSAGE_PROBLEMS, "more"))
        )
    return result


def bounded(problems: Sequence[str], limit: int, what: str = "more problems") -> str:
    """``problems`` joined with '; ', the first ``limit`` of them, the rest counted."""
    text = "; ".join(problems[:limit])
    if len(problems) > limit:
        text += "; and %d %s" % (len(problems) - limit, what)
    return text
