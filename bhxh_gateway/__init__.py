"""Adapter for the Vietnam Social Security (BHXH) gateway's BHYT card check.

``BhxhGateway(config.insurance)`` implements ``kiosk.insurance.card_check.InsuranceGateway``
over ``requests``; ``insurance.gateway = "simulator"`` points the same adapter
at ``sandbox_bhxh``. Nothing outside the composition root should import this
package: the rest of the kiosk uses the port and types of ``kiosk.insurance.card_check``.
"""
from __future__ import annotations

from bhxh_gateway.gateway import BhxhGateway

__all__ = ["BhxhGateway"]
