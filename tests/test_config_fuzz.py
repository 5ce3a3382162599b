"""Any configuration the schemas accept leaves every provider API working: Hypothesis draws
patches valid by the section schemas (``core/config-*``, ``telesign/config``, ``tsg/config``),
``PATCH``es them over real HTTP, then drives every provider API with the credentials in use:
Telesign send and status with Basic and with HMAC, TSG send and get, the number webhook, inbound
messages for both, and a clock advance that runs the lifecycles and fires the webhooks. None may
answer 5xx or record an internal error.

What a schema cannot say is made valid after drawing, as a user's configuration would be: the
Telesign api key is base64 (the HMAC key), lifecycle steps name statuses of their provider, and
every webhook URL points at the test's receiver or a closed loopback port (fuzz traffic stays on
loopback). Bounded: a fixed number of examples, about fifteen requests each.
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from telesign.rest import RestClient

from emulator import schemas
from emulator.providers.telesign.statuses import STATUSES
from emulator.providers.tsg.statuses import DELIVERY_STATUSES
from tests.conftest import Emulator, Receiver

SECTIONS = {"webhooks": "core/config-webhooks", "lifecycle": "core/config-lifecycle",
            "telesign": "telesign/config", "tsg": "tsg/config"}
ANNOTATIONS = ("title", "description", "$schema", "$id")
CLOSED_PORT = "http://127.0.0.1:9/closed"  # discard port: nothing listens on loopback
FORM = "application/x-www-form-urlencoded"


def strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values valid by ``schema``: objects and arrays walked here (hypothesis-jsonschema 0.23
    fails on an array nested in an object with this Hypothesis), leaves by ``from_schema``."""
    schema = {k: v for k, v in schema.items() if k not in ANNOTATIONS}
    if schema.get("type") == "object":
        properties = schema.get("properties", {})
        if properties:
            required = set(schema.get("required", ()))
            return st.fixed_dictionaries(
                {k: strategy(v) for k, v in properties.items() if k in required},
                optional={k: strategy(v) for k, v in properties.items() if k not in required})
        names = {**schema.get("propertyNames", {}), "type": "string"}
        return st.dictionaries(from_schema(names), strategy(schema["additionalProperties"]),
                               max_size=3)
    if schema.get("type") == "array":
        return st.lists(strategy(schema["items"]), max_size=3)
    return from_schema(schema)


SECTION_STRATEGIES = {name: strategy(schemas.load(schema)) for name, schema in SECTIONS.items()}
PROVIDER_STATUSES = {"telesign": sorted(STATUSES), "tsg": sorted(DELIVERY_STATUSES)}


@st.composite
def patches(draw, receiver_url: str) -> dict[str, Any]:
    urls = st.sampled_from([receiver_url, CLOSED_PORT, None])
    patch: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(sorted(SECTIONS)), min_size=1, unique=True)):
        section = draw(SECTION_STRATEGIES[name])
        # a PATCH deep-merges: any subset of a valid section is a valid patch
        keep = draw(st.sets(st.sampled_from(sorted(section)))) if section else set()
        patch[name] = {k: v for k, v in section.items() if k in keep or name == "lifecycle"}
    telesign = patch.get("telesign", {})
    if "api_key" in telesign:
        telesign["api_key"] = base64.b64encode(draw(st.binary(min_size=1, max_size=48))).decode()
    if "callback_url" in telesign:
        telesign["callback_url"] = draw(urls)
    for channel in telesign.get("mo_callback_urls", {}):
        telesign["mo_callback_urls"][channel] = draw(urls)
    for number in patch.get("tsg", {}).get("numbers", {}).values():
        number["webhook_url"] = draw(urls)
    for rule in patch.get("lifecycle", {}).get("rules", []):
        provider = draw(st.sampled_from(["telesign", "tsg"]))
        if rule.get("provider") is not None or draw(st.booleans()):
            rule["provider"] = provider
        else:
            rule.pop("provider", None)
        rule["to"] = draw(st.sampled_from(["15551234567", "1555*", "*", rule["to"]]))
        for step in rule["steps"]:
            step["status"] = draw(st.sampled_from(PROVIDER_STATUSES[provider]))
    return patch


class Api:
    """The provider APIs, called with the credentials of the configuration in use; every
    answer is checked to be below 500."""

    def __init__(self, emulator: Emulator, config: dict[str, Any]) -> None:
        self.emulator = emulator
        self.customer_id = config["telesign"]["customer_id"]
        self.api_key = config["telesign"]["api_key"]
        self.tsg_key = config["tsg"]["api_key"]
        self.numbers = sorted(config["tsg"]["numbers"])

    async def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.emulator.http.request(method, self.emulator.url + path,
                                              **kwargs) as response:
            text = await response.text()
            assert response.status < 500, (method, path, response.status, text)
            assert response.content_type == "application/json", text
            return response.status, await response.json()

    def telesign_headers(self, method: str, path: str, body: str = "",
                         basic: bool = False) -> dict[str, str]:
        if basic:
            credentials = f"{self.customer_id}:{self.api_key}".encode()
            return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}
        return dict(RestClient.generate_telesign_headers(
            self.customer_id, self.api_key, method, path, body, user_agent="config-fuzz",
            content_type=FORM if method == "POST" else ""))

    async def telesign(self, basic: bool) -> None:
        body = "phone_number=15551234567&message=Hello&message_type=ARN"
        status, answer = await self.request(
            "POST", "/v1/messaging", data=body.encode(),
            headers={**self.telesign_headers("POST", "/v1/messaging", body, basic),
                     "Content-Type": FORM})
        if status == 200:
            path = f"/v1/messaging/{answer['reference_id']}"
            for with_basic in (True, False):
                await self.request("GET", path,
                                   headers=self.telesign_headers("GET", path, basic=with_basic))

    async def tsg(self) -> None:
        bearer = {"Authorization": f"Bearer {self.tsg_key}"}
        status, answer = await self.request(
            "POST", "/messages", headers=bearer,
            json={"from": self.numbers[0], "to": ["15551234567", "15005551004"],
                  "body": "hello", "registered_delivery": 1})
        if status == 200:
            for sent in answer.values():
                await self.request("GET", f"/messages/{sent['id']}", headers=bearer)
        await self.request("POST", "/v1/sms/webhook", headers=bearer,
                           json={"did": self.numbers[-1], "webhook_url": CLOSED_PORT,
                                 "x_api_key_header": "k"})


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
async def test_any_valid_configuration_leaves_every_provider_api_working(
        emulator: Emulator, receiver: Receiver, data: st.DataObject) -> None:
    assert (await emulator.control("PUT", "/config", json={}))[0] == 200
    assert (await emulator.control("POST", "/reset"))[0] == 200
    patch = data.draw(patches(receiver.url()), label="patch")
    status, body = await emulator.control("PATCH", "/config", json=patch)
    assert status == 200, (body, patch)
    api = Api(emulator, body)
    await api.telesign(basic=True)
    await api.telesign(basic=False)
    await api.tsg()
    for document in ({"provider": "telesign", "from": "15557654321", "to": "4442",
                      "text": "STOP"},
                     {"provider": "telesign", "channel": "whatsapp", "from": "15557654321",
                      "to": "15550001111", "media": True},
                     {"provider": "tsg", "from": "15557654321", "to": api.numbers[0],
                      "text": "hello " * 40}):
        status, body = await emulator.control("POST", "/inbound", json=document)
        assert status in (201, 400), body
    status, body = await emulator.control("POST", "/clock/advance", json={"seconds": 120})
    assert status == 200, body
    _, journal = await emulator.control("GET", "/journal")
    broken = [e for e in journal["entries"] if e["kind"] in ("internal_error", "job_error")]
    assert not broken, (broken, patch)
