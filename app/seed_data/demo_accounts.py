"""Demo accounts for every role and kind of organisation, and a matchmaking event open for booking.

Development only (`techex seed --demo` refuses to run in production): the passwords are published
in the README so that a frontend developer can sign in as each kind of user at once. Accounts join
organisations of the demo catalogue (found by name), so each sees data of its own. Idempotent:
existing accounts and the event are left alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import repository as account_repository
from app.accounts.permissions import Role
from app.accounts.service import account_service
from app.events.schemas import EventKind, EventStatus, ParticipantRole, RequestMode, RequestStatus
from app.models import Event, EventParticipant, EventSession, MeetingRequest
from app.models.base import utcnow
from app.organizations import repository as organization_repository
from app.organizations.schemas import OrganizationCreate, OrganizationKind
from app.seed_queries import event_by_name, listing_ids_of

DEMO_PASSWORD = "techex-demo-2026"  # noqa: S105 - published on purpose: development data only
DEMO_DOMAIN = "demo.techex.vn"
EVENT_NAME = "Kết nối cung – cầu công nghệ Hải Phòng 2026"
TIMEZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: Role
    organization: str
    kind: OrganizationKind
    country: str = "VN"


DEMO_ACCOUNTS = (
    DemoAccount(
        f"institute@{DEMO_DOMAIN}",
        "Nguyễn Văn An",
        Role.MEMBER,
        "Phòng thí nghiệm Sinh học phân tử, Viện Nghiên cứu Hải sản",
        OrganizationKind.INSTITUTE,
    ),
    DemoAccount(
        f"university@{DEMO_DOMAIN}",
        "Trần Thị Bình",
        Role.MEMBER,
        "Khoa Môi trường, Trường Đại học Hàng hải Việt Nam",
        OrganizationKind.UNIVERSITY,
    ),
    DemoAccount(
        f"enterprise@{DEMO_DOMAIN}",
        "Phạm Quốc Cường",
        Role.MEMBER,
        "Công ty Cổ phần Chế biến Hải sản Đồ Sơn",
        OrganizationKind.ENTERPRISE,
    ),
    DemoAccount(
        f"supplier-jp@{DEMO_DOMAIN}",
        "山田 太郎",
        Role.MEMBER,
        "北九州エコウォーター株式会社",
        OrganizationKind.ENTERPRISE,
        "JP",
    ),
    DemoAccount(
        f"broker@{DEMO_DOMAIN}",
        "Lê Minh Đức",
        Role.BROKER,
        "Trung tâm Thông tin và Chuyển giao công nghệ Hải Phòng",
        OrganizationKind.INTERMEDIARY,
    ),
    DemoAccount(
        f"moderator@{DEMO_DOMAIN}",
        "Lê Thu Hà",
        Role.MODERATOR,
        "Sở Khoa học và Công nghệ Hải Phòng",
        OrganizationKind.GOVERNMENT,
    ),
    DemoAccount(
        f"admin@{DEMO_DOMAIN}",
        "Hoàng Gia Huy",
        Role.ADMIN,
        "Sở Khoa học và Công nghệ Hải Phòng",
        OrganizationKind.GOVERNMENT,
    ),
)

# Participants of the demo event besides the demo accounts' organisations: (name, country, role).
OTHER_PARTICIPANTS = (
    ("Khoa Điện – Điện tử, Trường Đại học Hàng hải Việt Nam", "VN", ParticipantRole.SUPPLIER),
    ("Công ty TNHH Thủy sản Cát Hải", "VN", ParticipantRole.SEEKER),
    ("Công ty TNHH Dệt may Hải Phòng", "VN", ParticipantRole.SEEKER),
)
# (requester, recipient, status) by index into the event's participants, in the order they register.
REQUESTS = (
    (2, 0, RequestStatus.ACCEPTED),  # the demo enterprise asks the demo institute
    (2, 3, RequestStatus.PENDING),  # … and the Japanese supplier, who has yet to answer
    (0, 5, RequestStatus.ACCEPTED),
    (1, 2, RequestStatus.PENDING),  # the university offers the demo enterprise a meeting
    (4, 6, RequestStatus.ACCEPTED),
    (3, 5, RequestStatus.DECLINED),
)


async def load_accounts(session: AsyncSession) -> int:
    """Create the demo accounts that do not exist yet; returns how many were created."""
    created = 0
    for demo in DEMO_ACCOUNTS:
        if await account_repository.get_by_email(session, demo.email) is not None:
            continue
        await account_service.create_account(
            session,
            email=demo.email,
            password=DEMO_PASSWORD,
            full_name=demo.full_name,
            role=demo.role,
            organization=OrganizationCreate(name=demo.organization, kind=demo.kind, country=demo.country),
        )
        created += 1
    return created


def _local(day: datetime, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day.date(), time(hour, minute), tzinfo=ZoneInfo(TIMEZONE))


async def load_event(session: AsyncSession) -> int:
    """A matchmaking event open for booking, with participants, requests and a session not yet scheduled."""
    if await event_by_name(session, EVENT_NAME) is not None:
        return 0
    now = utcnow()
    organizer = await _organization(session, DEMO_ACCOUNTS[4])
    day = now + timedelta(days=14)
    event = Event(
        id=uuid.uuid4(),
        name=EVENT_NAME,
        name_translations={
            "en": "Hai Phong technology supply–demand matchmaking 2026",
            "ja": "ハイフォン技術マッチング商談会 2026",
        },
        kind=EventKind.MATCHMAKING.value,
        organizer_organization_id=organizer,
        co_organizer_ids=[str(await _organization(session, DEMO_ACCOUNTS[5]))],
        theme="Công nghệ môi trường, thủy sản và năng lượng mới",
        description="Gặp gỡ một-một giữa viện, trường, doanh nghiệp Việt Nam và nhà cung cấp Nhật Bản.",
        venue="Trung tâm Hội nghị thành phố Hải Phòng",
        timezone=TIMEZONE,
        starts_at=_local(day, 8, 30),
        registration_opens_at=now - timedelta(days=21),
        registration_closes_at=now - timedelta(days=2),
        booking_opens_at=now - timedelta(days=2),
        booking_closes_at=now + timedelta(days=10),
        status=EventStatus.BOOKING_OPEN.value,
        request_mode=RequestMode.OPT_IN.value,
        meeting_rules=[[ParticipantRole.SUPPLIER.value, ParticipantRole.SEEKER.value]],
        request_expiry_hours=72,
        fairness=2,
    )
    session.add(event)
    session.add(
        EventSession(
            event_id=event.id,
            name="Phiên sáng",
            starts_at=_local(day, 8, 30),
            ends_at=_local(day, 11, 30),
            meeting_minutes=20,
            tables=6,
        )
    )
    participants = []
    roles = [ParticipantRole.SUPPLIER, ParticipantRole.SUPPLIER, ParticipantRole.SEEKER, ParticipantRole.SUPPLIER]
    members = [(demo.organization, demo.country, role) for demo, role in zip(DEMO_ACCOUNTS[:4], roles, strict=True)]
    for name, country, role in [*members, *OTHER_PARTICIPANTS]:
        organization_id = await _organization_id(session, name, country)
        participant = EventParticipant(
            id=uuid.uuid4(),
            event_id=event.id,
            organization_id=organization_id,
            representative=name.split(",")[0],
            role=role.value,
            listing_ids=[str(i) for i in await listing_ids_of(session, organization_id, limit=3)],
            languages=["ja", "en"] if country == "JP" else ["vi"],
            max_meetings=6,
            status="registered",
        )
        session.add(participant)
        participants.append(participant)
    for requester, recipient, status in REQUESTS:
        pending = status is RequestStatus.PENDING
        session.add(
            MeetingRequest(
                event_id=event.id,
                requester_id=participants[requester].id,
                recipient_id=participants[recipient].id,
                message="Chúng tôi muốn trao đổi về khả năng chuyển giao công nghệ.",
                status=status.value,
                responded_at=None if pending else now - timedelta(hours=6),
                expires_at=now + timedelta(hours=event.request_expiry_hours) if pending else None,
                score=0.5,
            )
        )
    await session.flush()
    return 1


async def _organization(session: AsyncSession, demo: DemoAccount) -> uuid.UUID:
    return await _organization_id(session, demo.organization, demo.country)


async def _organization_id(session: AsyncSession, name: str, country: str) -> uuid.UUID:
    found = await organization_repository.get_by_name(session, name, country)
    if found is None:
        raise ValueError(f"demo data: organisation {name} ({country}) is missing")
    return found.id


async def load(session: AsyncSession) -> tuple[int, int]:
    """(accounts created, events created)."""
    return await load_accounts(session), await load_event(session)
