extension Schema {
    // 16 (SQLite): Inbox → Closed → search by name. The search found every contact with the
    //     name, whatever their conversation's state, and looked up each one's latest
    //     conversation to keep the closed ones: at a million contacts a name matching 1,700
    //     contacts made 1,700 lookups for a page of 50 (p50 12 ms). The pieces of the names of
    //     contacts whose latest conversation is closed are also kept in an index of their own,
    //     so the search finds only those (a third, here), and the lookups read a small index of
    //     closed latest conversations rather than one of all of them. Kept in step by triggers
    //     on both tables; the index deletes by contact (`contentless_delete`), so a trigger
    //     never needs the text a row was indexed with.
    static let closedSearch = Migration(version: 16, name: "the names of contacts whose conversation is closed") { f in
        guard f.kind == .sqlite else { return [] }
        let closed = { (row: String) in "\(row)is_latest = 1 AND \(row)status = 'closed'" }
        // The contact's name as the contacts table holds it (after the change, in a trigger).
        let addContact = { (contact: String) in
            "INSERT OR REPLACE INTO closed_contact_pieces (rowid, name) SELECT id, \(pieces("search_name")) FROM contacts WHERE id = \(contact)"
        }
        return [
            """
            CREATE VIRTUAL TABLE closed_contact_pieces USING fts5(
                name, content = '', contentless_delete = 1, tokenize = 'ascii', detail = none
            )
            """,
            """
            INSERT INTO closed_contact_pieces (rowid, name)
            SELECT ct.id, \(pieces("ct.search_name")) FROM conversations c JOIN contacts ct ON ct.id = c.contact_id WHERE \(closed("c."))
            """,
            // Written as the inbox query writes it (`is_latest = 1`), so that SQLite sees the
            // query's terms imply the index's.
            """
            CREATE INDEX conversations_closed_latest ON conversations
                (contact_id, workspace_id, assignee_id, last_activity_at, waiting_sort) WHERE \(closed(""))
            """,
            "CREATE TRIGGER conversations_closed_insert AFTER INSERT ON conversations WHEN \(closed("new.")) BEGIN \(addContact("new.contact_id")); END",
            """
            CREATE TRIGGER conversations_closed_update AFTER UPDATE OF is_latest, status ON conversations
            WHEN (\(closed("old."))) IS NOT (\(closed("new."))) BEGIN
                DELETE FROM closed_contact_pieces WHERE rowid = old.contact_id AND NOT (\(closed("new.")));
                \(addContact("new.contact_id")) AND \(closed("new."));
            END
            """,
            """
            CREATE TRIGGER conversations_closed_delete AFTER DELETE ON conversations WHEN \(closed("old.")) BEGIN
                DELETE FROM closed_contact_pieces WHERE rowid = old.contact_id;
            END
            """,
            """
            CREATE TRIGGER contacts_closed_rename AFTER UPDATE OF search_name ON contacts
            WHEN old.search_name IS NOT new.search_name
                AND EXISTS (SELECT 1 FROM conversations c WHERE c.contact_id = new.id AND \(closed("c.")))
            BEGIN \(addContact("new.id")); END
            """,
            "CREATE TRIGGER contacts_closed_delete AFTER DELETE ON contacts BEGIN DELETE FROM closed_contact_pieces WHERE rowid = old.id; END",
        ]
    }
}
