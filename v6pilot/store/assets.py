"""The inventory in the database: regions, organisations, projects and assets, written from
inventory rows (an empty cell leaves the stored value alone) and read back with filters."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from v6pilot.inventory.model import (
    CityLevel,
    Direction,
    Industry,
    InventoryRow,
)
from v6pilot.store.errors import StoreError
from v6pilot.store.models import Asset, Organisation, Project, Region


@dataclass(frozen=True)
class AssetFilter:
    """Which assets to select; every field given must match, None matches anything."""

    organisation: str | None = None
    industry: Industry | None = None
    city: str | None = None
    province: str | None = None
    project: str | None = None
    direction: Direction | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AssetFilter:
        """A filter from its JSON form (enum values in English or Chinese)."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise StoreError(f"unknown asset filter fields: {', '.join(sorted(unknown))}")
        try:
            return cls(
                organisation=data.get("organisation"),
                industry=Industry.parse(data["industry"]) if data.get("industry") else None,
                city=data.get("city"),
                province=data.get("province"),
                project=data.get("project"),
                direction=Direction.parse(data["direction"]) if data.get("direction") else None,
            )
        except ValueError as exc:
            raise StoreError(f"asset filter: {exc}") from exc

    def to_dict(self) -> dict[str, str]:
        """The JSON form: only the fields given."""
        return {name: str(value) for name, value in asdict(self).items() if value is not None}


def upsert_region(
    session: Session, province: str, city: str | None, city_level: CityLevel | None
) -> Region:
    """The region (province, city), created if new; `city_level` updated when given."""
    region = session.scalar(select(Region).where(Region.province == province, Region.city == city))
    if region is None:
        region = Region(province=province, city=city)
        session.add(region)
    if city_level is not None:
        region.city_level = city_level
    return region


def upsert_organisation(session: Session, row: InventoryRow) -> Organisation:
    """The row's organisation, created if new, with the type, industry and region it states."""
    organisation = session.scalar(select(Organisation).where(Organisation.name == row.organisation))
    if organisation is None:
        organisation = Organisation(name=row.organisation)
        session.add(organisation)
    if row.organisation_type is not None:
        organisation.type = row.organisation_type
    if row.industry is not None:
        organisation.industry = row.industry
    if row.province is not None:
        current = organisation.region
        keeps_city = row.city is None and current is not None and current.province == row.province
        if not keeps_city:
            organisation.region = upsert_region(session, row.province, row.city, row.city_level)
    return organisation


def upsert_project(session: Session, title: str, direction: Direction | None) -> Project:
    """The project `title`, created if new; `direction` updated when given."""
    project = session.scalar(select(Project).where(Project.title == title))
    if project is None:
        project = Project(title=title)
        session.add(project)
    if direction is not None:
        project.direction = direction
    return project


def upsert_inventory_row(session: Session, row: InventoryRow) -> Asset:
    """Write one inventory row: its asset, organisation, region and project membership.

    Memberships only grow: a row adds its project to the asset and its organisation to the
    project's participants, never removes earlier ones. The asset is flushed (its id known).
    """
    organisation = upsert_organisation(session, row)
    asset = session.scalar(select(Asset).where(Asset.target == row.target))
    if asset is None:
        asset = Asset(target=row.target, kind=row.kind)
        session.add(asset)
    asset.kind = row.kind
    asset.organisation = organisation
    if row.project is not None:
        project = upsert_project(session, row.project, row.direction)
        if project not in asset.projects:
            asset.projects.append(project)
        if organisation not in project.participants:
            project.participants.append(organisation)
    session.flush()
    return asset


def _filtered(where: AssetFilter) -> Select[Asset]:
    query = (
        select(Asset)
        .outerjoin(Asset.organisation)
        .outerjoin(Organisation.region)
        .options(
            contains_eager(Asset.organisation).contains_eager(Organisation.region),
            selectinload(Asset.projects),
        )
        .order_by(Asset.id)
    )
    if where.organisation is not None:
        query = query.where(Organisation.name == where.organisation)
    if where.industry is not None:
        query = query.where(Organisation.industry == where.industry)
    if where.city is not None:
        query = query.where(Region.city == where.city)
    if where.province is not None:
        query = query.where(Region.province == where.province)
    if where.project is not None:
        query = query.where(Asset.projects.any(Project.title == where.project))
    if where.direction is not None:
        query = query.where(Asset.projects.any(Project.direction == where.direction))
    return query


def list_assets(session: Session, where: AssetFilter | None = None) -> Sequence[Asset]:
    """The assets matching `where`, in the order they were added, with their organisation,
    region and projects loaded."""
    return session.scalars(_filtered(where or AssetFilter())).all()


def asset_by_target(session: Session, target: str) -> Asset | None:
    """The asset whose normalised target is `target`."""
    return session.scalar(select(Asset).where(Asset.target == target))


def inventory_rows(session: Session, where: AssetFilter | None = None) -> Iterator[InventoryRow]:
    """The inventory as rows: one per asset and project, an asset without projects once."""
    for asset in list_assets(session, where):
        organisation = asset.organisation
        region = organisation.region if organisation else None
        base = InventoryRow(
            target=asset.target,
            kind=asset.kind,
            organisation=organisation.name if organisation else "",
            organisation_type=organisation.type if organisation else None,
            industry=organisation.industry if organisation else None,
            province=region.province if region else None,
            city=region.city if region else None,
            city_level=region.city_level if region else None,
        )
        if not asset.projects:
            yield base
        for project in asset.projects:
            yield replace(base, project=project.title, direction=project.direction)
