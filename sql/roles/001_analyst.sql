-- Read-only analyst access: the documented v_* views and nothing else.
-- huizong_analyst is a NOLOGIN group role; grant it to a login role
-- (GRANT huizong_analyst TO alice). A view reads its tables with its owner's
-- rights, so SELECT on the views is all an analyst needs. Applied whole, after
-- marts/ (which re-creates the views and so drops their grants). No percent
-- signs in this file: the driver would read them as placeholders.
--
-- `huizong sql` runs every query as huizong_analyst: logged in as an analyst
-- (HUIZONG_ANALYST_URL), or as the migrating login after SET ROLE, which needs
-- that login to be a member of the role (PostgreSQL 16 and later: with SET).
-- The grant is tried here; a login that may not grant it (the compose
-- warehouse owner: the role was created by the superuser) uses the analyst
-- login instead. See include/huizong/warehouse/readonly.py.

DO $$
DECLARE
    obj record;
    schema_name text := quote_ident(current_schema());
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'huizong_analyst') THEN
        CREATE ROLE huizong_analyst NOLOGIN;
    END IF;
    IF NOT pg_catalog.pg_has_role(
        current_user, 'huizong_analyst',
        CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END
    ) THEN
        BEGIN
            EXECUTE 'GRANT huizong_analyst TO ' || quote_ident(current_user);
        EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
            NULL;  -- not ours to grant: huizong sql then needs HUIZONG_ANALYST_URL
        END;
    END IF;
    EXECUTE 'GRANT USAGE ON SCHEMA ' || schema_name || ' TO huizong_analyst';
    EXECUTE 'REVOKE ALL ON ALL TABLES IN SCHEMA ' || schema_name || ' FROM huizong_analyst';
    FOR obj IN
        SELECT c.relname
        FROM pg_catalog.pg_class AS c
        INNER JOIN pg_catalog.pg_namespace AS n ON c.relnamespace = n.oid
        WHERE
            n.nspname = current_schema() AND c.relkind = 'v'
            AND left(c.relname, 2) = 'v_'
    LOOP
        EXECUTE 'GRANT SELECT ON ' || schema_name || '.' || quote_ident(obj.relname)
        || ' TO huizong_analyst';
    END LOOP;
END
$$;
