"""paperbell's Discord front end: slash commands and paper posts, a thin layer over digest.services."""
