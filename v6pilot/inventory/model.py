"""The inventory's vocabulary: what units, industries, city levels, pilot directions and asset
kinds exist, each with its Chinese label, and one inventory row as imported or exported."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Self


class LabelledEnum(StrEnum):
    """An enum whose members carry a Chinese label and can be parsed from either language."""

    @property
    def zh(self) -> str:
        return ZH_LABELS[self]

    @classmethod
    def parse(cls, text: str) -> Self:
        """The member named `text` in English (value) or Chinese (label); ValueError otherwise."""
        key = text.strip()
        for member in cls:
            if key.lower() == member.value or key == ZH_LABELS[member]:
                return member
        choices = ", ".join(f"{m.value} ({ZH_LABELS[m]})" for m in cls)
        raise ValueError(f"{text!r} is not one of: {choices}")


class OrganisationType(LabelledEnum):
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    PUBLIC_INSTITUTION = "public_institution"
    RESEARCH_INSTITUTE = "research_institute"
    RESEARCH_ORGANISATION = "research_organisation"
    GOVERNMENT_AGENCY = "government_agency"
    OTHER = "other"


class Industry(LabelledEnum):
    GOVERNMENT = "government"
    EDUCATION = "education"
    FINANCE = "finance"
    BROADCASTING = "broadcasting"
    WATER_RESOURCES = "water_resources"
    HEALTHCARE = "healthcare"
    ENERGY = "energy"
    TRANSPORT = "transport"
    TELECOM = "telecom"
    MEDIA = "media"
    COMMERCE = "commerce"
    MANUFACTURING = "manufacturing"
    OTHER = "other"


class CityLevel(LabelledEnum):
    MUNICIPALITY = "municipality"
    MUNICIPAL_DISTRICT = "municipal_district"
    SEPARATELY_PLANNED = "separately_planned"
    SUB_PROVINCIAL = "sub_provincial"
    PROVINCIAL_CAPITAL = "provincial_capital"
    PREFECTURE = "prefecture"
    AUTONOMOUS_PREFECTURE = "autonomous_prefecture"
    LEAGUE = "league"


class Direction(LabelledEnum):
    """The pilot programme's directions: eight for projects, the ninth for pilot cities."""

    TECH_INNOVATION = "tech_innovation"
    IPV6_ONLY = "ipv6_only"
    IPV6_5G = "ipv6_5g"
    IOT = "iot"
    INDUSTRIAL_INTERNET = "industrial_internet"
    SMART_HOME = "smart_home"
    SECURITY = "security"
    KEY_INDUSTRIES = "key_industries"
    PILOT_CITY = "pilot_city"


class AssetKind(LabelledEnum):
    WEBSITE = "website"
    DOMAIN = "domain"
    ENDPOINT = "endpoint"
    """A service endpoint `host:port/protocol` of an app or IoT platform."""


ZH_LABELS: dict[StrEnum, str] = {
    OrganisationType.ENTERPRISE: "企业",
    OrganisationType.UNIVERSITY: "高校",
    OrganisationType.PUBLIC_INSTITUTION: "事业单位",
    OrganisationType.RESEARCH_INSTITUTE: "科研院所",
    OrganisationType.RESEARCH_ORGANISATION: "研究机构",
    OrganisationType.GOVERNMENT_AGENCY: "政府机关",
    OrganisationType.OTHER: "其他",
    Industry.GOVERNMENT: "政府",
    Industry.EDUCATION: "教育",
    Industry.FINANCE: "金融",
    Industry.BROADCASTING: "广电",
    Industry.WATER_RESOURCES: "水利",
    Industry.HEALTHCARE: "医疗卫生",
    Industry.ENERGY: "能源",
    Industry.TRANSPORT: "交通",
    Industry.TELECOM: "电信",
    Industry.MEDIA: "新闻媒体",
    Industry.COMMERCE: "商业",
    Industry.MANUFACTURING: "制造业",
    Industry.OTHER: "其他",
    CityLevel.MUNICIPALITY: "直辖市",
    CityLevel.MUNICIPAL_DISTRICT: "直辖市区",
    CityLevel.SEPARATELY_PLANNED: "计划单列市",
    CityLevel.SUB_PROVINCIAL: "副省级城市",
    CityLevel.PROVINCIAL_CAPITAL: "省会城市",
    CityLevel.PREFECTURE: "地级市",
    CityLevel.AUTONOMOUS_PREFECTURE: "自治州",
    CityLevel.LEAGUE: "盟",
    Direction.TECH_INNOVATION: "IPv6技术创新和产业",
    Direction.IPV6_ONLY: "IPv6单栈部署",
    Direction.IPV6_5G: "IPv6与5G",
    Direction.IOT: "物联网",
    Direction.INDUSTRIAL_INTERNET: "工业互联网",
    Direction.SMART_HOME: "智慧家庭",
    Direction.SECURITY: "IPv6网络安全",
    Direction.KEY_INDUSTRIES: "重点行业",
    Direction.PILOT_CITY: "综合试点城市",
    AssetKind.WEBSITE: "网站",
    AssetKind.DOMAIN: "域名",
    AssetKind.ENDPOINT: "服务端点",
}

COLUMNS: dict[str, str] = {
    "target": "目标",
    "kind": "类型",
    "organisation": "单位",
    "organisation_type": "单位类型",
    "industry": "行业",
    "province": "省份",
    "city": "城市",
    "city_level": "城市级别",
    "project": "项目",
    "direction": "方向",
}
"""Inventory file columns: English header -> Chinese header (either is accepted on import)."""


@dataclass(frozen=True)
class InventoryRow:
    """One asset as it appears in an inventory file, validated."""

    target: str
    kind: AssetKind
    organisation: str
    organisation_type: OrganisationType | None = None
    industry: Industry | None = None
    province: str | None = None
    city: str | None = None
    city_level: CityLevel | None = None
    project: str | None = None
    direction: Direction | None = None
