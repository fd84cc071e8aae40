"""ScraperSky's own signals, sent by the spider, heard by the lifecycle extension."""

scan_started = object()  # scan=Scan: a claimed job's scan begins
