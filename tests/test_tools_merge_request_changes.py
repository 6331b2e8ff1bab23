"""get_merge_request_changes, through the MCP SDK client (acting as alice): each file with its flags and
diff, paging, caps, reading on in a cut diff.

The seed (tests/gitlab_sim/areas/merge_requests/): acme/app !3 changes 45 files, !4 has a ~200 kB diff
and eight more files; bob/secret has !1, hidden from alice. The other reading tools:
test_tools_merge_requests.py.
"""

from __future__ import annotations


# --- get_merge_request_changes ---------------------------------------------------------------------
async def test_changes_give_each_file_with_its_flags_and_diff(mcp):
    result = await mcp.call("get_merge_request_changes", project="acme/app", iid=1)
    assert not result.is_error
    changes = result.structured_content
    files = {f["new_path"]: f for f in changes["files"]}
    assert list(files) == ["app/login.py", "app/templates/login.html", "app/auth.py", "app/old_login.py"]
    assert "+def login(form):" in files["app/login.py"]["diff"]
    assert files["app/templates/login.html"]["new_file"] is True
    assert files["app/auth.py"]["renamed_file"] is True and files["app/auth.py"]["old_path"] == "app/session.py"
    assert files["app/old_login.py"]["deleted_file"] is True
    assert set(files["app/login.py"]) == {"old_path", "new_path", "new_file", "renamed_file", "deleted_file", "diff"}
    assert changes["truncated"] is False and "hint" not in changes
    assert changes["total"] == 4 and changes["next_page"] is None


async def test_changes_page_through_many_files(mcp, sim):
    first = (await mcp.call("get_merge_request_changes", project="acme/app", iid=3)).structured_content
    assert len(first["files"]) == 20 and first["next_page"] == 2 and first["total"] == 45
    assert first["truncated"] is False and "page=2" in first["hint"]
    assert sim.requests()[-1]["path"] == "/api/v4/projects/acme%2Fapp/merge_requests/3/diffs"
    last = (await mcp.call("get_merge_request_changes", project="acme/app", iid=3, page=3)).structured_content
    assert [f["new_path"] for f in last["files"]] == [f"docs/part_{n}.md" for n in range(41, 46)]
    assert last["next_page"] is None and "hint" not in last


async def test_changes_filter_paths_within_the_page(mcp):
    api = await mcp.call("get_merge_request_changes", project="acme/app", iid=3, paths=["src/api/"], per_page=100)
    assert [f["new_path"] for f in api.structured_content["files"]] == [
        f"src/api/part_{n:02d}.py" for n in range(1, 16)
    ]
    docs = (await mcp.call("get_merge_request_changes", project="acme/app", iid=3, paths=["*.md"])).structured_content
    assert docs["files"] == [] and "Other files may match on later pages: page=2" in docs["hint"]


async def test_changes_cap_each_file_and_the_whole_call(mcp, text_of):
    result = await mcp.call("get_merge_request_changes", project="acme/app", iid=4)
    changes = result.structured_content
    files = {f["new_path"]: f for f in changes["files"]}
    assert len(files) == 9 and changes["truncated"] is True
    assert sum(len(f["diff"] or "") for f in files.values()) <= 50_000
    huge = files["fixtures/huge.json"]
    assert huge["truncated"] is True and len(huge["diff"]) <= 10_000
    assert huge["first_line"] == 1 and huge["total_lines"] == 3001 and huge["last_line"] < 3001
    assert huge["diff"].endswith("},")  # cut at a line end
    assert files["src/gen/module_1.py"]["diff"].count("\n") == 150 and "truncated" not in files["src/gen/module_1.py"]
    assert files["src/gen/module_5.py"]["truncated"] is True  # cut to what the total cap left
    assert files["src/gen/module_6.py"]["diff"] is None and files["package-lock.json"]["diff"] is None
    assert files["assets/bundle.min.js"]["too_large"] is True and files["assets/bundle.min.js"]["diff"] == ""
    hint = changes["hint"]
    assert f"fixtures/huge.json (lines 1-{huge['last_line']} of 3001)" in hint and "start_line" in hint
    assert "src/gen/module_6.py, package-lock.json" in hint and "paths" in hint
    assert "hint" in text_of(result)  # the text content carries the same result for clients without structure


async def test_changes_read_on_in_a_cut_diff_with_start_line(mcp):
    first = await mcp.call("get_merge_request_changes", project="acme/app", iid=4, paths=["fixtures/huge.json"])
    next_line = first.structured_content["files"][0]["last_line"] + 1
    more = await mcp.call(
        "get_merge_request_changes", project="acme/app", iid=4, paths=["fixtures/huge.json"], start_line=next_line
    )
    huge = more.structured_content["files"][0]
    assert huge["first_line"] == next_line and huge["diff"].startswith(f'+  {{"id": {next_line - 1},')
    end = await mcp.call("get_merge_request_changes", project="acme/app", iid=4, paths=["fixtures/"], start_line=2990)
    tail = end.structured_content["files"][0]
    assert (tail["first_line"], tail["last_line"], tail["truncated"]) == (2990, 3001, False)
    assert end.structured_content["truncated"] is False


async def test_changes_get_left_out_files_by_path_and_skip_big_ones(mcp):
    wanted = ["src/gen/module_6.py", "package-lock.json"]
    got = (await mcp.call("get_merge_request_changes", project="acme/app", iid=4, paths=wanted)).structured_content
    assert [f["new_path"] for f in got["files"]] == wanted and got["truncated"] is False
    assert got["files"][1]["generated_file"] is True and '+"v": "1.0.1"' in got["files"][1]["diff"]
    rest = await mcp.call(
        "get_merge_request_changes", project="acme/app", iid=4, exclude_paths=["fixtures/", "src/gen/module_[1-3].py"]
    )
    names = [f["new_path"] for f in rest.structured_content["files"]]
    gen = [f"src/gen/module_{n}.py" for n in (4, 5, 6)]
    assert names == [*gen, "assets/bundle.min.js", "package-lock.json"]
    assert rest.structured_content["truncated"] is False


async def test_changes_of_a_missing_or_hidden_mr_say_not_found(mcp, text_of):
    missing = await mcp.call("get_merge_request_changes", project="acme/app", iid=99)
    assert missing.is_error and "Merge request !99 in acme/app not found or you have no access" in text_of(missing)
    hidden = await mcp.call("get_merge_request_changes", project="bob/secret", iid=1)
    assert hidden.is_error and "not found or you have no access" in text_of(hidden)
    assert "plan.md" not in text_of(hidden)


async def test_changes_reject_invalid_arguments(mcp, text_of):
    result = await mcp.call("get_merge_request_changes", project="acme/app", iid=4, start_line=0)
    assert result.is_error and "start_line" in text_of(result)
    result = await mcp.call("get_merge_request_changes", project="acme/app", iid=4, per_page=101)
    assert result.is_error and "per_page" in text_of(result)
