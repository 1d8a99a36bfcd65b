"""Value types and schemas shared by requests and answers, checked at the edge.

A number the database cannot hold (a 33-bit id, a 65-bit offset) is a 422 naming the
parameter, not a driver error deep in a query; a boolean is `true` or `false`, never `0`
(request bodies use pydantic's `StrictBool`, query parameters `QueryBool`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from annotated_types import Interval
from fastapi import Query
from pydantic import BeforeValidator, Field, StrictBool

from flowdeck.schemas.base import Schema

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
MAX_PAGE_SIZE = 1000

# An integer id: id columns are 32-bit INTEGER on PostgreSQL.
Id = Annotated[int, Interval(ge=-INT32_MAX - 1, le=INT32_MAX)]
# Offsets, limits, counts and cursors: SQL's LIMIT and OFFSET take 64-bit values.
Count = Annotated[int, Interval(ge=0, le=INT64_MAX)]
# A page number: (page - 1) * size stays a 64-bit offset for any page size allowed.
PageNumber = Annotated[int, Interval(ge=1, le=INT64_MAX // MAX_PAGE_SIZE)]

_WORDS = {"true": True, "false": False}


def _query_bool(value: Any) -> Any:
    # A query string has no types: `true` / `false` (any case, so Python's `True` works)
    # are booleans; every other word is refused rather than guessed at.
    if isinstance(value, str):
        word = value.strip().lower()
        if word not in _WORDS:
            raise ValueError("must be true or false")
        return _WORDS[word]
    return value


QueryBool = Annotated[StrictBool, BeforeValidator(_query_bool)]
# On Langflow's event streams: add flowdeck's own events (state, waiting, log) to Langflow's.
FlowdeckEvents = Annotated[
    QueryBool,
    Query(description="Also stream flowdeck's own events: state, waiting and log"),
]

SortOrder = Literal["asc", "desc"]


class IntIds(Schema):
    ids: list[Id] = Field(min_length=1)


class StrIds(Schema):
    ids: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(min_length=1)


class DeletedCount(Schema):
    deleted_count: int


class Candidates(Schema):
    """Users who could be given a role or a membership, a page of them."""

    total_count: int
    users: list[CandidateUser]


class CandidateUser(Schema):
    uid: int
    username: str
    nickname: str | None = None


class GroupCandidate(Schema):
    group_id: int
    group_name: str


class OrgCandidate(Schema):
    org_id: int
    org_name: str
    org_level: int


class GroupCandidates(Schema):
    """User groups that could be given a role, a page of them (`users`: the seed's name)."""

    total_count: int
    users: list[GroupCandidate]


class OrgCandidates(Schema):
    """Orgs that could be given a role, a page of them (`users`: the seed's name)."""

    total_count: int
    users: list[OrgCandidate]


Candidates.model_rebuild()
