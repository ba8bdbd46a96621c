"""The HTTP API: a thin FastAPI layer over the job projection and the Temporal workflows."""
