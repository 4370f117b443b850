#!/usr/bin/env python3
"""Writes openapi-trimmed.json: the request bodies of the routes the fake Discord
serves, cut from Discord's OpenAPI description (discord/discord-api-spec @ 74fda0f,
specs/openapi.json, MIT, (c) 2023 Discord), with every schema they reference.

    python3 trim.py PATH/TO/openapi.json > openapi-trimmed.json
"""
import json
import sys

ROUTES = [
    ("/gateway", "get"),
    ("/gateway/bot", "get"),
    ("/users/@me", "get"),
    ("/applications/@me", "get"),
    ("/oauth2/applications/@me", "get"),
    ("/applications/{application_id}/commands", "get"),
    ("/applications/{application_id}/commands", "put"),
    ("/applications/{application_id}/guilds/{guild_id}/commands", "get"),
    ("/applications/{application_id}/guilds/{guild_id}/commands", "put"),
    ("/interactions/{interaction_id}/{interaction_token}/callback", "post"),
    ("/webhooks/{webhook_id}/{webhook_token}", "post"),
    ("/webhooks/{webhook_id}/{webhook_token}/messages/@original", "get"),
    ("/webhooks/{webhook_id}/{webhook_token}/messages/@original", "patch"),
    ("/webhooks/{webhook_id}/{webhook_token}/messages/@original", "delete"),
    ("/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "get"),
    ("/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "patch"),
    ("/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}", "delete"),
    ("/channels/{channel_id}/messages", "post"),
    ("/channels/{channel_id}/messages/{message_id}", "get"),
    ("/channels/{channel_id}/messages/{message_id}", "patch"),
    ("/channels/{channel_id}/messages/{message_id}", "delete"),
    ("/guilds/{guild_id}/members/{user_id}", "get"),
]
# Schemas kept although no request body names them: the fake checks locale keys.
EXTRA = ["AvailableLocalesEnum"]


def main():
    spec = json.load(open(sys.argv[1]))
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
        body = operation.get("requestBody")
        entry = {"operationId": operation.get("operationId")}
        if body:
            json_body = body["content"].get("application/json")
            entry["requestBody"] = {
                "required": body.get("required", False),
                "schema": json_body["schema"] if json_body else None,
                "multipart": "multipart/form-data" in body["content"],
            }
            walk(entry["requestBody"])
        paths.setdefault(path, {})[method] = entry
    for name in EXTRA:
        kept[name] = schemas[name]
        walk(schemas[name])
    out = {
        "source": "discord/discord-api-spec @ 74fda0f, specs/openapi.json (MIT, (c) 2023 Discord); trimmed by trim.py",
        "openapi": spec["openapi"],
        "info": {"title": spec["info"]["title"], "version": spec["info"]["version"]},
        "paths": paths,
        "components": {"schemas": dict(sorted(kept.items()))},
    }
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)
    sys.stdout.write("\n")


main()
