#!/usr/bin/env python3
"""Groups the failing checks of a schemathesis NDJSON report into findings, one line each, with a curl command.

    python3 scripts/schemathesis_findings.py REPORT.ndjson

A finding is one (operation, check, response status, problem) combination, with the values inside the problem's
message (codes, ids, names) blotted out so that one rule gives one finding; its curl command is the shortest request
that showed it, and for a rejected-invalid-data check the schema rules the accepted requests broke are listed. The token is written as $TOKEN and the server as $BASE, so the
commands run against any server started with a known token. A stateful failure may need the requests before it
(records it created); its command is the failing request alone.
"""
import base64
import json
import re
import shlex
import sys
from collections import OrderedDict
from urllib.parse import urlsplit


def decode(content):
    if not content:
        return b""
    if "$base64" in content:
        return base64.b64decode(content["$base64"])
    return content.get("text", "").encode()


def curl(request):
    parts = urlsplit(request["uri"])
    url = "$BASE" + parts.path + ("?" + parts.query if parts.query else "")
    words = ["curl", "-sS", "-i", "-X", request["method"]]
    for name, values in request.get("headers", {}).items():
        for value in values:
            if name.lower() == "authorization":
                words += ["-H", '"Authorization: Bearer $TOKEN"']
            elif value == "[Filtered]":  # masked by --output-sanitize; any fresh value shows the same
                words += ["-H", f'"{name}: key-$RANDOM$RANDOM"']
            elif name.lower() in ("user-agent", "accept-encoding", "connection", "content-length", "x-schemathesis-testcaseid"):
                continue
            elif value == "":
                words += ["-H", shlex.quote(name + ";")]  # curl's way to send an empty header
            else:
                words += ["-H", shlex.quote(f"{name}: {value}")]
    body = decode(request.get("body"))
    if body:
        words += ["--data-binary", shlex.quote(body.decode("utf-8", "backslashreplace"))]
    words.append(f'"{url}"')
    return " ".join(words)


def normalise(text):
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"/positions/[^:]+:", "/positions/{code}:", text)
    text = re.sub(r"(id |newest |^)\d+", r"\1N", text)
    text = re.sub(r"names \w+ twice", "names … twice", text)
    return text


def problem_key(response):
    """The problem's code and the first field it names, or a short excerpt of another body."""
    body = decode(response.get("content"))
    try:
        doc = json.loads(body)
    except ValueError:
        return body[:60].decode("utf-8", "replace")
    if not isinstance(doc, dict):
        return ""
    code = doc.get("code", "")
    errors = doc.get("errors") or []
    if errors and isinstance(errors[0], dict):
        where = errors[0].get("pointer") or errors[0].get("parameter") or errors[0].get("header") or ""
        return f"{code} {where}: {errors[0].get('message', '')}".strip()
    detail = doc.get("detail", "")
    return f"{code}: {detail[:90]}" if code else ""


def main(path):
    findings = OrderedDict()
    for line in open(path, encoding="utf-8"):
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            interaction = recorder.get("interactions", {}).get(case_id)
            if interaction is None or interaction.get("response") is None:
                continue
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                response = interaction["response"]
                operation = failure.get("operation") or recorder.get("label")
                message = failure.get("message", "")
                component = re.search(r"Invalid component: (.*)", message)
                key = (operation, f"{failure.get('code', '')} {check['name']}", response["status_code"],
                       normalise(problem_key(response)))
                command = curl(interaction["request"])
                entry = findings.setdefault(key, {"count": 0, "curl": command, "phases": set(), "broken": set()})
                entry["count"] += 1
                entry["phases"].add(finished.get("phase"))
                if component:
                    entry["broken"].add(re.sub(r" \(was .*", "", component.group(1))[:100])
                if len(command) < len(entry["curl"]):
                    entry["curl"] = command
    for (operation, check, status, problem), entry in sorted(findings.items()):
        print(f"- {operation} | {check} | {status} {problem}".rstrip()
              + f" | {entry['count']}x in {', '.join(sorted(entry['phases']))}")
        broken = sorted(entry["broken"])
        if broken:
            more = f" and {len(broken) - 4} more" if len(broken) > 4 else ""
            print(f"    accepted although: {'; '.join(broken[:4])}{more}")
        print(f"    {entry['curl']}")
    print(f"{len(findings)} distinct findings")


if __name__ == "__main__":
    main(sys.argv[1])
