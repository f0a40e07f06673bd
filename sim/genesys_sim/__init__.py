"""A Genesys Cloud organisation in one process, over real HTTP, for tests, demos and benchmarks.

Test and demo support for genesys-erasure, not part of the product: a distribution of its own (sim/pyproject.toml,
`pip install -e ./sim` from a checkout) that the product's wheel and image do not carry, and that imports nothing of
the product. `genesys-sim` (or `python -m genesys_sim`) serves it on its own.

Public API: `config.SimConfig`, `app.create_app(config)`, `server.start_in_thread(config, host, port)`
(returns a `RunningSimulator` with `.url`, `.port`, `.store`, `.stop()`) and `server.serve(config, host, port)`.

Shapes of an organisation (SimConfig, all off by default): subjects whose identifiers are split over two
merged external contacts (`linked_fraction`), phone numbers recycled to a later owner (`recycled`),
conversations still in progress (`active`, `active_for_s`), former agents (`former_agents`), and async
analytics detail jobs (`analytics_job_s`, `analytics_jobs_max`). An organisation of 10,000 subjects (plus
as many noise people) seeds in seconds and answers lookups in milliseconds: `python -m
genesys_sim.loadcheck --subjects 10000` measures it.

Modules, one job each:
  config          SimConfig
  seed            deterministic synthetic subjects, contacts, conversations, transcripts, recordings, users
  phones          phonenumbers' validity check, fast enough to draw tens of thousands of numbers
  matching        how values compare (emails/names case-insensitive, phones by digits, text on word boundaries)
  index           value -> candidate records (word keys for conversations, whole values for the rest)
  org_data        the organisation's records and indexes (OrgData), what a finished GDPR_DELETE/GDPR_UPDATE
                  does to them, and `find` (where values remain)
  organisation    OrgStore: the organisation's state behind one lock; GDPR requests and jobs advance lazily
  rate_window     per-token fixed windows
  recording_jobs  recording bulk job lifecycle and what a fulfilled job does to recordings
  analytics_jobs  async conversation detail jobs: lifecycle and snapshots
  gateway         ASGI middleware: correlation id, bearer auth, rate limit, fault injection, counters
  error_body      the platform's ErrorBody answers
  listing         paged entity listings
  oauth, gdpr, analytics, external_contacts, message_conversations, recording_routes, protection, users
                  the Platform API routes
  admin           /_sim/* control and inspection endpoints
  app, server     assembly and runners
  loadcheck       seeds a large organisation and times the requests an erasure run leans on

Every route module has one shape: each endpoint is a module-level `async def name(store, request)` and
`routes(store)` is the table binding them to paths (`functools.partial(name, store)`).
"""
