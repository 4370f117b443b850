#!/usr/bin/env python3
"""Writes bot-api.json, the part of the Telegram Bot API spec the fake checks
requests against: every method's fields (name, types, required) and the types
a request can carry (reachable from a method's fields), without the prose, plus the constant a subtype's discriminator must hold
("Scope type, must be default" -> "default").

    python3 sim/src/telegram/spec/extract.py PATH/TO/api.json \
        > sim/src/telegram/spec/bot-api.json
"""
import json
import re
import sys

CONST = re.compile(r'(?:must be|always) "?([a-z_]+)"?')


def fields(entries, with_const):
    out = []
    for f in entries:
        field = {"name": f["name"], "types": f["types"], "required": f["required"]}
        if with_const and f["name"] in ("type", "status", "source"):
            m = CONST.search(f.get("description", ""))
            if m:
                field["const"] = m.group(1)
        out.append(field)
    return out


def type_names(types):
    """The object types named in a field's types ("Array of Array of X" -> X)."""
    for t in types:
        yield t.replace("Array of ", "")


def reachable(spec):
    """The types a request may contain, following fields and subtypes."""
    seen, todo = set(), []
    for m in spec["methods"].values():
        for f in m.get("fields", []):
            todo.extend(type_names(f["types"]))
    while todo:
        name = todo.pop()
        if name in seen or name not in spec["types"]:
            continue
        seen.add(name)
        t = spec["types"][name]
        todo.extend(t.get("subtypes", []))
        for f in t.get("fields", []):
            todo.extend(type_names(f["types"]))
    return seen


def main(path):
    spec = json.load(open(path, encoding="utf-8"))
    methods = {
        name: {"fields": fields(m.get("fields", []), False), "returns": m["returns"]}
        for name, m in sorted(spec["methods"].items())
    }
    types = {}
    for name in sorted(reachable(spec)):
        t = spec["types"][name]
        entry = {}
        if "subtypes" in t:
            entry["subtypes"] = t["subtypes"]
        else:
            entry["fields"] = fields(t.get("fields", []), "subtype_of" in t)
        types[name] = entry
    out = {
        "version": spec["version"],
        "release_date": spec["release_date"],
        "source": "PaulSonOfLars/telegram-bot-api-spec api.json (MIT)",
        "methods": methods,
        "types": types,
    }
    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
