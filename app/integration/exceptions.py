"""Refusals of the import endpoints."""

from __future__ import annotations

from app.errors import AppError


class ImportNotFoundError(AppError):
    """No import with this id."""

    status = 404
    code = "ImportNotFound"
    title = "Import not found"


class ImportErrorFileNotFoundError(AppError):
    """The import rejected no row, so there is no error file."""

    status = 404
    code = "ImportErrorFileNotFound"
    title = "No rejected rows"


class ImportAlreadyCommittedError(AppError):
    """The import was committed already; upload the file again to import it again."""

    status = 409
    code = "ImportAlreadyCommitted"
    title = "Import already committed"


class UnreadableImportFileError(AppError):
    """The upload is neither an XLSX workbook nor a UTF-8 CSV table with a header row."""

    status = 422
    code = "UnreadableImportFile"
    title = "The file cannot be read as XLSX or CSV"


class ImportTooLargeError(AppError):
    """The file holds more rows than one import takes (MAX_IMPORT_ROWS)."""

    status = 422
    code = "ImportTooLarge"
    title = "Too many rows"


class InvalidMappingError(AppError):
    """`mapping` is not a JSON object of header → field (or null)."""

    status = 422
    code = "InvalidImportMapping"
    title = "Invalid column mapping"
