# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Choosing numbers by what the API cannot filter on: pure predicates over normalised records.

``SearchPhoneNumbers`` filters by country and area code only, and ``ListPhoneNumbers`` by status
and dispatch rule only. Everything else an operator chooses by (the kind of number, its place,
what it can do, a vanity digit pattern, its spam score, its label) is decided here, on records,
so that searches, listings and pools agree on what matches.
"""

from __future__ import annotations

import math
import re

from ansible_collections.livekit.sip.plugins.module_utils._errors import ParameterError

NUMBER_TYPE_CHOICES = ("mobile", "local", "toll_free")

# Letters as a phone keypad maps them, so that a vanity pattern can be written as a word.
_KEYPAD = {
    letter: digit
    for digit, letters in (
        ("2", "abc"),
        ("3", "def"),
        ("4", "ghi"),
        ("5", "jkl"),
        ("6", "mno"),
        ("7", "pqrs"),
        ("8", "tuv"),
        ("9", "wxyz"),
    )
    for letter in letters
}


def contains_digits(pattern):
    """The digit pattern of a ``contains`` filter: digits and ``*``, letters as keypad digits.

    ``*`` stands for any one digit. Spaces and dashes are ignored, so ``800-FLOWERS`` works.
    """
    text = str(pattern).strip()
    out = []
    for char in text.lower():
        if char.isdigit() and char.isascii():
            out.append(char)
        elif char == "*":
            out.append(char)
        elif char in _KEYPAD:
            out.append(_KEYPAD[char])
        elif char in " -":
            continue
        else:
            raise ParameterError(
                "contains %r may hold only digits, letters (read as on a phone keypad), '*' for "
                "any one digit, spaces and dashes" % (pattern,)
            )
    digits = "".join(out)
    if not digits.strip("*"):
        raise ParameterError("contains %r needs at least one digit or letter" % (pattern,))
    return digits


def _contains_regex(digits):
    return re.compile("".join(r"\d" if char == "*" else char for char in digits))


def _fold(text):
    return " ".join(str(text).split()).casefold()


class SearchFilter:
    """Filters on offered (or held) numbers beyond country and area code.

    Every filter set must hold: ``capabilities`` requires all the listed ones, ``contains``
    looks for the pattern anywhere in the number's digits (country code included), and
    ``locality`` and ``region`` compare without regard to case or repeated spaces.
    """

    def __init__(
        self,
        number_type=None,
        locality=None,
        region=None,
        capabilities=None,
        contains=None,
        max_spam_score=None,
    ):
        if number_type is not None and number_type not in NUMBER_TYPE_CHOICES:
            raise ParameterError(
                "number_type must be one of %s, not %r"
                % (", ".join(NUMBER_TYPE_CHOICES), number_type)
            )
        self.number_type = number_type
        self.locality = _fold(locality) if locality is not None and locality.strip() else None
        self.region = _fold(region) if region is not None and region.strip() else None
        wanted = []
        for capability in capabilities or ():
            name = str(capability).strip().lower()
            if not name:
                raise ParameterError("capabilities must not hold an empty name")
            if name not in wanted:
                wanted.append(name)
        self.capabilities = wanted
        self.contains = contains_digits(contains) if contains is not None else None
        self._contains = _contains_regex(self.contains) if self.contains else None
        if max_spam_score is not None:
            try:
                max_spam_score = float(max_spam_score)
            except (TypeError, ValueError):
                raise ParameterError(
                    "max_spam_score must be a number, not %r" % (max_spam_score,)
                ) from None
            if math.isnan(max_spam_score) or max_spam_score < 0:
                raise ParameterError("max_spam_score must be 0 or more, not %r" % max_spam_score)
        self.max_spam_score = max_spam_score

    @classmethod
    def from_params(cls, params):
        """Build from a dict holding the filter options (absent keys are unset)."""
        return cls(
            number_type=params.get("number_type"),
            locality=params.get("locality"),
            region=params.get("region"),
            capabilities=params.get("capabilities"),
            contains=params.get("contains"),
            max_spam_score=params.get("max_spam_score"),
        )

    @property
    def active(self):
        return bool(
            self.number_type
            or self.locality
            or self.region
            or self.capabilities
            or self.contains
            or self.max_spam_score is not None
        )

    def matches(self, record):
        if self.number_type and record.get("number_type") != self.number_type:
            return False
        if self.locality and _fold(record.get("locality", "")) != self.locality:
            return False
        if self.region and _fold(record.get("region", "")) != self.region:
            return False
        if self.capabilities:
            held = {str(c).strip().lower() for c in record.get("capabilities") or ()}
            if not all(c in held for c in self.capabilities):
                return False
        if self._contains is not None:
            digits = re.sub(r"\D", "", record.get("e164_format", ""))
            if not self._contains.search(digits):
                return False
        if self.max_spam_score is not None:
            if float(record.get("spam_score") or 0.0) > self.max_spam_score:
                return False
        return True

    def _key(self):
        return (
            self.number_type,
            self.locality,
            self.region,
            tuple(self.capabilities),
            self.contains,
            self.max_spam_score,
        )

    def __eq__(self, other):
        return isinstance(other, SearchFilter) and self._key() == other._key()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return "SearchFilter(%s)" % self.describe()

    def as_dict(self):
        """The filters set, by option name (an empty dict when none is)."""
        options = (
            ("number_type", self.number_type),
            ("locality", self.locality),
            ("region", self.region),
            ("capabilities", list(self.capabilities) or None),
            ("contains", self.contains),
            ("max_spam_score", self.max_spam_score),
        )
        return {name: value for name, value in options if value is not None}

    def describe(self):
        """The filters set, as ``name=value`` text for messages."""
        parts = []
        if self.number_type:
            parts.append("number_type=%s" % self.number_type)
        if self.locality:
            parts.append("locality=%s" % self.locality)
        if self.region:
            parts.append("region=%s" % self.region)
        if self.capabilities:
            parts.append("capabilities=%s" % ",".join(self.capabilities))
        if self.contains:
            parts.append("contains=%s" % self.contains)
        if self.max_spam_score is not None:
            parts.append("max_spam_score=%g" % self.max_spam_score)
        return ", ".join(parts)


class ListingFilter:
    """Filters on the project's numbers: by label and by country and area code.

    ``name`` is compared exactly (labels are the operator's own text); an empty ``name``
    selects the numbers without a label. Country codes compare without regard to case.
    """

    def __init__(self, name=None, country_code=None, area_code=None):
        self.name = name
        self.country_code = None
        if country_code is not None:
            country = country_code.strip().upper()
            if not re.match(r"^[A-Z]{2}$", country):
                raise ParameterError(
                    "country_code %r is not an ISO 3166-1 alpha-2 code such as US or GB"
                    % (country_code,)
                )
            self.country_code = country
        self.area_code = None
        if area_code is not None:
            area = area_code.strip()
            if not area.isdigit():
                raise ParameterError("area_code %r must be digits only" % (area_code,))
            self.area_code = area

    @property
    def active(self):
        return self.name is not None or bool(self.country_code) or bool(self.area_code)

    def matches(self, record):
        if self.name is not None and record.get("name", "") != self.name:
            return False
        if self.country_code and record.get("country_code", "").upper() != self.country_code:
            return False
        if self.area_code and record.get("area_code", "") != self.area_code:
            return False
        return True

    def apply(self, records):
        return [record for record in records if self.matches(record)]
