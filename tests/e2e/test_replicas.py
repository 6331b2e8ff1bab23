"""Two Daphne processes on one database: what one does, the other knows on the next request."""

from __future__ import annotations

import httpx

from tests.harness import Sim, free_port, run_server, server_env
from tests.oauth_client import OAUTH_ENV, Browser, MemoryStorage, bearer_call, oauth_mcp, structured


async def test_a_revocation_through_one_process_is_refused_by_the_other(database_url, sim: Sim, tmp_path):
    public_port = free_port()  # both processes serve the same public URL, as behind a proxy
    env = server_env(database_url, sim, **OAUTH_ENV, PUBLIC_URL=f"http://127.0.0.1:{public_port}")
    with (
        run_server(env, port=public_port, log_path=tmp_path / "a.log") as first,
        run_server(env, log_path=tmp_path / "b.log") as second,
    ):
        alice, bob = MemoryStorage(), MemoryStorage()
        async with oauth_mcp(first.url, Browser("alice"), storage=alice) as client:
            structured(await client.call_tool("get_current_user", {}))
        async with oauth_mcp(first.url, Browser("bob"), storage=bob) as client:
            structured(await client.call_tool("get_current_user", {}))
        assert alice.tokens and bob.tokens and alice.client
        assert bearer_call(second.url, alice.tokens.access_token).status_code == 200  # the other process knows her
        revoked = httpx.post(
            f"{first.url}/revoke",
            data={"token": alice.tokens.access_token, "client_id": alice.client.client_id},
        )
        assert revoked.status_code == 200
        assert bearer_call(second.url, alice.tokens.access_token).status_code == 401
        assert bearer_call(second.url, bob.tokens.access_token).status_code == 200
