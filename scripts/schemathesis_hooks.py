"""schemathesis hooks for scripts/schemathesis.sh (loaded through SCHEMATHESIS_HOOKS).

Two generated values are adjusted before they are sent, each to another valid value, so that what the run measures
is the API and not the run's own history or patience:

- `wait` on GET /v1/changes: a long poll legitimately holds the request up to `wait` seconds (0..60). Valid waits
  above 2 become 2, so a held request costs 2 s instead of up to a minute and stays inside --request-timeout;
  invalid values (negative, over 60, not a number) are sent unchanged.
- `Idempotency-Key`: the coverage phase sends one key with many different bodies, which the API documents as
  422 `idempotency_key_reused`. A valid key becomes a fresh one per request; invalid keys are sent unchanged.
"""
import re
import uuid

import schemathesis

LONGEST_WAIT = 2
VALID_KEY = re.compile(r"^[!-~]{1,255}$")


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
