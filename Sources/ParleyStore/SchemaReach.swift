extension Schema {
    // 10: reaching a contact past a closed window. A queued message is a `messages` row in
    //     status `scheduled` (queued_at: when the agent wrote it; queue_expires_at: when it is
    //     given up), promoted to the outbox by the contact's next inbound message; the partial
    //     indexes keep the promotion and the expiry sweep off the whole table. Window reminders
    //     ask for a notification some hours before a conversation's window closes; notifications
    //     are kept per user until read.
    static let reach = Migration(version: 10, name: "reach") { f in
        let id = f.identityPrimaryKey, big = f.bigint
        return [
            "ALTER TABLE workspaces ADD COLUMN channel_preference TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE messages ADD COLUMN queued_at \(big)",
            "ALTER TABLE messages ADD COLUMN queue_expires_at \(big)",
            "CREATE INDEX messages_scheduled ON messages (identity_id, id) WHERE status = 'scheduled'",
            "CREATE INDEX messages_scheduled_expiry ON messages (queue_expires_at) WHERE status = 'scheduled'",
            """
            CREATE TABLE window_reminders (
                id \(id),
                workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                user_id \(big) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                conversation_id \(big) NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
                hours_before INTEGER NOT NULL,
                created_at \(big) NOT NULL,
                fired_at \(big),
                UNIQUE (user_id, conversation_id)
            )
            """,
            "CREATE INDEX window_reminders_waiting ON window_reminders (workspace_id) WHERE fired_at IS NULL",
            """
            CREATE TABLE notifications (
                id \(id),
                workspace_id \(big) NOT NULL REFERENCES workspaces(id) ON DELETE CASCADE,
                user_id \(big) NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                kind TEXT NOT NULL,
                contact_id \(big) REFERENCES contacts(id) ON DELETE CASCADE,
                conversation_id \(big) REFERENCES conversations(id) ON DELETE CASCADE,
                text TEXT NOT NULL,
                created_at \(big) NOT NULL,
                read_at \(big)
            )
            """,
            "CREATE INDEX notifications_user ON notifications (user_id, id)",
        ]
    }
}
