"""Every model states who may see its rows; the data layer applies what it states."""

from __future__ import annotations

from flowdeck.db.base import Base, RowScope


def test_every_model_declares_its_scope() -> None:
    undeclared = [
        m.class_.__name__ for m in Base.registry.mappers if "__scope__" not in vars(m.class_)
    ]
    assert undeclared == []


def test_declared_scopes_have_the_columns_they_need() -> None:
    for mapper in Base.registry.mappers:
        model, cols = mapper.class_, mapper.class_.__table__.c
        if model.__scope__ is not RowScope.GLOBAL:
            assert "tenant_id" in cols, model.__name__
        if model.__scope__ is RowScope.TENANT_OWNER:
            assert "user_id" in cols, model.__name__
        if model.__soft_delete__:
            assert "deleted_at" in cols, model.__name__
