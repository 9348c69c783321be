"""The SDK endpoints (protocol notes §1). Each is ``async (context, request) -> Response``.

Status codes and bodies follow Flagsmith's, because the SDKs depend on them: 200 on every success
(the Node SDK treats anything else as an error), 403 ``{"detail"}`` for key problems.
"""

from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any

import orjson

from vexil.identities.identify import TooManyTraitsError
from vexil.sdk import analytics as analytics_buffer
from vexil.sdk import identify
from vexil.sdk.context import SDKContext
from vexil.sdk.http import Request, Response, error_response
from vexil.sdk.keys import KeyRefusedError, authenticate
from vexil.sdk.reads import UNAVAILABLE
from vexil.sdk.snapshot import EnvironmentSnapshot

UPDATED_AT = "x-flagsmith-document-updated-at"


async def flags(context: SDKContext, request: Request) -> Response:
    try:
        environment, is_server = await authenticate(context, request)
    except KeyRefusedError as refused:
        return refused.response
    snapshot = await context.snapshot(environment)
    name = request.query("feature")
    if name is not None:
        body = snapshot.flag_bodies.get((is_server, name))
        if body is None:
            return error_response(404, "Given feature not found", "not_found")
        return Response(200, body, gzipped=snapshot.gzipped(("flag", is_server, name), body))
    body = snapshot.flags_body[is_server]
    return Response(200, body, gzipped=snapshot.gzipped(("flags", is_server), body)).header(
        UPDATED_AT, snapshot.updated_at_header
    )


async def environment_document(context: SDKContext, request: Request) -> Response:
    try:
        environment, _ = await authenticate(context, request, server_only=True)
    except KeyRefusedError as refused:
        return refused.response
    snapshot = await context.snapshot(environment)
    if _not_modified(request, snapshot):
        response = Response(304, b"", content_type=None)
    else:
        body = snapshot.document_body
        response = Response(200, body, gzipped=snapshot.gzipped("document", body))
    return (
        response.header(UPDATED_AT, snapshot.updated_at_header)
        .header("last-modified", snapshot.last_modified)
        .header("etag", snapshot.etag)
        .header("cache-control", "no-cache")  # keep, but revalidate with the ETag each time
    )


def _not_modified(request: Request, snapshot: EnvironmentSnapshot) -> bool:
    if_none_match = request.header("if-none-match")
    if if_none_match:
        # Weak comparison (RFC 9110 13.1.2): a gzipped answer carried the tag as W/"..."
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return snapshot.etag in tags or "*" in tags
    if_modified_since = request.header("if-modified-since")
    if not if_modified_since:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and int(since.timestamp()) >= snapshot.updated_at_seconds


async def identities(context: SDKContext, request: Request) -> Response:
    try:
        environment, is_server = await authenticate(context, request)
    except KeyRefusedError as refused:
        return refused.response
    snapshot = await context.snapshot(environment)
    if request.method == "GET":
        parsed = identify.parse_query(request)
    else:
        parsed = identify.parse_body(request)
    if isinstance(parsed, Response):
        return parsed
    if not is_server and not snapshot.allow_client_traits:
        parsed = parsed.without_traits()
    try:
        identified = await identify.identify(context, snapshot, parsed, environment.persist_traits)
    except TooManyTraitsError:
        return identify.invalid({"traits": [identify.TOO_MANY_TRAITS]})
    except UNAVAILABLE:
        kept = identify.respond_from_cache(
            snapshot, parsed, is_server=is_server, cache=context.identity_results
        )
        if kept is None:
            raise
        return kept.header(UPDATED_AT, snapshot.updated_at_header)
    response = identify.respond(
        snapshot, identified, parsed, is_server=is_server, cache=context.identity_results
    )
    return response.header(UPDATED_AT, snapshot.updated_at_header)


async def analytics(context: SDKContext, request: Request) -> Response:
    """Counts are buffered in memory and flushed in the background; never rejected."""
    try:
        environment, _ = await authenticate(context, request)
    except KeyRefusedError as refused:
        return refused.response
    try:
        counts: Any = orjson.loads(request.body) if request.body else {}
    except orjson.JSONDecodeError:
        counts = {}
    if isinstance(counts, dict):
        snapshot = await context.snapshot(environment)
        analytics_buffer.record(snapshot, counts)
    return Response(200, b"", content_type=None)


async def traits_set(context: SDKContext, request: Request) -> Response:
    return await identify.legacy_traits(context, request, identify.TraitsOperation.SET)


async def traits_bulk(context: SDKContext, request: Request) -> Response:
    return await identify.legacy_traits(context, request, identify.TraitsOperation.BULK)


async def traits_increment(context: SDKContext, request: Request) -> Response:
    return await identify.legacy_traits(context, request, identify.TraitsOperation.INCREMENT)
