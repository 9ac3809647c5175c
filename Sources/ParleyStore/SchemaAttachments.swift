extension Schema {
    // 7: attachments. A file sent with a message, inbound or outbound. A row is also the
    //    durable download job for a file a webhook only named (`due_at`, `attempts`, a lease by
    //    moving `due_at`), so a crash mid-download is finished after the restart. The bytes
    //    live in the blob store under `blob_key` (their SHA-256: the same file is kept once);
    //    `access_key` signs the row's expiring links.
    static let attachments = Migration(version: 7, name: "attachments") { f in
        [
            """
            CREATE TABLE attachments (
                id \(f.identityPrimaryKey),
                workspace_id \(f.bigint) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                message_id \(f.bigint) REFERENCES messages(id) ON DELETE CASCADE,
                channel_id \(f.bigint) REFERENCES channels(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                source TEXT,
                declared_type TEXT,
                blob_key TEXT,
                size \(f.bigint),
                content_type TEXT,
                file_name TEXT NOT NULL DEFAULT '',
                access_key TEXT NOT NULL,
                uploaded_by \(f.bigint) REFERENCES users(id) ON DELETE SET NULL,
                uploaded_by_visitor TEXT,
                attempts \(f.bigint) NOT NULL DEFAULT 0,
                due_at \(f.bigint),
                failure TEXT,
                created_at \(f.bigint) NOT NULL,
                updated_at \(f.bigint) NOT NULL
            )
            """,
            "CREATE INDEX attachments_message ON attachments (message_id)",
            "CREATE INDEX attachments_due ON attachments (due_at) WHERE due_at IS NOT NULL",
            "CREATE INDEX attachments_workspace ON attachments (workspace_id, status)",
        ]
    }
}
