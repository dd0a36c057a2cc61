"""Open data: a DCAT 3 catalogue (JSON-LD), CSV with CSV on the Web metadata, JSON Lines, and each listing
as schema.org JSON-LD — all built from the public records of `app.integration.public`, so they carry
nothing an anonymous reader of the API could not see, and no personal data.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.config import Settings

DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dct:modified": {"@type": "xsd:dateTime"},
}
CONTINUOUS = "http://publications.europa.eu/resource/authority/frequency/UPDATE_CONT"
DAILY = "http://publications.europa.eu/resource/authority/frequency/DAILY"
MEDIA_TYPES = {
    "csv": "https://www.iana.org/assignments/media-types/text/csv",
    "jsonl": "https://www.iana.org/assignments/media-types/application/jsonl",
    "json": "https://www.iana.org/assignments/media-types/application/json",
    "csvm": "https://www.iana.org/assignments/media-types/application/csvm+json",
}
CSVW_SPEC = "http://www.w3.org/TR/tabular-data-primer/"


@dataclass(frozen=True)
class CsvColumn:
    name: str
    title: str
    datatype: str  # a CSVW datatype: string, integer, decimal, dateTime, date, boolean, anyURI
    value: Callable[[dict[str, Any]], Any]
    required: bool = False
    separator: str | None = None  # for lists: the values joined by this


def _get(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: record.get(key)


def _owner(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: (record.get("organization") or {}).get(key)


def _title_en(record: dict[str, Any]) -> Any:
    return ((record.get("translations") or {}).get("en") or {}).get("title")


_LISTING_COMMON = [
    CsvColumn("id", "id", "string", _get("id"), required=True),
    CsvColumn("reference", "reference", "string", _get("reference"), required=True),
    CsvColumn("title", "title", "string", _get("title"), required=True),
    CsvColumn("title_en", "title (English)", "string", _title_en),
    CsvColumn("summary", "summary", "string", _get("summary"), required=True),
    CsvColumn("language", "language", "string", _get("language"), required=True),
    CsvColumn("field", "field", "string", _get("field"), required=True),
    CsvColumn("concepts", "concepts", "string", _get("concepts"), separator=" "),
    CsvColumn("transfer_types", "transfer types", "string", _get("transfer_types"), separator=" "),
    CsvColumn("country", "country", "string", _get("country"), required=True),
    CsvColumn("province", "province", "string", _get("province")),
    CsvColumn("organization_id", "owner id (empty when anonymous)", "string", _owner("id")),
    CsvColumn("organization_name", "owner (empty when anonymous)", "string", _owner("name")),
    CsvColumn("organization_kind", "owner kind (empty when anonymous)", "string", _owner("kind")),
    CsvColumn("currency", "currency", "string", _get("currency"), required=True),
    CsvColumn("published_at", "published", "dateTime", _get("published_at")),
    CsvColumn("updated_at", "updated", "dateTime", _get("updated_at"), required=True),
    CsvColumn("expires_at", "valid until", "dateTime", _get("expires_at"), required=True),
    CsvColumn("source", "source (empty: this exchange)", "string", _get("source")),
]
CSV_COLUMNS: dict[str, list[CsvColumn]] = {
    "offers": [
        *_LISTING_COMMON,
        CsvColumn("trl", "TRL", "integer", _get("trl"), required=True),
        CsvColumn("ip_status", "IP status", "string", _get("ip_status"), required=True),
        CsvColumn("price_min", "price from", "decimal", _get("price_min")),
        CsvColumn("price_max", "price to", "decimal", _get("price_max")),
        CsvColumn("origin_kind", "origin", "string", _get("origin_kind")),
        CsvColumn("proposed_for_city", "proposed for the city", "boolean", _get("proposed_for_city")),
    ],
    "demands": [
        *_LISTING_COMMON,
        CsvColumn("min_trl", "minimum TRL", "integer", _get("min_trl")),
        CsvColumn("budget_min", "budget from", "decimal", _get("budget_min")),
        CsvColumn("budget_max", "budget to", "decimal", _get("budget_max")),
        CsvColumn("wanted_by", "wanted by", "date", _get("wanted_by")),
        CsvColumn("deployment_province", "deployment province", "string", _get("deployment_province")),
    ],
    "organizations": [
        CsvColumn("id", "id", "string", _get("id"), required=True),
        CsvColumn("name", "name", "string", _get("name"), required=True),
        CsvColumn("kind", "kind", "string", _get("kind"), required=True),
        CsvColumn("country", "country", "string", _get("country"), required=True),
        CsvColumn("province", "province", "string", _get("province")),
        CsvColumn("website", "website", "anyURI", _get("website")),
        CsvColumn("sectors", "sectors", "string", _get("sectors"), separator=" "),
        CsvColumn("services", "services", "string", _get("services"), separator=" "),
        CsvColumn("verified", "verified", "boolean", _get("verified"), required=True),
        CsvColumn("updated_at", "updated", "dateTime", _get("updated_at"), required=True),
    ],
}


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title_vi: str
    title_en: str
    description: str
    keywords: tuple[str, ...]


DATASETS = (
    DatasetInfo(
        "offers",
        "Công nghệ chào bán",
        "Technology offers",
        "Published technology offers: transferable research results, patents, know-how and equipment.",
        ("technology transfer", "technology offer", "chuyển giao công nghệ"),
    ),
    DatasetInfo(
        "demands",
        "Nhu cầu công nghệ",
        "Technology demands",
        "Published technology needs of enterprises.",
        ("technology demand", "nhu cầu công nghệ"),
    ),
    DatasetInfo(
        "organizations",
        "Tổ chức",
        "Organisations",
        "Enterprises, institutes, universities and intermediaries on the exchange (no contact persons).",
        ("organisation", "intermediary", "tổ chức trung gian"),
    ),
)


def _cell(value: Any, column: CsvColumn) -> str:
    if value is None:
        return ""
    if column.separator is not None:
        return column.separator.join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_header(dataset: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([c.name for c in CSV_COLUMNS[dataset]])
    return out.getvalue()


def csv_rows(dataset: str, records: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for record in records:
        writer.writerow([_cell(c.value(record), c) for c in CSV_COLUMNS[dataset]])
    return out.getvalue()


def json_lines(records: Iterable[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)


def csvw_metadata(dataset: str, base: str, settings: Settings) -> dict[str, Any]:
    """CSV on the Web metadata for `{dataset}.csv` (W3C Metadata Vocabulary for Tabular Data)."""
    info = next(d for d in DATASETS if d.name == dataset)
    columns = []
    for column in CSV_COLUMNS[dataset]:
        described: dict[str, Any] = {
            "name": column.name,
            "titles": column.title,
            "datatype": column.datatype,
            "required": column.required,
        }
        if column.separator is not None:
            described["separator"] = column.separator
        columns.append(described)
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "en"}],
        "url": f"{dataset}.csv",
        "dc:title": info.title_en,
        "dc:description": info.description,
        "dc:license": {"@id": settings.open_data_licence},
        "dc:publisher": settings.open_data_publisher,
        "tableSchema": {
            "columns": columns,
            "primaryKey": "id",
            "aboutUrl": f"{base}/api/v1/{dataset}/{{id}}",
        },
    }


def catalog(base: str, settings: Settings, modified: datetime) -> dict[str, Any]:
    """The DCAT 3 catalogue of the exchange's open datasets and their distributions."""
    root = f"{base}/api/v1/open-data"
    publisher = {"@id": f"{base}/#publisher", "@type": "foaf:Agent", "foaf:name": settings.open_data_publisher}
    licence = {"@id": settings.open_data_licence}

    def distribution(url: str, media: str, title: str, conforms_to: str | None = None) -> dict[str, Any]:
        described: dict[str, Any] = {
            "@id": f"{url}#distribution",
            "@type": "dcat:Distribution",
            "dct:title": title,
            "dcat:accessURL": {"@id": url},
            "dcat:downloadURL": {"@id": url},
            "dcat:mediaType": {"@id": MEDIA_TYPES[media]},
            "dct:license": licence,
        }
        if conforms_to:
            described["dct:conformsTo"] = {"@id": conforms_to}
        return described

    datasets = []
    for info in DATASETS:
        csv_url = f"{root}/{info.name}.csv"
        distributions = [
            distribution(csv_url, "csv", f"{info.title_en} (CSV)", f"{csv_url}-metadata.json"),
            distribution(f"{csv_url}-metadata.json", "csvm", f"{info.title_en} (CSVW metadata)", CSVW_SPEC),
            distribution(f"{root}/{info.name}.jsonl", "jsonl", f"{info.title_en} (JSON Lines)"),
            distribution(f"{base}/api/v1/feed/changes", "json", "Change feed (incremental)"),
        ]
        datasets.append(
            _dataset(
                f"{root}/{info.name}",
                info.title_vi,
                info.title_en,
                info.description,
                list(info.keywords),
                publisher,
                licence,
                CONTINUOUS,
                modified,
                distributions,
            )
        )
    statistics = [
        distribution(
            f"{base}/api/v1/stats/indicators?format=csv", "csv", "Market indicators of the current year (CSV)"
        ),
        distribution(f"{base}/api/v1/stats/listings?kind=offer&format=csv", "csv", "Offers by field (CSV)"),
        distribution(f"{base}/api/v1/stats/listings?kind=demand&format=csv", "csv", "Demands by field (CSV)"),
    ]
    datasets.append(
        _dataset(
            f"{root}/statistics",
            "Thống kê thị trường khoa học và công nghệ",
            "Technology market statistics",
            "The programme indicators (transaction growth, IP share, imported technology, institute origin, "
            "intermediaries) and listings by field, computed from recorded deals and listings.",
            ["statistics", "technology market", "thị trường khoa học và công nghệ"],
            publisher,
            licence,
            DAILY,
            modified,
            statistics,
        )
    )
    return {
        "@context": DCAT_CONTEXT,
        "@id": f"{root}/catalog.jsonld",
        "@type": "dcat:Catalog",
        "dct:title": [
            {"@value": f"{settings.open_data_publisher}: dữ liệu mở", "@language": "vi"},
            {"@value": f"{settings.open_data_publisher}: open data", "@language": "en"},
        ],
        "dct:description": "Open data of the technology exchange: offers, demands, organisations and market "
        "statistics. Only what the public listing shows; anonymous listings name no owner; no personal data.",
        "dct:publisher": publisher,
        "dct:license": licence,
        "dct:modified": modified.isoformat(),
        "foaf:homepage": {"@id": f"{base}/"},
        "dcat:dataset": datasets,
    }


def _dataset(
    uri: str,
    title_vi: str,
    title_en: str,
    description: str,
    keywords: list[str],
    publisher: dict[str, Any],
    licence: dict[str, Any],
    frequency: str,
    modified: datetime,
    distributions: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "@id": uri,
        "@type": "dcat:Dataset",
        "dct:title": [{"@value": title_vi, "@language": "vi"}, {"@value": title_en, "@language": "en"}],
        "dct:description": description,
        "dcat:keyword": keywords,
        "dct:publisher": publisher,
        "dct:license": licence,
        "dct:accrualPeriodicity": {"@id": frequency},
        "dct:modified": modified.isoformat(),
        "dcat:distribution": distributions,
    }


def schema_org(record: dict[str, Any], url: str) -> dict[str, Any]:
    """A public listing record as schema.org: an `Offer` or a `Demand` whose `itemOffered` is the technology
    (a `Product` for turnkey equipment, a `Service` otherwise), with the area served and the provider."""
    is_offer = record["kind"] == "offer"
    owner = record.get("organization")
    organization = (
        {
            "@type": "Organization",
            "@id": f"{url.rsplit('/api/v1/', 1)[0]}/api/v1/organizations/{owner['id']}",
            "name": owner["name"],
            "address": {"@type": "PostalAddress", "addressCountry": owner["country"]},
        }
        if owner
        else None
    )
    item: dict[str, Any] = {
        "@type": "Product" if "turnkey_equipment" in record.get("transfer_types", []) else "Service",
        "name": record["title"],
        "description": record["summary"],
        "category": record["field"],
        "keywords": ", ".join(record.get("concepts", [])),
    }
    if is_offer and organization:
        item["provider" if item["@type"] == "Service" else "manufacturer"] = organization
    if is_offer:
        item["additionalProperty"] = [
            {"@type": "PropertyValue", "name": "TRL", "value": record["trl"]},
            {"@type": "PropertyValue", "name": "ip_status", "value": record["ip_status"]},
        ]
    area = record.get("target_countries") or [record["country"]]
    low, high = (
        (record.get("price_min"), record.get("price_max"))
        if is_offer
        else (record.get("budget_min"), record.get("budget_max"))
    )
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Offer" if is_offer else "Demand",
        "@id": url,
        "url": url,
        "identifier": record["reference"],
        "name": record["title"],
        "description": record["summary"],
        "inLanguage": record["language"],
        "itemOffered": item,
        "areaServed": [{"@type": "Country", "name": code} for code in area],
        "validFrom": record.get("published_at"),
        "validThrough": record["expires_at"],
        "businessFunction": "http://purl.org/goodrelations/v1#" + ("LeaseOut" if is_offer else "Buy"),
    }
    if not is_offer and record.get("deployment_province"):
        document["eligibleRegion"] = {"@type": "Place", "name": record["deployment_province"]}
    if low is not None or high is not None:
        document["priceSpecification"] = {
            "@type": "PriceSpecification",
            "priceCurrency": record["currency"],
            **({"minPrice": low} if low is not None else {}),
            **({"maxPrice": high} if high is not None else {}),
        }
    if organization and is_offer:
        document["offeredBy"] = organization
    elif organization:
        document["@reverse"] = {"seeks": organization}
    return document
