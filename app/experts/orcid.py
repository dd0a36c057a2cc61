"""ORCID: the iD's check digit, and a profile proposed from a public record (public API v3.0).

The public API answers `GET {base}/{orcid}/record` with the record's public part: `person` (name,
biography, keywords, addresses, researcher-urls) and `activities-summary` (employments, works, …).
Nothing is saved here: the caller gets a proposal that the expert checks and confirms by creating
the profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from app.errors import AppError, NotFoundError

ORCID_PATTERN = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
WORKS_SHOWN = 10


class OrcidRecordNotFoundError(NotFoundError):
    code = "OrcidRecordNotFound"
    title = "ORCID has no public record with this iD"


class OrcidUnavailableError(AppError):
    """ORCID could not be reached; nothing was changed, try again later."""

    status = 503
    code = "OrcidUnavailable"
    title = "ORCID cannot be reached"


class OrcidBadResponseError(AppError):
    """ORCID answered, but not with a record this service can read."""

    status = 502
    code = "OrcidBadResponse"
    title = "ORCID answered with an error or an unreadable record"


def check_digit(base_digits: str) -> str:
    """ISO 7064 MOD 11-2 over the first 15 digits, as ORCID computes it."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def is_valid_orcid(value: str) -> bool:
    if not ORCID_PATTERN.match(value):
        return False
    digits = value.replace("-", "")
    return check_digit(digits[:15]) == digits[15]


def normalise_orcid(value: str) -> str:
    """Accept the bare iD or its https://orcid.org/ URI; upper-case the X."""
    text = value.strip().upper()
    for prefix in ("HTTPS://ORCID.ORG/", "HTTP://ORCID.ORG/", "ORCID.ORG/"):
        text = text.removeprefix(prefix)
    return text


@dataclass
class OrcidProfile:
    """What a public ORCID record says, in the expert profile's terms."""

    orcid: str
    name: str
    biography: str = ""
    keywords: list[str] = field(default_factory=list)
    country: str | None = None
    city: str | None = None
    affiliation: str | None = None
    title: str | None = None
    affiliations: list[str] = field(default_factory=list)
    works: list[str] = field(default_factory=list)
    publications_count: int = 0
    patents_count: int = 0
    links: list[str] = field(default_factory=list)


def _value(node: Any) -> str | None:
    """ORCID wraps most strings as {"value": ...}; missing parts are null."""
    if isinstance(node, dict):
        value = node.get("value")
        return str(value).strip() if value else None
    return str(node).strip() if isinstance(node, str) and node.strip() else None


def _employments(activities: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for group in (activities.get("employments") or {}).get("affiliation-group") or []:
        for summary in group.get("summaries") or []:
            employment = summary.get("employment-summary")
            if employment:
                found.append(employment)
    return found


def parse_record(orcid: str, record: dict[str, Any]) -> OrcidProfile:
    """The public record (the JSON of `/v3.0/{orcid}/record`) as an `OrcidProfile`."""
    person = record.get("person") or {}
    activities = record.get("activities-summary") or {}
    name_node = person.get("name") or {}
    credit = _value(name_node.get("credit-name"))
    given, family = _value(name_node.get("given-names")), _value(name_node.get("family-name"))
    name = credit or " ".join(part for part in (given, family) if part) or orcid
    keywords = [
        text
        for keyword in (person.get("keywords") or {}).get("keyword") or []
        if (text := _value(keyword.get("content")) or (keyword.get("content") or "").strip())
    ]
    addresses = (person.get("addresses") or {}).get("address") or []
    country = next((_value(a.get("country")) for a in addresses if _value(a.get("country"))), None)
    employments = _employments(activities)
    # The current employment (no end date) first, then the most recent start.
    employments.sort(
        key=lambda e: (
            e.get("end-date") is not None,
            -int(_value((e.get("start-date") or {}).get("year")) or 0),
        )
    )
    current = employments[0] if employments else None
    organisation = (current or {}).get("organization") or {}
    org_address = organisation.get("address") or {}
    works_summary = [
        summary
        for group in (activities.get("works") or {}).get("group") or []
        for summary in (group.get("work-summary") or [])[:1]  # one summary per group: the same work
    ]
    patents = [w for w in works_summary if w.get("type") == "patent"]
    titles = [t for w in works_summary if (t := _value((w.get("title") or {}).get("title")))]
    biography = (person.get("biography") or {}).get("content") or ""
    links = [
        url
        for item in (person.get("researcher-urls") or {}).get("researcher-url") or []
        if (url := _value(item.get("url")))
    ]
    return OrcidProfile(
        orcid=orcid,
        name=name,
        biography=biography.strip(),
        keywords=list(dict.fromkeys(keywords)),
        country=(country or org_address.get("country") or None),
        city=org_address.get("city") or None,
        affiliation=organisation.get("name") or None,
        title=(current or {}).get("role-title") or None,
        affiliations=list(
            dict.fromkeys(str(employer) for e in employments if (employer := (e.get("organization") or {}).get("name")))
        ),
        works=titles[:WORKS_SHOWN],
        publications_count=len(works_summary) - len(patents),
        patents_count=len(patents),
        links=links,
    )


class OrcidClient:
    """Reads public records over HTTPS; the base URL is a setting so that tests can serve saved records."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    async def record(self, orcid: str) -> OrcidProfile:
        url = f"{self.base_url}/{orcid}/record"
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as http:
                response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise OrcidUnavailableError(
                f"ORCID's public API at {self.base_url} did not answer ({type(error).__name__}); try again later."
            ) from error
        if response.status_code == 404:
            raise OrcidRecordNotFoundError(f"ORCID has no public record for {orcid}.")
        if response.status_code >= 400:
            raise OrcidBadResponseError(f"ORCID answered {response.status_code} for {orcid}.")
        try:
            data = response.json()
        except ValueError as error:
            raise OrcidBadResponseError("ORCID's answer was not JSON.") from error
        if not isinstance(data, dict) or "person" not in data:
            raise OrcidBadResponseError("ORCID's answer is not a public record.")
        return parse_record(orcid, data)
