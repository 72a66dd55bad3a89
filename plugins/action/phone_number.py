# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of livekit.sip.phone_number: see plugin_utils/_action.py."""

from __future__ import annotations

from ansible_collections.livekit.sip.plugins.plugin_utils._action import ModuleAction


class ActionModule(ModuleAction):
    MODULE = "livekit.sip.phone_number"
