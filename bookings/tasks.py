"""Celery entry points for bookings: each loads rows by id and calls one service."""

from __future__ import annotations
