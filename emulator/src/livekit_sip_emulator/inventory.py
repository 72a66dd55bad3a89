"""The pool of numbers the service offers: deterministic from (size, seed), built in one pass."""

from __future__ import annotations

import collections
import random
import threading

from .wire import TYPE_BY_SHORT_NAME

Listing = collections.namedtuple(
    "Listing",
    "e164_format country_code area_code number_type locality region capabilities spam_score",
)

# (country, calling code, area code, type, locality, region, subscriber digits, its first digit from..to, weight);
# local and mobile numbers of one area code take disjoint first digits, so they never collide.
AREAS = (
    ("US", "1", "415", "local", "San Francisco", "CA", 7, 2, 5, 3),
    ("US", "1", "415", "mobile", "San Francisco", "CA", 7, 6, 9, 3),
    ("US", "1", "650", "local", "Palo Alto", "CA", 7, 2, 5, 3),
    ("US", "1", "212", "local", "New York", "NY", 7, 2, 5, 3),
    ("US", "1", "212", "mobile", "New York", "NY", 7, 6, 9, 3),
    ("US", "1", "312", "local", "Chicago", "IL", 7, 2, 5, 3),
    ("US", "1", "512", "local", "Austin", "TX", 7, 2, 5, 3),
    ("US", "1", "512", "mobile", "Austin", "TX", 7, 6, 9, 3),
    ("US", "1", "206", "local", "Seattle", "WA", 7, 2, 5, 3),
    ("US", "1", "800", "toll_free", "", "", 7, 2, 9, 1),
    ("US", "1", "888", "toll_free", "", "", 7, 2, 9, 1),
    ("CA", "1", "416", "local", "Toronto", "ON", 7, 2, 5, 3),
    ("CA", "1", "416", "mobile", "Toronto", "ON", 7, 6, 9, 3),
    ("CA", "1", "604", "local", "Vancouver", "BC", 7, 2, 5, 3),
    ("CA", "1", "514", "local", "Montreal", "QC", 7, 2, 5, 3),
    ("CA", "1", "877", "toll_free", "", "", 7, 2, 9, 1),
    ("GB", "44", "20", "local", "London", "England", 8, 3, 9, 3),
    ("GB", "44", "161", "local", "Manchester", "England", 7, 2, 9, 3),
    ("GB", "44", "131", "local", "Edinburgh", "Scotland", 7, 2, 9, 3),
    ("GB", "44", "121", "local", "Birmingham", "England", 7, 2, 9, 3),
    ("GB", "44", "7700", "mobile", "", "", 6, 1, 9, 3),
    ("GB", "44", "800", "toll_free", "", "", 7, 1, 9, 1),
)

CAPABILITIES = {
    "local": (("voice", "sms"), ("voice", "sms"), ("voice",)),
    "mobile": (("voice", "sms"), ("voice", "sms"), ("sms",)),
    "toll_free": (("voice",), ("voice", "sms")),
}


def _shares(size):
    total = sum(area[-1] for area in AREAS)
    counts = [size * area[-1] // total for area in AREAS]
    for index in range(size - sum(counts)):
        counts[index % len(counts)] += 1
    return counts


class Inventory:
    def __init__(self, size, seed):
        self.size = size
        self.seed = seed
        listings = []
        for area, count in zip(AREAS, _shares(size)):
            listings.extend(self._area(area, count))
        listings.sort(key=lambda listing: listing.e164_format)
        self.by_number = {listing.e164_format: listing for listing in listings}
        self.by_country = collections.defaultdict(list)
        self.by_area = collections.defaultdict(list)
        for listing in listings:
            self.by_country[listing.country_code].append(listing)
            self.by_area[(listing.country_code, listing.area_code)].append(listing)
        self.countries = sorted(self.by_country)

    def _area(self, area, count):
        country, calling, code, kind, locality, region, digits, first, last, _weight = area
        rng = random.Random(f"{self.seed}/{country}/{code}/{kind}")
        low, high = first * 10 ** (digits - 1), (last + 1) * 10 ** (digits - 1)
        choices = CAPABILITIES[kind]
        for subscriber in rng.sample(range(low, high), count):
            spam = round(rng.uniform(0.05, 0.95), 2) if rng.random() < 0.1 else 0.0
            yield Listing(
                "+%s%s%d" % (calling, code, subscriber),
                country,
                code,
                TYPE_BY_SHORT_NAME[kind],
                locality,
                region,
                choices[rng.randrange(len(choices))],
                spam,
            )

    def get(self, e164):
        return self.by_number.get(e164)

    def candidates(self, country, area_code=None):
        if area_code:
            return self.by_area.get((country, area_code), ())
        return self.by_country.get(country, ())


_CACHE = collections.OrderedDict()
_CACHE_LOCK = threading.Lock()


def inventory(size, seed):
    """Inventories are immutable, so resets that keep (size, seed) reuse the one already built."""
    key = (size, seed)
    with _CACHE_LOCK:
        built = _CACHE.pop(key, None) or Inventory(size, seed)
        _CACHE[key] = built
        while len(_CACHE) > 4:
            _CACHE.popitem(last=False)
    return built
