"""cluster-opt explore: a local web app that re-solves the exact optimum as the planner moves weights and rules.

``session``: the scenario held open (prepared once, a warm model per set of rules);
``server``: the HTTP API and the page (Starlette, served by uvicorn on 127.0.0.1);
``page``: the page itself, drawn by the same map code as ``map.html``.
"""
