"""The AWX custom credential type, and a job whose only credentials are the variables it injects.

The controller is not available here, so its two relevant behaviours are reproduced from its
source (awx/main/fields.py and awx/main/models/credential/__init__.py):

- validation of a credential type: the JSON schemas of `inputs` and `injectors`, the reserved
  environment variables, and a render of every injector with StrictUndefined, so that a template
  naming an unknown input is refused;
- injection at job start: each `env` injector rendered with a sandboxed Jinja environment and
  the credential's inputs, plus a censored copy ("**********" for secret inputs) that the
  controller records with the job.

tests/package/test_awx_job.py runs jobs with that environment through ansible-runner, as the
controller does; the jobs here show what goes wrong without it.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import threading

import jinja2
import jsonschema
import yaml
from jinja2 import meta, sandbox

from tests.package.helpers import ROOT, blocks, playbook, writes
from tests.package.terminal import Terminal

CREDENTIAL_TYPE = os.path.join(ROOT, "extensions", "awx", "credential_type.yml")
EXPECTED = {"LIVEKIT_URL": "url", "LIVEKIT_API_KEY": "api_key", "LIVEKIT_API_SECRET": "api_secret"}
NAME = r"^[a-zA-Z_]+[a-zA-Z0-9_]*$"
INPUTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "required": {"type": "array", "items": {"type": "string"}},
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"enum": ["string", "boolean"]},
                    "format": {"enum": ["ssh_private_key", "url"]},
                    "choices": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string"},
                        "uniqueItems": True,
                    },
                    "id": {"type": "string", "pattern": NAME},
                    "label": {"type": "string"},
                    "help_text": {"type": "string"},
                    "multiline": {"type": "boolean"},
                    "secret": {"type": "boolean"},
                    "ask_at_runtime": {"type": "boolean"},
                    "default": {},
                },
                "additionalProperties": False,
                "required": ["id", "label"],
            },
        },
    },
}
INJECTORS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "file": {
            "type": "object",
            "patternProperties": {r"^template(\.[a-zA-Z_]+[a-zA-Z0-9_]*)?$": {"type": "string"}},
            "additionalProperties": False,
        },
        "env": {
            "type": "object",
            "patternProperties": {NAME: {"type": "string", "pattern": "^[\x00-\x7f]*$"}},
            "additionalProperties": False,
        },
        "extra_vars": {
            "type": "object",
            "patternProperties": {NAME: {"type": "string"}},
            "additionalProperties": False,
        },
    },
}
# Environment variables the controller refuses in credential types (awx/main/constants.py),
# besides every ANSIBLE_* one.
ENV_BLOCKLIST = {
    "VIRTUAL_ENV",
    "PATH",
    "PYTHONPATH",
    "JOB_ID",
    "INVENTORY_ID",
    "INVENTORY_SOURCE_ID",
    "INVENTORY_UPDATE_ID",
    "AD_HOC_COMMAND_ID",
    "REST_API_URL",
    "REST_API_TOKEN",
    "MAX_EVENT_RES",
    "CALLBACK_QUEUE",
    "CALLBACK_CONNECTION",
    "CACHE",
    "JOB_CALLBACK_DEBUG",
    "INVENTORY_HOSTVARS",
    "AWX_HOST",
    "PROJECT_REVISION",
    "SUPERVISOR_CONFIG_PATH",
}


def credential_type():
    with open(CREDENTIAL_TYPE) as handle:
        return yaml.safe_load(handle)


def inject(definition, inputs):
    """(env, safe_env) as the controller builds them for a job that uses a credential."""
    secret = {field["id"] for field in definition["inputs"]["fields"] if field.get("secret")}
    namespace = {key: value for key, value in inputs.items() if value}
    safe = {key: "**********" if key in secret else value for key, value in namespace.items()}
    render = sandbox.ImmutableSandboxedEnvironment()
    env, safe_env = {}, {}
    for name, template in definition["injectors"].get("env", {}).items():
        env[name] = render.from_string(template).render(**namespace)
        safe_env[name] = render.from_string(template).render(**safe)
    return env, safe_env


def test_credential_type_passes_the_controller_validation():
    definition = credential_type()
    assert definition["kind"] in ("cloud", "net")  # the kinds a custom credential type may have
    assert definition["name"] and definition["description"]
    jsonschema.validate(definition["inputs"], INPUTS_SCHEMA)
    jsonschema.validate(definition["injectors"], INJECTORS_SCHEMA)
    ids = [field["id"] for field in definition["inputs"]["fields"]]
    assert len(ids) == len(set(ids)) and "tower" not in ids
    assert set(definition["inputs"]["required"]) <= set(ids)
    for name in definition["injectors"]["env"]:
        assert not name.startswith("ANSIBLE_") and name not in ENV_BLOCKLIST, name
    strict = sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    for template in definition["injectors"]["env"].values():
        strict.from_string(template).render(dict.fromkeys(ids, "EXAMPLE"))


def test_injectors_map_each_input_to_its_livekit_variable():
    definition = credential_type()
    fields = {field["id"]: field for field in definition["inputs"]["fields"]}
    assert set(fields) == {"url", "api_key", "api_secret"}
    assert definition["inputs"]["required"] == ["url", "api_key", "api_secret"]
    assert fields["api_secret"].get("secret") is True
    assert not fields["url"].get("secret") and not fields["api_key"].get("secret")
    assert fields["url"].get("format") == "url"
    parse = jinja2.Environment()
    mapping = {
        name: meta.find_undeclared_variables(parse.parse(template))
        for name, template in definition["injectors"]["env"].items()
    }
    assert mapping == {name: {field} for name, field in EXPECTED.items()}


def test_injected_environment_and_its_censored_record():
    inputs = {"url": "wss://my-project.livekit.cloud", "api_key": "APIkey", "api_secret": "s3cret"}
    env, safe_env = inject(credential_type(), inputs)
    assert env == {
        "LIVEKIT_URL": "wss://my-project.livekit.cloud",
        "LIVEKIT_API_KEY": "APIkey",
        "LIVEKIT_API_SECRET": "s3cret",
    }
    assert safe_env == dict(env, LIVEKIT_API_SECRET="**********")


def test_awx_guide_shows_the_file_as_it_is():
    """The inputs and injectors docs/awx.md tells administrators to paste are the file's."""
    definition = credential_type()
    shown = [yaml.safe_load(block.text) for block in blocks("awx") if block.lang == "yaml"]
    inputs = dict(
        definition["inputs"],
        fields=[
            {k: v for k, v in field.items() if k != "help_text"}
            for field in definition["inputs"]["fields"]
        ],
    )
    assert inputs in shown
    assert definition["injectors"] in shown


def job_project(tmp_path):
    """The job's project as docs/awx.md lays it out: its playbook and its inventory files."""
    project = tmp_path / "project"
    for block in blocks("awx"):
        name = block.marker("file")
        if name and name != "controller-setup.yml":
            path = project / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.text)
    texts = "".join(path.read_text() for path in project.rglob("*.yml"))
    # The point of the credential type: no credential anywhere in the project.
    for word in (
        "LIVEKIT_",
        "livekit_url",
        "livekit_api_key",
        "livekit_api_secret",
        "api_secret",
        "url:",
    ):
        assert word not in texts, word
    return project


def test_job_without_the_credential_fails_before_any_request(ansible_env, emulator, tmp_path):
    project = job_project(tmp_path)
    done = playbook(
        project / "provision.yml", ansible_env(), project, project / "inventory" / "hosts.yml"
    )
    assert done.returncode != 0
    assert "url is missing: set the url option or LIVEKIT_URL" in done.output, done
    assert sum(emulator.admin.counters()["calls"].values()) == 0


def test_job_with_a_wrong_secret_is_refused(ansible_env, emulator, tmp_path):
    env = inject(
        credential_type(), {"url": emulator.url, "api_key": emulator.api_key, "api_secret": "wrong"}
    )[0]
    project = job_project(tmp_path)
    done = playbook(
        project / "provision.yml", ansible_env(**env), project, project / "inventory" / "hosts.yml"
    )
    assert done.returncode != 0
    assert "unauthenticated" in done.output, done
    assert writes(emulator.admin.counters()) == 0


def test_controller_setup_sends_the_credential_type_unrendered(
    installed, ansible_env, awx_stub, local_inventory, tmp_path
):
    """The awx.awx playbook of docs/awx.md gives the controller the file's templates as text."""
    stub_path, log = awx_stub
    setup = [block for block in blocks("awx") if block.marker("file") == "controller-setup.yml"]
    assert len(setup) == 1
    folder = tmp_path / "setup"
    folder.mkdir()
    (folder / "controller-setup.yml").write_text(setup[0].text)
    # "copied next to it", as the guide says: the file from the installed collection.
    shutil.copy(installed.file("extensions", "awx", "credential_type.yml"), str(folder))
    env = ansible_env(
        AWX_STUB_LOG=str(log), ANSIBLE_COLLECTIONS_PATH=installed.path + os.pathsep + stub_path
    )
    done = playbook(
        folder / "controller-setup.yml",
        env,
        folder,
        local_inventory,
        "-e",
        "livekit_api_key=APIkey",
        "-e",
        "livekit_api_secret=s3cret",
    )
    assert done.returncode == 0, done
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert [call["module"] for call in calls] == [
        "credential_type",
        "credential",
        "job_template",
        "job_template",
    ]
    definition = credential_type()
    sent = calls[0]["args"]
    assert sent["inputs"] == definition["inputs"]
    assert sent["injectors"] == {
        "env": {
            "LIVEKIT_URL": "{{ url }}",
            "LIVEKIT_API_KEY": "{{ api_key }}",
            "LIVEKIT_API_SECRET": "{{ api_secret }}",
        }
    }
    assert (sent["name"], sent["kind"]) == (definition["name"], definition["kind"])
    assert calls[1]["args"]["credential_type"] == definition["name"]
    assert calls[1]["args"]["inputs"]["api_secret"] == "s3cret"
    assert [(call["args"]["job_type"], call["args"]["credentials"]) for call in calls[2:]] == [
        ("check", ["LiveKit production"]),
        ("run", ["LiveKit production"]),
    ]


class CapturingController(http.server.BaseHTTPRequestHandler):
    """A stand-in for the controller's API: records each POST and answers 201."""

    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, dict(self.headers), body))
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id": 42}')

    def log_message(self, *args):
        pass


def test_rest_api_command_posts_the_file(installed, ansible_env, tmp_path):
    """The guide's REST API command, typed in the installed copy, against a stand-in controller."""
    commands = [
        command for block in blocks("awx") if block.has("shell") for command in block.commands()
    ]
    assert len(commands) == 1 and "curl" in commands[0], commands
    CapturingController.received = []
    server = http.server.HTTPServer(("127.0.0.1", 0), CapturingController)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = ansible_env(
            CONTROLLER_HOST="http://127.0.0.1:%d" % server.server_port,
            CONTROLLER_OAUTH_TOKEN="token-for-the-test",
        )
        terminal = Terminal(installed.root, env, tmp_path / "terminal")
        done = terminal.type(commands[0])
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done
    assert len(CapturingController.received) == 1, done
    path, headers, body = CapturingController.received[0]
    assert path == "/api/v2/credential_types/"
    assert headers["Authorization"] == "Bearer token-for-the-test"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == credential_type()
