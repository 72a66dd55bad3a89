from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
import urllib.parse

import pytest
import requests

from livekit_sip_emulator import AdminClient, Emulator, EmulatorConfig
from livekit_sip_emulator.bench import measure

from .helpers import PREFIX, Api


def run_parallel(count, action):
    barrier = threading.Barrier(count)
    results = [None] * count

    def worker(slot):
        barrier.wait()
        results[slot] = action(slot)

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_32_requests_in_flight_at_once(api, emulator):
    emulator.admin.set_faults(latency_ms=400)
    started = time.monotonic()
    statuses = run_parallel(
        32, lambda _slot: Api(emulator).post("ListPhoneNumbers", {}).status_code
    )
    elapsed = time.monotonic() - started
    assert statuses == [200] * 32
    # Served one after another, 32 calls would take 12.8 s; together they take about one latency.
    assert elapsed < 3.0


def test_32_concurrent_purchases_are_consistent(api, emulator):
    numbers = api.available(32, country="GB")
    results = run_parallel(
        32,
        lambda slot: Api(emulator).post("PurchasePhoneNumber", {"phone_numbers": [numbers[slot]]}),
    )
    assert [response.status_code for response in results] == [200] * 32
    ids = {response.json()["phone_numbers"][0]["id"] for response in results}
    assert len(ids) == 32
    assert api.list_all()["total_count"] == 32
    assert emulator.admin.counters()["writes"]["purchased"] == 32


def test_connections_are_kept_alive(api, emulator):
    before = emulator.admin.health()["connections_total"]
    for _call in range(5):
        assert api.post("ListPhoneNumbers", {}).status_code == 200
    # The admin client opens one connection per call; the API session reuses its one.
    assert emulator.admin.health()["connections_total"] - before == 2
    parts = urllib.parse.urlsplit(emulator.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    headers = {"Authorization": "Bearer " + api.token(), "Content-Type": "application/json"}
    for _call in range(3):
        connection.request("POST", PREFIX + "ListPhoneNumbers", "{}", headers)
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["total_count"] == 0
        assert response.getheader("Content-Length")
    connection.request("POST", PREFIX + "ListPhoneNumbers", "{", headers)
    response = connection.getresponse()
    assert response.status == 400 and json.loads(response.read())["code"] == "malformed"
    connection.request("GET", PREFIX + "ListPhoneNumbers", headers=headers)
    response = connection.getresponse()
    assert response.status == 404 and json.loads(response.read())["code"] == "bad_route"
    connection.close()


def test_throughput_of_32_client_threads(emulator):
    result = measure(emulator.url, emulator.api_key, emulator.api_secret, threads=32, seconds=1.0)
    assert result["errors"] == 0
    assert result["rps"] > 300, result


def test_in_process_lifecycle():
    emulator = Emulator(EmulatorConfig(port=0, api_key="k", api_secret="s" * 32))
    with emulator:
        assert emulator.url.startswith("http://127.0.0.1:") and emulator.port > 0
        assert (emulator.api_key, emulator.api_secret) == ("k", "s" * 32)
        assert isinstance(emulator.admin, AdminClient)
        session = requests.Session()
        session.trust_env = (
            False  # a proxy from the environment must not answer for the local server
        )
        assert Api(emulator).post("ListPhoneNumbers", {}).status_code == 200
        assert session.get(emulator.url + "/_emulator/health").status_code == 200
    with pytest.raises(requests.ConnectionError):
        session.get(emulator.url + "/_emulator/health", timeout=2)


def test_https_with_a_given_certificate(emulator_factory, tls_files):
    cert, key = tls_files
    emulator = emulator_factory(tls_cert=cert, tls_key=key)
    assert emulator.url.startswith("https://127.0.0.1:")
    api = Api(emulator, verify=cert)
    assert api.ok("ListPhoneNumbers", {})["total_count"] == 0
    record = api.buy(1)[0]
    assert api.get(record["e164_format"])["id"] == record["id"]
    assert emulator.admin.counters()["writes"]["purchased"] == 1
    with pytest.raises(requests.exceptions.SSLError):
        Api(emulator, verify=True).post("ListPhoneNumbers", {})
    plain = emulator.url.replace("https://", "http://")
    with pytest.raises(requests.ConnectionError):
        Api(emulator).session.post(plain + PREFIX + "ListPhoneNumbers", json={}, timeout=3)
    # A client that never completes the handshake does not hold up the others.
    parts = urllib.parse.urlsplit(emulator.url)
    stalled = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    stalled.connect()
    context = ssl.create_default_context(cafile=cert)
    secure = http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=5)
    secure.request("GET", "/_emulator/health")
    assert secure.getresponse().status == 200
    stalled.close()
    secure.close()


def test_chunked_request_bodies(api):
    def pieces():
        yield b'{"country_code":'
        yield b' "GB", "limit": 3}'

    response = api.post("SearchPhoneNumbers", data=pieces())
    assert response.request.headers.get("Transfer-Encoding") == "chunked"
    assert response.status_code == 200 and len(response.json()["items"]) == 3
    assert api.post("ListPhoneNumbers", {}).status_code == 200
