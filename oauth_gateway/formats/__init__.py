"""Date formats for every page (settings.FORMAT_MODULE_PATH): a time always carries its zone, so an
admin reading "3 Dec 2026, 14:05 UTC" knows when that was wherever they sit."""
