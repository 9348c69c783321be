"""Reading a Flagsmith installation's admin and SDK APIs, through ``vexil.common.outbound``.

Every answer is checked for the shape the importer relies on; anything else raises
:class:`SourceError` with a message that names the URL and what was wrong, so the command can
stop with that message instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

from vexil.common import outbound

PAGE_SIZE = 100
MAX_RESPONSE_BYTES = 256 * 1024 * 1024  # an environment document of a large project fits
TIMEOUT_SECONDS = 60.0
MAX_PAGES = 100_000  # a guard against a server whose "next" never ends

JSON = Any


class SourceError(Exception):
    """The source could not be read, or answered something the importer cannot use."""


class SourceShapeError(SourceError):
    """An answer in a shape the importer does not know (another Flagsmith version?)."""


def normalised_base(url: str) -> str:
    """The API base with one trailing slash, ending in ``/api/v1/`` (added when missing)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(f"--url must be an http(s) URL of a Flagsmith API, not {url!r}.")
    path = parts.path.rstrip("/")
    if not path.endswith("/api/v1"):
        path += "/api/v1"
    return f"{parts.scheme}://{parts.netloc}{path}/"


class FlagsmithSource:
    """One Flagsmith API: ``token`` is a user's API token, ``api_key`` an organisation's."""

    def __init__(self, url: str, *, token: str | None = None, api_key: str | None = None) -> None:
        self.base = normalised_base(url)
        if bool(token) == bool(api_key):
            raise SourceError("Give exactly one of --token and --api-key.")
        self._auth = f"Token {token}" if token else f"Api-Key {api_key}"
        self.requests = 0

    # --- HTTP --------------------------------------------------------------------------------
    def _call(
        self, method: str, path: str, *, headers: Mapping[str, str], body: JSON = None
    ) -> tuple[int, JSON]:
        url = self.base + path
        payload = b"" if body is None else orjson.dumps(body)
        sent_headers = {"Accept": "application/json", **headers}
        if body is not None:
            sent_headers["Content-Type"] = "application/json"
        try:
            response = outbound.request(
                method,
                url,
                payload,
                headers=sent_headers,
                timeout=TIMEOUT_SECONDS,
                max_response_bytes=MAX_RESPONSE_BYTES,
            )
        except outbound.OutboundRefusedError as exc:
            raise SourceError(
                f"Refused to connect to {url}: {exc} "
                "(--allow-network CIDR permits an internal address)."
            ) from None
        except outbound.OutboundError as exc:
            raise SourceError(f"Cannot reach {url}: {exc}") from None
        self.requests += 1
        if response.truncated:
            raise SourceError(f"{url} answered more than {MAX_RESPONSE_BYTES} bytes.")
        if response.status in (401, 403):
            raise SourceError(
                f"{url} refused the credentials (HTTP {response.status}): check --token or "
                "--api-key, and that it may read this organisation."
            )
        if response.status == 404:
            raise SourceShapeError(f"{url} does not exist (HTTP 404): is this a Flagsmith API?")
        if response.status >= 400:
            raise SourceError(f"{url} answered HTTP {response.status}.")
        try:
            return response.status, orjson.loads(response.body)
        except orjson.JSONDecodeError:
            raise SourceShapeError(f"{url} did not answer JSON: is this a Flagsmith API?") from None

    def get(self, path: str, **params: Any) -> JSON:
        query = f"?{urlencode(params)}" if params else ""
        return self._call("GET", path + query, headers={"Authorization": self._auth})[1]

    def items(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, paginated (``results``/``next``) or a plain list."""
        page = 1
        while page <= MAX_PAGES:
            answer = self.get(path, **params, page=page, page_size=PAGE_SIZE)
            if isinstance(answer, list):
                yield from (_object(item, path) for item in answer)
                return
            if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
                raise SourceShapeError(f"{self.base}{path} is neither a list nor a page of one.")
            yield from (_object(item, path) for item in answer["results"])
            if not answer.get("next"):
                return
            page += 1
        raise SourceShapeError(f"{self.base}{path} has more than {MAX_PAGES} pages.")

    def sdk(self, path: str, client_key: str, body: JSON = None) -> JSON:
        """An SDK endpoint (``flags/``, ``identities/``) with an environment's client key."""
        method = "GET" if body is None else "POST"
        return self._call(method, path, headers={"X-Environment-Key": client_key}, body=body)[1]

    # --- The objects ---------------------------------------------------------------------------
    def organisations(self) -> list[dict[str, Any]]:
        return [_require(o, "organisation", "id", "name") for o in self.items("organisations/")]

    def projects(self, organisation_id: int) -> list[dict[str, Any]]:
        return [
            _require(p, "project", "id", "name")
            for p in self.items("projects/", organisation=organisation_id)
        ]

    def environments(self, project_id: int) -> list[dict[str, Any]]:
        return [
            _require(e, "environment", "id", "name", "api_key")
            for e in self.items("environments/", project=project_id)
        ]

    def tags(self, project_id: int) -> list[dict[str, Any]]:
        return [
            _require(t, "tag", "id", "label") for t in self.items(f"projects/{project_id}/tags/")
        ]

    def features(self, project_id: int) -> list[dict[str, Any]]:
        features = [
            _require(f, "feature", "id", "name", "type")
            for f in self.items(f"projects/{project_id}/features/")
        ]
        for feature in features:
            options = feature.get("multivariate_options") or []
            _list_of(options, "feature multivariate_options")
            for option in options:
                _require(option, "multivariate option", "id", "type")
        return features

    def segments(self, project_id: int) -> list[dict[str, Any]]:
        segments = [
            _require(s, "segment", "id", "name", "rules")
            for s in self.items(f"projects/{project_id}/segments/")
        ]
        for segment in segments:
            _rules_check(segment["rules"])
        return segments

    def document(self, client_key: str) -> dict[str, Any]:
        """The environment document (``environments/<key>/document/``): the states every
        identity is evaluated against, with the ids Flagsmith hashes on."""
        document = self.get(f"environments/{client_key}/document/")
        _require(document, "environment document", "api_key", "feature_states", "project")
        _require(document["project"], "environment document project", "segments")
        for state in _list_of(document["feature_states"], "document feature_states"):
            _state_check(state)
        for segment in _list_of(document["project"]["segments"], "document segments"):
            _require(segment, "document segment", "id", "feature_states")
            for state in _list_of(segment["feature_states"], "segment feature_states"):
                _state_check(state)
        return document

    def identities(self, client_key: str) -> Iterator[dict[str, Any]]:
        for identity in self.items(f"environments/{client_key}/identities/"):
            yield _require(identity, "identity", "id", "identifier")

    def traits(self, client_key: str, identity_id: int) -> list[dict[str, Any]]:
        path = f"environments/{client_key}/identities/{identity_id}/traits/"
        return [_require(t, "trait", "trait_key") for t in self.items(path)]

    def identity_overrides(self, client_key: str, identity_id: int) -> list[dict[str, Any]]:
        path = f"environments/{client_key}/identities/{identity_id}/featurestates/"
        return [_require(s, "identity override", "feature", "enabled") for s in self.items(path)]


def _object(item: object, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise SourceShapeError(f"{path} lists something that is not an object: {item!r:.80}")
    return item


def _require(item: object, what: str, *keys: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise SourceShapeError(f"A {what} is not a JSON object: {item!r:.80}")
    missing = [key for key in keys if key not in item]
    if missing:
        raise SourceShapeError(f"A {what} has no {', '.join(missing)}: {item!r:.200}")
    return item


def _list_of(items: object, what: str) -> Sequence[Any]:
    if not isinstance(items, list):
        raise SourceShapeError(f"{what} is not a list: {items!r:.80}")
    return items


def _rules_check(rules: object) -> None:
    for rule in _list_of(rules, "segment rules"):
        _require(rule, "segment rule", "type")
        for condition in _list_of(rule.get("conditions") or [], "rule conditions"):
            _require(condition, "segment condition", "operator")
        _rules_check(rule.get("rules") or [])


def _state_check(state: object) -> None:
    state = _require(state, "feature state", "feature", "enabled", "feature_state_value")
    _require(state["feature"], "feature state's feature", "id", "name")
    for value in _list_of(
        state.get("multivariate_feature_state_values") or [], "multivariate values"
    ):
        _require(
            value, "multivariate value", "percentage_allocation", "multivariate_feature_option"
        )
