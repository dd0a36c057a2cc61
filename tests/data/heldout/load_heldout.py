"""Load the held-out set into a running instance through the public API.

Registers one account per organisation (which creates the organisation),
creates every offer and demand as that organisation, submits them and
publishes them as a moderator. Prints problems and writes the map from set
keys (H-O01, H-D01, ORG-...) to the ids the API gave, for an evaluation run:

    python tests/data/heldout/load_heldout.py --base-url http://127.0.0.1:8000 \
        --moderator-email mod@example.vn --moderator-password '…' --out ids.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml
from check_heldout import DEMAND_FIELDS, HERE, offer_payload

PASSWORD = "Heldout-set-2026-11-30!"


def sign_in(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--moderator-email", required=True)
    parser.add_argument("--moderator-password", required=True)
    parser.add_argument("--out", type=Path, default=Path("heldout_ids.json"))
    args = parser.parse_args()
    catalogue = yaml.safe_load((HERE / "catalogue.yaml").read_text(encoding="utf-8"))
    demands = yaml.safe_load((HERE / "demands.yaml").read_text(encoding="utf-8"))["demands"]
    ids: dict[str, str] = {}
    problems: list[str] = []
    owners: dict[str, dict[str, str]] = {}
    with httpx.Client(base_url=args.base_url, timeout=30) as client:
        moderator = sign_in(client, args.moderator_email, args.moderator_password)
        for org in catalogue["organizations"]:
            email = f"{org['key'].lower()}@heldout.example.org"
            body: dict[str, Any] = {
                "email": email,
                "password": PASSWORD,
                "full_name": "Heldout Writer",
                "organization": {k: v for k, v in org.items() if k != "key"},
            }
            response = client.post("/api/v1/auth/register", json=body)
            if response.status_code >= 400:
                problems.append(f"{org['key']}: {response.status_code} {response.text[:300]}")
                continue
            owners[org["key"]] = sign_in(client, email, PASSWORD)
            me = client.get("/api/v1/auth/me", headers=owners[org["key"]]).json()
            ids[org["key"]] = str(me.get("organization_id") or me.get("organization", {}).get("id"))
        listings: list[tuple[str, str, str, dict[str, Any]]] = []
        for offer in catalogue["offers"]:
            listings.append(("offers", offer["key"], offer["owner"], offer_payload(offer)))
        for demand in demands:
            payload = {"language": demand["language"]}
            payload.update({name: demand[name] for name in DEMAND_FIELDS if name in demand})
            listings.append(("demands", demand["key"], demand["owner"], payload))
        for kind, key, owner, payload in listings:
            if owner not in owners:
                continue
            headers = owners[owner]
            response = client.post(f"/api/v1/{kind}", json=payload, headers=headers)
            if response.status_code >= 400:
                problems.append(f"{key}: {response.status_code} {response.text[:300]}")
                continue
            ids[key] = record = response.json()["id"]
            for step, who in (("submit", headers), ("publish", moderator)):
                response = client.post(f"/api/v1/{kind}/{record}/{step}", headers=who)
                if response.status_code >= 400:
                    problems.append(f"{key} {step}: {response.status_code} {response.text[:300]}")
                    break
    args.out.write_text(json.dumps(ids, indent=1, ensure_ascii=False), encoding="utf-8")
    for problem in problems:
        print(problem)
    print(f"{len(ids)} records loaded, {len(problems)} problems; ids in {args.out}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
