"""Releases: what each successful deploy put live, recorded in the account (history.py), and
the release tags that keep their images in ECR (images.py); the migration that gates the
rollout (migrate.py), and the wait for each service's rollout (rollout.py)."""
