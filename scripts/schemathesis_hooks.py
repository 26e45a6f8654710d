"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Every change below turns a generated value into another value the schema allows, so a positive case stays positive
and a negative case stays negative; what the run then measures is the API, not the run's own history, patience or
luck. The rules JSON Schema cannot state (they span fields or records) and that are made to hold here are listed in
schemathesis_allowed.txt with those that cannot be made to hold; see that file for why each exists.

For every case:

- `wait` on GET /v1/changes: a long poll legitimately holds the request up to `wait` seconds (0..60). Valid waits
  above 2 become 2, so a held request costs 2 s instead of up to a minute and stays inside --request-timeout;
  invalid values (negative, over 60, not a number) are sent unchanged.
- `Idempotency-Key`: the coverage phase sends one key with many different bodies, which the API documents as
  422 `idempotency_key_reused`. A valid key becomes a fresh one per request; invalid keys are sent unchanged.

For positive cases only (data the schema allows, which the server should take), the cross-field and cross-record
rules are made to hold where the request alone decides them:

- ids in `negotiation_id`, `round_id`, `participant_id`, `issue_id`, `source_id` and `responds_to` that name no
  record become ids of records that exist (read from the server at the start, kept current from the run's own
  creates and deletes);
- date pairs sent together are put in order (effective_from < effective_until, started_on <= ended_on,
  starts_on <= ends_on; `from` <= `to` in a query, and no `from` after today when `to` is today by default), and
  suspension windows are put in order, kept to those that share a day with the effective period sent, and kept
  from overlapping;
- `imposed_on` equal to `imposed_by` (tariff measures, tariff rates) becomes another country;
- in a batch, a `$k.id` that names an operation that is not earlier (or one that is a DELETE, whose result has no
  id) names the nearest earlier POST or PATCH instead, or becomes id 1 in the first operation;
- the body of POST /v1/import (the schema can only say "a string": NDJSON's lines are records of many resources)
  becomes one valid line, a source with a fresh title, without `resource=` (which would make a plain record);
- an invented list `cursor` (valid as a string, but not one the server issued) becomes a real one: the same list
  is asked for its first page of one record and that page's `next_cursor` is sent; when it has none, the cursor
  is left out.

What still depends on stored records (a PATCH whose other half is stored, a record deleted by the run) cannot be
decided here; those answers are the documented, allowed findings.
"""
import datetime
import json
import os
import re
import threading
import uuid

import requests
import schemathesis
from schemathesis.engine import observations as _observations

LONGEST_WAIT = 2
VALID_KEY = re.compile(r"^[!-~]{1,255}$")
BASE = os.environ.get("TRADE_TRACKER_ST_BASE", "")
TOKEN = os.environ.get("TRADE_TRACKER_ST_TOKEN", "")

REFERENCE_FIELDS = {
    "negotiation_id": "negotiations",
    "round_id": "rounds",
    "participant_id": "participants",
    "issue_id": "issues",
    "source_id": "sources",
}
MEASURES = ("tariff-measures", "export-controls")
RESOURCES = tuple(sorted(set(REFERENCE_FIELDS.values()) | set(MEASURES) | {"statements"}))
# (first, second, strictly): the second date must be after (strictly) or not before the first.
DATE_PAIRS = (("effective_from", "effective_until", True), ("started_on", "ended_on", False), ("starts_on", "ends_on", False))
BATCH_REFERENCE = re.compile(r"^\$(0|[1-9][0-9]*)\.id$")

_lock = threading.Lock()
_known = None  # resource -> sorted list of ids that exist
_issued = set()  # every next_cursor the server has answered with (the stateful phase sends them back through links)


def _session():
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    session.headers["Accept"] = "application/json"
    return session


def known_ids():
    """resource -> ids of records that exist, read once from the server."""
    global _known
    with _lock:
        if _known is None:
            _known = {}
            with _session() as session:
                for resource in RESOURCES:
                    ids, cursor = [], None
                    while True:
                        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
                        page = session.get(f"{BASE}/v1/{resource}", params=params, timeout=10).json()
                        ids += [record["id"] for record in page["data"]]
                        cursor = page.get("next_cursor")
                        if not cursor:
                            break
                    _known[resource] = sorted(ids)
        return _known


def existing(resource, value):
    """`value` when it names a record of `resource`, else an id that does (chosen by value, so runs repeat)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 7.0 is an integer to JSON Schema
    ids = known_ids().get(resource) or []
    if not ids or not isinstance(value, int) or isinstance(value, bool) or value in ids:
        return value
    return ids[value % len(ids)]


def parse_date(value):
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


def ordered(first, second, strictly):
    """Two dates put in order; equal ones moved a day apart when the order is strict."""
    a, b = parse_date(first), parse_date(second)
    if a is None or b is None or b > a or (b == a and not strictly):
        return first, second
    if b < a:
        return second, first
    if a < datetime.date.max:
        return first, (a + datetime.timedelta(days=1)).isoformat()
    return (a - datetime.timedelta(days=1)).isoformat(), second


def fix_suspensions(body):
    windows = body.get("suspensions")
    if not isinstance(windows, list) or not all(isinstance(w, dict) for w in windows):
        return
    for window in windows:
        if "from" in window and window.get("until") is not None:
            window["from"], window["until"] = ordered(window["from"], window["until"], True)
    if any(parse_date(w.get("from")) is None or (w.get("until") is not None and parse_date(w["until"]) is None) for w in windows):
        return  # a window the schema allows but this cannot read; left as generated
    start = parse_date(body.get("effective_from"))
    end = parse_date(body.get("effective_until")) if "effective_until" in body else None

    def shares_a_day(window):
        if start is None:
            return True  # the effective period is stored, not sent
        begins, ends = parse_date(window["from"]), parse_date(window.get("until"))
        return (end is None or begins < end) and (ends is None or ends > start)

    kept = []
    for window in sorted((w for w in windows if shares_a_day(w)), key=lambda w: w["from"]):
        if kept and (kept[-1].get("until") is None or kept[-1]["until"] > window["from"]):
            continue  # overlaps the one before it
        kept.append(window)
    body["suspensions"] = [w for w in windows if any(w is k for k in kept)]


def fix_record_body(case, body):
    for name, resource in REFERENCE_FIELDS.items():
        if name in body:
            body[name] = existing(resource, body[name])
    if isinstance(body.get("responds_to"), list):
        for item in body["responds_to"]:
            if isinstance(item, dict) and item.get("type") in MEASURES:
                item["id"] = existing(item["type"], item.get("id"))
    for first, second, strictly in DATE_PAIRS:
        if first in body and second in body:
            body[first], body[second] = ordered(body[first], body[second], strictly)
    if case.operation.path.startswith("/v1/tariff-measures") and isinstance(body.get("imposed_by"), str):
        if body.get("imposed_on") == body["imposed_by"]:
            body["imposed_on"] = "USA" if body["imposed_by"] != "USA" else "CHN"
    if case.operation.path.startswith(tuple(f"/v1/{m}" for m in MEASURES)):
        fix_suspensions(body)


def fix_batch(body):
    operations = body.get("operations")
    if not isinstance(operations, list):
        return
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            continue
        earlier = [k for k in range(index) if isinstance(operations[k], dict) and operations[k].get("method") in ("POST", "PATCH")]

        def repoint(text, as_segment):
            match = BATCH_REFERENCE.match(text)
            if not match or int(match.group(1)) in earlier:
                return text
            if earlier:
                return f"${earlier[-1]}.id"
            return "1" if as_segment else 1

        if isinstance(operation.get("path"), str):
            operation["path"] = "/".join(repoint(segment, True) for segment in operation["path"].split("/"))

        def walk(value):
            if isinstance(value, str):
                return repoint(value, False)
            if isinstance(value, list):
                return [walk(item) for item in value]
            if isinstance(value, dict):
                return {name: walk(item) for name, item in value.items()}
            return value

        if isinstance(operation.get("body"), dict):
            operation["body"] = walk(operation["body"])


def fix_query(case, query):
    if case.operation.path.startswith("/v1/tariff-rates"):
        by, on = query.get("imposed_by"), query.get("imposed_on")
        if isinstance(by, str) and by == on:
            query["imposed_on"] = "USA" if by != "USA" else "CHN"
    if "from" in query and "to" in query:
        query["from"], query["to"] = ordered(query["from"], query["to"], False)
    elif case.operation.path == "/v1/tariff-rates/history" and "to" not in query:
        today = datetime.datetime.now(datetime.timezone.utc).date()
        if (parse_date(query.get("from")) or today) > today:
            query["from"] = today.isoformat()  # `to` is the server's current day when left out
    if isinstance(query.get("cursor"), str) and query["cursor"] not in _issued:
        real_cursor(case, query)


def real_cursor(case, query):
    """A cursor the server signed for the same list and filters, or none when the list has one page."""
    params = {name: value for name, value in query.items() if name not in ("cursor", "limit", "format", "download")}
    params["limit"] = 1
    path = case.operation.path.format(**case.path_parameters) if case.path_parameters else case.operation.path
    cursor = None
    try:
        with _session() as session:
            response = session.get(BASE + path, params=params, timeout=10)
        if response.status_code == 200:
            cursor = response.json().get("next_cursor")
    except (requests.RequestException, ValueError, KeyError):
        cursor = None
    if isinstance(cursor, str):
        query["cursor"] = cursor
    else:
        del query["cursor"]


@schemathesis.serializer("application/x-ndjson", "application/ndjson")
def ndjson(ctx, value):
    """NDJSON bodies (POST /v1/import): a generated string goes on the wire as it is; a JSON value as one line."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return (json.dumps(value) + "\n").encode("utf-8")


def fix_import(case):
    if isinstance(case.query, dict):
        case.query.pop("resource", None)
    line = {"resource": "sources", "record": {"title": "schemathesis import " + uuid.uuid4().hex}}
    case.body = json.dumps(line) + "\n"


@schemathesis.hook
def before_call(context, case, **kwargs):
    if case.operation.path == "/v1/changes" and case.query and "wait" in case.query:
        wait = case.query["wait"]
        if isinstance(wait, bool):
            pass
        elif isinstance(wait, int) and LONGEST_WAIT < wait <= 60:
            case.query["wait"] = LONGEST_WAIT
        elif isinstance(wait, str) and wait.isdigit() and LONGEST_WAIT < int(wait) <= 60:
            case.query["wait"] = str(LONGEST_WAIT)
    if case.headers:
        for name in list(case.headers):
            value = case.headers[name]
            if name.lower() == "idempotency-key" and isinstance(value, str) and VALID_KEY.match(value):
                case.headers[name] = "st-" + uuid.uuid4().hex
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.operation.path == "/v1/import":
        fix_import(case)
        return
    if isinstance(case.query, dict):
        fix_query(case, case.query)
    if isinstance(case.body, dict):
        if case.operation.path == "/v1/batch":
            fix_batch(case.body)
        elif case.method.upper() in ("POST", "PATCH"):
            fix_record_body(case, case.body)


def json_body(response):
    """The body of an application/json response as a fresh object, else None. Not `response.json()`: that caches
    what it parses as the response's deserialized content, which the checks then validate in place of the body's
    own media type (an NDJSON export of one line would be checked as one JSON object)."""
    content_type = (response.headers.get("content-type") or [""])[0].split(";")[0].strip().lower()
    if content_type != "application/json":
        return None
    try:
        return json.loads(response.text)
    except ValueError:
        return None


@schemathesis.hook
def after_call(context, case, response):
    """Keeps the issued cursors, and the ids of existing records current with what the run creates and deletes."""
    body = json_body(response) if response.status_code in (200, 201) else None
    if not isinstance(body, dict):
        body = {}
    if case.method.upper() == "GET" and isinstance(body.get("next_cursor"), str):
        with _lock:
            _issued.add(body["next_cursor"])
    parts = case.operation.path.split("/")
    if len(parts) < 3 or parts[2] not in RESOURCES or _known is None:
        return
    resource = parts[2]
    with _lock:
        ids = _known[resource]
        if case.method.upper() == "POST" and len(parts) == 3 and response.status_code == 201:
            new = body.get("id")
            if isinstance(new, int) and new not in ids:
                ids.append(new)
                ids.sort()
        elif case.method.upper() == "DELETE" and len(parts) == 4 and response.status_code == 204:
            gone = case.path_parameters.get("id")
            try:
                gone = int(gone)
            except (TypeError, ValueError):
                return
            if gone in ids:
                ids.remove(gone)


# schemathesis 4.32 scans 2xx JSON bodies for same-origin links and calls urllib's urlsplit on every string that
# starts with http:// or https://; urlsplit raises ValueError on some of them (e.g. "http://[x" - "Invalid IPv6 URL"),
# which ends the whole run with an internal error. Such a string is valid data here (a note may hold it), so a string
# urllib cannot split counts as no link.
_same_origin_path = _observations._same_origin_path


def _same_origin_path_or_none(value, origin):
    try:
        return _same_origin_path(value, origin)
    except ValueError:
        return None


_observations._same_origin_path = _same_origin_path_or_none
