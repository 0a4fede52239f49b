"""The price table of a tuning: Lambda compute per GB-second by architecture, Lambda requests, Step Functions state
transitions, per region, each row with its currency, its source and the date it was checked.

First pricing tier, on-demand. A region that is not listed gets the ``default`` row (US East (N. Virginia) prices,
which most commercial regions share). The China regions are priced in CNY: the tuning's output says which currency
its costs are in. A run's input can override any price (``prices``), in the region's currency.
"""

from __future__ import annotations

from dataclasses import dataclass

LAMBDA_PRICING = "https://aws.amazon.com/lambda/pricing/"
CHINA_PRICING = "https://www.amazonaws.cn/en/lambda/pricing/"
REFERENCE_TEMPLATE = "aws-lambda-power-tuning 4.4.0 template.yml (baseCosts, sfCosts)"
CHECKED = "2026-12-07"
REFERENCE_DATE = "2025-11-19"


@dataclass(frozen=True)
class RegionPrices:
    """One region's prices. ``confirmed`` is false where the sources of its GB-second prices disagree or only an
    estimate exists: the tuning's output then says so, and the input's ``prices`` should override the row."""

    x86_64: float
    """Lambda compute, per GB-second, x86_64."""
    arm64: float
    """Lambda compute, per GB-second, arm64."""
    request: float
    """Lambda, per request."""
    state_transition: float
    """Step Functions Standard, per state transition."""
    currency: str
    source: str
    checked: str
    confirmed: bool = True

    def gb_second(self) -> dict[str, float]:
        return {"x86_64": self.x86_64, "arm64": self.arm64}


def _usd(
    x86_64: float,
    arm64: float,
    *,
    request: float = 0.0000002,
    state_transition: float = 0.000025,
    source: str,
    checked: str = CHECKED,
    confirmed: bool = True,
) -> RegionPrices:
    return RegionPrices(x86_64, arm64, request, state_transition, "USD", source, checked, confirmed)


_CROSS_CHECKED = (
    f"GB-second: {LAMBDA_PRICING} regional table, the same figures in a second public price table; request: this "
    f"library's earlier table; state transitions: {REFERENCE_TEMPLATE}"
)
_TRANSITIONS_ONLY = f"Lambda: {LAMBDA_PRICING} (default row); state transitions: {REFERENCE_TEMPLATE}"

PRICE_TABLE: dict[str, RegionPrices] = {
    "default": _usd(
        0.0000166667,
        0.0000133334,
        source=f"{LAMBDA_PRICING} (US East (N. Virginia)); https://aws.amazon.com/step-functions/pricing/",
    ),
    "af-south-1": _usd(0.0000221, 0.0000176800, request=0.00000028, state_transition=0.00002975, source=_CROSS_CHECKED),
    "ap-east-1": _usd(
        0.00002292,
        0.00001834,
        request=0.00000028,
        state_transition=0.0000275,
        source=f"{_CROSS_CHECKED} (which has arm64 0.0000183: unconfirmed)",
        confirmed=False,
    ),
    "eu-south-1": _usd(0.0000195172, 0.0000156138, state_transition=0.00002625, source=_CROSS_CHECKED),
    "me-south-1": _usd(0.0000206667, 0.0000165334, state_transition=0.0000275, source=_CROSS_CHECKED),
    "me-central-1": _usd(0.0000206667, 0.0000165334, source=_CROSS_CHECKED),
    "ap-northeast-3": _usd(
        0.0000200000,
        0.0000160000,
        source=f"{LAMBDA_PRICING} regional table; {REFERENCE_TEMPLATE} has x86_64 2.7e-9 per 128 MB-ms "
        "(0.0000216 per GB-second): unconfirmed",
        confirmed=False,
    ),
    "us-west-1": _usd(0.0000166667, 0.0000133334, state_transition=0.0000279, source=_TRANSITIONS_ONLY),
    "eu-west-3": _usd(0.0000166667, 0.0000133334, state_transition=0.0000297, source=_TRANSITIONS_ONLY),
    "ap-northeast-2": _usd(0.0000166667, 0.0000133334, state_transition=0.0000271, source=_TRANSITIONS_ONLY),
    "ap-south-1": _usd(0.0000166667, 0.0000133334, state_transition=0.0000285, source=_TRANSITIONS_ONLY),
    "sa-east-1": _usd(0.0000166667, 0.0000133334, state_transition=0.0000375, source=_TRANSITIONS_ONLY),
    "us-gov-west-1": _usd(0.0000166667, 0.0000133334, state_transition=0.00003, source=_TRANSITIONS_ONLY),
    "us-gov-east-1": _usd(0.0000166667, 0.0000133334, state_transition=0.00003, source=_TRANSITIONS_ONLY),
}
# The China regions (Beijing, operated by Sinnet; Ningxia, operated by NWCD) bill in CNY. The reference prices x86_64
# at 1.42e-8 CNY per 128 MB-ms (0.0001136 per GB-second) and a transition at 0.0001891 CNY; it has no arm64 price
# there (it falls back to its USD default). arm64 below is x86_64 x 0.8, the ratio of every other row: an estimate.
for _china in ("cn-north-1", "cn-northwest-1"):
    PRICE_TABLE[_china] = RegionPrices(
        x86_64=0.0001136,
        arm64=0.0001136 * 0.8,
        request=0.00000136,
        state_transition=0.0001891,
        currency="CNY",
        source=f"{CHINA_PRICING}; {REFERENCE_TEMPLATE}; arm64 estimated as x86_64 x 0.8",
        checked=REFERENCE_DATE,
        confirmed=False,
    )


def region_prices(region: str) -> RegionPrices:
    """The row of ``region``, or the default row."""
    return PRICE_TABLE.get(region, PRICE_TABLE["default"])


def currency(region: str) -> str:
    return region_prices(region).currency


__all__ = ["PRICE_TABLE", "RegionPrices", "currency", "region_prices"]
