#!/usr/bin/env python3
"""Regenerate a region's price table from AWS's public bulk price-list files.

    python3 scripts/price-table.py --region us-east-1 --offers DIR \\
        --out src/fargo/cost/prices/us-east-1.json
    python3 scripts/price-table.py --region eu-west-1 --download \\
        --out src/fargo/cost/prices/eu-west-1.json [--allow-missing]

The Price List Bulk API publishes one JSON offer file per service and region (listed by
https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/index.json), at
`/offers/v1.0/aws/<OfferCode>/current/<region>/index.json`, or `.../current/index.json` for the
services priced globally (CloudFront, Route 53). Each holds `formatVersion`, `offerCode`,
`version`, `publicationDate`, `products` (sku -> productFamily, attributes) and
`terms.OnDemand` (sku -> offer term -> priceDimensions, each with unit, pricePerUnit.USD,
beginRange and endRange).

`--download` fetches them with urllib; `--offers DIR` reads `DIR/<OfferCode>.json` instead
(files downloaded elsewhere; the EC2 file of a large region runs to gigabytes). The mapping from
each table key to the SKU that prices it is scripts/price_map.py: a key must match exactly one
SKU (two are an error naming both), and its price is the first paid tier (a free allowance is the
estimator's business, not a rate), scaled to the table's unit.

The table written is the format of src/fargo/cost/prices/ (region, currency, as_of, and per key
unit, price or price_low/price_high, source, as_of, description); each price's source is the
offer file's URL and its as_of the file's publication date. Entries the offer files do not
give (Fargate Spot ranges and the other keys price_map.HAND_KEPT names, keys no longer found, keys
the mapping does not know) are carried over from the existing table (--existing, by default the
--out file) with their own source and date, and listed on stderr. A key with no price at all
fails the run (exit 1, nothing written) unless --allow-missing: a new region's table starts
without the hand-kept entries, which are then added by hand, never copied from another region.

Exit codes: 0 written, 1 failed (no network, an ambiguous or missing price), 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from price_map import (
    HAND_KEPT,
    RATES,
    REGION_PREFIXES,
    Rate,
    hand_kept_reason,
    offer_url,
    usage_types,
)

CURRENCY = "USD"
ENTRY_FIELDS = ("unit", "source", "as_of", "description")


class ScriptError(Exception):
    """A failure the script reports as one message and an exit code."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Offer:
    """One offer file, as read."""

    code: str
    url: str
    as_of: str  # the publication date, YYYY-MM-DD
    products: Mapping[str, Any]
    on_demand: Mapping[str, Any]


@dataclass(frozen=True)
class Found:
    """A key's price, taken from one SKU of one offer."""

    rate: Rate
    offer: Offer
    sku: str
    price: Decimal


class NotPricedError(Exception):
    """No SKU in the offers prices a key (the reason says what was looked at)."""


def load_offer(path: Path, code: str, url: str) -> Offer:
    """Read an offer file and check it has the documented structure."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ScriptError(f"{path}: not a readable JSON offer file ({error})", 2) from error
    problems = [
        f"no {name}"
        for name in ("formatVersion", "offerCode", "publicationDate", "products", "terms")
        if name not in data
    ]
    if not problems and data["offerCode"] != code:
        problems.append(f"offerCode is {data['offerCode']!r}, not {code!r}")
    if not problems and not isinstance(data["terms"].get("OnDemand"), dict):
        problems.append("no terms.OnDemand")
    if problems:
        raise ScriptError(f"{path}: not a price-list offer file: {'; '.join(problems)}", 2)
    return Offer(
        code=code,
        url=url,
        as_of=str(data["publicationDate"])[:10],
        products=data["products"],
        on_demand=data["terms"]["OnDemand"],
    )


def check_region(offer: Offer, path: Path, region: str) -> None:
    """Refuse a regional file that holds another region's prices."""
    codes = {
        str(product.get("attributes", {}).get("regionCode"))
        for product in offer.products.values()
        if "regionCode" in product.get("attributes", {})
    }
    if codes and region not in codes:
        raise ScriptError(
            f"{path} holds prices for {', '.join(sorted(codes))}, not {region}: "
            f"download {offer.url}",
            2,
        )


def matches(product: Mapping[str, Any], rate: Rate, region: str) -> bool:
    """Whether a product is the one `rate` describes, in `region`."""
    attributes: Mapping[str, str] = product.get("attributes", {})
    if rate.family is not None and product.get("productFamily") != rate.family:
        return False
    if not rate.global_offer and attributes.get("regionCode", region) != region:
        return False
    names = usage_types(rate, region)
    if names and attributes.get("usagetype") not in names:
        return False
    return all(attributes.get(name) == value for name, value in rate.attributes.items())


def first_paid_tier(offer: Offer, sku: str) -> tuple[str, Decimal] | None:
    """The unit and USD price of a SKU's lowest paid on-demand tier (None when it has none)."""
    tiers: list[tuple[Decimal, str, Decimal]] = []
    for term in offer.on_demand.get(sku, {}).values():
        for dimension in term.get("priceDimensions", {}).values():
            try:
                price = Decimal(dimension["pricePerUnit"][CURRENCY])
                begin = Decimal(dimension.get("beginRange", "0"))
            except (KeyError, InvalidOperation) as error:
                raise ScriptError(
                    f"{offer.url}: SKU {sku} has a price dimension without a USD price "
                    f"or range ({error})",
                    2,
                ) from error
            if price > 0:  # $0 dimensions are free allowances or reservation-applied lines
                tiers.append((begin, str(dimension.get("unit", "")), price))
    if not tiers:
        return None
    lowest = min(begin for begin, _, _ in tiers)
    firsts = [(unit, price) for begin, unit, price in tiers if begin == lowest]
    if len(set(firsts)) > 1:
        raise ScriptError(
            f"{offer.url}: SKU {sku} has {len(firsts)} on-demand prices from {lowest}: "
            f"{', '.join(f'{price} per {unit}' for unit, price in firsts)}"
        )
    return firsts[0]


def unit_fits(unit: str, rate: Rate) -> bool:
    return unit.casefold() in {name.casefold() for name in rate.offer_units}


def find(rate: Rate, offers: Mapping[str, Offer], region: str) -> Found:
    """The one SKU that prices `rate`; NotPricedError when there is none, ScriptError when two."""
    reasons = []
    for code in rate.offers:
        offer = offers.get(code)
        if offer is None:
            reasons.append(f"no {code} offer file")
            continue
        priced = [
            (sku, tier)
            for sku, product in offer.products.items()
            if matches(product, rate, region) and (tier := first_paid_tier(offer, sku)) is not None
        ]
        fitting = [(sku, tier) for sku, tier in priced if unit_fits(tier[0], rate)]
        if len(fitting) > 1:
            raise ScriptError(
                f"{rate.key}: {len(fitting)} SKUs of {code} match "
                f"({', '.join(sku for sku, _ in fitting)}); "
                "narrow the selector in scripts/price_map.py"
            )
        if fitting:
            sku, (_, price) = fitting[0]
            return Found(rate, offer, sku, price * rate.per)
        if priced:
            units = ", ".join(sorted({tier[0] for _, tier in priced}))
            reasons.append(
                f"{code}: SKU {', '.join(sku for sku, _ in priced)} priced per {units}, "
                f"expected {' or '.join(sorted(rate.offer_units))}"
            )
        else:
            reasons.append(f"{code}: no SKU matches")
    raise NotPricedError("; ".join(reasons))


def entry(found: Found) -> dict[str, Any]:
    return {
        "unit": found.rate.unit,
        "price": float(found.price),
        "source": found.offer.url,
        "as_of": found.offer.as_of,
        "description": f"{found.rate.description} (price list SKU {found.sku})",
        "confirmed": True,  # read from AWS's price list
    }


@dataclass
class Result:
    """The table built, and what the report on stderr says about it."""

    table: dict[str, Any]
    priced: list[str]
    hand_kept: list[tuple[str, str]]
    carried: list[tuple[str, str]]
    unmapped: list[str]
    missing: list[tuple[str, str]]
    hand_absent: list[str] = field(default_factory=list)  # HAND_KEPT prefixes with no entry


def build(
    region: str,
    offers: Mapping[str, Offer],
    existing: Mapping[str, Any] | None,
    rates: Iterable[Rate] = RATES,
) -> Result:
    """The new table: fresh prices where the offers have them, the rest carried over."""
    old: Mapping[str, Any] = (existing or {}).get("prices", {})
    fresh: dict[str, dict[str, Any]] = {}
    result = Result({}, [], [], [], [], [])
    mapped: set[str] = set()
    for rate in rates:
        mapped.add(rate.key)
        try:
            found = find(rate, offers, region)
        except NotPricedError as miss:
            if rate.key in old:
                result.carried.append((rate.key, str(miss)))
            else:
                result.missing.append((rate.key, str(miss)))
            continue
        fresh[rate.key] = entry(found)
        result.priced.append(rate.key)
    prices: dict[str, Any] = {}
    for key, value in old.items():  # the existing order first, so a diff shows changes only
        if key in fresh:
            prices[key] = fresh.pop(key)
            continue
        prices[key] = value
        reason = hand_kept_reason(key)
        if reason is not None:
            result.hand_kept.append((key, reason))
        elif key not in mapped:
            result.unmapped.append(key)
    prices.update(fresh)
    result.hand_absent = [
        prefix for prefix, _ in HAND_KEPT if not any(key.startswith(prefix) for key in prices)
    ]
    dates = [entry["as_of"] for key, entry in prices.items() if key in result.priced]
    result.table = {
        "region": region,
        "currency": CURRENCY,
        "as_of": max(dates) if dates else (existing or {}).get("as_of", ""),
        "prices": prices,
    }
    return result


def format_problems(table: Mapping[str, Any]) -> list[str]:
    """What keeps `table` from being a price table (empty when it is one)."""
    problems = [
        f"no {name}" for name in ("region", "currency", "as_of", "prices") if not table.get(name)
    ]
    for key, value in dict(table.get("prices", {})).items():
        absent = [name for name in ENTRY_FIELDS if not value.get(name)]
        has_price = isinstance(value.get("price"), int | float)
        has_range = all(
            isinstance(value.get(name), int | float) for name in ("price_low", "price_high")
        )
        if absent:
            problems.append(f"{key}: no {', '.join(absent)}")
        if has_price == has_range:
            problems.append(f"{key}: needs either price or price_low and price_high")
        if not isinstance(value.get("confirmed", True), bool):
            problems.append(f"{key}: confirmed must be true or false")
    return problems


def report(result: Result, existing_path: Path) -> None:
    """Say on stderr what did not come from the offer files."""
    print(f"priced from the offer files: {len(result.priced)} keys", file=sys.stderr)
    for key, reason in result.hand_kept:
        print(f"kept by hand from {existing_path}: {key} ({reason})", file=sys.stderr)
    for key, reason in result.carried:
        old = result.table["prices"][key]
        print(
            f"not in the offer files, carried over from {existing_path} "
            f"(as of {old.get('as_of')}): {key} ({reason})",
            file=sys.stderr,
        )
    for key in result.unmapped:
        print(
            f"not in scripts/price_map.py, carried over from {existing_path}: {key}",
            file=sys.stderr,
        )
    for key, reason in result.missing:
        print(f"no price for {key}, and none in {existing_path}: {reason}", file=sys.stderr)
    for prefix in result.hand_absent:
        print(
            f"no {prefix}* entries: they are kept by hand; add them to the table", file=sys.stderr
        )


def needed_offers(region: str) -> dict[str, str]:
    """Each offer code the mapping reads, with its file's URL for `region`."""
    urls: dict[str, str] = {}
    for rate in RATES:
        for code in rate.offers:
            urls.setdefault(code, offer_url(code, region, global_offer=rate.global_offer))
    return urls


def download(urls: Mapping[str, str], into: Path) -> None:
    """Fetch each offer file to `into/<OfferCode>.json`, skipping offers not published."""
    for code, url in urls.items():
        print(f"downloading {url}", file=sys.stderr)
        try:
            with (
                urllib.request.urlopen(url, timeout=120) as response,  # noqa: S310 (https only)
                (into / f"{code}.json").open("wb") as out,
            ):
                shutil.copyfileobj(response, out)
        except urllib.error.HTTPError as error:
            if error.code in {403, 404}:  # not published for this region
                print(f"  {code}: {error.code}, not published here", file=sys.stderr)
                continue
            raise ScriptError(f"could not download {url}: HTTP {error.code}") from error
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ScriptError(
                f"could not download {url}: {reason}. Without network access here, download "
                "the offer files elsewhere and pass --offers DIR (DIR/<OfferCode>.json, e.g. "
                f"DIR/{code}.json from that URL)"
            ) from error


def read_offers(directory: Path, region: str) -> dict[str, Offer]:
    """The offer files in `directory` that the mapping reads (absent ones are left out)."""
    if not directory.is_dir():
        raise ScriptError(f"--offers {directory}: no such directory", 2)
    global_codes = {code for rate in RATES if rate.global_offer for code in rate.offers}
    offers = {}
    for code, url in needed_offers(region).items():
        path = directory / f"{code}.json"
        if not path.exists():
            continue
        offer = load_offer(path, code, url)
        if code not in global_codes:
            check_region(offer, path, region)
        offers[code] = offer
    return offers


def read_existing(path: Path, region: str) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        table: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ScriptError(f"{path}: not a readable price table ({error})", 2) from error
    if table.get("region") != region:
        raise ScriptError(
            f"{path} is the table for {table.get('region')!r}, not {region}: prices are never "
            "carried from another region",
            2,
        )
    return table


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--region", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--offers", type=Path, metavar="DIR", help="read DIR/<OfferCode>.json")
    source.add_argument("--download", action="store_true", help="fetch the offer files")
    parser.add_argument("--out", type=Path, required=True, help="the table to write")
    parser.add_argument(
        "--existing", type=Path, help="the table to carry entries over from (default: --out)"
    )
    parser.add_argument(
        "--allow-missing", action="store_true", help="write the table even if keys lack a price"
    )
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
    if args.region not in REGION_PREFIXES:
        raise ScriptError(
            f"no usage-type prefix known for region {args.region!r}; the regions known are "
            f"{', '.join(REGION_PREFIXES)} (add it to REGION_PREFIXES in scripts/price_map.py)",
            2,
        )
    existing_path: Path = args.existing or args.out
    existing = read_existing(existing_path, args.region)
    if args.download:
        with tempfile.TemporaryDirectory(prefix="price-list-") as tmp:
            download(needed_offers(args.region), Path(tmp))
            offers = read_offers(Path(tmp), args.region)
    else:
        offers = read_offers(args.offers, args.region)
    result = build(args.region, offers, existing)
    report(result, existing_path)
    problems = format_problems(result.table)
    if result.missing and not args.allow_missing:
        raise ScriptError(
            f"{len(result.missing)} keys have no price; nothing written "
            "(--allow-missing writes the table without them)"
        )
    if problems and not (args.allow_missing and problems == ["no prices"]):
        raise ScriptError(f"the table built is not in the price-table format: {problems}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result.table, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(result.table['prices'])} prices)", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    try:
        run(parse_args(argv))
    except ScriptError as error:
        print(f"price-table: {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
