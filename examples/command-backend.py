#!/usr/bin/env python3
"""A chainproof `command` backend that answers from JSON-lines exports.

chainproof writes a query (contract version 1, docs/command-backend.md) on
stdin; this script answers on stdout with, for every run, the events and
alerts whose string values contain the run's token. Python 3 standard
library only.

Environment:
  CHAINPROOF_EVENTS  JSON-lines file of Sysmon-style events (required)
  CHAINPROOF_ALERTS  JSON-lines file of alerts (optional)

An event line is a flat object with Sysmon field names, e.g.
  {"EventID": 1, "UtcTime": "2026-01-01 10:00:00.123", "ProcessId": 4242,
   "Image": "/usr/bin/dash", "CommandLine": "sh -c touch cp0123456789",
   "ParentProcessId": 4241, "ParentImage": "/usr/lib/libreoffice/program/soffice.bin"}
EventID (or EventCode) 1 is a process creation and 11 a file event; without
either, a line with TargetFilename and no CommandLine is a file event. The
time comes from UtcTime, @timestamp or time; every other key is passed on.

An alert line is already in the answer's shape:
  {"rule_id": "r-1", "rule_title": "Office Spawns Shell", "level": "high",
   "tags": ["attack.t1204.002"], "time": "2026-01-01T10:00:01Z",
   "fields": {"ProcessId": 4242, "Image": "/usr/bin/dash"}}

To plug in Chronicle, SentinelOne or a data lake, replace `load` with a
query of that system; keep the answer's shape. Read credentials from the
environment or a file here, never from chainproof's config. Exit non-zero
with a message on stderr when the source cannot answer: chainproof then
reports the hops as inconclusive rather than missed.
"""

import json
import os
import sys

VERSION = 1
META_KEYS = {"EventID", "EventCode", "category", "time", "@timestamp", "UtcTime"}


class Failure(Exception):
    """The source cannot answer; the message goes to stderr."""


def mentions(value, token):
    """True when any string inside `value` contains `token` (any case)."""
    if isinstance(value, str):
        return token in value.lower()
    if isinstance(value, dict):
        return any(mentions(v, token) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, token) for v in value)
    return False


def rfc3339(text):
    """Sysmon's UtcTime (`2026-01-01 10:00:00.123`) as RFC 3339; others as given."""
    if not isinstance(text, str) or not text:
        return None
    if " " in text and "T" not in text:
        date, clock = text.split(" ", 1)
        return f"{date}T{clock}Z"
    return text


def category(line):
    code = str(line.get("EventID", line.get("EventCode", "")))
    if code == "1":
        return "process_creation"
    if code == "11":
        return "file_event"
    if line.get("category") in ("process_creation", "file_event"):
        return line["category"]
    if "TargetFilename" in line and "CommandLine" not in line:
        return "file_event"
    return "process_creation"


def as_event(line):
    when = line.get("UtcTime") or line.get("@timestamp") or line.get("time")
    return {
        "category": category(line),
        "time": rfc3339(when),
        "fields": {k: v for k, v in line.items() if k not in META_KEYS},
    }


def as_alert(line, where):
    if not isinstance(line.get("rule_title"), str) or not isinstance(line.get("time"), str):
        raise Failure(f"{where}: an alert needs `rule_title` and `time` strings")
    keys = ("rule_id", "rule_title", "level", "tags", "time", "category", "fields")
    return {k: line[k] for k in keys if k in line}


def load(path):
    """Yields (where, object) for each non-empty line of a JSON-lines file."""
    try:
        with open(path, encoding="utf-8") as f:
            for n, text in enumerate(f, 1):
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError as e:
                    raise Failure(f"{path}:{n}: not JSON: {e}") from None
                if not isinstance(obj, dict):
                    raise Failure(f"{path}:{n}: not a JSON object")
                yield f"{path}:{n}", obj
    except OSError as e:
        raise Failure(f"read {path}: {e.strerror}") from None


def answer(query, events_path, alerts_path):
    if query.get("version") != VERSION:
        raise Failure(f"query version {query.get('version')!r}, this script speaks {VERSION}")
    runs = {run["token"]: {"token": run["token"], "events": [], "alerts": []}
            for run in query.get("runs", [])}
    lowered = {token.lower(): token for token in runs}
    for _, line in load(events_path):
        for low, token in lowered.items():
            if mentions(line, low):
                runs[token]["events"].append(as_event(line))
    if alerts_path:
        for where, line in load(alerts_path):
            for low, token in lowered.items():
                if mentions(line, low):
                    runs[token]["alerts"].append(as_alert(line, where))
    return {"version": VERSION, "runs": list(runs.values())}


def main():
    events_path = os.environ.get("CHAINPROOF_EVENTS")
    if not events_path:
        print("set CHAINPROOF_EVENTS to a JSON-lines file of events", file=sys.stderr)
        return 2
    try:
        query = json.load(sys.stdin)
        result = answer(query, events_path, os.environ.get("CHAINPROOF_ALERTS"))
    except json.JSONDecodeError as e:
        print(f"the query on stdin is not JSON: {e}", file=sys.stderr)
        return 2
    except Failure as e:
        print(e, file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
