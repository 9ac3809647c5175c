extension Schema {
    // 14: the inbox with a search starts from the matching contacts and reads their latest
    //     conversations; this index holds what the inbox's filters and sorts read of them, so
    //     that only the page's rows are read from the table (a name matching 1,700 contacts of
    //     a million read 1,700 conversation rows, two thirds of them to be dropped by status).
    //     SQLite only: on PostgreSQL the trigram search dominates that query (28-36 ms at a
    //     million contacts with the index or without), and every message's update of the
    //     conversation would write one more index entry.
    static let inboxSearchIndex = Migration(version: 14, name: "conversations by contact for the inbox search") { f in
        guard f.kind == .sqlite else { return [] }
        return [
            """
            CREATE INDEX conversations_contact_inbox ON conversations
                (contact_id, is_latest, workspace_id, status, assignee_id, last_activity_at, waiting_sort)
            """,
        ]
    }
}
