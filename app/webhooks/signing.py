"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of id.timestamp.body>` per active secret."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


def new_secret() -> str:
    """24 random bytes, base64, with the prefix consumers' libraries expect."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def headers(message_id: str, timestamp: datetime, body: str, secrets_: list[str]) -> dict[str, str]:
    """The three headers of the specification; one signature per secret (two during a rotation)."""
    signatures = " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
