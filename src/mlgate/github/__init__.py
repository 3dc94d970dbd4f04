"""GitHub integration: REST client, run context, PR comments, check runs, statuses, deployments."""
