"""The database schema as typed ORM classes: the inventory (regions, organisations, projects,
assets), scan runs with their results, goals and schedules. Migrations must match it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from v6pilot.inventory.model import AssetKind, CityLevel, Direction, Industry, OrganisationType

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
NAME_LENGTH = 200
TARGET_LENGTH = 300


class RunStatus(StrEnum):
    """Where a scan run stands; a run left `running` by a crash stays so until finished."""

    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


def labelled(enum: type[StrEnum]) -> Enum:
    """A portable enum column: the member's value in a VARCHAR, no native type, no CHECK."""
    return Enum(
        enum,
        native_enum=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores it without the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone-aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """The declarative base; its naming convention gives every constraint a stable name."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


project_participants = Table(
    "project_participants",
    Base.metadata,
    Column("project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "organisation_id",
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

asset_projects = Table(
    "asset_projects",
    Base.metadata,
    Column("asset_id", ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "project_id", ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Region(Base):
    """A city of a province, or the province itself when `city` is None."""

    __tablename__ = "regions"
    __table_args__ = (
        UniqueConstraint("province", "city"),
        Index(
            "uq_regions_province_only",
            "province",
            unique=True,
            sqlite_where=text("city IS NULL"),
            postgresql_where=text("city IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    province: Mapped[str] = mapped_column(String(64))
    city: Mapped[str | None] = mapped_column(String(64))
    city_level: Mapped[CityLevel | None] = mapped_column(labelled(CityLevel))

    organisations: Mapped[list[Organisation]] = relationship(back_populates="region")


class Organisation(Base):
    """A unit owning assets: enterprise, university, agency..., in one industry and region."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    type: Mapped[OrganisationType | None] = mapped_column(labelled(OrganisationType))
    industry: Mapped[Industry | None] = mapped_column(labelled(Industry))
    region_id: Mapped[int | None] = mapped_column(
        ForeignKey("regions.id", ondelete="SET NULL"), index=True
    )

    region: Mapped[Region | None] = relationship(back_populates="organisations")
    assets: Mapped[list[Asset]] = relationship(back_populates="organisation")
    projects: Mapped[list[Project]] = relationship(
        secondary=project_participants, back_populates="participants"
    )


class Project(Base):
    """A pilot project in one direction, led by one organisation, with participants."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    direction: Mapped[Direction | None] = mapped_column(labelled(Direction))
    lead_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )

    lead_organisation: Mapped[Organisation | None] = relationship()
    participants: Mapped[list[Organisation]] = relationship(
        secondary=project_participants, back_populates="projects"
    )
    assets: Mapped[list[Asset]] = relationship(secondary=asset_projects, back_populates="projects")


class Asset(Base):
    """Something to scan: a website, a domain or a service endpoint, by normalised target."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH), unique=True)
    kind: Mapped[AssetKind] = mapped_column(labelled(AssetKind))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )

    organisation: Mapped[Organisation | None] = relationship(back_populates="assets")
    projects: Mapped[list[Project]] = relationship(
        secondary=asset_projects, back_populates="assets", order_by="Project.id"
    )


class ScanRun(Base):
    """One scan of many targets: when, with which profile, options and rubric, and its state."""

    __tablename__ = "scan_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    profile: Mapped[str] = mapped_column(String(32))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    rubric: Mapped[str] = mapped_column(String(100))
    status: Mapped[RunStatus] = mapped_column(labelled(RunStatus))
    note: Mapped[str | None] = mapped_column(Text)

    results: Mapped[list[ScanResult]] = relationship(
        back_populates="run", cascade="all, delete-orphan", passive_deletes=True
    )


class ScanResult(Base):
    """One target's contract line in a run; `asset_id` is None for ad-hoc targets."""

    __tablename__ = "scan_results"
    __table_args__ = (UniqueConstraint("run_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scan_runs.id", ondelete="CASCADE"))
    asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL"), index=True
    )
    target: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    url: Mapped[str] = mapped_column(Text)
    grade: Mapped[str | None] = mapped_column(String(32))
    score: Mapped[float | None] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)

    run: Mapped[ScanRun] = relationship(back_populates="results")
    asset: Mapped[Asset | None] = relationship()


class RunTarget(Base):
    """One target a run planned to scan, in plan order, so an interrupted run can be resumed:
    its remaining targets are those without a result (matched by URL)."""

    __tablename__ = "run_targets"
    __table_args__ = (UniqueConstraint("run_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scan_runs.id", ondelete="CASCADE"))
    raw: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    host: Mapped[str] = mapped_column(String(TARGET_LENGTH))
    url: Mapped[str] = mapped_column(Text)
    asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("assets.id", ondelete="SET NULL"), index=True
    )


class Target(Base):
    """A goal: at `level`, group `group_name` must reach `threshold` of `indicator` by
    `deadline` (e.g. industry education, share_reach_v6 >= 0.95 by 2023-12-31)."""

    __tablename__ = "targets"
    __table_args__ = (UniqueConstraint("level", "group_name", "indicator", "deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    level: Mapped[str] = mapped_column(String(32))
    group_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    indicator: Mapped[str] = mapped_column(String(100))
    threshold: Mapped[float] = mapped_column(Float)
    deadline: Mapped[date] = mapped_column(Date)


class Schedule(Base):
    """A recurring scan of the inventory assets matching a filter, on a cron expression."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    cron: Mapped[str] = mapped_column(String(100))
    inventory_filter: Mapped[dict[str, Any]] = mapped_column(JSON)
    profile: Mapped[str] = mapped_column(String(32))
    last_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("scan_runs.id", ondelete="SET NULL"), index=True
    )

    last_run: Mapped[ScanRun | None] = relationship()
