"""ScraperSky's own signals, sent by the spider, heard by the lifecycle extension."""

jobs_claimed = object()  # claimed=list[ClaimedJob]: jobs this run took, their scans to come
scan_started = object()  # scan=Scan: a claimed job's scan begins
