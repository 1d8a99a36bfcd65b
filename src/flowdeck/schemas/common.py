"""Schemas every resource shares: sort order, id lists, counts of removed rows."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

SortOrder = Literal["asc", "desc"]
# Ids that reach the database: within a signed 64-bit integer.
DbInt = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


class IntIds(BaseModel):
    ids: list[DbInt] = Field(min_length=1)


class StrIds(BaseModel):
    ids: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(min_length=1)


class DeletedCount(BaseModel):
    deleted_count: int


class Candidates(BaseModel):
    """Users who could be given a role or a membership, a page of them."""

    total_count: int
    users: list[CandidateUser]


class CandidateUser(BaseModel):
    uid: int
    username: str
    nickname: str | None = None


Candidates.model_rebuild()
