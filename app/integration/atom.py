"""An Atom feed (RFC 4287) of newly published listings, for people and their feed readers."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

from app.models import Listing, Organization
from app.models.base import utcnow

ATOM = "http://www.w3.org/2005/Atom"


def listings_atom(base_url: str, title: str, rows: list[tuple[Listing, Organization, str]]) -> bytes:
    """`rows`: listing, owner and the owner's public name ("" when the listing is anonymous)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{base_url}/api/v1/feed/listings.atom"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = title
    updated: datetime = max((listing.published_at or listing.updated_at for listing, _, _ in rows), default=utcnow())
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated.isoformat()
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base_url}/api/v1/feed/listings.atom")
    for listing, _owner, owner_name in rows:
        path = "offers" if listing.kind == "offer" else "demands"
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"urn:uuid:{listing.id}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = listing.title
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = listing.updated_at.isoformat()
        if listing.published_at is not None:
            ET.SubElement(entry, f"{{{ATOM}}}published").text = listing.published_at.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=f"{base_url}/api/v1/{path}/{listing.id}")
        ET.SubElement(entry, f"{{{ATOM}}}category", term=listing.kind)
        ET.SubElement(entry, f"{{{ATOM}}}category", term=listing.field)
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = owner_name or "Anonymous"
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = listing.summary
    content: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return content
