"""Cursor pagination: ``{"next", "previous", "results"}``, no ``count(*)`` on big tables."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PlacedAtCursorPagination(IdCursorPagination):
    """Orders, newest placed first (API.md)."""

    ordering = ("-placed_at", "-id")
