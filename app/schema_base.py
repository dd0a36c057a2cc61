"""The base of every request body: a field the API does not know is an error, not silently dropped.

A client that sends `problem` for `problem_statement` must hear so (422 naming
the field) rather than get 201 with nothing stored.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
