"""Database objects of a server with login: audit log, privacy aggregation, row-level security.

Applied as schema migration 5 of :mod:`geo.store.postgis` by the owner of the
tables. The owner (and a superuser) bypass row-level security, so a database
used without roles (the CLI of an administrator, the multi-user set-up without
login) behaves exactly as before. The role-dependent part (which database
user has which permissions, grants, the privacy rule of each sensitive layer,
the Gemeinde label points) is written by :func:`geo.store.grants.set_up_server`.

Tables
------
``atlas_role_access``
    database user → app role and its permission ids (``exact``, ``delete`` …);
    the row-level-security policies ask :sql:`atlas_may('exact')`.
``atlas_privacy``
    one row per sensitive layer: cell size (≥ 500 m), k (≥ 3), capacity column.
``atlas_gemeinden``
    Gemeinde AGS, name and a label point (where Gemeinde counts are drawn).
``atlas_settings``
    ``audit_retention_days``.
``atlas_audit``
    the append-only audit log: ``at``, ``db_user`` (set by the database),
    ``actor`` and ``app_role`` (the logged-in user, from the app), ``action``,
    ``layer_id``, ``batch_id``, ``detail`` and ``request`` (JSON).

Enforcement
-----------
* ``atlas_features``: rows of a sensitive layer are visible only to users with
  ``exact``; others call :sql:`atlas_sensitive_aggregate(layer)` (security
  definer), which returns counts per cell with n ≥ k and the rest per Gemeinde;
  its rule comes from ``atlas_privacy``, never from the caller.
* ``atlas_batches``: switching a batch off or on needs ``delete``; a user with
  ``import`` may only switch off the older batches of a layer in the same
  transaction that inserted a ``replace`` batch of that layer.
* Every insert into ``atlas_batches``, every change of ``active`` and every
  saved or deleted scenario writes an audit row (triggers; actor and request from the transaction settings
  ``atlas.actor``, ``atlas.role``, ``atlas.request``).
* ``atlas_audit`` refuses ``UPDATE`` and ``TRUNCATE`` for everyone (also the
  owner) and ``DELETE`` of rows younger than the retention.
"""

from __future__ import annotations

from typing import Final

from geo.store.datastore import BATCHES_TABLE

_F: Final = "atlas_features"
_B: Final = BATCHES_TABLE

#: Statements of schema migration 5 (appended to :data:`geo.store.postgis.MIGRATIONS`).
SERVER_MIGRATION: Final[tuple[str, ...]] = (
    """CREATE TABLE atlas_role_access (
        db_role TEXT PRIMARY KEY,
        app_role TEXT NOT NULL,
        permissions TEXT[] NOT NULL)""",
    """CREATE TABLE atlas_privacy (
        layer_id TEXT PRIMARY KEY,
        cell_m DOUBLE PRECISION NOT NULL CHECK (cell_m >= 500),
        k INTEGER NOT NULL CHECK (k >= 3),
        capacity_column TEXT)""",
    """CREATE TABLE atlas_gemeinden (
        ags TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        label geometry(Point, 25832) NOT NULL)""",
    "CREATE TABLE atlas_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "INSERT INTO atlas_settings (key, value) VALUES ('audit_retention_days', '365')",
    """CREATE TABLE atlas_audit (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
        db_user TEXT NOT NULL DEFAULT session_user,
        actor TEXT,
        app_role TEXT,
        action TEXT NOT NULL
            CHECK (action IN ('import', 'replace', 'replaced', 'delete', 'restore', 'export', 'open',
                              'scenario_save', 'scenario_delete')),
        layer_id TEXT,
        batch_id TEXT,
        detail JSONB NOT NULL DEFAULT '{}'::jsonb,
        request JSONB NOT NULL DEFAULT '{}'::jsonb)""",
    "CREATE INDEX atlas_audit_at ON atlas_audit (at)",
    # --- who may what: asked by the policies (invoker's rights: reads atlas_role_access as the caller)
    """CREATE FUNCTION atlas_may(p_permission TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
        SELECT EXISTS (SELECT 1 FROM atlas_role_access
                       WHERE db_role = current_user AND p_permission = ANY (permissions)) $$""",
    # owner, superuser or BYPASSRLS: row-level security does not apply to them
    f"""CREATE FUNCTION atlas_bypasses_rls() RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
        SELECT coalesce((SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user), false)
            OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = '{_F}'::regclass), 'MEMBER') $$""",
    """CREATE FUNCTION atlas_exact_visible(p_layer TEXT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
        SELECT NOT EXISTS (SELECT 1 FROM atlas_privacy WHERE layer_id = p_layer)
            OR atlas_may('exact') OR atlas_bypasses_rls() $$""",
    # a replace batch of the layer inserted by this very transaction (xmin = current transaction id)
    f"""CREATE FUNCTION atlas_replacing(p_layer TEXT) RETURNS BOOLEAN LANGUAGE sql VOLATILE AS $$
        SELECT EXISTS (SELECT 1 FROM {_B} n
                       WHERE n.layer_id = p_layer AND n.mode = 'replace' AND n.active
                         AND n.xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text) $$""",
    # --- row-level security
    f"ALTER TABLE {_F} ENABLE ROW LEVEL SECURITY",
    f"CREATE POLICY atlas_features_insert ON {_F} FOR INSERT WITH CHECK (true)",
    f"""CREATE POLICY atlas_features_select ON {_F} FOR SELECT USING (
        atlas_may('exact')
        OR batch_id NOT IN (SELECT b.batch_id FROM {_B} b JOIN atlas_privacy p ON p.layer_id = b.layer_id))""",
    f"ALTER TABLE {_B} ENABLE ROW LEVEL SECURITY",
    f"CREATE POLICY atlas_batches_select ON {_B} FOR SELECT USING (true)",
    f"CREATE POLICY atlas_batches_insert ON {_B} FOR INSERT WITH CHECK (true)",
    f"""CREATE POLICY atlas_batches_update ON {_B} FOR UPDATE
        USING (atlas_may('delete') OR (atlas_may('import') AND active))
        WITH CHECK (atlas_may('delete') OR (atlas_may('import') AND NOT active AND atlas_replacing(layer_id)))""",
    # --- the aggregate for everyone without exact access (security definer: reads past the policy)
    f"""CREATE FUNCTION atlas_sensitive_aggregate(p_layer TEXT)
        RETURNS TABLE (level TEXT, key TEXT, n INTEGER, capacity BIGINT, gemeinde_ags TEXT, gemeinde TEXT,
                       wkb BYTEA)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        WITH rule AS (SELECT cell_m, k, capacity_column FROM atlas_privacy WHERE layer_id = p_layer),
        pts AS (
            SELECT floor(ST_X(ST_PointOnSurface(f.geom)) / r.cell_m)::bigint AS cx,
                   floor(ST_Y(ST_PointOnSurface(f.geom)) / r.cell_m)::bigint AS cy,
                   r.cell_m, r.k, f.properties ->> 'gemeinde_ags' AS ags,
                   CASE WHEN (f.properties ->> r.capacity_column) ~ '^[0-9]{{1,9}}$'
                        THEN (f.properties ->> r.capacity_column)::bigint END AS cap
            FROM {_F} f JOIN {_B} b ON b.batch_id = f.batch_id CROSS JOIN rule r
            WHERE b.layer_id = p_layer AND b.active AND f.geom IS NOT NULL AND NOT ST_IsEmpty(f.geom)),
        cells AS (
            SELECT cx, cy, count(*) AS n, sum(cap) AS cap, min(cell_m) AS cell_m, min(k) AS k,
                   mode() WITHIN GROUP (ORDER BY ags) AS ags
            FROM pts GROUP BY cx, cy),
        rest AS (
            SELECT p.ags, count(*) AS n, sum(p.cap) AS cap
            FROM pts p JOIN cells c ON c.cx = p.cx AND c.cy = p.cy
            WHERE c.n < c.k GROUP BY p.ags)
        SELECT 'zelle', c.cx || '_' || c.cy, c.n::int, c.cap, c.ags, g.name,
               ST_AsBinary(ST_SetSRID(ST_MakePoint((c.cx + 0.5) * c.cell_m, (c.cy + 0.5) * c.cell_m), 25832))
        FROM cells c LEFT JOIN atlas_gemeinden g ON g.ags = c.ags WHERE c.n >= c.k
        UNION ALL
        SELECT 'gemeinde', coalesce(r.ags, 'unbekannt'), r.n::int, r.cap, r.ags, g.name, ST_AsBinary(g.label)
        FROM rest r LEFT JOIN atlas_gemeinden g ON g.ags = r.ags
        ORDER BY 1 DESC, 2 $$""",
    # --- audit: every batch insert and every switch of a batch, whoever writes (app, CLI, psql)
    f"""CREATE FUNCTION atlas_audit_batches() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            act TEXT;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                act := CASE WHEN NEW.mode = 'replace' THEN 'replace' ELSE 'import' END;
            ELSIF OLD.active IS NOT DISTINCT FROM NEW.active THEN
                RETURN NEW;
            ELSIF NEW.active THEN
                act := 'restore';
            ELSIF EXISTS (SELECT 1 FROM {_B} n WHERE n.layer_id = NEW.layer_id AND n.mode = 'replace' AND n.active
                          AND n.batch_id <> NEW.batch_id
                          AND n.xmin::text = (pg_current_xact_id()::text::bigint % 4294967296)::text) THEN
                act := 'replaced';
            ELSE
                act := 'delete';
            END IF;
            INSERT INTO atlas_audit (actor, app_role, action, layer_id, batch_id, detail, request)
            VALUES (nullif(current_setting('atlas.actor', true), ''), nullif(current_setting('atlas.role', true), ''),
                    act, NEW.layer_id, NEW.batch_id,
                    jsonb_build_object('file', NEW.source_file, 'rows', NEW.rows_kept, 'source', NEW.source),
                    atlas_request());
            RETURN NEW;
        END $$""",
    """CREATE FUNCTION atlas_request() RETURNS JSONB LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object('application', current_setting('application_name'),
                                  'client', inet_client_addr()::text)
            || coalesce(nullif(current_setting('atlas.request', true), '')::jsonb, '{}'::jsonb) $$""",
    f"""CREATE TRIGGER atlas_batches_audit AFTER INSERT OR UPDATE OF active ON {_B}
        FOR EACH ROW EXECUTE FUNCTION atlas_audit_batches()""",
    # --- audit: saving and deleting scenarios (planning results), whoever writes
    """CREATE FUNCTION atlas_audit_scenarios() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            r RECORD;
        BEGIN
            r := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            INSERT INTO atlas_audit (actor, app_role, action, detail, request)
            VALUES (nullif(current_setting('atlas.actor', true), ''), nullif(current_setting('atlas.role', true), ''),
                    CASE WHEN TG_OP = 'DELETE' THEN 'scenario_delete' ELSE 'scenario_save' END,
                    jsonb_build_object('szenario', r.name, 'gebiet', r.area_ags, 'modell', r.model,
                                       'standorte', r.n_sites, 'version', r.version),
                    atlas_request());
            RETURN r;
        END $$""",
    """CREATE TRIGGER atlas_scenarios_audit AFTER INSERT OR UPDATE OR DELETE ON atlas_scenarios
        FOR EACH ROW EXECUTE FUNCTION atlas_audit_scenarios()""",
    # --- the log is append-only: no update, no truncate, delete only after the retention
    """CREATE FUNCTION atlas_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                NEW.at := clock_timestamp();
                NEW.db_user := session_user;
                RETURN NEW;
            END IF;
            IF TG_OP = 'DELETE' AND OLD.at < now() - make_interval(days => coalesce(
                    (SELECT value::int FROM atlas_settings WHERE key = 'audit_retention_days'), 2147483647)) THEN
                RETURN OLD;
            END IF;
            RAISE EXCEPTION 'atlas_audit ist nur fortschreibbar: Einträge werden nicht geändert und erst nach '
                'Ablauf der Aufbewahrungsfrist gelöscht (integrationsatlas server prune-audit).'
                USING ERRCODE = 'insufficient_privilege';
        END $$""",
    """CREATE TRIGGER atlas_audit_guard BEFORE INSERT OR UPDATE OR DELETE ON atlas_audit
        FOR EACH ROW EXECUTE FUNCTION atlas_audit_guard()""",
    """CREATE TRIGGER atlas_audit_no_truncate BEFORE TRUNCATE ON atlas_audit
        FOR EACH STATEMENT EXECUTE FUNCTION atlas_audit_guard()""",
    # nobody but the owner executes functions unless granted (security definer functions above)
    "REVOKE EXECUTE ON FUNCTION atlas_sensitive_aggregate(text) FROM PUBLIC",
)
