"""The fast model constructor used on hot read paths."""

from __future__ import annotations

import dataclasses

import pytest

from modulacms.core.models import ContentStatus, Datatype, TrashEntry, from_values


def test_from_values_equals_the_regular_constructor() -> None:
    values = ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "page", "Page", "", None, "t1", "t2")
    assert from_values(Datatype, values) == Datatype(*values)


def test_from_values_objects_stay_frozen() -> None:
    entry = from_values(TrashEntry, ("a", "b", None, "d", 3, "t"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.node_count = 4  # type: ignore[misc]
    assert dataclasses.replace(entry, node_count=5).node_count == 5


def test_from_values_refuses_the_wrong_number_of_values() -> None:
    with pytest.raises(ValueError, match="Datatype takes 7 values"):
        from_values(Datatype, ("only", "two"))
    assert ContentStatus.DRAFT.value == "draft"
