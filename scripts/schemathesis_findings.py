#!/usr/bin/env python3
"""Groups the failing checks of a schemathesis NDJSON report into findings, one line each, with a curl command, and
with --gate decides whether the run passes.

    python3 scripts/schemathesis_findings.py REPORT.ndjson
    python3 scripts/schemathesis_findings.py --gate scripts/schemathesis_allowed.txt REPORT.ndjson

A finding is one (operation, check, response status, problem) combination, with the values inside the problem's
message (codes, ids, names) blotted out so that one rule gives one finding; its curl command is the shortest request
that showed it, and for a rejected-invalid-data check the schema rules the accepted requests broke are listed. The token is written as $TOKEN and the server as $BASE, so the
commands run against any server started with a known token. A stateful failure may need the requests before it
(records it created); its command is the failing request alone.

With --gate, each finding is marked `allowed (line N)` or `NOT ALLOWED`, by the rules of the allowed file (its
header says how a failure matches a line), and the exit status is 0 only when the run completed, reported no error,
and every failing check is allowed.
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


def problem_errors(response):
    """Every error of a problem body as `code pointer: message` (`code: detail` when it lists none); None if the body
    is not a problem."""
    try:
        doc = json.loads(decode(response.get("content")))
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("code"), str):
        return None
    errors = [e for e in doc.get("errors") or [] if isinstance(e, dict)]
    if not errors:
        return [f"{doc['code']}: {doc.get('detail', '')}"]
    return [f"{doc['code']} {e.get('pointer') or e.get('parameter') or e.get('header') or ''}: {e.get('message', '')}"
            for e in errors]


def load_allowed(path):
    """(line number, operation regex, status, problem regex) for each rule of the allowed file."""
    rules = []
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [field.strip() for field in line.split(" | ")]
        if len(fields) != 4 or not fields[1].isdigit() or not fields[3]:
            raise SystemExit(f"{path}:{number}: expected OPERATION | STATUS | PROBLEM | REASON")
        rules.append((number, re.compile(fields[0]), int(fields[1]), re.compile(fields[2])))
    return rules


def allowed_by(rules, check, operation, response):
    """The allowed file's lines that let this failure pass (one for each error of its problem), or None."""
    if check != "positive_data_acceptance" or response is None:
        return None
    errors = problem_errors(response)
    if not errors:
        return None
    lines = []
    for error in errors:
        line = next((number for number, op, status, problem in rules
                     if status == response["status_code"] and op.fullmatch(operation) and problem.fullmatch(error)), None)
        if line is None:
            return None
        lines.append(line)
    return tuple(sorted(set(lines)))


def main(path, allowed_path=None):
    rules = load_allowed(allowed_path) if allowed_path else []
    findings = OrderedDict()
    failures = allowed = errors = 0
    completed = False
    for line in open(path, encoding="utf-8"):
        event = json.loads(line)
        if "EngineFinished" in event:
            completed = event["EngineFinished"].get("stop_reason") == "completed"
        if "NonFatalError" in event or "FatalError" in event:
            errors += 1
            error = event.get("NonFatalError") or event.get("FatalError")
            print(f"- schemathesis error: {str(error.get('info') or error)[:300]}")
        finished = event.get("ScenarioFinished")
        if not finished:
            continue
        if finished.get("status") == "error":
            errors += 1
            print(f"- scenario error in {finished['recorder'].get('label')} ({finished.get('phase')})")
        recorder = finished["recorder"]
        for case_id, checks in recorder.get("checks", {}).items():
            interaction = recorder.get("interactions", {}).get(case_id) or {}
            response = interaction.get("response")
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                operation = failure.get("operation") or recorder.get("label")
                failures += 1
                rule = allowed_by(rules, check["name"], operation, response)
                allowed += rule is not None
                message = failure.get("message", "")
                component = re.search(r"Invalid component: (.*)", message)
                status = response["status_code"] if response else "no response"
                problem = normalise(problem_key(response)) if response else failure.get("title", "")
                key = (operation, f"{failure.get('code', '')} {check['name']}", status, problem)
                command = curl(interaction["request"]) if interaction.get("request") else ""
                entry = findings.setdefault(key, {"count": 0, "curl": command, "phases": set(), "broken": set(), "rules": set()})
                entry["count"] += 1
                entry["phases"].add(finished.get("phase"))
                entry["rules"].add(rule)
                if component:
                    entry["broken"].add(re.sub(r" \(was .*", "", component.group(1))[:100])
                if command and len(command) < len(entry["curl"]):
                    entry["curl"] = command
    for (operation, check, status, problem), entry in sorted(findings.items(), key=lambda item: str(item[0])):
        verdict = ""
        if allowed_path:
            lines = sorted({line for r in entry["rules"] if r is not None for line in r})
            verdict = " | NOT ALLOWED" if None in entry["rules"] else f" | allowed (line {', '.join(map(str, lines))})"
        print(f"- {operation} | {check} | {status} {problem}".rstrip()
              + f" | {entry['count']}x in {', '.join(sorted(entry['phases']))}{verdict}")
        broken = sorted(entry["broken"])
        if broken:
            more = f" and {len(broken) - 4} more" if len(broken) > 4 else ""
            print(f"    accepted although: {'; '.join(broken[:4])}{more}")
        print(f"    {entry['curl']}")
    print(f"{len(findings)} distinct findings")
    if not allowed_path:
        return 0
    refused = failures - allowed
    passed = completed and errors == 0 and refused == 0
    print(f"gate: {'PASSED' if passed else 'FAILED'}: {failures} failing checks, {allowed} of them allowed by "
          f"{allowed_path}, {refused} not allowed; {errors} errors; run {'completed' if completed else 'did not complete'}")
    return 0 if passed else 1


if __name__ == "__main__":
    arguments = sys.argv[1:]
    gate = None
    if arguments[:1] == ["--gate"]:
        gate, arguments = arguments[1], arguments[2:]
    if len(arguments) != 1:
        raise SystemExit(__doc__)
    sys.exit(main(arguments[0], gate))
