extension Schema {
    // 3: realtime and browser sign-in.
    //    - events.tx (PostgreSQL): the writing transaction's id. Event ids are drawn before
    //      commit, so a later id can become visible before an earlier one; the event stream
    //      orders by (tx, id) and stops below the oldest transaction still running, which no
    //      commit can ever fall behind (see EventFeed). A trigger wakes listeners with the id.
    //      SQLite has one writer, so its ids become visible in order and need no column.
    //    - one_time_tokens: the first owner's setup link and WebSocket tickets, hashed,
    //      single use, shared by every instance.
    static let realtime = Migration(version: 3, name: "realtime") { f in
        var statements: [String] = []
        if f.kind == .postgres {
            statements += [
                "ALTER TABLE events ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id()",
                "CREATE INDEX events_stream ON events (tx, id)",
                "CREATE INDEX events_workspace_stream ON events (workspace_id, tx, id)",
                """
                CREATE FUNCTION parley_notify_event() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('parley_events', NEW.id::text);
                    RETURN NULL;
                END $$
                """,
                "CREATE TRIGGER events_notify AFTER INSERT ON events FOR EACH ROW EXECUTE FUNCTION parley_notify_event()",
            ]
        }
        statements += [
            """
            CREATE TABLE one_time_tokens (
                token_hash TEXT PRIMARY KEY,
                purpose TEXT NOT NULL,
                user_id \(f.bigint) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                expires_at \(f.bigint) NOT NULL,
                created_at \(f.bigint) NOT NULL
            )
            """,
            "CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose)",
        ]
        return statements
    }
}
