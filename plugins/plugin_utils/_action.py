# Copyright: livekit.sip contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The action of every module of the collection: the module's code run in the worker.

A module that would run on the controller anyway (a local connection and the controller's
Python, as for ``hosts: localhost`` or an ad-hoc ``ansible localhost -m``) need not pay for a
module process: building its payload, starting Python, importing ansible-core's module code,
requests and PyJWT, encoding and decoding its arguments. The action runs the module's code in
its own worker process instead, through ControllerModule; anywhere else the module runs on its
target as any module does (see ``worker_refusal`` for the conditions).

Options that may hold thousands of items (the fleet's ``entries``) are asked of ansible-core as
the list itself, not rendered field by field, and only their items that hold a template are
rendered: for 20,000 entries that rendering alone took a second.
"""

from __future__ import annotations

import gc
import importlib
import sys

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.livekit.sip.plugins.plugin_utils._controller_module import (
    OPT_OUT_VAR,
    render_items,
    run_in_worker,
    worker_refusal,
)

MODULES = "ansible_collections.livekit.sip.plugins.modules."

display = Display()


class ModuleAction(ActionBase):
    """The action of one of the collection's modules; a subclass names it in ``MODULE``."""

    _supports_check_mode = True
    _supports_async = True
    MODULE = ""
    # Options that may hold thousands of items: handed over as lists, not rendered whole.
    LARGE_OPTIONS = ()

    @classmethod
    def finalize_task_arg(cls, name, value, templar, context):
        # "{{ fleet }}" resolves to the list, not to a copy of it with every field rendered;
        # run() renders the entries that hold templates.
        if name in cls.LARGE_OPTIONS and isinstance(value, str):
            return templar.resolve_to_container(value)
        return super().finalize_task_arg(name, value, templar, context)

    def run(self, tmp=None, task_vars=None):
        # The worker is a fork of the controller and holds its whole inventory. While the
        # entries are copied and the module's code reads 20,000 records, the garbage collector
        # would walk those objects again and again (it tripled the time of the listing): they
        # are left out of its collections for the task.
        gc.freeze()
        try:
            return self._run(tmp, task_vars or {})
        finally:
            gc.unfreeze()

    def _run(self, tmp, task_vars):
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        for name in self.LARGE_OPTIONS:
            if name in args:
                args[name] = render_items(args[name], self._templar.template)
                # The worker sends the task back to the main process when it is done: the same
                # entries, as plain data, pickle several times faster than as read from the
                # inventory (every string tagged with its origin). A retry (until) reads them
                # here again, already rendered.
                self._task.args[name] = args[name]
        refusal = self._refusal(task_vars)
        if refusal is None:
            module_code = importlib.import_module(MODULES + self.MODULE.rsplit(".", 1)[1])
            display.vvv(
                "%s runs in the worker, on the controller, from %s"
                % (self.MODULE, module_code.__file__)
            )
            result.update(
                run_in_worker(
                    module_code, self.MODULE, args, self._task.check_mode, self._task.diff
                )
            )
            return result
        display.vvv("%s runs as a module: %s" % (self.MODULE, refusal))
        wrap_async = self._task.async_val and not self._connection.has_native_async
        result.update(
            self._execute_module(
                module_name=self.MODULE,
                module_args=args,
                task_vars=task_vars,
                wrap_async=wrap_async,
            )
        )
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        return result

    def _refusal(self, task_vars):
        from ansible_collections.livekit.sip.plugins.module_utils import _module

        missing = None
        if _module.REQUESTS_IMPORT_ERROR is not None:
            missing = "requests"
        elif _module.JWT_IMPORT_ERROR is not None:
            missing = "PyJWT"
        interpreter = task_vars.get("ansible_python_interpreter")
        if interpreter is not None:
            interpreter = self._templar.template(interpreter)
        enabled = boolean(self._templar.template(task_vars.get(OPT_OUT_VAR, True)), strict=True)
        return worker_refusal(
            enabled=enabled,
            transport=getattr(self._connection, "transport", None),
            become=self._play_context.become,
            environment=[e for e in (self._task.environment or []) if e],
            async_val=self._task.async_val,
            delegate_to=self._task.delegate_to,
            interpreter=interpreter,
            controller_python=sys.executable,
            missing_library=missing,
        )
