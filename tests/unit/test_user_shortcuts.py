"""The user shortcuts that scripts and the CLI call, and the account listing an administrator
reads: every argument reaches the account, the listing shows each field, tokens have their
documented strength, a token of 200 characters is still looked up."""

from __future__ import annotations

from datetime import timedelta

from tindaklanjut.domain.lifecycle import Role
from tindaklanjut.service_layer import commands, users

from tests.unit.test_command_handlers import Harness


async def test_add_user_passes_every_argument_and_revoke_token_revokes_that_user():
    harness = Harness()
    new_uow = lambda: harness.uow      # noqa: E731
    token = await users.add_user(new_uow, "sekda", Role.SECRETARY, region="15", expires_in=timedelta(days=30),
                                 password="kata-sandi-yang-panjang")
    assert len(token) == 43                                  # 32 random bytes, URL-safe
    await users.add_user(new_uow, "opd", Role.AGENCY, agency_id="15.71")
    async with harness.uow:
        sekda = await harness.uow.users.get("sekda")
        opd = await harness.uow.users.get("opd")
    assert (sekda.role, sekda.region, sekda.agency_id, sekda.expires_at - sekda.created_at) == (
        Role.SECRETARY, "15", None, timedelta(days=30))
    assert sekda.password_hash and opd.password_hash is None and opd.agency_id == "15.71"
    await users.revoke_token(new_uow, "sekda")
    assert await users.authenticate(new_uow, token) is None
    listed = {row["name"]: row for row in await users.list_users(new_uow)}
    assert listed["sekda"] == {
        "name": "sekda", "role": "secretary", "agency_id": None, "region": "15",
        "created_at": sekda.created_at.isoformat(), "expires_at": sekda.expires_at.isoformat(),
        "revoked_at": listed["sekda"]["revoked_at"], "state": "revoked", "password": "ya", "account": "aktif"}
    assert listed["sekda"]["revoked_at"] is not None
    assert (listed["opd"]["expires_at"], listed["opd"]["revoked_at"], listed["opd"]["password"],
            listed["opd"]["state"]) == (None, None, "tidak", "active")
    await harness.handle(commands.DisableUser(name="opd"))
    assert {row["name"]: row["account"] for row in await users.list_users(new_uow)}["opd"] == "nonaktif"


async def test_a_token_of_200_characters_is_looked_up_and_a_longer_one_is_not():
    harness = Harness()
    new_uow = lambda: harness.uow      # noqa: E731
    await users.add_user(new_uow, "ori", Role.EVALUATOR)
    async with harness.uow:
        user = await harness.uow.users.get("ori")
        user.token_hash = users.token_hash("t" * 200)
        await harness.uow.users.save(user)
        await harness.uow.commit()
    assert (await users.authenticate(new_uow, "t" * 200)).name == "ori"
    assert await users.authenticate(new_uow, "t" * 201) is None


async def test_a_session_has_strong_tokens_and_a_locked_account_is_slowed():
    harness = Harness()
    new_uow = lambda: harness.uow      # noqa: E731
    await users.add_user(new_uow, "ori", Role.EVALUATOR, password="kata-sandi-yang-panjang")
    opened = await harness.handle(commands.LogIn(name="ori", password="kata-sandi-yang-panjang"))
    assert len(opened.session_token) == 43 and len(opened.csrf_token) == 43
    for _ in range(10):
        outcome = await harness.handle(commands.LogIn(name="ori", password="salah"))
    assert (outcome.locked, outcome.slowed, outcome.session_token) == (True, True, None)
