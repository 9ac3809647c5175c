/// Parley's schema, as numbered migrations. Times are stored as milliseconds since 1970 in
/// 64-bit integers on both engines; JSON documents as TEXT.
public enum Schema {
    public static let migrations: [Migration] = [
        // 1: the domain of SPEC §1 — tenants, people, channels, contacts, conversations,
        //    messages, events and the outbox — with the indexes the inbox queries need.
        Migration(version: 1, name: "domain") { f in
            let id = f.identityPrimaryKey, big = f.bigint, bool = f.boolean
            return [
                """
                CREATE TABLE workspaces (
                    id \(id),
                    name TEXT NOT NULL,
                    closing_note_mode TEXT NOT NULL DEFAULT 'optional',
                    closing_categories TEXT NOT NULL DEFAULT '[]',
                    closing_logic TEXT NOT NULL DEFAULT 'keep',
                    agents_see_all \(bool) NOT NULL DEFAULT \(f.literal(true)),
                    created_at \(big) NOT NULL
                )
                """,
                """
                CREATE TABLE users (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    email TEXT NOT NULL,
                    email_lower TEXT NOT NULL UNIQUE,
                    name TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL,
                    created_at \(big) NOT NULL,
                    disabled_at \(big)
                )
                """,
                "CREATE INDEX users_workspace ON users (workspace_id, id)",
                """
                CREATE TABLE api_tokens (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    user_id \(big) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    prefix TEXT NOT NULL,
                    created_at \(big) NOT NULL,
                    last_used_at \(big),
                    expires_at \(big)
                )
                """,
                "CREATE INDEX api_tokens_user ON api_tokens (user_id, id)",
                """
                CREATE TABLE channels (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    credentials TEXT NOT NULL DEFAULT '{}',
                    api_base_url TEXT,
                    webhook_secret TEXT NOT NULL,
                    viber_month TEXT,
                    viber_month_count \(big) NOT NULL DEFAULT 0,
                    commercial_terms_accepted \(bool) NOT NULL DEFAULT \(f.literal(false)),
                    created_at \(big) NOT NULL,
                    updated_at \(big) NOT NULL
                )
                """,
                "CREATE INDEX channels_workspace ON channels (workspace_id, id)",
                """
                CREATE TABLE message_templates (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    channel_id \(big) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    language TEXT NOT NULL,
                    category TEXT NOT NULL,
                    status TEXT NOT NULL,
                    body TEXT NOT NULL,
                    parameter_count INTEGER NOT NULL DEFAULT 0,
                    provider_template_id TEXT,
                    updated_at \(big) NOT NULL,
                    UNIQUE (channel_id, name, language)
                )
                """,
                """
                CREATE TABLE custom_field_definitions (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    key TEXT NOT NULL,
                    label TEXT NOT NULL,
                    type TEXT NOT NULL,
                    options TEXT NOT NULL DEFAULT '[]',
                    created_at \(big) NOT NULL,
                    UNIQUE (workspace_id, key)
                )
                """,
                """
                CREATE TABLE contacts (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    first_name TEXT NOT NULL DEFAULT '',
                    last_name TEXT NOT NULL DEFAULT '',
                    email TEXT,
                    email_lower TEXT,
                    phone TEXT,
                    phone_digits TEXT,
                    language TEXT,
                    country TEXT,
                    search_name TEXT NOT NULL DEFAULT '',
                    custom_fields TEXT NOT NULL DEFAULT '{}',
                    created_at \(big) NOT NULL,
                    updated_at \(big) NOT NULL
                )
                """,
                "CREATE INDEX contacts_workspace ON contacts (workspace_id, id)",
                "CREATE INDEX contacts_email ON contacts (workspace_id, email_lower)",
                "CREATE INDEX contacts_phone ON contacts (workspace_id, phone_digits)",
                """
                CREATE TABLE contact_tags (
                    contact_id \(big) NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    tag TEXT NOT NULL,
                    PRIMARY KEY (contact_id, tag)
                )
                """,
                "CREATE INDEX contact_tags_tag ON contact_tags (workspace_id, tag, contact_id)",
                """
                CREATE TABLE contact_text_values (
                    contact_id \(big) NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    field_key TEXT NOT NULL,
                    value_lower TEXT NOT NULL,
                    PRIMARY KEY (contact_id, field_key)
                )
                """,
                "CREATE INDEX contact_text_values_lookup ON contact_text_values (workspace_id, value_lower)",
                """
                CREATE TABLE contact_identities (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    contact_id \(big) NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    channel_id \(big) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                    external_id TEXT NOT NULL,
                    display_name TEXT,
                    last_inbound_at \(big),
                    outbound_since_inbound \(big) NOT NULL DEFAULT 0,
                    last_outbound_at \(big),
                    created_at \(big) NOT NULL,
                    UNIQUE (channel_id, external_id)
                )
                """,
                "CREATE INDEX contact_identities_contact ON contact_identities (contact_id, channel_id)",
                """
                CREATE TABLE conversations (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    contact_id \(big) NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    status TEXT NOT NULL,
                    is_latest \(bool) NOT NULL DEFAULT \(f.literal(true)),
                    assignee_id \(big) REFERENCES users(id) ON DELETE SET NULL,
                    channel_id \(big) REFERENCES channels(id) ON DELETE SET NULL,
                    identity_id \(big) REFERENCES contact_identities(id) ON DELETE SET NULL,
                    opened_at \(big) NOT NULL,
                    opened_by_user_id \(big) REFERENCES users(id) ON DELETE SET NULL,
                    closed_at \(big),
                    closed_by_user_id \(big) REFERENCES users(id) ON DELETE SET NULL,
                    closing_category TEXT,
                    closing_summary TEXT,
                    last_activity_at \(big) NOT NULL,
                    last_message_id \(big),
                    last_message_preview TEXT,
                    waiting_since \(big),
                    -- The "waiting longest" sort key: conversations not waiting sort last.
                    waiting_sort \(big) GENERATED ALWAYS AS (COALESCE(waiting_since, 9000000000000000)) STORED,
                    unread_count \(big) NOT NULL DEFAULT 0
                )
                """,
                // At most one open conversation per contact, enforced by the database itself.
                "CREATE UNIQUE INDEX conversations_one_open ON conversations (contact_id) WHERE status = 'open'",
                "CREATE INDEX conversations_contact ON conversations (contact_id, id)",
                // The inbox lists each contact's latest episode; these serve its views and sorts.
                "CREATE INDEX conversations_inbox ON conversations (workspace_id, is_latest, status, last_activity_at, id)",
                "CREATE INDEX conversations_assignee ON conversations (workspace_id, is_latest, assignee_id, status, last_activity_at, id)",
                "CREATE INDEX conversations_waiting ON conversations (workspace_id, is_latest, status, waiting_sort, id)",
                // status=all: the same orders without the status column in front.
                "CREATE INDEX conversations_inbox_any ON conversations (workspace_id, is_latest, last_activity_at, id)",
                "CREATE INDEX conversations_assignee_any ON conversations (workspace_id, is_latest, assignee_id, last_activity_at, id)",
                "CREATE INDEX conversations_waiting_any ON conversations (workspace_id, is_latest, waiting_sort, id)",
                """
                CREATE TABLE conversation_activities (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    contact_id \(big) NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    conversation_id \(big) NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    actor_user_id \(big) REFERENCES users(id) ON DELETE SET NULL,
                    details TEXT NOT NULL DEFAULT '{}',
                    created_at \(big) NOT NULL
                )
                """,
                "CREATE INDEX conversation_activities_timeline ON conversation_activities (contact_id, created_at, id)",
                """
                CREATE TABLE messages (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    contact_id \(big) NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                    conversation_id \(big) REFERENCES conversations(id) ON DELETE SET NULL,
                    channel_id \(big) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                    identity_id \(big) NOT NULL REFERENCES contact_identities(id) ON DELETE CASCADE,
                    direction TEXT NOT NULL,
                    sender_kind TEXT NOT NULL,
                    sender_user_id \(big) REFERENCES users(id) ON DELETE SET NULL,
                    content_kind TEXT NOT NULL,
                    text TEXT,
                    content TEXT,
                    status TEXT NOT NULL,
                    failure_reason TEXT,
                    provider_error_code TEXT,
                    provider_error_text TEXT,
                    provider_message_id TEXT,
                    provider_timestamp \(big),
                    created_at \(big) NOT NULL,
                    updated_at \(big) NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX messages_provider_id ON messages (channel_id, provider_message_id)",
                "CREATE INDEX messages_timeline ON messages (contact_id, created_at, id)",
                """
                CREATE TABLE events (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    type TEXT NOT NULL,
                    subject_id \(big),
                    actor_user_id \(big),
                    payload TEXT NOT NULL DEFAULT '{}',
                    created_at \(big) NOT NULL
                )
                """,
                "CREATE INDEX events_workspace ON events (workspace_id, id)",
                """
                CREATE TABLE outbox (
                    id \(id),
                    workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                    message_id \(big) NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE,
                    channel_id \(big) NOT NULL REFERENCES channels(id) ON DELETE CASCADE,
                    delivery TEXT NOT NULL DEFAULT '{}',
                    attempts \(big) NOT NULL DEFAULT 0,
                    next_attempt_at \(big) NOT NULL,
                    locked_until \(big),
                    last_error TEXT,
                    created_at \(big) NOT NULL
                )
                """,
                "CREATE INDEX outbox_due ON outbox (next_attempt_at, id)",
            ]
        },
        // 2: substring search on names and phone digits (SPEC §2): an FTS5 trigram index kept in
        //    step by triggers on SQLite, pg_trgm GIN indexes on PostgreSQL.
        Migration(version: 2, name: "contact search") { f in
            switch f.kind {
            case .sqlite:
                return [
                    """
                    CREATE VIRTUAL TABLE contact_search USING fts5(
                        search_name, phone_digits, content='contacts', content_rowid='id', tokenize='trigram'
                    )
                    """,
                    """
                    CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts BEGIN
                        INSERT INTO contact_search (rowid, search_name, phone_digits) VALUES (new.id, new.search_name, new.phone_digits);
                    END
                    """,
                    """
                    CREATE TRIGGER contacts_search_delete AFTER DELETE ON contacts BEGIN
                        INSERT INTO contact_search (contact_search, rowid, search_name, phone_digits)
                        VALUES ('delete', old.id, old.search_name, old.phone_digits);
                    END
                    """,
                    """
                    CREATE TRIGGER contacts_search_update AFTER UPDATE OF search_name, phone_digits ON contacts BEGIN
                        INSERT INTO contact_search (contact_search, rowid, search_name, phone_digits)
                        VALUES ('delete', old.id, old.search_name, old.phone_digits);
                        INSERT INTO contact_search (rowid, search_name, phone_digits) VALUES (new.id, new.search_name, new.phone_digits);
                    END
                    """,
                ]
            case .postgres:
                return [
                    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
                    "CREATE INDEX contacts_search_name_trgm ON contacts USING gin (search_name gin_trgm_ops)",
                    "CREATE INDEX contacts_phone_digits_trgm ON contacts USING gin (phone_digits gin_trgm_ops)",
                ]
            }
        },
        Schema.realtime,
        Schema.webchat,
        Schema.fidelity,
        Schema.email,
        Schema.attachments,
        Schema.workflows,
        Schema.hardening,
        Schema.reach,
        Schema.searchIndexes,
        Schema.searchPieces,
        Schema.inboxSearchIndex,
        Schema.inboxCountsIndex,
        Schema.closedSearch,
    ]
}
