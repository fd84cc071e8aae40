"""Project commands: `scrapy batch`, `status`, `cancel`, `retry`, `changes`, `keys`, `webhooks`,
`migrate`, and `scrapy crawl` with argument checks and an exit code that tells whether every scan
succeeded. What they share is in commands/base.py (Scrapy takes every command class it finds in
this package for a command, so the base there is a mixin).

Scrapy imports every command module on each `scrapy` call, `scrapy crawl` included, to list the
commands: what only one command's work needs (rich's tables and progress bars) is imported where
that work is done."""
