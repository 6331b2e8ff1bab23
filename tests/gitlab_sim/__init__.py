"""A GitLab simulator for the tests: GitLab's REST API as documented in
gitlab-org/gitlab doc/api/*.md, for the endpoints the tools use, with per-user visibility, GitLab's
error bodies, pagination headers and injectable faults. Run by hand: python -m tests.gitlab_sim --port 8090
"""
