"""Demo experts: scientists and consultants in Vietnam and abroad (overseas Vietnamese in Japan, Korea,
Germany, the USA and Australia), listed by the demo organisations with the person's consent recorded,
with mixed visibility, a few stale profiles, and some consultation requests with their outcomes."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.experts.service import expert_inferred_concepts
from app.models import ConsultationRequest, Expert, Organization
from app.search import outbox
from app.seed_queries import organizations_of_kind

# concepts, headline (vi), bio (in the expert's working language), keywords, offers, highest TRL
TOPICS: list[tuple[list[str], str, str, list[str], list[str], int]] = [
    (
        ["wastewater-treatment", "biological-treatment"],
        "Cải tạo hệ thống xử lý nước thải công nghiệp, khử nitơ",
        "Thiết kế và cải tạo trạm xử lý nước thải chế biến thủy sản, dệt nhuộm; khử amoni và tổng nitơ.",
        ["nước thải", "khử nitơ", "bùn hoạt tính"],
        ["assessment", "consulting"],
        8,
    ),
    (
        ["membrane-filtration", "wastewater-treatment"],
        "Bể sinh học màng MBR cho nước thải",
        "Membrane bioreactors for food and seafood effluent; fouling control and retrofits.",
        ["MBR", "membrane fouling"],
        ["consulting", "joint_research"],
        7,
    ),
    (
        ["drinking-water", "arsenic-removal", "filter-media"],
        "Nước sạch nông thôn: khử asen, sắt, mangan",
        "Vật liệu lọc và trạm cấp nước sạch quy mô xã cho vùng nhiễm asen.",
        ["nước sinh hoạt", "asen", "vật liệu lọc"],
        ["assessment", "training"],
        7,
    ),
    (
        ["desalination"],
        "Khử mặn nước cho đảo và vùng ven biển",
        "Reverse-osmosis desalination for islands; energy recovery and maintenance.",
        ["reverse osmosis", "brackish water"],
        ["consulting", "assessment"],
        8,
    ),
    (
        ["solid-waste", "composting"],
        "Xử lý chất thải rắn sinh hoạt và ủ phân compost",
        "Phân loại tại nguồn, ủ compost quy mô huyện, kiểm soát mùi.",
        ["rác thải", "compost"],
        ["consulting"],
        7,
    ),
    (
        ["plastic-recycling"],
        "Tái chế nhựa và kinh tế tuần hoàn",
        "Mechanical recycling of PET and polyolefins; quality of recycled pellets.",
        ["recycled PET", "circular economy"],
        ["assessment", "valuation"],
        8,
    ),
    (
        ["solar-pv", "grid-tied-solar"],
        "Điện mặt trời mái nhà nối lưới",
        "Thiết kế, đánh giá hiệu suất và suy giảm tấm pin điện mặt trời trong khí hậu ven biển.",
        ["điện mặt trời", "inverter"],
        ["assessment", "training"],
        9,
    ),
    (
        ["biogas", "waste-to-energy"],
        "Khí sinh học từ chất thải chăn nuôi và chế biến",
        "Anaerobic digesters for livestock and agro-industrial residues; biogas upgrading.",
        ["anaerobic digestion"],
        ["consulting", "joint_research"],
        8,
    ),
    (
        ["energy-efficiency", "heat-recovery"],
        "Kiểm toán năng lượng và thu hồi nhiệt thải",
        "Energy audits of factories, boilers and kilns; waste-heat recovery.",
        ["energy audit", "boiler"],
        ["assessment", "consulting"],
        9,
    ),
    (
        ["hydrogen", "energy-storage"],
        "Lưu trữ năng lượng và hydro xanh",
        "Battery storage and green hydrogen for grids and industry.",
        ["battery storage", "electrolyser"],
        ["joint_research", "mentoring"],
        6,
    ),
    (
        ["plc-scada", "production-line"],
        "Tự động hóa dây chuyền sản xuất, PLC/SCADA",
        "Tự động hóa dây chuyền đóng gói và chế biến; tích hợp PLC, SCADA.",
        ["PLC", "SCADA"],
        ["consulting", "training"],
        9,
    ),
    (
        ["machine-vision", "artificial-intelligence"],
        "Thị giác máy và AI kiểm tra chất lượng",
        "Machine vision for defect inspection on production lines; deep learning.",
        ["defect detection"],
        ["joint_research", "consulting"],
        7,
    ),
    (
        ["sensors-iot", "aquaculture-monitoring"],
        "Cảm biến IoT giám sát ao nuôi",
        "Cảm biến oxy hòa tan, pH, nhiệt độ cho ao tôm; cảnh báo qua điện thoại.",
        ["IoT", "ao tôm"],
        ["consulting", "training"],
        7,
    ),
    (
        ["industrial-robots", "cnc"],
        "Robot công nghiệp và gia công CNC",
        "Industrial robot cells and CNC machining for supporting industries.",
        ["robot cell", "CNC"],
        ["consulting", "assessment"],
        8,
    ),
    (
        ["anticorrosion", "paints-coatings"],
        "Sơn chống ăn mòn và chống hà cho tàu biển",
        "海洋環境での防食塗装と船底防汚塗料の評価。",
        ["防食", "防汚塗料", "塗膜"],
        ["assessment", "training"],
        8,
    ),
    (
        ["nanomaterials", "adsorbent-materials"],
        "Vật liệu nano hấp phụ kim loại nặng",
        "Vật liệu nano mangan oxit, than hoạt tính biến tính hấp phụ asen, chì.",
        ["vật liệu nano", "hấp phụ"],
        ["joint_research", "assessment"],
        6,
    ),
    (
        ["composites", "bioplastics"],
        "Vật liệu composite và nhựa sinh học",
        "Natural-fibre composites and bioplastics for packaging.",
        ["composite", "PLA"],
        ["joint_research"],
        6,
    ),
    (
        ["artificial-intelligence", "big-data"],
        "AI và phân tích dữ liệu cho doanh nghiệp",
        "Applied machine learning and data platforms for manufacturing and logistics.",
        ["machine learning"],
        ["consulting", "mentoring"],
        7,
    ),
    (
        ["digital-transformation", "erp"],
        "Chuyển đổi số và ERP cho doanh nghiệp vừa và nhỏ",
        "Lộ trình chuyển đổi số, triển khai ERP cho doanh nghiệp sản xuất.",
        ["chuyển đổi số", "ERP"],
        ["consulting", "training"],
        9,
    ),
    (
        ["traceability", "blockchain"],
        "Truy xuất nguồn gốc nông sản, thủy sản",
        "Traceability systems for seafood and farm exports; QR and blockchain.",
        ["traceability", "QR"],
        ["consulting"],
        8,
    ),
    (
        ["recirculating-aquaculture", "aquaculture"],
        "Hệ thống nuôi tuần hoàn RAS",
        "Recirculating aquaculture systems, biofilters and biosecurity for hatcheries.",
        ["RAS", "biofilter"],
        ["consulting", "joint_research"],
        7,
    ),
    (
        ["shrimp-disease", "aquaculture"],
        "Phòng bệnh tôm và quản lý ao nuôi",
        "Phòng bệnh hoại tử gan tụy (EMS), đốm trắng; men vi sinh và biofloc.",
        ["bệnh tôm", "biofloc"],
        ["consulting", "training", "assessment"],
        8,
    ),
    (
        ["seafood-preservation", "cold-storage"],
        "Bảo quản lạnh thủy sản",
        "水産物の凍結・解凍と鮮度保持、コールドチェーン。",
        ["凍結", "鮮度保持"],
        ["consulting", "training"],
        8,
    ),
    (
        ["shipbuilding", "marine-engineering"],
        "Đóng mới và sửa chữa tàu",
        "Quy trình đóng mới, sửa chữa vỏ tàu và hàn kết cấu thép.",
        ["đóng tàu", "hàn"],
        ["assessment", "training"],
        9,
    ),
    (
        ["logistics", "port-operations"],
        "Logistics cảng biển",
        "Port operations, container terminal planning and logistics costs.",
        ["container terminal"],
        ["consulting", "mentoring"],
        9,
    ),
    (
        ["post-harvest", "drying-technology", "rice-production"],
        "Sấy và bảo quản lúa sau thu hoạch",
        "Máy sấy lúa, lò đốt trấu, bảo quản lúa quy mô hợp tác xã.",
        ["sấy lúa", "trấu"],
        ["consulting", "assessment"],
        8,
    ),
    (
        ["food-processing", "food-safety"],
        "Chế biến và an toàn thực phẩm",
        "HACCP, ISO 22000 and process design for food plants.",
        ["HACCP", "ISO 22000"],
        ["assessment", "training"],
        9,
    ),
    (
        ["medicinal-plant-processing", "medicinal-extracts"],
        "Chiết xuất dược liệu",
        "Quy trình chiết xuất, tiêu chuẩn hóa cao dược liệu.",
        ["dược liệu", "chiết xuất"],
        ["joint_research", "valuation"],
        6,
    ),
    (
        ["mushroom-cultivation", "liquid-spawn"],
        "Nuôi trồng nấm ăn và nấm dược liệu",
        "Giống nấm dạng lỏng, quy trình nuôi trồng nấm quy mô trang trại.",
        ["nấm", "giống nấm"],
        ["training", "consulting"],
        8,
    ),
    (
        ["medical-devices", "diagnostics"],
        "Thiết bị y tế và chẩn đoán",
        "Design and regulatory pathway of medical devices and diagnostics.",
        ["ISO 13485", "medical device"],
        ["assessment", "mentoring"],
        7,
    ),
    (
        ["technology-valuation", "ip-management"],
        "Định giá công nghệ và quản trị sở hữu trí tuệ",
        "Định giá công nghệ, tài sản trí tuệ cho chuyển giao và góp vốn.",
        ["định giá", "sở hữu trí tuệ"],
        ["valuation", "consulting"],
        9,
    ),
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Quang", "Ngọc", "Đức", "Hữu", "Thu", "Hoài"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hạnh",
    "Hùng",
    "Khánh",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trung",
    "Tuấn",
    "Vy",
    "Yến",
]
TITLES = ["TS.", "PGS.TS.", "GS.TS.", "ThS.", "KS.", "Dr.", "Prof. Dr."]
# Overseas Vietnamese: country, city, affiliation (free text), working languages.
ABROAD = [
    ("JP", "Fukuoka", "Kyushu University", ["vi", "ja", "en"]),
    ("JP", "Tokyo", "Tokyo University of Marine Science and Technology", ["vi", "ja", "en"]),
    ("JP", "Osaka", "Osaka Metropolitan University", ["vi", "ja"]),
    ("KR", "Seoul", "KAIST", ["vi", "ko", "en"]),
    ("KR", "Busan", "Pukyong National University", ["vi", "ko", "en"]),
    ("DE", "Aachen", "RWTH Aachen University", ["vi", "de", "en"]),
    ("DE", "Berlin", "Technische Universität Berlin", ["vi", "de", "en"]),
    ("US", "Houston", "University of Houston", ["vi", "en"]),
    ("US", "San Jose", "Silicon Valley engineering firm", ["vi", "en"]),
    ("AU", "Hobart", "University of Tasmania", ["vi", "en"]),
    ("AU", "Melbourne", "RMIT University", ["vi", "en"]),
]
EXPERTS = 64
OVERSEAS_EVERY = 3  # every third expert lives abroad: 21 of 64
VISIBILITY_CHOICES: list[dict[str, str]] = [
    {},
    {"city": "public", "availability": "public"},
    {"fee_basis": "private", "patents_count": "members"},
    {"bio": "members", "keywords": "members"},
    {"orcid": "private", "affiliation": "members"},
]
OUTCOMES = ["advice_given", "engaged", "no_fit", None]


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _orcid(rng: random.Random) -> str:
    from app.experts.orcid import check_digit

    base = "0000000" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    digits = base + check_digit(base)
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


async def load_experts(session: AsyncSession, rng: random.Random, now: Any) -> int:
    """The demo organisations that employ or gather experts (institutes, universities, intermediaries) list them."""
    hosts = [
        o for kind in ("institute", "university", "intermediary") for o in await organizations_of_kind(session, kind)
    ]
    experts: list[Expert] = []
    for number in range(EXPERTS):
        concepts, headline, bio, keywords, offers, trl = TOPICS[number % len(TOPICS)]
        host = hosts[number % len(hosts)]
        abroad = ABROAD[(number // OVERSEAS_EVERY) % len(ABROAD)] if number % OVERSEAS_EVERY == 0 else None
        confirmed = now - timedelta(days=rng.choice([5, 40, 120, 200, 300, 345, 420, 500]))
        expert = Expert(
            organization_id=host.id,
            listed_by="organization",
            consent={
                "given_at": (confirmed - timedelta(days=3)).isoformat(),
                "method": rng.choice(["phiếu đồng ý đã ký", "email xác nhận", "signed consent form"]),
            },
            name=_name(rng),
            title=rng.choice(TITLES),
            affiliation=abroad[2] if abroad else host.name,
            affiliation_organization_id=None if abroad else host.id,
            country=abroad[0] if abroad else "VN",
            city=abroad[1] if abroad else (host.province or "Hải Phòng"),
            overseas_vietnamese=abroad is not None,
            languages=list(abroad[3]) if abroad else rng.choice([["vi"], ["vi", "en"], ["vi", "en", "ja"]]),
            headline=headline,
            bio=bio,
            concepts=list(concepts),
            keywords=list(keywords),
            industry_years=rng.randint(0, 25),
            highest_trl=max(3, trl - rng.randint(0, 3)),
            publications_count=rng.randint(0, 120),
            patents_count=rng.choice([0, 0, 0, 1, 2, 3, 5]),
            orcid=_orcid(rng) if rng.random() < 0.6 else None,
            offers=list(offers),
            availability=rng.choice(["available", "available", "limited", "unavailable"]),
            fee_basis=rng.choice(["pro_bono", "paid", "negotiable"]),
            contact={"email": f"expert{number + 1:02d}@experts.example.vn"},
            visibility=dict(VISIBILITY_CHOICES[number % len(VISIBILITY_CHOICES)]),
            last_confirmed_at=confirmed,
            created_at=confirmed,
            updated_at=confirmed,
        )
        expert.inferred_concepts = expert_inferred_concepts(expert)
        session.add(expert)
        experts.append(expert)
    await session.flush()
    for expert in experts:
        outbox.expert_changed(session, expert.id)
    await _consultations(session, rng, experts, hosts, now)
    return len(experts)


async def _consultations(
    session: AsyncSession, rng: random.Random, experts: list[Expert], askers: list[Organization], now: Any
) -> None:
    for expert in rng.sample(experts, 18):
        asker = rng.choice([o for o in askers if o.id != expert.organization_id])
        asked = now - timedelta(days=rng.randint(1, 150))
        status = rng.choice(["pending", "accepted", "accepted", "declined"])
        outcome = rng.choice(OUTCOMES) if status == "accepted" else None
        session.add(
            ConsultationRequest(
                expert_id=expert.id,
                expert_organization_id=expert.organization_id,
                requester_organization_id=asker.id,
                message="Xin ý kiến chuyên gia về phương án công nghệ cho nhà máy.",
                status=status,
                decline_reason="Ngoài chuyên môn" if status == "declined" else None,
                responded_at=None if status == "pending" else asked + timedelta(days=2),
                outcome=outcome,
                outcome_at=asked + timedelta(days=20) if outcome else None,
                created_at=asked,
                updated_at=asked,
            )
        )
    await session.flush()
