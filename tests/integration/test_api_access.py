"""An agency never sees or changes another agency's items: every endpoint, both databases."""

import pytest

from tests.integration.api_helpers import PDF, api_client, auth

# (method, path template, body kind) for every endpoint that takes a recommendation id
ENDPOINTS = [
    ("GET", "/api/v1/recommendations/{id}", None),
    ("POST", "/api/v1/recommendations/{id}/actions", {"comment": "x"}),
    ("POST", "/api/v1/recommendations/{id}/evidence", "file"),
    ("POST", "/api/v1/recommendations/{id}/links", {"url": "https://example.org/bukti"}),
    ("POST", "/api/v1/recommendations/{id}/submit", {}),
    ("POST", "/api/v1/recommendations/{id}/not-actionable", {"reason_code": "other_lawful", "explanation": "x"}),
    ("POST", "/api/v1/recommendations/{id}/extension", {"new_due_date": "2025-06-01", "reason": "x"}),
]


async def _send(client, method, path, body, who):
    if body == "file":
        return await client.post(path, headers=auth(client, who), files={"file": ("a.pdf", PDF, "application/pdf")})
    if method == "GET":
        return await client.get(path, headers=auth(client, who))
    return await client.post(path, headers=auth(client, who), json=body)


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[e[1].rsplit("/", 1)[-1] for e in ENDPOINTS])
async def test_other_agencies_items_are_invisible_and_unchangeable(settings, examples, method, path, body):
    async with api_client(settings, examples) as client:
        listing = await client.get("/api/v1/recommendations", headers=auth(client, "prov"))
        foreign = listing.json()[0]                           # a Pemprov Jambi item
        for who in ("kota", "sekda_aceh", "sekda_kota"):
            if who.startswith("sekda") and method == "POST":
                continue                                      # secretaries are refused earlier (403) anyway
            r = await _send(client, method, path.format(id=foreign["id"]), body, who)
            assert r.status_code == 404, (who, r.text)
            assert foreign["title"] not in r.text and "15/dinsos" not in r.text
        # the same request for an unknown id looks exactly the same
        unknown = await _send(client, method, path.format(id="00000000-0000-0000-0000-000000000000"), body, "kota")
        assert unknown.status_code == 404 and unknown.json() == r.json()
        # and nothing changed
        after = await client.get(f"/api/v1/recommendations/{foreign['id']}", headers=auth(client, "prov"))
        assert after.json()["timeline"] == [] and after.json()["evidence_versions"] == []


async def test_lists_are_scoped(settings, examples):
    async with api_client(settings, examples) as client:
        async def units(who):
            r = await client.get("/api/v1/recommendations", headers=auth(client, who))
            return sorted({x["unit_id"] for x in r.json()})
        assert await units("kota") == ["15.71/disdukcapil", "15.71/dpmptsp"]
        assert await units("prov") == ["15/dinsos"]
        assert await units("sekda_kota") == ["15.71/disdukcapil", "15.71/dpmptsp"]
        assert await units("sekda_prov") == ["15.71/disdukcapil", "15.71/dpmptsp", "15/dinsos"]
        assert await units("sekda_aceh") == []
        assert await units("evaluator") == ["15.71/disdukcapil", "15.71/dpmptsp", "15/dinsos"]
        r = await client.get("/api/v1/recommendations", headers=auth(client, "kota"), params={"unit": "15/dinsos"})
        assert r.json() == [] and r.headers["X-Total-Count"] == "0"


async def test_list_pages_carry_the_total_of_what_the_caller_may_see(settings, examples):
    async with api_client(settings, examples) as client:
        whole = await client.get("/api/v1/recommendations", headers=auth(client, "evaluator"))
        assert whole.headers["X-Total-Count"] == str(len(whole.json())) == "8"
        pages = [await client.get("/api/v1/recommendations", headers=auth(client, "evaluator"),
                                  params={"limit": 3, "offset": offset}) for offset in (0, 3, 6, 9)]
        assert [len(p.json()) for p in pages] == [3, 3, 2, 0]
        assert {p.headers["X-Total-Count"] for p in pages} == {"8"}
        assert [x["id"] for p in pages for x in p.json()] == [x["id"] for x in whole.json()]
        kota = await client.get("/api/v1/recommendations", headers=auth(client, "kota"), params={"limit": 1})
        assert kota.headers["X-Total-Count"] == "5"                # its own items only
        overdue = await client.get("/api/v1/recommendations", headers=auth(client, "evaluator"),
                                   params={"limit": 1, "status": "open"})
        assert overdue.headers["X-Total-Count"] == "8"


async def test_requests_of_other_agencies_cannot_be_seen_or_decided(settings, examples):
    async with api_client(settings, examples) as client:
        rid = (await client.get("/api/v1/recommendations", headers=auth(client, "prov"))).json()[0]["id"]
        r = await client.post(f"/api/v1/recommendations/{rid}/extension", headers=auth(client, "prov"),
                              json={"new_due_date": "2025-06-01", "reason": "anggaran"})
        request_id = r.json()["id"]
        assert (await client.get("/api/v1/requests", headers=auth(client, "kota"))).json() == []
        r = await client.post(f"/api/v1/requests/{request_id}/approve", headers=auth(client, "kota"), json={})
        assert r.status_code == 403
        assert [q["id"] for q in (await client.get("/api/v1/requests", headers=auth(client, "sekda_prov"))).json()] \
            == [request_id]


async def test_a_governments_secretary_sees_only_that_governments_items(settings, examples):
    """Autonomy: the province's Sekda (Pemprov Jambi, agency 15) does not see Kota Jambi's items (15.71),
    whose follow-up belongs to the city's own Sekda; region oversight still sees both."""
    from tests.integration.api_helpers import api_client, auth
    from tindaklanjut.domain.lifecycle import Role
    from tindaklanjut.service_layer import users

    async with api_client(settings, examples) as client:
        client.tokens["sekda_pemprov"] = await users.add_user(client.container.uow, "sekda-pemprov-jambi",
                                                              Role.SECRETARY, agency_id="15")
        client.tokens["sekda_kota_gov"] = await users.add_user(client.container.uow, "sekda-kota-jambi-2",
                                                               Role.SECRETARY, agency_id="15.71")
        own = (await client.get("/api/v1/recommendations", headers=auth(client, "sekda_pemprov"))).json()
        assert {r["agency_id"] for r in own} == {"15"} and len(own) == 3
        city = (await client.get("/api/v1/recommendations", headers=auth(client, "sekda_kota_gov"))).json()
        assert {r["agency_id"] for r in city} == {"15.71"}
        oversight = (await client.get("/api/v1/recommendations", headers=auth(client, "sekda_prov"))).json()
        assert {r["agency_id"] for r in oversight} == {"15", "15.71"}
        city_item = city[0]["id"]
        r = await client.get(f"/api/v1/recommendations/{city_item}", headers=auth(client, "sekda_pemprov"))
        assert r.status_code == 404
        client.clock.now = client.clock.now.replace(year=2025, month=2, day=20)
        overdue = (await client.get("/api/v1/overdue", headers=auth(client, "sekda_pemprov"),
                                    params={"region": "15"})).json()
        assert [g["agency_id"] for g in overdue] == ["15"]
        report = (await client.get("/api/v1/cycles/ombudsman-kepatuhan/2024/report",
                                   headers=auth(client, "sekda_pemprov"))).json()
        assert [a["agency_id"] for a in report["agencies"]] == []       # the province had no Ombudsman item
        report = (await client.get("/api/v1/cycles/ombudsman-kepatuhan/2024/report",
                                   headers=auth(client, "sekda_kota_gov"))).json()
        assert [a["agency_id"] for a in report["agencies"]] == ["15.71"]
