-- Read-only analyst access: the documented v_* views and nothing else.
-- huizong_analyst is a NOLOGIN group role; grant it to a login role
-- (GRANT huizong_analyst TO alice). A view reads its tables with its owner's
-- rights, so SELECT on the views is all an analyst needs. Applied whole, after
-- marts/ (which re-creates the views and so drops their grants).

DO $$
DECLARE
    obj record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'huizong_analyst') THEN
        CREATE ROLE huizong_analyst NOLOGIN;
    END IF;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO huizong_analyst', current_schema());
    EXECUTE format(
        'REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM huizong_analyst', current_schema()
    );
    FOR obj IN
        SELECT c.relname
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        WHERE n.nspname = current_schema() AND c.relkind = 'v' AND c.relname LIKE 'v\_%'
    LOOP
        EXECUTE format('GRANT SELECT ON %I.%I TO huizong_analyst', current_schema(), obj.relname);
    END LOOP;
END
$$;
