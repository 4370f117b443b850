#!/usr/bin/env python3
"""Writes openai-videos.json: the request bodies of the `/videos*` routes of the
OpenAI description (`specs/openai-openapi.yaml` of the project), per content type,
with every schema they reference.

    python3 trim.py PATH/TO/openai-openapi.yaml > openai-videos.json
"""
import json
import sys

import yaml

ROUTES = [
    ("/videos", "post"),
    ("/videos/characters", "post"),
    ("/videos/characters/{character_id}", "get"),
    ("/videos/edits", "post"),
    ("/videos/extensions", "post"),
    ("/videos/{video_id}/remix", "post"),
]
RESPONSES = ["VideoResource", "VideoCharacterResource"]


def main():
    spec = yaml.safe_load(open(sys.argv[1]))
    schemas = spec["components"]["schemas"]
    kept = {}

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    name = value.rsplit("/", 1)[-1]
                    if name not in kept:
                        kept[name] = schemas[name]
                        walk(schemas[name])
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    paths = {}
    for path, method in ROUTES:
        operation = spec["paths"][path][method]
        content = operation.get("requestBody", {}).get("content", {})
        body = {kind: {"schema": media["schema"]} for kind, media in content.items()}
        walk(body)
        paths.setdefault(path, {})[method] = {"requestBody": {"content": body}}
    for name in RESPONSES:
        kept[name] = schemas[name]
        walk(schemas[name])
    out = {"paths": paths, "components": {"schemas": dict(sorted(kept.items()))}}
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    print()


main()
