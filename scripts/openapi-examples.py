#!/usr/bin/env python3
"""Checks openapi.yaml against what a real server answers.

Starts a demo server (`trade-tracker serve --demo`, writes enabled with a throwaway token) unless `--base URL` names
one already running, then:

1. validates every `example` under `components.schemas` against its own schema;
2. GETs the documented read paths (every list whole, with `limit=500`; a few records, views, sub-lists and filters)
   and validates each body against the schema the spec gives for that path, method, status and media type;
3. with a token (its own server, or `--token`): creates, patches and deletes an export control and a tariff measure
   that responds to it, provokes 409/412/422, and validates those answers too; with an admin token (its own
   server's is one) imports NDJSON (`POST /v1/import`: a dry run, a real one, a bad line, a taken id, not JSON).

Needs the `jsonschema` and `PyYAML` packages (`python3 -m pip install jsonschema pyyaml`) and, without `--base`, a
built server (`swift build --product trade-tracker`). Exits 1 when anything disagrees. Usage:

    scripts/openapi-examples.py [--base http://127.0.0.1:8080 [--token TOKEN]] [--binary .build/debug/trade-tracker]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC_URI = "urn:trade-tracker:openapi"


class Checker:
    def __init__(self, spec_path):
        with open(spec_path, encoding="utf-8") as f:
            self.spec = yaml.safe_load(f)
        resource = Resource(contents=self.spec, specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self.failures = []
        self.checked = 0

    def schema_for(self, ref):
        """A `#/...` JSON pointer into the spec, as a schema that refers to it."""
        return {"$ref": SPEC_URI + ref}

    def validate(self, value, schema, what):
        self.checked += 1
        errors = sorted(Draft202012Validator(schema, registry=self.registry, format_checker=FormatChecker())
                        .iter_errors(value), key=lambda e: list(e.absolute_path))
        for error in errors[:5]:
            path = "/".join(str(p) for p in error.absolute_path)
            self.failures.append(f"{what}: at /{path}: {error.message[:300]}")
        return not errors

    def check_examples(self):
        for name, schema in self.spec["components"]["schemas"].items():
            if "example" in schema:
                self.validate(schema["example"], self.schema_for(f"#/components/schemas/{name}"),
                              f"example of components.schemas.{name}")

    def response_schema(self, template, method, status, media):
        operation = self.spec["paths"].get(template, {}).get(method.lower())
        if operation is None:
            self.failures.append(f"{method} {template}: not in openapi.yaml")
            return None
        responses = operation["responses"]
        key = str(status) if str(status) in responses else "default"
        if key not in responses:
            self.failures.append(f"{method} {template}: status {status} is not documented")
            return None
        response = responses[key]
        pointer = f"#/paths/{template.replace('~', '~0').replace('/', '~1')}/{method.lower()}/responses/{key}"
        if "$ref" in response:
            pointer = response["$ref"]
            response = self.resolve(pointer)
        content = response.get("content")
        if not content:
            return None
        if media not in content:
            self.failures.append(f"{method} {template} {status}: media type {media} is not documented")
            return None
        return self.schema_for(f"{pointer}/content/{media.replace('/', '~1')}/schema")

    def resolve(self, pointer):
        node = self.spec
        for part in pointer.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node


class Client:
    def __init__(self, base, token=None):
        self.base = base.rstrip("/")
        self.token = token

    def request(self, method, path, body=None, headers=None, auth=False, ndjson=None):
        data = None if body is None else json.dumps(body).encode()
        if ndjson is not None:
            data = "\n".join(json.dumps(line) for line in ndjson).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if ndjson is not None:
            request.add_header("Content-Type", "application/x-ndjson")
        if auth and self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()


def template_of(spec, path):
    """The documented path template a concrete path matches (literal segments preferred)."""
    bare = path.split("?")[0]
    best = None
    for template in spec["paths"]:
        pattern = "^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, bare):
            literal = template.count("{")
            if best is None or literal < best[0]:
                best = (literal, template)
    return best[1] if best else None


def check_call(checker, client, method, path, expect, body=None, headers=None, auth=False, note="", ndjson=None):
    status, response_headers, raw = client.request(method, path, body=body, headers=headers, auth=auth, ndjson=ndjson)
    what = f"{method} {path}{' (' + note + ')' if note else ''}"
    if status != expect:
        checker.failures.append(f"{what}: status {status}, expected {expect}: {raw[:300]!r}")
        return status, response_headers, None
    template = template_of(checker.spec, path)
    if template is None:
        checker.failures.append(f"{what}: no documented path matches")
        return status, response_headers, None
    media = response_headers.get("Content-Type", "").split(";")[0].strip()
    schema = checker.response_schema(template, method, status, media) if raw else None
    value = None
    if raw and media.endswith("json"):
        value = json.loads(raw)
        if schema is not None:
            checker.validate(value, schema, what)
    for name in ("ETag",):
        if name in response_headers and status in (200, 201) and template != "/v1/status":
            if not re.match(r'^"[0-9a-f]{16}"$', response_headers[name]):
                checker.failures.append(f"{what}: ETag {response_headers[name]} does not match the documented pattern")
    return status, response_headers, value


def reads(checker, client):
    lists = ["/v1/negotiations", "/v1/rounds", "/v1/participants", "/v1/issues", "/v1/tariff-measures",
             "/v1/export-controls", "/v1/statements", "/v1/sources"]
    for path in lists:
        _, _, page = check_call(checker, client, "GET", path + "?limit=500", 200)
        ids = [item["id"] for item in (page or {}).get("data", [])]
        for record_id in ids[:3]:
            check_call(checker, client, "GET", f"{path}/{record_id}", 200)
            check_call(checker, client, "GET", f"{path}/{record_id}/history?limit=500", 200)
        if path in ("/v1/tariff-measures", "/v1/export-controls"):
            for record_id in ids:
                check_call(checker, client, "GET", f"{path}/{record_id}/responses?limit=500", 200)
    for path in ["/v1/status", "/v1/negotiations/1/timeline?limit=500", "/v1/negotiations/by-slug/us-china-2025",
                 "/v1/rounds/1/participants", "/v1/participants/1/rounds", "/v1/issues/1/updates",
                 "/v1/changes?limit=500", "/v1/changes?resource=export-controls,tariff-measures&limit=500",
                 "/v1/tariff-measures?hs_code=8505", "/v1/tariff-measures?in_effect_on=2025-05-15,2025-11-15",
                 "/v1/export-controls?in_effect_on=2025-06-01&imposed_by=CHN",
                 "/v1/export-controls?item=DYSPROSIUM&applies_to=USA,CHN&control=licence_required,ban",
                 "/v1/export-controls?q=magnets&sort=-effective_from&hs_code=85&issue_id=2",
                 "/v1/negotiations/1/timeline?kind=tariff_suspended,tariff_resumed,export_control_suspended,"
                 "export_control_resumed,export_control_effective,export_control_ended",
                 "/healthz", "/readyz"]:
        check_call(checker, client, "GET", path, 200)
    for as_of in ["2025-04-20", "2025-05-09", "2025-05-15", "2025-11-15", "2026-12-01"]:
        for by, on in [("USA", "CHN"), ("CHN", "USA")]:
            check_call(checker, client, "GET", f"/v1/tariff-rates?imposed_by={by}&imposed_on={on}&as_of={as_of}", 200)
    check_call(checker, client, "GET", "/v1/tariff-rates/history?imposed_by=USA&imposed_on=CHN&from=2025-01-01&to=2026-12-31", 200)
    # Problems the reads answer.
    for path, expect in [("/v1/export-controls?hs_code=123", 400), ("/v1/export-controls?in_effect_on=2025-02-30", 400),
                         ("/v1/export-controls?control=embargo", 400), ("/v1/tariff-measures?q=x", 400),
                         ("/v1/export-controls/1/responses?sort=id", 400), ("/v1/export-controls/999999", 404),
                         ("/v1/tariff-measures/999999/responses", 404), ("/v1/export-controls?applies_to=ZZZ", 400),
                         ("/v1/changes?resource=export-control", 400),
                         ("/v1/export-controls?status=" + ",".join(["enacted"] * 101), 400)]:
        check_call(checker, client, "GET", path, expect)
    status, headers, _ = client.request("GET", "/v1/export-controls/1")
    check_call(checker, client, "GET", "/v1/export-controls/1", 304, headers={"If-None-Match": headers.get("ETag", "")})


def writes(checker, client):
    control = {"imposed_by": "CHN", "applies_to": ["USA"], "items": ["gallium"], "hs_codes": ["8112"],
               "control": "ban", "effective_from": "2030-01-01", "effective_until": "2031-01-01",
               "suspensions": [{"from": "2029-12-01", "until": "2030-02-01", "note": "suspended before it applies"},
                               {"from": "2030-02-01"}],
               "responds_to": [{"type": "tariff-measures", "id": 1}], "negotiation_id": 1, "issue_id": 2}
    key = {"Idempotency-Key": f"openapi-examples-{os.getpid()}-{time.time()}"}
    _, headers, created = check_call(checker, client, "POST", "/v1/export-controls", 201, body=control, auth=True,
                                     headers=key)
    if not created:
        return
    check_call(checker, client, "POST", "/v1/export-controls", 201, body=control, auth=True, headers=key, note="replay")
    control_id = created["id"]
    location = headers.get("Location")
    if location != f"/v1/export-controls/{control_id}":
        checker.failures.append(f"POST /v1/export-controls: Location {location}")
    measure = {"imposed_by": "USA", "imposed_on": "CHN", "rate_percent": 12.5, "coverage": "partial",
               "effective_from": "2030-03-01", "hs_codes": ["81", "8112920010"],
               "responds_to": [{"type": "export-controls", "id": control_id}]}
    _, _, tm = check_call(checker, client, "POST", "/v1/tariff-measures", 201, body=measure, auth=True)
    check_call(checker, client, "GET", f"/v1/export-controls/{control_id}/responses", 200)
    check_call(checker, client, "PATCH", f"/v1/export-controls/{control_id}", 200,
               body={"suspensions": [], "legal_basis": None, "applies_to": []}, auth=True)
    check_call(checker, client, "PATCH", f"/v1/export-controls/{control_id}", 412, body={"notes": "x"}, auth=True,
               headers={"If-Match": '"0000000000000000"'})
    check_call(checker, client, "PATCH", f"/v1/export-controls/{control_id}", 422, auth=True,
               body={"responds_to": [{"type": "export-controls", "id": control_id}], "items": [],
                     "suspensions": [{"from": "2030-01-01", "until": "2030-01-01"}], "hs_codes": ["851"]})
    check_call(checker, client, "POST", "/v1/export-controls", 422, auth=True,
               body={"imposed_by": "XXX", "items": ["a"], "control": "ban", "effective_from": "2030-01-01",
                     "suspensions": [{"from": "2031-01-01", "until": None}, {"from": "2031-06-01"}],
                     "effective_until": "2031-01-01", "responds_to": [{"type": "tariff-measures", "id": 999999}]})
    check_call(checker, client, "POST", "/v1/export-controls", 422, auth=True,
               body={"imposed_by": "CHN", "items": ["a"], "control": "ban", "effective_from": "2030-01-01",
                     "suspensions": [{"from": "2030-02-01", "until": "2030-05-01"}, {"from": "2030-03-01"}]})
    check_call(checker, client, "DELETE", f"/v1/export-controls/{control_id}", 409, auth=True, note="responded to")
    if tm:
        check_call(checker, client, "DELETE", f"/v1/tariff-measures/{tm['id']}", 204, auth=True)
        check_call(checker, client, "GET", f"/v1/tariff-measures/{tm['id']}/history", 200)
    check_call(checker, client, "DELETE", f"/v1/export-controls/{control_id}", 204, auth=True)
    check_call(checker, client, "GET", f"/v1/export-controls/{control_id}/history", 200)
    check_call(checker, client, "DELETE", "/v1/tariff-measures/1", 409, auth=True, note="named by responds_to")
    check_call(checker, client, "DELETE", "/v1/sources/5", 409, auth=True, note="referenced by an export control")


def imports(checker, client):
    """POST /v1/import needs an admin token: with a write token (--token for --base) only its 403 is checked."""
    lines = [{"resource": "sources", "record": {"title": "Imported by the checker", "published_on": "2030-01-02"}},
             {"resource": "participants", "record": {"name": "A checker", "country": "CHE"}}]
    status, _, _ = client.request("POST", "/v1/import?dry_run=1", auth=True, ndjson=lines)
    if status == 403:
        check_call(checker, client, "POST", "/v1/import", 403, auth=True, ndjson=lines, note="write token")
        return
    check_call(checker, client, "POST", "/v1/import?dry_run=1", 200, auth=True, ndjson=lines, note="dry run")
    check_call(checker, client, "POST", "/v1/import", 200, auth=True, ndjson=lines)
    check_call(checker, client, "POST", "/v1/import", 422, auth=True, note="bad line",
               ndjson=lines + [{"resource": "rounds", "record": {"negotiation_id": 1, "title": "x", "city": "y", "country": "XXX",
                                                                 "starts_on": "2030-01-02", "ends_on": "2030-01-01"}}])
    check_call(checker, client, "POST", "/v1/import?resource=sources", 409, auth=True, note="id taken",
               ndjson=[{"id": 1, "title": "taken"}])
    check_call(checker, client, "POST", "/v1/import", 400, auth=True, note="not JSON", ndjson=["x"])


def start_server(binary, token):
    workdir = tempfile.mkdtemp(prefix="openapi-examples-")
    # admin implies write; the import needs it.
    env = dict(os.environ, TRADE_TRACKER_TOKENS=f"checker:admin:{token}")
    process = subprocess.Popen([binary, "serve", "--demo", "--port", "0", "--database", os.path.join(workdir, "db.sqlite"),
                                "--access-log", "off", "--openapi", os.path.join(ROOT, "openapi.yaml")],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 30
    while time.time() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return process, workdir, match.group(1)
    process.kill()
    raise SystemExit("the server did not start")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", help="a running server (default: start a demo server)")
    parser.add_argument("--token", help="a write token for --base (without one, writes are not checked; an admin one checks imports)")
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build", "debug", "trade-tracker"))
    parser.add_argument("--spec", default=os.path.join(ROOT, "openapi.yaml"))
    args = parser.parse_args()
    checker = Checker(args.spec)
    checker.check_examples()
    process = workdir = None
    token = args.token
    base = args.base
    if base is None:
        token = "openapi-examples-" + os.urandom(8).hex()
        process, workdir, base = start_server(args.binary, token)
    try:
        client = Client(base, token)
        reads(checker, client)
        if token:
            writes(checker, client)
            imports(checker, client)
    finally:
        if process:
            process.terminate()
            process.wait(timeout=10)
            shutil.rmtree(workdir, ignore_errors=True)
    for failure in checker.failures:
        print("FAIL", failure)
    print(f"{checker.checked} documents validated, {len(checker.failures)} failures")
    sys.exit(1 if checker.failures else 0)


if __name__ == "__main__":
    main()
