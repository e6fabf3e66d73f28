"""The admins' System page: versions, dependencies, workers, the queue and the last errors."""
