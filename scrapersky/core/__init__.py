"""Pure helpers every layer may import: no Scrapy, no Twisted, no database.

errors (the one error model), states (job and batch states), clock, retry (the one retry loop
and backoff), messages (error texts and the one text-trimming helper), storable (text any
column can hold), domains (domain names from user input), spreadsheet (formula-safe cells),
redact (passwords out of URLs), malloc (returning freed memory to the system).
"""
