"""BoundedDictField (apps.accounts.api_base): a DictField that counts its entries before it
validates any of them."""

import pytest
from rest_framework import serializers

from apps.accounts.api_base import BoundedDictField


class CountingField(serializers.IntegerField):
    def __init__(self, seen: list, **kwargs):
        super().__init__(**kwargs)
        self.seen = seen

    def to_internal_value(self, data):
        self.seen.append(data)
        return super().to_internal_value(data)


def field(seen: list, **kwargs) -> BoundedDictField:
    return BoundedDictField(child=CountingField(seen), max_length=3, **kwargs)


def test_takes_up_to_max_length_entries_validated_by_the_child():
    seen: list = []

    assert field(seen).run_validation({"a": 1, "b": "2", "c": 3}) == {"a": 1, "b": 2, "c": 3}
    assert seen == [1, "2", 3]


def test_refuses_more_entries_without_validating_any():
    seen: list = []

    with pytest.raises(serializers.ValidationError) as refused:
        field(seen).run_validation({str(n): "not a number" for n in range(10_000)})

    assert refused.value.detail == ["At most 3 entries."]
    assert seen == []


def test_the_refusal_is_the_given_message_with_the_maximum_filled_in():
    class Body(serializers.Serializer):
        tags = field([], message="At most {max_length} tags.")

    body = Body(data={"tags": {"a": 1, "b": 2, "c": 3, "d": 4}})

    assert not body.is_valid()
    assert body.errors == {"tags": ["At most 3 tags."]}


def test_what_is_not_an_object_is_refused_as_by_dict_field():
    with pytest.raises(serializers.ValidationError) as refused:
        field([]).run_validation(["a", "b", "c", "d"])

    assert refused.value.detail == ['Expected a dictionary of items but got type "list".']
