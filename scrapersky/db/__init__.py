"""Database layer: models, the engine factory, schema checks, bulk writes and job records."""
