"""`Idempotency-Key` on every POST that creates something, applied in one place.

A creating POST is one that answers `201 Created`. Every API router is built with
`route_class=ExchangeRoute`, which gives each creating POST
the `claim_idempotency_key` dependency (which documents the header, looks the key up in
the request's unit of work and replays a stored answer) and, once the handler has
answered, keeps the answer in that same unit of work, before it commits. So a replay
exists exactly when the creation committed, and a retry never creates twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from app.accounts.permissions import Principal
from app.api.deps import OptionalPrincipal, SessionDep, SettingsDep
from app.errors import AppError
from app.idempotency import service
from app.idempotency.service import REPLAY_HEADER, REPLAYED_HEADERS, StoredResponse
from app.models import IdempotencyRecord

CLAIM_STATE = "idempotency_claim"


class IdempotentReplay(Exception):
    """Raised by the dependency to answer with the stored response instead of running the handler."""

    def __init__(self, stored: StoredResponse):
        super().__init__("replay")
        self.stored = stored

    def response(self) -> Response:
        headers = {**self.stored.headers, REPLAY_HEADER: "true"}
        return JSONResponse(self.stored.body, status_code=self.stored.status_code, headers=headers)


@dataclass
class Claim:
    """A new key, claimed in the request's unit of work: the answer will be kept under it."""

    session: AsyncSession
    record: IdempotencyRecord

    async def keep(self, response: Response) -> None:
        if response.status_code >= 300:
            await service.release(self.session, self.record)
            return
        headers = {name: response.headers[name] for name in REPLAYED_HEADERS if name in response.headers}
        secret = "no-store" in response.headers.get("cache-control", "")
        body = None if secret else _json(bytes(response.body))
        if secret:
            headers = {k: v for k, v in headers.items() if k == "Location"}
        await service.complete(self.session, self.record, StoredResponse(response.status_code, body, headers))


def _json(raw: bytes) -> Any:
    return json.loads(raw) if raw else None


def _scope(principal: Principal | None) -> str:
    """Keys are the caller's own: two callers may pick the same key without meeting."""
    if principal is None:
        return "anonymous"
    return f"principal:{principal.api_key_id or principal.account_id or principal.organization_id}"


async def claim_idempotency_key(
    request: Request,
    session: SessionDep,
    principal: OptionalPrincipal,
    settings: SettingsDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=200,
            description=(
                "Retry-safe creation: a retry with the same key and body answers the first response again "
                "(with `Idempotent-Replayed: true`) instead of creating twice; the same key with another "
                "body is refused (422 `IdempotencyKeyReused`)."
            ),
        ),
    ] = None,
) -> None:
    if idempotency_key is None:
        return
    body: Any
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        body = await _form_fingerprint(request)
    else:
        raw = await request.body()
        try:
            body = _json(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    fingerprint = service.fingerprint("POST", path, body, settings.secret_key)
    claimed = await service.claim(session, _scope(principal), idempotency_key, fingerprint)
    if isinstance(claimed, StoredResponse):
        raise IdempotentReplay(claimed)
    setattr(request.state, CLAIM_STATE, Claim(session, claimed))


async def _form_fingerprint(request: Request) -> dict[str, Any]:
    """A multipart body as the fields and each file's name and digest: the form was already parsed (its
    stream is consumed), so it is read from the parsed form, which keeps the files for the handler."""
    items: list[list[Any]] = []
    for key, value in (await request.form()).multi_items():
        if isinstance(value, UploadFile):
            content = await value.read()
            await value.seek(0)
            items.append([key, value.filename, hashlib.sha256(content).hexdigest()])
        else:
            items.append([key, value])
    return {"multipart": items}


IdempotencyGuard = Depends(claim_idempotency_key)


def _creates(methods: Any, status_code: Any) -> bool:
    return {str(m).upper() for m in methods or ()} == {"POST"} and status_code == 201


class ExchangeRoute(APIRoute):
    """An API route; a creating POST (201) honours `Idempotency-Key`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.creates = _creates(kwargs.get("methods"), kwargs.get("status_code"))
        if self.creates:
            dependencies: Sequence[DependsParam] = kwargs.get("dependencies") or []
            if not any(d.dependency is claim_idempotency_key for d in dependencies):
                kwargs["dependencies"] = [IdempotencyGuard, *dependencies]
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if not self.creates:
            return handler

        async def handle(request: Request) -> Response:
            # Runs inside the request's unit of work: it commits after this returns.
            try:
                response = await handler(request)
            except IdempotentReplay as replay:
                return replay.response()
            except AppError as error:
                # A refusal that commits what it flushed must not commit the claim with it.
                refused: Claim | None = getattr(request.state, CLAIM_STATE, None)
                if refused is not None and error.keeps_changes:
                    await service.release(refused.session, refused.record)
                raise
            claim: Claim | None = getattr(request.state, CLAIM_STATE, None)
            if claim is not None:
                await claim.keep(response)
            return response

        return handle
