"""Evidence can be downloaded by everyone who may see the item, and by no
one else, with the same bytes that were uploaded, on both databases."""

from tests.integration.api_helpers import PDF, PNG, api_client, auth


async def _kota_item(client) -> str:
    response = await client.get("/api/v1/recommendations", headers=auth(client, "kota"))
    return response.json()[0]["id"]


async def test_the_uploaded_bytes_come_back_to_those_who_may_see_them(settings, examples):
    async with api_client(settings, examples) as client:
        rid = await _kota_item(client)
        r = await client.post(f"/api/v1/recommendations/{rid}/evidence", headers=auth(client, "kota"),
                              files={"file": ("Laporan SKM Triwulan I.pdf", PDF, "application/pdf")})
        sha = r.json()["sha256"]
        url = f"/api/v1/recommendations/{rid}/evidence/{sha}"
        for who in ("kota", "evaluator", "sekda_kota", "sekda_prov"):
            got = await client.get(url, headers=auth(client, who))
            assert got.status_code == 200, (who, got.text)
            assert got.content == PDF
            assert got.headers["content-type"] == "application/pdf"
            assert got.headers["content-disposition"].startswith('attachment; filename="Laporan SKM Triwulan I.pdf"')
            assert got.headers["x-content-type-options"] == "nosniff"
        for who in ("prov", "sekda_aceh"):            # another agency, another region: as if it did not exist
            got = await client.get(url, headers=auth(client, who))
            assert got.status_code == 404 and got.json()["code"] == "not_found"
        assert (await client.get(url)).status_code == 401
        inline = await client.get(url, params={"inline": "true"}, headers=auth(client, "evaluator"))
        assert inline.headers["content-disposition"].startswith("inline;")
        # A hash of a file that exists, but not on this item, is not served through it.
        other = (await client.get("/api/v1/recommendations", headers=auth(client, "prov"))).json()[0]["id"]
        r = await client.post(f"/api/v1/recommendations/{other}/evidence", headers=auth(client, "prov"),
                              files={"file": ("foto.png", PNG, "image/png")})
        png_sha = r.json()["sha256"]
        got = await client.get(f"/api/v1/recommendations/{rid}/evidence/{png_sha}", headers=auth(client, "kota"))
        assert got.status_code == 404
        got = await client.get(f"/api/v1/recommendations/{rid}/evidence/{'0' * 64}", headers=auth(client, "kota"))
        assert got.status_code == 404
        got = await client.get(f"/api/v1/recommendations/{rid}/evidence/..%2F..%2Fetc", headers=auth(client, "kota"))
        assert got.status_code in (404, 422)
