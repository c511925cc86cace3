"""Signed inbound webhooks: helpdesks push ticket events; unmappable ones wait in a dead letter."""

from enum import StrEnum


class HookCapture(StrEnum):
    """What a `resolved` event with a solution does besides upserting the ticket."""

    none = "none"
    draft = "draft"
