"""Emulator of the VMware NSX-T manager: Manager API (NSGroups, firewall sections) and Policy API."""

from .api import NsxtProduct

__all__ = ["NsxtProduct"]
