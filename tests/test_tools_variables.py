"""Tools of the variables area, through the MCP SDK client. The rule under test above all: the value
of a masked or hidden variable never reaches the model, although GitLab sends masked values.

The seed (tests/gitlab_sim/areas/variables.py): acme/app (alice maintainer, bob developer) has
DATABASE_URL, API_TOKEN (masked), DEPLOY_KEY (hidden), KUBECONFIG (file) and DEPLOY_ENV in the scopes
production and staging; the labs group (bob owner) has REGISTRY_URL, GROUP_TOKEN (masked) and
SIGNING_KEY (hidden); alice is only a maintainer of the acme group.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.gitlab_sim.seed import TOKENS
from tests.inprocess import Sim

API_TOKEN = "glpat-Sup3rS3cretApiTok3n"  # the masked value in the seed
SECRETS = (API_TOKEN, "hidden-deploy-key-0123456789", "gr0up-t0ken-ABCDEFGH", "hidden-signing-key-0123")


def in_gitlab(sim: Sim, path: str, user: str = "alice") -> httpx.Response:
    """What GitLab itself answers, bypassing the tools."""
    return sim.http.get(f"{sim.url}/api/v4{path}", headers={"PRIVATE-TOKEN": TOKENS[user]})


def by_key(result: Any) -> dict[str, dict[str, Any]]:
    assert not result.is_error, result
    return {(v["key"], v["environment_scope"]): v for v in result.structured_content["items"]}


def no_secret_in(result: Any, text_of: Any) -> None:
    text = text_of(result) + repr(result.structured_content)
    assert not [s for s in SECRETS if s in text]


async def test_the_variable_tools_are_listed_with_their_annotations(mcp):
    tools = {t.name: t for t in await mcp.list_tools()}
    for kind in ("project", "group"):
        assert tools[f"list_{kind}_variables"].annotations.read_only_hint is True
        assert tools[f"get_{kind}_variable"].annotations.read_only_hint is True
        assert tools[f"create_{kind}_variable"].annotations.destructive_hint is False
        assert tools[f"delete_{kind}_variable"].annotations.destructive_hint is True
        assert "never" in tools[f"list_{kind}_variables"].description
    assert tools["create_project_variable"].input_schema["required"] == ["project", "key", "value"]


# --- project variables -------------------------------------------------------------------------
async def test_list_project_variables_never_shows_masked_or_hidden_values(mcp, sim: Sim, text_of):
    result = await mcp.call("list_project_variables", project="acme/app")
    variables = by_key(result)
    assert variables[("DATABASE_URL", "*")]["value"] == "postgres://db.internal:5432/app"
    assert variables[("API_TOKEN", "*")] | {"value": "?"} == {
        "key": "API_TOKEN",
        "value": "?",
        "variable_type": "env_var",
        "protected": True,
        "masked": True,
        "hidden": False,
        "raw": False,
        "environment_scope": "*",
        "description": None,
    }
    assert variables[("API_TOKEN", "*")]["value"] is None
    assert variables[("DEPLOY_KEY", "*")]["value"] is None and variables[("DEPLOY_KEY", "*")]["hidden"] is True
    assert variables[("KUBECONFIG", "*")]["variable_type"] == "file"
    assert result.structured_content["total"] == 6
    no_secret_in(result, text_of)
    # GitLab itself does send the masked value: the tool is what keeps it out.
    assert API_TOKEN in in_gitlab(sim, "/projects/101/variables").text


async def test_project_variables_need_the_maintainer_role(mcp_as, text_of):
    bob = await mcp_as("bob").call("list_project_variables", project="acme/app")
    assert bob.is_error and "You do not have permission" in text_of(bob)
    charlie = await mcp_as("charlie").call("get_project_variable", project="acme/app", key="DATABASE_URL")
    assert charlie.is_error and "not found or you have no access" in text_of(charlie)


async def test_get_project_variable_shows_a_value_only_when_it_is_not_secret(mcp, text_of):
    plain = await mcp.call("get_project_variable", project="101", key="DATABASE_URL")
    assert plain.structured_content["value"] == "postgres://db.internal:5432/app"
    for key in ("API_TOKEN", "DEPLOY_KEY"):
        secret = await mcp.call("get_project_variable", project="acme/app", key=key)
        assert secret.structured_content["key"] == key and secret.structured_content["value"] is None
        no_secret_in(secret, text_of)
    missing = await mcp.call("get_project_variable", project="acme/app", key="NOPE")
    assert missing.is_error and "Variable NOPE in acme/app not found" in text_of(missing)


async def test_a_key_in_several_scopes_is_picked_by_its_environment_scope(mcp, sim: Sim, text_of):
    both = await mcp.call("get_project_variable", project="acme/app", key="DEPLOY_ENV")
    assert both.is_error and "HTTP 409" in text_of(both) and "filter[environment_scope]" in text_of(both)
    staging = await mcp.call("get_project_variable", project="acme/app", key="DEPLOY_ENV", environment_scope="staging")
    assert (staging.structured_content["value"], staging.structured_content["environment_scope"]) == (
        "stage",
        "staging",
    )
    assert any("filter%5Benvironment_scope%5D=staging" in r["query"] for r in sim.requests())


async def test_create_project_variable_does_not_echo_a_masked_value(mcp, sim: Sim, text_of):
    args = {"project": "acme/app", "key": "NEW_SECRET", "value": "n3w-s3cret-value", "masked": True}
    created = await mcp.call("create_project_variable", **args, protected=True, description="For deploys")
    assert created.structured_content | {"value": "?"} == {
        **{"key": "NEW_SECRET", "value": "?", "variable_type": "env_var", "protected": True, "masked": True},
        **{"hidden": False, "raw": False, "environment_scope": "*", "description": "For deploys"},
    }
    assert created.structured_content["value"] is None and "n3w-s3cret-value" not in text_of(created)
    assert in_gitlab(sim, "/projects/101/variables/NEW_SECRET").json()["value"] == "n3w-s3cret-value"
    hidden = await mcp.call("create_project_variable", **args | {"key": "HIDDEN"}, masked_and_hidden=True)
    assert (hidden.structured_content["hidden"], hidden.structured_content["value"]) == (True, None)
    plain = await mcp.call(
        "create_project_variable", project="acme/app", key="CONFIG", value="a b", variable_type="file"
    )
    assert (plain.structured_content["value"], plain.structured_content["variable_type"]) == ("a b", "file")


async def test_create_project_variable_reports_what_gitlab_refuses(mcp, mcp_as, text_of):
    taken = await mcp.call("create_project_variable", project="acme/app", key="DATABASE_URL", value="x")
    assert taken.is_error and "(DATABASE_URL) has already been taken" in text_of(taken)
    other_scope = await mcp.call(
        "create_project_variable", project="acme/app", key="DATABASE_URL", value="x", environment_scope="review/*"
    )
    assert other_scope.structured_content["environment_scope"] == "review/*"
    short = await mcp.call("create_project_variable", project="acme/app", key="PIN", value="1234", masked=True)
    assert short.is_error and "value is invalid" in text_of(short)
    bob = await mcp_as("bob").call("create_project_variable", project="acme/app", key="BOBS", value="x")
    assert bob.is_error and "permission" in text_of(bob)


async def test_update_project_variable_changes_only_what_is_given(mcp, sim: Sim, text_of):
    unprotected = await mcp.call("update_project_variable", project="acme/app", key="API_TOKEN", protected=False)
    assert (unprotected.structured_content["protected"], unprotected.structured_content["value"]) == (False, None)
    no_secret_in(unprotected, text_of)
    assert in_gitlab(sim, "/projects/101/variables/API_TOKEN").json()["value"] == API_TOKEN
    moved = await mcp.call(
        "update_project_variable",
        project="acme/app",
        key="DEPLOY_ENV",
        environment_scope="staging",
        new_environment_scope="review/*",
        value="review",
    )
    assert (moved.structured_content["environment_scope"], moved.structured_content["value"]) == ("review/*", "review")
    scopes = {
        v["environment_scope"] for v in in_gitlab(sim, "/projects/101/variables").json() if v["key"] == "DEPLOY_ENV"
    }
    assert scopes == {"production", "review/*"}


async def test_update_project_variable_errors(mcp, text_of):
    missing = await mcp.call("update_project_variable", project="acme/app", key="NOPE", value="x")
    assert missing.is_error and "not found" in text_of(missing)
    ambiguous = await mcp.call("update_project_variable", project="acme/app", key="DEPLOY_ENV", value="x")
    assert ambiguous.is_error and "HTTP 409" in text_of(ambiguous)
    unmaskable = await mcp.call(
        "update_project_variable", project="acme/app", key="DEPLOY_ENV", environment_scope="production", masked=True
    )
    assert unmaskable.is_error and "value is invalid" in text_of(unmaskable)


async def test_delete_project_variable(mcp, mcp_as, sim: Sim, text_of):
    deleted = await mcp.call("delete_project_variable", project="acme/app", key="DATABASE_URL")
    assert deleted.structured_content == {"deleted": True, "key": "DATABASE_URL", "environment_scope": None}
    assert in_gitlab(sim, "/projects/101/variables/DATABASE_URL").status_code == 404
    ambiguous = await mcp.call("delete_project_variable", project="acme/app", key="DEPLOY_ENV")
    assert ambiguous.is_error and "HTTP 409" in text_of(ambiguous)
    await mcp.call("delete_project_variable", project="acme/app", key="DEPLOY_ENV", environment_scope="production")
    assert any(
        r["method"] == "DELETE" and "filter%5Benvironment_scope%5D=production" in r["query"] for r in sim.requests()
    )
    left = [
        v["environment_scope"] for v in in_gitlab(sim, "/projects/101/variables").json() if v["key"] == "DEPLOY_ENV"
    ]
    assert left == ["staging"]
    bob = await mcp_as("bob").call("delete_project_variable", project="acme/app", key="API_TOKEN")
    assert bob.is_error and "permission" in text_of(bob)


# --- group variables (Owner role) --------------------------------------------------------------
async def test_group_variables_as_the_owner_hide_secret_values(mcp_as, text_of):
    bob = mcp_as("bob")
    listed = await bob.call("list_group_variables", group="labs")
    variables = by_key(listed)
    assert variables[("REGISTRY_URL", "*")]["value"] == "registry.labs.example"
    assert variables[("REGISTRY_URL", "*")]["description"] == "Where images go"
    assert variables[("GROUP_TOKEN", "*")]["value"] is None and variables[("SIGNING_KEY", "*")]["value"] is None
    no_secret_in(listed, text_of)
    one = await bob.call("get_group_variable", group="labs", key="GROUP_TOKEN")
    assert (one.structured_content["masked"], one.structured_content["value"]) == (True, None)
    missing = await bob.call("get_group_variable", group="labs", key="NOPE")
    assert missing.is_error and "Variable NOPE in group labs not found" in text_of(missing)


async def test_group_variables_need_the_owner_role(mcp, text_of):
    maintainer = await mcp.call("list_group_variables", group="acme")
    assert maintainer.is_error and "You do not have permission" in text_of(maintainer)
    hidden = await mcp.call("get_group_variable", group="labs", key="REGISTRY_URL")
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)
    created = await mcp.call("create_group_variable", group="acme", key="NEW", value="x")
    assert created.is_error and "permission" in text_of(created)


async def test_group_variables_are_created_updated_and_deleted(mcp_as, sim: Sim, text_of):
    bob = mcp_as("bob")
    created = await bob.call(
        "create_group_variable", group="labs", key="LABS_KEY", value="l4bs-key-secret", masked=True
    )
    assert (created.structured_content["key"], created.structured_content["value"]) == ("LABS_KEY", None)
    assert in_gitlab(sim, "/groups/12/variables/LABS_KEY", "bob").json()["value"] == "l4bs-key-secret"
    taken = await bob.call("create_group_variable", group="labs", key="LABS_KEY", value="l4bs-key-other")
    assert taken.is_error and "(LABS_KEY) has already been taken" in text_of(taken)
    updated = await bob.call("update_group_variable", group="labs", key="LABS_KEY", value="n3w-l4bs-key", raw=True)
    assert (updated.structured_content["raw"], updated.structured_content["value"]) == (True, None)
    assert "n3w-l4bs-key" not in text_of(updated)
    plain = await bob.call("update_group_variable", group="labs", key="REGISTRY_URL", value="registry.new")
    assert plain.structured_content["value"] == "registry.new"
    missing = await bob.call("update_group_variable", group="labs", key="NOPE", value="x")
    assert missing.is_error and "not found" in text_of(missing)
    deleted = await bob.call("delete_group_variable", group="labs", key="LABS_KEY")
    assert deleted.structured_content["deleted"] is True
    assert in_gitlab(sim, "/groups/12/variables/LABS_KEY", "bob").status_code == 404
    again = await bob.call("delete_group_variable", group="labs", key="LABS_KEY")
    assert again.is_error and "not found" in text_of(again)
