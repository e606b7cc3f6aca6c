"""The pure core: data and rules every channel shares, with no I/O of their own.

Paper records and ids, the URL gate (`links`), digest assembly and ranking, readable text,
arXiv's announcement calendar (`arrivals`), digest schedules, the shared Jinja2 environment,
e-mail address rules and DKIM key reading. Nothing here imports a service, a channel or a front
end (the import contracts say so).
"""
