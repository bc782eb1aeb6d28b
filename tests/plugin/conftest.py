"""The tutorial package is a separate project: its test runs inside it (test_new_user.py)."""

collect_ignore = ["tutorial_pkg"]
