"""Releases: what each successful deploy put live, recorded in the account (history.py), and
the release tags that keep their images in ECR (images.py)."""
