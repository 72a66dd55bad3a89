# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's version, for code that runs on managed hosts (the User-Agent).

galaxy.yml is the one place the version is decided; it is not shipped to managed hosts with a
module, so it is copied here. tests/unit/test_version.py fails when the two differ: change both
when releasing.
"""

from __future__ import annotations

COLLECTION_VERSION = "0.1.0"
