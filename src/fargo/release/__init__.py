"""What a release does beside the stacks: the migration that gates the rollout
(`migrate`), and the wait for each service's rollout (`rollout`)."""
