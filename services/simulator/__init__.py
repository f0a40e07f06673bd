"""A Genesys Cloud organisation in one process, over real HTTP, for tests, demos and benchmarks.

Public API: `config.SimConfig`, `app.create_app(config)`, `server.start_in_thread(config, host, port)`
(returns a `RunningSimulator` with `.url`, `.port`, `.store`, `.stop()`) and `server.serve(config, host, port)`.

Modules, one job each:
  config          SimConfig
  seed            deterministic synthetic subjects, contacts, conversations, transcripts, recordings
  matching        how values compare (emails/names case-insensitive, phones by digits, text on word boundaries)
  effects         what a finished GDPR_DELETE/GDPR_UPDATE does to the data, and `find` (where values remain)
  store           the organisation's state behind one lock; GDPR requests and recording jobs advance lazily
  ratelimit       per-token fixed windows
  recording_jobs  recording bulk job lifecycle and effects
  gateway         ASGI middleware: correlation id, bearer auth, rate limit, fault injection, counters
  errors          the platform's ErrorBody answers
  listing         paged entity listings
  oauth, gdpr, analytics, contacts, conversations, recordings   the Platform API routes
  admin           /_sim/* control and inspection endpoints
  app, server     assembly and runners
"""
