"""The initial schema: inventory, scan runs and results, goals and schedules.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ENUM = sa.String(length=32)
"""Enum columns hold the member's value: no native type, no CHECK, so members can be added."""


def upgrade() -> None:
    op.create_table(
        "regions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("province", sa.String(length=64), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("city_level", ENUM, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regions")),
        sa.UniqueConstraint("province", "city", name=op.f("uq_regions_province_city")),
    )
    op.create_index(
        "uq_regions_province_only",
        "regions",
        ["province"],
        unique=True,
        sqlite_where=sa.text("city IS NULL"),
        postgresql_where=sa.text("city IS NULL"),
    )
    op.create_table(
        "organisations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("type", ENUM, nullable=True),
        sa.Column("industry", ENUM, nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["regions.id"],
            name=op.f("fk_organisations_region_id_regions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint("name", name=op.f("uq_organisations_name")),
    )
    op.create_index(op.f("ix_organisations_region_id"), "organisations", ["region_id"])
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("direction", ENUM, nullable=True),
        sa.Column("lead_organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_projects_lead_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("title", name=op.f("uq_projects_title")),
    )
    op.create_index(op.f("ix_projects_lead_organisation_id"), "projects", ["lead_organisation_id"])
    op.create_table(
        "project_participants",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_project_participants_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_project_participants_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "project_id", "organisation_id", name=op.f("pk_project_participants")
        ),
    )
    op.create_index(
        op.f("ix_project_participants_organisation_id"),
        "project_participants",
        ["organisation_id"],
    )
    op.create_table(
        "assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("kind", ENUM, nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_assets_organisation_id_organisations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assets")),
        sa.UniqueConstraint("target", name=op.f("uq_assets_target")),
    )
    op.create_index(op.f("ix_assets_organisation_id"), "assets", ["organisation_id"])
    op.create_table(
        "asset_projects",
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_asset_projects_asset_id_assets"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_asset_projects_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("asset_id", "project_id", name=op.f("pk_asset_projects")),
    )
    op.create_index(op.f("ix_asset_projects_project_id"), "asset_projects", ["project_id"])
    op.create_table(
        "scan_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("rubric", sa.String(length=100), nullable=False),
        sa.Column("status", ENUM, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_runs")),
    )
    op.create_index(op.f("ix_scan_runs_started_at"), "scan_runs", ["started_at"])
    op.create_table(
        "scan_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
            name=op.f("fk_scan_results_asset_id_assets"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["scan_runs.id"],
            name=op.f("fk_scan_results_run_id_scan_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_results")),
        sa.UniqueConstraint("run_id", "target", name=op.f("uq_scan_results_run_id_target")),
    )
    op.create_index(op.f("ix_scan_results_asset_id"), "scan_results", ["asset_id"])
    op.create_table(
        "targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("group_name", sa.String(length=200), nullable=False),
        sa.Column("indicator", sa.String(length=100), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targets")),
        sa.UniqueConstraint(
            "level",
            "group_name",
            "indicator",
            "deadline",
            name=op.f("uq_targets_level_group_name_indicator_deadline"),
        ),
    )
    op.create_table(
        "schedules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("cron", sa.String(length=100), nullable=False),
        sa.Column("inventory_filter", sa.JSON(), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["last_run_id"],
            ["scan_runs.id"],
            name=op.f("fk_schedules_last_run_id_scan_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedules")),
        sa.UniqueConstraint("name", name=op.f("uq_schedules_name")),
    )
    op.create_index(op.f("ix_schedules_last_run_id"), "schedules", ["last_run_id"])


def downgrade() -> None:
    for table in (
        "schedules",
        "targets",
        "scan_results",
        "scan_runs",
        "asset_projects",
        "assets",
        "project_participants",
        "projects",
        "organisations",
        "regions",
    ):
        op.drop_table(table)
