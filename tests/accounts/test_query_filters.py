"""api_base.query_filters: a view's query parameters as its serializer validates them, the
serializer's own answer for none kept once per class."""

from __future__ import annotations

import pytest
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from apps.accounts.api_base import query_filters


class Filters(serializers.Serializer):
    region = serializers.CharField(max_length=4, required=False, default="any")
    limit = serializers.IntegerField(min_value=1, max_value=50, default=20)
    cursor = serializers.CharField(required=False)


def request(query: str = "") -> Request:
    return Request(APIRequestFactory().get(f"/x{query}"))


def test_without_parameters_it_is_what_the_serializer_makes_of_none():
    expected = Filters(data={})
    assert expected.is_valid()

    assert query_filters(Filters, request()) == dict(expected.validated_data)
    assert query_filters(Filters, request()) == {"region": "any", "limit": 20}


def test_a_caller_changing_its_answer_changes_no_later_answer():
    first = query_filters(Filters, request())
    first["region"] = "eu"
    first["extra"] = 1

    assert query_filters(Filters, request()) == {"region": "any", "limit": 20}


def test_given_parameters_are_validated_by_the_serializer():
    assert query_filters(Filters, request("?region=eu&limit=5&cursor=abc")) == {
        "region": "eu",
        "limit": 5,
        "cursor": "abc",
    }
    with pytest.raises(ValidationError) as refused:
        query_filters(Filters, request("?limit=500"))
    assert "limit" in refused.value.detail
