"""The fullstack example: a small notes API that fargo deploys to ECS Fargate."""
